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
def scan_maxima(t, valid, scope, scope_max, global_max):  # pragma: no cover - compiled
    """Running maximum event time per scope and overall, before and after each row.

    ``scope_max`` (one slot per scope code) is updated in place; rows with a
    negative scope (missing key) only see the global maximum. Returns the
    per-row arrays and the final global maximum.
    """
    n = t.shape[0]
    own_before = np.empty(n, np.int64)
    own_after = np.empty(n, np.int64)
    global_before = np.empty(n, np.int64)
    global_after = np.empty(n, np.int64)
    own_record = np.zeros(n, np.bool_)
    global_record = np.zeros(n, np.bool_)
    gm = global_max
    for i in range(n):
        s = scope[i]
        global_before[i] = gm
        if s < 0:
            own_before[i] = NEG_INF
            own_after[i] = NEG_INF
            global_after[i] = gm
            continue
        m = scope_max[s]
        own_before[i] = m
        if valid[i]:
            ti = t[i]
            if ti > m:
                scope_max[s] = ti
                m = ti
                own_record[i] = True
            if ti > gm:
                gm = ti
                global_record[i] = True
        own_after[i] = m
        global_after[i] = gm
    return own_before, own_after, global_before, global_after, own_record, global_record, gm


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
    for j in range(q):
        s = query_scope[j]
        lo = offsets[s]
        hi = offsets[s + 1]
        x = threshold[j]
        while lo < hi:
            mid = (lo + hi) >> 1
            if level[ordered[mid]] < x:
                lo = mid + 1
            else:
                hi = mid
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
