"""``ItemWindower``: the windowing engine over items instead of rows of a frame.

Items are taken in as they come: their event times and keys are read at once
(while the items are still in the CPU cache), and the items themselves wait
in :class:`~mdwindow.stream.held.HeldItems`. A push hands the event times and
keys to the engine (:func:`mdwindow.core.engine.process_chunk`,
``emit="final"``) as a small frame; the engine judges every row and closes
windows, and the trace of the push says which items to hold, in which
window. Emitted windows leave ``HeldItems`` as ``WindowFrame.items``. So the
windows, their contents and their order are the batch result's by
construction (SPEC section 9): the stream decides nothing about rows itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np
import pandas as pd

from mdwindow.core.engine import finish, process_chunk, scope_watermarks
from mdwindow.core.options import WindowOptions
from mdwindow.core.rules import (
    DROPPED,
    LATE,
    NEG_INF,
    ON_TIME,
    OUT_OF_RANGE,
    REASON_NAMES,
    REJECTED,
    STATUS_NAMES,
    sat_add,
    sat_add_array,
)
from mdwindow.core.state import State, resolve
from mdwindow.core.times import to_utc, utc_array
from mdwindow.stream.frames import window_frames
from mdwindow.stream.held import HeldItems, as_object_array
from mdwindow.stream.keys import KeyTable
from mdwindow.stream.options import KEY_COLUMN, TIME_COLUMN, in_stream_terms
from mdwindow.stream.partition import KeyTags
from mdwindow.stream.records import LateItem, RejectedItem, WindowFrame
from mdwindow.stream.times import event_nanos, nanos_of

T = TypeVar("T")

__all__ = ["ItemWindower", "Pushed"]

_COUNTS = ("items", *STATUS_NAMES)


class Pushed(NamedTuple, Generic[T]):
    """What one push gave: emitted windows (made lazily), dropped and invalid items."""

    windows: Iterator[WindowFrame[T]]
    late: list[LateItem[T]]
    rejected: list[RejectedItem[T]]


class ItemWindower(Generic[T]):
    """Event-time windows of items, through the engine in pushes of any size.

    Parameters
    ----------
    cfg : WindowOptions
        The window options (``emit="final"``; the engine's columns are
        :data:`~mdwindow.stream.options.TIME_COLUMN` and, with ``get_key``,
        :data:`~mdwindow.stream.options.KEY_COLUMN`).
    get_event_time, get_key : callable
        ``item -> event time`` and ``item -> key`` (None: no key).
    time_unit : str
        What integer event times count.
    report_late, report_rejected : bool
        Whether pushes describe dropped and invalid items (else only count them).

    Examples
    --------
    >>> from mdwindow.stream.options import stream_window_options
    >>> windower = ItemWindower(
    ...     stream_window_options("2s", None, None, None), get_event_time=int, get_key=None,
    ...     time_unit="s", report_late=True, report_rejected=False)
    >>> windower.take_in([0, 1, 3, 0])
    >>> pushed = windower.push()
    >>> [(w.start.second, w.items) for w in pushed.windows], [x.item for x in pushed.late]
    ([(0, [0, 1])], [0])
    >>> windower.counts["on_time"], windower.counts["dropped"]
    (3, 1)
    """

    def __init__(
        self,
        cfg: WindowOptions,
        *,
        get_event_time: Callable[[T], Any],
        get_key: Callable[[T], Any] | None,
        time_unit: str,
        report_late: bool,
        report_rejected: bool,
    ) -> None:
        self._cfg = cfg
        self._state = State()
        self._get_event_time = get_event_time
        self._get_key = get_key
        self._time_unit = time_unit
        self._report_late = report_late
        self._report_rejected = report_rejected
        self._held: HeldItems[T] = HeldItems(cfg.spec.size_ns)
        self._keys = KeyTable()
        # With items routed by hash_partition with the same get_key: the
        # partition count that decodes their routing tags into key codes.
        self._tag_partitions = 0
        #: Items taken in, and their status counts (SPEC section 5).
        self.counts = dict.fromkeys(_COUNTS, 0)
        #: Windows emitted so far (final, or partial at the end).
        self.emitted = 0
        # Taken in but not pushed yet: event times, out-of-range flags, key
        # codes; how many items (idle-flush ghost rows come after them).
        self._waiting = 0
        self._waiting_nanos: list[np.ndarray] = []
        self._waiting_out_of_range: list[np.ndarray] = []
        self._waiting_codes: list[np.ndarray] = []
        # The trace's status dtype, and its codes as the rules' codes (None: the same).
        self._status_dtype: Any = None
        self._rule_of_code: np.ndarray | None = None

    @property
    def waiting(self) -> int:
        """Items taken in and not pushed yet."""
        return self._waiting

    def read_tags_of(self, tags: Any) -> bool:
        """Use the key codes that ``hash_partition`` tagged the items with, if it can.

        It can when the router used this very ``get_key``: its key table then
        is this windower's, and no item's key is read again.
        """
        if not isinstance(tags, KeyTags) or tags.get_key is not self._get_key:
            return False
        self._keys = tags.keys
        self._tag_partitions = tags.partitions
        return True

    # -- taking items in --------------------------------------------------------

    def take_in(self, chunk: list[T], tags: list[Any] | None = None) -> None:
        """Read the event time and key of each item and hold the items until their push."""
        nanos, out_of_range = event_nanos(list(map(self._get_event_time, chunk)), self._time_unit)
        codes = None
        if tags is not None and self._tag_partitions:
            try:
                codes = np.array(tags, dtype=np.int64) // self._tag_partitions
            except TypeError:
                pass  # an item put on the channel by hand has no tag: read its key
        if codes is None:
            if self._get_key is not None:
                codes = self._keys.codes(list(map(self._get_key, chunk)))
            else:
                codes = np.zeros(len(chunk), np.int64)
        self._held.take_in(as_object_array(chunk))
        self._waiting_nanos.append(nanos)
        self._waiting_out_of_range.append(out_of_range)
        self._waiting_codes.append(codes)
        self._waiting += len(chunk)

    def take_in_quiet_time(self, quiet_ns: int) -> bool:
        """Stage ghost rows that move the watermark on by ``quiet_ns`` (``idle_flush``).

        A ghost row carries the time ``M + quiet`` (saturating), for the
        largest event time ``M`` of the engine's global scope, or of each key
        with scope "key". Ghosts are pushed but never held, so they move the
        watermark and close windows without appearing in any window's items,
        and are not counted; a window holding only ghosts is not emitted.
        Returns whether any ghost was staged (none before a valid row).
        """
        state = self._state
        if quiet_ns <= 0 or state.global_max == NEG_INF:
            return False
        if self._cfg.scope == "key":
            seen = np.flatnonzero(state.scope_max != NEG_INF)
            times = sat_add_array(state.scope_max[seen], quiet_ns)
            codes = self._codes_of_engine_keys(seen)
        else:
            # One ghost moves the one watermark; any key the engine knows will do.
            times = np.array([sat_add(state.global_max, quiet_ns)], np.int64)
            codes = self._codes_of_engine_keys(np.zeros(1, np.int64))
        self._waiting_nanos.append(times)
        self._waiting_codes.append(codes)
        return True

    def _codes_of_engine_keys(self, engine_codes: np.ndarray) -> np.ndarray:
        if self._get_key is None:
            return np.zeros(len(engine_codes), np.int64)
        assert self._state.keys is not None  # a valid row was pushed
        return self._keys.codes_of_distinct(self._state.keys[engine_codes])

    # -- one push through the engine ------------------------------------------

    def push(self) -> Pushed[T]:
        """Push what was taken in since the last push (items, then any ghost rows)."""
        n = self._waiting
        first = self._held.end - n
        nanos = np.concatenate(self._waiting_nanos)
        codes = np.concatenate(self._waiting_codes)
        out_of_range = np.concatenate(self._waiting_out_of_range) if n else np.zeros(0, bool)
        self._waiting = 0
        self._waiting_nanos, self._waiting_out_of_range, self._waiting_codes = [], [], []

        columns: dict[str, Any] = {TIME_COLUMN: utc_array(nanos)}
        if self._get_key is not None:
            # The first-seen object of each key: equal keys, far fewer objects to read.
            columns[KEY_COLUMN] = self._keys.column(codes)
        try:
            output, self._state = process_chunk(self._cfg, self._state, pd.DataFrame(columns))
        except (TypeError, ValueError) as error:
            # Refused keys, say: named as the engine's key column, which is get_key here.
            raise in_stream_terms(error) from None

        trace = resolve(output.trace)
        status = self._rule_codes(trace["status"])[:n]
        accepted = (status == ON_TIME) | (status == LATE)
        tally = np.bincount(status, minlength=len(STATUS_NAMES))
        counts = self.counts
        counts["items"] += n
        for code, name in enumerate(STATUS_NAMES):
            counts[name] += int(tally[code])
        # The late and rejected frames are built on first read: only when there are some.
        late: list[LateItem[T]] = []
        rejected: list[RejectedItem[T]] = []
        if tally[DROPPED] and self._report_late:
            late = self._late_items(resolve(output.late), first, n, codes)
        if tally[REJECTED] and self._report_rejected:
            rejected = self._rejected_items(resolve(output.rejected), first, n, out_of_range)
        self._held.hold(first, accepted, codes[:n], nanos_of(trace["window_start"])[:n])
        windows, n_windows = window_frames(output.windows, self._key_table(), self._held, "final")
        self.emitted += n_windows
        return Pushed(windows, late, rejected)

    def finish(self) -> tuple[Iterator[WindowFrame[T]], list[WindowFrame[T]]]:
        """End of input: ``(windows emitted at the end, pending windows)`` (SPEC section 6)."""
        at_end, pending = finish(self._cfg, self._state)
        keys = self._key_table()
        # Each window's items leave the held ones at once; its record is made when read.
        windows, n_windows = window_frames(at_end, keys, self._held, "partial")
        self.emitted += n_windows
        still_open = list(window_frames(pending, keys, self._held, "pending")[0])
        self._held.clear()
        return windows, still_open

    def _key_table(self) -> KeyTable | None:
        return self._keys if self._get_key is not None else None

    def _late_items(
        self, late: pd.DataFrame, first: int, n: int, codes: np.ndarray
    ) -> list[LateItem[T]]:
        """The dropped items among the first ``n`` rows of a push (ghost rows are no items)."""
        rows = zip(
            late.index.tolist(),
            late["window_start"].tolist(),
            late["window_end"].tolist(),
            late["watermark"].tolist(),
            late["late_by"].tolist(),
            strict=True,
        )
        keys = self._key_table()
        return [
            LateItem(
                self._held.item(first + position),
                None if keys is None else keys.key(int(codes[position])),
                start,
                end,
                watermark,
                late_by,
            )
            for position, start, end, watermark, late_by in rows
            if position < n
        ]

    def _rejected_items(
        self, rejected: pd.DataFrame, first: int, n: int, out_of_range: np.ndarray
    ) -> list[RejectedItem[T]]:
        """The invalid items among the first ``n`` rows of a push."""
        reasons = rejected["reason"].astype(str).tolist()
        return [
            RejectedItem(
                self._held.item(first + position),
                # The engine saw NaT; the item's time was there but beyond int64 nanoseconds.
                REASON_NAMES[OUT_OF_RANGE] if out_of_range[position] else reason,
            )
            for position, reason in zip(rejected.index.tolist(), reasons, strict=True)
            if position < n
        ]

    def _rule_codes(self, status: pd.Series) -> np.ndarray:
        """The status of each row of a trace as the rules' codes (``ON_TIME`` ... ``REJECTED``)."""
        values = status.array
        codes = np.asarray(values.codes, dtype=np.int64)
        if values.dtype is not self._status_dtype:
            # The trace's categories (one dtype object for every push), read once.
            names = values.categories.tolist()
            self._status_dtype = values.dtype
            self._rule_of_code = (
                None
                if tuple(names) == STATUS_NAMES
                else np.array([STATUS_NAMES.index(name) for name in names], np.int64)
            )
        return codes if self._rule_of_code is None else self._rule_of_code[codes]

    # -- the engine's state -----------------------------------------------------

    @property
    def watermark(self) -> pd.Timestamp | pd.Series:
        """The current watermark, as :attr:`mdwindow.incremental.Windower.watermark`.

        A Timestamp for scope "global" (NaT before the first item); otherwise
        a Series indexed by key or by partition.
        """
        cfg, state = self._cfg, self._state
        stamps = to_utc(scope_watermarks(cfg, state))
        if cfg.scope == "global":
            return stamps[0] if len(stamps) else pd.NaT
        if cfg.scope == "key":
            index = state.keys if state.keys is not None else pd.Index([], dtype=object)
            return pd.Series(stamps, index=pd.Index(index, name=KEY_COLUMN), name="watermark")
        return pd.Series(
            stamps, index=pd.RangeIndex(len(stamps), name="partition"), name="watermark"
        )
