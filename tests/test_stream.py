"""The asyncio streaming API: channels, live hash partitioning and windows of items.

Every test runs its coroutine with :func:`run`, which also checks that no task
is left behind. The property tests compare the streams with the batch API on
the same sequence: the windows (contents and order), pending windows, late
and rejected items must be the batch ones exactly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdwindow import TumblingWindowSpec, WatermarkPolicy, partition_ids, tumbling_windows
from mdwindow.stream import (
    Channel,
    ChannelClosed,
    ChannelFull,
    ManualClock,
    PartitioningSpec,
    hash_partition,
    tumbling_window_event_time,
)
from mdwindow.stream.partition import ROUTE_TURN

SECOND = 1_000_000_000
KEYS = ["AAPL", "MSFT", "NVDA", "TSLA"]


class Boom(Exception):
    """The error a failing source raises."""


def run(main: Callable[..., Any], *args: Any) -> Any:
    """``asyncio.run(main(*args))``, asserting that no task is left running."""

    async def checked() -> Any:
        result = await main(*args)
        await asyncio.sleep(0)
        leftover = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        assert not leftover, f"tasks left running: {leftover}"
        return result

    return asyncio.run(checked())


async def feed(items: list, pauses: frozenset[int] = frozenset(), fail_at: int | None = None):
    """An async generator of items: a scheduler turn before each position in
    ``pauses`` (so micro-batches split there), and Boom at ``fail_at``."""
    for position, item in enumerate(items):
        if position == fail_at:
            raise Boom(f"feed failed at item {position}")
        if position in pauses:
            await asyncio.sleep(0)
        yield item
    if fail_at is not None and fail_at >= len(items):
        raise Boom("feed failed at the end")


def get_ts(item: dict) -> Any:
    return item["ts"]


def get_symbol(item: dict) -> Any:
    return item["symbol"]


def ticks(rows: list[tuple[Any, Any]]) -> list[dict]:
    """Items ``{"id", "ts", "symbol"}`` from (event time, symbol) pairs."""
    return [{"id": i, "ts": ts, "symbol": symbol} for i, (ts, symbol) in enumerate(rows)]


def as_frame(items: list[dict], nanos: list[int | None]) -> pd.DataFrame:
    """The batch view of the same items (``nanos``: their event times, None if missing)."""
    ts = pd.to_datetime(pd.array(nanos, dtype="Int64"), unit="ns", utc=True)
    return pd.DataFrame(
        {
            "ts": ts,
            "symbol": pd.Series([item["symbol"] for item in items], dtype=object),
            "id": [item["id"] for item in items],
        }
    )


def window_rows(frames) -> list[tuple]:
    return [(w.key, w.start, w.end, [item["id"] for item in w.items], w.timing) for w in frames]


def batch_rows(frame: pd.DataFrame, result, windows: pd.DataFrame) -> list[tuple]:
    """Windows of a batch result with their member ids, read off the trace."""
    trace = result.trace.reset_index(drop=True)
    members: dict[tuple, list[int]] = {}
    for position in np.flatnonzero(trace["status"].isin(["on_time", "late"]).to_numpy()):
        slot = (frame["symbol"].iloc[position], trace["window_start"].iloc[position])
        members.setdefault(slot, []).append(int(frame["id"].iloc[position]))
    rows = []
    for key, start, end, count, timing in zip(
        windows["symbol"],
        windows["window_start"],
        windows["window_end"],
        windows["count"],
        windows["timing"].astype(str),
        strict=True,
    ):
        ids = members[(key, start)]
        assert len(ids) == count
        rows.append((key, start, end, ids, timing))
    return rows


async def collect(stream) -> tuple[list, list]:
    windows = [window async for window in stream]
    return windows, stream.pending


# --------------------------------------------------------------------------
# Channel


def test_channel_pressure_has_hysteresis():
    flips: list[tuple[bool, int]] = []
    channel: Channel[int] = Channel(8, high_watermark=0.75, low_watermark=0.25)
    channel.add_pressure_callback(lambda value: flips.append((value, len(channel))))
    assert channel.marks == (6, 2)
    # fill ->  1      2      3      4      5      6     5     4     3     2      3      6
    script = ["put", "put", "put", "put", "put", "put", "get", "get", "get", "get", "put"]
    script += ["put", "put", "put"]
    seen = []
    for step in script:
        if step == "put":
            channel.put_nowait(0)
        else:
            channel.get_nowait()
        seen.append((len(channel), channel.pressure))
    assert seen == [
        (1, False), (2, False), (3, False), (4, False), (5, False), (6, True),
        (5, True), (4, True), (3, True), (2, False),
        (3, False), (4, False), (5, False), (6, True),
    ]  # fmt: skip
    assert flips == [(True, 6), (False, 2), (True, 6)]


def test_channel_bounded_put_waits_and_close_drains():
    async def main():
        channel: Channel[int] = Channel(2)
        await channel.put(1)
        await channel.put(2)
        with pytest.raises(ChannelFull):
            channel.put_nowait(3)
        blocked = asyncio.ensure_future(channel.put(3))
        await asyncio.sleep(0)
        assert not blocked.done() and len(channel) == 2
        assert await channel.get() == 1
        await blocked
        channel.close()
        with pytest.raises(ChannelClosed):
            await channel.put(4)
        drained = [item async for item in channel]
        with pytest.raises(ChannelClosed):
            await channel.get()
        return drained, channel.peak

    assert run(main) == ([2, 3], 2)


def test_channel_error_reaches_every_reader_after_the_queued_items():
    async def main():
        channel: Channel[str] = Channel(4)
        await channel.put_many("ab")

        async def read() -> tuple[list[str], BaseException | None]:
            got = []
            try:
                async for item in channel:
                    got.append(item)
                    await asyncio.sleep(0)
            except Boom as error:
                return got, error
            return got, None

        readers = [asyncio.ensure_future(read()) for _ in range(3)]
        await asyncio.sleep(0)
        channel.close(Boom("upstream failed"))
        return await asyncio.gather(*readers)

    results = run(main)
    assert sorted(item for got, _ in results for item in got) == ["a", "b"]
    assert all(isinstance(error, Boom) for _, error in results)


def test_closing_wakes_a_waiting_writer_with_channel_closed():
    async def main():
        channel: Channel[int] = Channel(1)
        await channel.put(1)
        writer = asyncio.ensure_future(channel.put(2))
        await asyncio.sleep(0)
        channel.close()
        with pytest.raises(ChannelClosed):
            await writer

    run(main)


def test_pressure_can_be_awaited():
    async def main():
        channel: Channel[int] = Channel(4, high_watermark=0.5, low_watermark=0.0)
        waiter = asyncio.ensure_future(channel.wait_pressure(True))
        await channel.put(1)
        await asyncio.sleep(0)
        assert not waiter.done()
        await channel.put(2)
        await waiter
        change = asyncio.ensure_future(channel.pressure_changed())
        await asyncio.sleep(0)
        channel.get_nowait()
        channel.get_nowait()
        return await change

    assert run(main) is False


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": 4, "high_watermark": 1.5}, "high_watermark"),
        ({"capacity": 4, "high_watermark": 0.2, "low_watermark": 0.5}, "low_watermark"),
    ],
)
def test_channel_refuses_bad_marks(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Channel(**kwargs)


# --------------------------------------------------------------------------
# hash_partition


def test_partitions_are_exactly_partition_ids_and_each_key_is_hashed_once(monkeypatch):
    hashed: list[Any] = []
    original = PartitioningSpec.partition_of

    def counting(self, key):
        hashed.append(key)
        return original(self, key)

    monkeypatch.setattr(PartitioningSpec, "partition_of", counting)
    rng = np.random.default_rng(7)
    keys = [KEYS[i] for i in rng.integers(0, 4, 300)] + [7, "7", 7.0, b"7", ("A", 1)]
    items = [{"id": i, "symbol": key} for i, key in enumerate(keys)]

    async def main():
        parts = await hash_partition(
            feed(items), get_key=get_symbol, spec=PartitioningSpec(partitions=3, capacity=16)
        )

        async def read(partition: int) -> list[int]:
            return [item["id"] async for item in parts.stream_partition(partition)]

        routed = await asyncio.gather(*(read(p) for p in parts.partitions()))
        return routed, parts.key_partitions()

    routed, key_partitions = run(main)
    # Each key lands where partition_ids puts it; a key's partition never
    # depends on other keys, so 7 and 7.0 ("7" and "7.0") may differ.
    expected = [int(partition_ids([key], 3)[0]) for key in keys]
    assert expected[:300] == partition_ids(keys[:300], 3).tolist()
    for partition, ids in enumerate(routed):
        assert ids == sorted(ids)  # arrival order within a partition
        assert all(expected[i] == partition for i in ids)
    assert sorted(i for ids in routed for i in ids) == list(range(len(keys)))
    assert len(hashed) == len(set(map(repr, keys)))  # each distinct key hashed once
    assert key_partitions[("A", 1)] == expected[-1]


def test_slow_readers_keep_every_channel_within_capacity_and_pressure_flips():
    flips: dict[int, list[tuple[bool, int]]] = {0: [], 1: []}
    seen: list[tuple[int, bool]] = []  # (fill, pressure) of a channel at each read
    capacity = 8
    items = [{"id": i, "symbol": KEYS[i % 2]} for i in range(600)]  # AAPL -> 1, MSFT -> 0

    async def bursts():
        # Bursts of 120 items, one per scheduler turn, faster than the readers
        # take them; then a quiet spell in which the readers catch up.
        for position, item in enumerate(items):
            if position % 120 == 0:
                for _ in range(400):
                    await asyncio.sleep(0)
            yield item
            await asyncio.sleep(0)

    async def main():
        parts: Any = None

        def on_pressure(partition: int, value: bool) -> None:
            flips[partition].append((value, len(parts.channel(partition))))

        parts = await hash_partition(
            bursts(),
            get_key=get_symbol,
            spec=PartitioningSpec(partitions=2, capacity=capacity),
            on_pressure=on_pressure,
        )

        async def slow_reader(partition: int) -> int:
            channel, reader, count = parts.channel(partition), parts.stream_partition(partition), 0
            while batch := await reader.get_batch(max_items=1):
                seen.append((len(channel), channel.pressure))
                count += len(batch)
                for _ in range(5):
                    await asyncio.sleep(0)
            return count

        counts = await asyncio.gather(*(slow_reader(p) for p in parts.partitions()))
        return counts, [parts.channel(p).peak for p in parts.partitions()]

    counts, peaks = run(main)
    assert sum(counts) == len(items)
    assert max(fill for fill, _ in seen) <= capacity and max(peaks) == capacity
    high, low = Channel(capacity).marks
    for history in flips.values():
        values = [value for value, _ in history]
        assert len(values) >= 4
        assert values == [True, False] * (len(values) // 2) + [True] * (len(values) % 2)
        assert all(fill == high for value, fill in history if value)
        assert all(fill <= low for value, fill in history if not value)
    # Hysteresis: between the marks, pressure depends on where the fill came from.
    between = {pressure for fill, pressure in seen if low < fill < high}
    assert between == {True, False}


def test_the_router_lets_readers_run_while_every_channel_has_room():
    # Channels far larger than the stream: the router never waits for room, yet
    # it hands over every ROUTE_TURN items, so the readers take them a turn at
    # a time (while they are fresh), in order, and nothing is lost.
    n_items = 3 * ROUTE_TURN + 5
    items = [{"id": i, "symbol": KEYS[i % 4]} for i in range(n_items)]

    async def main():
        parts = await hash_partition(
            feed(items),
            get_key=get_symbol,
            spec=PartitioningSpec(partitions=2, capacity=4 * n_items),
        )

        async def read(partition: int) -> list[list[int]]:
            reader, batches = parts.stream_partition(partition), []
            while batch := await reader.get_batch():
                batches.append([item["id"] for item in batch])
            return batches

        return await asyncio.gather(*(read(p) for p in parts.partitions()))

    routed = run(main)
    for batches in routed:
        assert len(batches) >= 3
        ids = [i for batch in batches for i in batch]
        assert ids == sorted(ids)
    taken = [len(batch) for batches in routed for batch in batches]
    assert max(taken) <= ROUTE_TURN
    assert sorted(i for batches in routed for batch in batches for i in batch) == list(
        range(n_items)
    )


@pytest.mark.parametrize("fail_at", [0, 5, 40])
def test_a_failing_source_ends_every_partition_stream_with_its_error(fail_at):
    items = ticks([(i * SECOND, KEYS[i % 4]) for i in range(40)])

    async def main():
        parts = await hash_partition(
            feed(items, fail_at=fail_at),
            get_key=get_symbol,
            spec=PartitioningSpec(partitions=3, capacity=4),
        )

        async def read(partition: int):
            got = []
            try:
                async for item in parts.stream_partition(partition):
                    got.append(item["id"])
            except Boom as error:
                return got, error
            return got, None

        async def windows(partition: int):
            stream = tumbling_window_event_time(
                parts.stream_partition(partition), "5s", get_event_time=get_ts, get_key=get_symbol
            )
            with pytest.raises(Boom):
                async for _ in stream:
                    pass

        results = await asyncio.gather(read(0), read(1), windows(2))
        await parts.wait_closed()
        return results

    (got0, error0), (got1, error1), _ = run(main)
    assert isinstance(error0, Boom) and isinstance(error1, Boom)
    assert len(got0) + len(got1) <= fail_at


def test_get_key_errors_and_missing_keys_reach_the_readers():
    items = [{"symbol": "A"}, {"symbol": None}, {"symbol": "B"}]

    async def main(on_missing_key):
        parts = await hash_partition(
            feed(items), get_key=get_symbol, spec=PartitioningSpec(partitions=2),
            on_missing_key=on_missing_key,
        )  # fmt: skip
        return await asyncio.gather(
            *(collect_items(parts.stream_partition(p)) for p in parts.partitions()),
            return_exceptions=True,
        )

    diverted: list = []
    results = run(main, diverted.append)
    assert diverted == [{"symbol": None}]
    assert sorted(item["symbol"] for got in results for item in got) == ["A", "B"]
    results = run(main, None)
    assert all(isinstance(error, ValueError) for error in results)
    assert "on_missing_key" in str(results[0])


async def collect_items(reader) -> list:
    return [item async for item in reader]


def test_aclose_stops_the_router_and_closes_the_source():
    closed = []

    async def endless():
        try:
            i = 0
            while True:
                yield {"symbol": KEYS[i % 4]}
                i += 1
                await asyncio.sleep(0)
        finally:
            closed.append(True)

    async def main():
        async with await hash_partition(
            endless(), get_key=get_symbol, spec=PartitioningSpec(partitions=2, capacity=4)
        ) as parts:
            reader = parts.stream_partition(0)
            first = await reader.get()
        with pytest.raises(ChannelClosed):
            async for _ in reader:
                pass
        return first, parts.done

    first, done = run(main)
    assert first["symbol"] in KEYS and done and closed == [True]


# --------------------------------------------------------------------------
# tumbling_window_event_time: literal cases


def test_kafka_streams_final_results_with_late_and_rejected_items():
    # Size 2 s, grace 1 s: the Kafka Streams suppress(untilWindowCloses) example.
    items = ticks([(0, "A"), (SECOND, "A"), (2 * SECOND, "A"), (SECOND, "A"), (0, "A"),
                   (5 * SECOND, "A"), (0, "A"), (None, "A"), (3 * SECOND, None)])  # fmt: skip
    late, rejected = [], []

    async def main():
        stream = tumbling_window_event_time(
            feed(items), "2s", get_event_time=get_ts, get_key=get_symbol,
            watermark_policy=WatermarkPolicy(allowed_lateness="1s"),
            on_late=late.append, on_rejected=rejected.append,
        )  # fmt: skip
        windows, pending = await collect(stream)
        return window_rows(windows), window_rows(pending), stream.stats

    windows, pending, stats = run(main)
    t = lambda s: pd.Timestamp(s * SECOND, tz="UTC")  # noqa: E731
    assert windows == [
        ("A", t(0), t(2), [0, 1, 3, 4], "final"),
        ("A", t(2), t(4), [2], "final"),
    ]
    assert pending == [("A", t(4), t(6), [5], "pending")]
    assert [(x.item["id"], x.window_start, x.watermark, x.late_by) for x in late] == [
        (6, t(0), t(5), pd.Timedelta("2s"))
    ]
    assert [(x.item["id"], x.reason) for x in rejected] == [
        (7, "missing_time"),
        (8, "missing_key"),
    ]
    assert stats["dropped"] == 1 and stats["rejected"] == 2 and stats["windows"] == 2


def test_event_times_in_every_accepted_form():
    paris = dt.timezone(dt.timedelta(hours=1))
    second = pd.Timestamp("2024-03-01 14:30:01", tz="UTC")
    forms = [
        second,  # Timestamp, UTC
        second.tz_convert("America/New_York"),  # Timestamp, other zone
        second.tz_localize(None).to_pydatetime(),  # naive datetime: UTC
        second.to_pydatetime().astimezone(paris),  # aware datetime
        np.datetime64(second.tz_localize(None).to_datetime64(), "us"),  # datetime64[us]
        second.value,  # int nanoseconds
    ]
    items = [{"id": i, "ts": value, "symbol": "A"} for i, value in enumerate(forms)]

    async def main(rows):
        stream = tumbling_window_event_time(rows, "1s", get_event_time=get_ts)
        windows, pending = await collect(stream)
        return [(w.start, len(w.items)) for w in windows + pending]

    assert run(main, items) == [(second, 6)]
    mixed = items + [{"id": 9, "ts": second.value // 1_000_000, "symbol": "A"}]

    async def in_ms():
        stream = tumbling_window_event_time(
            [mixed[-1]], "1s", get_event_time=get_ts, time_unit="ms"
        )
        return [w.start async for w in stream] + [w.start for w in stream.pending]

    assert run(in_ms) == [second]

    async def text():
        stream = tumbling_window_event_time([{"ts": "2024-03-01"}], "1s", get_event_time=get_ts)
        async for _ in stream:
            pass

    with pytest.raises(TypeError, match="get_event_time.*pd.Timestamp"):
        run(text)


def test_without_get_key_all_items_are_one_stream():
    items = ticks([(0, "A"), (SECOND, "B"), (3 * SECOND, "C"), (7 * SECOND, "A")])

    async def main():
        stream = tumbling_window_event_time(feed(items), "2s", get_event_time=get_ts)
        windows, pending = await collect(stream)
        return window_rows(windows), window_rows(pending)

    windows, pending = run(main)
    assert [(key, ids) for key, _, _, ids, _ in windows] == [(None, [0, 1]), (None, [2])]
    assert [(key, ids) for key, _, _, ids, _ in pending] == [(None, [3])]


def test_late_items_as_a_second_stream():
    items = ticks([(0, "A"), (10 * SECOND, "A"), (SECOND, "A"), (2 * SECOND, "A")])

    async def main():
        late: Channel = Channel(16)
        stream = tumbling_window_event_time(
            feed(items), "5s", get_event_time=get_ts, get_key=get_symbol, on_late=late.put
        )

        async def windows():
            try:
                return [w.start async for w in stream]
            finally:
                late.close()

        async def late_ids():
            return [x.item["id"] async for x in late]

        return await asyncio.gather(windows(), late_ids())

    starts, late_ids = run(main)
    assert starts == [pd.Timestamp(0, tz="UTC")] and late_ids == [2, 3]


def test_emit_partial_yields_the_open_windows_at_the_end():
    items = ticks([(0, "A"), (SECOND, "B")])

    async def main():
        stream = tumbling_window_event_time(
            feed(items), TumblingWindowSpec("5s", emit_partial=True),
            get_event_time=get_ts, get_key=get_symbol,
        )  # fmt: skip
        windows, pending = await collect(stream)
        return [(w.key, w.timing) for w in windows], pending

    assert run(main) == ([("A", "partial"), ("B", "partial")], [])


def test_stopping_early_leaves_no_task_and_closes_the_source():
    closed = []

    async def endless():
        try:
            second = 0
            while True:
                yield {"ts": second * SECOND, "symbol": "A"}
                second += 1
        finally:
            closed.append(True)

    async def main():
        async with tumbling_window_event_time(
            endless(), "2s", get_event_time=get_ts, get_key=get_symbol
        ) as stream:
            first = await anext(stream)
        with pytest.raises(StopAsyncIteration):
            await anext(stream)
        return first.start

    assert run(main) == pd.Timestamp(0, tz="UTC") and closed == [True]


async def endless_seconds(closed: list[bool]):
    """Items one second apart, for ever; ``closed`` learns when the generator is closed."""
    try:
        second = 0
        while True:
            yield {"ts": second * SECOND, "symbol": "A"}
            second += 1
    finally:
        closed.append(True)


def test_breaking_out_without_async_with_stops_the_source_task():
    # Nobody calls aclose(): the dropped stream must not leave the task that
    # pulls from the source waiting for room in a channel nobody reads.
    closed: list[bool] = []

    async def main():
        async for window in tumbling_window_event_time(
            endless_seconds(closed), "2s", get_event_time=get_ts, capacity=4
        ):
            return window.start

    assert run(main) == pd.Timestamp(0, tz="UTC") and closed == [True]


def test_a_consumer_cancelled_without_async_with_stops_the_source_task():
    closed: list[bool] = []

    async def main():
        starts: list = []

        async def consume():
            async for window in tumbling_window_event_time(
                endless_seconds(closed), "2s", get_event_time=get_ts, max_batch=4, capacity=4
            ):
                starts.append(window.start)
                await asyncio.Event().wait()  # until cancelled, in the loop body

        consumer = asyncio.ensure_future(consume())
        await settle(lambda: bool(starts))
        consumer.cancel()
        await asyncio.wait([consumer])
        return consumer.cancelled(), starts

    assert run(main) == (True, [pd.Timestamp(0, tz="UTC")]) and closed == [True]


def test_a_failing_plain_source_ends_the_window_stream_with_its_error():
    items = ticks([(i * SECOND, "A") for i in range(20)])

    async def main():
        got = []
        stream = tumbling_window_event_time(
            feed(items, fail_at=15), "2s", get_event_time=get_ts, get_key=get_symbol
        )
        with pytest.raises(Boom):
            async for window in stream:
                got.append(window.start)
        return got

    # Windows closed by the items before the failure still came out.
    assert run(main) == [pd.Timestamp(s * SECOND, tz="UTC") for s in range(0, 14, 2)]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"watermark_policy": WatermarkPolicy(scope="key")}, ValueError, "get_key"),
        (
            {"watermark_policy": WatermarkPolicy(scope="partition"), "get_key": get_symbol},
            ValueError,
            "partitioning",
        ),
        (
            {
                "watermark_policy": WatermarkPolicy(scope="partition"),
                "get_key": get_symbol,
                "partitioning": PartitioningSpec(2),
                "idle_flush": "1s",
            },
            ValueError,
            "idle_flush",
        ),
        ({"idle_flush": "0s"}, ValueError, "idle_flush"),
        ({"time_unit": "minutes"}, ValueError, "time_unit"),
        ({"max_batch": 0}, ValueError, "max_batch"),
        ({"watermark_policy": "2s"}, TypeError, "watermark_policy"),
    ],
)
def test_bad_arguments_are_refused_with_the_argument_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        tumbling_window_event_time([], "1s", get_event_time=get_ts, **kwargs)


# --------------------------------------------------------------------------
# tumbling_window_event_time: the batch result, on random inputs


@st.composite
def live_ticks(draw, *, allow_invalid: bool = True):
    """Items with integer-second-ish times in mixed forms, and their batch frame."""
    n = draw(st.integers(0, 40))
    unit = draw(st.sampled_from([SECOND, SECOND // 2]))
    steps = draw(st.lists(st.integers(-12, 30), min_size=n, max_size=n))
    n_keys = draw(st.integers(1, len(KEYS)))
    keys = draw(st.lists(st.sampled_from(KEYS[:n_keys]), min_size=n, max_size=n))
    nanos: list[int | None] = [step * unit for step in steps]
    if allow_invalid and n and draw(st.booleans()):
        for position in draw(st.lists(st.integers(0, n - 1), max_size=3)):
            if draw(st.booleans()):
                nanos[position] = None
            else:
                keys[position] = None
    forms = draw(st.lists(st.sampled_from(["int", "stamp", "naive"]), min_size=n, max_size=n))
    items = []
    for position, (value, key, form) in enumerate(zip(nanos, keys, forms, strict=True)):
        if value is not None and form == "stamp":
            value = pd.Timestamp(value, tz="UTC").tz_convert("Asia/Tokyo")
        elif value is not None and form == "naive":
            value = pd.Timestamp(value).to_pydatetime()
        items.append({"id": position, "ts": value, "symbol": key})
    pauses = frozenset(draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=6)))
    return items, as_frame(items, nanos), pauses


@st.composite
def stream_options(draw, scopes=("global", "key")):
    size = draw(st.sampled_from(["1s", "2s", "3s", "5s"]))
    spec = TumblingWindowSpec(
        size,
        offset=draw(st.sampled_from([0, "1s", "-1s", "1500ms"])),
        emit_partial=draw(st.booleans()),
    )
    policy = WatermarkPolicy(
        lag=draw(st.sampled_from(["0s", "1s", "3s"])),
        allowed_lateness=draw(st.sampled_from(["0s", "1s", "4s"])),
        scope=draw(st.sampled_from(scopes)),
    )
    return spec, policy, draw(st.sampled_from([1, 2, 3, 16_384]))


@given(data=live_ticks(), options=stream_options())
def test_the_stream_yields_exactly_the_batch_windows(data, options):
    items, frame, pauses = data
    spec, policy, max_batch = options
    late, rejected = [], []

    async def main():
        stream = tumbling_window_event_time(
            feed(items, pauses), spec, get_event_time=get_ts, get_key=get_symbol,
            watermark_policy=policy, on_late=late.append, on_rejected=rejected.append,
            max_batch=max_batch, capacity=max(max_batch, 2),
        )  # fmt: skip
        windows, pending = await collect(stream)
        return window_rows(windows), window_rows(pending), stream.stats

    windows, pending, stats = run(main)
    batch = tumbling_windows(frame, spec, policy, emit="final")
    assert windows == batch_rows(frame, batch, batch.windows)
    assert pending == batch_rows(frame, batch, batch.pending)
    assert [x.item["id"] for x in late] == batch.late["id"].tolist()
    assert [x.watermark for x in late] == batch.late["watermark"].tolist()
    assert [x.late_by for x in late] == batch.late["late_by"].tolist()
    assert [(x.item["id"], x.reason) for x in rejected] == list(
        zip(batch.rejected["id"], batch.rejected["reason"].astype(str), strict=True)
    )
    summary = batch.summary()
    assert {name: stats[name] for name in ("on_time", "late", "dropped", "rejected")} == {
        name: summary[name] for name in ("on_time", "late", "dropped", "rejected")
    }


@given(
    data=live_ticks(allow_invalid=False),
    options=stream_options(scopes=("global",)),
    partitions=st.integers(1, 3),
    capacity=st.integers(1, 6),
)
def test_per_partition_streams_are_batch_scope_partition(data, options, partitions, capacity):
    items, frame, pauses = data
    spec, policy, max_batch = options
    partitioning = PartitioningSpec(partitions=partitions, capacity=capacity)

    async def main():
        parts = await hash_partition(feed(items, pauses), get_key=get_symbol, spec=partitioning)

        async def windows(partition: int):
            stream = tumbling_window_event_time(
                parts.stream_partition(partition), spec, get_event_time=get_ts,
                get_key=get_symbol, watermark_policy=policy, max_batch=max_batch,
            )  # fmt: skip
            emitted, pending = await collect(stream)
            return window_rows(emitted), window_rows(pending)

        results = await asyncio.gather(*(windows(p) for p in parts.partitions()))
        return results, [parts.channel(p).peak for p in parts.partitions()]

    results, peaks = run(main)
    assert max(peaks, default=0) <= capacity
    batch = tumbling_windows(
        frame, spec, lag=policy.lag, allowed_lateness=policy.allowed_lateness,
        scope="partition", partitions=partitions,
    )  # fmt: skip
    for partition, (emitted, pending) in enumerate(results):
        mine = batch.windows[batch.windows["partition"] == partition]
        assert emitted == batch_rows(frame, batch, mine)
        still_open = batch.pending[batch.pending["partition"] == partition]
        assert pending == batch_rows(frame, batch, still_open)


def test_one_stream_with_scope_partition_is_batch_scope_partition():
    rng = np.random.default_rng(3)
    seconds = np.sort(rng.integers(0, 60, 300)) + rng.integers(-4, 2, 300)
    symbols = rng.integers(0, 4, 300)
    items = ticks([(int(s) * SECOND, KEYS[k]) for s, k in zip(seconds, symbols, strict=True)])
    frame = as_frame(items, [item["ts"] for item in items])
    policy = WatermarkPolicy(lag="1s", scope="partition")

    async def main():
        stream = tumbling_window_event_time(
            feed(items), "5s", get_event_time=get_ts, get_key=get_symbol,
            watermark_policy=policy, partitioning=PartitioningSpec(partitions=2),
        )  # fmt: skip
        windows, pending = await collect(stream)
        return window_rows(windows), window_rows(pending)

    windows, pending = run(main)
    batch = tumbling_windows(frame, "5s", policy, partitions=2)
    assert windows == batch_rows(frame, batch, batch.windows)
    assert pending == batch_rows(frame, batch, batch.pending)


# --------------------------------------------------------------------------
# idle_flush


async def settle(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until ``condition()`` holds (or fail after a while)."""
    for _ in range(1_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the stream did not get there")


def test_idle_flush_closes_windows_of_a_quiet_feed_on_a_fake_clock():
    clock = ManualClock()
    t = lambda s: pd.Timestamp(int(s * SECOND), tz="UTC")  # noqa: E731

    async def main():
        source: Channel = Channel(16)
        late: list = []
        stream = tumbling_window_event_time(
            source, "5s", get_event_time=get_ts, get_key=get_symbol,
            idle_flush="2s", clock=clock, on_late=late.append,
        )  # fmt: skip
        windows: list = []

        async def consume():
            async for window in stream:
                windows.append(window)

        consumer = asyncio.ensure_future(consume())
        await source.put_many(ticks([(SECOND, "A"), (3 * SECOND, "A")]))
        await clock.wait_for_sleepers(1)
        clock.advance(1.5)  # quiet for 1.5 s: less than idle_flush
        await asyncio.sleep(0)
        assert windows == [] and stream.watermark == t(3)
        clock.advance(1.0)  # quiet for 2.5 s: the watermark moves on by 2.5 s
        await settle(lambda: len(windows) == 1)
        assert window_rows(windows) == [("A", t(0), t(5), [0, 1], "final")]
        assert stream.watermark == t(5.5)
        # An item for the window just closed is now late; a new one is not.
        await source.put_many([{"id": 2, "ts": 4 * SECOND, "symbol": "A"},
                               {"id": 3, "ts": 6 * SECOND, "symbol": "A"}])  # fmt: skip
        await settle(lambda: len(late) == 1)
        source.close()
        await consumer
        return late, window_rows(stream.pending)

    late, pending = run(main)
    assert [x.item["id"] for x in late] == [2]
    # The ghost row that moved the watermark is in no window.
    assert pending == [("A", t(5), t(10), [3], "pending")]


def test_idle_flush_with_scope_key_moves_every_key_on():
    clock = ManualClock()

    async def main():
        source: Channel = Channel(16)
        stream = tumbling_window_event_time(
            source, "5s", get_event_time=get_ts, get_key=get_symbol, idle_flush="1s",
            clock=clock, watermark_policy=WatermarkPolicy(scope="key"),
        )  # fmt: skip
        windows: list = []

        async def consume():
            async for window in stream:
                windows.append((window.key, [item["id"] for item in window.items]))

        consumer = asyncio.ensure_future(consume())
        await source.put_many(ticks([(SECOND, "A"), (2 * SECOND, "B")]))
        await clock.wait_for_sleepers(1)
        clock.advance(4.5)
        await settle(lambda: len(windows) == 2)
        source.close()
        await consumer
        return windows, stream.pending

    windows, pending = run(main)
    assert windows == [("A", [0]), ("B", [1])] and pending == []


def test_without_idle_flush_a_quiet_feed_closes_nothing():
    async def main():
        source: Channel = Channel(16)
        stream = tumbling_window_event_time(source, "5s", get_event_time=get_ts)
        await source.put_many(ticks([(SECOND, "A")]))
        reading = asyncio.ensure_future(anext(stream, None))
        for _ in range(50):
            await asyncio.sleep(0)
        assert not reading.done()
        source.close()
        return await reading, window_rows(stream.pending)

    assert run(main) == (
        None,
        [(None, pd.Timestamp(0, tz="UTC"), pd.Timestamp(5 * SECOND, tz="UTC"), [0], "pending")],
    )


# --------------------------------------------------------------------------
# Holding items: the arena, routing tags, odd keys


def per_partition_windows(items, partitioning, spec, policy, put_by_hand=()):
    """Windows and pending windows of each partition, with ``put_by_hand`` items
    put straight on partition 0's channel (no routing tag) before the source starts."""

    async def main():
        parts = await hash_partition(feed(items), get_key=get_symbol, spec=partitioning)
        for item in put_by_hand:
            parts.channel(0).put_nowait(item)

        async def windows(partition: int):
            stream = tumbling_window_event_time(
                parts.stream_partition(partition), spec, get_event_time=get_ts,
                get_key=get_symbol, watermark_policy=policy,
            )  # fmt: skip
            return await collect(stream)

        return await asyncio.gather(*(windows(i) for i in parts.partitions()))

    return run(main)


def test_a_long_open_window_survives_arena_compaction(monkeypatch):
    import mdwindow.stream.held as held

    # Compact after a handful of items, so a short stream compacts many times.
    monkeypatch.setattr(held, "ARENA_SLACK", 4)
    # "Q" ticks once at the start; its window stays open (scope "key") while
    # "A" streams through many windows.
    rows = [(0, "Q")] + [(SECOND * i // 3, "A") for i in range(1, 300)] + [(SECOND, "Q")]
    items = ticks(rows)
    policy = WatermarkPolicy(lag="1s", scope="key")

    async def main():
        stream = tumbling_window_event_time(
            feed(items, pauses=frozenset(range(0, 301, 7))), "5s", get_event_time=get_ts,
            get_key=get_symbol, watermark_policy=policy, max_batch=5,
        )  # fmt: skip
        return await collect(stream)

    windows, pending = run(main)
    frame = as_frame(items, [ts for ts, _ in rows])
    batch = tumbling_windows(frame, "5s", policy, emit="final")
    assert window_rows(windows) == batch_rows(frame, batch, batch.windows)
    assert window_rows(pending) == batch_rows(frame, batch, batch.pending)
    assert [w.items for w in pending if w.key == "Q"] == [[items[0], items[-1]]]


def test_items_put_on_a_partition_by_hand_are_windowed_too():
    items = ticks([(SECOND * i, KEYS[i % 4]) for i in range(40)])
    by_hand = [{"id": 100 + i, "ts": SECOND * i, "symbol": "HAND"} for i in range(3)]
    spec = PartitioningSpec(partitions=1)
    [(windows, pending)] = per_partition_windows(items, spec, "5s", WatermarkPolicy(), by_hand)
    everything = by_hand + items
    frame = as_frame(everything, [item["ts"] for item in everything])
    batch = tumbling_windows(frame, "5s", WatermarkPolicy(), emit="final")
    assert window_rows(windows) == batch_rows(frame, batch, batch.windows)
    assert window_rows(pending) == batch_rows(frame, batch, batch.pending)


def test_keys_of_several_types_are_refused_as_batch_refuses_them():
    # One type of key per run, in every mode: a key's identity and partition
    # then depend on that key alone (docs/semantics.md, "Keys").
    keys = [1, "1", ("A", 1), "A", 2.5, ("A", 2)]
    items = ticks([(SECOND * i // 2, keys[i % len(keys)]) for i in range(60)])
    frame = as_frame(items, [item["ts"] for item in items])
    policy = WatermarkPolicy(lag="1s")
    with pytest.raises(TypeError, match="keys of mixed"):
        tumbling_windows(frame, "2s", lag="1s", scope="partition", partitions=3)
    with pytest.raises(TypeError, match="keys of mixed|keys in this chunk"):
        per_partition_windows(items, PartitioningSpec(partitions=1), "2s", policy)


def test_windows_far_apart_on_a_fine_grid():
    # 1 ns windows centuries apart: window ids no longer fit a dense int64 grid.
    far = 4_000_000_000_000_000_000
    rows = [(-far, "A"), (-far, "B"), (0, "A"), (far, "B"), (far, "A"), (far + 5, "A")]
    items = ticks(rows)
    policy = WatermarkPolicy(scope="key")

    async def main():
        stream = tumbling_window_event_time(
            feed(items), "1ns", get_event_time=get_ts, get_key=get_symbol,
            watermark_policy=policy,
        )  # fmt: skip
        return await collect(stream)

    windows, pending = run(main)
    frame = as_frame(items, [ts for ts, _ in rows])
    batch = tumbling_windows(frame, "1ns", policy, emit="final")
    assert window_rows(windows) == batch_rows(frame, batch, batch.windows)
    assert window_rows(pending) == batch_rows(frame, batch, batch.pending)
    assert len(windows) == 4
