"""The per-row trace of a chunk, rebuilt from its rows when it is first read.

The windowing passes record nothing per row but window ids: the trace
(window start, watermark before and after, status of every row) is paid for
by every run but read by few. The rows and the maxima a chunk started from
are enough to rebuild it: :func:`replay_rows` walks the chunk in arrival
order once more and applies the same rules, so it shows exactly what the
pass decided.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from mdwindow.core.rules import (
    NEG_INF,
    REJECTED,
    VALID,
    effective_watermark,
    judge,
    window_start,
)


class ReplayRows(NamedTuple):
    """What a trace needs to know of a chunk, kept until the trace is read."""

    key: np.ndarray  # per row: key code, or a code of ``key_map`` (-1 missing)
    key_map: np.ndarray  # input code -> key code (empty: the codes are key codes)
    t: np.ndarray  # per row: event time
    bad_time: np.ndarray  # per row, nonzero when out of range (empty: none)
    scope_of_key: np.ndarray  # watermark scope of each key code
    missing_key_scope: int  # the scope of rows without a key (-1: none)
    scope_max: np.ndarray  # largest event time per scope before the chunk
    global_max: int  # largest event time before the chunk


def replay(rows: ReplayRows, size: int, offset: int, lag: int, idle: int, lateness: int):
    """``(start, watermark before, watermark after, status)`` of every row (arrival order).

    ``start`` is NEG_INF for rejected rows; ``idle`` as the rules take it.
    """
    n = rows.t.shape[0]
    start = np.empty(n, np.int64)
    w_before = np.empty(n, np.int64)
    w_after = np.empty(n, np.int64)
    status = np.empty(n, np.int8)
    replay_rows(
        rows.key, rows.key_map, rows.t, rows.bad_time, rows.scope_of_key,
        rows.missing_key_scope, rows.scope_max.copy(), rows.global_max,
        size, offset, lag, idle, lateness, start, w_before, w_after, status,
    )  # fmt: skip
    return start, w_before, w_after, status


@njit(cache=True, nogil=True)
def replay_rows(
    key, key_map, t, bad_time, scope_of_key, missing_key_scope, scope_max, global_max,
    size, offset, lag, idle, lateness, start, w_before, w_after, status,
):  # pragma: no cover - compiled  # fmt: skip
    """Fill the per-row arrays; ``scope_max`` (a copy) is updated in place.

    Each row is judged against the watermark of its scope before it, then a
    valid row moves the maxima: the order of the windowing passes. A row
    without a scope (a missing key under a per-key scope) shows no watermark.
    """
    mapped = key_map.shape[0] > 0
    has_bad = bad_time.shape[0] > 0
    gm = global_max
    for i in range(t.shape[0]):
        k = key[i]
        if mapped and k >= 0:
            k = key_map[k]
        ti = t[i]
        s = scope_of_key[k] if k >= 0 else missing_key_scope
        st, reason = window_start(ti, has_bad and bad_time[i] != 0, k < 0, size, offset)
        wb = NEG_INF if s < 0 else effective_watermark(scope_max[s], gm, lag, idle)
        w_before[i] = wb
        if reason != VALID:
            start[i] = NEG_INF
            w_after[i] = wb
            status[i] = REJECTED
            continue
        start[i] = st
        status[i] = judge(wb, st, size, lateness)[0]
        if ti > scope_max[s]:
            scope_max[s] = ti
        if ti > gm:
            gm = ti
        w_after[i] = effective_watermark(scope_max[s], gm, lag, idle)
