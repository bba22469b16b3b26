"""The many-lags grid: every ``(lag, allowed lateness)`` pair of a grid from one pass.

``sweep`` and the tuner read their counts here. The largest event time
that each watermark scope has seen, row by row, does not depend on the lag
or the lateness (nor, with an idle timeout, does the maximum its watermark
trails, :func:`~mdwindow.core.rules.effective_max`). So one pass over the
rows in arrival order (:mod:`~mdwindow.core.grid.scan`) gives each row its
window and its *slack* (that maximum just before it less its window end),
and every grid point is read off it with the row rules:

- a row is on time under ``lag``, kept (on time or late) under ``lag +
  lateness`` and dropped otherwise (:func:`~mdwindow.core.rules.judge_slack`,
  :func:`~mdwindow.core.rules.kept_slack`), so one histogram of the slacks
  over the grid's thresholds counts every pair;
- a window exists when it kept a row and lost a row when it did not keep
  every one: its smallest and largest slack say which
  (:mod:`~mdwindow.core.grid.windows`);
- it closes at the first row at which its scope's maximum reaches ``end +
  lag + lateness`` (:func:`~mdwindow.core.rules.has_reached`), a search in
  the steps of that maximum (:mod:`~mdwindow.core.grid.closing`); the
  latency quantiles of the closed windows come from radix selection
  (:mod:`~mdwindow.core.grid.quantiles`).

Everything but the late count depends on ``lag + lateness`` only, so pairs
that share that sum share the work. The same pass gives the tuner the
rows sharing the picked symbol's watermark, which a slider move judges
again (:mod:`~mdwindow.core.grid.rows`), and :mod:`~mdwindow.core.grid.tuning`
keeps what the tuner computed between updates.
"""

from __future__ import annotations

from mdwindow.core.grid.closing import load_compiled
from mdwindow.core.grid.columns import TickColumns
from mdwindow.core.grid.frame import LATENCY_QUANTILES, SWEEP_COLUMNS, read_grid
from mdwindow.core.grid.rows import Judged, ScopeRows, judge_rows, scope_rows
from mdwindow.core.grid.scan import RowScan, scan_rows
from mdwindow.core.grid.tuning import TunerGrids

__all__ = [
    "LATENCY_QUANTILES",
    "SWEEP_COLUMNS",
    "Judged",
    "RowScan",
    "ScopeRows",
    "TickColumns",
    "TunerGrids",
    "judge_rows",
    "load_compiled",
    "read_grid",
    "scan_rows",
    "scope_rows",
]
