"""The heap pass for ``emit="final"`` (numba): any watermark, idle timeouts included.

Open windows live in recycled *slots*: a slot holds one open window's key,
start, counts and (for agg="ohlcv") running aggregates, so the working set
is as small as the set of open windows, not the number of windows seen.
Windows waiting to close sit in the indexed min-heaps of
:mod:`~mdwindow.core.heaps`, ordered by (start, key rank). There is one
heap per watermark scope in a shared pool (heap ``h`` is
``pool[off[h] : off[h] + length[h]]`` with room for ``cap[h]``), plus, with
an idle timeout, one heap ``every`` of all open windows, which the global
maximum can close whatever their scope; a window closed through one heap
leaves the other at once. Without an idle timeout, and with few windows
open per key, the ring pass of :mod:`~mdwindow.core.ring_pass` does the
same work faster; this pass takes every other case.

The outputs are those of the ring pass (the pane columns of
:mod:`~mdwindow.core.pane_columns`, the dropped rows' fields ``D_*``):
nothing per row but the window id of each accepted row. The pass is
compiled without numba's runtime (see ``nrt_free``) and so allocates
nothing: when it runs out of slots or heap room it stops before the row
that needs them, and :func:`~mdwindow.core.final_work.final_pass` grows
the arrays and resumes it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from mdwindow.core.heaps import HEAP_RANK, HEAP_START, closes_first, heap_insert, heap_remove
from mdwindow.core.jit import nrt_free, nrt_free_inline
from mdwindow.core.pane_columns import (
    N_COUNT,
    N_LATE,
    N_ROW,
    T_END,
    T_START,
    T_WATERMARK,
    PaneColumns,
)
from mdwindow.core.ring_layout import note_dropped
from mdwindow.core.rules import (
    DROPPED,
    LATE,
    NEG_INF,
    VALID,
    close_level,
    effective_watermark,
    fire_level,
    in_window,
    judge,
    window_start,
)
from mdwindow.core.window_table import table_delete, table_find

#: Fields of ``slots`` (int64, one column per slot).
(
    S_KEY, S_START, S_RANK, S_ROWS, S_LATE, S_WINDOW, S_OPEN,
    S_HEAP_POS, S_EVERY_POS, S_SEEN, S_FIRST_T, S_LAST_T,
) = range(12)  # fmt: skip
assert (S_START, S_RANK) == (HEAP_START, HEAP_RANK)
#: Fields of ``counters``.
(
    C_ROW, C_WINDOWS, C_EMITTED, C_DROPPED, C_REJECTED, C_FREE, C_OPEN,
    C_EVERY, C_POOL, C_GLOBAL_MAX, C_NEED_HEAP, C_LATE,
) = range(12)  # fmt: skip
N_COUNTERS = 12
#: Why :func:`final_rows` stopped early.
DONE, NEED_SLOTS, NEED_HEAP = range(3)
#: Fewest slots a new working state starts with (tests lower it to exercise growth).
MIN_SLOTS = 64


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

    window: np.ndarray  # per row (kept and chunk): window id, -1 for none
    pane: np.ndarray  # per window id: position among the emitted windows, -1 while open
    dropped: np.ndarray  # (4, n) int64: D_* per dropped row
    rejected: np.ndarray  # (n,) int64: chunk row
    reasons: np.ndarray  # (n,) int8: 0 missing time, 1 missing key, 2 out of range
    late_rows: np.ndarray  # (n,) int64: chunk rows accepted late
    panes: PaneColumns  # the emitted windows, in emission order


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
def _close_window(g, row, watermark, inp, out, work, idle, size, fuse):  # pragma: no cover
    """Emit the window in slot ``g`` after arrival ``row`` and free the slot."""
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
    panes = out.panes
    st = slots[S_START, g]
    panes.key[p] = k
    panes.times[T_START, p] = st
    panes.times[T_END, p] = fire_level(st, size)
    panes.times[T_WATERMARK, p] = watermark
    panes.counts[N_COUNT, p] = slots[S_ROWS, g]
    if slots[S_LATE, g] != 0:
        panes.counts[N_LATE, p] = slots[S_LATE, g]
    panes.counts[N_ROW, p] = row
    if fuse:
        for f in range(4):
            # A window whose prices were all missing has none (only float prices can be).
            panes.prices[f, p] = work.slot_prices[f, g] if slots[S_SEEN, g] else np.nan
        panes.volume[p] = work.slot_volume[g]
        amount = work.slot_vwap[1, g]
        panes.vwap[p] = work.slot_vwap[0, g] / amount if amount != 0 else np.nan
    slots[S_OPEN, g] = 0
    work.free[c[C_FREE]] = g
    c[C_FREE] += 1


@nrt_free
def final_rows(
    inp, out, work, n_old, base, size, offset, lag, idle, lateness, fuse
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
            s = inp.scope_of_key[k] if k >= 0 else -1
            bad = has_bad and inp.bad_time[i] != 0
            # A key's rows mostly fall in the window of its previous row: that
            # start (any start is on the grid) spares the two divisions.
            g = work.last_of_key[k] if k >= 0 else -1
            if g >= 0 and not bad and in_window(ti, slots[S_START, g], size):
                st, reason = slots[S_START, g], VALID
            else:
                st, reason = window_start(ti, bad, k < 0, size, offset)
            out.window[j] = -1
            if reason != VALID:
                out.rejected[c[C_REJECTED]] = i
                out.reasons[c[C_REJECTED]] = reason
                c[C_REJECTED] += 1
                continue
            w_before = effective_watermark(scope_max[s], gm, lag, idle)
            state, how_late = judge(w_before, st, size, lateness)
            late = state == LATE
            if state == DROPPED:
                accepted = False
                d = c[C_DROPPED]
                note_dropped(out.dropped, d, i, how_late, st, w_before)
                c[C_DROPPED] += 1
            elif late:
                out.late_rows[c[C_LATE]] = i
                c[C_LATE] += 1
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
            g = a if (b < 0 or (a >= 0 and not closes_first(b, a, slots))) else b
            scope_of_g = inp.scope_of_key[slots[S_KEY, g]]
            watermark = effective_watermark(scope_max[scope_of_g], gm, lag, idle)
            _close_window(g, base + i, watermark, inp, out, work, idle, size, fuse)
    c[C_ROW] = inp.t.shape[0]
    c[C_GLOBAL_MAX] = gm
    return DONE
