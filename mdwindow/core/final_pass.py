"""The per-row pass for ``emit="final"`` (numba), and its working state.

Open windows live in recycled *slots*: a slot holds one open window's key,
start, counts and (for agg="ohlcv") running aggregates, so the working set
is as small as the set of open windows, not the number of windows seen.
Windows waiting to close sit in binary min-heaps ordered by (start, key
rank): all windows have one size, so that is the order in which a rising
watermark closes them, and the key rank orders windows closing together.
There is one heap per watermark scope in a shared pool (heap ``h`` is
``pool[off[h] : off[h] + length[h]]`` with room for ``cap[h]``), plus, with
an idle timeout, one heap ``every`` of all open windows, which the global
maximum can close whatever their scope. Heaps are indexed: each slot knows
its position in them, so a window closed through one heap leaves the other
at once.

The pass is compiled without numba's runtime (see ``nrt_free``) and so
allocates nothing: when it runs out of slots or heap room it stops before
the row that needs them, and :func:`final_pass` grows the arrays and
resumes it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from mdwindow.core.kernels import (
    nrt_free,
    nrt_free_inline,
    table_delete,
    table_find,
)
from mdwindow.core.rules import (
    DROPPED,
    LATE,
    NEG_INF,
    REJECTED,
    VALID,
    close_level,
    effective_watermark,
    in_window,
    judge,
    window_start,
)

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
    """The watermark that closes the window in slot ``g``."""
    return close_level(slots[S_START, g], size, lateness)


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
            if g >= 0 and not bad and in_window(ti, slots[S_START, g], size):
                st, reason = slots[S_START, g], VALID
            else:
                st, reason = window_start(ti, bad, k < 0, size, offset)
            out.window[j] = -1
            w_before = NEG_INF if s < 0 else effective_watermark(scope_max[s], gm, lag, idle)
            per_row[ROW_W_BEFORE, i] = w_before
            per_row[ROW_W_AFTER, i] = w_before
            if reason != VALID:
                out.status[i] = REJECTED
                per_row[ROW_START, i] = NEG_INF
                out.rejected[c[C_REJECTED]] = i
                out.reasons[c[C_REJECTED]] = reason
                c[C_REJECTED] += 1
                continue
            per_row[ROW_START, i] = st
            state, how_late = judge(w_before, st, size, lateness)
            out.status[i] = state
            late = state == LATE
            if state == DROPPED:
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
        w_now = effective_watermark(scope_max[s], gm, lag, idle)
        per_row[ROW_W_AFTER, i] = w_now
        if not (own_moved or (idle >= 0 and global_moved)):
            continue
        # The level that the global maximum alone holds every scope to.
        idle_level = effective_watermark(NEG_INF, gm, lag, idle)
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
            watermark = effective_watermark(scope_max[scope_of_g], gm, lag, idle)
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
