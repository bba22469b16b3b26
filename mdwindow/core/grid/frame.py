"""The grid frame: every ``(lag, lateness)`` pair's counts, read off a scan.

Counts per pair, from the scan's slack histogram
(:func:`~mdwindow.core.rules.kept_slack`): a row is on time under ``lag``
when ``lag`` keeps it, and kept (on time or late) when ``lag + lateness``
does; the rest are dropped. Everything but the late count depends on the
sum only: windows that exist (keep a row) and are complete (keep every
row), and the windows that close and their latencies
(:mod:`~mdwindow.core.grid.closing`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.grid.closing import closing_latencies
from mdwindow.core.grid.scan import GridWork, RowScan
from mdwindow.core.grid.search import kept_counts
from mdwindow.core.grid.windows import scan_windows
from mdwindow.core.keys import scope_of_keys
from mdwindow.core.rules import NEG_INF, sat_add

__all__ = ["LATENCY_QUANTILES", "SWEEP_COLUMNS", "read_grid"]

#: Columns of the grid frame (``sweep``'s result), in order.
SWEEP_COLUMNS: tuple[str, ...] = (
    "lag",
    "lateness",
    "rows",
    "on_time",
    "late_accepted",
    "dropped",
    "rejected",
    "drop_rate",
    "windows",
    "pending",
    "incomplete_windows",
    "completeness",
    "latency_median",
    "latency_p99",
)
#: The latency quantiles of the grid frame (median and p99).
LATENCY_QUANTILES = (0.5, 0.99)


def read_grid(scan: RowScan) -> pd.DataFrame:
    """The grid frame of a scan (lags outer, as :func:`mdwindow.sweep.sweep` returns it)."""
    work = scan.work
    if work is None:
        raise ValueError("grid: this scan's grid was read already, and its work let go")
    columns, cfg = work.columns, work.cfg
    n_valid = int(work.histogram.sum())
    w_key, w_end, w_min, w_max = scan_windows(
        scan.valid, scan.end, scan.max_before, columns.codes,
        work.key_first[: len(columns.keys)], work.key_last[: len(columns.keys)],
        scan.size, n_valid,
    )  # fmt: skip
    # Windows grouped by scope, by end within a scope (for one key they are already).
    if cfg.scope == "key":
        w_scope, s_end, s_min = w_key, w_end, w_min
    else:
        w_scope = scope_of_keys(cfg, w_key, columns.key_partition)
        order = np.lexsort((w_end, w_scope))
        w_scope, s_end, s_min = w_scope[order], w_end[order], w_min[order]
    w_offsets = np.searchsorted(w_scope, np.arange(work.n_scopes + 1)).astype(np.int64)
    quantiles, closed = closing_latencies(
        w_offsets, s_end, s_min, work.totals,
        (work.step_offsets, work.step_level, work.step_row, work.step_clock),
        (work.glob_level, work.glob_row, work.glob_clock),
        scan.size, len(columns), LATENCY_QUANTILES,
    )  # fmt: skip
    totals = np.array(work.totals, np.int64)
    exists = kept_counts(w_min, totals)
    complete = kept_counts(w_max, totals)
    return _frame(work, n_valid, len(w_end), quantiles, closed, exists, complete)


def _frame(
    work: GridWork,
    n_valid: int,
    n_windows: int,
    quantiles: np.ndarray,
    closed: np.ndarray,
    exists: np.ndarray,
    complete: np.ndarray,
) -> pd.DataFrame:
    """The frame: latency quantiles and window counts per sum, row counts per pair."""
    n = len(work.columns)
    emit_partial = work.cfg.spec.emit_partial
    kept = dict(zip(work.thresholds.tolist(), np.cumsum(work.histogram)[:-1].tolist(),
                    strict=True))  # fmt: skip
    by_total: dict[int, tuple[Any, ...]] = {}
    for k, total in enumerate(work.totals):
        if closed[k]:
            median, p99 = (int(round(float(v))) for v in quantiles[k])
        else:
            median = p99 = NEG_INF
        n_closed, n_exists = int(closed[k]), int(exists[k])
        by_total[total] = (
            n_exists if emit_partial else n_closed,
            0 if emit_partial else n_exists - n_closed,
            n_windows - int(complete[k]),
            median,
            p99,
        )
    records = []
    for lag in work.lags:
        not_on_time = n_valid - kept[lag]
        for allowed in work.lateness:
            total = int(sat_add(lag, allowed))
            dropped = n_valid - kept[total]
            late = not_on_time - dropped
            windows, pending, incomplete, median, p99 = by_total[total]
            records.append(
                (
                    lag, allowed, n, n_valid - late - dropped, late, dropped, n - n_valid,
                    dropped / n_valid if n_valid else float("nan"),
                    windows, pending, incomplete,
                    1.0 - incomplete / n_windows if n_windows else float("nan"),
                    median, p99,
                )
            )  # fmt: skip
    grid = pd.DataFrame.from_records(records, columns=list(SWEEP_COLUMNS))
    for column in ("lag", "lateness", "latency_median", "latency_p99"):
        grid[column] = grid[column].to_numpy(np.int64).view("timedelta64[ns]")
    for column in SWEEP_COLUMNS[2:7] + ("windows", "pending", "incomplete_windows"):
        grid[column] = grid[column].astype(np.int64)
    grid["drop_rate"] = grid["drop_rate"].astype(np.float64)
    grid["completeness"] = grid["completeness"].astype(np.float64)
    grid.attrs.update(
        {
            "latency_clock": "event_time" if work.columns.arrival is None else "arrival_time",
            "perfect_windows": n_windows,
            "scope": work.cfg.scope,
            "window": work.cfg.spec.size,
        }
    )
    return grid
