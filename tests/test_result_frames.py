"""The shape of every result frame, the summary, and conservation of rows.

SPEC 7 fixes the columns (and their order) of ``windows``, ``pending``,
``late``, ``rejected`` and ``trace``; SPEC 5 says every input row is
accounted for exactly once. Both are checked here for each combination of
key, partitions, arrival time and aggregation, and on random inputs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from mdwindow import tumbling_windows
from tests.strategies import options, tick_frames

UTC = "datetime64[ns, UTC]"
TIMINGS = ["on_time", "late", "final", "partial", "pending"]
STATUSES = ["on_time", "late", "dropped", "rejected"]
REASONS = ["missing_time", "missing_key", "time_out_of_range"]
DICT_AGG = {"hi": ("price", "max"), "n": ("size", "count"), "avg": ("price", "mean")}
AGG_COLUMNS = {
    None: {},
    "ohlcv": {
        "open": "float64", "high": "float64", "low": "float64", "close": "float64",
        "volume": "int64", "vwap": "float64",
    },
    "dict": {"hi": "float64", "n": "int64", "avg": "float64"},
}  # fmt: skip


def sample_ticks(n: int = 12) -> pd.DataFrame:
    """Ticks with on-time, late, dropped and rejected rows and pending windows."""
    seconds = [0, 1, 4, 2, 0, 9, 1, 3, 11, 5, 12, 13][:n]
    symbols = ["AAPL", "MSFT", "AAPL", "MSFT", "AAPL", "NVDA", "AAPL", None, "AAPL",
               "MSFT", "NVDA", "AAPL"][:n]  # fmt: skip
    ts = pd.to_datetime(seconds, unit="s", utc=True).array.copy()
    if n > 6:
        ts[6] = pd.NaT
    return pd.DataFrame(
        {
            "ts": ts,
            "symbol": np.array(symbols, dtype=object),
            "price": np.linspace(10.0, 11.1, n),
            "size": np.arange(1, n + 1, dtype=np.int64) * 100,
            "recv": pd.to_datetime(np.arange(n), unit="ms", utc=True),
        },
        index=pd.Index(np.arange(n)[::-1] * 10),
    )


def window_columns(key, partitions, arrival_time, agg) -> dict[str, str | None]:
    columns: dict[str, str | None] = {}
    if key is not None:
        columns[key] = None  # the key's own dtype
    if partitions is not None:
        columns["partition"] = "int64"
    columns["window_start"] = UTC
    columns["window_end"] = UTC
    columns.update(AGG_COLUMNS[agg])
    columns.update(
        {
            "count": "int64",
            "late_count": "int64",
            "timing": "category",
            "revision": "int64",
            "emit_row": "int64",
            "emit_watermark": UTC,
        }
    )
    if arrival_time is not None:
        columns["emit_time"] = UTC
    return columns


def assert_layout(frame: pd.DataFrame, expected: dict[str, str | None], what: str) -> None:
    assert list(frame.columns) == list(expected), what
    for column, dtype in expected.items():
        if dtype is not None:
            assert str(frame[column].dtype) == dtype, f"{what}.{column}: {frame[column].dtype}"


COMBINATIONS = [
    (key, partitions, arrival_time, agg, emit)
    for key, partitions, arrival_time, agg, emit in itertools.product(
        ["symbol", None],
        [None, 3],
        [None, "recv"],
        [None, "ohlcv", "dict"],
        ["final", "updates"],
    )
    if not (key is None and partitions is not None)  # partitioning needs a key
]


@pytest.mark.parametrize("n", [12, 0], ids=["rows", "empty"])
@pytest.mark.parametrize("key, partitions, arrival_time, agg, emit", COMBINATIONS)
def test_columns_and_dtypes(key, partitions, arrival_time, agg, emit, n):
    ticks = sample_ticks(n)
    result = tumbling_windows(
        ticks,
        "2s",
        key=key,
        partitions=partitions,
        arrival_time=arrival_time,
        agg=DICT_AGG if agg == "dict" else agg,
        emit=emit,
        allowed_lateness="1s",
    )
    expected = window_columns(key, partitions, arrival_time, agg)
    assert_layout(result.windows, expected, "windows")
    assert_layout(result.pending, expected, "pending")
    for frame in (result.windows, result.pending):
        assert list(frame["timing"].cat.categories) == TIMINGS
        assert isinstance(frame.index, pd.RangeIndex)

    original = dict(ticks.dtypes.astype(str))
    assert_layout(
        result.late,
        {**original, "arrival": "int64", "window_start": UTC, "window_end": UTC,
         "watermark": UTC, "late_by": "timedelta64[ns]"},
        "late",
    )  # fmt: skip
    assert_layout(
        result.rejected, {**original, "arrival": "int64", "reason": "category"}, "rejected"
    )
    assert list(result.rejected["reason"].cat.categories) == REASONS
    assert_layout(
        result.trace,
        {"arrival": "int64", "window_start": UTC, "watermark_before": UTC,
         "watermark_after": UTC, "status": "category"},
        "trace",
    )  # fmt: skip
    assert list(result.trace["status"].cat.categories) == STATUSES
    assert result.trace.index.equals(ticks.index)
    assert_conserved(result, ticks, emit)


def test_sample_has_every_kind_of_row():
    result = tumbling_windows(sample_ticks(), "2s", allowed_lateness="1s")
    counts = result.summary()
    assert counts["on_time"] and counts["late"] and counts["dropped"] and counts["rejected"]
    assert counts["windows"] and counts["pending"]


def test_late_and_rejected_keep_the_original_rows():
    ticks = sample_ticks()
    result = tumbling_windows(ticks, "2s", allowed_lateness="1s")
    for frame in (result.late, result.rejected):
        pd.testing.assert_frame_equal(frame[list(ticks.columns)], ticks.loc[frame.index])
    assert result.rejected["reason"].tolist() == ["missing_time", "missing_key"]


# --------------------------------------------------------------------------
# summary()


def test_summary_values():
    ticks = pd.DataFrame(
        {
            "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0, None], unit="s", utc=True),
            "symbol": ["k1"] * 7 + ["k1"],
        }
    )
    result = tumbling_windows(ticks, "2s", allowed_lateness="1s")
    assert result.summary() == {
        "rows": 8,
        "on_time": 4,
        "late": 2,
        "dropped": 1,
        "rejected": 1,
        "windows": 2,
        "pending": 1,
        "drop_rate": pytest.approx(1 / 7),
    }
    assert list(result.summary()) == [
        "rows", "on_time", "late", "dropped", "rejected", "windows", "pending", "drop_rate",
    ]  # fmt: skip
    assert "dropped=1" in repr(result)


def test_summary_counts_panes_in_updates_mode():
    ticks = pd.DataFrame(
        {"ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True), "symbol": "k1"}
    )
    summary = tumbling_windows(ticks, "2s", allowed_lateness="1s", emit="updates").summary()
    assert (summary["windows"], summary["pending"], summary["late"]) == (4, 1, 2)


def test_summary_drop_rate_without_valid_rows_is_nan():
    ticks = pd.DataFrame({"ts": pd.to_datetime([None], utc=True), "symbol": ["A"]})
    summary = tumbling_windows(ticks, "1s").summary()
    assert summary["rejected"] == 1 and np.isnan(summary["drop_rate"])


# --------------------------------------------------------------------------
# Conservation on random data


def last_panes(windows: pd.DataFrame, key: str | None) -> pd.DataFrame:
    """The last pane of each window (they accumulate, so it holds every row)."""
    by = ["window_start"] if key is None else [key, "window_start"]
    return windows.sort_values("revision").groupby(by, sort=False, dropna=False).tail(1)


def assert_conserved(result, ticks: pd.DataFrame, emit: str, key: str | None = "symbol") -> None:
    if key not in result.windows.columns:
        key = None
    panes = result.windows if emit == "final" else last_panes(result.windows, key)
    if emit == "final":
        assert (result.windows["revision"] == 0).all()
    placed = int(panes["count"].sum()) + int(result.pending["count"].sum())
    assert placed + len(result.late) + len(result.rejected) == len(ticks)

    status = result.trace["status"].value_counts()
    assert status["on_time"] + status["late"] == placed
    assert status["late"] == int(panes["late_count"].sum() + result.pending["late_count"].sum())
    assert status["dropped"] == len(result.late)
    assert status["rejected"] == len(result.rejected)
    assert len(result.trace) == len(ticks)
    assert result.trace.index.equals(ticks.index)
    assert sorted(result.trace["arrival"]) == list(range(len(ticks)))
    # A window is emitted as final once, or as panes 0, 1, 2... and is then never pending.
    ids = ["window_start"] if key is None else [key, "window_start"]
    revisions = result.windows.groupby(ids, dropna=False)["revision"]
    assert (revisions.max() + 1 == revisions.size()).all()
    if len(result.windows) and len(result.pending):
        emitted = set(map(tuple, result.windows[ids].astype(object).to_numpy()))
        pending = set(map(tuple, result.pending[ids].astype(object).to_numpy()))
        assert not emitted & pending


def assert_emission_order(result, key: str | None) -> None:
    windows = result.windows
    columns = ["emit_row", "window_start"] + ([key] if key is not None else [])
    expected = windows.sort_values(columns, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(windows, expected)
    assert (windows["emit_row"] <= len(result.trace)).all()


@settings(max_examples=60, deadline=None)
@given(ticks=tick_frames(), opts=options())
def test_every_row_is_accounted_for_exactly_once(ticks, opts):
    opts = dict(opts)
    spec = opts.pop("spec")
    result = tumbling_windows(ticks, spec, **opts)
    assert_conserved(result, ticks, opts["emit"])
    assert_emission_order(result, "symbol")
    pending = result.pending
    assert (pending["timing"] == "pending").all()
    assert (pending["revision"] == 0).all()
    assert (pending["emit_row"] == len(ticks)).all()
    assert pending["emit_watermark"].isna().all()


@settings(max_examples=30, deadline=None)
@given(ticks=tick_frames(), opts=options())
def test_every_row_is_accounted_for_without_a_key(ticks, opts):
    opts = dict(opts)
    spec = opts.pop("spec")
    opts.update(scope="global", partitions=None, idle_timeout=None)
    result = tumbling_windows(ticks, spec, key=None, **opts)
    assert_conserved(result, ticks, opts["emit"], key=None)
    assert_emission_order(result, None)
    assert "symbol" not in result.windows.columns
