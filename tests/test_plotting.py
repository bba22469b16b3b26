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
)
from mdwindow.sweep import sweep  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data"


def seconds(*values: float) -> np.ndarray:
    return np.array([int(v * 1e9) for v in values], dtype=np.int64).view("datetime64[ns]")


def frame(times, symbols="A", **columns) -> pd.DataFrame:
    return pd.DataFrame(
        {"ts": pd.to_datetime(np.array(times) * 10**9, utc=True), "symbol": symbols, **columns}
    )


def axes():
    return Figure().add_subplot()


def collection(ax, gid):
    found = [c for c in ax.collections if c.get_gid() == gid]
    assert len(found) <= 1
    return found[0] if found else None


def points(ax, status):
    """(x, y as datetime64[ns]) of the dots drawn for a status, or None."""
    drawn = collection(ax, f"status:{status}")
    if drawn is None:
        return None
    offsets = np.asarray(drawn.get_offsets())
    return offsets[:, 0], offsets[:, 1]


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
    # Dropped ticks stand out: biggest markers, drawn on top.
    sizes = {s: collection(ax, f"status:{s}").get_sizes()[0] for s in expected}
    assert sizes["dropped"] > sizes["late"] > sizes["on_time"]
    assert collection(ax, "status:dropped").get_zorder() == max(
        c.get_zorder() for c in ax.collections
    )


def test_axis_labels_title_and_legend():
    ticks, result = literal_result()
    ax = plot_watermark(result, ticks, ax=axes())
    assert ax.get_xlabel() == "arrival position (row)"
    assert ax.get_ylabel() == "event time (UTC)"
    assert ax.get_title() == "Watermark"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == ["on time (4)", "late (accepted) (2)", "dropped (1)"]
    assert "watermark" in labels and "max event time" in labels


def test_watermark_and_max_event_time_step_lines():
    # Lag 1 s: the watermark trails the max event time by exactly 1 s.
    #
    # arrival        0   1   2   3   4   5   6
    # ts             0   1   2   1   0   5   0
    # max after      0   1   2   2   2   5   5
    # watermark     -1   0   1   1   1   4   4
    ticks = frame(LITERAL)
    result = tumbling_windows(ticks, "2s", lag="1s", allowed_lateness="1s")
    ax = plot_watermark(result, ticks, ax=axes())
    watermark = line(ax, "watermark")
    max_time = line(ax, "max_event_time")
    assert watermark.get_drawstyle() == "steps-post"
    assert max_time.get_drawstyle() == "steps-post"
    # Only the change points are kept, plus the last row.
    assert list(watermark.get_xdata()) == [0, 1, 2, 5, 6]
    np.testing.assert_array_equal(watermark.get_ydata(), seconds(-1, 0, 1, 4, 4))
    assert list(max_time.get_xdata()) == [0, 1, 2, 5, 6]
    np.testing.assert_array_equal(max_time.get_ydata(), seconds(0, 1, 2, 5, 5))
    for arrival, want in enumerate(seconds(-1, 0, 1, 1, 1, 4, 4)):
        assert step_value(watermark, arrival) == want
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
    boundaries = [ln for ln in ax.lines if ln.get_gid() == "window_boundary"]
    # Ticks span 0..5 s: the 2 s grid lines at 0, 2, 4 and 6 s.
    np.testing.assert_array_equal([ln.get_ydata()[0] for ln in boundaries], seconds(0, 2, 4, 6))
    crowded = plot_watermark(result, ticks, ax=axes(), max_boundaries=3)
    assert not [ln for ln in crowded.lines if ln.get_gid() == "window_boundary"]


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
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "on time (1,000; 1 in 10 shown)" in labels
    assert "dropped (50)" in labels


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


def test_per_key_scope_shows_the_busiest_keys_each_with_its_watermark():
    result = tumbling_windows(KEYED, "2s", scope="key")
    ax = plot_watermark(result, KEYED, ax=axes(), busiest=2)
    assert ax.get_title() == "Watermark of the 2 busiest keys: A, B"
    gids = {ln.get_gid() for ln in ax.lines}
    assert {"watermark:A", "watermark:B", "max_event_time:A", "max_event_time:B"} <= gids
    assert not any(g and g.endswith(":C") for g in gids)
    # Every row of A and B is drawn; C's row is not.
    drawn = np.concatenate(
        [points(ax, s)[0] for s in ("on_time", "late", "dropped") if points(ax, s)]
    )
    assert sorted(drawn.tolist()) == [0, 1, 2, 4, 5, 6, 7, 8]
    # A's watermark after each of its rows: max of A's times so far (lag 0).
    watermark_a = line(ax, "watermark:A")
    for arrival, want in zip([0, 2, 5, 6, 8], seconds(0, 1, 5, 5, 6), strict=True):
        assert step_value(watermark_a, arrival) == want
    watermark_b = line(ax, "watermark:B")
    np.testing.assert_array_equal(watermark_b.get_xdata(), [1, 8])
    np.testing.assert_array_equal(watermark_b.get_ydata(), seconds(9, 9))
    # B's row at 7 (ts 1) came after B's watermark reached 9: dropped, A's 6 (ts 2) too.
    assert points(ax, "dropped")[0].tolist() == [6, 7]
    # Lines of different keys have different colours, none of them a status colour.
    colours = {line(ax, f"watermark:{k}").get_color() for k in "AB"}
    assert len(colours) == 2
    assert not {to_rgba(c) for c in colours} & {to_rgba(c) for c in STATUS_COLORS.values()}


def test_one_key_of_a_per_key_scope():
    result = tumbling_windows(KEYED, "2s", scope="key")
    ax = plot_watermark(result, KEYED, key="B", ax=axes())
    assert ax.get_title() == "Watermark, symbol = B"
    drawn = np.concatenate([points(ax, s)[0] for s in ("on_time", "dropped")])
    assert sorted(drawn.tolist()) == [1, 4, 7]
    assert line(ax, "watermark:B").get_ydata().tolist() == seconds(9, 9).tolist()
    emitted = collection(ax, "emitted")
    assert emitted is None or set(np.asarray(emitted.get_offsets())[:, 0]) <= {1, 4, 7, 8}


def test_one_key_of_a_global_scope_keeps_the_global_watermark():
    result = tumbling_windows(KEYED, "2s")
    ax = plot_watermark(result, KEYED, key="C", ax=axes())
    # C has one row, but the watermark that judged it is everyone's.
    watermark = line(ax, "watermark")
    assert list(watermark.get_xdata()) == [0, 1, 8]
    np.testing.assert_array_equal(watermark.get_ydata(), seconds(0, 9, 9))
    assert points(ax, "dropped")[0].tolist() == [3]


def test_x_as_arrival_time():
    ticks = frame([0, 1, 2], recv=pd.to_datetime([30, 10, 20], unit="s", utc=True))
    result = tumbling_windows(ticks, "2s", arrival_time="recv")
    ax = plot_watermark(result, ticks, x="time", arrival_time="recv", ax=axes())
    x, y = points(ax, "on_time")
    # Arrival order: ts 1 (recv 10), ts 2 (recv 20); ts 0 (recv 30) is late for [0, 2).
    np.testing.assert_allclose(x, as_num(seconds(10, 20)))
    np.testing.assert_allclose(y, as_num(seconds(1, 2)))
    assert ax.get_xlabel() == "arrival time, recv (UTC)"
    with pytest.raises(ValueError, match="arrival_time='recv_ts'"):
        plot_watermark(result, ticks, x="time", ax=axes())


def test_arrival_range_zooms_and_keeps_the_running_max():
    ticks = frame(LITERAL)
    result = tumbling_windows(ticks, "2s", lag="1s", allowed_lateness="1s")
    ax = plot_watermark(result, ticks, arrival_range=(3, 6), ax=axes())
    assert sorted(points(ax, "on_time")[0].tolist()) == [3, 4, 5]
    assert points(ax, "dropped") is None
    max_time = line(ax, "max_event_time")
    # The maximum at arrival 3 is 2 s, from arrival 2 outside the view.
    assert list(max_time.get_xdata()) == [3, 5]
    np.testing.assert_array_equal(max_time.get_ydata(), seconds(2, 5))


def test_without_ticks_draws_what_the_result_holds():
    ticks, result = literal_result()
    ax = plot_watermark(result, ax=axes())
    assert points(ax, "on_time") is None
    x, y = points(ax, "dropped")
    assert x.tolist() == [6]
    np.testing.assert_allclose(y, as_num(seconds(0)))
    assert list(line(ax, "watermark").get_xdata()) == [0, 1, 2, 5, 6]
    assert not [ln for ln in ax.lines if ln.get_gid() == "max_event_time"]
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


def test_readable_on_the_sample_data():
    ticks = pd.read_parquet(DATA / "ticks_sample.parquet")
    result = tumbling_windows(ticks, "1s", lag="100ms", scope="key")
    ax = plot_watermark(result, ticks, ax=axes(), busiest=3, max_points=5_000)
    summary = ticks["symbol"].value_counts()
    busiest = summary.index[:3].tolist()
    assert ax.get_title().endswith(", ".join(busiest))
    assert len(points(ax, "on_time")[0]) <= 5_000
    dropped = result.trace["status"].to_numpy() == "dropped"
    of_busiest = ticks["symbol"].isin(busiest).to_numpy()
    assert len(points(ax, "dropped")[0]) == int((dropped & of_busiest).sum())
    ax.figure.savefig(Path("/dev/null"), format="png")  # renders in reasonable time


def test_ax_none_draws_on_the_current_axes():
    ticks, result = literal_result()
    figure = plt.figure()
    try:
        current = plt.gca()
        assert plot_watermark(result, ticks) is current
        assert plot_late_drops(result) is current
    finally:
        plt.close(figure)


def test_result_plot_forwards_to_the_functions():
    ticks, result = literal_result()
    direct = plot_watermark(result, ticks, ax=axes())
    forwarded = result.plot.watermark(ticks, ax=axes())
    for status in ("on_time", "late", "dropped"):
        np.testing.assert_array_equal(points(direct, status)[0], points(forwarded, status)[0])
    ax = result.plot.late_drops(by="late_by", ax=axes())
    assert ax.get_xlabel().startswith("late by (s)")


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


def test_late_drops_by_key():
    result = drops_result()
    ax = plot_late_drops(result, by="key", ax=axes())
    assert [float(b.get_height()) for b in ax.patches] == [3.0, 1.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B"]
    assert {tuple(b.get_facecolor()) for b in ax.patches} == {to_rgba(STATUS_COLORS["dropped"])}
    assert ax.get_xlabel() == "symbol" and ax.get_ylabel() == "dropped ticks"
    top = plot_late_drops(result, by="key", top=1, ax=axes())
    assert len(top.patches) == 1
    assert top.get_title() == "Dropped ticks per symbol (top 1 of 2 keys)"


def test_late_drops_by_window():
    result = drops_result()
    ax = plot_late_drops(result, by="window", ax=axes())
    (stairs,) = [p for p in ax.patches if p.get_gid() == "drops_per_window"]
    data = stairs.get_data()
    # Dropped: 0.5 and 0.2 in [0, 1); 3.5 in [3, 4); 2.1 in [2, 3); nothing in [1, 2).
    assert data.values.tolist() == [2, 0, 1, 1]
    np.testing.assert_allclose(data.edges, as_num(seconds(0, 1, 2, 3, 4)))
    coarse = plot_late_drops(result, by="window", max_bars=2, ax=axes())
    (stairs,) = [p for p in coarse.patches if p.get_gid() == "drops_per_window"]
    assert stairs.get_data().values.tolist() == [2, 2]
    assert coarse.get_title() == "Dropped ticks per window (bars of 2 windows)"


def test_late_drops_by_late_by():
    result = drops_result()
    ax = plot_late_drops(result, by="late_by", bins=4, ax=axes())
    # late_by 6, 7.5, 9, 9 in four bins over [6, 9].
    assert [float(b.get_height()) for b in ax.patches] == [1.0, 0.0, 1.0, 2.0]
    assert ax.patches[0].get_x() == pytest.approx(6.0)
    assert ax.patches[-1].get_x() + ax.patches[-1].get_width() == pytest.approx(9.0)
    assert {tuple(b.get_facecolor()) for b in ax.patches} == {to_rgba(STATUS_COLORS["dropped"])}


def test_late_drops_without_drops_or_key():
    ticks = frame([0, 1, 2])
    result = tumbling_windows(ticks, "1s")
    ax = plot_late_drops(result, ax=axes())
    assert [t.get_text() for t in ax.texts] == ["no dropped ticks"]
    unkeyed = tumbling_windows(ticks, "1s", key=None)
    with pytest.raises(ValueError, match="by='key': the result has no key column"):
        plot_late_drops(unkeyed, by="key")
    plot_late_drops(unkeyed, by="window", ax=axes())
    with pytest.raises(ValueError, match="by: got 'symbol'"):
        plot_late_drops(result, by="symbol")


# Partition balance and the lag trade-off


def test_partition_balance():
    ticks = pd.DataFrame({"symbol": ["AAPL"] * 5 + ["MSFT"] * 2 + ["NVDA"] * 3})
    ax = plot_partition_balance(ticks, partitions=2, ax=axes())
    balance = partition_balance(ticks, partitions=2)
    # AAPL and NVDA hash to partition 1, MSFT to 0.
    assert [float(b.get_height()) for b in ax.patches] == balance["rows"].tolist() == [2, 8]
    (mean,) = [ln for ln in ax.lines if ln.get_label().startswith("mean")]
    assert mean.get_ydata()[0] == pytest.approx(5.0)
    assert ax.get_title() == "Rows per partition (murmur3, P=2): max/mean = 1.60"
    assert [t.get_text() for t in ax.texts] == ["1 keys", "2 keys"]
    assert ax.get_xlabel() == "partition" and ax.get_ylabel() == "rows"


def test_lag_tradeoff():
    ticks = frame(LITERAL)
    grid = sweep(ticks, "2s", lags=["0s", "1s", "2s"], lateness=["0s", "1s"])
    ax = plot_lag_tradeoff(grid, ax=axes())
    right = ax.right_ax
    assert [ln.get_gid() for ln in ax.lines] == ["drop_rate:0s", "drop_rate:1s"]
    assert [ln.get_gid() for ln in right.lines] == ["latency:0s", "latency:1s"]
    zero = grid[grid["lateness"] == pd.Timedelta(0)]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0, 1, 2])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), zero["drop_rate"] * 100)
    np.testing.assert_allclose(
        right.lines[0].get_ydata(), zero["latency_median"].dt.total_seconds()
    )
    # One colour per lateness, the same for its two curves.
    assert ax.lines[0].get_color().tolist() == right.lines[0].get_color().tolist()
    assert ax.lines[0].get_color().tolist() != ax.lines[1].get_color().tolist()
    assert right.lines[0].get_linestyle() == "--"
    assert ax.get_xlabel() == "lag (s)"
    assert ax.get_ylabel() == "drop rate (%)"
    assert right.get_ylabel() == "median emission latency (s, event time clock)"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["lateness 0s", "lateness 1s", "drop rate (left)", "median latency (right)"]
    p99 = plot_lag_tradeoff(grid, latency="p99", ax=axes())
    np.testing.assert_allclose(
        p99.right_ax.lines[1].get_ydata(),
        grid[grid["lateness"] == pd.Timedelta("1s")]["latency_p99"].dt.total_seconds(),
    )
    with pytest.raises(KeyError, match="pass the frame that sweep"):
        plot_lag_tradeoff(grid.drop(columns="drop_rate"))


@pytest.mark.parametrize(
    ("value", "text"),
    [("0s", "0s"), ("250ms", "250ms"), ("1500ms", "1.5s"), ("2min", "2min"), ("1h", "1h"),
     ("90s", "90s"), ("1.2345s", "1234.5ms"), ("3us", "3us"), ("1ns", "1ns")],
)  # fmt: skip
def test_duration_text(value, text):
    assert duration_text(value) == text
