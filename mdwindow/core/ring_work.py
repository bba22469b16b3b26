"""The working state of the ring pass: its size, creation and resumption, open windows.

:func:`ring_size` says whether the ring pass of :mod:`~mdwindow.core.ring_pass`
can take a run (and with how many ring positions); :func:`ring_work` makes
its working state for a chunk, new or carried over from the previous chunk
with room for the keys, scopes and windows this chunk may add.
"""

from __future__ import annotations

import numpy as np

from mdwindow.core.jit import nrt_free
from mdwindow.core.ring_layout import (
    C_DROPPED,
    C_EMITTED,
    C_GLOBAL_MAX,
    C_LATE,
    C_OPEN,
    C_REJECTED,
    C_UNUSED,
    C_WINDOWS,
    N_COUNTERS,
    S_FIRST_ROW,
    S_KEY,
    S_POS,
    S_START,
    S_WINDOW,
    SLOT_FIELDS,
    RingWork,
)
from mdwindow.core.ring_slots import ring_position
from mdwindow.core.rules import VALID, in_window, window_start

#: Most ring positions per key: beyond, the heap pass is cheaper in memory.
MAX_RING = 64
#: Most (key, ring position) pairs: the key rings take 8 bytes each.
MAX_RING_ENTRIES = 1 << 23


def ring_size(size: int, lag: int, lateness: int, idle: int | None) -> int | None:
    """Ring positions for windows of ``size`` under this watermark, or None (heap pass).

    A scope's open windows start in ``(M - lag - lateness - size, M]``, on at
    most ``ceil((lag + lateness) / size) + 1`` grid starts; one more position
    keeps the bound strict. An idle timeout lets the global maximum close
    windows of every scope, which the rings do not follow.
    """
    if idle is not None:
        return None
    positions = -(-(lag + lateness) // size) + 2
    if positions > MAX_RING:
        return None
    return 1 << (positions - 1).bit_length()


def _grown_rows(values: np.ndarray, rows: int, fill=None) -> np.ndarray:
    """``values`` with its first axis grown to ``rows`` (new rows set to ``fill`` if given)."""
    bigger = np.empty((rows,) + values.shape[1:], values.dtype)
    bigger[: len(values)] = values
    if fill is not None:
        bigger[len(values) :] = fill
    return bigger


def _grown_columns(values: np.ndarray, columns: int, fill) -> np.ndarray:
    bigger = np.empty(values.shape[:-1] + (columns,), values.dtype)
    bigger[..., : values.shape[-1]] = values
    bigger[..., values.shape[-1] :] = fill
    return bigger


def ring_work(
    work: RingWork | None,
    scope_max: np.ndarray,
    global_max: int,
    n_keys: int,
    ring: int,
    per_key: bool,
    windows: int,
    price_dtype,
    size_dtype,
) -> RingWork:
    """The ring pass's working state for a chunk: ``work`` of the previous chunk
    (None: new), grown for ``n_keys`` keys, ``len(scope_max)`` scopes and up to
    ``windows`` more windows. Its counters for the chunk's outputs start at zero.
    """
    n_scopes = len(scope_max)
    if work is None:
        counters = np.zeros(N_COUNTERS, np.int64)
        work = RingWork(
            counters=counters,
            scope_max=scope_max,
            scope_open=np.zeros(n_scopes, np.int64),
            scope_low=np.zeros((2, n_scopes), np.int64),
            scope_unfired=np.zeros(n_scopes, np.int64),
            scope_fire=np.zeros((2, n_scopes), np.int64),
            buckets=np.full(0 if per_key else n_scopes * ring, -1, np.int64),
            key_ring=np.full(n_keys * ring, -1, np.int64),
            last_slot=np.full(n_keys, -1, np.int64),
            slots=np.empty((0, SLOT_FIELDS), np.int64),
            slot_prices=np.empty((0, 4), price_dtype),
            slot_volume=np.empty(0, size_dtype),
            slot_vwap=np.empty((0, 2), np.float64),
            free=np.empty(0, np.int64),
            scratch=np.empty(0, np.int64),
            rank_slot=np.empty(0, np.int64),
            rank_bits=np.zeros(0, np.uint64),
        )
    else:
        counters = work.counters
        for field in (C_EMITTED, C_DROPPED, C_REJECTED, C_LATE):
            counters[field] = 0
        counters[C_WINDOWS] = counters[C_OPEN]
        known_scopes = work.scope_open.shape[0]
        work = work._replace(scope_max=scope_max)
        if n_scopes > known_scopes:
            work = work._replace(
                scope_open=_grown_rows(work.scope_open, n_scopes, 0),
                scope_low=_grown_columns(work.scope_low, n_scopes, 0),
                scope_unfired=_grown_rows(work.scope_unfired, n_scopes, 0),
                scope_fire=_grown_columns(work.scope_fire, n_scopes, 0),
                buckets=work.buckets
                if per_key
                else _grown_rows(work.buckets, n_scopes * ring, -1),
            )
        if n_keys > len(work.last_slot):
            work = work._replace(
                key_ring=_grown_rows(work.key_ring, n_keys * ring, -1),
                last_slot=_grown_rows(work.last_slot, n_keys, -1),
            )
    counters[C_GLOBAL_MAX] = global_max
    # Open windows never outnumber the ring positions, nor the windows open
    # before plus one per row.
    needed = min(n_keys * ring, int(counters[C_OPEN]) + windows)
    if needed > len(work.slots):
        capacity = max(needed, 2 * len(work.slots), 16)
        work = work._replace(
            slots=_grown_rows(work.slots, capacity),
            slot_prices=_grown_rows(work.slot_prices, capacity),
            slot_volume=_grown_rows(work.slot_volume, capacity),
            slot_vwap=_grown_rows(work.slot_vwap, capacity),
            free=_grown_rows(work.free, capacity),
        )
    if len(work.scratch) < n_keys and not per_key:
        room = max(n_keys, 2 * len(work.scratch))
        work = work._replace(
            scratch=np.empty(room, np.int64),
            rank_slot=np.empty(room, np.int64),
            rank_bits=np.zeros((room + 63) // 64, np.uint64),
        )
    return work


@nrt_free
def open_rows_of(
    work, ring, size, offset, grid, base, open_key, open_start, old_key, old_start, old_ids,
    key, key_map, t, bad_time, new_rows, new_ids, low,
):  # pragma: no cover - compiled  # fmt: skip
    """Number the open windows ``0 .. open-1`` and find the rows they hold.

    ``open_key`` and ``open_start`` get each open window's key code and
    start, by new id. ``old_ids`` gets the new id of each kept row's window
    (-1 once it closed); ``new_rows`` the chunk rows that open windows hold
    and ``new_ids`` their windows' new ids. A valid row of an open window's
    key and start is in that window: a window closes once and for all, and
    while it is open none of its rows is dropped. Only chunk rows from the
    first row of the oldest window opened in this chunk are looked at, and
    of those only rows not older than their key's oldest open window, whose
    start ``low`` (one entry per key code, all the int64 maximum) receives.
    Returns ``(open windows, rows in new_rows)``.
    """
    slots = work.slots
    mask = ring - 1
    n_open = 0
    first = base + t.shape[0]
    for g in range(work.counters[C_UNUSED]):
        k = slots[g, S_KEY]
        if work.key_ring[k * ring + slots[g, S_POS]] != g:
            continue  # a free slot
        slots[g, S_WINDOW] = n_open
        open_key[n_open] = k
        open_start[n_open] = slots[g, S_START]
        n_open += 1
        if slots[g, S_START] < low[k]:
            low[k] = slots[g, S_START]
        arrival = slots[g, S_FIRST_ROW]
        if arrival < first:
            first = arrival
    for j in range(old_key.shape[0]):
        k = old_key[j]
        st = old_start[j]
        g = work.key_ring[k * ring + ring_position(st, size, offset, grid, mask)]
        old_ids[j] = slots[g, S_WINDOW] if g >= 0 and slots[g, S_START] == st else -1
    mapped = key_map.shape[0] > 0
    has_bad = bad_time.shape[0] > 0
    count = 0
    for i in range(max(first - base, 0), t.shape[0]):
        k = key[i]
        if mapped and k >= 0:
            k = key_map[k]
        if k < 0 or (has_bad and bad_time[i] != 0):
            continue
        ti = t[i]
        if ti < low[k]:
            continue  # older than every open window of its key
        g = work.last_slot[k]
        if g < 0 or not in_window(ti, slots[g, S_START], size):
            st, reason = window_start(ti, False, False, size, offset)
            if reason != VALID:
                continue
            g = work.key_ring[k * ring + ring_position(st, size, offset, grid, mask)]
            if g < 0 or slots[g, S_START] != st:
                continue
        new_rows[count] = i
        new_ids[count] = slots[g, S_WINDOW]
        count += 1
    return n_open, count
