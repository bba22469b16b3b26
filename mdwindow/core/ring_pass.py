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
emitted in key order (the emission order is emit row, start, key). With
``emit="updates"`` a second walk, from the lowest start still waiting for
its on-time pane, fires windows as the watermark reaches their ends; a late
row emits a pane of its window; closing then only frees the slots. A late
row never moves the watermark, so a row emits either its own late pane or
the on-time panes it fires, never both.

The pass writes nothing per row but the window id of each accepted row:
the trace is rebuilt from the rows when it is read (:mod:`~mdwindow.core.replay`),
and the dropped, rejected and late rows, which are few, are listed.
Compiled without numba's runtime, it allocates nothing; the driver sizes
every array beforehand.
"""

from __future__ import annotations

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from mdwindow.core.frames import TIMINGS
from mdwindow.core.heaps import sort_in_place
from mdwindow.core.jit import nrt_free, nrt_free_inline
from mdwindow.core.ring_layout import (
    C_DROPPED,
    C_GLOBAL_MAX,
    C_LATE,
    C_REJECTED,
    C_UNUSED,
    CLASH,
    DONE,
    S_FIRED,
    S_KEY,
    S_LATE,
    S_NEXT,
    S_PANES,
    S_POS,
    S_ROWS,
    S_START,
    S_WINDOW,
    note_dropped,
)
from mdwindow.core.ring_slots import add_row, find_or_open, free_slot, write_pane
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

ON_TIME_PANE, LATE_PANE, FINAL_PANE = (TIMINGS.index(t) for t in ("on_time", "late", "final"))


@nrt_free_inline
def _lowest(s, work, ring, per_key, firing):  # pragma: no cover - compiled
    """``(start, position)`` of the lowest window of scope ``s`` that is open (and,
    when ``firing``, waits for its on-time pane); the scope has one."""
    slots = work.slots
    best = -1
    for pos in range(ring):
        g = work.key_ring[s * ring + pos] if per_key else work.buckets[s * ring + pos]
        while g >= 0:
            if (not firing or slots[g, S_FIRED] == 0) and (
                best < 0 or slots[g, S_START] < slots[best, S_START]
            ):
                best = g
            g = -1 if per_key else slots[g, S_NEXT]
    return slots[best, S_START], slots[best, S_POS]


@nrt_free_inline
def _at_start(
    s, st, pos, row, watermark, inp, out, work, ring, per_key, size, fuse, track, firing, updates
):  # pragma: no cover - compiled
    """Fire (``firing``) or close the windows of scope ``s`` that start at ``st``."""
    slots = work.slots
    if per_key:
        g = work.key_ring[s * ring + pos]
        if g < 0 or slots[g, S_START] != st:
            return
        if firing:
            if slots[g, S_FIRED] == 0:
                write_pane(g, row, watermark, ON_TIME_PANE, out, work, size, fuse, track)
                slots[g, S_FIRED] = 1
                work.scope_unfired[s] -= 1
            return
        if not updates:
            write_pane(g, row, watermark, FINAL_PANE, out, work, size, fuse, track)
        free_slot(g, s, work, ring)
        return
    b = s * ring + pos
    g = work.buckets[b]
    if g < 0 or slots[g, S_START] != st:
        return
    if not firing and updates:
        # Closing emits nothing in emit="updates": free the slots in any order.
        work.buckets[b] = -1
        while g >= 0:
            after = slots[g, S_NEXT]
            free_slot(g, s, work, ring)
            g = after
        return
    # Windows of one start fire or close together, in key order: by their keys' ranks.
    n = 0
    while g >= 0:
        if not firing or slots[g, S_FIRED] == 0:
            work.scratch[n] = (inp.key_rank[slots[g, S_KEY]] << 32) | g
            n += 1
        g = slots[g, S_NEXT]
    if not firing:
        work.buckets[b] = -1
    words = (inp.key_rank.shape[0] + 63) >> 6
    if n <= 24 or 4 * n < words:
        # Few windows, or few among many keys: sort (rank, slot) pairs.
        sort_in_place(work.scratch, n)
        for j in range(n):
            _emit(work.scratch[j] & 0xFFFFFFFF, s, row, watermark, out, work, ring, size,
                  fuse, track, firing)  # fmt: skip
        return
    # Many: a bit per rank, read back in rank order (a word of 64 ranks at a time).
    bits = work.rank_bits
    for j in range(n):
        rank = work.scratch[j] >> 32
        work.rank_slot[rank] = work.scratch[j] & 0xFFFFFFFF
        bits[rank >> 6] |= np.uint64(1) << np.uint64(rank & 63)
    for w in range(words):
        word = bits[w]
        bits[w] = 0
        while word != 0:
            rank = (w << 6) + np.int64(trailing_zeros(word))
            word &= word - np.uint64(1)
            _emit(work.rank_slot[rank], s, row, watermark, out, work, ring, size, fuse, track,
                  firing)  # fmt: skip


@nrt_free_inline
def _emit(g, s, row, watermark, out, work, ring, size, fuse, track, firing):  # pragma: no cover
    """Fire (``firing``: its on-time pane) or close (its final pane) the window in slot ``g``
    of a shared scope ``s``."""
    if firing:
        write_pane(g, row, watermark, ON_TIME_PANE, out, work, size, fuse, track)
        work.slots[g, S_FIRED] = 1
        work.scope_unfired[s] -= 1
    else:
        write_pane(g, row, watermark, FINAL_PANE, out, work, size, fuse, track)
        free_slot(g, s, work, ring)


@nrt_free_inline
def _walk(
    s, watermark, row, inp, out, work, ring, per_key, size, lateness, fuse, track, firing,
    updates,
):  # pragma: no cover - compiled  # fmt: skip
    """Fire (``firing``) or close, in start order, the windows of scope ``s`` whose
    fire or close level ``watermark`` has reached."""
    waiting = work.scope_unfired if firing else work.scope_open
    if waiting[s] == 0:
        return
    low = work.scope_fire if firing else work.scope_low
    st = low[0, s]
    pos = low[1, s]
    steps = 0
    while True:
        if steps == ring:
            # The watermark passed a whole ring of starts: the rest lie further up.
            st, pos = _lowest(s, work, ring, per_key, firing)
            steps = 0
        level = fire_level(st, size) if firing else close_level(st, size, lateness)
        if not has_reached(watermark, level):
            break
        _at_start(
            s, st, pos, row, watermark, inp, out, work, ring, per_key, size, fuse, track,
            firing, updates,
        )  # fmt: skip
        if waiting[s] == 0:
            break
        # Another window waits above st, so st + size is a start (no overflow).
        st += size
        pos = (pos + 1) & (ring - 1)
        steps += 1
    low[0, s] = st
    low[1, s] = pos


@nrt_free_inline
def _settle(work, ring, gm, lag, size, scope_of_key):  # pragma: no cover - compiled
    """After the kept open rows rejoined their windows (emit="updates"): which of
    them still wait for their on-time pane, and how many panes each has had.

    A window has had its on-time pane once the watermark reached its end,
    if it held an on-time row, and one late pane per late row.
    """
    slots = work.slots
    for g in range(work.counters[C_UNUSED]):
        k = slots[g, S_KEY]
        if work.key_ring[k * ring + slots[g, S_POS]] != g:
            continue
        s = scope_of_key[k]
        on_time = slots[g, S_ROWS] > slots[g, S_LATE]
        w = effective_watermark(work.scope_max[s], gm, lag, NO_IDLE)
        reached = has_reached(w, fire_level(slots[g, S_START], size))
        slots[g, S_PANES] = slots[g, S_LATE] + (1 if on_time and reached else 0)
        if on_time and not reached:
            st = slots[g, S_START]
            slots[g, S_FIRED] = 0
            if work.scope_unfired[s] == 0 or st < work.scope_fire[0, s]:
                work.scope_fire[0, s] = st
                work.scope_fire[1, s] = slots[g, S_POS]
            work.scope_unfired[s] += 1


@nrt_free
def ring_rows(
    inp, out, work, base, per_key, ring, size, offset, grid, lag, lateness, fuse, track, updates
):  # pragma: no cover - compiled
    """Judge every row, put it in its window and emit windows as the watermark passes.

    First the kept open rows of earlier chunks (all accepted) rejoin their
    windows; then each chunk row, in arrival order, is judged against the
    watermark of its scope before it and moves the maxima: a row never
    makes itself late. An accepted row joins its (key, start) window. A
    window closes, once, right after the first row whose arrival makes its
    scope's watermark reach ``end + lateness``: emitted then (emit="final"),
    or dropped silently after its on-time pane (when the watermark reached
    its end) and its late panes (one per late row) with ``updates``.
    ``base`` is the arrival position of the chunk's first row; with
    ``track`` the window of every row is recorded; ``grid`` is
    :func:`~mdwindow.core.ring_slots.grid_numbering` of ``size``. Returns
    DONE, or CLASH.
    """
    c = work.counters
    slots = work.slots
    scope_max = work.scope_max
    mapped = inp.key_map.shape[0] > 0
    has_bad = inp.bad_time.shape[0] > 0
    gm = c[C_GLOBAL_MAX]
    for j in range(inp.old_key.shape[0]):
        k = inp.old_key[j]
        s = inp.scope_of_key[k]
        # (Arrival of the first row unknown: before this chunk.)
        st = inp.old_start[j]
        g = find_or_open(
            k, st, s, -1, 1, out, work, ring, per_key, size, offset, grid, fuse, track
        )
        if g < 0:
            return CLASH
        work.last_slot[k] = g
        if track:
            out.old_window[j] = slots[g, S_WINDOW]
        add_row(g, inp.old_late[j], inp.old_t[j], inp.old_price, inp.old_size, j, work, fuse)
    if updates and inp.old_key.shape[0] > 0:
        _settle(work, ring, gm, lag, size, inp.scope_of_key)
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
            # The panes this row emits come after it, but are written before it
            # joins its own window: that one never fires or closes at its own
            # row (it ends after the new watermark), and a window it may meet
            # at its ring position, a ring of starts below, closes now.
            scope_max[s] = ti
            w = effective_watermark(ti, gm, lag, NO_IDLE)
            row = base + i
            if updates:
                _walk(
                    s, w, row, inp, out, work, ring, per_key, size, lateness, fuse, track,
                    True, updates,
                )  # fmt: skip
            _walk(
                s, w, row, inp, out, work, ring, per_key, size, lateness, fuse, track,
                False, updates,
            )  # fmt: skip
        if status == DROPPED:
            d = c[C_DROPPED]
            note_dropped(out.dropped, d, i, how_late, st, w_before)
            c[C_DROPPED] += 1
            continue
        late = status == LATE
        if g < 0:
            # A window whose first row is late has no on-time pane.
            fired = 1 if late or not updates else 0
            g = find_or_open(
                k, st, s, base + i, fired, out, work, ring, per_key, size, offset, grid, fuse,
                track,
            )  # fmt: skip
            if g < 0:
                return CLASH
            work.last_slot[k] = g
        if track:
            out.row_window[i] = slots[g, S_WINDOW]
        if late:
            out.late_rows[c[C_LATE]] = i
            c[C_LATE] += 1
        add_row(g, late, ti, inp.price, inp.size, i, work, fuse)
        if late and updates:
            # A late row never moves the watermark: the one before it still holds.
            write_pane(g, base + i, w_before, LATE_PANE, out, work, size, fuse, track)
    c[C_GLOBAL_MAX] = gm
    return DONE
