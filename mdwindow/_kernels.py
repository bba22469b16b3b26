"""Compiled loops of the engine (numba).

Each function here is one tight pass that numpy cannot express without a
sort: running maxima per scope, grouping rows by scope in arrival order,
searching each scope's watermark steps, and one-pass group reductions.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NEG_INF = np.iinfo(np.int64).min
INT64_MAX = np.iinfo(np.int64).max


@njit(cache=True)
def sat_sub(a, b):  # pragma: no cover - compiled
    """a - b for b >= 0, with anything at or below the int64 minimum as NEG_INF."""
    if a <= NEG_INF + b:
        return NEG_INF
    return a - b


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


@njit(cache=True)
def last_at_or_before(offsets, ordered, query_scope, query_row):  # pragma: no cover
    """For each query, the last row of its scope at or before ``query_row`` (-1 if none)."""
    q = query_scope.shape[0]
    out = np.empty(q, np.int64)
    for j in range(q):
        s = query_scope[j]
        lo = offsets[s]
        hi = offsets[s + 1]
        x = query_row[j]
        while lo < hi:
            mid = (lo + hi) >> 1
            if ordered[mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        out[j] = ordered[lo - 1] if lo > offsets[s] else -1
    return out


@njit(cache=True)
def reduce_groups(group, n_groups, values, t, op):  # pragma: no cover - compiled
    """One-pass reduction of ``values`` by dense ``group`` ids, skipping NaN.

    ``op``: 0 sum, 1 min, 2 max, 3 first, 4 last (by event time ``t``, ties
    by position: rows must be in arrival order), 5 non-null count.
    Returns ``(result, seen)``; ``seen[g]`` is False when the group had no
    non-null value.
    """
    out = np.zeros(n_groups, values.dtype)
    best_t = np.empty(n_groups, np.int64)
    seen = np.zeros(n_groups, np.bool_)
    for i in range(values.shape[0]):
        v = values[i]
        if v != v:  # NaN
            continue
        g = group[i]
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
def dense_window_ids(key, start, lo, size, n_slots, n_keys):  # pragma: no cover - compiled
    """Ids of (key, window) pairs in order of first appearance, through a dense table.

    The window slot of a row is ``(start - lo) // size``.

    Returns ``(gid per row, key per window, slot per window)``.
    """
    table = np.full(n_keys * n_slots, -1, np.int64)
    n = key.shape[0]
    gid = np.empty(n, np.int64)
    w_key = np.empty(n, np.int64)
    w_slot = np.empty(n, np.int64)
    count = 0
    for i in range(n):
        slot = (start[i] - lo) // size
        c = slot * n_keys + key[i]
        g = table[c]
        if g < 0:
            g = count
            table[c] = g
            w_key[g] = key[i]
            w_slot[g] = slot
            count += 1
        gid[i] = g
    return gid, w_key[:count].copy(), w_slot[:count].copy()


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
def vwap_parts(group, n_groups, price, size):  # pragma: no cover - compiled
    """Sum of price*size and of size per group, over rows where both are present."""
    notional = np.zeros(n_groups, np.float64)
    volume = np.zeros(n_groups, np.float64)
    for i in range(group.shape[0]):
        p = price[i]
        q = size[i]
        if p != p or q != q:
            continue
        notional[group[i]] += p * q
        volume[group[i]] += q
    return notional, volume


@njit(cache=True)
def sat_add(a, b):  # pragma: no cover - compiled
    """a + b for b >= 0, saturating at the int64 maximum."""
    if a > INT64_MAX - b:
        return INT64_MAX
    return a + b


@njit(cache=True)
def effective(own, glob, lag, idle):  # pragma: no cover - compiled
    """Watermark of a scope: ``max(own - lag, glob - lag - idle)`` (idle < 0: off)."""
    w = sat_sub(own, lag)
    if idle >= 0:
        g = sat_sub(sat_sub(glob, lag), idle)
        if g > w:
            w = g
    return w


@njit(cache=True)
def classify_rows(
    t, bad_time, scope, key_missing, scope_max, global_max, size, offset, lag, idle, lateness
):  # pragma: no cover - compiled
    """The per-row pass of the engine, in arrival order.

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
        # Window of the row, refusing windows that int64 cannot hold.
        if bad_time[i] == 1:
            reason[i] = 2
        elif ti == NEG_INF:
            reason[i] = 0
        elif key_missing[i]:
            reason[i] = 1
        else:
            r = ((ti % size) - offset) % size
            if ti < NEG_INF + 1 + r:
                reason[i] = 2
            else:
                st = ti - r
                if st > INT64_MAX - size:
                    reason[i] = 2
                start[i] = st
        if s < 0:
            # No scope (missing key under a per-key scope): no watermark to show.
            w_before[i] = NEG_INF
            w_after[i] = NEG_INF
            own_after[i] = NEG_INF
            glob_after[i] = gm
            status[i] = 3
            continue
        m = scope_max[s]
        wb = effective(m, gm, lag, idle)
        w_before[i] = wb
        if reason[i] >= 0:
            status[i] = 3
        else:
            end = start[i] + size
            end_late = sat_add(end, lateness)
            if wb < end:
                status[i] = 0
            elif wb < end_late:
                status[i] = 1
            else:
                status[i] = 2
                if end_late < 0 and wb > INT64_MAX + end_late:
                    late_by[i] = INT64_MAX
                else:
                    late_by[i] = wb - end_late
            if ti > m:
                scope_max[s] = ti
                m = ti
                own_record[i] = True
            if ti > gm:
                gm = ti
                glob_record[i] = True
        own_after[i] = m
        glob_after[i] = gm
        w_after[i] = effective(m, gm, lag, idle)
    return (
        start, reason, status, w_before, w_after, late_by,
        own_after, glob_after, own_record, glob_record, gm,
    )  # fmt: skip
