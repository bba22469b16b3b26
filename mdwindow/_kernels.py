"""Compiled loops of the engine (numba).

Each function here is one tight pass that numpy cannot express without a
sort: running maxima per scope, grouping rows by scope in arrival order,
searching each scope's watermark steps, and one-pass group reductions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

NEG_INF = np.iinfo(np.int64).min
INT64_MAX = np.iinfo(np.int64).max

#: For helpers that take arrays and allocate nothing. Compiled with the
#: numba runtime, every call of such a helper from a loop increments and
#: decrements each array's reference count (atomic operations), which costs
#: more than the helper's own work; without the runtime those calls are
#: plain function calls that LLVM can inline.
nrt_free = njit(cache=True, _nrt=False, nogil=True)
#: The same, inlined into the caller by numba (no call, no argument copies).
nrt_free_inline = njit(cache=True, _nrt=False, nogil=True, inline="always")


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


# --------------------------------------------------------------------------
# One row: its window and its status (shared by both per-row passes below)


@njit(cache=True)
def row_window(ti, bad_time, key_missing, size, offset):  # pragma: no cover - compiled
    """Window start of a row and why it is invalid.

    Returns ``(start, reason)``: reason -1 valid, 0 missing time, 1 missing
    key, 2 out of range (including windows that int64 cannot hold); start is
    NEG_INF when no window could be computed.
    """
    if bad_time:
        return NEG_INF, 2
    if ti == NEG_INF:
        return NEG_INF, 0
    if key_missing:
        return NEG_INF, 1
    r = ((ti % size) - offset) % size
    if ti < NEG_INF + 1 + r:
        return NEG_INF, 2
    start = ti - r
    if start > INT64_MAX - size:
        return start, 2
    return start, -1


@njit(cache=True)
def row_status(w_before, start, size, lateness):  # pragma: no cover - compiled
    """Status of a valid row (0 on time, 1 late, 2 dropped) and, when dropped, how late."""
    end = start + size
    end_late = sat_add(end, lateness)
    if w_before < end:
        return 0, 0
    if w_before < end_late:
        return 1, 0
    if end_late < 0 and w_before > INT64_MAX + end_late:
        return 2, INT64_MAX
    return 2, w_before - end_late


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
        start[i], reason[i] = row_window(ti, bad_time[i] == 1, key_missing[i], size, offset)
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
            status[i], late_by[i] = row_status(wb, start[i], size, lateness)
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


# --------------------------------------------------------------------------
# Key dictionary: strings -> dense codes, straight from Arrow buffers


#: Fields of the ``counters`` of :func:`factorize_strings`.
K_ROW, K_KEYS, K_NEW, K_UNKNOWN = range(4)


@nrt_free
def factorize_strings(
    offsets,
    data,
    valid,
    first,
    order,
    table,
    hashes,
    key_offsets,
    key_data,
    new_positions,
    counters,
    insert,
    codes,
):  # pragma: no cover - compiled
    """Codes of Arrow strings in a dictionary of known strings, in arrival order.

    Row ``r`` is string ``p = order[r]`` (``p = r`` when ``order`` is empty)
    of an Arrow string array starting at element ``first``: its UTF-8 bytes
    are ``data[offsets[first + p] : offsets[first + p + 1]]``, and it is
    null (code -1) when bit ``first + p`` of ``valid`` is clear (``valid``
    empty: no nulls). The dictionary holds ``counters[K_KEYS]`` strings:
    their bytes in ``key_data`` at ``key_offsets``, their hashes, and
    ``table``, an open-addressing hash table of codes (-1 empty) kept at
    most half full.

    With ``insert``, unknown strings join the dictionary in order of first
    appearance, their positions ``p`` going to ``new_positions``; without
    it they get code -2 (counted in ``counters[K_UNKNOWN]``) and the
    dictionary is untouched. Compiled without the runtime, this allocates
    nothing: it returns False when an array is full, before the row that
    needs the room (``counters[K_ROW]``), and True when done.
    """
    mask = table.shape[0] - 1
    has_order = order.shape[0] > 0
    has_nulls = valid.shape[0] > 0
    for r in range(counters[K_ROW], codes.shape[0]):
        p = order[r] if has_order else r
        e = first + p
        if has_nulls and not (valid[e >> 3] >> (e & 7)) & 1:
            codes[r] = -1
            continue
        lo = offsets[e]
        hi = offsets[e + 1]
        h = -3750763034362895579  # FNV-1a, wrapping int64 arithmetic
        for b in range(lo, hi):
            h = (h ^ data[b]) * 1099511628211
        slot = h & mask
        code = -1
        while table[slot] >= 0:
            c = table[slot]
            if hashes[c] == h and key_offsets[c + 1] - key_offsets[c] == hi - lo:
                at = key_offsets[c]
                same = True
                for b in range(hi - lo):
                    if key_data[at + b] != data[lo + b]:
                        same = False
                        break
                if same:
                    code = c
                    break
            slot = (slot + 1) & mask
        if code < 0:
            if not insert:
                codes[r] = -2
                counters[K_UNKNOWN] += 1
                continue
            code = counters[K_KEYS]
            at = key_offsets[code]
            if (
                code + 2 > key_offsets.shape[0]
                or code >= hashes.shape[0]
                or 2 * (code + 1) > table.shape[0]
                or at + hi - lo > key_data.shape[0]
                or counters[K_NEW] == new_positions.shape[0]
            ):
                counters[K_ROW] = r
                return False
            counters[K_KEYS] = code + 1
            for b in range(hi - lo):
                key_data[at + b] = data[lo + b]
            key_offsets[code + 1] = at + hi - lo
            hashes[code] = h
            table[slot] = code
            new_positions[counters[K_NEW]] = p
            counters[K_NEW] += 1
        codes[r] = code
    counters[K_ROW] = codes.shape[0]
    return True


@nrt_free
def rehash_strings(table, hashes, n_keys):  # pragma: no cover - compiled
    """Fill the empty ``table`` with the codes of the first ``n_keys`` strings."""
    mask = table.shape[0] - 1
    for c in range(n_keys):
        slot = hashes[c] & mask
        while table[slot] >= 0:
            slot = (slot + 1) & mask
        table[slot] = c


@njit(cache=True, nogil=True)
def gather_strings(offsets, data, positions):  # pragma: no cover - compiled
    """Strings ``positions`` of (``offsets``, ``data``) as new Arrow buffers
    ``(offsets, data)``."""
    out_offsets = np.empty(positions.shape[0] + 1, np.int64)
    out_offsets[0] = 0
    total = 0
    for i in range(positions.shape[0]):
        p = positions[i]
        total += offsets[p + 1] - offsets[p]
        out_offsets[i + 1] = total
    out_data = np.empty(total, np.uint8)
    for i in range(positions.shape[0]):
        p = positions[i]
        at = out_offsets[i]
        for b in range(offsets[p], offsets[p + 1]):
            out_data[at] = data[b]
            at += 1
    return out_offsets, out_data


# --------------------------------------------------------------------------
# Open windows by (key, start): a small open-addressing hash table
#
# The table holds window ids; a window's key and start live in the caller's
# ``w_key`` / ``w_start`` arrays. Only open windows are in it, so it stays
# as small as the set of open windows however long the input.


@njit(cache=True)
def _window_hash(key, start):  # pragma: no cover - compiled
    """Mix a (key, start) pair into a non-negative int64 (wrapping arithmetic)."""
    h = start * 0x5851F42D4C957F2D + key * 0x7FB5D329728EA185
    h ^= h >> 31
    h *= 0x3C79AC492BA7B653
    h ^= h >> 29
    return h & INT64_MAX


@nrt_free_inline
def table_find(table, key, start, w_key, w_start):  # pragma: no cover - compiled
    """Slot of window (key, start) in ``table``, or the empty slot where it would go."""
    mask = table.shape[0] - 1
    i = _window_hash(key, start) & mask
    while True:
        g = table[i]
        if g < 0 or (w_key[g] == key and w_start[g] == start):
            return i
        i = (i + 1) & mask


@njit(cache=True)
def table_grown(table, w_key, w_start):  # pragma: no cover - compiled
    """A table twice as large holding the same windows."""
    bigger = np.full(2 * table.shape[0], -1, np.int64)
    for g in table:
        if g >= 0:
            bigger[table_find(bigger, w_key[g], w_start[g], w_key, w_start)] = g
    return bigger


@nrt_free_inline
def table_delete(table, g, w_key, w_start):  # pragma: no cover - compiled
    """Remove window ``g``, shifting later entries back so no probe chain breaks."""
    mask = table.shape[0] - 1
    i = table_find(table, w_key[g], w_start[g], w_key, w_start)
    j = i
    while True:
        j = (j + 1) & mask
        h = table[j]
        if h < 0:
            break
        home = _window_hash(w_key[h], w_start[h]) & mask
        # ``h`` may fill the hole at i unless its home lies cyclically in (i, j].
        if ((j - home) & mask) >= ((j - i) & mask):
            table[i] = h
            i = j
    table[i] = -1


@njit(cache=True)
def window_ids(key, start):  # pragma: no cover - compiled
    """Dense ids of (key, start) pairs in order of first appearance.

    Returns ``(gid per row, key per window, start per window)``.
    """
    n = key.shape[0]
    gid = np.empty(n, np.int64)
    w_key = np.empty(n, np.int64)
    w_start = np.empty(n, np.int64)
    table = np.full(16, -1, np.int64)
    count = 0
    last = -1
    for i in range(n):
        k = key[i]
        st = start[i]
        # Consecutive rows mostly share a window: skip the hash lookup then.
        if last >= 0 and w_key[last] == k and w_start[last] == st:
            gid[i] = last
            continue
        slot = table_find(table, k, st, w_key, w_start)
        g = table[slot]
        if g < 0:
            g = count
            count += 1
            w_key[g] = k
            w_start[g] = st
            table[slot] = g
            if 2 * count > table.shape[0]:
                table = table_grown(table, w_key, w_start)
        gid[i] = g
        last = g
    return gid, w_key[:count].copy(), w_start[:count].copy()


# --------------------------------------------------------------------------
# The per-row pass for emit="final"
#
# Open windows live in recycled *slots*: a slot holds one open window's key,
# start, counts and (for agg="ohlcv") running aggregates, so the working set
# is as small as the set of open windows, not the number of windows seen.
# Windows waiting to close sit in binary min-heaps ordered by (start, key
# rank): all windows have one size, so that is the order in which a rising
# watermark closes them, and the key rank orders windows closing together.
# There is one heap per watermark scope in a shared pool (heap ``h`` is
# ``pool[off[h] : off[h] + length[h]]`` with room for ``cap[h]``), plus, with
# an idle timeout, one heap ``every`` of all open windows, which the global
# maximum can close whatever their scope. Heaps are indexed: each slot knows
# its position in them, so a window closed through one heap leaves the other
# at once.
#
# The pass is compiled without numba's runtime (see ``nrt_free``) and so
# allocates nothing: when it runs out of slots or heap room it stops before
# the row that needs them, and :func:`final_pass` grows the arrays and
# resumes it.

#: Fields of ``slots`` (int64, one column per slot).
(
    S_KEY, S_START, S_RANK, S_ROWS, S_LATE, S_WINDOW, S_OPEN,
    S_HEAP_POS, S_EVERY_POS, S_SEEN, S_FIRST_T, S_LAST_T,
) = range(12)  # fmt: skip
#: Fields of ``counters``.
(
    C_ROW, C_WINDOWS, C_EMITTED, C_DROPPED, C_REJECTED, C_FREE, C_OPEN,
    C_EVERY, C_POOL, C_GLOBAL_MAX, C_NEED_HEAP,
) = range(11)  # fmt: skip
#: Fields of ``per_row`` (one column per chunk row).
ROW_START, ROW_W_BEFORE, ROW_W_AFTER, ROW_ARRIVAL = range(4)
#: Fields of ``emitted`` (int64, one column per emitted window, in order).
E_KEY, E_START, E_ROWS, E_LATE, E_ROW, E_WATERMARK = range(6)
#: Why :func:`final_rows` stopped early.
DONE, NEED_SLOTS, NEED_HEAP = range(3)


class FinalInputs(NamedTuple):
    """Rows of one :func:`final_rows` pass: open rows kept from earlier chunks, then the chunk."""

    key: np.ndarray  # key code per row (-1 missing)
    t: np.ndarray  # event time per row
    old_start: np.ndarray  # window start of the kept rows
    old_late: np.ndarray  # whether each kept row was late
    bad_time: np.ndarray  # per chunk row, nonzero when out of range (may be empty: none)
    price: np.ndarray  # per row, for agg="ohlcv" (else empty)
    size: np.ndarray  # per row, for agg="ohlcv" (else empty)
    scope_of_key: np.ndarray  # watermark scope of each key code
    key_rank: np.ndarray  # rank of each key code in the natural order of keys


class FinalOutputs(NamedTuple):
    """What :func:`final_rows` fills in."""

    per_row: np.ndarray  # (4, n) int64: ROW_* per chunk row
    status: np.ndarray  # (n,) int8: 0 on time, 1 late, 2 dropped, 3 rejected
    window: np.ndarray  # per row (kept and chunk): window id, -1 for none
    pane: np.ndarray  # per window id: position among the emitted windows, -1 while open
    dropped: np.ndarray  # (2, n) int64: chunk row, how late
    rejected: np.ndarray  # (n,) int64: chunk row
    reasons: np.ndarray  # (n,) int8: 0 missing time, 1 missing key, 2 out of range
    emitted: np.ndarray  # (6, cap) int64: E_* per emitted window
    prices: np.ndarray  # (4, cap): open, high, low, close per emitted window
    volume: np.ndarray  # (cap,): volume per emitted window
    vwap: np.ndarray  # (cap,) float64: vwap per emitted window


class FinalWork(NamedTuple):
    """Working state of :func:`final_rows`, kept between its resumptions."""

    counters: np.ndarray  # int64, C_*
    scope_max: np.ndarray  # largest event time per scope (updated in place)
    table: np.ndarray  # hash table of open slots by (key, start)
    last_of_key: np.ndarray  # per key code, the slot of its latest window
    slots: np.ndarray  # (12, cap) int64: S_* per slot
    slot_prices: np.ndarray  # (4, cap): running open, high, low, close per slot
    slot_volume: np.ndarray  # (cap,): running volume per slot
    slot_vwap: np.ndarray  # (2, cap) float64: running sum of price*size and of size
    free: np.ndarray  # stack of free slots (C_FREE of them)
    pool: np.ndarray  # the per-scope heaps
    off: np.ndarray
    length: np.ndarray
    cap: np.ndarray
    every: np.ndarray  # the heap of all open slots (idle timeout; C_EVERY long)


@nrt_free_inline
def _closes_first(a, b, slots):  # pragma: no cover - compiled
    return slots[S_START, a] < slots[S_START, b] or (
        slots[S_START, a] == slots[S_START, b] and slots[S_RANK, a] < slots[S_RANK, b]
    )


@nrt_free_inline
def _sift_up(heap, base, i, slots, pos):  # pragma: no cover - compiled
    """Move the slot at ``heap[base + i]`` up to its place; ``slots[pos]`` tracks positions."""
    g = heap[base + i]
    while i > 0:
        parent = (i - 1) >> 1
        above = heap[base + parent]
        if not _closes_first(g, above, slots):
            break
        heap[base + i] = above
        slots[pos, above] = i
        i = parent
    heap[base + i] = g
    slots[pos, g] = i


@nrt_free_inline
def _sift_down(heap, base, n, i, slots, pos):  # pragma: no cover - compiled
    """Move the slot at ``heap[base + i]`` down to its place in a heap of ``n``."""
    g = heap[base + i]
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        other = child + 1
        if other < n and _closes_first(heap[base + other], heap[base + child], slots):
            child = other
        below = heap[base + child]
        if not _closes_first(below, g, slots):
            break
        heap[base + i] = below
        slots[pos, below] = i
        i = child
    heap[base + i] = g
    slots[pos, g] = i


@nrt_free_inline
def heap_insert(heap, base, n, g, slots, pos):  # pragma: no cover - compiled
    """Add slot ``g`` to a heap of ``n`` (which has room); the caller counts it."""
    heap[base + n] = g
    _sift_up(heap, base, n, slots, pos)


@nrt_free_inline
def heap_remove(heap, base, n, g, slots, pos):  # pragma: no cover - compiled
    """Take slot ``g`` out of a heap of ``n``; the caller counts it."""
    i = slots[pos, g]
    last = heap[base + n - 1]
    if i == n - 1:
        return
    heap[base + i] = last
    slots[pos, last] = i
    _sift_up(heap, base, i, slots, pos)
    _sift_down(heap, base, n - 1, slots[pos, last], slots, pos)


@nrt_free_inline
def _threshold(slots, g, size, lateness):  # pragma: no cover - compiled
    """The watermark that closes the window in slot ``g``: its end plus the lateness."""
    return sat_add(slots[S_START, g] + size, lateness)


@nrt_free_inline
def _open_window(k, st, table_pos, inp, out, work, idle, fuse):  # pragma: no cover - compiled
    """Put window (k, st) in a free slot, the hash table and the heaps; returns the slot."""
    c = work.counters
    slots = work.slots
    c[C_FREE] -= 1
    g = work.free[c[C_FREE]]
    window = c[C_WINDOWS]
    c[C_WINDOWS] += 1
    out.pane[window] = -1
    slots[S_KEY, g] = k
    slots[S_START, g] = st
    slots[S_RANK, g] = inp.key_rank[k]
    slots[S_ROWS, g] = 0
    slots[S_LATE, g] = 0
    slots[S_WINDOW, g] = window
    slots[S_OPEN, g] = 1
    if fuse:
        slots[S_SEEN, g] = 0
        work.slot_volume[g] = 0
        work.slot_vwap[0, g] = 0.0
        work.slot_vwap[1, g] = 0.0
    work.table[table_pos] = g
    c[C_OPEN] += 1
    h = inp.scope_of_key[k]
    heap_insert(work.pool, work.off[h], work.length[h], g, slots, S_HEAP_POS)
    work.length[h] += 1
    if idle >= 0:
        heap_insert(work.every, 0, c[C_EVERY], g, slots, S_EVERY_POS)
        c[C_EVERY] += 1
    return g


@nrt_free_inline
def _add_row(g, j, late, inp, work, fuse):  # pragma: no cover - compiled
    """Count row ``j`` in slot ``g`` and fold it into the running OHLCV (``fuse``).

    The rules of :func:`reduce_groups` and :func:`vwap_parts`: NaN prices
    and sizes are skipped, open/close go by event time with ties to the
    earlier/later arrival, VWAP takes rows where both are present.
    """
    slots = work.slots
    slots[S_ROWS, g] += 1
    if late:
        slots[S_LATE, g] += 1
    if not fuse:
        return
    v = inp.price[j]
    q = inp.size[j]
    if q == q:
        work.slot_volume[g] += q
    if v != v:
        return
    prices = work.slot_prices
    ti = inp.t[j]
    if slots[S_SEEN, g] == 0:
        slots[S_SEEN, g] = 1
        prices[0, g] = v
        prices[1, g] = v
        prices[2, g] = v
        prices[3, g] = v
        slots[S_FIRST_T, g] = ti
        slots[S_LAST_T, g] = ti
    else:
        if v > prices[1, g]:
            prices[1, g] = v
        if v < prices[2, g]:
            prices[2, g] = v
        if ti < slots[S_FIRST_T, g]:
            prices[0, g] = v
            slots[S_FIRST_T, g] = ti
        if ti >= slots[S_LAST_T, g]:
            prices[3, g] = v
            slots[S_LAST_T, g] = ti
    if q == q:
        work.slot_vwap[0, g] += np.float64(v) * np.float64(q)
        work.slot_vwap[1, g] += np.float64(q)


@nrt_free_inline
def _close_window(g, row, watermark, inp, out, work, idle, fuse):  # pragma: no cover
    """Emit the window in slot ``g`` after chunk row ``row`` and free the slot."""
    c = work.counters
    slots = work.slots
    k = slots[S_KEY, g]
    h = inp.scope_of_key[k]
    heap_remove(work.pool, work.off[h], work.length[h], g, slots, S_HEAP_POS)
    work.length[h] -= 1
    if idle >= 0:
        heap_remove(work.every, 0, c[C_EVERY], g, slots, S_EVERY_POS)
        c[C_EVERY] -= 1
    table_delete(work.table, g, slots[S_KEY], slots[S_START])
    c[C_OPEN] -= 1
    p = c[C_EMITTED]
    c[C_EMITTED] += 1
    out.pane[slots[S_WINDOW, g]] = p
    emitted = out.emitted
    emitted[E_KEY, p] = k
    emitted[E_START, p] = slots[S_START, g]
    emitted[E_ROWS, p] = slots[S_ROWS, g]
    emitted[E_LATE, p] = slots[S_LATE, g]
    emitted[E_ROW, p] = row
    emitted[E_WATERMARK, p] = watermark
    if fuse:
        for f in range(4):
            # A window whose prices were all missing has none (only float prices can be).
            out.prices[f, p] = work.slot_prices[f, g] if slots[S_SEEN, g] else np.nan
        out.volume[p] = work.slot_volume[g]
        amount = work.slot_vwap[1, g]
        out.vwap[p] = work.slot_vwap[0, g] / amount if amount != 0 else np.nan
    slots[S_OPEN, g] = 0
    work.free[c[C_FREE]] = g
    c[C_FREE] += 1


@nrt_free
def final_rows(
    inp, out, work, n_old, base, missing_key_scope, size, offset, lag, idle, lateness, fuse
):  # pragma: no cover - compiled
    """Judge every row, put it in its window and close windows as the watermark passes.

    Rows are taken in arrival order from ``counters[C_ROW]``: first the
    ``n_old`` open rows kept from earlier chunks (all accepted), then this
    chunk's rows. Each chunk row is judged against the watermark of its
    scope before it, then moves the maxima: a row never makes itself late.
    An accepted row joins its (key, start) window. A window closes, once,
    at the first row after which its scope's watermark reaches ``end +
    lateness``; windows closing at one row are emitted by (start, key rank).

    Returns DONE, or why it stopped before a row (NEED_SLOTS, NEED_HEAP for
    heap ``counters[C_NEED_HEAP]``); ``counters`` then says where to resume.
    """
    c = work.counters
    slots = work.slots
    table = work.table
    scope_max = work.scope_max
    per_row = out.per_row
    has_bad = inp.bad_time.shape[0] > 0
    gm = c[C_GLOBAL_MAX]
    for j in range(c[C_ROW], inp.t.shape[0]):
        k = inp.key[j]
        if k >= 0:
            # Room for one more window, before anything of this row is done.
            h = inp.scope_of_key[k]
            need = DONE
            if c[C_FREE] == 0:
                need = NEED_SLOTS
            elif work.length[h] == work.cap[h]:
                need = NEED_HEAP
                c[C_NEED_HEAP] = h
            if need != DONE:
                c[C_ROW] = j
                c[C_GLOBAL_MAX] = gm
                return need
        i = j - n_old  # chunk row
        s = -1
        ti = NEG_INF
        late = False
        accepted = True
        if j < n_old:
            st = inp.old_start[j]
            late = inp.old_late[j]
        else:
            ti = inp.t[j]
            per_row[ROW_ARRIVAL, i] = base + i
            s = inp.scope_of_key[k] if k >= 0 else missing_key_scope
            bad = has_bad and inp.bad_time[i] != 0
            # A key's rows mostly fall in the window of its previous row: that
            # start (any start is on the grid) spares the two divisions.
            g = work.last_of_key[k] if k >= 0 else -1
            if g >= 0 and not bad and slots[S_START, g] <= ti < slots[S_START, g] + size:
                st, reason = slots[S_START, g], -1
            else:
                st, reason = row_window(ti, bad, k < 0, size, offset)
            out.window[j] = -1
            w_before = NEG_INF if s < 0 else effective(scope_max[s], gm, lag, idle)
            per_row[ROW_W_BEFORE, i] = w_before
            per_row[ROW_W_AFTER, i] = w_before
            if reason >= 0:
                out.status[i] = 3
                per_row[ROW_START, i] = NEG_INF
                out.rejected[c[C_REJECTED]] = i
                out.reasons[c[C_REJECTED]] = reason
                c[C_REJECTED] += 1
                continue
            per_row[ROW_START, i] = st
            state, how_late = row_status(w_before, st, size, lateness)
            out.status[i] = state
            late = state == 1
            if state == 2:
                accepted = False
                out.dropped[0, c[C_DROPPED]] = i
                out.dropped[1, c[C_DROPPED]] = how_late
                c[C_DROPPED] += 1
        if accepted:
            # A key's rows mostly fall in its latest window: try it before hashing.
            g = work.last_of_key[k]
            if g < 0 or slots[S_OPEN, g] == 0 or slots[S_START, g] != st or slots[S_KEY, g] != k:
                table_pos = table_find(table, k, st, slots[S_KEY], slots[S_START])
                g = table[table_pos]
                if g < 0:
                    g = _open_window(k, st, table_pos, inp, out, work, idle, fuse)
                work.last_of_key[k] = g
            out.window[j] = slots[S_WINDOW, g]
            _add_row(g, j, late, inp, work, fuse)
        if j < n_old:
            continue
        # The row moves the maxima, which may close windows.
        own_moved = ti > scope_max[s]
        global_moved = ti > gm
        if own_moved:
            scope_max[s] = ti
        if global_moved:
            gm = ti
        w_now = effective(scope_max[s], gm, lag, idle)
        per_row[ROW_W_AFTER, i] = w_now
        if not (own_moved or (idle >= 0 and global_moved)):
            continue
        idle_level = sat_sub(sat_sub(gm, lag), idle) if idle >= 0 else NEG_INF
        while True:
            a = -1
            if work.length[s] > 0:
                a = work.pool[work.off[s]]
                if _threshold(slots, a, size, lateness) > w_now:
                    a = -1
            b = -1
            if idle >= 0 and global_moved and c[C_EVERY] > 0:
                b = work.every[0]
                if _threshold(slots, b, size, lateness) > idle_level:
                    b = -1
            if a < 0 and b < 0:
                break
            g = a if (b < 0 or (a >= 0 and not _closes_first(b, a, slots))) else b
            scope_of_g = inp.scope_of_key[slots[S_KEY, g]]
            watermark = effective(scope_max[scope_of_g], gm, lag, idle)
            _close_window(g, i, watermark, inp, out, work, idle, fuse)
    c[C_ROW] = inp.t.shape[0]
    c[C_GLOBAL_MAX] = gm
    return DONE


def _grown(values: np.ndarray, capacity: int) -> np.ndarray:
    """``values`` in a new array whose last axis holds ``capacity``."""
    bigger = np.empty(values.shape[:-1] + (capacity,), values.dtype)
    bigger[..., : values.shape[-1]] = values
    return bigger


#: Fewest slots :func:`new_final_work` starts with (tests lower it to exercise growth).
MIN_SLOTS = 64


def _free_stack(capacity: int, used: int) -> np.ndarray:
    """Room for ``capacity`` free slots, holding slots ``used .. capacity-1`` (lowest on top)."""
    free = np.empty(capacity, np.int64)
    free[: capacity - used] = np.arange(capacity - 1, used - 1, -1)
    return free


def final_counters() -> np.ndarray:
    """The ``counters`` of :func:`final_rows` (C_*), all zero."""
    return np.zeros(11, np.int64)


def new_final_work(
    scope_max: np.ndarray,
    global_max: int,
    n_keys: int,
    price_dtype,
    size_dtype,
    slots: int,
    counters: np.ndarray,
) -> FinalWork:
    """Working state for :func:`final_rows` with room for ``slots`` open windows."""
    slots = max(MIN_SLOTS, 1 << (int(slots) - 1).bit_length())
    n_scopes = len(scope_max)
    counters[C_FREE] = slots
    counters[C_GLOBAL_MAX] = global_max
    counters[C_POOL] = 4 * n_scopes
    slot_fields = np.empty((12, slots), np.int64)
    slot_fields[S_OPEN] = 0
    return FinalWork(
        counters=counters,
        scope_max=scope_max,
        table=np.full(2 * slots, -1, np.int64),
        last_of_key=np.full(n_keys, -1, np.int64),
        slots=slot_fields,
        slot_prices=np.empty((4, slots), price_dtype),
        slot_volume=np.empty(slots, size_dtype),
        slot_vwap=np.empty((2, slots), np.float64),
        free=_free_stack(slots, 0),
        pool=np.empty(max(4 * n_scopes, 64), np.int64),
        off=np.arange(0, 4 * n_scopes, 4, dtype=np.int64),
        length=np.zeros(n_scopes, np.int64),
        cap=np.full(n_scopes, 4, np.int64),
        every=np.empty(slots, np.int64),
    )


def final_pass(
    inp, out, work, n_old, base, missing_key_scope, size, offset, lag, idle, lateness, fuse
):
    """Run :func:`final_rows` to the end, growing its working arrays when it asks."""
    while True:
        need = final_rows(
            inp, out, work, n_old, base, missing_key_scope, size, offset, lag, idle, lateness, fuse
        )
        if need == DONE:
            return work
        c = work.counters
        if need == NEED_SLOTS:
            old = work.slots.shape[1]
            new = 2 * old
            c[C_FREE] = new - old
            slots = _grown(work.slots, new)
            slots[S_OPEN, old:] = 0
            table = np.full(2 * new, -1, np.int64)
            _rehash(table, work.table, slots[S_KEY], slots[S_START])
            work = work._replace(
                table=table,
                slots=slots,
                slot_prices=_grown(work.slot_prices, new),
                slot_volume=_grown(work.slot_volume, new),
                slot_vwap=_grown(work.slot_vwap, new),
                free=_free_stack(new, old),
                every=_grown(work.every, new),
            )
        else:
            # Move the full heap to a region twice as large at the end of the pool.
            h = c[C_NEED_HEAP]
            used = c[C_POOL]
            start, length, cap = work.off[h], work.length[h], work.cap[h]
            pool = work.pool
            if used + 2 * cap > len(pool):
                pool = _grown(pool, 2 * (used + 2 * cap))
            pool[used : used + length] = pool[start : start + length]
            work.off[h] = used
            work.cap[h] = 2 * cap
            c[C_POOL] = used + 2 * cap
            work = work._replace(pool=pool)


def resumed_work(
    work: FinalWork, scope_max: np.ndarray, global_max: int, n_keys: int, key_rank, new_keys: bool
) -> FinalWork:
    """``work`` of the previous chunk, ready for :func:`final_rows` on the next one.

    Its open windows stay where they are (ids ``0 .. open-1`` from
    :func:`renumber_open`); the per-key and per-scope arrays grow for keys
    and scopes first seen in this chunk, and with ``new_keys`` the open
    slots take their keys' new ranks (inserting keys keeps the order of the
    others, so every heap stays a heap).
    """
    c = work.counters
    for field in (C_ROW, C_EMITTED, C_DROPPED, C_REJECTED, C_NEED_HEAP):
        c[field] = 0
    c[C_WINDOWS] = c[C_OPEN]
    c[C_GLOBAL_MAX] = global_max
    last_of_key = work.last_of_key
    if n_keys > len(last_of_key):
        last_of_key = np.full(n_keys, -1, np.int64)
        last_of_key[: len(work.last_of_key)] = work.last_of_key
    off, length, cap, pool = work.off, work.length, work.cap, work.pool
    known, n_scopes = len(off), len(scope_max)
    if n_scopes > known:
        # A heap of four for each new scope, at the end of the pool.
        used = c[C_POOL]
        added = n_scopes - known
        off = np.concatenate([off, used + 4 * np.arange(added, dtype=np.int64)])
        length = np.concatenate([length, np.zeros(added, np.int64)])
        cap = np.concatenate([cap, np.full(added, 4, np.int64)])
        c[C_POOL] = used + 4 * added
        if c[C_POOL] > len(pool):
            pool = _grown(pool, 2 * c[C_POOL])
    if new_keys:
        refresh_ranks(work.slots, key_rank)
    return work._replace(
        scope_max=scope_max,
        last_of_key=last_of_key,
        off=off,
        length=length,
        cap=cap,
        pool=pool,
    )


@nrt_free
def refresh_ranks(slots, key_rank):  # pragma: no cover - compiled
    """Give every open slot the current rank of its key."""
    for g in range(slots.shape[1]):
        if slots[S_OPEN, g] == 1:
            slots[S_RANK, g] = key_rank[slots[S_KEY, g]]


@nrt_free
def renumber_open(slots, remap):  # pragma: no cover - compiled
    """Number the open windows ``0 .. open-1`` (by slot); ``remap[old id]`` gets the
    new id of each open window and stays -1 for the others."""
    n = 0
    for g in range(slots.shape[1]):
        if slots[S_OPEN, g] == 1:
            remap[slots[S_WINDOW, g]] = n
            slots[S_WINDOW, g] = n
            n += 1
    return n


@nrt_free
def _rehash(table, old_table, w_key, w_start):  # pragma: no cover - compiled
    """Insert every slot of ``old_table`` into the empty ``table``."""
    for g in old_table:
        if g >= 0:
            table[table_find(table, w_key[g], w_start[g], w_key, w_start)] = g


@njit(cache=True)
def open_row_positions(gid, w_pane):  # pragma: no cover - compiled
    """Positions of the rows whose window is still open (in a window, not emitted)."""
    out = np.empty(gid.shape[0], np.int64)
    count = 0
    for r in range(gid.shape[0]):
        g = gid[r]
        if g >= 0 and w_pane[g] < 0:
            out[count] = r
            count += 1
    return out[:count].copy()


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
