"""The windows of a scan: each ``(key, window)`` of valid rows, with its smallest and
largest slack, and the windows of one key's rows.

A window (SPEC section 6: it exists once it holds a row) exists under a sum
``lag + lateness`` when that sum keeps its smallest-slack row, and lost a
row when the sum does not keep its largest-slack row
(:func:`~mdwindow.core.rules.kept_slack`). A key's window ends are whole
window sizes apart, so when they span few sizes a table indexed by
``(end - first end) // size`` gathers them in one pass instead of a sort.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdwindow.core.rules import INT64_MAX, NEG_INF, slack, slack_array

__all__ = [
    "DENSE_SLOTS_PER_ROW",
    "MIN_DENSE_SLOTS",
    "dense_key_windows",
    "key_rows",
    "scan_windows",
]

#: Windows are gathered in a dense table (a slot per key and window between its
#: first and last) when it has at most this many slots per valid row (or at most
#: MIN_DENSE_SLOTS); else by sorting the rows.
DENSE_SLOTS_PER_ROW = 4
MIN_DENSE_SLOTS = 1024


@njit(cache=True, nogil=True)
def _dense_windows(
    valid, codes, end, max_before, key_first, slot_offsets, size
):  # pragma: no cover - compiled
    """Smallest and largest slack per (key, window) slot; slots ordered by key, then end."""
    n_slots = slot_offsets[-1]
    w_min = np.full(n_slots, INT64_MAX, np.int64)
    w_max = np.full(n_slots, NEG_INF, np.int64)
    present = np.zeros(n_slots, np.bool_)
    for i in range(valid.shape[0]):
        if valid[i]:
            c = codes[i]
            slot = slot_offsets[c] + (end[i] - key_first[c]) // size
            present[slot] = True
            row_slack = slack(max_before[i], end[i])
            if row_slack < w_min[slot]:
                w_min[slot] = row_slack
            if row_slack > w_max[slot]:
                w_max[slot] = row_slack
    return present, w_min, w_max


def scan_windows(
    valid: np.ndarray,
    end: np.ndarray,
    max_before: np.ndarray,
    codes: np.ndarray,
    key_first: np.ndarray,
    key_last: np.ndarray,
    size: int,
    n_valid: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(key, end, smallest slack, largest slack)`` per window, ordered by key, then end.

    ``key_first`` and ``key_last`` are each key's first and last window end
    (from :func:`~mdwindow.core.grid.scan.scan_pass`).
    """
    n_keys = len(key_first)
    seen = key_last >= key_first
    # Window ends of a key are multiples of size apart; the unsigned difference of
    # int64 values cannot wrap around.
    spans = np.zeros(n_keys, np.uint64)
    spans[seen] = (key_last[seen].view(np.uint64) - key_first[seen].view(np.uint64)) // np.uint64(
        size
    ) + np.uint64(1)
    n_slots = int(spans.sum(dtype=np.float64))
    if n_slots <= max(DENSE_SLOTS_PER_ROW * n_valid, MIN_DENSE_SLOTS):
        slot_offsets = np.zeros(n_keys + 1, np.int64)
        np.cumsum(spans.astype(np.int64), out=slot_offsets[1:])
        present, w_min, w_max = _dense_windows(
            valid, codes, end, max_before, key_first, slot_offsets, size
        )
        slots = np.flatnonzero(present)
        w_key = np.searchsorted(slot_offsets, slots, side="right") - 1
        w_end = key_first[w_key] + (slots - slot_offsets[w_key]) * size
        return w_key, w_end, w_min[slots], w_max[slots]
    rows = np.flatnonzero(valid)
    v_key, v_end = codes[rows], end[rows]
    v_slack = slack_array(max_before[rows], v_end)
    order = np.lexsort((v_end, v_key))
    v_key, v_end, v_slack = v_key[order], v_end[order], v_slack[order]
    first = np.ones(len(rows), bool)
    first[1:] = (v_key[1:] != v_key[:-1]) | (v_end[1:] != v_end[:-1])
    heads = np.flatnonzero(first)
    if len(heads) == 0:
        empty = np.empty(0, np.int64)
        return empty, empty, empty, empty
    return (
        v_key[heads],
        v_end[heads],
        np.minimum.reduceat(v_slack, heads),
        np.maximum.reduceat(v_slack, heads),
    )


@njit(cache=True, nogil=True)
def key_rows(codes, valid, end, code):  # pragma: no cover - compiled
    """The valid rows of one key, and their smallest and largest window end."""
    count = 0
    for i in range(codes.shape[0]):
        if codes[i] == code and valid[i]:
            count += 1
    rows = np.empty(count, np.int64)
    lo = INT64_MAX
    hi = NEG_INF
    j = 0
    for i in range(codes.shape[0]):
        if codes[i] == code and valid[i]:
            rows[j] = i
            j += 1
            e = end[i]
            if e < lo:
                lo = e
            if e > hi:
                hi = e
    return rows, lo, hi


@njit(cache=True, nogil=True)
def dense_key_windows(end, rows, first, slots, size):  # pragma: no cover - compiled
    """``(window of each row, ascending distinct ends)`` as ``np.unique`` gives them,
    for rows whose ends lie in ``slots`` window sizes from ``first``."""
    present = np.zeros(slots, np.int64)
    for j in range(rows.shape[0]):
        present[(end[rows[j]] - first) // size] = 1
    ends = np.empty(slots, np.int64)
    n = 0
    for slot in range(slots):
        if present[slot]:
            present[slot] = n
            ends[n] = first + slot * size
            n += 1
    window = np.empty(rows.shape[0], np.int64)
    for j in range(rows.shape[0]):
        window[j] = present[(end[rows[j]] - first) // size]
    return window, ends[:n]
