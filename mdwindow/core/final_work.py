"""The working state of the heap pass for ``emit="final"``: creation, growth, resumption.

:func:`final_pass` runs :func:`~mdwindow.core.final_pass.final_rows` to the
end, growing its slots and heaps whenever it stops for room;
:func:`resumed_work` readies the state a chunk left for the next chunk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdwindow.core import final_pass as final_pass_module
from mdwindow.core.final_pass import (
    C_DROPPED,
    C_EMITTED,
    C_FREE,
    C_GLOBAL_MAX,
    C_LATE,
    C_NEED_HEAP,
    C_OPEN,
    C_POOL,
    C_REJECTED,
    C_ROW,
    C_WINDOWS,
    DONE,
    N_COUNTERS,
    NEED_SLOTS,
    S_KEY,
    S_OPEN,
    S_RANK,
    S_START,
    S_WINDOW,
    FinalWork,
    final_rows,
)
from mdwindow.core.jit import nrt_free
from mdwindow.core.window_table import table_find


def _grown(values: np.ndarray, capacity: int) -> np.ndarray:
    """``values`` in a new array whose last axis holds ``capacity``."""
    bigger = np.empty(values.shape[:-1] + (capacity,), values.dtype)
    bigger[..., : values.shape[-1]] = values
    return bigger


def _free_stack(capacity: int, used: int) -> np.ndarray:
    """Room for ``capacity`` free slots, holding slots ``used .. capacity-1`` (lowest on top)."""
    free = np.empty(capacity, np.int64)
    free[: capacity - used] = np.arange(capacity - 1, used - 1, -1)
    return free


def final_counters() -> np.ndarray:
    """The ``counters`` of :func:`final_rows` (C_*), all zero."""
    return np.zeros(N_COUNTERS, np.int64)


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
    slots = max(final_pass_module.MIN_SLOTS, 1 << (int(slots) - 1).bit_length())
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


def final_pass(inp, out, work, n_old, base, size, offset, lag, idle, lateness, fuse):
    """Run :func:`final_rows` to the end, growing its working arrays when it asks."""
    while True:
        need = final_rows(inp, out, work, n_old, base, size, offset, lag, idle, lateness, fuse)
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
    for field in (C_ROW, C_EMITTED, C_DROPPED, C_REJECTED, C_NEED_HEAP, C_LATE):
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
def renumber_open(slots, remap, open_key, open_start):  # pragma: no cover - compiled
    """Number the open windows ``0 .. open-1`` (by slot).

    ``remap[old id]`` gets the new id of each open window (and stays -1 for
    the others); ``open_key`` and ``open_start`` get each open window's key
    code and start, by new id. Returns how many windows are open.
    """
    n = 0
    for g in range(slots.shape[1]):
        if slots[S_OPEN, g] == 1:
            remap[slots[S_WINDOW, g]] = n
            slots[S_WINDOW, g] = n
            open_key[n] = slots[S_KEY, g]
            open_start[n] = slots[S_START, g]
            n += 1
    return n


@nrt_free
def _rehash(table, old_table, w_key, w_start):  # pragma: no cover - compiled
    """Insert every slot of ``old_table`` into the empty ``table``."""
    for g in old_table:
        if g >= 0:
            table[table_find(table, w_key[g], w_start[g], w_key, w_start)] = g


@njit(cache=True, nogil=True)
def open_positions(window, pane):  # pragma: no cover - compiled
    """Positions of the rows whose window is still open (in a window, not emitted)."""
    out = np.empty(window.shape[0], np.int64)
    count = 0
    for r in range(window.shape[0]):
        g = window[r]
        if g >= 0 and pane[g] < 0:
            out[count] = r
            count += 1
    return out[:count]
