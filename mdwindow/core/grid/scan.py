"""The grid's one pass over the rows in arrival order: what no lag or lateness changes.

For every row the pass finds its window (SPEC section 3) and the maximum
that its scope's watermark trails by the lag: the scope's largest valid
event time, raised by an idle timeout to the global one less the timeout
(:func:`~mdwindow.core.rules.effective_max`; SPEC section 4). Neither
depends on lag or lateness. A row's *slack* is that maximum just before
it less its window end (:func:`~mdwindow.core.rules.slack`); the pass
counts the slacks between consecutive thresholds of the grid (lags and
sums ``lag + lateness``), notes the window range of every key, and the
steps of every scope's maximum (and of the global one, with an idle
timeout), where windows close.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from mdwindow.core.grid.columns import TickColumns
from mdwindow.core.grid.search import first_kept
from mdwindow.core.keys import n_scopes
from mdwindow.core.options import WindowOptions
from mdwindow.core.rules import (
    INT64_MAX,
    NEG_INF,
    NO_IDLE,
    VALID,
    effective_max,
    fire_level,
    global_floor_array,
    in_window,
    kept_slack,
    sat_add,
    slack,
    window_start,
)

__all__ = ["GridWork", "RowScan", "scan_pass", "scan_rows", "waits_of"]


@njit(cache=True, nogil=True)
def scan_pass(
    t, bad_time, codes, scope, n_scope, n_keys, size, offset, idle, thresholds
):  # pragma: no cover - compiled
    """One pass in arrival order; see the module's docstring.

    Returns ``(valid, end, max_before, max_after, histogram, key_first,
    key_last, own_step, glob_step)``: per row whether it is valid, its
    window end (INT64_MAX when invalid) and the maximum its watermark
    trails before and after it (NEG_INF without a scope); the count of
    slacks kept first under each threshold (the last bucket: under none);
    each key's first and last window end; the rows where a scope's maximum
    (and, with an idle timeout, the global one) rose.
    """
    n = t.shape[0]
    valid = np.zeros(n, np.bool_)
    end = np.full(n, INT64_MAX, np.int64)
    max_before = np.empty(n, np.int64)
    max_after = np.empty(n, np.int64)
    own_step = np.zeros(n, np.bool_)
    glob_step = np.zeros(n if idle != NO_IDLE else 0, np.bool_)
    scope_max = np.full(max(n_scope, 1), NEG_INF, np.int64)
    key_first = np.full(max(n_keys, 1), INT64_MAX, np.int64)
    key_last = np.full(max(n_keys, 1), NEG_INF, np.int64)
    last_start = np.full(max(n_keys, 1), NEG_INF, np.int64)  # window of each key's last row
    histogram = np.zeros(thresholds.shape[0] + 1, np.int64)
    global_max = NEG_INF
    for i in range(n):
        s = scope[i]
        if s < 0:
            # A missing key under a per-key scope: no watermark, rejected.
            max_before[i] = NEG_INF
            max_after[i] = NEG_INF
            continue
        ti = t[i]
        c = codes[i]
        own = scope_max[s]
        m = effective_max(own, global_max, idle)
        max_before[i] = m
        if c >= 0 and not bad_time[i]:
            start = last_start[c]
            # Most rows fall in their key's last window: no division then.
            if start == NEG_INF or not in_window(ti, start, size):
                start, reason = window_start(ti, False, False, size, offset)
                if reason == VALID:
                    last_start[c] = start
                else:
                    start = NEG_INF
            if start != NEG_INF:
                e = fire_level(start, size)
                valid[i] = True
                end[i] = e
                row_slack = slack(m, e)
                # Most rows are kept under every threshold.
                if kept_slack(row_slack, thresholds[0]):
                    histogram[0] += 1
                else:
                    histogram[first_kept(row_slack, thresholds)] += 1
                if e < key_first[c]:
                    key_first[c] = e
                if e > key_last[c]:
                    key_last[c] = e
                if ti > own:
                    scope_max[s] = ti
                    own_step[i] = True
                if ti > global_max:
                    global_max = ti
                    if idle != NO_IDLE:
                        glob_step[i] = True
                m = effective_max(scope_max[s], global_max, idle)
        max_after[i] = m
    return (
        valid, end, max_before, max_after, histogram,
        key_first, key_last, own_step, glob_step,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def _own_steps(own_step, t, valid, scope, n_scope):  # pragma: no cover - compiled
    """The steps of every scope's maximum, grouped by scope in arrival order:
    ``(offsets, row, level, global maximum then)``."""
    offsets = np.zeros(n_scope + 1, np.int64)
    for i in range(own_step.shape[0]):
        if own_step[i]:
            offsets[scope[i] + 1] += 1
    for s in range(n_scope):
        offsets[s + 1] += offsets[s]
    row = np.empty(offsets[n_scope], np.int64)
    level = np.empty(offsets[n_scope], np.int64)
    global_then = np.empty(offsets[n_scope], np.int64)
    fill = offsets[:n_scope].copy()
    global_max = NEG_INF
    for i in range(own_step.shape[0]):
        if valid[i] and t[i] > global_max:
            global_max = t[i]
        if own_step[i]:
            s = scope[i]
            row[fill[s]] = i
            level[fill[s]] = t[i]
            global_then[fill[s]] = global_max
            fill[s] += 1
    return offsets, row, level, global_then


@dataclass
class GridWork:
    """What only the grid needs from a scan (the tuner lets it go once it has the grid)."""

    columns: TickColumns
    cfg: WindowOptions
    lags: list[int]
    lateness: list[int]
    totals: list[int]  # the distinct sums lag + lateness, ascending
    thresholds: np.ndarray  # lags and totals, ascending
    histogram: np.ndarray
    key_first: np.ndarray
    key_last: np.ndarray
    n_scopes: int
    step_offsets: np.ndarray  # steps of each scope's maximum, grouped by scope
    step_row: np.ndarray
    step_level: np.ndarray
    step_clock: np.ndarray  # the latency clock at each step
    glob_row: np.ndarray  # steps of the global floor (idle timeout only)
    glob_level: np.ndarray
    glob_clock: np.ndarray


@dataclass
class RowScan:
    """Every row under one window grid and scope; ``work`` reads the grid off it."""

    valid: np.ndarray
    end: np.ndarray  # window end of each valid row (INT64_MAX otherwise)
    max_before: np.ndarray  # the maximum its watermark trails, before the row
    max_after: np.ndarray  # ... and after it
    size: int  # the window size, ns
    work: GridWork | None = None


def waits_of(lags: list[int], lateness: list[int]) -> tuple[list[int], np.ndarray]:
    """``(totals, thresholds)``: the distinct sums ``lag + lateness`` (saturating) and,
    with the lags, the thresholds of the slack histogram, both ascending."""
    totals = sorted({int(sat_add(lag, allowed)) for lag in lags for allowed in lateness})
    return totals, np.array(sorted({*lags, *totals}), np.int64)


def scan_rows(
    columns: TickColumns, cfg: WindowOptions, lags: list[int], lateness: list[int]
) -> RowScan:
    """The pass over the rows of ``columns`` under the window grid, scope and idle
    timeout of ``cfg``, for the grid of ``lags`` x ``lateness`` (ns, each >= 0)."""
    size, offset, idle = cfg.spec.size_ns, cfg.spec.offset_ns, cfg.idle_arg
    count = n_scopes(cfg, columns.keys)
    scope = columns.scopes(cfg)
    totals, thresholds = waits_of(lags, lateness)
    (
        valid, end, max_before, max_after, histogram,
        key_first, key_last, own_step, glob_step,
    ) = scan_pass(
        columns.t, columns.bad_time, columns.codes, scope, count, len(columns.keys),
        size, offset, idle, thresholds,
    )  # fmt: skip
    step_offsets, step_row, step_level, step_global = _own_steps(
        own_step, columns.t, valid, scope, count
    )
    glob_row = np.flatnonzero(glob_step)
    # The clock that latency is read on: arrival time, or the market clock (the
    # largest valid event time seen), which is the event time at a global step.
    arrival = columns.arrival
    glob_time = columns.t[glob_row]
    work = GridWork(
        columns=columns,
        cfg=cfg,
        lags=list(lags),
        lateness=list(lateness),
        totals=totals,
        thresholds=thresholds,
        histogram=histogram,
        key_first=key_first,
        key_last=key_last,
        n_scopes=count,
        step_offsets=step_offsets,
        step_row=step_row,
        step_level=step_level,
        step_clock=step_global if arrival is None else arrival[step_row],
        glob_row=glob_row,
        glob_level=global_floor_array(glob_time, 0, idle),
        glob_clock=glob_time if arrival is None else arrival[glob_row],
    )
    return RowScan(valid, end, max_before, max_after, size, work)
