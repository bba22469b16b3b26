"""The ``emit="final"`` pass over window rings (numba), for watermarks without idle timeout.

Without an idle timeout a scope's watermark ``W = M - lag`` moves only with
that scope's own rows, and every window the scope holds open starts in
``(M - lag - lateness - size, M]``: it ends after ``W`` plus the allowed
lateness (else it would be closed) and holds a row at or before ``M``. So
the open windows of a scope (and of each key) lie on at most
``ceil((lag + lateness) / size) + 2`` consecutive grid starts, and a *ring*
of that many positions, indexed by the grid number of the start, finds a
key's window without hashing. The ring is rounded up to a power of two
``R``; the driver checks ``R`` (see :func:`~mdwindow.core.ring_work.ring_size`)
and falls back to the heap pass of :mod:`~mdwindow.core.final_pass` when it
is large.

A rising watermark closes windows in start order, and every window of one
start and scope closes at the same row: each scope keeps the lowest start
it may still hold open and walks up from it, closing a whole ring position
at a time. With ``scope="key"`` a position holds one window; with shared
scopes (global, partition) it holds a list of the windows of that start,
emitted in key order (the emission order is emit row, start, key).

The pass writes nothing per row but the window id of each accepted row:
the trace is rebuilt from the rows when it is read (:mod:`~mdwindow.core.replay`),
and the dropped, rejected and late rows, which are few, are listed.
Compiled without numba's runtime, it allocates nothing; the driver sizes
every array beforehand.
"""

from __future__ import annotations

import numpy as np

from mdwindow.core.heaps import sort_in_place
from mdwindow.core.jit import nrt_free, nrt_free_inline
from mdwindow.core.pane_columns import N_COUNT, N_LATE, N_ROW, T_END, T_START, T_WATERMARK
from mdwindow.core.ring_layout import (
    C_DROPPED,
    C_EMITTED,
    C_FREE,
    C_GLOBAL_MAX,
    C_LATE,
    C_OPEN,
    C_REJECTED,
    C_UNUSED,
    C_WINDOWS,
    CLASH,
    D_LATE_BY,
    D_ROW,
    D_START,
    D_WATERMARK,
    DONE,
    S_FIRST_ROW,
    S_FIRST_T,
    S_KEY,
    S_LAST_T,
    S_LATE,
    S_NEXT,
    S_POS,
    S_ROWS,
    S_SEEN,
    S_START,
    S_WINDOW,
)
from mdwindow.core.rules import (
    DROPPED,
    LATE,
    NO_IDLE,
    VALID,
    close_level,
    effective_watermark,
    fire_level,
    has_reached,
    in_window,
    judge,
    window_start,
)


@nrt_free_inline
def _new_slot(work):  # pragma: no cover - compiled
    c = work.counters
    if c[C_FREE] > 0:
        c[C_FREE] -= 1
        return work.free[c[C_FREE]]
    g = c[C_UNUSED]
    c[C_UNUSED] += 1
    return g


@nrt_free_inline
def _find_or_open(k, st, s, row, out, work, ring, per_key, size, fuse, track):  # pragma: no cover
    """The slot of window (k, st), opened when new; -1 when its ring position is taken."""
    slots = work.slots
    pos = (st // size) & (ring - 1)
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
    g = _new_slot(work)
    window = c[C_WINDOWS]
    c[C_WINDOWS] += 1
    if track:
        out.pane[window] = -1
    slots[g, S_KEY] = k
    slots[g, S_FIRST_ROW] = row
    slots[g, S_START] = st
    slots[g, S_POS] = pos
    slots[g, S_ROWS] = 0
    slots[g, S_LATE] = 0
    slots[g, S_WINDOW] = window
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
    c[C_OPEN] += 1
    return g


@nrt_free_inline
def _add_row(g, late, ti, price, size, r, work, fuse):  # pragma: no cover - compiled
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
def _emit(g, s, row, watermark, out, work, ring, size, fuse, track):  # pragma: no cover
    """Emit the window in slot ``g`` after arrival ``row`` and free the slot."""
    c = work.counters
    slots = work.slots
    k = slots[g, S_KEY]
    st = slots[g, S_START]
    p = c[C_EMITTED]
    c[C_EMITTED] += 1
    if track:
        out.pane[slots[g, S_WINDOW]] = p
    panes = out.panes
    panes.key[p] = k
    panes.times[T_START, p] = st
    panes.times[T_END, p] = fire_level(st, size)
    panes.times[T_WATERMARK, p] = watermark
    panes.counts[N_COUNT, p] = slots[g, S_ROWS]
    if slots[g, S_LATE] != 0:
        panes.counts[N_LATE, p] = slots[g, S_LATE]
    panes.counts[N_ROW, p] = row
    if fuse:
        seen = slots[g, S_SEEN] != 0
        for f in range(4):
            # A window whose prices were all missing has none (only float prices can be).
            panes.prices[f, p] = work.slot_prices[g, f] if seen else np.nan
        panes.volume[p] = work.slot_volume[g]
        amount = work.slot_vwap[g, 1]
        panes.vwap[p] = work.slot_vwap[g, 0] / amount if amount != 0 else np.nan
    work.key_ring[k * ring + slots[g, S_POS]] = -1
    if work.last_slot[k] == g:
        work.last_slot[k] = -1
    work.scope_open[s] -= 1
    c[C_OPEN] -= 1
    work.free[c[C_FREE]] = g
    c[C_FREE] += 1


@nrt_free_inline
def _close_position(
    s, st, pos, row, watermark, inp, out, work, ring, per_key, size, fuse, track
):  # pragma: no cover - compiled
    """Emit the windows of scope ``s`` that start at ``st`` (ring position ``pos``)."""
    slots = work.slots
    if per_key:
        g = work.key_ring[s * ring + pos]
        if g >= 0 and slots[g, S_START] == st:
            _emit(g, s, row, watermark, out, work, ring, size, fuse, track)
        return
    b = s * ring + pos
    g = work.buckets[b]
    if g < 0 or slots[g, S_START] != st:
        return
    # Windows of one start close together, in key order: sort (rank, slot) pairs.
    n = 0
    while g >= 0:
        work.scratch[n] = (inp.key_rank[slots[g, S_KEY]] << 32) | g
        n += 1
        g = slots[g, S_NEXT]
    work.buckets[b] = -1
    sort_in_place(work.scratch, n)
    for j in range(n):
        g = work.scratch[j] & 0xFFFFFFFF
        _emit(g, s, row, watermark, out, work, ring, size, fuse, track)


@nrt_free_inline
def _lowest_open(s, work, ring, per_key):  # pragma: no cover - compiled
    """``(start, position)`` of the lowest open window of scope ``s`` (it has one)."""
    table = work.key_ring if per_key else work.buckets
    best = -1
    for pos in range(ring):
        g = table[s * ring + pos]
        if g >= 0 and (best < 0 or work.slots[g, S_START] < work.slots[best, S_START]):
            best = g
    return work.slots[best, S_START], work.slots[best, S_POS]


@nrt_free_inline
def _close_reached(
    s, watermark, row, inp, out, work, ring, per_key, size, lateness, fuse, track
):  # pragma: no cover - compiled
    """Emit, in start order, the windows of scope ``s`` that ``watermark`` has closed."""
    if work.scope_open[s] == 0:
        return
    st = work.scope_low[0, s]
    pos = work.scope_low[1, s]
    steps = 0
    while True:
        if steps == ring:
            # The watermark passed a whole ring of starts: the rest lie further up.
            st, pos = _lowest_open(s, work, ring, per_key)
            steps = 0
        if not has_reached(watermark, close_level(st, size, lateness)):
            break
        _close_position(
            s, st, pos, row, watermark, inp, out, work, ring, per_key, size, fuse, track
        )
        if work.scope_open[s] == 0:
            break
        # Another window is open above st, so st + size is a start (no overflow).
        st += size
        pos = (pos + 1) & (ring - 1)
        steps += 1
    work.scope_low[0, s] = st
    work.scope_low[1, s] = pos


@nrt_free
def ring_rows(
    inp, out, work, base, per_key, ring, size, offset, lag, lateness, fuse, track
):  # pragma: no cover - compiled
    """Judge every row, put it in its window and close windows as the watermark passes.

    First the kept open rows of earlier chunks (all accepted) rejoin their
    windows; then each chunk row, in arrival order, is judged against the
    watermark of its scope before it and moves the maxima: a row never
    makes itself late. An accepted row joins its (key, start) window. A
    window closes, once, right after the first row whose arrival makes its
    scope's watermark reach ``end + lateness``. ``base`` is the arrival
    position of the chunk's first row; with ``track`` the window of every
    row is recorded. Returns DONE, or CLASH (see above).
    """
    c = work.counters
    slots = work.slots
    scope_max = work.scope_max
    mapped = inp.key_map.shape[0] > 0
    has_bad = inp.bad_time.shape[0] > 0
    for j in range(inp.old_key.shape[0]):
        k = inp.old_key[j]
        st = inp.old_start[j]
        g = _find_or_open(
            k, st, inp.scope_of_key[k], -1, out, work, ring, per_key, size, fuse, track
        )  # (first arrival unknown: before this chunk)
        if g < 0:
            return CLASH
        work.last_slot[k] = g
        if track:
            out.old_window[j] = slots[g, S_WINDOW]
        _add_row(g, inp.old_late[j], inp.old_t[j], inp.old_price, inp.old_size, j, work, fuse)
    gm = c[C_GLOBAL_MAX]
    for i in range(inp.t.shape[0]):
        k = inp.key[i]
        if mapped and k >= 0:
            k = inp.key_map[k]
        ti = inp.t[i]
        if track:
            out.row_window[i] = -1
        bad = has_bad and inp.bad_time[i] != 0
        # A key's rows mostly fall in its latest window: that start spares the divisions.
        g = work.last_slot[k] if k >= 0 else -1
        if g >= 0 and not bad and in_window(ti, slots[g, S_START], size):
            st = slots[g, S_START]
        else:
            st, reason = window_start(ti, bad, k < 0, size, offset)
            if reason != VALID:
                out.rejected[c[C_REJECTED]] = i
                out.reasons[c[C_REJECTED]] = reason
                c[C_REJECTED] += 1
                continue
            g = -1
        s = inp.scope_of_key[k]
        m = scope_max[s]
        w_before = effective_watermark(m, gm, lag, NO_IDLE)
        status, how_late = judge(w_before, st, size, lateness)
        if ti > gm:
            gm = ti
        if ti > m:
            # The windows this row closes are emitted after it, but closed
            # before it joins its own window: that one never closes at its own
            # row (it ends after the new watermark), and a window it may meet
            # at its ring position, a ring of starts below, is one of them.
            scope_max[s] = ti
            watermark = effective_watermark(ti, gm, lag, NO_IDLE)
            _close_reached(
                s, watermark, base + i, inp, out, work, ring, per_key, size, lateness, fuse, track
            )
        if status == DROPPED:
            d = c[C_DROPPED]
            out.dropped[D_ROW, d] = i
            out.dropped[D_LATE_BY, d] = how_late
            out.dropped[D_START, d] = st
            out.dropped[D_WATERMARK, d] = w_before
            c[C_DROPPED] += 1
            continue
        if g < 0:
            g = _find_or_open(k, st, s, base + i, out, work, ring, per_key, size, fuse, track)
            if g < 0:
                return CLASH
            work.last_slot[k] = g
        if track:
            out.row_window[i] = slots[g, S_WINDOW]
        late = status == LATE
        if late:
            out.late_rows[c[C_LATE]] = i
            c[C_LATE] += 1
        _add_row(g, late, ti, inp.price, inp.size, i, work, fuse)
    c[C_GLOBAL_MAX] = gm
    return DONE
