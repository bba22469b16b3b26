"""Compiled loops of the engine (numba).

Each function here is one tight pass that numpy cannot express without a
sort: running maxima per scope, grouping rows by scope in arrival order,
searching each scope's watermark steps, and one-pass group reductions.
The per-row passes of ``emit="final"`` are in :mod:`mdwindow.core.ring_pass`
and :mod:`mdwindow.core.final_pass`; the key dictionary's loops in
:mod:`mdwindow.core.strings`, the window table's in
:mod:`mdwindow.core.window_table` (their names are importable from here too).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdwindow.core.jit import nrt_free, nrt_free_inline
from mdwindow.core.rules import (
    NEG_INF,
    REJECTED,
    effective_watermark,
    judge,
    window_start,
)

# The key dictionary's and the window table's loops, importable from here as before.
from mdwindow.core.strings import (
    K_KEYS,
    K_NEW,
    K_ROW,
    K_UNKNOWN,
    factorize_strings,
    gather_strings,
    rehash_strings,
)
from mdwindow.core.window_table import table_delete, table_find, table_grown, window_ids


@njit(cache=True)
def group_rows(rows, scope, n_scopes):  # pragma: no cover - compiled
    """Counting sort of ``rows`` by ``scope[rows]``, keeping arrival order.

    Returns ``(offsets, ordered_rows)``: the rows of scope ``s`` are
    ``ordered_rows[offsets[s]:offsets[s + 1]]``.
    """
    offsets = np.zeros(n_scopes + 1, np.int64)
    for r in rows:
        offsets[scope[r] + 1] += 1
    for s in range(n_scopes):
        offsets[s + 1] += offsets[s]
    fill = offsets[:-1].copy()
    ordered = np.empty(rows.shape[0], np.int64)
    for r in rows:
        s = scope[r]
        ordered[fill[s]] = r
        fill[s] += 1
    return offsets, ordered


@njit(cache=True)
def first_reaching(offsets, ordered, level, query_scope, threshold, none):  # pragma: no cover
    """For each query, the first row of its scope whose ``level`` is >= threshold.

    ``level[ordered[offsets[s]:offsets[s+1]]]`` is non-decreasing for every
    scope ``s``; queries with no such row get ``none``.
    """
    q = query_scope.shape[0]
    out = np.empty(q, np.int64)
    n_scopes = offsets.shape[0] - 1
    last_x = np.full(n_scopes, NEG_INF, np.int64)
    last_lo = offsets[:-1].copy()
    for j in range(q):
        s = query_scope[j]
        lo = offsets[s]
        hi = offsets[s + 1]
        x = threshold[j]
        # Within a scope, queries mostly come with rising thresholds: resume
        # from that scope's previous answer and gallop, not a full binary search.
        if x >= last_x[s]:
            lo = last_lo[s]
            step = 1
            while lo + step < hi and level[ordered[lo + step - 1]] < x:
                lo += step
                step *= 2
            if lo + step < hi:
                hi = lo + step
        while lo < hi:
            mid = (lo + hi) >> 1
            if level[ordered[mid]] < x:
                lo = mid + 1
            else:
                hi = mid
        last_x[s] = x
        last_lo[s] = lo
        out[j] = ordered[lo] if lo < offsets[s + 1] else none
    return out


@njit(cache=True, nogil=True, inline="always")
def upper_bound(ascending, lo, hi, x):  # pragma: no cover - compiled
    """The first position in ``[lo, hi)`` of the ascending values holding more than ``x``
    (``hi`` when none does)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if ascending[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def last_at_or_before(offsets, ordered, query_scope, query_row):  # pragma: no cover
    """For each query, the last row of its scope at or before ``query_row`` (-1 if none)."""
    q = query_scope.shape[0]
    out = np.empty(q, np.int64)
    for j in range(q):
        s = query_scope[j]
        lo = upper_bound(ordered, offsets[s], offsets[s + 1], query_row[j])
        out[j] = ordered[lo - 1] if lo > offsets[s] else -1
    return out


@njit(cache=True)
def reduce_groups(group, pane_of_group, n_panes, values, t, op):  # pragma: no cover - compiled
    """One-pass reduction of ``values`` by pane, skipping NaN.

    Row ``r`` belongs to pane ``pane_of_group[group[r]]`` and is skipped
    when either is -1. ``op``: 0 sum, 1 min, 2 max, 3 first, 4 last (by
    event time ``t``, ties by position: rows must be in arrival order), 5
    non-null count. Returns ``(result, seen)``; ``seen[p]`` is False when
    the pane had no non-null value.
    """
    out = np.zeros(n_panes, values.dtype)
    best_t = np.empty(n_panes, np.int64)
    seen = np.zeros(n_panes, np.bool_)
    for i in range(values.shape[0]):
        v = values[i]
        if v != v:  # NaN
            continue
        g = group[i]
        if g < 0:
            continue
        g = pane_of_group[g]
        if g < 0:
            continue
        if op == 0:
            out[g] += v
            seen[g] = True
        elif op == 5:
            out[g] += 1
            seen[g] = True
        elif not seen[g]:
            out[g] = v
            best_t[g] = t[i]
            seen[g] = True
        elif op == 1:
            if v < out[g]:
                out[g] = v
        elif op == 2:
            if v > out[g]:
                out[g] = v
        elif op == 3:
            if t[i] < best_t[g]:
                out[g] = v
                best_t[g] = t[i]
        else:
            if t[i] >= best_t[g]:
                out[g] = v
                best_t[g] = t[i]
    return out, seen


@njit(cache=True)
def prefix_lengths(offsets, ordered, arrival, query_group, upto):  # pragma: no cover
    """For each query, how many rows of its group arrived at or before ``upto``.

    The rows of group ``g`` are ``ordered[offsets[g]:offsets[g+1]]`` in arrival order.
    """
    q = query_group.shape[0]
    out = np.empty(q, np.int64)
    for j in range(q):
        g = query_group[j]
        lo = offsets[g]
        hi = offsets[g + 1]
        first = lo
        x = upto[j]
        while lo < hi:
            mid = (lo + hi) >> 1
            if arrival[ordered[mid]] <= x:
                lo = mid + 1
            else:
                hi = mid
        out[j] = lo - first
    return out


@njit(cache=True)
def emission_order(row, n_rows, start, rank):  # pragma: no cover - compiled
    """Permutation sorting panes by (row, start, rank); ``row`` is in [0, n_rows]."""
    p = row.shape[0]
    counts = np.zeros(n_rows + 2, np.int64)
    for j in range(p):
        counts[row[j] + 1] += 1
    for r in range(n_rows + 1):
        counts[r + 1] += counts[r]
    fill = counts[:-1].copy()
    order = np.empty(p, np.int64)
    for j in range(p):
        order[fill[row[j]]] = j
        fill[row[j]] += 1
    # Buckets of one emit row are small: insertion sort them by (start, rank).
    for r in range(n_rows + 1):
        lo = counts[r]
        hi = counts[r + 1]
        if hi - lo < 2:
            continue
        if hi - lo > 64:
            bucket = order[lo:hi].copy()
            by_rank = bucket[np.argsort(rank[bucket], kind="mergesort")]
            by_start = by_rank[np.argsort(start[by_rank], kind="mergesort")]
            order[lo:hi] = by_start
            continue
        for a in range(lo + 1, hi):
            item = order[a]
            b = a - 1
            while b >= lo and (
                start[order[b]] > start[item]
                or (start[order[b]] == start[item] and rank[order[b]] > rank[item])
            ):
                order[b + 1] = order[b]
                b -= 1
            order[b + 1] = item
    return order


@njit(cache=True)
def vwap_parts(group, pane_of_group, n_panes, price, size):  # pragma: no cover - compiled
    """Sum of price*size and of size per pane, over rows where both are present.

    Rows map to panes as in :func:`reduce_groups`.
    """
    notional = np.zeros(n_panes, np.float64)
    volume = np.zeros(n_panes, np.float64)
    for i in range(group.shape[0]):
        p = price[i]
        q = size[i]
        if p != p or q != q:
            continue
        g = group[i]
        if g < 0:
            continue
        g = pane_of_group[g]
        if g < 0:
            continue
        notional[g] += p * q
        volume[g] += q
    return notional, volume


@njit(cache=True)
def classify_rows(
    t, bad_time, scope, key_missing, scope_max, global_max, size, offset, lag, idle, lateness
):  # pragma: no cover - compiled
    """The per-row pass of the engine for ``emit="updates"``, in arrival order.

    For every row: its window start, why it is invalid (-1 valid, 0 missing
    time, 1 missing key, 2 out of range), the watermark of its scope before
    and after it, its status (0 on time, 1 late, 2 dropped, 3 rejected) and,
    when dropped, how late. Also the running maxima that the window searches
    need. ``scope_max`` is updated in place. A row is judged against the
    watermark before it, then moves the maxima: it never makes itself late.
    """
    n = t.shape[0]
    start = np.empty(n, np.int64)
    reason = np.full(n, -1, np.int8)
    status = np.empty(n, np.int8)
    w_before = np.empty(n, np.int64)
    w_after = np.empty(n, np.int64)
    late_by = np.zeros(n, np.int64)
    own_after = np.empty(n, np.int64)
    glob_after = np.empty(n, np.int64)
    own_record = np.zeros(n, np.bool_)
    glob_record = np.zeros(n, np.bool_)
    gm = global_max
    for i in range(n):
        ti = t[i]
        s = scope[i]
        start[i], reason[i] = window_start(ti, bad_time[i] == 1, key_missing[i], size, offset)
        if s < 0:
            # No scope (missing key under a per-key scope): no watermark to show.
            w_before[i] = NEG_INF
            w_after[i] = NEG_INF
            own_after[i] = NEG_INF
            glob_after[i] = gm
            status[i] = REJECTED
            continue
        m = scope_max[s]
        wb = effective_watermark(m, gm, lag, idle)
        w_before[i] = wb
        if reason[i] >= 0:
            status[i] = REJECTED
        else:
            status[i], late_by[i] = judge(wb, start[i], size, lateness)
            if ti > m:
                scope_max[s] = ti
                m = ti
                own_record[i] = True
            if ti > gm:
                gm = ti
                glob_record[i] = True
        own_after[i] = m
        glob_after[i] = gm
        w_after[i] = effective_watermark(m, gm, lag, idle)
    return (
        start, reason, status, w_before, w_after, late_by,
        own_after, glob_after, own_record, glob_record, gm,
    )  # fmt: skip


# --------------------------------------------------------------------------
# Aggregation of panes


@njit(cache=True)
def ohlcv(
    group, pane_of_group, price, size, t, prices, seen, volume, vwap_sums
):  # pragma: no cover - compiled
    """Open, high, low, close, volume and the VWAP sums of every pane, in one pass.

    Row ``r`` belongs to pane ``pane_of_group[group[r]]`` (skipped when
    either is -1); rows come in arrival order. The rules of
    :func:`reduce_groups` and :func:`vwap_parts` hold for each part: NaN
    prices and sizes are skipped, open/close are by event time with ties to
    the earlier/later arrival, and the VWAP sums take rows where both price
    and size are present. Fills, zeroed by the caller: ``prices[0..3]``
    (open, high, low, close), ``seen`` (a price was present), ``volume`` and
    ``vwap_sums[0|1]`` (sum of price*size, sum of size).
    """
    first = prices[0]
    high = prices[1]
    low = prices[2]
    last = prices[3]
    first_t = np.empty(seen.shape[0], np.int64)
    last_t = np.empty(seen.shape[0], np.int64)
    notional = vwap_sums[0]
    vwap_volume = vwap_sums[1]
    for r in range(group.shape[0]):
        g = group[r]
        if g < 0:
            continue
        p = pane_of_group[g]
        if p < 0:
            continue
        v = price[r]
        q = size[r]
        if q == q:
            volume[p] += q
        if v != v:
            continue
        ti = t[r]
        if not seen[p]:
            first[p] = v
            high[p] = v
            low[p] = v
            last[p] = v
            first_t[p] = ti
            last_t[p] = ti
            seen[p] = True
        else:
            if v > high[p]:
                high[p] = v
            if v < low[p]:
                low[p] = v
            if ti < first_t[p]:
                first[p] = v
                first_t[p] = ti
            if ti >= last_t[p]:
                last[p] = v
                last_t[p] = ti
        if q == q:
            notional[p] += np.float64(v) * np.float64(q)
            vwap_volume[p] += np.float64(q)


__all__ = [
    "K_KEYS", "K_NEW", "K_ROW", "K_UNKNOWN", "classify_rows", "emission_order",
    "factorize_strings", "first_reaching", "gather_strings", "group_rows",
    "last_at_or_before", "nrt_free", "nrt_free_inline", "ohlcv", "prefix_lengths",
    "reduce_groups", "rehash_strings", "table_delete", "table_find", "table_grown",
    "upper_bound", "vwap_parts", "window_ids",
]  # fmt: skip
