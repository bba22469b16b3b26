"""The data of the ring pass: its inputs, outputs and working state, and their fields.

See :mod:`~mdwindow.core.ring_pass` for the pass, :mod:`~mdwindow.core.ring_slots`
for what it does to one window, and :mod:`~mdwindow.core.ring_work` for
making and carrying its working state.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from mdwindow.core.jit import nrt_free_inline
from mdwindow.core.pane_columns import PaneColumns

#: Fields of ``slots`` (int64, ``slots[slot, field]``: a slot's fields share a cache line).
(
    S_KEY, S_START, S_POS, S_ROWS, S_LATE, S_WINDOW, S_NEXT, S_SEEN, S_FIRST_T, S_LAST_T,
    S_FIRST_ROW, S_FIRED, S_PANES,
) = range(13)  # fmt: skip
SLOT_FIELDS = 13
#: Fields of ``counters``.
(
    C_WINDOWS, C_EMITTED, C_DROPPED, C_REJECTED, C_LATE, C_FREE, C_UNUSED, C_OPEN,
    C_GLOBAL_MAX,
) = range(9)  # fmt: skip
N_COUNTERS = 9
#: Fields of ``dropped`` (int64, one column per dropped row).
D_ROW, D_LATE_BY, D_START, D_WATERMARK = range(4)


@nrt_free_inline
def note_dropped(dropped, d, row, late_by, start, watermark):  # pragma: no cover - compiled
    """Record dropped row ``row`` as entry ``d`` of a pass's ``dropped`` (4, n) array."""
    dropped[D_ROW, d] = row
    dropped[D_LATE_BY, d] = late_by
    dropped[D_START, d] = start
    dropped[D_WATERMARK, d] = watermark


#: What :func:`ring_rows` returns: done, or a window found no ring position
#: (a ring too small for the data: never, by the bound above; the driver
#: then runs the heap pass instead).
DONE, CLASH = 0, 1


class RingInputs(NamedTuple):
    """Rows of one :func:`ring_rows` pass: open rows kept from earlier chunks, then the chunk."""

    key: np.ndarray  # per chunk row: key code, or a code of ``key_map`` (-1 missing)
    key_map: np.ndarray  # input code -> key code (empty: the codes are key codes)
    t: np.ndarray  # per chunk row: event time
    bad_time: np.ndarray  # per chunk row, nonzero when out of range (empty: none)
    price: np.ndarray  # per chunk row, when the slots fold OHLCV (else empty)
    size: np.ndarray
    old_key: np.ndarray  # kept open rows: key code, start, late, time, price, size
    old_start: np.ndarray
    old_late: np.ndarray
    old_t: np.ndarray
    old_price: np.ndarray
    old_size: np.ndarray
    scope_of_key: np.ndarray  # watermark scope of each key code
    key_rank: np.ndarray  # rank of each key code in the natural order of keys


class RingOutputs(NamedTuple):
    """What :func:`ring_rows` fills in."""

    panes: PaneColumns  # the emitted windows, in emission order
    dropped: np.ndarray  # (4, n) int64: D_* per dropped row
    rejected: np.ndarray  # (n,) int64: chunk row
    reasons: np.ndarray  # (n,) int8
    late_rows: np.ndarray  # (n,) int64: chunk rows accepted late
    # Only when the rows' windows are needed (aggregates the slots do not fold):
    row_window: np.ndarray  # per chunk row: window id, -1 when not in a window
    old_window: np.ndarray  # per kept row: window id
    pane: np.ndarray  # per window id: its pane (emit="final"), -1 while open
    pane_window: np.ndarray  # per pane: its window id (emit="updates")


class RingWork(NamedTuple):
    """Working state of :func:`ring_rows`, carried from chunk to chunk."""

    counters: np.ndarray  # int64, C_*
    scope_max: np.ndarray  # largest event time per scope
    scope_open: np.ndarray  # open windows per scope
    scope_low: np.ndarray  # (2, scopes): lowest start a scope may hold open, its position
    scope_unfired: np.ndarray  # windows per scope waiting for their on-time pane (updates)
    scope_fire: np.ndarray  # (2, scopes): lowest start that may wait, its position
    buckets: np.ndarray  # per (scope, position): first slot of its list (shared scopes)
    key_ring: np.ndarray  # per (key, position): the key's open slot there, -1 none
    last_slot: np.ndarray  # per key: the slot of its latest window, -1 none
    slots: np.ndarray  # (cap, SLOT_FIELDS) int64
    slot_prices: np.ndarray  # (cap, 4): running open, high, low, close
    slot_volume: np.ndarray  # (cap,)
    slot_vwap: np.ndarray  # (cap, 2) float64: running sums of price*size and size
    free: np.ndarray  # stack of freed slots (C_FREE of them)
    scratch: np.ndarray  # room to sort one ring position's windows by key
    rank_slot: np.ndarray  # per key rank: a slot of the position being emitted (scratch)
    rank_bits: np.ndarray  # uint64, a bit per key rank: the ranks it holds (zero between uses)
