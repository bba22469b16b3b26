"""The tuner's recommended point: read off each grid once, and shown by its controls.

Of the sliders' settings, the point :func:`~mdwindow.recommend.recommend_from_grid`
picks from the grid of the current window size and scope (the same target and
order of preference as :func:`mdwindow.recommend`). The tuner marks it on its
trade-off plot; the button "jump to recommended" moves the sliders there.
"""

from __future__ import annotations

from typing import Any

from mdwindow.core.grid import TunerGrids
from mdwindow.core.options import WindowOptions
from mdwindow.plotting import duration_text
from mdwindow.recommend import Recommendation, recommend_from_grid
from mdwindow.widgets.summary import recommendation_html

__all__ = ["RecommendedPoints", "show_recommendation"]


class RecommendedPoints:
    """The recommended point of each grid of ``grids`` at ``max_drop_rate``, or why
    there is none (no point meets the target, or no row is valid), kept per grid."""

    def __init__(self, grids: TunerGrids, max_drop_rate: float) -> None:
        self._grids = grids
        self._max_drop_rate = max_drop_rate
        self._found: dict[Any, tuple[Recommendation | None, str]] = {}

    def of(self, cfg: WindowOptions) -> tuple[Recommendation | None, str]:
        """``(recommendation or None, why none)`` for ``cfg``'s window size and scope."""
        key = (cfg.spec.size_ns, cfg.scope, cfg.idle_arg)
        if key not in self._found:
            grid = self._grids.grid(cfg)
            try:
                self._found[key] = recommend_from_grid(grid, max_drop_rate=self._max_drop_rate), ""
            except ValueError as exc:  # TargetNotMet, or no valid rows to judge
                self._found[key] = None, str(exc)
        return self._found[key]


def show_recommendation(
    controls: Any, rec: Recommendation | None, max_drop_rate: float, problem: str
) -> None:
    """The jump button (disabled, saying why, when there is no point) and the line of
    text of the tuner's ``controls`` for ``rec``."""
    button = controls.recommend_button
    button.disabled = rec is None
    if rec is None:
        button.tooltip = f"no point of the sliders meets the target: {problem}"
    else:
        button.tooltip = (
            f"move the sliders to lag {duration_text(rec.lag)}, "
            f"lateness {duration_text(rec.allowed_lateness)}"
        )
    controls.recommend_html.value = recommendation_html(rec, max_drop_rate, problem)
