"""Ticks partitioned by symbol, 5-second windows per partition, printed as they close.

A stand-in for a live feed (a websocket, a Kafka consumer): an async generator
that yields one tick dict at a time, paced in (sped-up) real time. The ticks
are routed to hash partitions by symbol, exactly as ``mdwindow.partition_ids``
assigns them; each partition runs its own event-time windows with a 1-second
lag, and each window is printed with its OHLC as soon as the watermark of its
partition closes it. Late ticks are reported too, and the open windows at the
end are listed as pending.

Usage::

    python examples/windowed_partitioned.py [--ticks N] [--partitions P] [--speed X]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from typing import Any

from mdwindow import WatermarkPolicy
from mdwindow.stream import (
    LateItem,
    PartitioningSpec,
    WindowFrame,
    hash_partition,
    tumbling_window_event_time,
)
from mdwindow.synth import generate_ticks


async def tick_feed(n: int, speed: float) -> AsyncIterator[dict[str, Any]]:
    """Synthetic trades as a live feed would deliver them: dicts, in arrival order."""
    frame = generate_ticks(n, symbols=12, seed=7, duration="1min")
    arrival = frame["recv_ts"].to_numpy(dtype="datetime64[ns]").astype("int64")
    loop = asyncio.get_running_loop()
    started = loop.time()
    for position, row in enumerate(frame.itertuples(index=False)):
        # Wait until this tick's (sped-up) arrival time, as a real feed would.
        due = (arrival[position] - arrival[0]) / 1e9 / speed
        delay = started + due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        yield {"ts": row.ts, "symbol": row.symbol, "price": row.price, "size": row.size}


def describe(partition: int, window: WindowFrame) -> str:
    # Open and close by event time, ties by arrival (a stable sort keeps it), as in SPEC.
    prices = [tick["price"] for tick in sorted(window.items, key=lambda tick: tick["ts"])]
    volume = sum(tick["size"] for tick in window.items)
    return (
        f"p{partition} {window.key:<5} {window.start:%H:%M:%S}-{window.end:%H:%M:%S} "
        f"{len(window.items):>4} ticks  O {prices[0]:8.2f}  H {max(prices):8.2f}  "
        f"L {min(prices):8.2f}  C {prices[-1]:8.2f}  V {volume:>7}"
    )


async def main(ticks: int, partitions: int, speed: float) -> None:
    parts = await hash_partition(
        tick_feed(ticks, speed),
        get_key=lambda tick: tick["symbol"],
        spec=PartitioningSpec(partitions=partitions, capacity=256),
        on_pressure=lambda p, on: print(f"p{p} pressure {'on' if on else 'off'}"),
    )

    async def windows(partition: int) -> int:
        def report_late(late: LateItem) -> None:
            print(
                f"p{partition} late  {late.key:<5} tick at {late.item['ts']:%H:%M:%S.%f} "
                f"missed {late.window_start:%H:%M:%S}-{late.window_end:%H:%M:%S} "
                f"by {late.late_by.total_seconds():.3f} s"
            )

        stream = tumbling_window_event_time(
            parts.stream_partition(partition),
            "5s",
            get_event_time=lambda tick: tick["ts"],
            get_key=lambda tick: tick["symbol"],
            watermark_policy=WatermarkPolicy(lag="1s"),
            on_late=report_late,
        )
        async with stream:
            async for window in stream:
                print(describe(partition, window))
        for window in stream.pending:
            print(f"{describe(partition, window)}  (pending: the feed ended first)")
        return stream.stats["windows"]

    async with parts:
        closed = await asyncio.gather(*(windows(p) for p in parts.partitions()))
    print(f"{sum(closed)} windows closed over {partitions} partitions")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=3_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--speed", type=float, default=20.0, help="replay this many times faster")
    args = parser.parse_args()
    asyncio.run(main(args.ticks, args.partitions, args.speed))
