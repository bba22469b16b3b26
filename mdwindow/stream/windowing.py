"""``tumbling_window_event_time``: the incremental engine over a live async stream.

Items are taken in micro-batches (everything already queued, topped up for
as long as more keeps arriving without a wait). Their event times and keys
go to one :class:`~mdwindow.incremental.Windower` (``emit="final"``) as a
small frame; the items themselves wait in :class:`HeldItems`, filled from
the trace of each push, and leave it as ``WindowFrame.items`` when the engine
emits their window. So the windows, their contents and their order are the
batch result's by construction (SPEC section 9).
"""

from __future__ import annotations

import asyncio
import numbers
from collections import deque
from collections.abc import AsyncIterable, Callable, Iterable, Iterator
from itertools import repeat
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd

from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy
from mdwindow.core.times import to_nanos, utc_array
from mdwindow.incremental import Windower
from mdwindow.stream.channel import (
    Channel,
    ChannelReader,
)
from mdwindow.stream.clock import Clock, MonotonicClock
from mdwindow.stream.held import HeldItems, as_object_array
from mdwindow.stream.keys import KeyTable
from mdwindow.stream.partition import KeyTags, PartitioningSpec
from mdwindow.stream.records import LateItem, RejectedItem, WindowFrame
from mdwindow.stream.sources import as_async_iterable, call_maybe_async, pump
from mdwindow.stream.times import (
    INT64_MAX,
    NEG_INF,
    TIME_UNITS,
    event_nanos,
    nanos_of,
)

T = TypeVar("T")

__all__ = ["WindowStream", "tumbling_window_event_time"]

# How many times a micro-batch looks again, one event-loop turn apart, before
# it is pushed: enough for the tasks feeding it to run once more.
TOP_UP_TURNS = 4
# Distinct window bounds kept as boxed Timestamps (boxing one costs microseconds).
STAMP_CACHE = 1 << 16
# Shared by every stream of the process: partitions see the same window bounds.
_STAMPS: dict[int, pd.Timestamp] = {}


class WindowStream(Generic[T]):
    """Async iterator of :class:`WindowFrame`, made by :func:`tumbling_window_event_time`.

    Iterate it with ``async for``. After the source ends, :attr:`pending`
    holds the windows still open (SPEC section 6) and :attr:`stats` the counts.
    Use ``async with`` (or :meth:`aclose`) when you may stop reading early, so
    the task pulling from the source is stopped.
    """

    def __init__(
        self,
        source: Any,
        spec: TumblingWindowSpec,
        policy: WatermarkPolicy,
        *,
        get_event_time: Callable[[T], Any],
        get_key: Callable[[T], Any] | None,
        idle_flush_ns: int | None,
        on_late: Callable[[LateItem[T]], Any] | None,
        on_rejected: Callable[[RejectedItem[T]], Any] | None,
        time_unit: str,
        max_batch: int,
        capacity: int,
        clock: Clock,
        partitioning: PartitioningSpec | None,
    ) -> None:
        extra: dict[str, Any] = {}
        if partitioning is not None:
            extra = dict(
                partitions=partitioning.partitions, hash=partitioning.hash, seed=partitioning.seed
            )
        self._windower = Windower(
            spec, policy, time="ts", key=None if get_key is None else "key", **extra
        )
        self._spec = spec
        self._policy = policy
        self._source = source
        self._get_event_time = get_event_time
        self._get_key = get_key
        self._idle_ns = idle_flush_ns
        self._on_late = on_late
        self._on_rejected = on_rejected
        self._factor = TIME_UNITS[time_unit]
        self._max_batch = max_batch
        self._capacity = capacity
        self._clock = clock
        self._reader: Channel[T] | ChannelReader[T] | None = None
        self._pump: asyncio.Task[None] | None = None
        # Windows emitted and not yet handed out, made one by one as they are read.
        self._ready: deque[Iterator[WindowFrame[T]]] = deque()
        self._held: HeldItems[T] = HeldItems(spec.size_ns)
        self._keys = KeyTable()
        # With a source routed by hash_partition with the same get_key: the
        # partition count that decodes the routing tags into key codes.
        self._tag_partitions = 0
        self._finished = False
        self._counts = dict.fromkeys(("items", "on_time", "late", "dropped", "rejected"), 0)
        self._emitted = 0
        self._batches = 0
        self._pending: list[WindowFrame[T]] = []
        # For idle flush: the largest valid event time, globally and per key.
        self._max_time = NEG_INF
        self._key_max: dict[int, int] = {}
        self._ghost_code = 0
        self._last_activity = 0.0
        self._status_codes: tuple[int, ...] | None = None
        # Taken in but not pushed yet: items, event times, keys, how many items.
        self._waiting = 0
        self._waiting_nanos: list[np.ndarray] = []
        self._waiting_out_of_range: list[np.ndarray] = []
        self._waiting_codes: list[np.ndarray] = []

    # -- what it has done -----------------------------------------------------

    @property
    def pending(self) -> list[WindowFrame[T]]:
        """Windows still open when the source ended (empty until then)."""
        return list(self._pending)

    @property
    def stats(self) -> dict[str, int]:
        """Counts so far: items, on_time, late, dropped, rejected, windows, pending, batches."""
        return {
            **self._counts,
            "windows": self._emitted,
            "pending": len(self._pending),
            "batches": self._batches,
        }

    @property
    def watermark(self) -> pd.Timestamp | pd.Series:
        """The current watermark, as :attr:`mdwindow.incremental.Windower.watermark`."""
        return self._windower.watermark

    # -- iteration ------------------------------------------------------------

    def __aiter__(self) -> WindowStream[T]:
        return self

    async def __anext__(self) -> WindowFrame[T]:
        ready = self._ready
        while True:
            while ready:
                frame = next(ready[0], None)
                if frame is not None:
                    return frame
                ready.popleft()
            if self._finished:
                raise StopAsyncIteration
            try:
                await self._step()
            except BaseException:
                await self.aclose()
                raise

    async def aclose(self) -> None:
        """Stop: no more windows; the task pulling from the source is cancelled."""
        self._finished = True
        self._ready.clear()
        task = self._pump
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])

    async def __aenter__(self) -> WindowStream[T]:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    # -- one step: a micro-batch, an idle advance or the end --------------------

    async def _step(self) -> None:
        if self._reader is None:
            self._start()
        more = await self._gather()
        if self._waiting:
            await self._push()
        if more is None:
            await self._finish()

    def _start(self) -> None:
        source = self._source
        if isinstance(source, Channel | ChannelReader):
            self._reader = source
            tags = source.tag_source
            if isinstance(tags, KeyTags) and tags.get_key is self._get_key:
                # Routed by hash_partition with this very get_key: its key codes come along.
                self._keys = tags.keys
                self._tag_partitions = tags.partitions
        else:
            channel: Channel[T] = Channel(self._capacity)
            self._reader = channel
            self._pump = asyncio.get_running_loop().create_task(
                pump(as_async_iterable(source), channel),
                name="mdwindow.stream.tumbling_window_event_time",
            )
        self._last_activity = self._clock.now()

    async def _gather(self) -> bool | None:
        """Take in the next micro-batch; None once the source has ended.

        Returns False when nothing came (after an idle advance or a wait).
        """
        reader = self._reader
        assert reader is not None
        tagged = self._tag_partitions > 0
        if self._idle_ns is None:
            if tagged:
                chunk, tags = await reader._get_tagged_batch(self._max_batch)  # type: ignore[union-attr]
            else:
                chunk, tags = await reader.get_batch(self._max_batch), None
            if not chunk:
                return None
        else:
            chunk, tags = self._take(reader, self._max_batch, tagged)
            if not chunk:
                if reader.drained:
                    return None
                quiet_for = self._idle_ns / 1e9 - (self._clock.now() - self._last_activity)
                if quiet_for <= 0:
                    await self._idle_advance()
                else:
                    await self._wait_for_items(quiet_for)
                return False
        self._ingest(chunk, tags)
        # Top up while more keeps coming without a wait: one engine call costs
        # about the same for ten items as for ten thousand. Each chunk is read
        # as it comes, while its items are still in the CPU cache.
        empty_turns = 0
        while self._waiting < self._max_batch and empty_turns < TOP_UP_TURNS:
            await asyncio.sleep(0)
            if reader.drained:
                break
            chunk, tags = self._take(reader, self._max_batch - self._waiting, tagged)
            if chunk:
                self._ingest(chunk, tags)
                empty_turns = 0
            else:
                empty_turns += 1
        self._last_activity = self._clock.now()
        return True

    @staticmethod
    def _take(reader: Any, max_items: int, tagged: bool) -> tuple[list[T], list[Any] | None]:
        if tagged:
            return reader._take_tagged(max_items)
        return reader.take_nowait(max_items), None

    def _ingest(self, chunk: list[T], tags: list[Any] | None = None) -> None:
        """Read the event time and key of each item and stage it by window."""
        nanos, out_of_range = event_nanos(list(map(self._get_event_time, chunk)), self._factor)
        codes = None
        if tags is not None:
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

    async def _wait_for_items(self, timeout: float) -> None:
        assert self._reader is not None
        readable = asyncio.ensure_future(self._reader.wait_readable())
        sleeper = asyncio.ensure_future(self._clock.sleep(timeout))
        try:
            await asyncio.wait((readable, sleeper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            readable.cancel()
            sleeper.cancel()
            await asyncio.wait((readable, sleeper))

    async def _idle_advance(self) -> None:
        """Move the watermark on by the quiet time (``idle_flush``), with ghost rows.

        Ghost rows carry a time ``max + quiet`` (per key with scope "key"). They
        are pushed but never held, so they move the watermark and close windows
        without appearing in any window's items; a window holding only ghosts
        is not emitted.
        """
        now = self._clock.now()
        quiet_ns = int((now - self._last_activity) * 1e9)
        self._last_activity = now
        if quiet_ns <= 0 or self._max_time == NEG_INF:
            return
        if self._policy.scope == "key":
            codes = list(self._key_max)
            times = [min(t + quiet_ns, INT64_MAX - 1) for t in self._key_max.values()]
        else:
            codes = [self._ghost_code]
            times = [min(self._max_time + quiet_ns, INT64_MAX - 1)]
        self._waiting_nanos.append(np.asarray(times, np.int64))
        self._waiting_codes.append(np.asarray(codes, np.int64))
        await self._push()

    async def _finish(self) -> None:
        result = self._windower.flush()
        self._ready.append(self._frames(result.windows, "partial"))
        self._pending = list(self._frames(result.pending, "pending"))
        self._held.clear()
        self._finished = True
        if self._pump is not None:
            await asyncio.wait([self._pump])

    # -- one push through the engine --------------------------------------------

    async def _push(self) -> None:
        """Push what was taken in since the last push (items, or idle-flush ghost rows)."""
        n = self._waiting
        first = self._held.end - n
        nanos = np.concatenate(self._waiting_nanos)
        out_of_range = np.concatenate(self._waiting_out_of_range) if n else np.zeros(0, bool)
        codes = np.concatenate(self._waiting_codes)
        self._waiting = 0
        self._waiting_nanos, self._waiting_out_of_range, self._waiting_codes = [], [], []

        columns: dict[str, Any] = {"ts": utc_array(nanos)}
        if self._get_key is not None:
            # The first-seen object of each key: equal keys, far fewer objects to read.
            columns["key"] = self._keys.column(codes)
        result = self._windower.push(pd.DataFrame(columns))
        self._batches += 1

        trace = result.trace
        status = np.asarray(trace["status"].array.codes)
        on_time, late, dropped, rejected = self._codes(trace["status"])
        real = status[:n]
        accepted = (real == on_time) | (real == late)
        n_dropped = int(np.count_nonzero(status == dropped))
        n_rejected = int(np.count_nonzero(status == rejected))
        self._counts["items"] += n
        self._counts["on_time"] += int(np.count_nonzero(real == on_time))
        self._counts["late"] += int(np.count_nonzero(real == late))
        self._counts["dropped"] += n_dropped
        self._counts["rejected"] += n_rejected
        if self._idle_ns is not None:
            self._remember_maxima(nanos, codes, status != rejected)
        # The late and rejected frames are built on first read: only when there are some.
        if n_dropped and self._on_late is not None:
            await self._report_late(result.late, first, codes)
        if n_rejected and self._on_rejected is not None:
            await self._report_rejected(result.rejected, first, out_of_range)
        self._held.hold(first, accepted, codes[:n], nanos_of(trace["window_start"])[:n])
        self._ready.append(self._frames(result.windows, "final"))

    def _codes(self, status: pd.Series) -> tuple[int, ...]:
        """Category codes of on_time, late, dropped and rejected in the trace."""
        if self._status_codes is None:
            position = {name: code for code, name in enumerate(status.cat.categories)}
            self._status_codes = tuple(
                position[name] for name in ("on_time", "late", "dropped", "rejected")
            )
        return self._status_codes

    def _remember_maxima(self, nanos: np.ndarray, codes: np.ndarray, valid: np.ndarray) -> None:
        positions = np.flatnonzero(valid)
        if not len(positions):
            return
        self._max_time = max(self._max_time, int(nanos[positions].max()))
        self._ghost_code = int(codes[positions[-1]])
        if self._policy.scope == "key":
            key_max = self._key_max
            valid_codes, valid_times = codes[positions].tolist(), nanos[positions].tolist()
            for code, time in zip(valid_codes, valid_times, strict=True):
                if time > key_max.get(code, NEG_INF):
                    key_max[code] = time

    async def _report_late(self, late: pd.DataFrame, first: int, codes: np.ndarray) -> None:
        if self._on_late is None:
            return
        rows = zip(
            late.index.tolist(),
            late["window_start"].tolist(),
            late["window_end"].tolist(),
            late["watermark"].tolist(),
            late["late_by"].tolist(),
            strict=True,
        )
        for position, start, end, watermark, late_by in rows:
            key = self._keys.key(int(codes[position])) if self._get_key is not None else None
            report = LateItem(
                self._held.item(first + position), key, start, end, watermark, late_by
            )
            await call_maybe_async(self._on_late, report)

    async def _report_rejected(
        self, rejected: pd.DataFrame, first: int, out_of_range: np.ndarray
    ) -> None:
        if self._on_rejected is None:
            return
        for position, reason in zip(
            rejected.index.tolist(), rejected["reason"].astype(str).tolist(), strict=True
        ):
            if out_of_range[position]:
                # The engine saw NaT; the item's time was there but beyond int64 nanoseconds.
                reason = "time_out_of_range"
            await call_maybe_async(
                self._on_rejected, RejectedItem(self._held.item(first + position), reason)
            )

    def _frames(self, windows: pd.DataFrame, timing: str) -> Iterator[WindowFrame[T]]:
        """WindowFrames of emitted (or pending) windows, in the frame's order, made lazily.

        Each window's list of items is made only when the window is read, so a
        reader that lets windows go at once keeps the lists short-lived (the
        cycle collector then never meets them). C-level maps throughout: with
        sparse windows there are nearly as many windows as items.
        """
        n = len(windows)
        if not n:
            return iter(())
        start_nanos = nanos_of(windows["window_start"])
        if self._get_key is None:
            codes = np.zeros(n, np.int64)
            window_keys: list[Any] = [None] * n
        else:
            factorized, uniques = pd.factorize(windows["key"])
            codes = self._keys.codes_of_distinct(uniques)[factorized]
            window_keys = self._keys.object_list(codes)
        items, counts = self._held.take_out(codes, start_nanos)
        ends = np.cumsum(counts)
        firsts = ends - counts
        size = self._spec.size_ns
        stamps = _STAMPS
        distinct = np.unique(start_nanos).tolist()
        if len(stamps) + 2 * len(distinct) > STAMP_CACHE:
            stamps.clear()
        for nanos in distinct:
            if nanos not in stamps:
                stamps[nanos] = pd.Timestamp(nanos, tz="UTC")
            if nanos + size not in stamps:
                stamps[nanos + size] = pd.Timestamp(nanos + size, tz="UTC")
        if not counts.all():
            # A window holding only idle-flush ghost rows has no items: not a window.
            real = np.flatnonzero(counts)
            window_keys = [window_keys[window] for window in real.tolist()]
            start_nanos, firsts, ends = start_nanos[real], firsts[real], ends[real]
            n = len(real)
        if timing != "pending":
            self._emitted += n
        starts = list(map(stamps.__getitem__, start_nanos.tolist()))
        ends_at = list(map(stamps.__getitem__, (start_nanos + size).tolist()))
        lists = map(items.__getitem__, map(slice, firsts.tolist(), ends.tolist()))
        fields = zip(window_keys, starts, ends_at, lists, repeat(timing, n), strict=True)
        # tuple.__new__ straight from C: the named tuple's own __new__ is Python code.
        return map(tuple.__new__, repeat(WindowFrame, n), fields)

    def __repr__(self) -> str:
        state = "finished" if self._finished else "running"
        return f"WindowStream(size={self._spec.size}, {state}, stats={self.stats})"


def tumbling_window_event_time(
    source: AsyncIterable[T] | Iterable[T] | Channel[T] | ChannelReader[T],
    spec: TumblingWindowSpec | Any,
    *,
    get_event_time: Callable[[T], Any],
    watermark_policy: WatermarkPolicy | None = None,
    get_key: Callable[[T], Any] | None = None,
    idle_flush: Any = None,
    on_late: Callable[[LateItem[T]], Any] | None = None,
    on_rejected: Callable[[RejectedItem[T]], Any] | None = None,
    time_unit: str = "ns",
    max_batch: int = 16_384,
    capacity: int = 8_192,
    clock: Clock | None = None,
    partitioning: PartitioningSpec | None = None,
) -> WindowStream[T]:
    """Event-time tumbling windows over a live async stream of items.

    The semantics are batch ``tumbling_windows(..., emit="final")`` on the same
    sequence (SPEC sections 4 to 6): each window is yielded once, right after
    the item whose arrival makes the watermark pass ``end + allowed_lateness``,
    holding every accepted item; windows closed by the same item come in order
    of start, then key. Items are processed in micro-batches through one
    incremental engine, which gives the same result for any split.

    When the source ends, windows still open are *pending* (SPEC section 6):
    they are not yielded but left in ``stream.pending`` (``timing="pending"``),
    exactly the batch ``pending`` frame; with ``emit_partial=True`` in the spec
    they are yielded last with ``timing="partial"``. Dropped items go to
    ``on_late`` and invalid ones to ``on_rejected``; all are counted in
    ``stream.stats``, so no item is lost silently.

    Parameters
    ----------
    source : async iterable, iterable, Channel or ChannelReader
        The items (dicts, tuples, objects), in arrival order. A channel (such as
        ``parts.stream_partition(i)`` of :func:`hash_partition`) is read
        directly; anything else is pulled by a task into a channel of
        ``capacity`` items.
    spec : TumblingWindowSpec or duration
        Window size and offset; ``emit_partial=True`` yields the windows still
        open at the end with ``timing="partial"``.
    get_event_time : callable
        ``item -> event time``: a ``datetime`` (naive means UTC), ``pd.Timestamp``,
        ``np.datetime64``, or an integer count of ``time_unit`` (nanoseconds by
        default). None, NaT or NaN mean missing: the item is rejected.
    watermark_policy : WatermarkPolicy, optional
        Lag, allowed lateness and scope ("global" by default). Scope "key"
        needs ``get_key``; scope "partition" needs ``partitioning``.
    get_key : callable, optional
        ``item -> key``; None windows all items as one stream. A missing key
        (None, NaN) rejects the item.
    idle_flush : duration, optional
        Wall-clock time without any item after which the watermark moves on by
        the time elapsed since the last item (then again after each further
        ``idle_flush``), so windows close on a quiet feed. Off by default,
        which keeps the result deterministic; with it, an item arriving after a
        quiet spell may be dropped as late. Scope "partition" is not supported:
        give each partition its own stream instead.
    on_late : callable, optional
        Receives a :class:`LateItem` for each dropped item; may be async (pass a
        ``Channel.put`` to read the late items as a second stream).
    on_rejected : callable, optional
        Receives a :class:`RejectedItem` for each invalid item; may be async.
    time_unit : {"s", "ms", "us", "ns"}, default "ns"
        What integer event times count.
    max_batch : int, default 16384
        Most items per engine call. Each call has a fixed cost (milliseconds),
        so a fast feed is pushed in batches this large; a slow one item by item.
    capacity : int, default 8192
        Buffer between the source and the engine (not used for a channel source).
    clock : Clock, optional
        Wall clock for ``idle_flush`` (:class:`MonotonicClock`); tests pass a
        :class:`ManualClock`.
    partitioning : PartitioningSpec, optional
        Partitions, hash and seed, for scope "partition" over a whole stream.

    Returns
    -------
    WindowStream
        An async iterator of :class:`WindowFrame`; ``pending`` and ``stats``
        are filled in as it runs.

    Examples
    --------
    Kafka Streams' final results for a 2-second window with 1 second of grace:

    >>> import asyncio
    >>> async def ticks():
    ...     for second in [0, 1, 2, 1, 0, 5, 0]:
    ...         yield {"t": second * 1_000_000_000, "symbol": "A"}
    >>> async def demo():
    ...     late = []
    ...     stream = tumbling_window_event_time(
    ...         ticks(), "2s", get_event_time=lambda tick: tick["t"],
    ...         get_key=lambda tick: tick["symbol"], on_late=late.append,
    ...         watermark_policy=WatermarkPolicy(allowed_lateness="1s"))
    ...     windows = [(w.start.second, len(w.items)) async for w in stream]
    ...     return windows, [(w.start.second, len(w.items)) for w in stream.pending], len(late)
    >>> asyncio.run(demo())
    ([(0, 4), (2, 1)], [(4, 1)], 1)
    """
    spec = TumblingWindowSpec.coerce(spec)
    if watermark_policy is None:
        watermark_policy = WatermarkPolicy()
    elif not isinstance(watermark_policy, WatermarkPolicy):
        raise TypeError(
            f"watermark_policy: got {type(watermark_policy).__name__}; "
            "give a WatermarkPolicy or leave it None"
        )
    if not callable(get_event_time):
        raise TypeError(f"get_event_time: got {get_event_time!r}; give a callable item -> time")
    if get_key is not None and not callable(get_key):
        raise TypeError(f"get_key: got {get_key!r}; give a callable item -> key, or None")
    scope = watermark_policy.scope
    if scope != "global" and get_key is None:
        raise ValueError(
            f"watermark_policy: scope={scope!r} needs get_key=<callable>; "
            "pass get_key or use scope='global'"
        )
    if scope == "partition" and partitioning is None:
        raise ValueError(
            "partitioning: scope='partition' needs partitioning=PartitioningSpec(...); or run "
            "one stream per partition of hash_partition with scope='global'"
        )
    if partitioning is not None and not isinstance(partitioning, PartitioningSpec):
        raise TypeError(
            f"partitioning: got {type(partitioning).__name__}; give a PartitioningSpec or None"
        )
    idle_ns = to_nanos(idle_flush, "idle_flush", allow_none=True)
    if idle_ns is not None:
        if idle_ns <= 0:
            raise ValueError(f"idle_flush: got {pd.Timedelta(idle_ns)}; it must be > 0 (or None)")
        if scope == "partition":
            raise ValueError(
                "idle_flush: not supported with scope='partition'; run one stream per "
                "partition of hash_partition (scope='global' in each) instead"
            )
    if time_unit not in TIME_UNITS:
        raise ValueError(
            f"time_unit: got {time_unit!r}; choose one of {', '.join(map(repr, TIME_UNITS))}"
        )
    for name, value in (("max_batch", max_batch), ("capacity", capacity)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name}: got {value!r}; give a whole number >= 1")
    return WindowStream(
        source,
        spec,
        watermark_policy,
        get_event_time=get_event_time,
        get_key=get_key,
        idle_flush_ns=idle_ns,
        on_late=on_late,
        on_rejected=on_rejected,
        time_unit=time_unit,
        max_batch=int(max_batch),
        capacity=int(capacity),
        clock=clock if clock is not None else MonotonicClock(),
        partitioning=partitioning,
    )
