"""Figures that read: every public plot and every figure of the report and the demo passes
the checks of :mod:`tests.figure_checks`, and the four public plots match stored images.

The image tests draw each plot on fixed data, at a fixed size and dpi, with
matplotlib's defaults and its bundled DejaVu fonts (``matplotlib.testing``'s
font settings, no hinting), and compare it with ``tests/baseline_images/<name>.png``
through ``matplotlib.testing.compare.compare_images`` at a tolerance of
:data:`TOLERANCE` (RMS of the pixel difference, 0-255): a moved legend, a new
colour, a lost label fails; the rounding of another FreeType does not. After an
intended change, rewrite the baselines with ``MDWINDOW_UPDATE_BASELINES=1 pytest
tests/test_figures.py`` and look at them before committing. A failed comparison
leaves the drawn image and the difference beside each other in the test's tmp_path.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.testing import set_font_settings_for_testing  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

from mdwindow import tumbling_windows  # noqa: E402
from mdwindow.plotting import (  # noqa: E402
    plot_lag_tradeoff,
    plot_late_drops,
    plot_partition_balance,
    plot_watermark,
    plot_watermark_panels,
)
from mdwindow.report.sections import densest_drops  # noqa: E402
from mdwindow.sweep import sweep  # noqa: E402
from tests.figure_checks import assert_readable, demo_run, figure_problems  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data"
BASELINES = Path(__file__).resolve().parent / "baseline_images"
TOLERANCE = 2.0
OPTIONS = {"lag": "2s", "allowed_lateness": "1s", "scope": "key", "arrival_time": "recv_ts"}


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return pd.read_parquet(DATA / "ticks_sample.parquet")


@pytest.fixture(scope="module")
def result(sample):
    return tumbling_windows(sample, "5s", **OPTIONS)


def figure(width: float = 11, height: float = 5) -> Figure:
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


# -- the checks can fail --------------------------------------------------------------------


def test_a_clean_figure_passes():
    fig = figure(6, 4)
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [3, 1, 2])
    ax.set(xlabel="lag (s)", ylabel="drop rate (%)", title="A clean figure")
    assert figure_problems(fig) == []


def test_overlapping_tick_labels_fail():
    fig = figure(4, 3)
    ax = fig.add_subplot()
    ax.bar(range(12), range(12))
    ax.set_xticks(range(12), [f"symbol number {i}" for i in range(12)])
    ax.set(xlabel="symbol", ylabel="dropped ticks")
    problems = figure_problems(fig)
    assert problems and all("overlap" in p for p in problems)
    assert any(p.startswith("tick labels overlap: tick label of the x axis") for p in problems)
    with pytest.raises(AssertionError, match="tick labels overlap"):
        assert_readable(fig)


def test_a_clipped_label_fails():
    # A figure without a layout engine: a long y label runs off the left edge.
    fig = Figure(figsize=(4, 3), dpi=100)
    ax = fig.add_axes((0.02, 0.2, 0.9, 0.7))
    ax.plot([0, 1], [0, 1])
    ax.set(xlabel="arrival", ylabel="event time (UTC)")
    problems = figure_problems(fig)
    assert any(p.startswith("outside the 400x300 figure:") for p in problems), problems
    assert any("'event time (UTC)'" in p for p in problems)


def test_a_caption_past_the_edge_fails():
    fig = figure(4, 3)
    ax = fig.add_subplot()
    ax.set(xlabel="x", ylabel="y")
    fig.text(0.5, 0.5, "window 5s · lag 2s · allowed lateness 1s · scope key")
    assert any("outside the 400x300 figure: figure text" in p for p in figure_problems(fig))


def test_texts_on_top_of_each_other_fail():
    fig = figure(5, 3)
    ax = fig.add_subplot()
    ax.set(xlabel="x", ylabel="y", title="How late the dropped ticks were")
    ax.text(0.5, 1.02, "a caption under the title", transform=ax.transAxes, ha="center")
    problems = figure_problems(fig)
    assert any(p.startswith("texts overlap: axes title") for p in problems), problems


def test_unlabelled_axes_fail():
    fig = figure(6, 3)
    left, right = fig.subplots(1, 2)
    left.plot([0, 1], [0, 1])
    left.set(xlabel="lag (s)", ylabel="drop rate (%)")
    right.plot([0, 1], [0, 1])
    right.set_xlabel("lag (s)")
    (problem,) = figure_problems(fig)
    assert problem.startswith("the y axis of 'axes at (") and problem.endswith(
        "shows values but has no label"
    )


# -- every public plot reads, on the sample data -----------------------------------------------


def test_the_watermark_plots_read(sample, result):
    zoom = densest_drops(result, len(sample))
    one = figure()
    plot_watermark(
        result, sample, key="SPY", arrival_range=zoom, arrival_time="recv_ts", options=OPTIONS,
        ax=one.add_subplot(),
    )  # fmt: skip
    assert_readable(one)
    for x, arrival_range in (("arrival", zoom), ("time", None)):
        panels = figure(11, 7.8)
        plot_watermark_panels(
            result, sample, x=x, arrival_range=arrival_range, arrival_time="recv_ts",
            options=OPTIONS, figure=panels,
        )  # fmt: skip
        assert_readable(panels)


@pytest.mark.parametrize(
    ("by", "measure", "size"),
    [("key", "rate", (5.4, 6)), ("key", "count", (5.4, 6)), ("window", "rate", (11, 3.6)),
     ("window", "rate", (5, 3.5)), ("late_by", "rate", (5.4, 4.6))],
)  # fmt: skip
def test_the_late_drop_plots_read(result, by, measure, size):
    fig = figure(*size)
    plot_late_drops(result, by=by, measure=measure, options=OPTIONS, ax=fig.add_subplot())
    assert_readable(fig)


def test_the_balance_and_tradeoff_plots_read(sample):
    fig = figure(9, 4)
    plot_partition_balance(sample, partitions=8, ax=fig.add_subplot())
    assert_readable(fig)
    grid = sweep(sample, "5s", lags=["0s", "500ms", "1s", "2s", "4s"], lateness=["0s", "1s"],
                 scope="key", arrival_time="recv_ts")  # fmt: skip
    fig = figure(10, 5)
    plot_lag_tradeoff(grid, ax=fig.add_subplot())
    assert_readable(fig)


def test_the_demo_and_report_figures_read(tmp_path_factory):
    out, saved = demo_run(tmp_path_factory.getbasetemp())
    # The demo's two PNGs, then the report's: two watermark views, three drop plots,
    # the partition balance, the lag trade-off and the recommendation's frontier.
    assert len(saved) == 2 + 8
    for fig in saved:
        assert_readable(fig)


def test_the_tuner_figure_reads(sample):
    pytest.importorskip("ipywidgets")
    from mdwindow.widgets import WatermarkTuner

    tuner = WatermarkTuner(
        sample.iloc[:60_000], "5s", lag="1s", scope="key", arrival_time="recv_ts"
    )
    # The static texts are drawn once into the tuner's background; show them for the check.
    for text in tuner._view.static_texts:
        text.set_visible(True)
    assert_readable(tuner.figure)


# -- the four public plots against their stored images ----------------------------------------


def _fixed_style():
    """matplotlib's defaults, its DejaVu fonts without hinting: the same pixels anywhere."""
    context = mpl.rc_context()
    context.__enter__()
    mpl.rcdefaults()
    set_font_settings_for_testing()
    mpl.rcParams["svg.hashsalt"] = "mdwindow"
    return context


@pytest.fixture()
def fixed_style():
    context = _fixed_style()
    try:
        yield
    finally:
        context.__exit__(None, None, None)


@pytest.fixture(scope="module")
def small(sample):
    """30,000 ticks (about two minutes) around the sample's first feed stall, with drops."""
    return sample.iloc[40_000:70_000].reset_index(drop=True)


def _draw(name: str, small: pd.DataFrame) -> Figure:
    fig = Figure(figsize=(8, 4.5), dpi=72, layout="constrained")
    ax = fig.add_subplot()
    if name == "plot_watermark":
        result = tumbling_windows(small, "5s", **OPTIONS)
        plot_watermark(
            result, small, key="SPY", arrival_range=densest_drops(result, len(small)),
            arrival_time="recv_ts", options=OPTIONS, ax=ax,
        )  # fmt: skip
    elif name == "plot_late_drops":
        result = tumbling_windows(small, "5s", **OPTIONS)
        plot_late_drops(result, by="key", options=OPTIONS, ax=ax)
    elif name == "plot_partition_balance":
        plot_partition_balance(small, partitions=8, ax=ax)
    else:
        grid = sweep(small, "5s", lags=["0s", "500ms", "1s", "2s", "4s"], lateness=["0s", "1s"],
                     scope="key", arrival_time="recv_ts")  # fmt: skip
        plot_lag_tradeoff(grid, ax=ax)
    return fig


def _compare(fig: Figure, name: str, folder: Path) -> str | None:
    actual = folder / f"{name}.png"
    fig.savefig(actual, dpi=72)
    baseline = BASELINES / f"{name}.png"
    if os.environ.get("MDWINDOW_UPDATE_BASELINES"):
        BASELINES.mkdir(exist_ok=True)
        shutil.copyfile(actual, baseline)
    if not baseline.exists():
        pytest.fail(
            f"no baseline {baseline}; draw it with MDWINDOW_UPDATE_BASELINES=1 and look at it"
        )
    expected = folder / f"{name}-expected.png"
    shutil.copyfile(baseline, expected)
    return compare_images(str(expected), str(actual), tol=TOLERANCE)


PUBLIC_PLOTS = ["plot_watermark", "plot_late_drops", "plot_partition_balance", "plot_lag_tradeoff"]


@pytest.mark.parametrize("name", PUBLIC_PLOTS)
def test_public_plot_matches_its_baseline(name, small, fixed_style, tmp_path):
    fig = _draw(name, small)
    assert_readable(fig)
    failed = _compare(fig, name, tmp_path)
    assert failed is None, failed


def test_an_unintended_change_fails_the_image_test(small, fixed_style, tmp_path):
    if os.environ.get("MDWINDOW_UPDATE_BASELINES"):
        pytest.skip("baselines are being rewritten")
    fig = _draw("plot_partition_balance", small)
    # What careless edits would do: the bars take the colour of late ticks; the legend
    # moves into the data.
    for bar in fig.axes[0].patches:
        bar.set_facecolor("#E69F00")
    failed = _compare(fig, "plot_partition_balance", tmp_path)
    assert failed is not None and "Image files did not match" in failed
    fig = _draw("plot_watermark", small)
    ax = fig.axes[0]
    ax.legend(handles=ax.get_legend().legend_handles, loc="lower right", fontsize="small")
    assert "did not match" in (_compare(fig, "plot_watermark", tmp_path) or "")


def test_baselines_are_small_and_fixed_size():
    for name in PUBLIC_PLOTS:
        path = BASELINES / f"{name}.png"
        if not path.exists():
            pytest.skip("baselines not drawn yet")
        data = path.read_bytes()
        width, height = np.frombuffer(data[16:24], ">u4")
        assert (int(width), int(height)) == (576, 324), name
        assert len(data) < 150_000, name
