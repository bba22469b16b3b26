"""``sweep`` against its oracle: one ``tumbling_windows`` call per (lag, lateness) pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdwindow import tumbling_windows
from mdwindow.core.rules import NEG_INF
from mdwindow.sweep import SWEEP_COLUMNS, sweep
from tests.strategies import options, tick_frames

DATA = Path(__file__).resolve().parent.parent / "data"


def _nanos(series: pd.Series) -> np.ndarray:
    """Event times as int64 ns (NaT as NEG_INF), any datetime unit."""
    values = series.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    return values.to_numpy().view(np.int64)


def oracle_row(ticks, spec, lag, lateness, *, time="ts", key="symbol", **opts) -> dict:
    """What the sweep promises for one pair, read off a full windowing run."""
    result = tumbling_windows(
        ticks, spec, lag=lag, allowed_lateness=lateness, time=time, key=key, **opts
    )
    summary = result.summary()
    trace = result.trace
    valid = (trace["status"] != "rejected").to_numpy()
    window_of_row = trace["window_start"].to_numpy()
    if key is None:
        perfect = pd.Series(window_of_row[valid]).nunique()
        incomplete = result.late["window_start"].nunique()
    else:
        pairs = pd.DataFrame({"key": ticks[key].to_numpy(), "window": window_of_row})
        perfect = len(pairs[valid].drop_duplicates())
        incomplete = len(result.late[[key, "window_start"]].drop_duplicates())
    windows = result.windows
    emitted = windows[windows["emit_row"] < len(ticks)]
    end = _nanos(emitted["window_end"])
    if opts.get("arrival_time") is not None:
        latency = _nanos(emitted["emit_time"]) - end
    else:
        # The market clock: the largest valid event time seen up to each arrival.
        by_arrival = np.full(len(ticks), NEG_INF, np.int64)
        arrival = trace["arrival"].to_numpy()
        by_arrival[arrival[valid]] = _nanos(ticks[time])[valid]
        clock = np.maximum.accumulate(by_arrival) if len(ticks) else by_arrival
        latency = clock[emitted["emit_row"].to_numpy()] - end
    if len(latency):
        median, p99 = (int(round(v)) for v in np.quantile(latency, [0.5, 0.99]))
        median, p99 = pd.Timedelta(median), pd.Timedelta(p99)
    else:
        median = p99 = pd.NaT
    n_valid = summary["on_time"] + summary["late"] + summary["dropped"]
    return {
        "lag": pd.Timedelta(lag),
        "lateness": pd.Timedelta(lateness),
        "rows": summary["rows"],
        "on_time": summary["on_time"],
        "late_accepted": summary["late"],
        "dropped": summary["dropped"],
        "rejected": summary["rejected"],
        "drop_rate": summary["drop_rate"],
        "windows": len(result.windows),
        "pending": len(result.pending),
        "incomplete_windows": incomplete,
        "completeness": 1 - incomplete / perfect if perfect else float("nan"),
        "latency_median": median,
        "latency_p99": p99,
        "_valid": n_valid,
    }


def assert_sweep_matches(ticks, spec, lags, latenesses, **opts):
    grid = sweep(ticks, spec, lags=lags, lateness=latenesses, **opts)
    assert list(grid.columns) == list(SWEEP_COLUMNS)
    assert len(grid) == len(lags) * len(latenesses)
    pairs = [(lag, lateness) for lag in lags for lateness in latenesses]
    for (lag, lateness), (_, row) in zip(pairs, grid.iterrows(), strict=True):
        expected = oracle_row(ticks, spec, lag, lateness, **opts)
        expected.pop("_valid")
        for column, want in expected.items():
            got = row[column]
            if isinstance(want, float) and np.isnan(want):
                assert np.isnan(got), (lag, lateness, column, got)
            elif want is pd.NaT:
                assert got is pd.NaT, (lag, lateness, column, got)
            else:
                assert got == pytest.approx(want) if isinstance(want, float) else got == want, (
                    lag,
                    lateness,
                    column,
                    got,
                    want,
                )
    return grid


DURATIONS = ["0s", "1s", "2s", "3s", "5s"]


@given(
    ticks=tick_frames(),
    opts=options(),
    lags=st.lists(st.sampled_from(DURATIONS), min_size=1, max_size=3, unique=True),
    latenesses=st.lists(st.sampled_from(DURATIONS), min_size=1, max_size=2, unique=True),
)
def test_sweep_equals_separate_runs(ticks, opts, lags, latenesses):
    opts = dict(opts)
    spec = opts.pop("spec")
    for unused in ("lag", "allowed_lateness", "emit", "agg"):
        opts.pop(unused, None)
    assert_sweep_matches(ticks, spec, lags, latenesses, **opts)


@given(
    ticks=tick_frames(),
    scope=st.sampled_from(["key", "partition"]),
    idle=st.sampled_from(["0s", "500ms", "1s", "2s", "5s"]),
    arrival=st.sampled_from([None, "recv"]),
    lags=st.lists(st.sampled_from(DURATIONS), min_size=1, max_size=3, unique=True),
    latenesses=st.lists(st.sampled_from(DURATIONS), min_size=1, max_size=2, unique=True),
    ways=st.sampled_from(["table", "search", "sorted"]),
)
def test_sweep_with_idle_timeout_equals_separate_runs(
    ticks, scope, idle, arrival, lags, latenesses, ways
):
    # A quiet key's windows close when the global maximum (less the timeout) reaches
    # them: by a row of another key. Each way of finding windows and closing rows.
    import mdwindow.core.grid.closing as closing
    import mdwindow.core.grid.windows as windows

    with pytest.MonkeyPatch.context() as patch:
        if ways != "table":
            patch.setattr(closing, "CLOSING_TABLE_PER_WINDOW", 0)
            patch.setattr(closing, "MIN_CLOSING_TABLE", 0)
        if ways == "sorted":
            patch.setattr(windows, "DENSE_SLOTS_PER_ROW", 0)
            patch.setattr(windows, "MIN_DENSE_SLOTS", 0)
        assert_sweep_matches(
            ticks, "2s", lags, latenesses, scope=scope, idle_timeout=idle, partitions=2,
            arrival_time=arrival,
        )  # fmt: skip


@settings(max_examples=50)
@given(
    ticks=tick_frames(allow_invalid=False),
    lags=st.lists(st.sampled_from(DURATIONS), min_size=1, max_size=3, unique=True),
)
def test_sweep_without_key(ticks, lags):
    assert_sweep_matches(ticks, "2s", lags, ["0s", "1s"], key=None)


def small_sample() -> pd.DataFrame:
    return pd.read_csv(DATA / "ticks_small.csv", parse_dates=["ts", "recv_ts"])


@pytest.mark.parametrize(
    "opts",
    [
        {"scope": "global"},
        {"scope": "global", "arrival_time": "recv_ts"},
        {"scope": "key", "arrival_time": "recv_ts"},
        {"scope": "partition", "partitions": 3, "idle_timeout": "2s"},
        {"scope": "key", "idle_timeout": "500ms"},
    ],
)
def test_sweep_equals_separate_runs_on_small_sample(opts):
    grid = assert_sweep_matches(
        small_sample(), "1s", ["0s", "100ms", "2s"], ["0s", "250ms", "1s"], **opts
    )
    # The sample has late data: the grid must show a real trade-off.
    assert grid["dropped"].iloc[0] > grid["dropped"].iloc[-1]


def test_sweep_equals_separate_runs_on_parquet_sample():
    ticks = pd.read_parquet(DATA / "ticks_sample.parquet")
    grid = assert_sweep_matches(
        ticks, "1s", ["0s", "2s"], ["0s", "500ms"], scope="key", arrival_time="recv_ts"
    )
    assert grid.attrs["latency_clock"] == "arrival_time"
    # More waiting costs latency and saves rows.
    assert grid["latency_median"].is_monotonic_increasing
    assert grid["dropped"].is_monotonic_decreasing


def test_emit_partial_counts_open_windows_as_windows():
    ticks = small_sample()
    spec_partial = "1s"
    from mdwindow import TumblingWindowSpec

    assert_sweep_matches(ticks, TumblingWindowSpec("1s", emit_partial=True), ["1s"], ["0s"])
    plain = sweep(ticks, spec_partial, lags="1s", lateness="0s")
    partial = sweep(ticks, TumblingWindowSpec("1s", emit_partial=True), lags="1s", lateness="0s")
    assert partial["pending"].iloc[0] == 0
    assert partial["windows"].iloc[0] == plain["windows"].iloc[0] + plain["pending"].iloc[0]


def test_result_layout_and_attrs():
    ticks = small_sample()
    grid = sweep(ticks, "1s", lags=["0s", "1s"], lateness="0s")
    assert grid[["lag", "lateness"]].dtypes.tolist() == [np.dtype("timedelta64[ns]")] * 2
    assert grid["latency_median"].dtype == np.dtype("timedelta64[ns]")
    assert grid["rows"].dtype == np.int64
    assert grid["lag"].tolist() == [pd.Timedelta(0), pd.Timedelta("1s")]
    assert grid.attrs["latency_clock"] == "event_time"
    assert grid.attrs["scope"] == "global"
    assert grid.attrs["window"] == pd.Timedelta("1s")
    assert grid.attrs["perfect_windows"] > 0
    assert (
        (grid["on_time"] + grid["late_accepted"] + grid["dropped"] + grid["rejected"])
        .eq(len(ticks))
        .all()
    )


def test_empty_frame():
    ticks = small_sample().iloc[:0]
    grid = sweep(ticks, "1s", lags=["0s"], lateness=["0s"])
    row = grid.iloc[0]
    assert row["rows"] == 0 and row["windows"] == 0
    assert np.isnan(row["drop_rate"]) and np.isnan(row["completeness"])
    assert row["latency_median"] is pd.NaT


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lags": [], "lateness": "0s"}, ValueError, "lags: got an empty sequence"),
        ({"lags": "-1s", "lateness": "0s"}, ValueError, "lags: got -1 days"),
        ({"lags": "1s", "lateness": 5}, TypeError, "lateness: got the bare number 5"),
        ({"lags": "1s", "lateness": "0s", "scope": "partition"}, ValueError, "partitions"),
        ({"lags": "1s", "lateness": "0s", "time": "nope"}, KeyError, "'nope'"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        sweep(small_sample(), "1s", **kwargs)


def test_integer_times_with_a_unit_match_datetimes():
    ticks = small_sample().dropna(subset=["ts"]).reset_index(drop=True)
    ticks["ts"] = ticks["ts"].dt.floor("ms")
    as_ms = ticks.assign(ts=ticks["ts"].astype("int64") // 10**6)
    lags, latenesses = ["0s", "200ms"], ["0s", "1s"]
    by_datetime = sweep(ticks, "1s", lags=lags, lateness=latenesses, scope="key")
    by_integer = sweep(as_ms, "1s", lags=lags, lateness=latenesses, scope="key", time_unit="ms")
    pd.testing.assert_frame_equal(by_datetime, by_integer)
