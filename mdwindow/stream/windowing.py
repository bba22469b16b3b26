"""``tumbling_window_event_time``: event-time tumbling windows over a live async stream.

The front door of the stream's windowing: it checks the stream's own
arguments, takes the window options from
:meth:`~mdwindow.core.options.WindowOptions.build` (the one validator table
of every front door) and hands both to a :class:`WindowStream`.
"""

from __future__ import annotations

import numbers
from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any, TypeVar

import pandas as pd

from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy
from mdwindow.core.times import TIME_UNITS, to_nanos
from mdwindow.stream.channel import Channel, ChannelReader
from mdwindow.stream.clock import Clock, MonotonicClock
from mdwindow.stream.options import stream_window_options
from mdwindow.stream.partition import PartitioningSpec
from mdwindow.stream.records import LateItem, RejectedItem
from mdwindow.stream.window_stream import WindowStream

T = TypeVar("T")

__all__ = ["WindowStream", "tumbling_window_event_time"]


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
    if not callable(get_event_time):
        raise TypeError(f"get_event_time: got {get_event_time!r}; give a callable item -> time")
    if get_key is not None and not callable(get_key):
        raise TypeError(f"get_key: got {get_key!r}; give a callable item -> key, or None")
    if partitioning is not None and not isinstance(partitioning, PartitioningSpec):
        raise TypeError(
            f"partitioning: got {type(partitioning).__name__}; give a PartitioningSpec or None"
        )
    cfg = stream_window_options(spec, watermark_policy, get_key, partitioning)
    idle_ns = to_nanos(idle_flush, "idle_flush", allow_none=True)
    if idle_ns is not None:
        if idle_ns <= 0:
            raise ValueError(f"idle_flush: got {pd.Timedelta(idle_ns)}; it must be > 0 (or None)")
        if cfg.scope == "partition":
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
        cfg,
        get_event_time=get_event_time,
        get_key=get_key,
        idle_flush_ns=idle_ns,
        on_late=on_late,
        on_rejected=on_rejected,
        time_unit=time_unit,
        max_batch=int(max_batch),
        capacity=int(capacity),
        clock=clock if clock is not None else MonotonicClock(),
    )
