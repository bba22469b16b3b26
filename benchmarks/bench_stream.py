"""Items per second through ``hash_partition`` + per-partition windows, against plain asyncio.

The baseline is what one would write by hand: an async generator feeding an
``asyncio.Queue`` whose consumer counts items per ``(symbol, window)`` in a
dict. It has no watermark, no late handling, no partitions and keeps no
items. The candidate does the full semantics: the same async generator feeds
``hash_partition`` (one routing task, a bounded channel per partition), and
one ``tumbling_window_event_time`` per partition yields every closed window
with its original items, reports late items and keeps the open windows as
pending. Both run in the same process, taking turns, on the same items.

Items are dicts as a decoded websocket message would be:
``{"ts": int ns, "symbol": str, "price": float, "size": int}``, made by the
feed as it yields them (``--prebuilt`` replays dicts made in advance).

Usage::

    python benchmarks/bench_stream.py [--rows N] [--symbols S] [--duration 30min] [--partitions P]
        [--capacity C] [--size 5s] [--lag 2s] [--repeat R] [--check] [--prebuilt]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:
    from mdwindow import WatermarkPolicy, tumbling_windows
    from mdwindow.stream import PartitioningSpec, hash_partition, tumbling_window_event_time
except ImportError:
    # Lets the script run from a plain checkout, without installing mdwindow.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from mdwindow import WatermarkPolicy, tumbling_windows
    from mdwindow.stream import PartitioningSpec, hash_partition, tumbling_window_event_time

from mdwindow.synth import generate_ticks  # noqa: E402

Columns = tuple[list[int], list[str], list[float], list[int]]


def make_columns(
    rows: int, symbols: int, seed: int, duration: str
) -> tuple[Columns, pd.DataFrame]:
    """The ticks as plain column lists (the "wire"), and the frame they came from."""
    frame = generate_ticks(rows, symbols=symbols, seed=seed, duration=duration)
    frame = frame.reset_index(drop=True)
    columns = (
        frame["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64).tolist(),
        frame["symbol"].astype(object).tolist(),
        frame["price"].tolist(),
        frame["size"].tolist(),
    )
    return columns, frame


def as_dicts(columns: Columns) -> list[dict[str, Any]]:
    ts, symbol, price, size = columns
    return [
        {"ts": t, "symbol": s, "price": p, "size": q}
        for t, s, p, q in zip(ts, symbol, price, size, strict=True)
    ]


def feed(columns: Columns, prebuilt: list[dict[str, Any]] | None) -> AsyncIterator[dict]:
    """The feed: an async generator of tick dicts.

    By default each dict is made as it is yielded, as a websocket client
    decodes each message into a fresh object; ``prebuilt`` replays dicts made
    in advance instead.
    """
    if prebuilt is not None:
        return _replay(prebuilt)
    return _decode(columns)


async def _replay(items: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for item in items:
        yield item


async def _decode(columns: Columns) -> AsyncIterator[dict[str, Any]]:
    for t, s, p, q in zip(*columns, strict=True):
        yield {"ts": t, "symbol": s, "price": p, "size": q}


def get_ts(item: dict[str, Any]) -> int:
    return item["ts"]


def get_symbol(item: dict[str, Any]) -> str:
    return item["symbol"]


async def baseline(source: AsyncIterator[dict[str, Any]], size_ns: int, capacity: int) -> dict:
    """Async generator -> asyncio.Queue -> dict counting per (symbol, window)."""
    queue: asyncio.Queue = asyncio.Queue(capacity)
    done = object()
    counts: dict[tuple[str, int], int] = {}

    async def produce() -> None:
        async for item in source:
            await queue.put(item)
        await queue.put(done)

    async def consume() -> None:
        while True:
            item = await queue.get()
            if item is done:
                return
            window = (item["symbol"], item["ts"] // size_ns)
            counts[window] = counts.get(window, 0) + 1

    await asyncio.gather(produce(), consume())
    return counts


async def partitioned(
    source: AsyncIterator[dict[str, Any]],
    size: str,
    policy: WatermarkPolicy,
    spec: PartitioningSpec,
    keep: bool = False,
) -> dict:
    """hash_partition + one tumbling_window_event_time per partition.

    The consumer counts windows and their items, as the baseline counts items;
    with ``keep`` it keeps the windows for checking.
    """
    parts = await hash_partition(source, get_key=get_symbol, spec=spec)
    late: list = []

    async def windows(partition: int) -> tuple[Any, list]:
        stream = tumbling_window_event_time(
            parts.stream_partition(partition),
            size,
            get_event_time=get_ts,
            get_key=get_symbol,
            watermark_policy=policy,
            on_late=late.append,
        )
        if keep:
            return [window async for window in stream], stream.pending
        windows, held = 0, 0
        async for window in stream:
            windows += 1
            held += len(window.items)
        return (windows, held), stream.pending

    results = await asyncio.gather(*(windows(i) for i in parts.partitions()))
    peaks = [parts.channel(i).peak for i in parts.partitions()]
    return {"results": results, "late": late, "peaks": peaks}


def run(coroutine_factory: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of one ``asyncio.run``, and its result.

    CPU time is reported too because on a shared machine it is far steadier
    than wall time; both pipelines are single-threaded, so the two agree on
    an idle machine.
    """
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = asyncio.run(coroutine_factory())
    return time.perf_counter() - wall, time.process_time() - cpu, result


def check(frame: pd.DataFrame, out: dict, size: str, policy: WatermarkPolicy, spec) -> None:
    """The per-partition windows are batch scope='partition' windows, partition by partition."""
    batch = tumbling_windows(
        frame,
        size,
        lag=policy.lag,
        allowed_lateness=policy.allowed_lateness,
        scope="partition",
        partitions=spec.partitions,
    )
    for partition, (emitted, pending) in enumerate(out["results"]):
        expected = batch.windows[batch.windows["partition"] == partition]
        got = [(w.key, w.start, len(w.items)) for w in emitted]
        want = list(
            zip(expected["symbol"], expected["window_start"], expected["count"], strict=True)
        )
        assert got == want, f"partition {partition}: windows differ from batch"
        assert len(pending) == int((batch.pending["partition"] == partition).sum())
    assert len(out["late"]) == len(batch.late), "late items differ from batch"
    print("check: per-partition windows, pending and late items equal batch scope='partition'")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--duration", default="30min", help="event-time span of the ticks")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--capacity", type=int, default=2048)
    parser.add_argument("--size", default="5s")
    parser.add_argument("--lag", default="2s")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="compare with batch first")
    parser.add_argument(
        "--prebuilt", action="store_true", help="replay dicts made in advance, not fresh ones"
    )
    args = parser.parse_args(argv)

    columns, frame = make_columns(args.rows, args.symbols, args.seed, args.duration)
    prebuilt = as_dicts(columns) if args.prebuilt else None
    n_items = len(frame)
    policy = WatermarkPolicy(lag=args.lag)
    spec = PartitioningSpec(partitions=args.partitions, capacity=args.capacity)
    size_ns = pd.Timedelta(args.size).value
    print(
        f"{n_items:,} items over {args.duration}, {args.symbols} symbols, "
        f"{args.partitions} partitions, capacity {args.capacity}, windows {args.size}, "
        f"lag {args.lag}, {'prebuilt' if args.prebuilt else 'fresh'} dicts"
    )

    # Warm up: numba loads its compiled kernels on first use.
    warm = [column[:5_000] for column in columns]
    asyncio.run(partitioned(feed(warm, None), args.size, policy, spec))  # type: ignore[arg-type]
    if args.check:
        _, _, out = run(
            lambda: partitioned(feed(columns, prebuilt), args.size, policy, spec, keep=True)
        )
        check(frame, out, args.size, policy, spec)

    timings: dict[str, list[tuple[float, float]]] = {"baseline": [], "mdwindow": []}
    out: dict = {}
    for _ in range(args.repeat):
        # Taking turns spreads any load from other processes over both.
        wall, cpu, _ = run(lambda: baseline(feed(columns, prebuilt), size_ns, args.capacity))
        timings["baseline"].append((wall, cpu))
        wall, cpu, out = run(lambda: partitioned(feed(columns, prebuilt), args.size, policy, spec))
        timings["mdwindow"].append((wall, cpu))
    windows = sum(emitted for (emitted, _), _ in out["results"])
    pending = sum(len(p) for _, p in out["results"])
    held = sum(held for (_, held), _ in out["results"])
    held += sum(len(w.items) for _, p in out["results"] for w in p)
    assert held + len(out["late"]) == n_items, "every item is in a window or late"
    best = {
        name: (min(w for w, _ in runs), min(c for _, c in runs)) for name, runs in timings.items()
    }
    labels = {
        "baseline": "baseline (async gen -> asyncio.Queue -> dict counts)",
        "mdwindow": "mdwindow (hash_partition + per-partition windows)",
    }
    for name, (wall, cpu) in best.items():
        print(
            f"{labels[name]:<55} {n_items / wall:>10,.0f} items/s wall "
            f"({wall:.3f} s), {n_items / cpu:>10,.0f} items/s CPU ({cpu:.3f} s)"
        )
    (base_wall, base_cpu), (full_wall, full_cpu) = best["baseline"], best["mdwindow"]
    print(
        f"ratio (mdwindow / baseline, best of {args.repeat}): "
        f"{base_wall / full_wall:.2f}x wall, {base_cpu / full_cpu:.2f}x CPU"
    )
    # Each pair ran back to back, so load from other processes hits both alike.
    pairs = list(zip(timings["baseline"], timings["mdwindow"], strict=True))
    wall_ratios = [base[0] / full[0] for base, full in pairs]
    cpu_ratios = [base[1] / full[1] for base, full in pairs]
    print(
        f"ratio (mdwindow / baseline, median of {args.repeat} back-to-back pairs): "
        f"{statistics.median(wall_ratios):.2f}x wall, {statistics.median(cpu_ratios):.2f}x CPU"
    )
    print(
        f"{windows:,} windows emitted, {pending:,} pending, {len(out['late']):,} late; "
        f"peak channel fill {max(out['peaks'])} of {args.capacity}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
