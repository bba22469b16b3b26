"""What the ring pass does to one window (numba, inlined into the pass).

A window lives in a *slot* while it is open: its key, start, ring position,
counts and (for agg="ohlcv") running aggregates. The helpers here open a
window in a free slot, fold a row into it, write a pane of it (a snapshot of
what it holds) and free its slot when it closes.
"""

from __future__ import annotations

import numpy as np

from mdwindow.core.jit import nrt_free_inline
from mdwindow.core.pane_columns import (
    N_COUNT,
    N_LATE,
    N_REVISION,
    N_ROW,
    T_END,
    T_START,
    T_WATERMARK,
)
from mdwindow.core.ring_layout import (
    C_EMITTED,
    C_FREE,
    C_OPEN,
    C_UNUSED,
    C_WINDOWS,
    S_FIRED,
    S_FIRST_ROW,
    S_FIRST_T,
    S_KEY,
    S_LAST_T,
    S_LATE,
    S_NEXT,
    S_PANES,
    S_POS,
    S_ROWS,
    S_SEEN,
    S_START,
    S_WINDOW,
)
from mdwindow.core.rules import fire_level


def grid_numbering(size: int) -> tuple[int, int]:
    """``(shift, inverse)`` that number window starts of windows of ``size`` without a
    division (see :func:`ring_position`); shift -1 when they cannot.

    ``size = d * 2**shift`` with ``d`` odd, and ``inverse * d == 1`` modulo 2**64.
    """
    shift = (size & -size).bit_length() - 1
    if shift > 58:
        return -1, 0
    inverse = pow(size >> shift, -1, 1 << 64)
    return shift, inverse - (1 << 64) if inverse >= 1 << 63 else inverse


@nrt_free_inline
def ring_position(st, size, offset, grid, mask):  # pragma: no cover - compiled
    """``(st // size) & mask``, the ring position of window start ``st``, for a
    ``mask`` of at most 63 and an ``offset`` in ``[0, size)``.

    ``st - offset`` is a multiple of ``size``: dividing it exactly is a shift
    and a product by the inverse of the odd part of ``size`` (modulo 2**64,
    whose low ``64 - shift`` bits are those of the quotient), cheaper than a
    division; ``st // size`` equals that quotient as the offset is below
    ``size``.
    """
    shift, inverse = grid
    if shift < 0:
        return (st // size) & mask
    x = (np.uint64(st) - np.uint64(offset)) >> np.uint64(shift)
    return np.int64((x * np.uint64(inverse)) & np.uint64(mask))


@nrt_free_inline
def find_or_open(
    k, st, s, row, fired, out, work, ring, per_key, size, offset, grid, fuse, track
):  # pragma: no cover - compiled
    """The slot of window (k, st), opened when new; -1 when its ring position is taken.

    A new window records ``row`` (the arrival of its first row) and whether
    it is ``fired`` (emit="updates": it will have no on-time pane).
    """
    slots = work.slots
    pos = ring_position(st, size, offset, grid, ring - 1)
    at = k * ring + pos
    g = work.key_ring[at]
    if g >= 0:
        return g if slots[g, S_START] == st else -1
    b = s * ring + pos
    if not per_key:
        head = work.buckets[b]
        if head >= 0 and slots[head, S_START] != st:
            return -1
    c = work.counters
    if c[C_FREE] > 0:
        c[C_FREE] -= 1
        g = work.free[c[C_FREE]]
    else:
        g = c[C_UNUSED]
        c[C_UNUSED] += 1
    window = c[C_WINDOWS]
    c[C_WINDOWS] += 1
    if track and out.pane.shape[0] > 0:
        out.pane[window] = -1
    slots[g, S_KEY] = k
    slots[g, S_FIRST_ROW] = row
    slots[g, S_START] = st
    slots[g, S_POS] = pos
    slots[g, S_ROWS] = 0
    slots[g, S_LATE] = 0
    slots[g, S_WINDOW] = window
    slots[g, S_FIRED] = fired
    slots[g, S_PANES] = 0
    if fuse:
        slots[g, S_SEEN] = 0
        work.slot_volume[g] = 0
        work.slot_vwap[g, 0] = 0.0
        work.slot_vwap[g, 1] = 0.0
    work.key_ring[at] = g
    if not per_key:
        slots[g, S_NEXT] = work.buckets[b]
        work.buckets[b] = g
    if work.scope_open[s] == 0 or st < work.scope_low[0, s]:
        work.scope_low[0, s] = st
        work.scope_low[1, s] = pos
    work.scope_open[s] += 1
    if not fired:
        if work.scope_unfired[s] == 0 or st < work.scope_fire[0, s]:
            work.scope_fire[0, s] = st
            work.scope_fire[1, s] = pos
        work.scope_unfired[s] += 1
    c[C_OPEN] += 1
    return g


@nrt_free_inline
def add_row(g, late, ti, price, size, r, work, fuse):  # pragma: no cover - compiled
    """Count row ``r`` (of ``price``, ``size``) in slot ``g``; fold it into the running
    OHLCV (``fuse``).

    The rules of :func:`~mdwindow.core.kernels.ohlcv`: NaN prices and sizes
    are skipped, open/close go by event time with ties to the earlier/later
    arrival, VWAP takes rows where both are present.
    """
    slots = work.slots
    slots[g, S_ROWS] += 1
    if late:
        slots[g, S_LATE] += 1
    if not fuse:
        return
    v = price[r]
    q = size[r]
    if q == q:
        work.slot_volume[g] += q
    if v != v:
        return
    prices = work.slot_prices
    if slots[g, S_SEEN] == 0:
        slots[g, S_SEEN] = 1
        prices[g, 0] = v
        prices[g, 1] = v
        prices[g, 2] = v
        prices[g, 3] = v
        slots[g, S_FIRST_T] = ti
        slots[g, S_LAST_T] = ti
    else:
        if v > prices[g, 1]:
            prices[g, 1] = v
        if v < prices[g, 2]:
            prices[g, 2] = v
        if ti < slots[g, S_FIRST_T]:
            prices[g, 0] = v
            slots[g, S_FIRST_T] = ti
        if ti >= slots[g, S_LAST_T]:
            prices[g, 3] = v
            slots[g, S_LAST_T] = ti
    if q == q:
        work.slot_vwap[g, 0] += np.float64(v) * np.float64(q)
        work.slot_vwap[g, 1] += np.float64(q)


@nrt_free_inline
def write_pane(g, row, watermark, timing, out, work, size, fuse, track):  # pragma: no cover
    """Write a pane of the window in slot ``g``: what it holds after arrival ``row``.

    ``timing`` (an index in TIMINGS) is written when the pass writes timings.
    """
    c = work.counters
    slots = work.slots
    st = slots[g, S_START]
    p = c[C_EMITTED]
    c[C_EMITTED] += 1
    if track:
        if out.pane.shape[0] > 0:
            out.pane[slots[g, S_WINDOW]] = p
        if out.pane_window.shape[0] > 0:
            out.pane_window[p] = slots[g, S_WINDOW]
    panes = out.panes
    panes.key[p] = slots[g, S_KEY]
    panes.times[T_START, p] = st
    panes.times[T_END, p] = fire_level(st, size)
    panes.times[T_WATERMARK, p] = watermark
    # ``counts`` starts as zeros: untouched pages of it cost nothing.
    panes.counts[N_COUNT, p] = slots[g, S_ROWS]
    if slots[g, S_LATE] != 0:
        panes.counts[N_LATE, p] = slots[g, S_LATE]
    if slots[g, S_PANES] != 0:
        panes.counts[N_REVISION, p] = slots[g, S_PANES]
    panes.counts[N_ROW, p] = row
    slots[g, S_PANES] += 1
    if panes.timing.shape[0] > 0:
        panes.timing[p] = timing
    if fuse:
        seen = slots[g, S_SEEN] != 0
        for f in range(4):
            # A window whose prices were all missing has none (only float prices can be).
            panes.prices[f, p] = work.slot_prices[g, f] if seen else np.nan
        panes.volume[p] = work.slot_volume[g]
        amount = work.slot_vwap[g, 1]
        panes.vwap[p] = work.slot_vwap[g, 0] / amount if amount != 0 else np.nan


@nrt_free_inline
def free_slot(g, s, work, ring):  # pragma: no cover - compiled
    """Close the window in slot ``g`` (of scope ``s``) and free the slot."""
    c = work.counters
    slots = work.slots
    k = slots[g, S_KEY]
    work.key_ring[k * ring + slots[g, S_POS]] = -1
    if work.last_slot[k] == g:
        work.last_slot[k] = -1
    work.scope_open[s] -= 1
    if slots[g, S_FIRED] == 0:
        work.scope_unfired[s] -= 1
    c[C_OPEN] -= 1
    work.free[c[C_FREE]] = g
    c[C_FREE] += 1
