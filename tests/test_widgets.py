"""The tuner without a browser: move the controls, check what it holds and drew."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ipywidgets")

from mdwindow import tumbling_windows  # noqa: E402
from mdwindow.plotting.tuner_figure import zoom  # noqa: E402
from mdwindow.synth import generate_ticks  # noqa: E402
from mdwindow.widgets import WatermarkTuner, readable_duration, tune  # noqa: E402


@pytest.fixture(scope="module")
def ticks() -> pd.DataFrame:
    return generate_ticks(
        20_000, symbols=6, seed=11, duration="10min", lagging_symbols=1, stall_rate=1 / 60
    )


@pytest.fixture()
def tuner(ticks) -> WatermarkTuner:
    return WatermarkTuner(ticks, "5s", lag="1s", allowed_lateness="0s", scope="key", partitions=8)


def _summary_of(result) -> dict:
    s = result.summary()
    return {
        k: s[k] for k in ("rows", "on_time", "late", "dropped", "rejected", "windows", "pending")
    }


def test_summary_and_result_match_tumbling_windows(tuner, ticks):
    expected = tumbling_windows(ticks, "5s", lag="1s", scope="key", partitions=8)
    assert {k: tuner.summary[k] for k in _summary_of(expected)} == _summary_of(expected)
    pd.testing.assert_frame_equal(tuner.result.windows, expected.windows)
    assert tuner.policy.lag == pd.Timedelta("1s")
    assert tuner.spec.size == pd.Timedelta("5s")


def test_moving_a_slider_recomputes_and_redraws(tuner, ticks):
    before_png = tuner.image.value
    before_lines = [line.get_ydata().copy() for line in tuner.figure.axes[0].get_lines()]
    tuner.set(lag="3s")
    assert tuner.policy.lag == pd.Timedelta("3s")
    expected = tumbling_windows(ticks, "5s", lag="3s", scope="key", partitions=8)
    assert tuner.summary["dropped"] == expected.summary()["dropped"]
    assert tuner.image.value != before_png
    after_lines = [line.get_ydata() for line in tuner.figure.axes[0].get_lines()]
    assert any(
        len(a) != len(b) or not np.array_equal(a, b)
        for a, b in zip(before_lines, after_lines, strict=False)
    )
    assert tuner.message == ""


def test_raising_lateness_never_increases_drops(tuner):
    drops = []
    for lateness in ["0s", "100ms", "250ms", "500ms", "1s", "2s", "5s"]:
        tuner.set(allowed_lateness=lateness)
        drops.append(tuner.summary["dropped"])
    assert drops == sorted(drops, reverse=True)
    assert drops[0] > drops[-1]


def test_scope_and_symbol_change_the_plot(tuner, ticks):
    tuner.set(scope="global")
    expected = tumbling_windows(ticks, "5s", lag="1s", partitions=8)
    assert tuner.summary["dropped"] == expected.summary()["dropped"]
    quiet = ticks["symbol"].value_counts().index[-1]
    tuner.set(symbol=quiet)
    assert quiet in tuner.figure.axes[0].get_title()
    tuner.set(size="10s")
    assert tuner.spec.size == pd.Timedelta("10s")
    assert "window 10s" in tuner.figure.axes[0].get_title()


def test_a_bad_value_shows_a_message_and_greys_the_previous_plot(tuner):
    before = tuner.image.value
    assert before
    tuner.set(lag="7s")  # not offered by the slider
    assert "lag: '7s' is not offered" in tuner.message and "Timedelta" not in tuner.message
    # No broken-image box: the last picture stays, greyed out.
    assert tuner.image.value == before and tuner.image.layout.opacity == "0.35"
    assert tuner.summary == {}
    tuner.set(lag="2s")  # a good value brings everything back
    assert tuner.message == "" and tuner.image.value and tuner.summary
    assert tuner.image.layout.opacity == "1"


def test_summary_durations_read_as_people_write_them(tuner):
    html = tuner.summary_html.value
    assert "us<" not in html and "ns<" not in html
    median = tuner.summary["latency_median"]
    assert readable_duration(median) in html
    assert readable_duration(pd.Timedelta("3236256348ns")) == "3.24 s"


def test_an_engine_error_shows_a_message_not_a_stale_plot(tuner, monkeypatch):
    import mdwindow.core.grid.tuning as tuning
    import mdwindow.widgets.tuner as widgets

    def broken(*args, **kwargs):
        raise ValueError("lag: boom")

    # A new window size needs a new sweep; a slider move judges the rows again.
    with monkeypatch.context() as patch:
        patch.setattr(tuning, "scan_rows", broken)
        tuner.set(size="10s")
        assert "boom" in tuner.message
        assert tuner.image.layout.opacity == "0.35" and tuner.summary == {}
    tuner.set(lag="2s")
    assert tuner.message == "" and tuner.image.value
    with monkeypatch.context() as patch:
        patch.setattr(widgets, "judge_rows", broken)
        tuner.set(lag="3s")
        assert "boom" in tuner.message
        assert tuner.image.layout.opacity == "0.35" and tuner.summary == {}


def test_repr_is_short_and_stable(tuner):
    text = repr(tuner)
    assert text == (
        "WatermarkTuner(size=5s, lag=1s, lateness=0s, scope='key', symbol="
        f"{tuner.symbol_menu.value!r})"
    )
    assert "0x" not in text


def test_tune_shortcut_and_unknown_control(ticks):
    tuner = tune(ticks, "5s", scope="partition", partitions=4)
    assert tuner.policy.scope == "partition"
    with pytest.raises(TypeError, match="unknown control"):
        tuner.set(speed="fast")


# -- the shortcut behind a slider move, against the engine ----------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mdwindow.core.grid import ScopeRows, TickColumns  # noqa: E402
from mdwindow.core.grid import judge_rows as judge  # noqa: E402
from mdwindow.core.options import TumblingWindowSpec, WindowOptions  # noqa: E402
from mdwindow.core.rules import STATUS_NAMES  # noqa: E402
from mdwindow.core.times import event_times  # noqa: E402
from mdwindow.hashing import partition_ids  # noqa: E402

from .strategies import tick_frames  # noqa: E402


def _assert_judged_like_the_engine(ticks, symbol, size, offset, lag, lateness, scope, arrival):
    """What the tuner draws for ``symbol`` equals ``tumbling_windows`` on the rows sharing
    its watermark: per-row status and watermarks, ``late_by``, and the symbol's emissions."""
    partitions = 3
    spec = TumblingWindowSpec(size, offset=offset)
    keys = ticks["symbol"].dropna().unique()
    partition_of_key = pd.Series(partition_ids(keys.astype(object), partitions), index=keys)
    if scope == "key":
        sharing = ticks[(ticks["symbol"] == symbol).to_numpy()]
    elif scope == "partition":
        mine = partition_of_key[partition_of_key == partition_of_key[symbol]].index
        sharing = ticks[ticks["symbol"].isin(mine).to_numpy()]
    else:
        sharing = ticks
    options = {"time": "ts", "key": "symbol", "arrival_time": arrival, "time_unit": None}
    expected = tumbling_windows(
        sharing, spec, lag=lag, allowed_lateness=lateness, scope=scope,
        partitions=partitions, **options,
    )  # fmt: skip

    cfg = WindowOptions.build(spec, scope=scope, partitions=partitions, **options)
    columns = TickColumns.of(cfg, ticks)
    positions = columns.rows_sharing_watermark(symbol, scope)
    rows = ScopeRows.of(columns, positions, spec.size_ns, spec.offset_ns)
    judged = judge(rows, pd.Timedelta(lag).value, pd.Timedelta(lateness).value)

    trace = expected.trace.sort_values("arrival")
    assert len(rows) == len(trace)
    assert np.array(STATUS_NAMES)[judged.status].tolist() == trace["status"].astype(str).tolist()
    np.testing.assert_array_equal(
        judged.watermark_before, event_times(trace, "watermark_before", None)[0]
    )
    np.testing.assert_array_equal(
        judged.watermark_after, event_times(trace, "watermark_after", None)[0]
    )
    dropped = np.flatnonzero(judged.status == STATUS_NAMES.index("dropped"))
    np.testing.assert_array_equal(dropped, expected.late["arrival"].to_numpy())
    np.testing.assert_array_equal(
        judged.late_by[dropped], expected.late["late_by"].to_numpy().view(np.int64)
    )
    emit_row, emit_end = judged.emissions(rows, columns.code_of(symbol))
    windows = expected.windows
    mine = windows[(windows["symbol"] == symbol).to_numpy() & (windows["emit_row"] < len(rows))]
    assert sorted(zip(emit_row.tolist(), emit_end.tolist(), strict=True)) == sorted(
        zip(
            mine["emit_row"].tolist(),
            event_times(mine, "window_end", None)[0].tolist(),
            strict=True,
        )
    )


@given(
    ticks=tick_frames(),
    size=st.sampled_from(["1s", "2s", "3s"]),
    offset=st.sampled_from(["0s", "1s", "1500ms"]),
    lag=st.sampled_from(["0s", "1s", "2s", "3s"]),
    lateness=st.sampled_from(["0s", "1s", "2s", "4s"]),
    scope=st.sampled_from(["global", "key", "partition"]),
    arrival=st.sampled_from([None, "recv"]),
    pick=st.integers(0, 3),
)
def test_slider_shortcut_matches_tumbling_windows(
    ticks, size, offset, lag, lateness, scope, arrival, pick
):
    keys = ticks["symbol"].dropna().unique()
    if len(keys) == 0:
        return
    symbol = keys[pick % len(keys)]
    _assert_judged_like_the_engine(ticks, symbol, size, offset, lag, lateness, scope, arrival)


@pytest.mark.parametrize("scope", ["global", "key", "partition"])
@pytest.mark.parametrize(
    ("lag", "lateness"), [("0s", "0s"), ("500ms", "250ms"), ("1s", "0s"), ("3s", "1s")]
)
def test_slider_shortcut_matches_tumbling_windows_on_ticks(ticks, scope, lag, lateness):
    quiet = ticks["symbol"].value_counts().index[-1]
    for symbol in (ticks["symbol"].iloc[0], quiet):
        _assert_judged_like_the_engine(ticks, symbol, "5s", "0s", lag, lateness, scope, "recv_ts")


def test_drawn_figure_shows_the_engine_result(ticks):
    tuner = WatermarkTuner(ticks, "5s", lag="500ms", allowed_lateness="250ms", scope="global")
    symbol = tuner.symbol
    expected = tumbling_windows(
        ticks, "5s", lag="500ms", allowed_lateness="250ms", scope="global", partitions=8
    )
    top, left = tuner.figure.axes[0], tuner.figure.axes[1]
    # The late-by histogram counts every dropped row sharing the watermark (all of them).
    (histogram,) = [p for p in left.patches if p.get_gid() == "late_by"]
    assert histogram.get_data().values.sum() == len(expected.late)
    # The dropped crosses are the symbol's dropped rows in the zoomed arrival range:
    # ZOOM_ROWS rows holding the most drops (any ZOOM_ROWS consecutive rows hold no more).
    from mdwindow.widgets import ZOOM_ROWS

    late = expected.late
    arrival = np.sort(late["arrival"].to_numpy())
    counts = np.searchsorted(arrival, arrival + ZOOM_ROWS) - np.arange(len(arrival))
    densest = arrival[counts.argmax() : counts.argmax() + counts.max()]
    begin, stop = zoom(arrival, len(ticks), ZOOM_ROWS)
    assert stop - begin == ZOOM_ROWS
    assert (
        begin in (0, len(ticks) - ZOOM_ROWS) or abs((begin + stop) / 2 - np.median(densest)) <= 1
    )
    lo, hi = top.get_xlim()
    assert lo < begin and begin + ZOOM_ROWS - 1 < hi
    view = late["arrival"].between(begin, begin + ZOOM_ROWS - 1)
    in_view = late[(late["symbol"] == symbol).to_numpy() & view.to_numpy()]
    (crosses,) = [c for c in top.collections if c.get_gid() == "status:dropped"]
    assert sorted(crosses.get_offsets()[:, 0].astype(int).tolist()) == sorted(
        in_view["arrival"].tolist()
    )
    assert len(in_view) > 0


def test_zoom_centres_a_burst_that_straddles_a_former_bin_edge():
    # Fixed bins of the span cut this burst at row 6,000: half of it sat at the view's edge.
    burst = np.arange(5_700, 6_400, 2)
    scattered = np.array([100, 1_500, 14_000, 25_000])
    begin, stop = zoom(np.concatenate([scattered, burst]), 30_000, 3_000)
    assert stop - begin == 3_000
    assert begin <= burst[0] and burst[-1] < stop
    centre = (burst[0] + burst[-1]) / 2
    assert abs((begin + stop) / 2 - centre) <= 2
    # A few drops scattered beside a burst do not pull it to the view's edge.
    beside = np.arange(6_500, 8_600, 300)
    begin, stop = zoom(np.concatenate([burst, beside]), 30_000, 3_000)
    assert begin + 600 < burst[0] and burst[-1] < stop - 600
    # At the edges of the rows the view stays inside them.
    assert zoom(np.array([10, 20]), 30_000, 3_000) == (0, 3_000)
    assert zoom(np.array([29_990]), 30_000, 3_000) == (27_000, 30_000)


def test_the_issue_burst_is_inside_the_zoom_and_centred():
    # The issue's frame at a tenth of the rows (its burst of drops sat at the view's edge).
    from mdwindow.widgets import ZOOM_ROWS

    ticks = generate_ticks(100_000, symbols=20, seed=7, duration="12min")
    tuner = tune(ticks, "5s", lag="1s", arrival_time="recv_ts", symbol="SPY")
    # Under the global watermark the rows sharing it are all rows, in arrival order.
    drops = np.sort(tuner.result.late["arrival"].to_numpy())
    lo, hi = tuner.figure.axes[0].get_xlim()
    counts = np.searchsorted(drops, drops + ZOOM_ROWS) - np.arange(len(drops))
    densest = drops[counts.argmax() : counts.argmax() + counts.max()]
    # Centred on the densest drops; the burst around their middle is in view, whole.
    centre = np.median(densest)
    assert abs((lo + hi) / 2 - centre) < ZOOM_ROWS / 20
    burst = densest[abs(densest - centre) < ZOOM_ROWS / 4]
    assert len(burst) > len(densest) / 2 and lo < burst.min() and burst.max() < hi


# -- the grid behind a first visit of a window size or scope, against the engine ----

import mdwindow.core.grid.closing as grid_closing  # noqa: E402
import mdwindow.core.grid.quantiles as grid_quantiles  # noqa: E402
import mdwindow.core.grid.tuning as grid_tuning  # noqa: E402
import mdwindow.core.grid.windows as grid_windows  # noqa: E402
from mdwindow.core.grid import read_grid, scan_rows, scope_rows  # noqa: E402
from mdwindow.sweep import sweep  # noqa: E402

GRID_LAGS = ["0s", "500ms", "1s", "2s", "3s"]
GRID_LATENESS = ["0s", "1s", "2500ms", "4s"]


def _scan(ticks, size, offset, scope, arrival, partitions=3, emit_partial=False, idle=None):
    options = {"time": "ts", "key": "symbol", "arrival_time": arrival, "time_unit": None}
    spec = TumblingWindowSpec(size, offset=offset, emit_partial=emit_partial)
    cfg = WindowOptions.build(
        spec, scope=scope, partitions=partitions, idle_timeout=idle, **options
    )
    columns = TickColumns.of(cfg, ticks)
    scan = scan_rows(
        columns, cfg, [pd.Timedelta(v).value for v in GRID_LAGS],
        [pd.Timedelta(v).value for v in GRID_LATENESS],
    )  # fmt: skip
    return spec, columns, read_grid(scan), scan


def _assert_grid_like_sweep_and_engine(
    ticks, size, offset, scope, arrival, emit_partial, ways=(), idle=None
):
    """The grid read off a scan, the ways of finding windows and closing steps named in
    ``ways`` (module, limit) turned off, equals ``sweep`` (which takes them as they
    come) and, at one point, ``tumbling_windows``; the scan's rows equal a scan of
    each watermark's rows alone."""
    with pytest.MonkeyPatch.context() as patch:
        for module, limit in ways:
            patch.setattr(module, limit, 0)
        spec, columns, grid, scan = _scan(
            ticks, size, offset, scope, arrival, emit_partial=emit_partial, idle=idle
        )
    expected = sweep(
        ticks, spec, lags=GRID_LAGS, lateness=GRID_LATENESS, scope=scope, partitions=3,
        arrival_time=arrival, idle_timeout=idle,
    )  # fmt: skip
    pd.testing.assert_frame_equal(grid, expected)
    assert grid.attrs == expected.attrs
    # One grid point against a plain windowing run.
    point = grid.iloc[len(grid) // 2 + 1]
    result = tumbling_windows(
        ticks, spec, lag=point["lag"], allowed_lateness=point["lateness"], scope=scope,
        partitions=3, arrival_time=arrival, idle_timeout=idle,
    )  # fmt: skip
    summary = result.summary()
    assert [int(point[c]) for c in ("on_time", "late_accepted", "dropped", "rejected")] == [
        summary[c] for c in ("on_time", "late", "dropped", "rejected")
    ]
    assert (int(point["windows"]), int(point["pending"])) == (
        len(result.windows),
        len(result.pending),
    )
    if idle is not None:
        return  # the rows of one watermark alone know nothing of the others' maximum
    # The rows of every watermark group, sliced from the scan, are those the plot judges.
    for symbol in ticks["symbol"].dropna().unique():
        positions = columns.rows_sharing_watermark(symbol, scope)
        sliced = scope_rows(scan, columns, positions)
        direct = ScopeRows.of(columns, positions, spec.size_ns, spec.offset_ns)
        for name in ("t", "codes", "valid", "end", "max_before", "max_after"):
            np.testing.assert_array_equal(getattr(sliced, name), getattr(direct, name))


@given(
    ticks=tick_frames(),
    size=st.sampled_from(["1s", "2s", "3s"]),
    offset=st.sampled_from(["0s", "1s", "1500ms"]),
    scope=st.sampled_from(["global", "key", "partition"]),
    arrival=st.sampled_from([None, "recv"]),
    emit_partial=st.booleans(),
    dense=st.booleans(),
    table=st.booleans(),
)
def test_first_visit_grid_matches_sweep_and_tumbling_windows(
    ticks, size, offset, scope, arrival, emit_partial, dense, table
):
    _assert_grid_like_sweep_and_engine(
        ticks, size, offset, scope, arrival, emit_partial, _ways(dense, table)
    )


def _ways(dense: bool, table: bool) -> list[tuple[object, str]]:
    """The limits to lower to 0 so that the grid takes the other ways."""
    ways = []
    if not dense:  # windows gathered by sorting, as for very sparse keys
        ways += [(grid_windows, "DENSE_SLOTS_PER_ROW"), (grid_windows, "MIN_DENSE_SLOTS")]
    if not table:  # closing steps searched per window and total, as for sparse ends
        ways += [(grid_closing, "CLOSING_TABLE_PER_WINDOW"), (grid_closing, "MIN_CLOSING_TABLE")]
    return ways


@pytest.mark.parametrize("scope", ["global", "key", "partition"])
@pytest.mark.parametrize("arrival", [None, "recv_ts"])
@pytest.mark.parametrize("size", ["1s", "5s"])
def test_first_visit_grid_matches_sweep_on_ticks(ticks, scope, arrival, size):
    _assert_grid_like_sweep_and_engine(ticks, size, "0s", scope, arrival, False)


def test_first_visit_of_a_size_and_scope_shows_exact_counts(tuner, ticks):
    for size, scope in [("1s", "key"), ("1s", "partition"), ("30s", "global")]:
        tuner.set(size=size, scope=scope, lag="500ms", allowed_lateness="250ms")
        expected = tumbling_windows(
            ticks, size, lag="500ms", allowed_lateness="250ms", scope=scope, partitions=8
        )
        assert {k: tuner.summary[k] for k in _summary_of(expected)} == _summary_of(expected)
        # The trade-off curves hold the grid of this size and scope.
        grid = sweep(
            ticks, size, scope=scope, partitions=8,
            lags=[v for _, v in tuner.lag_slider.options],
            lateness=[v for _, v in tuner.lateness_slider.options],
        )  # fmt: skip
        right = tuner.figure.axes[2]
        (curve,) = [line for line in right.get_lines() if line.get_gid() == "drop_rate:250ms"]
        part = grid[grid["lateness"] == pd.Timedelta("250ms")].sort_values("lag")
        np.testing.assert_allclose(curve.get_ydata(), part["drop_rate"].to_numpy() * 100)


def test_tuner_with_arrival_time_counts_like_tumbling_windows(ticks):
    tuner = WatermarkTuner(
        ticks, "5s", lag="1s", scope="partition", arrival_time="recv_ts", partitions=8
    )
    expected = tumbling_windows(
        ticks, "5s", lag="1s", scope="partition", partitions=8, arrival_time="recv_ts"
    )
    assert {k: tuner.summary[k] for k in _summary_of(expected)} == _summary_of(expected)
    assert (
        tuner.summary["latency_median"]
        == expected.windows["emit_time"].sub(expected.windows["window_end"]).median()
    )


def test_missing_arrival_time_shows_the_engine_message(ticks):
    broken = ticks.copy()
    broken.loc[broken.index[5], "recv_ts"] = pd.NaT
    with pytest.raises(ValueError, match="missing value"):
        tumbling_windows(broken, "5s", arrival_time="recv_ts")
    tuner = WatermarkTuner(broken, "5s", arrival_time="recv_ts")
    assert "arrival_time" in tuner.message and "missing value" in tuner.message
    assert tuner.image.value == b"" and tuner.summary == {}


def test_an_error_finishing_the_grid_shows_a_message_and_recovers(tuner, ticks, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("grid: boom")

    # The grid of a new size is read off a new scan; its error reaches the widget.
    with monkeypatch.context() as patch:
        patch.setattr(grid_tuning, "read_grid", broken)
        tuner.set(size="10s")
        assert "boom" in tuner.message
        assert tuner.image.layout.opacity == "0.35" and tuner.summary == {}
    tuner.set(lag="2s")
    expected = tumbling_windows(ticks, "10s", lag="2s", scope="key", partitions=8)
    assert tuner.message == "" and tuner.image.value
    assert {k: tuner.summary[k] for k in _summary_of(expected)} == _summary_of(expected)


def test_first_visit_and_revisit_draw_the_same_image(tuner):
    # A first visit draws the new trade-off last; a revisit pastes its kept pixels first.
    tuner.set(size="10s", scope="partition", lag="500ms")
    first = tuner.image.value
    tuner.set(size="1s", scope="global", lag="2s")
    tuner.set(size="10s", scope="partition", lag="500ms")
    assert tuner.image.value == first


# -- idle timeout: scopes "key" and "partition" against the engine -----------------

from mdwindow.core.grid import TunerGrids  # noqa: E402

IDLE_TIMEOUTS = ["0s", "1s", "2s", "5s"]


def _assert_idle_judged_like_the_engine(
    ticks, symbol, size, offset, lag, lateness, scope, idle, arrival
):
    """With an idle timeout, the rows sharing ``symbol``'s watermark (sliced from the scan
    of every row, as the tuner takes them) are judged as ``tumbling_windows`` on every
    row judges them: status, watermarks, ``late_by``; the symbol's emissions are shown
    at the first of these rows by which the engine had emitted them; and the counts
    of the tuner's grid point are the run's."""
    spec = TumblingWindowSpec(size, offset=offset)
    options = {"scope": scope, "idle_timeout": idle, "partitions": 3, "arrival_time": arrival}
    expected = tumbling_windows(ticks, spec, lag=lag, allowed_lateness=lateness, **options)
    cfg = WindowOptions.build(spec, lag=lag, allowed_lateness=lateness, **options)
    lag_ns, lateness_ns = cfg.policy.lag_ns, cfg.policy.lateness_ns
    grids = TunerGrids(ticks, cfg, sorted({0, lag_ns, 2 * 10**9}), sorted({lateness_ns, 10**9}))
    rows = grids.rows(cfg, symbol)
    judged = judge(rows, lag_ns, lateness_ns)

    positions = grids.columns.rows_sharing_watermark(symbol, scope)
    trace = expected.trace.sort_values("arrival").iloc[positions]
    assert np.array(STATUS_NAMES)[judged.status].tolist() == trace["status"].astype(str).tolist()
    for name in ("watermark_before", "watermark_after"):
        np.testing.assert_array_equal(getattr(judged, name), event_times(trace, name, None)[0])
    dropped = np.flatnonzero(judged.status == STATUS_NAMES.index("dropped"))
    late = expected.late[expected.late["arrival"].isin(positions).to_numpy()]
    np.testing.assert_array_equal(positions[dropped], late["arrival"].to_numpy())
    np.testing.assert_array_equal(
        judged.late_by[dropped], late["late_by"].to_numpy().view(np.int64)
    )
    emit_row, emit_end = judged.emissions(rows, grids.columns.code_of(symbol))
    windows = expected.windows
    mine = windows[(windows["symbol"] == symbol).to_numpy() & (windows["emit_row"] < len(ticks))]
    shown_at = np.searchsorted(positions, mine["emit_row"].to_numpy(), side="left")
    shown = shown_at < len(positions)
    assert sorted(zip(emit_row.tolist(), emit_end.tolist(), strict=True)) == sorted(
        zip(
            shown_at[shown].tolist(),
            event_times(mine, "window_end", None)[0][shown].tolist(),
            strict=True,
        )
    )
    point = grids.point(cfg)
    assert {k: point[k] for k in _summary_of(expected)} == _summary_of(expected)
    assert point["incomplete_windows"] == len(
        expected.late[["symbol", "window_start"]].drop_duplicates()
    )


@given(
    ticks=tick_frames(),
    size=st.sampled_from(["1s", "2s", "3s"]),
    offset=st.sampled_from(["0s", "1s", "1500ms"]),
    lag=st.sampled_from(["0s", "1s", "2s", "3s"]),
    lateness=st.sampled_from(["0s", "1s", "2s", "4s"]),
    scope=st.sampled_from(["key", "partition"]),
    idle=st.sampled_from(IDLE_TIMEOUTS),
    arrival=st.sampled_from([None, "recv"]),
    pick=st.integers(0, 3),
)
def test_idle_timeout_rows_and_point_match_tumbling_windows(
    ticks, size, offset, lag, lateness, scope, idle, arrival, pick
):
    keys = ticks["symbol"].dropna().unique()
    if len(keys) == 0:
        return
    symbol = keys[pick % len(keys)]
    _assert_idle_judged_like_the_engine(
        ticks, symbol, size, offset, lag, lateness, scope, idle, arrival
    )


@given(
    ticks=tick_frames(),
    size=st.sampled_from(["1s", "2s", "3s"]),
    offset=st.sampled_from(["0s", "1500ms"]),
    scope=st.sampled_from(["key", "partition"]),
    idle=st.sampled_from(IDLE_TIMEOUTS),
    arrival=st.sampled_from([None, "recv"]),
    emit_partial=st.booleans(),
    dense=st.booleans(),
    table=st.booleans(),
)
def test_idle_timeout_grid_matches_sweep_and_tumbling_windows(
    ticks, size, offset, scope, idle, arrival, emit_partial, dense, table
):
    _assert_grid_like_sweep_and_engine(
        ticks, size, offset, scope, arrival, emit_partial, _ways(dense, table), idle=idle
    )


@pytest.mark.parametrize("scope", ["key", "partition"])
@pytest.mark.parametrize("idle", ["0s", "500ms", "3s"])
def test_idle_timeout_on_ticks_matches_tumbling_windows(ticks, scope, idle):
    # The lagging symbol is the one an idle timeout changes most.
    quiet = ticks["symbol"].value_counts().index[-1]
    for symbol in (ticks["symbol"].iloc[0], quiet):
        _assert_idle_judged_like_the_engine(
            ticks, symbol, "5s", "0s", "500ms", "250ms", scope, idle, "recv_ts"
        )


def test_tuner_with_idle_timeout_counts_like_tumbling_windows(ticks):
    tuner = WatermarkTuner(
        ticks, "5s", lag="500ms", scope="key", idle_timeout="500ms", partitions=8
    )
    for scope in ("key", "partition"):
        tuner.set(scope=scope)
        expected = tumbling_windows(
            ticks, "5s", lag="500ms", scope=scope, idle_timeout="500ms", partitions=8
        )
        assert tuner.policy.idle_timeout == pd.Timedelta("500ms")
        assert {k: tuner.summary[k] for k in _summary_of(expected)} == _summary_of(expected)
        pd.testing.assert_frame_equal(tuner.result.windows, expected.windows)
        assert "idle 500ms" in tuner.figure.axes[0].get_title()
    plain = tumbling_windows(ticks, "5s", lag="500ms", scope="key", partitions=8)
    assert tuner.summary["dropped"] != plain.summary()["dropped"]  # the timeout matters here
    # A global watermark has no idle keys: the timeout waits for the next per-key scope.
    tuner.set(scope="global")
    assert tuner.message == "" and tuner.policy.idle_timeout is None
    assert "idle" not in tuner.figure.axes[0].get_title()
    expected = tumbling_windows(ticks, "5s", lag="500ms", partitions=8)
    assert {k: tuner.summary[k] for k in _summary_of(expected)} == _summary_of(expected)
    assert "idle_timeout" not in repr(tuner)
    tuner.set(scope="key")
    assert "idle_timeout=500ms" in repr(tuner)


def test_tuner_options_are_the_records(ticks):
    # Options with tumbling_windows' names and defaults; the tuner has no use for some.
    tuner = tune(ticks, "5s")
    assert (tuner.policy.lag, tuner.policy.allowed_lateness) == (pd.Timedelta(0),) * 2
    assert tuner.policy.scope == "global" and tuner.policy.idle_timeout is None
    with pytest.raises(TypeError, match="agg"):
        tune(ticks, "5s", agg="ohlcv")
    with pytest.raises(ValueError, match="idle_timeout: only applies"):
        tune(ticks, "5s", idle_timeout="1s")
    # Scope "partition" needs partitions: offered when they are given.
    assert tuner.scope_toggle.options == ("global", "key")
    tuner.set(scope="partition")
    assert "partitions=P" in tuner.message and tuner.summary == {}
    assert tune(ticks, "5s", partitions=2).scope_toggle.options == ("global", "key", "partition")


# -- exact numbers and pixels from the fast paths ---------------------------------

INT64 = st.integers(np.iinfo(np.int64).min + 1, np.iinfo(np.int64).max)


@given(
    values=st.one_of(
        st.lists(INT64, min_size=1, max_size=300),
        st.lists(st.integers(-3, 3), min_size=1, max_size=300),
        st.lists(st.integers(0, 10**10), min_size=1, max_size=3000),
    ),
)
def test_latency_quantiles_equal_numpy(values):
    values = np.array(values, np.int64)
    kept = values.copy()
    quantiles = np.array([0.5, 0.99, 0.0, 1.0, 0.25])
    out = np.empty(len(quantiles))
    grid_quantiles.quantiles_of(values, len(values), quantiles, out, np.empty_like(values))
    np.testing.assert_array_equal(out, np.quantile(kept, quantiles))
    np.testing.assert_array_equal(values, kept)  # left as they were


def test_latency_quantiles_equal_numpy_on_skewed_rows():
    # Many values, ties and far outliers: several radix passes.
    rng = np.random.default_rng(5)
    for n in (33, 2_049, 70_000):
        values = rng.exponential(1e9, n).astype(np.int64)
        values[rng.integers(0, n, 3)] = [3_600 * 10**9, 10**18, -(10**18)]
        values[: n // 3] = 7
        for count in (n, n // 2):
            got = np.empty(2)
            grid_quantiles.quantiles_of(
                values, count, np.array([0.5, 0.99]), got, np.empty_like(values)
            )
            np.testing.assert_array_equal(got, np.quantile(values[:count], [0.5, 0.99]))


@given(
    ends=st.lists(st.integers(0, 40), max_size=60),
    codes=st.lists(st.integers(-1, 2), max_size=60),
    size=st.sampled_from([1, 3, 10**9]),
    base=st.sampled_from([0, -(5 * 10**18), 4 * 10**18]),
    sparse=st.booleans(),
)
def test_key_windows_by_table_equal_sorting(ends, codes, size, base, sparse):
    n = min(len(ends), len(codes))
    end = base + size * np.array(ends[:n], np.int64) * (10**6 if sparse else 1)
    code = np.array(codes[:n], np.int64)
    valid = code != 2  # some rows of key 2 ... none valid
    end = np.where(valid, end, np.iinfo(np.int64).max)
    by_table = ScopeRows(end, code, valid, end, end, end, size)
    by_sorting = ScopeRows(end, code, valid, end, end, end, 0)
    for key in (-1, 0, 1, 2):
        for got, expected in zip(
            by_table.key_windows(key), by_sorting.key_windows(key), strict=True
        ):
            np.testing.assert_array_equal(got, expected)


def test_text_caching_canvas_draws_the_same_pixels():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from mdwindow.plotting.raster import text_caching_canvas as _text_caching_canvas

    def figure(shift: float) -> Figure:
        # Texts at quarter-pixel steps, so glyphs recur at the same sub-pixel
        # position in other places: kept bitmaps are reused.
        fig = Figure(figsize=(4, 3), dpi=72)
        ax = fig.add_subplot()
        ax.set_title("title 1,234 (1 in 3 shown)\nsecond line")
        for i in range(24):
            fig.text(
                (10 + 11.25 * i + shift) / 288, (20 + 7.5 * i) / 216, f"{i * 137:,} éx",
                fontsize=(7, 8.5, 10)[i % 3], rotation=(0, 90, 30)[i % 3],
            )  # fmt: skip
        return fig

    cached = _text_caching_canvas(figure(0.0))
    cached.draw()
    for shift in (0.0, 3.0, 0.25, 17.5):
        fresh = FigureCanvasAgg(figure(shift))
        fresh.draw()
        cached.figure = figure(shift)
        cached.figure.set_canvas(cached)
        cached.draw()
        np.testing.assert_array_equal(
            np.asarray(cached.buffer_rgba()), np.asarray(fresh.buffer_rgba())
        )


def test_png_is_the_canvas_pixels(tuner):
    import io

    from PIL import Image

    tuner.set(lag="3s")
    pixels = np.asarray(tuner._view.canvas.buffer_rgba())[:, :, :3]
    decoded = np.asarray(Image.open(io.BytesIO(tuner.image.value)).convert("RGB"))
    np.testing.assert_array_equal(decoded, pixels)


def test_updates_draw_the_same_image_without_measuring_tick_labels(ticks, monkeypatch):
    import contextlib

    import mdwindow.plotting.tuner_figure as tuner_figure

    moves = [{"lag": "3s"}, {"size": "1s"}, {"scope": "global"}, {"size": "30s"}]

    def images() -> list[bytes]:
        tuner = WatermarkTuner(ticks, "5s", lag="1s", scope="key")
        return [tuner.image.value] + [tuner.set(**move) or tuner.image.value for move in moves]

    fast = images()
    monkeypatch.setattr(
        tuner_figure, "_tick_label_boxes_skipped", lambda *axes: contextlib.nullcontext()
    )
    assert images() == fast


# -- the recommended point, and other libraries' frames ------------------------------


def test_the_recommended_point_is_recommend_from_grids(tuner):
    from mdwindow.recommend import recommend_from_grid

    rec = recommend_from_grid(tuner._grids.grid(tuner._state()), max_drop_rate=1e-3)
    assert (tuner.recommendation.lag, tuner.recommendation.allowed_lateness) == (
        rec.lag,
        rec.allowed_lateness,
    )
    assert not tuner.recommend_button.disabled
    assert f"lag {rec.lag.total_seconds():g}s" in tuner.controls.recommend_html.value
    # Marked on the trade-off, at its lag and drop rate.
    marker = tuner._view.recommended_marker
    assert marker.get_xdata()[0] == rec.lag.total_seconds()
    assert marker.get_ydata()[0] == pytest.approx(rec.drop_rate * 100)
    before = tuner.image.value
    tuner.recommend_button.click()
    assert (tuner.policy.lag, tuner.policy.allowed_lateness) == (rec.lag, rec.allowed_lateness)
    assert tuner.summary["drop_rate"] == pytest.approx(rec.drop_rate)
    assert tuner.summary["drop_rate"] <= 1e-3 and tuner.image.value != before


def test_no_point_meets_the_target_disables_the_button(ticks):
    tuner = WatermarkTuner(ticks, "5s", lags=["0s", "50ms"], lateness=["0s"], scope="global",
                           max_drop_rate=0.0)  # fmt: skip
    assert tuner.recommendation is None and tuner.recommend_button.disabled
    assert "max_drop_rate" in tuner.recommend_button.tooltip
    assert "none" in tuner.controls.recommend_html.value
    lag = tuner.policy.lag
    tuner.jump_to_recommended()
    assert "no recommended point" in tuner.message and tuner.policy.lag == lag
    with pytest.raises(ValueError, match="max_drop_rate"):
        WatermarkTuner(ticks, "5s", max_drop_rate=2.0)


@pytest.mark.parametrize("kind", ["polars", "polars_lazy", "arrow", "capsule"])
def test_polars_and_arrow_frames_tune_like_pandas(ticks, kind):
    import pyarrow as pa

    table = pa.Table.from_pandas(ticks, preserve_index=False)
    if kind.startswith("polars"):
        pl = pytest.importorskip("polars")
        frame = pl.from_arrow(table)
        frame = frame.lazy() if kind == "polars_lazy" else frame
    elif kind == "arrow":
        frame = table
    else:

        class Capsule:  # only the Arrow PyCapsule stream interface
            def __arrow_c_stream__(self, requested_schema=None):
                return table.__arrow_c_stream__(requested_schema)

        frame = Capsule()
    options = dict(lag="1s", scope="key", arrival_time="recv_ts")
    mine, theirs = WatermarkTuner(frame, "5s", **options), WatermarkTuner(ticks, "5s", **options)
    assert mine.message == "" and isinstance(mine.result.windows, pd.DataFrame)
    assert mine.summary == theirs.summary
    mine.set(lag="2s", scope="global")
    theirs.set(lag="2s", scope="global")
    assert mine.summary == theirs.summary


def test_saved_output_explains_itself(tuner):
    import base64

    bundle = tuner._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "run the cell" in bundle["text/plain"]
    picture = base64.b64decode(bundle["image/png"])
    import struct

    from mdwindow.plotting.tuner_figure import CSS_SIZE

    # The figure at its size on the page: fewer bytes than the widget's bitmap.
    assert struct.unpack(">II", picture[16:24]) == CSS_SIZE
    assert len(picture) < len(tuner.image.value)


def test_notebook_02_stores_no_widget_state_and_its_tuner_output_reads_without_a_kernel():
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "notebooks"
    notebook = json.loads((path / "02_tuning_lag_and_lateness.ipynb").read_text("utf-8"))
    assert "widgets" not in notebook["metadata"]
    (output,) = [
        o
        for cell in notebook["cells"]
        if cell["cell_type"] == "code" and "tuner = tune(" in "".join(cell["source"])
        for o in cell["outputs"]
    ]
    assert "image/png" in output["data"]
    assert "run the cell" in "".join(output["data"]["text/plain"])


def test_controls_are_named_and_laid_out_in_a_grid(tuner):
    import ipywidgets

    grid, second, recommendation = tuner.controls.box.children
    assert recommendation is tuner.controls.recommend_html
    assert isinstance(grid, ipywidgets.GridBox)
    assert "auto-fill" in grid.layout.grid_template_columns
    assert tuner.scope_toggle in second.children and "wrap" in second.layout.flex_flow
    named = [tuner.lag_slider, tuner.lateness_slider, tuner.size_menu, tuner.symbol_menu,
             tuner.scope_toggle]  # fmt: skip
    widths = {control.style.description_width for control in named}
    assert len(widths) == 1  # labels line up
    for control in [*named, tuner.recommend_button]:
        assert control.description and control.tooltip
    assert len(tuner.scope_toggle.tooltips) == len(tuner.scope_toggle.options)
    assert tuner.image.layout.max_width == "100%"
    # The summary wraps in blocks that never break inside.
    html = tuner.summary_html.value
    assert "flex-wrap:wrap" in html and "<table" not in html and "nowrap" in html


def test_the_figure_is_drawn_at_more_pixels_than_its_page_size(tuner):
    import struct

    from mdwindow.plotting.tuner_figure import CSS_SIZE, PIXEL_RATIO

    size = struct.unpack(">II", tuner.image.value[16:24])
    assert size == tuple(round(PIXEL_RATIO * v) for v in CSS_SIZE) and PIXEL_RATIO > 1
    assert tuner.image.layout.width == f"{CSS_SIZE[0]}px"


def test_pixel_ratio_sets_the_bitmap_not_the_page_size(ticks):
    import struct

    from mdwindow.plotting.tuner_figure import CSS_SIZE

    sharp = WatermarkTuner(ticks, "5s", scope="key", pixel_ratio=2)
    assert struct.unpack(">II", sharp.image.value[16:24]) == (2 * CSS_SIZE[0], 2 * CSS_SIZE[1])
    assert sharp.image.layout.width == f"{CSS_SIZE[0]}px"
    with pytest.raises(ValueError, match="pixel_ratio"):
        WatermarkTuner(ticks, "5s", pixel_ratio=10)


def test_the_tradeoff_legend_is_outside_the_axes_and_inside_the_figure(tuner):
    renderer = tuner._view.canvas.get_renderer()
    legend = tuner._view.tradeoff_legend.get_window_extent(renderer)
    for axes in (tuner._view.right, tuner._view.right.right_ax):
        box = axes.get_window_extent(renderer)
        assert legend.x0 > box.x1
        label = axes.yaxis.label.get_window_extent(renderer)
        assert legend.x0 > label.x1 or axes is tuner._view.right
    figure = tuner.figure.bbox
    assert figure.x0 <= legend.x0 and legend.x1 <= figure.x1
    assert figure.y0 <= legend.y0 and legend.y1 <= figure.y1
