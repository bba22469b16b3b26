"""Plotting on the Agg backend: what was drawn, point by point and step by step."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mdwindow import partition_balance, tumbling_windows  # noqa: E402
from mdwindow.core.frames import STATUSES  # noqa: E402
from mdwindow.plotting import (  # noqa: E402
    STATUS_COLORS,
    duration_text,
    plot_lag_tradeoff,
    plot_late_drops,
    plot_partition_balance,
    plot_watermark,
    plot_watermark_panels,
)
from mdwindow.plotting.rows import rows_per_key  # noqa: E402
from mdwindow.plotting.timeaxis import nice_bin  # noqa: E402
from mdwindow.sweep import sweep  # noqa: E402
from tests.figure_checks import assert_readable  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data"


def seconds(*values: float) -> np.ndarray:
    return np.array([int(v * 1e9) for v in values], dtype=np.int64).view("datetime64[ns]")


def frame(times, symbols="A", **columns) -> pd.DataFrame:
    return pd.DataFrame(
        {"ts": pd.to_datetime(np.array(times) * 10**9, utc=True), "symbol": symbols, **columns}
    )


def axes():
    return Figure(layout="constrained").add_subplot()


def collection(ax, gid):
    found = [c for c in ax.collections if c.get_gid() == gid]
    assert len(found) <= 1
    return found[0] if found else None


def points(ax, status):
    """(x, y as date numbers) of the markers drawn for a status (``"out_of_order"``: the
    on-time ticks that arrived out of order), or None when there are none."""
    drawn = collection(ax, status if status == "out_of_order" else f"status:{status}")
    offsets = np.asarray(drawn.get_offsets()) if drawn is not None else np.empty((0, 2))
    if len(offsets) == 0:
        return None
    return offsets[:, 0], offsets[:, 1]


def heading(ax):
    """The lines under an axes' title."""
    (found,) = [t for t in ax.texts if t.get_gid() == "heading"]
    return found.get_text().split("\n")


def boundaries(ax):
    """The window boundaries drawn (one line across the axes, broken by NaNs), as date numbers."""
    return line(ax, "window_boundary").get_ydata()[::3]


def line(ax, gid):
    found = [ln for ln in ax.lines if ln.get_gid() == gid]
    assert len(found) == 1, [ln.get_gid() for ln in ax.lines]
    return found[0]


def step_value(drawn, x):
    """Value of a where="post" step line at ``x``."""
    xs = np.asarray(drawn.get_xdata())
    ys = np.asarray(drawn.get_ydata())
    return ys[np.searchsorted(xs, x, side="right") - 1]


def as_num(values) -> np.ndarray:
    return mdates.date2num(np.asarray(values, dtype="datetime64[ns]"))


# The Kafka Streams example of the docs: 2 s windows, 1 s of lateness, lag 0.
#
# arrival  ts  window   watermark before  status
#       0   0  [0, 2)   -inf              on time
#       1   1  [0, 2)   0                 on time
#       2   2  [2, 4)   1                 on time
#       3   1  [0, 2)   2                 late (2 <= 2 < 3)
#       4   0  [0, 2)   2                 late
#       5   5  [4, 6)   2                 on time; closes [0, 2) and [2, 4)
#       6   0  [0, 2)   5                 dropped (5 >= 3)
LITERAL = [0, 1, 2, 1, 0, 5, 0]


def literal_result(**options):
    ticks = frame(LITERAL)
    return ticks, tumbling_windows(ticks, "2s", allowed_lateness="1s", **options)


def test_status_colours_are_one_public_constant():
    assert tuple(STATUS_COLORS) == STATUSES
    assert len(set(STATUS_COLORS.values())) == 4
    with pytest.raises(TypeError):
        STATUS_COLORS["late"] = "red"  # type: ignore[index]


def test_points_per_status_with_their_colours():
    ticks, result = literal_result()
    ax = plot_watermark(result, ticks, ax=axes())
    expected = {
        "on_time": ([0, 1, 2, 5], seconds(0, 1, 2, 5)),
        "late": ([3, 4], seconds(1, 0)),
        "dropped": ([6], seconds(0)),
    }
    for status, (xs, ys) in expected.items():
        x, y = points(ax, status)
        assert x.tolist() == xs, status
        np.testing.assert_allclose(y, as_num(ys))
        colours = collection(ax, f"status:{status}").get_facecolors()
        assert {tuple(c) for c in colours} == {to_rgba(STATUS_COLORS[status])}, status
    assert points(ax, "rejected") is None
    assert points(ax, "out_of_order") is None  # the late ticks are out of order, not on time
    # Dropped ticks stand out: biggest markers, drawn on top.
    sizes = {s: collection(ax, f"status:{s}").get_sizes()[0] for s in expected}
    assert sizes["dropped"] > sizes["late"] > sizes["on_time"]
    assert collection(ax, "status:dropped").get_zorder() == max(
        c.get_zorder() for c in ax.collections
    )


# Lag 1 s, lateness 1 s: rows 3 and 4 are behind the largest event time seen (2 s) but
# before their window [0, 2) is due (W = 1 s < 2 s): on time, out of order.
#
# arrival        0   1   2   3   4   5   6
# ts             0   1   2   1   0   5   0
# max before     -   0   1   2   2   2   5
# watermark     -1   0   1   1   1   4   4     (after each row)
# status        on  on  on  on  on  on  dropped
# out of order   .   .   .   x   x   .   .


def test_on_time_ticks_out_of_order_are_rings_of_the_on_time_colour():
    ticks = frame(LITERAL)
    result = tumbling_windows(ticks, "2s", lag="1s", allowed_lateness="1s")
    ax = plot_watermark(result, ticks, ax=axes())
    assert points(ax, "on_time")[0].tolist() == [0, 1, 2, 5]
    x, y = points(ax, "out_of_order")
    assert x.tolist() == [3, 4]
    np.testing.assert_allclose(y, as_num(seconds(1, 0)))
    rings = collection(ax, "out_of_order")
    dots = collection(ax, "status:on_time")
    assert len(rings.get_facecolors()) == 0  # open
    assert tuple(rings.get_edgecolors()[0]) == to_rgba(STATUS_COLORS["on_time"])
    assert tuple(dots.get_facecolors()[0]) == to_rgba(STATUS_COLORS["on_time"])
    assert rings.get_sizes()[0] > dots.get_sizes()[0]
    assert heading(ax)[-1].startswith("6 on time (2 out of order) · 1 dropped")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == ["on time, in order", "on time, out of order", "dropped"]


def test_title_names_the_range_and_the_heading_the_parameters_and_counts():
    ticks, result = literal_result()
    options = {"allowed_lateness": "1s"}
    ax = plot_watermark(result, ticks, options=options, ax=axes())
    assert ax.get_xlabel() == "arrival position (row)"
    assert ax.get_ylabel() == "event time (UTC)"
    assert ax.get_title() == "Watermark on 1970-01-01, all 7 rows"
    assert heading(ax) == [
        "window 2s · lag 0s · allowed lateness 1s · scope global",
        "4 on time (0 out of order) · 2 late · 1 dropped · 2 windows emitted",
    ]
    zoom = plot_watermark(result, ticks, arrival_range=(3, 6), ax=axes())
    assert zoom.get_title() == "Watermark on 1970-01-01, arrival rows 3 to 5 of 7"
    # Without options, the figure says what it knows and how to say the rest.
    assert heading(zoom)[0] == "window 2s · lag, lateness, scope: pass options="
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "on time, in order", "late (accepted)", "dropped", "watermark", "max event time",
        "window emitted\n(row, window end)", "window boundary",
    ]  # fmt: skip


def test_watermark_and_max_event_time_step_lines():
    ticks = frame(LITERAL)
    result = tumbling_windows(ticks, "2s", lag="1s", allowed_lateness="1s")
    ax = plot_watermark(result, ticks, ax=axes())
    watermark = line(ax, "watermark")
    max_time = line(ax, "max_event_time")
    assert watermark.get_drawstyle() == "steps-post"
    assert max_time.get_drawstyle() == "steps-post"
    # Only the change points are kept, plus the last row.
    assert list(watermark.get_xdata()) == [0, 1, 2, 5, 6]
    np.testing.assert_allclose(watermark.get_ydata(), as_num(seconds(-1, 0, 1, 4, 4)))
    assert list(max_time.get_xdata()) == [0, 1, 2, 5, 6]
    np.testing.assert_allclose(max_time.get_ydata(), as_num(seconds(0, 1, 2, 5, 5)))
    for arrival, want in enumerate(as_num(seconds(-1, 0, 1, 1, 1, 4, 4))):
        assert step_value(watermark, arrival) == pytest.approx(want)
    assert watermark.get_color() == "black"
    assert max_time.get_linestyle() == "--"
    x, _ = points(ax, "dropped")
    assert x.tolist() == [6]


def test_emissions_and_window_boundaries():
    ticks, result = literal_result()
    ax = plot_watermark(result, ticks, ax=axes())
    emitted = np.asarray(collection(ax, "emitted").get_offsets())
    # Windows [0, 2) and [2, 4) are emitted right after arrival 5.
    assert emitted[:, 0].tolist() == [5, 5]
    np.testing.assert_allclose(sorted(emitted[:, 1]), as_num(seconds(2, 4)))
    # Ticks span 0..5 s: the 2 s grid lines at 0, 2, 4 and 6 s.
    np.testing.assert_allclose(boundaries(ax), as_num(seconds(0, 2, 4, 6)))
    crowded = plot_watermark(result, ticks, ax=axes(), max_boundaries=3)
    assert len(boundaries(crowded)) == 0


def test_on_time_dots_are_thinned_late_and_dropped_never():
    # 1,000 on-time ticks 10 ms apart, then 50 stale ones that are dropped.
    times = [i / 100 for i in range(1000)] + [0.0] * 50
    ticks = frame(times)
    result = tumbling_windows(ticks, "1s")
    assert result.summary()["dropped"] == 50
    ax = plot_watermark(result, ticks, ax=axes(), max_points=100)
    x, _ = points(ax, "on_time")
    assert len(x) == 100
    assert x.tolist() == list(range(0, 1000, 10))
    x, _ = points(ax, "dropped")
    assert x.tolist() == list(range(1000, 1050))
    assert heading(ax)[-1].startswith("1,000 on time (0 out of order; 1 in 10 drawn) · 50 dropped")


def test_rejected_rows_with_an_event_time_are_grey():
    ticks = frame([0, 1, 2], symbols=["A", None, "A"])
    result = tumbling_windows(ticks, "2s")
    ax = plot_watermark(result, ticks, ax=axes())
    x, y = points(ax, "rejected")
    assert x.tolist() == [1]
    np.testing.assert_allclose(y, as_num(seconds(1)))
    colours = collection(ax, "status:rejected").get_facecolors()
    assert tuple(colours[0]) == to_rgba(STATUS_COLORS["rejected"])


# Per-key watermarks: A is the busiest key, then B, then C.
#
# arrival  0  1  2  3  4  5  6  7  8
# symbol   A  B  A  C  B  A  A  B  A
# ts       0  9  1  3  8  5  2  1  6
KEYED = frame([0, 9, 1, 3, 8, 5, 2, 1, 6], symbols=list("ABACBAABA"))


def drawn_rows(ax):
    found = [points(ax, s) for s in ("on_time", "out_of_order", "late", "dropped")]
    return sorted(np.concatenate([p[0] for p in found if p is not None]).tolist())


def test_per_key_scope_a_panel_per_key_each_with_its_own_watermark():
    result = tumbling_windows(KEYED, "2s", scope="key")
    figure = Figure(layout="constrained")
    top, middle = plot_watermark_panels(
        result, KEYED, busiest=2, options={"scope": "key"}, figure=figure
    )
    assert figure.axes == [top, middle]
    assert figure.get_suptitle() == (
        "Watermark of the 2 busiest symbols (of 3) on 1970-01-01, all 9 rows"
    )
    assert figure.get_supxlabel().startswith(
        "window 2s · lag 0s · allowed lateness 0s · scope key"
    )
    # Keys never share an axes; the panels share the arrival axis.
    assert top.get_title() == "A" and middle.get_title() == "B"
    assert top.get_shared_x_axes().joined(top, middle)
    assert drawn_rows(top) == [0, 2, 5, 6, 8] and drawn_rows(middle) == [1, 4, 7]
    # A's watermark after each of its rows: max of A's times so far (lag 0).
    watermark_a = line(top, "watermark")
    for arrival, want in zip([0, 2, 5, 6, 8], as_num(seconds(0, 1, 5, 5, 6)), strict=True):
        assert step_value(watermark_a, arrival) == pytest.approx(want)
    watermark_b = line(middle, "watermark")
    np.testing.assert_array_equal(watermark_b.get_xdata(), [1, 8])
    np.testing.assert_allclose(watermark_b.get_ydata(), as_num(seconds(9, 9)))
    # B's row at 7 (ts 1) came after B's watermark reached 9: dropped; A's 6 (ts 2) too.
    assert points(top, "dropped")[0].tolist() == [6]
    assert points(middle, "dropped")[0].tolist() == [7]
    # B's row at 4 (ts 8) came after its 9: out of order, but its window [8, 10) was open.
    assert points(middle, "out_of_order")[0].tolist() == [4]
    assert heading(middle) == ["2 on time (1 out of order) · 1 dropped · 0 windows emitted"]
    # One legend, beside the top panel; x labels on the bottom panel only.
    assert top.get_legend() is not None and middle.get_legend() is None
    assert top.get_xlabel() == "" and middle.get_xlabel() == "arrival position (row)"


def test_per_key_scope_on_one_axes_shows_the_busiest_key():
    result = tumbling_windows(KEYED, "2s", scope="key")
    ax = plot_watermark(result, KEYED, ax=axes())
    assert ax.get_title() == "Watermark of A on 1970-01-01, all 9 rows"
    assert drawn_rows(ax) == [0, 2, 5, 6, 8]


def test_one_key_of_a_per_key_scope():
    result = tumbling_windows(KEYED, "2s", scope="key")
    ax = plot_watermark(result, KEYED, key="B", ax=axes())
    assert ax.get_title() == "Watermark of B on 1970-01-01, all 9 rows"
    assert drawn_rows(ax) == [1, 4, 7]
    np.testing.assert_allclose(line(ax, "watermark").get_ydata(), as_num(seconds(9, 9)))
    emitted = collection(ax, "emitted").get_offsets()
    assert set(np.asarray(emitted)[:, 0]) <= {1, 4, 7, 8}


def test_one_key_of_a_global_scope_keeps_the_global_watermark():
    result = tumbling_windows(KEYED, "2s")
    ax = plot_watermark(result, KEYED, key="C", ax=axes())
    # C has one row, but the watermark that judged it is everyone's.
    watermark = line(ax, "watermark")
    assert list(watermark.get_xdata()) == [0, 1, 8]
    np.testing.assert_allclose(watermark.get_ydata(), as_num(seconds(0, 9, 9)))
    assert points(ax, "dropped")[0].tolist() == [3]
    # A global watermark: one panel of every row unless keys are asked for.
    (every,) = plot_watermark_panels(result, KEYED, figure=Figure())
    assert every.get_title() == "every row" and drawn_rows(every) == list(range(9))
    chosen = plot_watermark_panels(result, KEYED, keys=["C", "A"], figure=Figure())
    assert [ax.get_title() for ax in chosen] == ["C", "A"]


def test_x_as_arrival_time():
    ticks = frame([0, 1, 2], recv=pd.to_datetime([30, 10, 20], unit="s", utc=True))
    result = tumbling_windows(ticks, "2s", arrival_time="recv")
    ax = plot_watermark(result, ticks, x="time", arrival_time="recv", ax=axes())
    x, y = points(ax, "on_time")
    # Arrival order: ts 1 (recv 10), ts 2 (recv 20); ts 0 (recv 30) is late for [0, 2).
    np.testing.assert_allclose(x, as_num(seconds(10, 20)))
    np.testing.assert_allclose(y, as_num(seconds(1, 2)))
    assert ax.get_xlabel() == "arrival time, recv (UTC)"
    assert heading(ax)[-1].startswith("arrived 00:00:10 to 00:00:30 UTC · ")
    with pytest.raises(ValueError, match="arrival_time='recv_ts'"):
        plot_watermark(result, ticks, x="time", ax=axes())


def test_a_stall_stacks_its_backlog_on_one_arrival_time_but_not_on_rows():
    # A feed stalls: 5 stale ticks arrive within a millisecond, and are dropped.
    arrive = [0.0, 1.0, 2.0, 3.0, 9.0, 9.0001, 9.0002, 9.0003, 9.0004, 10.0]
    ticks = frame([0, 1, 2, 3, 0.1, 0.2, 0.3, 0.4, 0.5, 10],
                  recv=pd.to_datetime(np.array(arrive) * 1e9, utc=True))  # fmt: skip
    result = tumbling_windows(ticks, "1s", lag="500ms", arrival_time="recv")
    by_row = plot_watermark(result, ticks, arrival_time="recv", ax=axes())
    by_time = plot_watermark(result, ticks, x="time", arrival_time="recv", ax=axes())
    rows = points(by_row, "dropped")[0]
    times = points(by_time, "dropped")[0]
    assert rows.tolist() == [4, 5, 6, 7, 8]
    span = by_time.get_xlim()[1] - by_time.get_xlim()[0]
    assert (times.max() - times.min()) / span < 0.001  # one vertical line
    assert (rows.max() - rows.min()) / np.ptp(by_row.get_xlim()) > 0.3  # spread out


def test_arrival_range_zooms_and_keeps_the_running_max():
    ticks = frame(LITERAL)
    result = tumbling_windows(ticks, "2s", lag="1s", allowed_lateness="1s")
    ax = plot_watermark(result, ticks, arrival_range=(3, 6), ax=axes())
    assert points(ax, "on_time")[0].tolist() == [5]
    assert points(ax, "out_of_order")[0].tolist() == [3, 4]
    assert points(ax, "dropped") is None
    max_time = line(ax, "max_event_time")
    # The maximum at arrival 3 is 2 s, from arrival 2 outside the view.
    assert list(max_time.get_xdata()) == [3, 5]
    np.testing.assert_allclose(max_time.get_ydata(), as_num(seconds(2, 5)))
    assert ax.get_xlim()[0] < 3 and ax.get_xlim()[1] > 5 and ax.get_xlim()[1] < 6


def test_without_ticks_draws_what_the_result_holds():
    ticks, result = literal_result()
    ax = plot_watermark(result, ax=axes())
    assert points(ax, "on_time") is None
    x, y = points(ax, "dropped")
    assert x.tolist() == [6]
    np.testing.assert_allclose(y, as_num(seconds(0)))
    assert list(line(ax, "watermark").get_xdata()) == [0, 1, 2, 5, 6]
    assert not line(ax, "max_event_time").get_visible()
    keyed = tumbling_windows(KEYED, "2s", scope="key")
    with pytest.raises(ValueError, match="pass the ticks"):
        plot_watermark(keyed, ax=axes())


def test_bad_arguments():
    ticks, result = literal_result()
    with pytest.raises(ValueError, match="x: got 'row'"):
        plot_watermark(result, ticks, x="row")
    with pytest.raises(ValueError, match="ticks: got 3 rows but the result traces 7"):
        plot_watermark(result, ticks.iloc[:3])
    with pytest.raises(ValueError, match="key: 'ZZZ' has no rows"):
        plot_watermark(result, ticks, key="ZZZ")
    with pytest.raises(KeyError, match="time: column 'when'"):
        plot_watermark(result, ticks, time="when")
    with pytest.raises(TypeError, match="options: got str"):
        plot_watermark(result, ticks, options="lag=2s")
    with pytest.raises(TypeError, match="lag: got the bare number 5"):
        plot_watermark(result, ticks, options={"lag": 5})


def test_readable_on_the_sample_data():
    ticks = pd.read_parquet(DATA / "ticks_sample.parquet")
    result = tumbling_windows(ticks, "1s", lag="100ms", scope="key")
    axes_ = plot_watermark_panels(result, ticks, busiest=3, max_points=5_000, figure=Figure())
    busiest = ticks["symbol"].value_counts().index[:3].tolist()
    assert [ax.get_title() for ax in axes_] == busiest
    dropped = result.trace["status"].to_numpy() == "dropped"
    for ax, symbol in zip(axes_, busiest, strict=True):
        on_time = sum(len(points(ax, s)[0]) for s in ("on_time", "out_of_order"))
        assert on_time <= 5_000 + 1
        mine = (ticks["symbol"] == symbol).to_numpy()
        assert len(points(ax, "dropped")[0]) == int((dropped & mine).sum())
    axes_[0].figure.savefig(Path("/dev/null"), format="png")  # renders in reasonable time


def test_ax_none_draws_on_the_current_axes():
    ticks, result = literal_result()
    figure = plt.figure()
    try:
        current = plt.gca()
        assert plot_watermark(result, ticks) is current
        assert plot_late_drops(result) is current
    finally:
        plt.close(figure)
    before = plt.get_fignums()
    try:
        drawn = plot_watermark_panels(result, ticks)
        assert drawn[0].figure.number not in before  # a new figure of its own
    finally:
        plt.close("all")


def test_result_plot_forwards_to_the_functions():
    ticks, result = literal_result()
    direct = plot_watermark(result, ticks, ax=axes())
    forwarded = result.plot.watermark(ticks, ax=axes())
    for status in ("on_time", "late", "dropped"):
        np.testing.assert_array_equal(points(direct, status)[0], points(forwarded, status)[0])
    ax = result.plot.late_drops(by="late_by", ax=axes())
    assert ax.get_xlabel() == "late by (s)"
    (panel,) = result.plot.watermark_panels(ticks, figure=Figure())
    np.testing.assert_array_equal(points(panel, "dropped")[0], points(direct, "dropped")[0])


def test_the_tuner_draws_the_same_panel_as_plot_watermark():
    pytest.importorskip("ipywidgets")
    from mdwindow.plotting.tuner_figure import zoom
    from mdwindow.widgets import MAX_POINTS, ZOOM_ROWS, WatermarkTuner

    ticks = pd.read_parquet(DATA / "ticks_sample.parquet").iloc[:20_000]
    tuner = WatermarkTuner(ticks, "5s", lag="500ms", allowed_lateness="250ms", scope="global")
    top = tuner.figure.axes[0]
    result = tumbling_windows(ticks, "5s", lag="500ms", allowed_lateness="250ms")
    # Under a global watermark the tuner's rows are all rows, in arrival order.
    view = zoom(result.late["arrival"].to_numpy(), len(ticks), ZOOM_ROWS)
    ax = plot_watermark(
        result, ticks, key=tuner.symbol, arrival_range=view, max_points=MAX_POINTS, ax=axes()
    )
    for gid in ("status:on_time", "out_of_order", "status:late", "status:dropped", "emitted"):
        mine, theirs = collection(ax, gid), collection(top, gid)
        np.testing.assert_allclose(mine.get_offsets(), theirs.get_offsets(), err_msg=gid)
        assert mine.get_sizes().tolist() == theirs.get_sizes().tolist(), gid
        np.testing.assert_array_equal(mine.get_facecolors(), theirs.get_facecolors())
        np.testing.assert_array_equal(mine.get_edgecolors(), theirs.get_edgecolors())
    for gid in ("watermark", "max_event_time", "window_boundary"):
        np.testing.assert_allclose(line(ax, gid).get_xydata(), line(top, gid).get_xydata())
    assert heading(ax)[-1] == heading(top)[-1]  # the same counts
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert labels[:2] == ["on time, in order", "on time, out of order"]


# Late drops


def drops_result():
    # 1 s windows, lag 0; stale ticks of A (3) and B (1) once time reached 10 s.
    #
    # symbol   A    A    A    A    B     B
    # ts       10   0.5  0.2  3.5  10.5  2.1
    # status   on   drop drop drop on    drop
    # late_by  -    9    9    6    -     7.5   (watermark - window end)
    ticks = frame(
        [10, 0.5, 0.2, 3.5, 10.5, 2.1],
        symbols=["A", "A", "A", "A", "B", "B"],
    )
    return tumbling_windows(ticks, "1s")


def test_late_drops_by_key_as_a_rate_with_the_counts():
    result = drops_result()
    # A: 3 of its 4 ticks dropped; B: 1 of 2.
    ax = plot_late_drops(result, by="key", ax=axes())
    assert [float(b.get_width()) for b in ax.patches] == pytest.approx([75.0, 50.0])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B"]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # highest rate on top
    assert [t.get_text() for t in ax.texts if t.get_gid() != "heading"] == ["3 of 4", "1 of 2"]
    assert {tuple(b.get_facecolor()) for b in ax.patches} == {to_rgba(STATUS_COLORS["dropped"])}
    assert ax.get_xlabel() == "dropped ticks (% of the symbol's valid ticks)"
    assert ax.get_ylabel() == "symbol"
    assert ax.get_title() == "Drop rate per symbol"
    top = plot_late_drops(result, by="key", top=1, ax=axes())
    assert len(top.patches) == 1
    assert top.get_title() == "Drop rate per symbol (top 1 of 2)"


def test_the_rate_per_key_is_not_the_count_per_key():
    # The busy key loses most ticks; the quiet one loses the largest share of its ticks.
    ticks = frame([10] + [0.5] * 2 + [10.1] * 96 + [10.5, 2.1], symbols=["A"] * 99 + ["B"] * 2)
    result = tumbling_windows(ticks, "1s")
    rate = plot_late_drops(result, by="key", ax=axes())
    count = plot_late_drops(result, by="key", measure="count", ax=axes())
    assert [t.get_text() for t in rate.get_yticklabels()] == ["B", "A"]
    assert [t.get_text() for t in count.get_yticklabels()] == ["A", "B"]
    assert [float(b.get_width()) for b in count.patches] == [2.0, 1.0]
    assert [t.get_text() for t in count.texts if t.get_gid() != "heading"] == [
        "2 (2.02%)", "1 (50.00%)",
    ]  # fmt: skip
    assert count.get_title() == "Dropped ticks per symbol"


def test_rows_per_key_counts_panes_once():
    # With emit="updates" a window's panes accumulate: A's [0, 2) has an on-time pane of
    # 3 rows (after ts 5) and a late pane of 4 (after ts 0.7); A's [4, 6) and B's [0, 2)
    # are pending.
    ticks = frame([0, 1, 0.5, 0.2, 5, 0.1, 0.7], symbols=list("AAABABA"))
    result = tumbling_windows(ticks, "2s", allowed_lateness="4s", scope="key", emit="updates")
    assert result.windows["count"].tolist() == [3, 4]
    table = rows_per_key(result, "symbol")
    assert table.to_dict("index") == {
        "A": {"accepted": 5, "dropped": 0, "valid": 5},
        "B": {"accepted": 2, "dropped": 0, "valid": 2},
    }


def test_late_drops_by_window_in_bins_of_whole_windows():
    result = drops_result()
    ax = plot_late_drops(result, by="window", ax=axes())
    (stairs,) = [p for p in ax.patches if p.get_gid() == "drops_per_window"]
    data = stairs.get_data()
    # Dropped: 0.5 and 0.2 in [0, 1); 2.1 in [2, 3); 3.5 in [3, 4); the run spans 0 to 11 s.
    assert data.values.tolist() == [2, 0, 1, 1] + [0] * 7
    np.testing.assert_allclose(data.edges, as_num(seconds(*range(12))))
    assert ax.get_title() == "Dropped ticks per 1s of event time"
    coarse = plot_late_drops(result, by="window", max_bins=3, ax=axes())
    (stairs,) = [p for p in coarse.patches if p.get_gid() == "drops_per_window"]
    # 11 s in at most 3 bins: 5 s bins, at round times.
    assert stairs.get_data().values.tolist() == [4, 0, 0]
    np.testing.assert_allclose(stairs.get_data().edges, as_num(seconds(0, 5, 10, 15)))
    assert coarse.get_title() == "Dropped ticks per 5s of event time"
    assert heading(coarse)[1] == "bins of 5 windows of 1s by window start, 1970-01-01"


@pytest.mark.parametrize(
    ("span", "size", "most", "width"),
    [("30min", "5s", 60, "30s"), ("1min", "5s", 60, "5s"), ("30min", "7s", 60, "56s"),
     ("6h", "1min", 60, "10min"), ("1s", "250ms", 10, "250ms"), ("10s", "3s", 2, "15s"),
     ("10s", "3s", 1, "15s"), ("100s", "7s", 2, "56s")],
)  # fmt: skip
def test_bins_over_time_are_round_and_whole_windows(span, size, most, width):
    got = nice_bin(pd.Timedelta(span).value, pd.Timedelta(size).value, most)
    assert got == pd.Timedelta(width).value
    assert got % pd.Timedelta(size).value == 0


def test_date_ticks_are_clock_times_that_never_overlap():
    ticks = pd.read_parquet(DATA / "ticks_sample.parquet")
    result = tumbling_windows(ticks, "5s", lag="2s", allowed_lateness="1s", scope="key")
    figure = Figure(figsize=(4.5, 3), layout="constrained")
    ax = plot_late_drops(result, by="window", options=dict(lag="2s"), ax=figure.add_subplot())
    FigureCanvasAgg(figure).draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels[0] == "14:30" and labels[-1] == "15:00"
    assert all(len(label) == 5 and label[2] == ":" for label in labels), labels
    assert_readable(figure)


def test_late_drops_by_late_by():
    result = drops_result()
    ax = plot_late_drops(result, by="late_by", bins=4, ax=axes())
    # late_by 6, 7.5, 9, 9 in four bins over [6, 9].
    assert [float(b.get_height()) for b in ax.patches] == [1.0, 0.0, 1.0, 2.0]
    assert ax.patches[0].get_x() == pytest.approx(6.0)
    assert ax.patches[-1].get_x() + ax.patches[-1].get_width() == pytest.approx(9.0)
    assert {tuple(b.get_facecolor()) for b in ax.patches} == {to_rgba(STATUS_COLORS["dropped"])}
    assert ax.get_xlabel() == "late by (s)"
    assert heading(ax)[-1] == "late by = watermark - (window end + allowed lateness)"


def test_late_drops_without_drops_or_key():
    ticks = frame([0, 1, 2])
    result = tumbling_windows(ticks, "1s")
    ax = plot_late_drops(result, ax=axes())
    assert [t.get_text() for t in ax.texts if t.get_gid() != "heading"] == ["no dropped ticks"]
    unkeyed = tumbling_windows(ticks, "1s", key=None)
    with pytest.raises(ValueError, match="by='key': the result has no key column"):
        plot_late_drops(unkeyed, by="key")
    plot_late_drops(unkeyed, by="window", ax=axes())
    with pytest.raises(ValueError, match="by: got 'symbol'"):
        plot_late_drops(result, by="symbol")
    with pytest.raises(ValueError, match="measure: got 'share'"):
        plot_late_drops(result, measure="share")


# Partition balance and the lag trade-off


def test_partition_balance():
    ticks = pd.DataFrame({"symbol": ["AAPL"] * 5 + ["MSFT"] * 2 + ["NVDA"] * 3})
    ax = plot_partition_balance(ticks, partitions=2, ax=axes())
    balance = partition_balance(ticks, partitions=2)
    # AAPL and NVDA hash to partition 1, MSFT to 0.
    assert [float(b.get_height()) for b in ax.patches] == balance["rows"].tolist() == [2, 8]
    (mean,) = [ln for ln in ax.lines if ln.get_label().startswith("mean")]
    assert mean.get_ydata()[0] == pytest.approx(5.0)
    assert ax.get_title() == "Rows per partition: max/mean = 1.60"
    assert heading(ax) == ["key symbol · 2 partitions · murmur3 (seed 0) · 10 rows"]
    assert [t.get_text() for t in ax.texts if t.get_gid() != "heading"] == ["1 key", "2 keys"]
    assert ax.get_xlabel() == "partition" and ax.get_ylabel() == "rows"


def test_lag_tradeoff():
    ticks = frame(LITERAL)
    grid = sweep(ticks, "2s", lags=["0s", "1s", "2s"], lateness=["0s", "1s"])
    ax = plot_lag_tradeoff(grid, ax=axes())
    right = ax.right_ax
    curves = [ln for ln in ax.lines if ln.get_visible()]
    assert [ln.get_gid() for ln in curves] == ["drop_rate:0s", "drop_rate:1s"]
    assert [ln.get_gid() for ln in right.lines] == ["latency:0s", "latency:1s"]
    zero = grid[grid["lateness"] == pd.Timedelta(0)]
    np.testing.assert_allclose(curves[0].get_xdata(), [0, 1, 2])
    np.testing.assert_allclose(curves[0].get_ydata(), zero["drop_rate"] * 100)
    np.testing.assert_allclose(
        right.lines[0].get_ydata(), zero["latency_median"].dt.total_seconds()
    )
    # One colour per lateness, the same for its two curves.
    assert curves[0].get_color().tolist() == right.lines[0].get_color().tolist()
    assert curves[0].get_color().tolist() != curves[1].get_color().tolist()
    assert right.lines[0].get_linestyle() == "--"
    assert ax.get_xlabel() == "lag (s)"
    assert ax.get_ylabel() == "drop rate (%)"
    assert right.get_ylabel() == "median emission latency (s, event time clock)"
    assert heading(ax) == [
        "window 2s · scope global · latency: window end to emission on the event-time clock"
    ]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["lateness 0s", "lateness 1s", "drop rate (left)", "median latency (right)"]
    p99 = plot_lag_tradeoff(grid, latency="p99", ax=axes())
    np.testing.assert_allclose(
        p99.right_ax.lines[1].get_ydata(),
        grid[grid["lateness"] == pd.Timedelta("1s")]["latency_p99"].dt.total_seconds(),
    )
    with pytest.raises(KeyError, match="pass the frame that sweep"):
        plot_lag_tradeoff(grid.drop(columns="drop_rate"))


def test_the_tradeoff_legend_keeps_off_the_latency_curves():
    # Drop rates fall from the top left to the bottom; latencies stay low and jump at the
    # right. "Best" looking at the drop-rate axes alone would take the top right corner,
    # where the latency curves end.
    grid = pd.DataFrame({
        "lag": pd.to_timedelta([0, 1, 2, 3, 4] * 2, unit="s"),
        "lateness": pd.to_timedelta([0] * 5 + [1] * 5, unit="s"),
        "drop_rate": [0.02, 0.005, 0.0, 0.0, 0.0] * 2,
        "latency_median": pd.to_timedelta([0, 0, 0, 0, 5, 0.5, 0.5, 0.5, 0.5, 5.5], unit="s"),
    })  # fmt: skip
    figure = Figure(figsize=(6, 4), layout="constrained")
    ax = plot_lag_tradeoff(grid, ax=figure.add_subplot())
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = ax.get_legend().get_window_extent(renderer)
    for curve in ax.right_ax.lines:
        path = curve.get_transform().transform_path(curve.get_path())
        assert not path.intersects_bbox(box, filled=False), curve.get_gid()


@pytest.mark.parametrize(
    ("value", "text"),
    [("0s", "0s"), ("250ms", "250ms"), ("1500ms", "1.5s"), ("2min", "2min"), ("1h", "1h"),
     ("90s", "90s"), ("1.2345s", "1234.5ms"), ("3us", "3us"), ("1ns", "1ns")],
)  # fmt: skip
def test_duration_text(value, text):
    assert duration_text(value) == text
