"""Live streams: bounded channels, hash partitioning and event-time windows over asyncio.

The same windowing as :func:`mdwindow.tumbling_windows`, pointed at an async
feed (a websocket, a Kafka consumer) instead of a frame:

- :class:`Channel`: a bounded async channel with a hysteresis ``pressure``
  flag, so a slow consumer slows the producer instead of growing memory;
- :func:`hash_partition`: one task routing items to per-partition channels by
  the hash of their key (exactly :func:`mdwindow.partition_ids`);
- :func:`tumbling_window_event_time`: windows of the original items, built on
  the incremental engine in micro-batches, with the batch ``emit="final"``
  result.

Examples
--------
>>> import asyncio
>>> from mdwindow.stream import PartitioningSpec, hash_partition, tumbling_window_event_time
>>> ticks = [{"ts": s * 1_000_000_000, "symbol": sym}
...          for s, sym in [(0, "AAPL"), (1, "MSFT"), (6, "AAPL"), (7, "MSFT"), (12, "AAPL")]]
>>> async def per_partition():
...     parts = await hash_partition(ticks, get_key=lambda t: t["symbol"],
...                                  spec=PartitioningSpec(partitions=2))
...     async def windows(i):
...         stream = tumbling_window_event_time(
...             parts.stream_partition(i), "5s", get_event_time=lambda t: t["ts"],
...             get_key=lambda t: t["symbol"])
...         return [(w.key, w.start.second, len(w.items)) async for w in stream]
...     return await asyncio.gather(*(windows(i) for i in parts.partitions()))
>>> asyncio.run(per_partition())
[[('MSFT', 0, 1)], [('AAPL', 0, 1), ('AAPL', 5, 1)]]
"""

from __future__ import annotations

from mdwindow.stream.channel import Channel, ChannelClosed, ChannelFull, ChannelReader
from mdwindow.stream.clock import Clock, ManualClock, MonotonicClock
from mdwindow.stream.partition import PartitionedChannel, PartitioningSpec, hash_partition
from mdwindow.stream.records import LateItem, RejectedItem, WindowFrame
from mdwindow.stream.sources import pump
from mdwindow.stream.windowing import WindowStream, tumbling_window_event_time

__all__ = [
    "Channel",
    "ChannelClosed",
    "ChannelFull",
    "ChannelReader",
    "Clock",
    "LateItem",
    "ManualClock",
    "MonotonicClock",
    "PartitionedChannel",
    "PartitioningSpec",
    "RejectedItem",
    "WindowFrame",
    "WindowStream",
    "hash_partition",
    "pump",
    "tumbling_window_event_time",
]
