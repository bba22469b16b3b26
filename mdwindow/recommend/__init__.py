"""Recommending a lag and an allowed lateness from the data.

One concept per module:

- :mod:`~mdwindow.recommend.front`: :func:`recommend` (ticks in, one grid
  pass) and :func:`recommend_from_grid` (a grid frame in, for front doors
  that hold one already);
- :mod:`~mdwindow.recommend.choice`: the target, the frontier and the order
  of preference, on a grid frame;
- :mod:`~mdwindow.recommend.result`: :class:`Recommendation`.

The grids derived from the data come from :mod:`mdwindow.core.grid.disorder`
and the keys that force a choice from :mod:`mdwindow.core.grid.key_losses`.
"""

from __future__ import annotations

from mdwindow.recommend.choice import OBJECTIVES, TargetNotMet, pareto_frontier
from mdwindow.recommend.front import recommend, recommend_from_grid
from mdwindow.recommend.result import Recommendation

__all__ = [
    "OBJECTIVES",
    "Recommendation",
    "TargetNotMet",
    "pareto_frontier",
    "recommend",
    "recommend_from_grid",
]
