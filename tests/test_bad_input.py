"""Bad input: clear errors for bad arguments, ``rejected`` rows for bad data.

Arguments that cannot be run are refused before any work, with an error that
names the argument or column and says what to do. Rows that cannot be placed
(no event time, no key, a time int64 nanoseconds cannot hold) are not errors:
they go to ``rejected`` with a reason and never move a watermark.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mdwindow import TumblingWindowSpec, WatermarkPolicy, tumbling_windows

SECOND = 1_000_000_000
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def ticks(seconds=(0, 1, 2), symbols=("AAPL", "MSFT", "AAPL")) -> pd.DataFrame:
    n = len(seconds)
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(list(seconds), unit="s", utc=True),
            "symbol": list(symbols),
            "price": [10.0 + i for i in range(n)],
            "size": [100 * (i + 1) for i in range(n)],
        }
    )


def ns(values) -> list:
    """Datetime-like values as int nanoseconds (None for NaT)."""
    return [None if pd.isna(v) else int(pd.Timestamp(v).value) for v in values]


# --------------------------------------------------------------------------
# Missing columns


def test_ticks_must_be_a_dataframe():
    with pytest.raises(TypeError, match=r"ticks: got list; give a pandas DataFrame"):
        tumbling_windows([1, 2, 3], "1s")


def test_missing_time_column_names_it():
    with pytest.raises(KeyError, match=r"time: column 'ts' is not in the frame.*pass time="):
        tumbling_windows(ticks().drop(columns="ts"), "1s")


def test_missing_key_column_names_it():
    with pytest.raises(KeyError, match=r"key: column 'symbol' is not in the frame.*pass key="):
        tumbling_windows(ticks().drop(columns="symbol"), "1s")


def test_missing_price_column_for_ohlcv():
    with pytest.raises(KeyError, match=r"column 'price' is not in the frame.*price="):
        tumbling_windows(ticks().drop(columns="price"), "1s", agg="ohlcv")


def test_missing_size_column_for_ohlcv():
    with pytest.raises(KeyError, match=r"column 'size' is not in the frame.*size="):
        tumbling_windows(ticks().drop(columns="size"), "1s", agg="ohlcv")


def test_renamed_price_and_size_columns_are_read():
    frame = ticks().rename(columns={"price": "px", "size": "qty"})
    result = tumbling_windows(frame, "10s", agg="ohlcv", price="px", size="qty")
    assert result.pending["volume"].tolist() == [400, 200]


def test_missing_aggregated_column_of_a_dict_agg():
    with pytest.raises(KeyError, match=r"column 'bid' is not in the frame"):
        tumbling_windows(ticks(), "1s", agg={"best_bid": ("bid", "max")})


# --------------------------------------------------------------------------
# Time columns


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda s: s.astype(str), id="strings"),
        pytest.param(lambda s: s.astype(object), id="objects"),
    ],
)
def test_string_or_object_time_column_says_to_use_to_datetime(convert):
    frame = ticks()
    frame["ts"] = convert(frame["ts"])
    with pytest.raises(TypeError, match=r"'ts'.*pd\.to_datetime"):
        tumbling_windows(frame, "1s")


def test_integer_time_without_time_unit():
    frame = ticks().assign(ts=[0, 1, 2])
    with pytest.raises(TypeError, match=r"'ts'.*integers.*time_unit='s', 'ms', 'us' or 'ns'"):
        tumbling_windows(frame, "1s")


def test_unknown_time_unit():
    frame = ticks().assign(ts=[0, 1, 2])
    with pytest.raises(ValueError, match=r"time_unit: got 'h'; choose one of 's', 'ms'"):
        tumbling_windows(frame, "1s", time_unit="h")


@pytest.mark.parametrize("time_unit", [None, "s"])
def test_float_time_column_says_how_to_convert(time_unit):
    frame = ticks().assign(ts=[0.0, 1.0, 2.0])
    with pytest.raises(TypeError, match=r"'ts'.*float64.*pd\.to_datetime"):
        tumbling_windows(frame, "1s", time_unit=time_unit)


def test_time_unit_with_a_datetime_column():
    with pytest.raises(ValueError, match=r"time_unit: column 'ts' already holds datetimes"):
        tumbling_windows(ticks(), "1s", time_unit="s")


def test_integer_arrival_time_error_is_about_arrival_time():
    # time_unit describes the event-time column only; telling the user to pass
    # it for arrival_time sends them to an option that cannot help (passing it
    # then fails on 'ts'). The error must name arrival_time and say to convert.
    frame = ticks().assign(seq=[2, 1, 0])
    with pytest.raises(TypeError, match=r"arrival_time.*'seq'.*pd\.to_datetime"):
        tumbling_windows(frame, "1s", arrival_time="seq")


# --------------------------------------------------------------------------
# Options


def test_unknown_scope():
    with pytest.raises(ValueError, match=r"scope: got 'symbol'; choose one of 'global', 'key'"):
        tumbling_windows(ticks(), "1s", scope="symbol")


def test_unknown_emit():
    with pytest.raises(ValueError, match=r"emit: got 'always'; choose 'final' or 'updates'"):
        tumbling_windows(ticks(), "1s", emit="always")


def test_unknown_hash():
    with pytest.raises(ValueError, match=r"hash: got 'md5'; choose one of 'murmur3', 'kafka'"):
        tumbling_windows(ticks(), "1s", partitions=2, hash="md5")


@pytest.mark.parametrize("size", ["0s", "-1s", pd.Timedelta(0), dt.timedelta(seconds=-5), 0])
def test_size_must_be_positive(size):
    with pytest.raises(ValueError, match=r"size: got .*a window size must be > 0"):
        tumbling_windows(ticks(), size)


def test_size_must_be_positive_in_a_spec():
    with pytest.raises(ValueError, match=r"size: got .*must be > 0"):
        TumblingWindowSpec("-2s")


@pytest.mark.parametrize("name", ["lag", "allowed_lateness"])
def test_negative_lag_or_lateness(name):
    with pytest.raises(ValueError, match=rf"{name}: got .*>= 0"):
        tumbling_windows(ticks(), "1s", **{name: "-1s"})
    with pytest.raises(ValueError, match=rf"{name}: got .*>= 0"):
        WatermarkPolicy(**{name: pd.Timedelta("-1ms")})


def test_idle_timeout_with_global_scope():
    with pytest.raises(ValueError, match=r"idle_timeout: only applies to scope='key' or "):
        tumbling_windows(ticks(), "1s", idle_timeout="5s")


@pytest.mark.parametrize("partitions", [0, -2, 2.5, "3", True])
def test_partitions_must_be_a_whole_number_at_least_one(partitions):
    with pytest.raises(ValueError, match=r"partitions: got .*give a whole number >= 1"):
        tumbling_windows(ticks(), "1s", partitions=partitions)


def test_numpy_integer_partitions_are_accepted():
    result = tumbling_windows(ticks(), "10s", partitions=np.int64(2))
    assert result.pending["symbol"].tolist() == ["AAPL", "MSFT"]
    assert result.pending["partition"].tolist() == [1, 0]  # SPEC 8: AAPL -> 1, MSFT -> 0


def test_policy_and_policy_keywords_together():
    with pytest.raises(TypeError, match=r"policy: a WatermarkPolicy was given together with"):
        tumbling_windows(ticks(), "1s", WatermarkPolicy(lag="1s"), allowed_lateness="1s")


def test_unknown_keyword():
    with pytest.raises(
        TypeError, match=r"unexpected keyword argument.*'lateness'.*allowed_lateness"
    ):
        tumbling_windows(ticks(), "1s", lateness="1s")


def test_partition_scope_without_partitions():
    with pytest.raises(ValueError, match=r"partitions: scope='partition' needs partitions="):
        tumbling_windows(ticks(), "1s", scope="partition")


@pytest.mark.parametrize("scope", ["key", "partition"])
def test_keyed_scope_without_key(scope):
    with pytest.raises(ValueError, match=rf"scope: '{scope}' needs a key column.*scope='global'"):
        tumbling_windows(ticks(), "1s", key=None, scope=scope, partitions=2)


def test_unknown_aggregation_function():
    with pytest.raises(ValueError, match=r"agg\['x'\]: unknown function 'mode'; choose one of"):
        tumbling_windows(ticks(), "1s", agg={"x": ("price", "mode")})


@pytest.mark.parametrize("name", ["count", "window_start", "symbol"])
def test_aggregate_name_clashing_with_a_result_column(name):
    with pytest.raises(ValueError, match=rf"agg: output name '{name}' clashes.*choose another"):
        tumbling_windows(ticks(), "1s", agg={name: ("price", "max")})


def test_unknown_agg_string():
    with pytest.raises(ValueError, match=r"agg: got 'ohlc'; give None, 'ohlcv' or a dict"):
        tumbling_windows(ticks(), "1s", agg="ohlc")


# --------------------------------------------------------------------------
# Durations


def test_unparsable_duration_string():
    with pytest.raises(ValueError, match=r"size: cannot read '5 parsecs' as a duration.*'5s'"):
        tumbling_windows(ticks(), "5 parsecs")
    with pytest.raises(ValueError, match=r"lag: cannot read 'soon' as a duration"):
        tumbling_windows(ticks(), "1s", lag="soon")


@pytest.mark.parametrize("name", ["size", "lag", "allowed_lateness", "offset"])
def test_bare_integer_durations_are_refused(name):
    with pytest.raises(TypeError, match=rf"{name}: got the bare number 5, which has no unit"):
        if name == "size":
            tumbling_windows(ticks(), 5)
        elif name == "offset":
            TumblingWindowSpec("1s", offset=5)
        else:
            tumbling_windows(ticks(), "1s", **{name: 5})


def test_integer_zero_is_a_duration():
    assert WatermarkPolicy(lag=0, allowed_lateness=0).lag == pd.Timedelta(0)
    assert TumblingWindowSpec("1s", offset=0).offset == pd.Timedelta(0)


@pytest.mark.parametrize(
    "duration",
    ["2s", "2000ms", pd.Timedelta(seconds=2), dt.timedelta(seconds=2), np.timedelta64(2, "s")],
    ids=["str", "str-ms", "Timedelta", "timedelta", "timedelta64"],
)
def test_every_duration_type_is_accepted(duration):
    spec = TumblingWindowSpec(duration, offset=duration)
    policy = WatermarkPolicy(
        lag=duration, allowed_lateness=duration, scope="key", idle_timeout=duration
    )
    assert spec.size == pd.Timedelta("2s") and spec.offset == pd.Timedelta(0)
    assert policy.lag == policy.allowed_lateness == policy.idle_timeout == pd.Timedelta("2s")


def test_missing_arrival_time_is_an_error_not_a_rejected_row():
    frame = ticks().assign(recv=pd.to_datetime([0, None, 1], unit="s", utc=True))
    with pytest.raises(ValueError, match=r"arrival_time: column 'recv' has 1 missing value"):
        tumbling_windows(frame, "1s", arrival_time="recv")


# --------------------------------------------------------------------------
# Rows that cannot be placed go to ``rejected``


def test_nat_event_time_is_rejected():
    frame = ticks((0, 1, 2))
    frame.loc[1, "ts"] = pd.NaT
    result = tumbling_windows(frame, "1s")
    assert result.rejected.index.tolist() == [1]
    assert result.rejected["reason"].tolist() == ["missing_time"]
    assert result.rejected["arrival"].tolist() == [1]
    assert result.trace["status"].tolist() == ["on_time", "rejected", "on_time"]
    assert result.trace["window_start"].isna().tolist() == [False, True, False]


@pytest.mark.parametrize(
    "symbol",
    [
        pd.Series(["AAPL", None, "AAPL"], dtype=object),
        pd.Series(["AAPL", np.nan, "AAPL"], dtype=object),
        pd.Series(["AAPL", pd.NA, "AAPL"], dtype=object),
        pd.Series(["AAPL", pd.NA, "AAPL"], dtype="string"),
        pd.Series(["AAPL", None, "AAPL"], dtype="str"),
        pd.Series(["AAPL", None, "AAPL"], dtype="category"),
        pd.Series([7.0, np.nan, 7.0]),
        pd.Series([7, pd.NA, 7], dtype="Int64"),
    ],
    ids=["None", "NaN", "NA", "string-NA", "str-None", "category", "float-NaN", "Int64-NA"],
)
def test_missing_key_is_rejected(symbol):
    frame = pd.DataFrame({"ts": pd.to_datetime([0, 9, 1], unit="s", utc=True), "symbol": symbol})
    result = tumbling_windows(frame, "2s")
    assert result.rejected.index.tolist() == [1]
    assert result.rejected["reason"].tolist() == ["missing_key"]
    # The rejected row's 9s would have pushed the watermark past [0, 2).
    assert ns(result.trace["watermark_before"]) == [None, 0, 0]
    assert result.trace["status"].tolist() == ["on_time", "rejected", "on_time"]
    assert result.pending["count"].tolist() == [2]


def test_out_of_range_integer_time_is_rejected():
    # 2**62 seconds is far beyond what int64 nanoseconds can hold.
    frame = pd.DataFrame({"ts": [0, 2**62, -(2**62), 1], "symbol": "AAPL"})
    result = tumbling_windows(frame, "2s", time_unit="s")
    assert result.rejected["reason"].tolist() == ["time_out_of_range"] * 2
    assert result.rejected["arrival"].tolist() == [1, 2]
    assert result.rejected["ts"].tolist() == [2**62, -(2**62)]  # original values kept
    assert ns(result.trace["watermark_before"]) == [None, 0, 0, 0]
    assert result.trace["status"].tolist() == ["on_time", "rejected", "rejected", "on_time"]
    assert result.pending["count"].tolist() == [2]


def test_rejected_rows_do_not_move_the_watermark():
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime([0, 50, None, 60, 1], unit="s", utc=True),
            "symbol": ["AAPL", None, "AAPL", None, "AAPL"],
        }
    )
    result = tumbling_windows(frame, "2s")
    assert result.trace["status"].tolist() == [
        "on_time", "rejected", "rejected", "rejected", "on_time",
    ]  # fmt: skip
    assert ns(result.trace["watermark_before"]) == [None, 0, 0, 0, 0]
    assert ns(result.trace["watermark_after"]) == [0, 0, 0, 0, 1 * SECOND]
    assert result.rejected["reason"].tolist() == ["missing_key", "missing_time", "missing_key"]
    assert len(result.late) == 0


def test_missing_time_and_missing_key_reports_missing_time():
    frame = pd.DataFrame({"ts": pd.to_datetime([None], utc=True), "symbol": [None]})
    result = tumbling_windows(frame, "1s")
    assert result.rejected["reason"].tolist() == ["missing_time"]


@pytest.mark.parametrize("scope", ["key", "partition"])
def test_missing_key_has_no_watermark_in_a_keyed_scope(scope):
    frame = pd.DataFrame(
        {"ts": pd.to_datetime([5, 6], unit="s", utc=True), "symbol": ["AAPL", None]}
    )
    result = tumbling_windows(frame, "1s", scope=scope, partitions=2)
    assert ns(result.trace["watermark_before"]) == [None, None]
    assert ns(result.trace["watermark_after"]) == [5 * SECOND, None]


def test_missing_time_shows_its_keys_watermark():
    frame = pd.DataFrame(
        {"ts": pd.to_datetime([5, None, 7], unit="s", utc=True), "symbol": ["A", "A", "B"]}
    )
    result = tumbling_windows(frame, "1s", scope="key")
    assert ns(result.trace["watermark_before"]) == [None, 5 * SECOND, None]
    assert ns(result.trace["watermark_after"]) == [5 * SECOND, 5 * SECOND, 7 * SECOND]


def test_missing_key_shows_the_global_watermark_in_global_scope():
    frame = pd.DataFrame(
        {"ts": pd.to_datetime([5, 6], unit="s", utc=True), "symbol": ["AAPL", None]}
    )
    result = tumbling_windows(frame, "1s", lag="1s")
    assert ns(result.trace["watermark_before"]) == [None, 4 * SECOND]
    assert ns(result.trace["watermark_after"]) == [4 * SECOND, 4 * SECOND]


# --------------------------------------------------------------------------
# Empty input

WINDOW_DTYPES = {
    "symbol": None,  # whatever the input's key dtype is
    "window_start": "datetime64[ns, UTC]",
    "window_end": "datetime64[ns, UTC]",
    "count": "int64",
    "late_count": "int64",
    "timing": "category",
    "revision": "int64",
    "emit_row": "int64",
    "emit_watermark": "datetime64[ns, UTC]",
}
TRACE_DTYPES = {
    "arrival": "int64",
    "window_start": "datetime64[ns, UTC]",
    "watermark_before": "datetime64[ns, UTC]",
    "watermark_after": "datetime64[ns, UTC]",
    "status": "category",
}


def assert_dtypes(frame: pd.DataFrame, expected: dict) -> None:
    assert list(frame.columns) == list(expected)
    for column, dtype in expected.items():
        if dtype is not None:
            assert str(frame[column].dtype) == dtype, (column, frame[column].dtype)


def test_empty_frame_gives_an_empty_result_with_typed_columns():
    empty = ticks().iloc[:0]
    result = tumbling_windows(empty, "1s")
    for frame in (result.windows, result.pending):
        assert len(frame) == 0
        assert_dtypes(frame, WINDOW_DTYPES)
    assert list(result.windows["timing"].cat.categories) == [
        "on_time", "late", "final", "partial", "pending",
    ]  # fmt: skip
    assert len(result.trace) == 0
    assert_dtypes(result.trace, TRACE_DTYPES)
    assert list(result.trace["status"].cat.categories) == [
        "on_time", "late", "dropped", "rejected",
    ]  # fmt: skip
    assert_dtypes(
        result.late,
        {
            **dict(empty.dtypes.astype(str)),
            "arrival": "int64",
            "window_start": "datetime64[ns, UTC]",
            "window_end": "datetime64[ns, UTC]",
            "watermark": "datetime64[ns, UTC]",
            "late_by": "timedelta64[ns]",
        },
    )
    assert_dtypes(
        result.rejected,
        {**dict(empty.dtypes.astype(str)), "arrival": "int64", "reason": "category"},
    )
    assert list(result.rejected["reason"].cat.categories) == [
        "missing_time", "missing_key", "time_out_of_range",
    ]  # fmt: skip
    summary = result.summary()
    assert {k: v for k, v in summary.items() if k != "drop_rate"} == {
        "rows": 0, "on_time": 0, "late": 0, "dropped": 0, "rejected": 0,
        "windows": 0, "pending": 0,
    }  # fmt: skip
    assert np.isnan(summary["drop_rate"])


def test_empty_frame_with_object_key_and_us_times():
    empty = pd.DataFrame(
        {
            "ts": pd.Series([], dtype="datetime64[us, UTC]"),
            "symbol": pd.Series([], dtype=object),
            "price": pd.Series([], dtype=float),
            "size": pd.Series([], dtype=np.int64),
        }
    )
    result = tumbling_windows(empty, "1s", emit="updates", agg="ohlcv", partitions=3)
    assert len(result.windows) == len(result.pending) == len(result.trace) == 0
    assert list(result.windows.columns[:3]) == ["symbol", "partition", "window_start"]


# --------------------------------------------------------------------------
# Times near the int64 limits do not wrap around


@pytest.mark.parametrize("raw", [INT64_MAX - 10, INT64_MIN + 5], ids=["max", "min"])
def test_window_outside_int64_is_out_of_range(raw):
    frame = pd.DataFrame({"ts": np.array([raw, 0], dtype=np.int64), "symbol": "AAPL"})
    result = tumbling_windows(frame, "1s", time_unit="ns")
    assert result.rejected["reason"].tolist() == ["time_out_of_range"]
    assert result.rejected["ts"].tolist() == [raw]
    assert ns(result.trace["watermark_after"]) == [None, 0]
    assert result.trace["status"].tolist() == ["rejected", "on_time"]
    assert ns(result.pending["window_start"]) == [0]


def test_datetime_whose_window_ends_after_the_int64_limit():
    frame = pd.DataFrame(
        {
            "ts": pd.Series([pd.Timestamp.max, pd.Timestamp(0)]).dt.tz_localize("UTC"),
            "symbol": "AAPL",
        }
    )
    result = tumbling_windows(frame, "1s")
    assert result.rejected["reason"].tolist() == ["time_out_of_range"]
    assert result.trace["status"].tolist() == ["rejected", "on_time"]


def test_second_resolution_datetimes_beyond_the_ns_range():
    # datetime64[s] holds year 3000; int64 nanoseconds do not (SPEC 2: never assume ns).
    ts = np.array(["3000-01-01", "1970-01-01T00:00:01"], dtype="datetime64[s]")
    result = tumbling_windows(pd.DataFrame({"ts": ts, "symbol": "AAPL"}), "1s")
    assert result.rejected["reason"].tolist() == ["time_out_of_range"]
    assert result.rejected["ts"].tolist() == [pd.Timestamp("3000-01-01")]
    assert ns(result.trace["watermark_after"]) == [None, SECOND]


def test_a_valid_time_far_in_the_future_works():
    far = 2**62  # year 2116
    frame = pd.DataFrame(
        {"ts": np.array([far, 0, far + SECOND], dtype=np.int64), "symbol": "AAPL"}
    )
    result = tumbling_windows(frame, "1s", time_unit="ns", allowed_lateness="1s")
    start = far - far % SECOND
    assert len(result.rejected) == 0
    assert ns(result.trace["watermark_after"]) == [far, far, far + SECOND]
    assert result.trace["status"].tolist() == ["on_time", "dropped", "on_time"]
    assert ns(result.late["window_start"]) == [0]
    assert ns(result.late["watermark"]) == [far]
    assert result.late["late_by"].tolist() == [pd.Timedelta(far - 2 * SECOND)]
    assert ns(result.pending["window_start"]) == [start, start + SECOND]


# Windows far apart: the distance between two valid window starts can exceed
# int64 (1700 to 2200 is 1.58e19 ns). Run in a child process so that a crash
# of the engine fails this test instead of killing the whole test session.
FAR_APART = r"""
import json
import numpy as np
import pandas as pd
from mdwindow import tumbling_windows

cases = {
    "datetime": (
        pd.DataFrame({"ts": pd.to_datetime(["1700-01-01", "2200-01-01"], utc=True),
                      "symbol": "AAPL"}),
        None,
    ),
    "int-ns": (
        pd.DataFrame({"ts": np.array([-9 * 10**18, 9 * 10**18], dtype=np.int64),
                      "symbol": "AAPL"}),
        "ns",
    ),
}
out = {}
for name, (ticks, unit) in cases.items():
    result = tumbling_windows(ticks, "1s", time_unit=unit)
    out[name] = {
        frame: [[int(row.window_start.value), int(row.count), int(row.emit_row)]
                for row in getattr(result, frame).itertuples()]
        for frame in ("windows", "pending")
    }
    out[name]["late"] = len(result.late)
print(json.dumps(out))
"""


def test_windows_further_apart_than_int64_can_count():
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.run(
        [sys.executable, "-c", FAR_APART],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"engine crashed (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
    out = json.loads(proc.stdout)
    low, high = ns(pd.to_datetime(["1700-01-01", "2200-01-01"], utc=True))
    assert out["datetime"] == {"windows": [[low, 1, 1]], "pending": [[high, 1, 2]], "late": 0}
    assert out["int-ns"] == {
        "windows": [[-9 * 10**18, 1, 1]],
        "pending": [[9 * 10**18, 1, 2]],
        "late": 0,
    }


def test_late_by_saturates_instead_of_wrapping():
    high = INT64_MAX - 5 * SECOND
    low = INT64_MIN + 5 * SECOND
    frame = pd.DataFrame({"ts": np.array([high, low], dtype=np.int64), "symbol": "AAPL"})
    result = tumbling_windows(frame, "1s", time_unit="ns")
    assert result.trace["status"].tolist() == ["on_time", "dropped"]
    assert result.late["late_by"].tolist() == [pd.Timedelta(INT64_MAX, "ns")]
    assert result.late["late_by"].iloc[0] >= pd.Timedelta(0)


# --------------------------------------------------------------------------
# Index and time representations

SECONDS = [0, 3, 1, 7, 2, 12, 5]
SYMBOLS = list("ABABABA")


def frame_with_times(ts) -> pd.DataFrame:
    return pd.DataFrame({"ts": ts, "symbol": SYMBOLS, "price": np.arange(7.0)})


def run(frame, **kwargs):
    return tumbling_windows(frame, "2s", lag="1s", agg={"last": ("price", "last")}, **kwargs)


@pytest.fixture(scope="module")
def utc_result():
    return run(frame_with_times(pd.to_datetime(SECONDS, unit="s", utc=True).as_unit("ns")))


def assert_same_windows(result, expected):
    pd.testing.assert_frame_equal(result.windows, expected.windows)
    pd.testing.assert_frame_equal(result.pending, expected.pending)
    columns = ["arrival", "window_start", "window_end", "watermark", "late_by"]
    pd.testing.assert_frame_equal(result.late[columns], expected.late[columns])
    pd.testing.assert_frame_equal(result.trace, expected.trace)


def test_non_unique_unsorted_index(utc_result):
    frame = frame_with_times(pd.to_datetime(SECONDS, unit="s", utc=True))
    frame.index = pd.Index([5, 5, 3, 1, 3, 0, 9])
    result = run(frame)
    pd.testing.assert_frame_equal(result.windows, utc_result.windows)
    assert result.trace.index.equals(frame.index)
    assert result.trace["arrival"].tolist() == list(range(7))
    assert result.late.index.tolist() == [3, 3, 9]  # labels of positions 2, 4, 6
    assert result.late["arrival"].tolist() == [2, 4, 6]
    assert result.late["price"].tolist() == [2.0, 4.0, 6.0]


def test_non_unique_index_with_arrival_time(utc_result):
    frame = frame_with_times(pd.to_datetime(SECONDS, unit="s", utc=True))
    frame.index = pd.Index(["x", "x", "y", "x", "y", "z", "x"])
    frame["recv"] = pd.to_datetime(range(7), unit="s", utc=True)
    frame = frame.iloc[::-1]  # rows stored backwards; arrival_time restores the order
    result = run(frame, arrival_time="recv")
    assert result.trace.index.equals(frame.index)
    assert result.trace["arrival"].tolist() == list(range(7))[::-1]
    assert result.late["arrival"].tolist() == [2, 4, 6]
    assert result.late["price"].tolist() == [2.0, 4.0, 6.0]
    expected = utc_result.windows.copy()
    pd.testing.assert_frame_equal(result.windows.drop(columns="emit_time"), expected)


def test_tz_aware_times_in_another_zone(utc_result):
    utc = pd.to_datetime(SECONDS, unit="s", utc=True)
    result = run(frame_with_times(utc.tz_convert("America/New_York")))
    assert_same_windows(result, utc_result)


@pytest.mark.parametrize("unit", ["us", "ms", "s"])
def test_any_datetime_unit_gives_the_ns_result(unit, utc_result):
    ts = pd.to_datetime(SECONDS, unit="s", utc=True).as_unit(unit)
    frame = frame_with_times(ts)
    assert str(frame["ts"].dtype) == f"datetime64[{unit}, UTC]"
    assert_same_windows(run(frame), utc_result)


@pytest.mark.parametrize("unit", ["us", "ns"])
def test_tz_naive_times_are_utc(unit, utc_result):
    ts = pd.to_datetime(SECONDS, unit="s").as_unit(unit)
    assert_same_windows(run(frame_with_times(ts)), utc_result)


@pytest.mark.parametrize("unit, scale", [("s", 1), ("ms", 1_000), ("us", 10**6), ("ns", 10**9)])
def test_integer_times_with_a_unit_equal_the_datetime_result(unit, scale, utc_result):
    frame = frame_with_times(np.array(SECONDS, dtype=np.int64) * scale)
    assert_same_windows(run(frame, time_unit=unit), utc_result)


def test_nullable_integer_times_with_missing_values():
    frame = pd.DataFrame({"ts": pd.array([0, None, 1500], dtype="Int64"), "symbol": "AAPL"})
    result = tumbling_windows(frame, "1s", time_unit="ms")
    assert result.rejected["reason"].tolist() == ["missing_time"]
    assert ns(result.windows["window_start"]) == [0]
    assert ns(result.pending["window_start"]) == [SECOND]
