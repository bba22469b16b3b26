"""Every way mdwindow can evaluate windows, each held against the reference.

One hypothesis strategy, :func:`cases`, draws a tick frame and its options;
each :class:`Evaluator` runs one front door on a case (drawing what only it
needs, such as a chunking) and compares what that door shows with the
output of :func:`tests.reference.reference` on the same case:

========================  ==========================================================
evaluator                 compares with the reference
========================  ==========================================================
``batch``                 every frame of ``tumbling_windows``
``incremental``           every frame of ``Windower.push`` over a drawn chunking,
                          then ``flush()``
``checkpointed``          the same, with ``checkpoint()`` / ``Windower.restore()``
                          between chunks
``sweep``                 the ``sweep`` row at the drawn (lag, lateness), in a grid
                          of other pairs
``tuner``                 ``WatermarkTuner.summary`` at the drawn (lag, lateness)
``dask``                  every frame of ``mdwindow.dask.tumbling_windows`` over
                          drawn Dask partitions
``stream``                windows (contents and order), pending windows, late and
                          rejected items of ``tumbling_window_event_time``
========================  ==========================================================

What an evaluator cannot show restricts its inputs in one place, its
``supports(case)``, which the test turns into ``hypothesis.assume``.
Only public names of the package are used here.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from mdwindow import (
    TumblingWindowSpec,
    WatermarkPolicy,
    Windower,
    WindowResult,
    sweep,
    tumbling_windows,
)
from tests.compare import assert_matches_reference, same_value
from tests.reference import reference
from tests.strategies import AGGS, KEYS

SECOND = 1_000_000_000
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: The earliest instant datetime64[ns] holds (INT64_MIN is NaT).
EARLIEST = INT64_MIN + 1
#: Whole seconds nearest to the ends of the int64 nanosecond range: window
#: edges of the drawn sizes (with offset 0) sit on them.
LAST_WHOLE_SECOND = INT64_MAX // SECOND * SECOND
FIRST_WHOLE_SECOND = -LAST_WHOLE_SECOND

#: Where the event times of a frame lie: around zero (negative times
#: included) and a few seconds inside either end of the int64 range, where
#: window bounds, ``end + lateness``, ``M - lag`` and ``late_by`` saturate.
REGIONS = [("zero",), ("zero",), ("top",), ("bottom",), ("zero", "top"), ("bottom", "zero", "top")]
TOP_ANCHORS = [INT64_MAX, LAST_WHOLE_SECOND, LAST_WHOLE_SECOND - 1]
BOTTOM_ANCHORS = [EARLIEST, FIRST_WHOLE_SECOND, FIRST_WHOLE_SECOND + 1]

DURATIONS = ["0s", "1s", "2s", "3s", "4s", "5s"]
STATUSES = ("on_time", "late", "dropped", "rejected")


# --------------------------------------------------------------------------
# The inputs


@dataclass(frozen=True)
class Case:
    """A tick frame and the keywords of ``tumbling_windows`` (and the reference)."""

    ticks: pd.DataFrame
    spec: TumblingWindowSpec
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str | None:
        return self.options.get("key", "symbol")

    @property
    def emit(self) -> str:
        return self.options.get("emit", "final")

    @property
    def policy(self) -> WatermarkPolicy:
        return WatermarkPolicy(
            lag=self.options["lag"],
            allowed_lateness=self.options["allowed_lateness"],
            scope=self.options["scope"],
            idle_timeout=self.options.get("idle_timeout"),
        )

    @cached_property
    def expected(self) -> dict[str, list]:
        """What the reference gives: records of windows, pending, late, rejected, trace."""
        return reference(self.ticks, self.spec, **self.options)

    def arrival_order(self) -> list[int]:
        """Row positions in arrival order (SPEC 4: stable order of ``arrival_time``)."""
        column = self.options.get("arrival_time")
        if column is None:
            return list(range(len(self.ticks)))
        stamps = self.ticks[column].tolist()
        return sorted(range(len(stamps)), key=stamps.__getitem__)

    def event_nanos(self) -> list[int | None]:
        """Event time of each row as int ns, None when missing."""
        return [None if t is pd.NaT else t.value for t in self.ticks["ts"]]

    def __repr__(self) -> str:
        # Enough to rebuild the case by hand: times as int ns, keys, arrival stamps.
        ticks = self.ticks
        columns = {
            "ts (ns)": self.event_nanos(),
            "symbol": ticks["symbol"].tolist(),
            "price": ticks["price"].tolist(),
            "size": ticks["size"].tolist(),
            "recv (s)": [t.value // SECOND for t in ticks["recv"]],
            "index": ticks.index.tolist(),
        }
        return f"Case(spec={self.spec!r}, options={self.options!r}, columns={columns!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis' reports
        printer.text(repr(self))


def _times(draw, n: int) -> list[int]:
    """Event times in ns: ties, window edges, negative times, int64 extremes."""
    unit = draw(st.sampled_from([SECOND, SECOND // 2]))
    regions = draw(st.sampled_from(REGIONS))
    top = draw(st.sampled_from(TOP_ANCHORS))
    bottom = draw(st.sampled_from(BOTTOM_ANCHORS))
    steps = draw(st.lists(st.integers(-12, 30), min_size=n, max_size=n))
    where = draw(st.lists(st.sampled_from(regions), min_size=n, max_size=n))
    times = []
    for step, region in zip(steps, where, strict=True):
        if region == "top":
            t = top + (step - 20) * unit
        elif region == "bottom":
            t = bottom + (step + 2) * unit
        else:
            t = step * unit
        times.append(min(max(t, EARLIEST), INT64_MAX))
    return times


@st.composite
def ticks_with_extremes(draw, max_rows: int = 30) -> pd.DataFrame:
    """Ticks in arrival order, with missing times and keys sometimes."""
    n = draw(st.integers(0, max_rows))
    times = np.array(_times(draw, n), dtype=np.int64)
    keys = draw(
        st.lists(st.sampled_from(KEYS[: draw(st.integers(1, len(KEYS)))]), min_size=n, max_size=n)
    )
    missing_time = np.zeros(n, bool)
    missing_key = np.zeros(n, bool)
    if n and draw(st.booleans()):
        rare = st.sampled_from([False] * 9 + [True])
        missing_time = np.array(draw(st.lists(rare, min_size=n, max_size=n)), bool)
        missing_key = np.array(draw(st.lists(rare, min_size=n, max_size=n)), bool)
    ts = pd.Series(times.view("datetime64[ns]")).dt.tz_localize("UTC")
    ts[missing_time] = pd.NaT
    symbol = pd.Series(keys, dtype=object)
    symbol[missing_key] = None
    prices = [10.0, 10.5, 11.0, 9.75, 12.25, float("nan")]
    sizes = [100, 200, 300, 500, 1000]
    arrival = draw(st.lists(st.integers(0, 15), min_size=n, max_size=n))
    frame = pd.DataFrame(
        {
            "ts": ts,
            "symbol": symbol,
            "price": draw(st.lists(st.sampled_from(prices), min_size=n, max_size=n)),
            "size": np.array(
                draw(st.lists(st.sampled_from(sizes), min_size=n, max_size=n)), dtype=np.int64
            ),
            "recv": pd.to_datetime(np.array(arrival, dtype=np.int64), unit="s", utc=True),
        }
    )
    if draw(st.booleans()):
        # A shuffled, non-unique index: arrival is by position, never by label.
        frame.index = pd.Index(draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)))
    return frame


@st.composite
def cases(draw) -> Case:
    """One case for every evaluator: a frame, a window spec and the options."""
    ticks = draw(ticks_with_extremes())
    size = draw(st.sampled_from(["1s", "2s", "3s", "5s"]))
    spec = TumblingWindowSpec(
        size,
        offset=draw(st.sampled_from([0, "1s", "-1s", "1500ms"])),
        emit_partial=draw(st.booleans()),
    )
    key_none = draw(st.sampled_from([False] * 7 + [True]))
    scope = "global" if key_none else draw(st.sampled_from(["global", "key", "partition"]))
    options: dict[str, Any] = {
        "lag": draw(st.sampled_from(["0s", "1s", "2s", "3s"])),
        "allowed_lateness": draw(st.sampled_from(["0s", "1s", "2s", "4s"])),
        "scope": scope,
        "emit": draw(st.sampled_from(["final", "updates"])),
        "agg": draw(st.sampled_from(AGGS)),
    }
    if key_none:
        options["key"] = None
    elif scope == "partition" or draw(st.booleans()):
        options["partitions"] = draw(st.integers(1, 3))
        options["hash"] = draw(st.sampled_from(["murmur3", "murmur3", "kafka"]))
    if scope != "global" and draw(st.booleans()):
        options["idle_timeout"] = draw(st.sampled_from(["0s", "1s", "3s"]))
    if draw(st.booleans()):
        options["arrival_time"] = "recv"
    return Case(ticks, spec, options)


# --------------------------------------------------------------------------
# Reading the reference


def _concat(frames: list[pd.DataFrame], ignore_index: bool) -> pd.DataFrame:
    non_empty = [f for f in frames if len(f)]
    if not non_empty:
        return frames[0]
    return pd.concat(non_empty, ignore_index=ignore_index)


def combined(results: list[WindowResult]) -> WindowResult:
    """The results of consecutive pushes as one result (frames concatenated)."""
    return WindowResult(
        _concat([r.windows for r in results], ignore_index=True),
        _concat([r.pending for r in results], ignore_index=True),
        _concat([r.late for r in results], ignore_index=False),
        _concat([r.rejected for r in results], ignore_index=False),
        _concat([r.trace for r in results], ignore_index=False),
    )


def assert_fed_matches(result: WindowResult, case: Case, fed: list[int]) -> None:
    """Every frame of ``result`` equals the reference, when the rows were handed over
    in the order ``fed`` (row positions): the trace follows that order."""
    expected = case.expected
    fed_expected = {**expected, "trace": [expected["trace"][p] for p in fed]}
    assert_matches_reference(result, fed_expected, case.ticks.iloc[fed])


def emission_latencies(case: Case) -> list[int]:
    """``clock at emission - window_end`` of each window emitted before the end, exactly
    (Python ints): the clock is ``emit_time`` with ``arrival_time``, else the largest
    valid event time seen so far over all rows (the sweep's "market clock")."""
    expected = case.expected
    n = len(expected["trace"])
    emitted = [w for w in expected["windows"] if w["emit_row"] < n]
    if case.options.get("arrival_time") is not None:
        return [w["emit_time"] - w["window_end"] for w in emitted]
    times = case.event_nanos()
    clock, running = [], None
    for p in case.arrival_order():
        if expected["trace"][p]["status"] != "rejected":
            running = times[p] if running is None else max(running, times[p])
        clock.append(running)
    return [clock[w["emit_row"]] - w["window_end"] for w in emitted]


def latencies_fit(case: Case) -> bool:
    """Whether every emission latency, and the distance between any two, fits int64.

    Windows near one end of the int64 range closed by a clock near the other end
    have latencies that do not fit, and the sweep reports them wrapped around
    (negative); latencies that fit but lie more than 2**63 ns apart overflow the
    linear interpolation of the quantiles, and the sweep reports a median of the
    wrong sign. See test_sweep_latency_beyond_int64 and
    test_sweep_latency_quantiles_far_apart.
    """
    latencies = emission_latencies(case)
    if not latencies:
        return True
    lowest, highest = min(latencies), max(latencies)
    return EARLIEST <= lowest and highest <= INT64_MAX and highest - lowest <= INT64_MAX


def window_span_fits(case: Case) -> bool:
    """Whether the distance between the windows of the earliest and the latest event
    time fits int64. When it does not, two front doors go wrong: the stream may
    hand a window another window's items (see test_stream_windows_beyond_int64_apart)
    and the tuner's plot warns of an int64 overflow (see
    test_tuner_plot_of_times_beyond_int64_apart)."""
    times = [t for t in case.event_nanos() if t is not None]
    if not times:
        return True
    size, offset = case.spec.size.value, case.spec.offset.value

    def start(t: int) -> int:
        return offset + (t - offset) // size * size

    return start(max(times)) - start(min(times)) <= INT64_MAX


def times_round_within_int64(case: Case) -> bool:
    """Whether every event time stays below 2**63 when rounded to float64 (times within
    512 ns of the int64 limit round up to it). The tuner's heading turns such a time
    (as days, a float) back into int64 nanoseconds and raises OverflowError; see
    test_tuner_heading_of_the_last_instant."""
    return all(float(t) < 2**63 for t in case.event_nanos() if t is not None)


def reference_counts(case: Case) -> dict[str, Any]:
    """A ``sweep`` row, read off the reference's output for an ``emit="final"`` run."""
    ticks, key, expected = case.ticks, case.key, case.expected
    trace = expected["trace"]
    n = len(trace)
    status = [row["status"] for row in trace]
    counts = {name: status.count(name) for name in STATUSES}
    valid = n - counts["rejected"]
    order = case.arrival_order()
    keys = ticks[key].tolist() if key is not None else [None] * n
    perfect = {(keys[p], trace[p]["window_start"]) for p in range(n) if status[p] != "rejected"}
    incomplete = {(keys[order[r["arrival"]]], r["window_start"]) for r in expected["late"]}
    latency = emission_latencies(case)
    if latency:
        quantiles = np.quantile(np.array(latency, dtype=np.int64), [0.5, 0.99])
        median, p99 = (int(round(float(v))) for v in quantiles)
    else:
        median = p99 = None
    return {
        "rows": n,
        "on_time": counts["on_time"],
        "late_accepted": counts["late"],
        "dropped": counts["dropped"],
        "rejected": counts["rejected"],
        "drop_rate": counts["dropped"] / valid if valid else math.nan,
        "windows": len(expected["windows"]),
        "pending": len(expected["pending"]),
        "incomplete_windows": len(incomplete),
        "completeness": 1 - len(incomplete) / len(perfect) if perfect else math.nan,
        "latency_median": median,
        "latency_p99": p99,
    }


def _plain(value: Any) -> Any:
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timedelta | pd.Timestamp):
        return int(value.value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def assert_counts(got: dict[str, Any], want: dict[str, Any], what: str) -> None:
    mismatched = {
        name: (_plain(got[name]), value)
        for name, value in want.items()
        if not same_value(_plain(got[name]), value)
    }
    assert not mismatched, f"{what}: (got, expected) {mismatched}"


# --------------------------------------------------------------------------
# Drawn layouts of the rows: chunks and partitions


def _keep_ties_in_order(block: list[int], shuffled: list[int], stamps: list[Any]) -> list[int]:
    """``shuffled`` (a permutation of ``block``), with the rows of each arrival stamp
    put back in block order: the stable sort by stamp still gives ``block``."""
    slots: dict[Any, list[int]] = {}
    for slot, p in enumerate(shuffled):
        slots.setdefault(stamps[p], []).append(slot)
    out = list(shuffled)
    rank = {p: i for i, p in enumerate(block)}
    for slot_list in slots.values():
        rows = sorted((shuffled[s] for s in slot_list), key=rank.__getitem__)
        for s, p in zip(slot_list, rows, strict=True):
            out[s] = p
    return out


def draw_blocks(draw, case: Case, max_cuts: int) -> list[list[int]]:
    """Row positions of consecutive chunks (or partitions), empty and one-row ones likely.

    Without ``arrival_time`` the chunks are slices of the frame. With it they are
    slices of the arrival order, each shuffled so that the stable sort by the
    arrival column inside the chunk restores it: the rows arrive in the case's
    order whatever the chunking.
    """
    order = case.arrival_order()
    n = len(order)
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=max_cuts)))
    bounds = [0, *cuts, n]
    blocks = [order[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    column = case.options.get("arrival_time")
    if column is None:
        return blocks
    stamps = case.ticks[column].tolist()
    return [_keep_ties_in_order(b, draw(st.permutations(b)), stamps) for b in blocks]


def others(draw, duration: str, most: int) -> list[str]:
    """Up to ``most`` other grid values around a drawn duration."""
    pool = [d for d in DURATIONS if pd.Timedelta(d) != pd.Timedelta(duration)]
    return sorted(draw(st.sets(st.sampled_from(pool), max_size=most)))


# --------------------------------------------------------------------------
# The evaluators


class Evaluator:
    """One way of evaluating windows, and what it can be compared on."""

    name = ""
    #: Share of the profile's ``max_examples`` it runs (slow evaluators run fewer).
    share = 1.0
    #: Optional modules it needs (the test is skipped without them).
    requires: tuple[str, ...] = ()

    def supports(self, case: Case) -> bool:
        """Whether this evaluator takes the case's options (all of them by default)."""
        return True

    def check(self, case: Case, draw: Any) -> None:
        """Run on ``case`` (``draw``: hypothesis draws of its own) and compare with
        ``case.expected``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


class Batch(Evaluator):
    name = "batch"

    def check(self, case: Case, draw: Any) -> None:
        result = tumbling_windows(case.ticks, case.spec, **case.options)
        assert_matches_reference(result, case.expected, case.ticks)


class Incremental(Evaluator):
    """``Windower.push`` per chunk, then ``flush()``; ``checkpoint_between`` restores the
    Windower from ``checkpoint()`` bytes at drawn chunk boundaries (at least one)."""

    name = "incremental"

    def __init__(self, *, checkpoint_between: bool = False) -> None:
        self.checkpoint_between = checkpoint_between
        if checkpoint_between:
            self.name = "checkpointed"
            self.share = 0.35

    def check(self, case: Case, draw: Any) -> None:
        blocks = draw_blocks(draw, case, max_cuts=8)
        restore_at: set[int] = set()
        if self.checkpoint_between:
            boundaries = st.integers(0, len(blocks))
            restore_at = set(draw(st.lists(boundaries, min_size=1, max_size=3)))
        agg = case.options.get("agg")
        windower = Windower(case.spec, **case.options)
        results = []
        for i, block in enumerate(blocks):
            if i in restore_at:
                windower = Windower.restore(windower.checkpoint(), agg=agg)
            results.append(windower.push(case.ticks.iloc[block]))
        if len(blocks) in restore_at:
            windower = Windower.restore(windower.checkpoint(), agg=agg)
        results.append(windower.flush())
        fed = [p for block in blocks for p in block]
        assert_fed_matches(combined(results), case, fed)


class SweepPoint(Evaluator):
    """The row of ``sweep`` at the case's (lag, lateness), the grid holding other pairs."""

    name = "sweep"

    def supports(self, case: Case) -> bool:
        # A sweep row counts what an emit="final" run reports; it has no
        # aggregates, and agg changes no count.
        return (
            case.emit == "final"
            # Wrapped-around latencies (see latencies_fit): remove once they are not.
            and latencies_fit(case)
        )

    def check(self, case: Case, draw: Any) -> None:
        options = dict(case.options)
        lag, lateness = options.pop("lag"), options.pop("allowed_lateness")
        for unused in ("emit", "agg"):
            options.pop(unused, None)
        lags = draw(st.permutations([lag, *others(draw, lag, 3)]))
        latenesses = draw(st.permutations([lateness, *others(draw, lateness, 2)]))
        grid = sweep(case.ticks, case.spec, lags=lags, lateness=latenesses, **options)
        at = (grid["lag"] == pd.Timedelta(lag)) & (grid["lateness"] == pd.Timedelta(lateness))
        rows = grid[at.to_numpy()]
        assert len(grid) == len(lags) * len(latenesses) and len(rows) == 1
        row = rows.iloc[0].to_dict()
        assert_counts(row, reference_counts(case), f"sweep at ({lag}, {lateness})")


class TunerPoint(Evaluator):
    """``WatermarkTuner.summary`` with the sliders on the case's (lag, lateness).

    Half the time the tuner starts elsewhere and its sliders are moved there.
    """

    name = "tuner"
    share = 0.075
    requires = ("ipywidgets",)

    def supports(self, case: Case) -> bool:
        return (
            # The summary counts an emit="final" run.
            case.emit == "final"
            # The tuner is built for a key column with at least one key.
            and case.key is not None
            and bool(case.ticks[case.key].notna().any())
            # Its plot warns of an overflow (see window_span_fits) or raises one (see
            # times_round_within_int64): remove each once it does not.
            and window_span_fits(case)
            and times_round_within_int64(case)
            # Its latencies are the sweep's (see latencies_fit): remove once they fit.
            and latencies_fit(case)
        )

    def check(self, case: Case, draw: Any) -> None:
        from mdwindow.widgets import WatermarkTuner

        lag, lateness = case.options["lag"], case.options["allowed_lateness"]
        lags = [lag, *others(draw, lag, 3)]
        latenesses = [lateness, *others(draw, lateness, 2)]
        moved = draw(st.booleans())
        start = (draw(st.sampled_from(lags)), draw(st.sampled_from(latenesses)))
        tuner = WatermarkTuner(
            case.ticks,
            case.spec,
            arrival_time=case.options.get("arrival_time"),
            lags=lags,
            lateness=latenesses,
            sizes=[case.spec.size],
            lag=start[0] if moved else lag,
            allowed_lateness=start[1] if moved else lateness,
            scope=case.options["scope"],
            partitions=case.options.get("partitions", 8),
            hash=case.options.get("hash", "murmur3"),
            idle_timeout=case.options.get("idle_timeout"),
        )
        if moved:
            tuner.set(lag=lag, allowed_lateness=lateness)
        assert tuner.message == "", tuner.message
        assert (tuner.policy.lag, tuner.policy.allowed_lateness) == (
            pd.Timedelta(lag),
            pd.Timedelta(lateness),
        )
        want = reference_counts(case)
        want["late"] = want.pop("late_accepted")
        del want["completeness"]  # the tuner shows incomplete windows, not the ratio
        assert_counts(tuner.summary, want, f"tuner at ({lag}, {lateness})")


class DaskBackend(Evaluator):
    """``mdwindow.dask.tumbling_windows`` on drawn partitions (empty ones included),
    computed with the synchronous scheduler."""

    name = "dask"
    share = 0.15
    requires = ("dask.dataframe",)

    def check(self, case: Case, draw: Any) -> None:
        import dask
        import dask.dataframe as dd

        from mdwindow import dask as mdd

        blocks = draw_blocks(draw, case, max_cuts=3)
        parts = [case.ticks.iloc[block] for block in blocks]
        # Object keys stay object (pandas' own dtype), not Arrow strings.
        with dask.config.set({"dataframe.convert-string": False}):
            ddf = dd.from_delayed([dask.delayed(p) for p in parts], meta=parts[0].iloc[:0])
            lazy = mdd.tumbling_windows(
                ddf, case.spec, buckets=draw(st.integers(1, 3)), **case.options
            )
            result = lazy.compute(scheduler="sync")
        fed = [p for block in blocks for p in block]
        assert_fed_matches(result, case, fed)


class Stream(Evaluator):
    """``tumbling_window_event_time`` over the rows as items, in arrival order, split
    into drawn micro-batches; items carry their row position as ``id``."""

    name = "stream"
    share = 0.5

    def supports(self, case: Case) -> bool:
        return (
            # The stream emits final windows of the original items: no updates, no
            # aggregates (agg changes no window's rows, so any agg is fine).
            case.emit == "final"
            # Items mixed up between windows (see window_span_fits): remove once not.
            and window_span_fits(case)
        )

    def check(self, case: Case, draw: Any) -> None:
        from mdwindow.stream import PartitioningSpec, tumbling_window_event_time

        order = case.arrival_order()
        times = case.event_nanos()
        keys = case.ticks[case.key].tolist() if case.key is not None else [None] * len(order)
        items = [{"id": p, "ts": times[p], "symbol": keys[p]} for p in order]
        pauses = frozenset(draw(st.lists(st.integers(0, max(len(items) - 1, 0)), max_size=6)))
        max_batch = draw(st.sampled_from([1, 2, 3, 16_384]))
        partitioning = None
        if "partitions" in case.options:
            partitioning = PartitioningSpec(
                partitions=case.options["partitions"], hash=case.options.get("hash", "murmur3")
            )
        late: list = []
        rejected: list = []

        async def feed():
            for position, item in enumerate(items):
                if position in pauses:
                    await asyncio.sleep(0)
                yield item

        async def run():
            stream = tumbling_window_event_time(
                feed(),
                case.spec,
                get_event_time=lambda item: item["ts"],
                get_key=None if case.key is None else (lambda item: item["symbol"]),
                watermark_policy=case.policy,
                on_late=late.append,
                on_rejected=rejected.append,
                max_batch=max_batch,
                capacity=max(max_batch, 2),
                partitioning=partitioning,
            )
            windows = [window async for window in stream]
            return windows, stream.pending, stream.stats

        windows, pending, stats = asyncio.run(run())

        def shown(frames: list) -> list[tuple]:
            return [
                (w.key, w.start.value, w.end.value, [item["id"] for item in w.items], w.timing)
                for w in frames
            ]

        expected = case.expected
        members: dict[tuple, list[int]] = {}
        for p in order:
            row = expected["trace"][p]
            if row["status"] in ("on_time", "late"):
                members.setdefault((keys[p], row["window_start"]), []).append(p)

        def wanted(records: list[dict]) -> list[tuple]:
            out = []
            for w in records:
                key = w[case.key] if case.key is not None else None
                ids = members[(key, w["window_start"])]
                assert len(ids) == w["count"]
                out.append((key, w["window_start"], w["window_end"], ids, w["timing"]))
            return out

        def dropped(late_items: list) -> list[tuple]:
            return [
                (x.item["id"], x.window_start.value, x.window_end.value, x.watermark.value)
                + (x.late_by.value,)
                for x in late_items
            ]

        assert shown(windows) == wanted(expected["windows"])
        assert shown(pending) == wanted(expected["pending"])
        assert dropped(late) == [
            (order[r["arrival"]], r["window_start"], r["window_end"], r["watermark"], r["late_by"])
            for r in expected["late"]
        ]
        assert [(x.item["id"], x.reason) for x in rejected] == [
            (order[r["arrival"]], r["reason"]) for r in expected["rejected"]
        ]
        status = [row["status"] for row in expected["trace"]]
        assert {name: stats[name] for name in STATUSES} == {
            name: status.count(name) for name in STATUSES
        }


EVALUATORS: list[Evaluator] = [
    Batch(),
    Incremental(),
    Incremental(checkpoint_between=True),
    SweepPoint(),
    TunerPoint(),
    DaskBackend(),
    Stream(),
]


def evaluator_named(name: str) -> Evaluator:
    (found,) = [e for e in EVALUATORS if e.name == name]
    return found
