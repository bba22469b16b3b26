"""Any DataFrame in, the same kind out: pandas, polars and Arrow through every front door.

The same ticks as a pandas frame, a polars frame and an Arrow table give the
same results, value by value; results come back in the input's library
(or the one ``output=`` names), with the input's key and column types.
"""

from __future__ import annotations

import datetime as dt
import math
import pickle
import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mdwindow as mw
from mdwindow.interchange import ROW_COLUMN, read_column, read_frame
from mdwindow.plotting import plot_watermark_panels
from tests.compare import assert_records
from tests.strategies import options, tick_frames

pl = pytest.importorskip("polars")

FRAMES = ("windows", "pending", "late", "rejected", "trace")


# -- helpers -------------------------------------------------------------------


def as_polars(frame: pd.DataFrame) -> Any:
    return pl.from_pandas(frame.reset_index(drop=True))


def as_arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


class StreamOnly:
    """An object with nothing but the Arrow PyCapsule stream interface."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._table.__arrow_c_stream__(requested_schema)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None  # pandas' NaN is a missing value, which Arrow and polars call null
    if isinstance(value, dt.datetime | np.datetime64):
        return int(pd.Timestamp(value).value)
    if isinstance(value, dt.timedelta | np.timedelta64):
        return int(pd.Timedelta(value).value)
    return value


def records(frame: Any) -> list[dict]:
    """Rows of a pandas, polars or Arrow frame as plain Python values."""
    if isinstance(frame, pd.DataFrame):
        frame = frame.copy(deep=False)
        frame.attrs = {}  # pyarrow would warn that it cannot keep a sweep's Timedeltas
        table = pa.Table.from_pandas(frame, preserve_index=False)
    elif isinstance(frame, pl.DataFrame):
        table = frame.to_arrow()
    else:
        table = frame
    return [{k: _plain(v) for k, v in row.items()} for row in table.to_pylist()]


def column_names(frame: Any) -> list[str]:
    return list(frame.column_names if isinstance(frame, pa.Table) else frame.columns)


def expected_frame(result: mw.WindowResult, name: str) -> pd.DataFrame:
    """A pandas result's frame as polars and Arrow show it: the index as ``row``."""
    frame = getattr(result, name)
    return frame.reset_index(names=ROW_COLUMN) if name in ("late", "rejected") else frame


def assert_same_result(actual: mw.WindowResult, expected: mw.WindowResult, library: type) -> None:
    for name in FRAMES:
        frame = getattr(actual, name)
        assert isinstance(frame, library), (name, type(frame))
        want = expected_frame(expected, name)
        assert column_names(frame) == list(want.columns), name
        assert_records(records(frame), records(want), name)
    assert actual.summary() == pytest.approx(expected.summary(), nan_ok=True)


def run(ticks: Any, opts: dict, **extra: Any) -> mw.WindowResult:
    opts = dict(opts)
    return mw.tumbling_windows(ticks, opts.pop("spec"), **opts, **extra)


# -- the same results through every library --------------------------------------


@given(ticks=tick_frames(), opts=options())
def test_pandas_polars_and_arrow_give_the_same_results(ticks, opts):
    ticks = ticks.reset_index(drop=True)
    expected = run(ticks, opts)
    assert_same_result(run(as_polars(ticks), opts), expected, pl.DataFrame)
    assert_same_result(run(as_arrow(ticks), opts), expected, pa.Table)
    assert_same_result(run(StreamOnly(as_arrow(ticks)), opts), expected, pa.Table)


@given(ticks=tick_frames(), opts=options(), data=st.data())
def test_polars_chunks_pushed_give_the_batch_result(ticks, opts, data):
    if "arrival_time" in opts:
        # Chunks must come in arrival order.
        ticks = ticks.sort_values("recv", kind="stable")
    ticks = ticks.reset_index(drop=True)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(ticks)), max_size=4)))
    frame = as_polars(ticks)
    opts = dict(opts)
    spec = opts.pop("spec")
    batch = mw.tumbling_windows(frame, spec, **opts)
    windower = mw.Windower(spec, **opts)
    bounds = [0, *cuts, len(ticks)]
    parts = [windower.push(frame[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    end = windower.flush()
    for name in ("windows", "late", "rejected", "trace"):
        pushed = [getattr(p, name) for p in parts] + ([end.windows] if name == "windows" else [])
        # The chunks' frames have one schema, so polars can stack them as they are.
        stacked = pl.concat(pushed, how="vertical")
        assert stacked.schema == getattr(batch, name).schema, name
        assert_records(records(stacked), records(getattr(batch, name)), name)
    assert_records(records(end.pending), records(batch.pending), "pending")
    assert isinstance(windower.pending(), pl.DataFrame)


@given(ticks=tick_frames(allow_invalid=False), partitions=st.integers(1, 4))
def test_partitioning_is_the_same_for_every_library(ticks, partitions):
    ticks = ticks.reset_index(drop=True)
    expected = mw.hash_partition(ticks, partitions=partitions)
    for frame, library in ((as_polars(ticks), pl.DataFrame), (as_arrow(ticks), pa.Table)):
        parts = mw.hash_partition(frame, partitions=partitions)
        assert [type(p) for p in parts] == [library] * partitions
        for part, want in zip(parts, expected, strict=True):
            assert part.schema == frame.schema
            assert_records(records(part), records(want), "partition")
        balance = mw.partition_balance(frame, partitions=partitions)
        assert isinstance(balance, library)
        assert_records(
            records(balance), records(mw.partition_balance(ticks, partitions=partitions)), "b"
        )
    symbols = ticks["symbol"]
    columns = (pl.Series(symbols.tolist()), pa.array(symbols.tolist()), as_arrow(ticks)["symbol"])
    for keys in columns:
        np.testing.assert_array_equal(
            mw.partition_ids(keys, partitions), mw.partition_ids(symbols, partitions)
        )


@given(ticks=tick_frames(), arrival=st.booleans())
def test_sweep_is_the_same_for_every_library(ticks, arrival):
    ticks = ticks.reset_index(drop=True)
    options = dict(lags=["0s", "1s"], lateness=["0s", "2s"], scope="key")
    if arrival:
        options["arrival_time"] = "recv"
    expected = mw.sweep(ticks, "2s", **options)
    grid = mw.sweep(as_polars(ticks), "2s", **options)
    assert isinstance(grid, pl.DataFrame)
    assert_records(records(grid), records(expected), "sweep")
    table = mw.sweep(as_arrow(ticks), "2s", **options)
    assert_records(records(table), records(expected), "sweep")
    # Arrow keeps the grid's attrs in its schema metadata, and reads them back.
    back, _ = read_frame(table)
    assert back.attrs["latency_clock"] == expected.attrs["latency_clock"]
    assert back.attrs["perfect_windows"] == expected.attrs["perfect_windows"]


# -- types survive the round trip -----------------------------------------------

SYMBOLS = ["MSFT", "AAPL", None, "NVDA", "AAPL", "MSFT", "AAPL"]


def _key_ticks(**columns: Any) -> dict[str, Any]:
    return {
        # AAPL's last tick is late by its own watermark; the third has no symbol.
        "ts": pd.to_datetime([0, 1, 2, 3, 5, 7, 1], unit="s", utc=True),
        "symbol": SYMBOLS,
        "price": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        "size": [1, 2, 3, 4, 5, 6, 7],
        **columns,
    }


def _polars_keys(dtype: Any) -> Any:
    return pl.DataFrame(_key_ticks()).with_columns(pl.col("symbol").cast(dtype))


def _arrow_keys(key_type: pa.DataType) -> pa.Table:
    table = pa.table(_key_ticks())
    index = table.schema.get_field_index("symbol")
    return table.set_column(index, pa.field("symbol", key_type), table["symbol"].cast(key_type))


POLARS_KEYS = {
    "String": lambda: pl.String,
    "Categorical": lambda: pl.Categorical,
    "Enum": lambda: pl.Enum(["AAPL", "MSFT", "NVDA", "TSLA"]),
}
ARROW_KEYS = {
    "string": pa.string(),
    "large_string": pa.large_string(),
    "dictionary<int32, string>": pa.dictionary(pa.int32(), pa.string()),
    "dictionary<int8, large_string>": pa.dictionary(pa.int8(), pa.large_string()),
}


def _run_keys(frame: Any) -> mw.WindowResult:
    return mw.tumbling_windows(frame, "2s", scope="key", agg="ohlcv", partitions=2)


@pytest.mark.parametrize("name", list(POLARS_KEYS))
def test_polars_key_types_survive(name):
    dtype = POLARS_KEYS[name]()
    frame = _polars_keys(dtype)
    result = _run_keys(frame)
    assert result.late.height == 1 and result.rejected.height == 1
    for part in ("windows", "pending", "late", "rejected"):
        assert getattr(result, part).schema["symbol"] == frame.schema["symbol"], part
    for part in ("late", "rejected"):
        for column, column_type in frame.schema.items():
            assert getattr(result, part).schema[column] == column_type, (part, column)
    assert result.windows["symbol"].to_list() == ["AAPL", "MSFT"]
    assert result.late["row"].to_list() == [6]
    expected = _run_keys(pd.DataFrame(_key_ticks()))
    assert_same_result(result, expected, pl.DataFrame)
    for part in mw.hash_partition(frame.drop_nulls("symbol"), partitions=2):
        assert part.schema == frame.schema


@pytest.mark.parametrize("name", list(ARROW_KEYS))
def test_arrow_key_types_survive(name):
    table = _arrow_keys(ARROW_KEYS[name])
    result = _run_keys(table)
    for part in ("windows", "pending", "late", "rejected"):
        assert getattr(result, part).schema.field("symbol").type == ARROW_KEYS[name], part
    for part in ("late", "rejected"):
        frame = getattr(result, part)
        assert frame.column_names[0] == ROW_COLUMN
        for field in table.schema:
            assert frame.schema.field(field.name).type == field.type, (part, field.name)
    assert_same_result(result, _run_keys(pd.DataFrame(_key_ticks())), pa.Table)
    with_keys = table.filter(table["symbol"].is_valid())
    for part in mw.hash_partition(with_keys, partitions=2):
        assert part.schema == table.schema


def test_integer_keys_with_nulls_stay_integers():
    # As floats they would read 1.0 and hash to another partition than 1.
    frame = pl.DataFrame(
        {"ts": _key_ticks()["ts"], "account": pl.Series([1, 2, None, 3, 1, 2, 1], dtype=pl.Int64)}
    )
    result = mw.tumbling_windows(frame, "2s", key="account", scope="key", partitions=3)
    assert result.windows.schema["account"] == pl.Int64
    assert result.rejected["account"].to_list() == [None]
    keys = [1, 2, None, 3, 1, 2, 1]
    expected = mw.partition_ids(pd.array(keys, dtype="Int64"), 3)
    np.testing.assert_array_equal(mw.partition_ids(frame["account"], 3), expected)
    np.testing.assert_array_equal(mw.partition_ids(pa.array(keys), 3), expected)
    assert expected.tolist() == mw.partition_ids([1, 2, None, 3, 1, 2, 1], 3).tolist()


def test_integer_times_with_nulls_are_rejected_rows_not_refused():
    frame = pl.DataFrame({"t": pl.Series([0, 1, None, 4], dtype=pl.Int64), "symbol": "A"})
    result = mw.tumbling_windows(frame, "2s", time="t", time_unit="s")
    assert result.rejected["row"].to_list() == [2]
    assert result.windows["count"].to_list() == [2]


LATE_ADDS = ["arrival", "window_start", "window_end", "watermark", "late_by"]


def test_columns_the_engine_does_not_read_come_from_the_input_as_they_are():
    frame = pl.DataFrame(_key_ticks()).with_columns(
        venue=pl.Series(["X", "Y", "X", "Y", "X", "Y", "Y"], dtype=pl.Enum(["X", "Y"])),
        tags=pl.Series([[1], [2], [], [3], [4], [5], [6, 7]]),
    )
    result = _run_keys(frame)
    assert result.late.columns == [ROW_COLUMN, *frame.columns, *LATE_ADDS]
    assert result.late.select(frame.columns).schema == frame.schema
    assert result.late.select("row", "venue", "tags").rows() == [(6, "Y", [6, 7])]
    assert result.rejected.select("row", "tags").rows() == [(2, [])]
    table = frame.to_arrow()
    arrow_late = _run_keys(table).late
    assert arrow_late.select(table.column_names).schema == table.schema
    # The same rows whole in pandas, and after a pickle.
    late = result.to("pandas").late
    assert list(late.columns) == [*frame.columns, *LATE_ADDS]
    assert late.index.tolist() == [6] and late["tags"].iloc[0].tolist() == [6, 7]
    assert pickle.loads(pickle.dumps(result)).late.equals(result.late)
    windower = mw.Windower("2s", scope="key", agg="ohlcv", partitions=2)
    pushed = [windower.push(frame[:4]).rejected, windower.push(frame[4:]).late]
    assert [p.rows() for p in pushed] == [result.rejected.rows(), result.late.rows()]
    assert windower.flush().late.schema == result.late.schema


# -- other inputs and outputs -----------------------------------------------------


def test_a_lazy_frame_is_collected():
    frame = pl.DataFrame(_key_ticks())
    lazy = frame.lazy().filter(pl.col("price") > 1.5)
    result = _run_keys(lazy)
    assert isinstance(result.windows, pl.DataFrame)
    assert result.windows.equals(_run_keys(frame.filter(pl.col("price") > 1.5)).windows)


def test_an_object_with_only_the_arrow_stream_interface():
    table = pa.table(_key_ticks())
    result = _run_keys(StreamOnly(table))
    assert isinstance(result.windows, pa.Table)
    assert result.windows.equals(_run_keys(table).windows)
    assert result.trace.equals(_run_keys(table).trace)
    windower = mw.Windower("2s", scope="key")
    assert isinstance(windower.push(StreamOnly(table)).trace, pa.Table)


def test_a_record_batch_gives_arrow_tables():
    table = pa.table(_key_ticks())
    result = _run_keys(table.to_batches()[0])
    assert isinstance(result.late, pa.Table)
    assert result.late.equals(_run_keys(table).late)


def test_output_asks_for_another_library():
    ticks = pd.DataFrame(_key_ticks(), index=list("abcdefg"))
    expected = _run_keys(ticks)
    for output, library in (("polars", pl.DataFrame), ("arrow", pa.Table)):
        result = mw.tumbling_windows(
            ticks, "2s", scope="key", agg="ohlcv", partitions=2, output=output
        )
        assert result.output == output
        assert isinstance(result.windows, library)
        # Positions, not the pandas labels, since the results have no index.
        assert records(result.late)[0][ROW_COLUMN] == 6
        assert records(result.windows) == records(expected.windows)
    from_polars = _run_keys(pl.DataFrame(_key_ticks()))
    as_pandas = mw.tumbling_windows(
        pl.DataFrame(_key_ticks()), "2s", scope="key", agg="ohlcv", partitions=2, output="pandas"
    )
    assert isinstance(as_pandas.late, pd.DataFrame)
    assert as_pandas.late.index.tolist() == [6]
    assert expected.late.index.tolist() == ["g"]
    assert records(as_pandas.windows) == records(from_polars.windows)
    pd.testing.assert_frame_equal(from_polars.to("pandas").windows, as_pandas.windows)
    assert isinstance(from_polars.to("arrow").windows, pa.Table)

    frame = pl.DataFrame(_key_ticks())
    assert isinstance(mw.sweep(frame, "2s", lags="1s", lateness="0s", output="arrow"), pa.Table)
    assert isinstance(mw.partition_balance(frame, partitions=2, output="pandas"), pd.DataFrame)
    parts = mw.hash_partition(ticks.dropna(), partitions=2, output="polars")
    assert [type(p) for p in parts] == [pl.DataFrame, pl.DataFrame]
    windower = mw.Windower("2s", scope="key", output="arrow")
    assert isinstance(windower.push(frame).windows, pa.Table)
    assert isinstance(windower.flush().pending, pa.Table)


def test_windower_flush_follows_the_last_chunk():
    frame = pl.DataFrame(_key_ticks())
    windower = mw.Windower("2s", scope="key")
    assert isinstance(windower.push(frame[:3]).windows, pl.DataFrame)
    assert isinstance(windower.push(frame[3:].to_arrow()).late, pa.Table)
    end = windower.flush()
    assert isinstance(end.pending, pa.Table)
    restored = mw.Windower.restore(mw.Windower("2s").checkpoint(), output="polars")
    assert isinstance(restored.flush().windows, pl.DataFrame)


@pytest.mark.parametrize(
    "bad", [[1, 2], {"ts": [1]}, np.zeros(3), pd.Series([1, 2]), "ticks.parquet"]
)
def test_unsupported_inputs_name_what_is_accepted(bad):
    accepted = r"pandas DataFrame, a polars DataFrame or LazyFrame, a pyarrow Table"
    with pytest.raises(TypeError, match=accepted) as caught:
        mw.tumbling_windows(bad, "1s")
    assert type(bad).__name__ in str(caught.value)
    with pytest.raises(TypeError, match=accepted):
        mw.Windower("1s").push(bad)
    with pytest.raises(TypeError, match=accepted):
        mw.sweep(bad, "1s", lags="0s", lateness="0s")
    with pytest.raises(TypeError, match=accepted):
        mw.hash_partition(bad, partitions=2)


def test_an_arrow_stream_of_one_column_is_refused_as_ticks():
    with pytest.raises(TypeError, match="__arrow_c_stream__ but Arrow cannot read a table"):
        mw.tumbling_windows(pa.chunked_array([[1, 2]]), "1s")
    with pytest.raises(TypeError, match="give one column"):
        mw.partition_ids(pl.DataFrame({"symbol": ["A"]}), 2)


def test_a_bad_output_names_the_choices():
    with pytest.raises(ValueError, match="'pandas', 'polars' or 'arrow'"):
        mw.tumbling_windows(pd.DataFrame(_key_ticks()), "1s", output="numpy")
    with pytest.raises(ValueError, match="output: got 'Polars'"):
        mw.Windower("1s", output="Polars")


def test_a_row_column_clashes_only_without_a_pandas_index():
    frame = pl.DataFrame(_key_ticks(row=list(range(7))))
    with pytest.raises(ValueError, match="column 'row'.*output='pandas'"):
        mw.tumbling_windows(frame, "2s")
    assert mw.tumbling_windows(frame, "2s", output="pandas").late.columns[0] == "ts"
    parts = mw.hash_partition(frame.drop_nulls(), partitions=2)  # adds no column
    assert [part.columns for part in parts] == [frame.columns] * 2


# -- no copies, no polars ----------------------------------------------------------


def test_numbers_and_timestamps_are_read_without_a_copy():
    table = pa.table(
        {
            "ts": pa.array(np.arange(5) * 10**9, pa.timestamp("ns", "UTC")),
            "price": np.linspace(1, 2, 5),
            "size": np.arange(5),
            "symbol": list("ABABA"),
        }
    )
    frame, _ = read_frame(table)

    def buffer(name: str, dtype: Any) -> np.ndarray:
        return np.frombuffer(table[name].chunk(0).buffers()[1], dtype)

    assert np.shares_memory(frame["price"].to_numpy(), buffer("price", np.float64))
    assert np.shares_memory(frame["size"].to_numpy(), buffer("size", np.int64))
    assert np.shares_memory(frame["ts"].array.asi8, buffer("ts", np.int64))
    strings = frame["symbol"].array.__arrow_array__().chunk(0)
    assert np.shares_memory(
        np.frombuffer(strings.buffers()[2], np.uint8),
        np.frombuffer(table["symbol"].chunk(0).buffers()[2], np.uint8),
    )


def test_pandas_users_never_import_polars():
    script = """
import sys
import pandas as pd
import mdwindow as mw
ticks = pd.DataFrame({"ts": pd.to_datetime([0, 1], unit="s", utc=True), "symbol": "A"})
result = mw.tumbling_windows(ticks, "1s")
result.windows, result.late, mw.Windower("1s").push(ticks).trace
mw.sweep(ticks, "1s", lags="0s", lateness="0s")
mw.hash_partition(ticks, partitions=2)
result.to("arrow").windows
print("polars" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_a_polars_result_pickles():
    result = _run_keys(pl.DataFrame(_key_ticks()))
    again = pickle.loads(pickle.dumps(result))
    assert again.output == "polars"
    assert again.windows.equals(result.windows)
    assert again.summary() == result.summary()


def test_read_column_leaves_pandas_and_lists_alone():
    series = pd.Series(["A"])
    assert read_column(series) is series
    assert read_column(["A"]) == ["A"]
    assert read_column(pl.Series(["A", None], dtype=pl.Categorical)).dtype == "category"


# -- the plots draw the same from every library ----------------------------------


def _plot_ticks() -> pd.DataFrame:
    """Three symbols, out of order, with a stall released at one arrival time."""
    rng = np.random.default_rng(7)
    n = 300
    event = np.sort(rng.integers(0, 60 * 10**9, n)) - rng.exponential(1.5e9, n).astype(np.int64)
    recv = np.arange(n, dtype=np.int64) * 200_000_000
    recv[120:160] = recv[160]  # a stall: forty rows arrive at once
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(event, utc=True),
            "symbol": rng.choice(["AAPL", "MSFT", "NVDA"], n, p=[0.5, 0.3, 0.2]),
            "recv": pd.to_datetime(recv, utc=True),
            "price": rng.normal(100, 1, n),
        }
    )


def _no_nan(values: Any) -> Any:
    """Nested lists with NaN (breaks between line segments) as None, so that == compares."""
    if isinstance(values, list):
        return [_no_nan(v) for v in values]
    return None if isinstance(values, float) and math.isnan(values) else values


def _drawn(figure: Any) -> list[Any]:
    """Everything drawn on a figure's axes, as comparable values."""
    from matplotlib.patches import Rectangle, StepPatch

    out: list[Any] = []
    for ax in figure.axes:
        out.append(("title", ax.get_title(), ax.get_xlabel(), ax.get_ylabel()))
        for line in ax.lines:
            out.append(("line", line.get_gid(), _no_nan(np.asarray(line.get_xydata()).tolist())))
        for collection in ax.collections:
            out.append(
                ("points", collection.get_gid(), _no_nan(collection.get_offsets().tolist()))
            )
        for patch in ax.patches:
            if isinstance(patch, Rectangle):
                out.append(("bar", patch.get_x(), patch.get_y(), patch.get_height()))
            elif isinstance(patch, StepPatch):
                values, edges, _ = patch.get_data()
                out.append(("bar", np.asarray(values).tolist(), np.asarray(edges).tolist()))
        out.extend(("text", text.get_text()) for text in ax.texts)
        out.append(("xticks", [t.get_text() for t in ax.get_xticklabels()]))
    return out


def _draw(plot: Any) -> list[Any]:
    from matplotlib.figure import Figure

    figure = Figure(layout="constrained")
    plot(figure)
    figure.canvas.draw()  # tick labels are made as the figure is drawn
    return _drawn(figure)


WATERMARK = {"time": "ts", "key_column": "symbol", "arrival_time": "recv"}
PLOT_OPTIONS = {"lag": "1s", "allowed_lateness": "500ms", "scope": "key", "arrival_time": "recv"}


def _plots(result: mw.WindowResult, ticks: Any) -> list[Any]:
    """Every plot of a result and its ticks, each a function drawing on a figure."""
    opts = PLOT_OPTIONS
    watermark = {**WATERMARK, "options": opts}

    def late_drops(by: str) -> Any:
        return lambda f: mw.plot_late_drops(result, by=by, options=opts, ax=f.add_subplot())

    return [
        lambda f: mw.plot_watermark(result, ticks, x="time", ax=f.add_subplot(), **watermark),
        lambda f: plot_watermark_panels(result, ticks, figure=f, busiest=2, **watermark),
        lambda f: result.plot.watermark(ticks, ax=f.add_subplot(), **watermark),
        lambda f: result.plot.watermark_panels(ticks, figure=f, **watermark),
        lambda f: result.plot.late_drops(ax=f.add_subplot()),
        late_drops("key"),
        late_drops("window"),
        late_drops("late_by"),
        lambda f: mw.plot_partition_balance(ticks, partitions=4, ax=f.add_subplot()),
    ]


@pytest.mark.parametrize("library", ["polars", "arrow", "stream"])
def test_the_plots_draw_the_same_from_polars_and_arrow(library):
    ticks = _plot_ticks()
    convert = {"polars": as_polars, "arrow": as_arrow, "stream": lambda f: StreamOnly(as_arrow(f))}
    given_ticks = convert[library](ticks)
    pandas_result = mw.tumbling_windows(ticks, "5s", **PLOT_OPTIONS)
    other_result = mw.tumbling_windows(given_ticks, "5s", **PLOT_OPTIONS)
    assert other_result.output == ("polars" if library == "polars" else "arrow")
    expected = [_draw(plot) for plot in _plots(pandas_result, ticks)]
    for number, drawn in enumerate(expected):
        # Dropped and late rows and several keys: every plot draws data.
        assert any(kind in ("line", "points", "bar") for kind, *_ in drawn), number
    # polars or Arrow throughout, and mixed with pandas either way round.
    for result, frame in ((other_result, given_ticks), (pandas_result, given_ticks),
                          (other_result, ticks)):  # fmt: skip
        assert [_draw(plot) for plot in _plots(result, frame)] == expected
    # Without the ticks (one watermark): what the result holds.
    shared = {**PLOT_OPTIONS, "scope": "global"}

    def without_ticks(result: mw.WindowResult) -> list[Any]:
        return _draw(lambda f: mw.plot_watermark(result, ax=f.add_subplot(), options=shared))

    assert without_ticks(mw.tumbling_windows(given_ticks, "5s", **shared)) == without_ticks(
        mw.tumbling_windows(ticks, "5s", **shared)
    )


def test_a_recommendation_from_polars_plots_as_from_pandas():
    ticks = _plot_ticks()
    options = {"max_drop_rate": 0.01, "scope": "key", "arrival_time": "recv"}
    expected = mw.recommend(ticks, "5s", **options)
    from_polars = mw.recommend(as_polars(ticks), "5s", **options)
    assert from_polars == expected
    drawn = _draw(lambda figure: mw.plot_recommendation(expected, ax=figure.add_subplot()))
    assert any(kind == "points" and gid == "recommended" for kind, gid, *_ in drawn[1:])
    assert _draw(lambda figure: from_polars.plot(ax=figure.add_subplot())) == drawn


@pytest.mark.parametrize("library", ["polars", "arrow"])
def test_a_sweep_from_polars_or_arrow_plots_as_from_pandas(library):
    """plot_lag_tradeoff takes the sweep frame of any library; an Arrow table keeps the
    sweep's attrs (the heading), polars cannot (the heading then says less)."""
    ticks = _plot_ticks()
    convert = {"polars": as_polars, "arrow": as_arrow}
    options = {"lags": ["0s", "500ms", "1s", "2s"], "lateness": ["0s", "1s"], "scope": "key",
               "arrival_time": "recv"}  # fmt: skip
    grid = mw.sweep(ticks, "5s", **options)
    other = mw.sweep(convert[library](ticks), "5s", **options)
    expected = _draw(lambda f: mw.plot_lag_tradeoff(grid, ax=f.add_subplot()))
    drawn = _draw(lambda f: mw.plot_lag_tradeoff(other, ax=f.add_subplot()))
    lines = [item for item in expected if item[0] == "line"]
    assert len(lines) >= 2 * 2 and lines == [item for item in drawn if item[0] == "line"]
    if library == "arrow":
        assert drawn == expected
