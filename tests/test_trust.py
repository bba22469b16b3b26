"""Bad input a hostile tester tried: refused clearly, before any state changes."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from mdwindow import TumblingWindowSpec, WatermarkPolicy, tumbling_windows
from mdwindow.incremental import Windower


def _ticks(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(np.arange(n) * 1000, unit="ms", utc=True),
            "symbol": ["A", "B"] * (n // 2),
            "price": np.linspace(10, 11, n),
            "size": np.full(n, 100),
        }
    )


@pytest.mark.parametrize("bare", [5, "5", " 2 ", "2.5", "1e3", np.int64(7)])
@pytest.mark.parametrize("where", ["size", "lag", "allowed_lateness", "offset", "idle_timeout"])
def test_a_duration_without_a_unit_is_refused(bare, where):
    with pytest.raises((TypeError, ValueError), match=f"{where}: got the bare number"):
        if where == "size":
            tumbling_windows(_ticks(), bare)
        elif where == "offset":
            TumblingWindowSpec("5s", offset=bare)
        else:
            WatermarkPolicy(scope="key", **{where: bare})


def test_zero_and_durations_with_units_are_accepted():
    policy = WatermarkPolicy(lag="0", allowed_lateness=0, scope="key", idle_timeout="250ms")
    assert policy.lag == pd.Timedelta(0) and policy.idle_timeout == pd.Timedelta("250ms")
    assert TumblingWindowSpec(np.timedelta64(5, "s")).size == pd.Timedelta("5s")


@pytest.mark.parametrize(
    "values, unit",
    [
        (np.array([2**63 + 5], np.uint64), "ns"),
        (np.array([2**64 - 1], np.uint64), "s"),
        (np.array([2**63 - 1], np.uint64), "us"),
        (np.array([np.iinfo(np.int64).max], np.int64), "ms"),
        (np.array([np.iinfo(np.int64).min + 1], np.int64), "s"),
    ],
)
def test_integer_times_that_would_wrap_are_out_of_range(values, unit):
    ticks = pd.DataFrame({"ts": values, "symbol": "A"})
    result = tumbling_windows(ticks, "1s", time_unit=unit)
    assert result.rejected["reason"].tolist() == ["time_out_of_range"]
    assert result.windows.empty and result.pending.empty


def test_unsigned_times_in_range_are_windowed():
    ticks = pd.DataFrame({"ts": np.array([1, 2, 7], np.uint64), "symbol": "A"})
    result = tumbling_windows(ticks, "5s", time_unit="s")
    assert result.windows["count"].tolist() == [2]
    assert result.pending["count"].tolist() == [1]


@pytest.mark.parametrize("bad", [["a", "b"], [1.5, 2.5], [pd.Timestamp("2024-01-01")] * 2])
def test_a_chunk_of_unusable_times_after_datetimes_says_what_to_do(bad):
    w = Windower("1s")
    w.push(_ticks())
    before = w.checkpoint()
    chunk = pd.DataFrame({"ts": pd.Series(bad, dtype=object), "symbol": ["A", "B"]})
    with pytest.raises(TypeError, match="pd.to_datetime"):
        w.push(chunk)
    assert w.checkpoint() == before


def test_duplicate_and_multiindex_columns_are_named():
    ticks = _ticks()
    doubled = pd.concat([ticks, ticks[["ts"]]], axis=1)
    with pytest.raises(ValueError, match="time: column 'ts' appears 2 times"):
        tumbling_windows(doubled, "1s")
    multi = ticks.copy()
    multi.columns = pd.MultiIndex.from_tuples([(c, "") for c in ticks.columns])
    with pytest.raises(TypeError, match="MultiIndex columns"):
        tumbling_windows(multi, "1s")


def test_a_non_numeric_ohlcv_column_is_named_before_any_work():
    ticks = _ticks().astype({"size": object})
    ticks.loc[2, "size"] = "x"
    w = Windower("1s", agg="ohlcv")
    with pytest.raises(TypeError, match="agg: column 'size' holds object values"):
        w.push(ticks)
    assert w.rows_seen == 0
    with pytest.raises(TypeError, match="pd.to_numeric"):
        tumbling_windows(ticks, "1s", agg="ohlcv")


def test_save_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    w = Windower("1s")
    w.push(_ticks())
    path = tmp_path / "state.ckpt"
    path.write_bytes(b"old")
    os.chmod(path, 0o644)
    w.save(path)
    assert (path.stat().st_mode & 0o777) == 0o644
    fresh = tmp_path / "fresh.ckpt"
    umask = os.umask(0o022)
    try:
        w.save(fresh)
    finally:
        os.umask(umask)
    assert (fresh.stat().st_mode & 0o777) == 0o644
    assert Windower.load(path).rows_seen == 6


@pytest.mark.parametrize(
    "keys",
    [
        pd.Series(["A", 1, "B"], dtype=object),
        pd.Series([1.0, True, 2.0], dtype=object),
        pd.Series([(1, 2), (3, 4), (1, 2)], dtype=object),
    ],
)
def test_keys_of_mixed_types_are_refused_at_push(keys):
    ticks = pd.DataFrame({"ts": pd.to_datetime([0, 1, 2], unit="s", utc=True), "symbol": keys})
    w = Windower("1s", scope="key")
    with pytest.raises(TypeError, match="key: column 'symbol' holds keys of mixed"):
        w.push(ticks)
    assert w.rows_seen == 0
    with pytest.raises(TypeError, match="astype"):
        tumbling_windows(ticks, "1s")


def test_keys_changing_type_between_chunks_are_refused():
    w = Windower("1s", scope="key")
    first = pd.DataFrame({"ts": pd.to_datetime([0], unit="s", utc=True), "symbol": ["A"]})
    w.push(first)
    second = first.assign(symbol=pd.Series([7], dtype=object))
    with pytest.raises(TypeError, match="integer keys in this chunk but string keys"):
        w.push(second)
    assert w.rows_seen == 1
    # Missing keys alone are not a type: they are rejected rows, as always.
    w.push(first.assign(symbol=pd.Series([None], dtype=object)))
    assert w.rows_seen == 2


@pytest.mark.parametrize(
    "dtype", [object, "str", "category", "string[pyarrow]", "int64", "float64"]
)
def test_the_key_keeps_its_dtype_through_a_checkpoint(dtype):
    values = ["A", "B", "A", "C"] if dtype not in ("int64", "float64") else [1, 2, 1, 3]
    ticks = pd.DataFrame(
        {
            "ts": pd.to_datetime([0, 1, 2, 3], unit="s", utc=True),
            "symbol": pd.Series(values, dtype=dtype),
        }
    )
    whole = Windower("1s", scope="key")
    whole.push(ticks)
    expected = whole.flush().pending
    cut = Windower("1s", scope="key")
    cut.push(ticks.iloc[:2])
    restored = Windower.restore(cut.checkpoint())
    restored.push(ticks.iloc[2:])
    got = restored.flush().pending
    assert got["symbol"].dtype == expected["symbol"].dtype
    pd.testing.assert_frame_equal(got, expected)


def test_a_keys_partition_depends_on_that_key_alone():
    from mdwindow import partition_ids

    alone = {
        repr(k): int(partition_ids(pd.Series([k], dtype=object), 4)[0])
        for k in (1, 1.0, True, "1")
    }
    for together in ([1.0, True], [True, 1.0, 1], [1, "1", 1.0, True]):
        got = partition_ids(pd.Series(together, dtype=object), 4).tolist()
        assert got == [alone[repr(k)] for k in together]


def test_optional_subpackages_are_attributes_imported_on_first_use():
    import subprocess
    import sys

    script = (
        "import sys, mdwindow as mw\n"
        "assert 'ipywidgets' not in sys.modules and 'dask' not in sys.modules\n"
        "assert 'widgets' in dir(mw)\n"
        "assert mw.widgets.tune is not None\n"
        "assert mw.dask.tumbling_windows is not None\n"
        "try:\n    mw.nonsense\nexcept AttributeError as e:\n    assert 'nonsense' in str(e)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_names_that_look_like_mathtext_are_drawn_as_plain_text(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from mdwindow import plot_late_drops, plot_watermark, write_report
    from mdwindow.synth import generate_ticks
    from mdwindow.widgets import WatermarkTuner

    ticks = generate_ticks(3000, symbols=3, seed=1, duration="5min")
    ticks["symbol"] = ticks["symbol"].replace({"SPY": "$x^{$"})
    result = tumbling_windows(ticks, "5s", lag="1s", scope="key")
    drawings = (
        lambda: plot_late_drops(result),
        lambda: plot_watermark(result, ticks, key="$x^{$"),
    )
    for draw in drawings:
        ax = draw()
        ax.figure.canvas.draw()
        texts = [t.get_text() for t in ax.figure.findobj(matplotlib.text.Text)]
        assert any("$x^{$" in text for text in texts)
    write_report(ticks, "5s", tmp_path / "r.html", lag="1s", scope="key")
    tuner = WatermarkTuner(ticks, "5s", scope="key", symbol="$x^{$")
    assert tuner.message == "" and tuner.image.value
