"""``hash_partition`` for live streams: one task routes items to per-partition channels."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from mdwindow.core.hashing import partition_ids_for_uniques
from mdwindow.stream.channel import (
    Channel,
    ChannelClosed,
    ChannelReader,
    check_marks,
)
from mdwindow.stream.keys import KeyTable, is_missing_key
from mdwindow.stream.sources import as_async_iterable, call_maybe_async, close_source

T = TypeVar("T")

#: Items the router routes before it lets the readers run, even while every
#: channel has room: readers then take items still in the CPU cache (reading
#: an item's time and key costs several times more once it has left it), and
#: a fast source cannot hold windows back for a whole channel's worth of items.
ROUTE_TURN = 1024

__all__ = ["PartitionedChannel", "PartitioningSpec", "hash_partition"]

# A key's tag, and the item and tag queues and the channel of its partition.
_Route = tuple[int, deque[Any], deque[Any], Channel[Any]]


@dataclass(frozen=True)
class PartitioningSpec:
    """How to spread a live stream over hash partitions, and how much each may buffer.

    Parameters
    ----------
    partitions : int, default 8
        Number of partitions ``P >= 1``.
    capacity : int, default 2048
        Items each partition's channel holds before the router waits.
    high_watermark, low_watermark : float, default 0.75 and 0.25
        Fill fractions at which a partition's ``pressure`` turns on and off.
    hash : {"murmur3", "kafka"}, default "murmur3"
        Partitioner, as in :func:`mdwindow.partition_ids`.
    seed : int, default 0
        murmur3 seed; must be 0 with ``"kafka"``.

    Examples
    --------
    >>> spec = PartitioningSpec(partitions=2)
    >>> [spec.partition_of(symbol) for symbol in ("AAPL", "MSFT", "NVDA")]
    [1, 0, 1]
    """

    partitions: int = 8
    capacity: int = 2048
    high_watermark: float = 0.75
    low_watermark: float = 0.25
    hash: str = "murmur3"
    seed: int = 0

    def __post_init__(self) -> None:
        # The batch partitioner checks partitions, hash and seed with its own messages.
        partition_ids_for_uniques([], self.partitions, hash=self.hash, seed=self.seed)
        check_marks(self.capacity, self.high_watermark, self.low_watermark)

    def partition_of(self, key: Any) -> int:
        """The partition of one key: exactly what :func:`mdwindow.partition_ids` gives."""
        # A one-element object array keeps the key as it is (a tuple stays one key).
        values = np.empty(1, dtype=object)
        values[0] = key
        return int(partition_ids_for_uniques(values, self.partitions, self.hash, self.seed)[0])


class _NotStr:
    """Marks the cache entries of keys that are not str (no key can equal one)."""


def _cache_key(key: Any) -> Any:
    """The routing cache's key for ``key``: str(1) and str(1.0) differ, so equal keys
    of other types must hash apart."""
    return key if type(key) is str else (_NotStr, type(key), key)


@dataclass(frozen=True)
class KeyTags:
    """What the tags of a partition's items mean: ``tag // partitions`` is the code
    of ``get_key(item)`` in ``keys`` (so a reader with the same ``get_key`` need not
    call it again), and ``tag % partitions`` the item's partition."""

    get_key: Callable[[Any], Any]
    keys: KeyTable
    partitions: int


class PartitionedChannel(Generic[T]):
    """One :class:`Channel` per partition, fed by a single routing task.

    Made by :func:`hash_partition`. Read partition ``i`` with
    ``stream_partition(i)`` (one reader per partition). The routing task ends
    when the source ends (every stream then ends after draining), when the
    source or ``get_key`` fails (every stream ends with that error), or on
    :meth:`aclose`. A partition nobody reads fills up and then holds the
    router, and with it every other partition: that is the backpressure.
    """

    def __init__(
        self,
        spec: PartitioningSpec,
        source: AsyncIterable[T],
        get_key: Callable[[T], Any],
        *,
        on_missing_key: Callable[[T], Any] | None = None,
        on_pressure: Callable[[int, bool], Any] | None = None,
    ) -> None:
        self._spec = spec
        self._source = source
        self._get_key = get_key
        self._on_missing_key = on_missing_key
        self._channels: list[Channel[T]] = []
        self._keys = KeyTable()
        tags = KeyTags(get_key, self._keys, spec.partitions)
        for index in range(spec.partitions):
            channel: Channel[T] = Channel(spec.capacity, spec.high_watermark, spec.low_watermark)
            channel.keep_tags(tags)
            if on_pressure is not None:
                channel.add_pressure_callback(lambda value, index=index: on_pressure(index, value))
            self._channels.append(channel)
        # Each distinct key (told apart by type too) -> its tag and where its items
        # go, made once: one lookup per item finds everything the router needs.
        self._routes: dict[Any, _Route] = {}
        self._task: asyncio.Task[None] | None = None

    def _start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._route(), name="mdwindow.stream.hash_partition"
        )

    # -- the routing task -----------------------------------------------------

    async def _route(self) -> None:
        routes = self._routes
        source = self._source
        get_key = self._get_key
        routes_get = routes.get
        turn = ROUTE_TURN
        budget = turn
        exhausted = False
        try:
            async for item in source:
                # A str key is cached as itself; any other key only under
                # _cache_key(key), so a bare lookup finds str keys alone.
                key = get_key(item)
                route = routes_get(key)
                if route is None:
                    route = routes_get(_cache_key(key))
                    if route is None:
                        if is_missing_key(key):
                            await self._missing_key(item, key)
                            continue
                        route = self._new_key(key)
                tag, queue, tag_queue, channel = route
                if len(queue) < channel._quiet:
                    # Room, below the pressure mark, no reader waiting: nothing else to do.
                    queue.append(item)
                    tag_queue.append(tag)
                elif not channel.try_put_tagged(item, tag):
                    await channel.put_tagged(item, tag)
                budget -= 1
                if not budget:
                    budget = turn
                    await asyncio.sleep(0)
            exhausted = True
        except asyncio.CancelledError:
            self._close_all(ChannelClosed("hash_partition was closed before its source ended"))
            raise
        except Exception as error:
            # Readers get the error; the task itself ends quietly (nobody awaits it).
            self._close_all(error)
        else:
            self._close_all(None)
        finally:
            if not exhausted:
                await close_source(source)

    def _new_key(self, key: Any) -> _Route:
        """Hash a key seen for the first time; its tag is ``code * partitions + partition``."""
        partition = self._spec.partition_of(key)
        code = int(self._keys.codes([key])[0])
        tag = code * self._spec.partitions + partition
        channel = self._channels[partition]
        tags = channel._tags
        assert tags is not None  # every channel keeps tags from __init__ on
        route = (tag, channel._items, tags, channel)
        self._routes[_cache_key(key)] = route
        return route

    async def _missing_key(self, item: T, key: Any) -> None:
        if self._on_missing_key is None:
            raise ValueError(
                f"hash_partition: get_key returned a missing key ({key!r}) for item {item!r}; "
                "such an item has no partition. Pass on_missing_key=<callable> to divert "
                "these items, or fix get_key"
            )
        await call_maybe_async(self._on_missing_key, item)

    def _close_all(self, error: BaseException | None) -> None:
        for channel in self._channels:
            channel.close(error)

    # -- reading --------------------------------------------------------------

    @property
    def spec(self) -> PartitioningSpec:
        """The partitioning options."""
        return self._spec

    def partitions(self) -> range:
        """The partition numbers, ``range(P)``."""
        return range(self._spec.partitions)

    def channel(self, partition: int) -> Channel[T]:
        """The channel of one partition (for its pressure callbacks and counters)."""
        return self._channels[self._check(partition)]

    def stream_partition(self, partition: int) -> ChannelReader[T]:
        """An async iterator over the items of one partition, in arrival order."""
        return self._channels[self._check(partition)].reader()

    def pressure(self, partition: int) -> bool:
        """Whether one partition's channel is under pressure (see :class:`Channel`)."""
        return self._channels[self._check(partition)].pressure

    @property
    def pressures(self) -> list[bool]:
        """The pressure flag of every partition."""
        return [channel.pressure for channel in self._channels]

    def key_partitions(self) -> dict[Any, int]:
        """Each distinct key seen so far and its partition (each was hashed once)."""
        partitions = self._spec.partitions
        return {
            (cached if type(cached) is str else cached[2]): route[0] % partitions
            for cached, route in self._routes.items()
        }

    @property
    def done(self) -> bool:
        """Whether the routing task has ended."""
        return self._task is not None and self._task.done()

    async def wait_closed(self) -> None:
        """Wait for the routing task to end (the source ended, failed or was closed)."""
        if self._task is not None:
            await asyncio.wait([self._task])

    async def aclose(self) -> None:
        """Stop routing now: readers end with :class:`ChannelClosed` after draining.

        Closes the source (``aclose()`` of an async generator) and leaves no
        task running. Harmless after the source has ended.
        """
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
        self._close_all(ChannelClosed("hash_partition was closed before its source ended"))

    async def __aenter__(self) -> PartitionedChannel[T]:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def _check(self, partition: int) -> int:
        if not 0 <= partition < self._spec.partitions:
            raise IndexError(
                f"partition: got {partition!r}; this stream has partitions "
                f"0 to {self._spec.partitions - 1}"
            )
        return partition

    def __repr__(self) -> str:
        fills = ", ".join(str(len(channel)) for channel in self._channels)
        return f"PartitionedChannel(partitions={self._spec.partitions}, fill=[{fills}])"


async def hash_partition(
    source: AsyncIterable[T] | Iterable[T],
    get_key: Callable[[T], Any],
    spec: PartitioningSpec | None = None,
    *,
    on_missing_key: Callable[[T], Any] | None = None,
    on_pressure: Callable[[int, bool], Any] | None = None,
) -> PartitionedChannel[T]:
    """Route a live stream of items to per-partition channels by the hash of their key.

    Starts one task that reads ``source`` and puts each item on the channel of
    partition ``partition_ids([get_key(item)], P)`` (each distinct key is hashed
    once, then looked up). Items keep their arrival order within a partition.

    Parameters
    ----------
    source : async iterable or iterable
        The items (dicts, tuples, objects...), e.g. an async generator reading a
        websocket. Plain iterables are accepted too.
    get_key : callable
        ``item -> key``. Keys are hashed as UTF-8 of ``str(key)`` (bytes as they
        are), as in :func:`mdwindow.partition_ids`; they must be hashable.
    spec : PartitioningSpec, optional
        Number of partitions, channel capacity and pressure marks, partitioner.
    on_missing_key : callable, optional
        Receives items whose key is missing (None, NaN); may be async. Without
        it such an item fails the stream with a ValueError: items are never
        dropped silently.
    on_pressure : callable, optional
        ``(partition, pressure) -> None``, called when a partition's pressure
        flips, so an upstream feed can be paused and resumed.

    Returns
    -------
    PartitionedChannel

    Examples
    --------
    >>> import asyncio
    >>> async def demo():
    ...     ticks = [{"symbol": s} for s in ("AAPL", "MSFT", "NVDA", "MSFT")]
    ...     parts = await hash_partition(ticks, get_key=lambda t: t["symbol"],
    ...                                  spec=PartitioningSpec(partitions=2))
    ...     return [[t["symbol"] async for t in parts.stream_partition(i)]
    ...             for i in parts.partitions()]
    >>> asyncio.run(demo())
    [['MSFT', 'MSFT'], ['AAPL', 'NVDA']]
    """
    if spec is None:
        spec = PartitioningSpec()
    elif not isinstance(spec, PartitioningSpec):
        raise TypeError(f"spec: got {type(spec).__name__}; give a PartitioningSpec or None")
    if not callable(get_key):
        raise TypeError(f"get_key: got {get_key!r}; give a callable item -> key")
    parts = PartitionedChannel(
        spec,
        as_async_iterable(source),
        get_key,
        on_missing_key=on_missing_key,
        on_pressure=on_pressure,
    )
    parts._start()
    return parts
