"""The tuner's held figure: artists made once, new data on every update, PNG out.

Three axes: the picked symbol's watermark (top: the panel of the watermark
view, as :func:`~mdwindow.plotting.plot_watermark` draws it, headed by the
parameters, the rows in view and their counts), how late the dropped ticks
were (bottom left) and the lag trade-off of the sweep (bottom right).
Labels, titles and legends never change: they are drawn once into a static
image. The trade-off only changes with the window size or scope, so its
region is drawn once per grid and its pixels kept. An update pastes those
pixels and draws the two other axes and the current-point marker over them
(what blitting does on screen, here on the Agg canvas), then encodes the
pixels as PNG (a grid not shown before is drawn over them last, and its
region kept). The two live panels and their artists are in
:mod:`mdwindow.plotting.tuner_panels`; the canvas that keeps glyph bitmaps
and the PNG encoder in :mod:`mdwindow.plotting.raster`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mdwindow.core.rules import NEG_INF
from mdwindow.plotting.raster import png_bytes, text_caching_canvas
from mdwindow.plotting.style import duration_text
from mdwindow.plotting.tradeoff import plot_lag_tradeoff
from mdwindow.plotting.tuner_panels import LateByPanel, WatermarkPanel

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from mdwindow.core.grid import Judged, ScopeRows

__all__ = ["CSS_SIZE", "PIXEL_RATIO", "TunerFigure", "zoom"]

#: The figure's size on the page, CSS pixels: with the controls and the summary
#: above it, the tuner stays within a laptop screen's height (about 750 px).
CSS_SIZE = (880, 560)
#: Bitmap pixels per CSS pixel (the tuner's default ``pixel_ratio``): sharp on a
#: standard screen and when a narrow output area shows the figure smaller, nearly
#: so on a high-density one. Not 2: each update then encodes 4 times the pixels of
#: 1, and in JupyterLab at 1M ticks on a loaded 2-core machine the median move took
#: 227-231 ms against 172-176 ms before the figure grew (1.5: 145 ms against 160).
PIXEL_RATIO = 1.5


def zoom(dropped_rows: np.ndarray, rows: int, span: int) -> tuple[int, int]:
    """``span`` arrival positions centred on the densest drops (or the middle); all
    when fewer.

    The densest drops are the most that any ``span`` consecutive positions
    hold; the view is centred on their median, so a burst of drops is shown
    whole and in the middle wherever it lies (a few scattered drops beside
    it do not pull it to the edge).

    Examples
    --------
    >>> zoom(np.array([2_950, 3_000, 3_050, 9_000]), 10_000, 1_000)
    (2500, 3500)
    >>> zoom(np.array([], dtype=np.int64), 10_000, 1_000), zoom(np.array([5]), 800, 1_000)
    ((4500, 5500), (0, 800))
    """
    if rows <= span:
        return 0, rows
    if len(dropped_rows):
        drops = np.sort(np.asarray(dropped_rows, dtype=np.int64))
        # For each drop, how many drops lie in the span that it opens.
        ends = np.searchsorted(drops, drops + span, side="left")
        first = int(np.argmax(ends - np.arange(len(drops))))
        center = int(np.median(drops[first : ends[first]]))
    else:
        center = rows // 2
    start = min(max(center - span // 2, 0), rows - span)
    return start, start + span


#: Where the axes are, figure fractions ([left, bottom, width, height]); the
#: watermark panel keeps the right part of its box for its legend.
TOP_AXES = (0.105, 0.6, 0.87, 0.29)
LEFT_AXES = (0.1, 0.085, 0.25, 0.33)
RIGHT_AXES = (0.44, 0.085, 0.29, 0.33)
TRADEOFF_TOP = RIGHT_AXES[1] + RIGHT_AXES[3]
#: The trade-off legend's left edge, right of the latency axis and its label.
LEGEND_X = 0.835


@contextmanager
def _tick_label_boxes_skipped(*axes: Any) -> Iterator[None]:
    """While the figure's updates draw ``axes``, their axes do not measure tick labels.

    An axis measures every tick label on each draw, to move its label and
    offset text clear of them; here the labels sit at fixed places and no
    axis shows an offset, so the measuring only cost time (a third of an
    axis' drawing). An axis that would use the boxes still gets them.
    """
    patched = []
    for one in axes:
        for axis in (one.xaxis, one.yaxis):
            measure = getattr(type(axis), "_get_ticklabel_bboxes", None)
            if measure is None:  # pragma: no cover - other matplotlib versions
                continue

            def boxes(ticks: Any, renderer: Any, axis: Any = axis, measure: Any = measure) -> Any:
                if getattr(axis, "_autolabelpos", True) or axis.major.formatter.get_offset():
                    return measure(axis, ticks, renderer)
                return [], []

            axis._get_ticklabel_bboxes = boxes
            patched.append(axis)
    try:
        yield
    finally:
        for axis in patched:
            del axis._get_ticklabel_bboxes


class TunerFigure:
    """Draws tuner states on a held :class:`~matplotlib.figure.Figure` and returns PNG bytes."""

    #: CSS pixels per inch of the figure: a 10 pt font is 12 CSS pixels tall.
    CSS_PER_INCH = 88

    def __init__(self, figure: Figure, *, dpi: float = 72) -> None:
        self.figure = figure
        self.dpi = dpi
        figure.set_dpi(dpi)
        # Pixel distances written for 72 dpi, at this one.
        self._px = dpi / 72
        self.canvas = text_caching_canvas(figure)
        self._static: Any = None  # pixels of what never changes (labels, legends)
        self._legend_pixels: Any = None  # the trade-off legend's pixels
        self._region: Any = None  # where the trade-off axes and their tick labels are
        self._curves: dict[str, Any] = {}  # trade-off curves by gid
        # Per grid shown: the pixels of its trade-off region and where its axes put data.
        self._tradeoffs: dict[Any, tuple[Any, Any]] = {}

    @property
    def laid_out(self) -> bool:
        """Whether the axes, artists and static pixels are made."""
        return bool(self.figure.axes) and self._static is not None

    def clear(self) -> None:
        """Forget the axes and every kept pixel; the next update lays out anew."""
        self.figure.clf()
        self._static = self._legend_pixels = self._region = None
        self._curves = {}
        self._tradeoffs.clear()

    def lay_out(self, grid: pd.DataFrame) -> None:
        """Make the axes and artists, the trade-off curves from the sweep ``grid``, and
        the pixels of everything that never changes."""
        self._lay_out()
        plot_lag_tradeoff(grid, ax=self.right)
        self._hold_tradeoff_layout()
        self._draw_static()

    def _hold_tradeoff_layout(self) -> None:
        """Fix what :func:`plot_lag_tradeoff` drew at places that do not depend on the data,
        so that its labels, title and legend can be drawn once into the background."""
        right = self.right
        twin = right.right_ax
        self._curves = {line.get_gid(): line for line in [*right.lines, *twin.lines]}
        # The top panel's title states the window and scope; the trade-off's own line
        # for them would be drawn once and go stale when they change.
        for text in right.texts:
            if text.get_gid() == "heading":
                text.set_visible(False)
        right.set_title(right.get_title(), y=1.01, pad=6, fontsize="medium")
        right.xaxis.set_label_coords(0.5, -0.13)
        right.yaxis.set_label_coords(-0.15, 0.5)
        twin.yaxis.set_label_coords(1.2, 0.5)
        # The legend goes outside the axes, right of the latency axis' label: no
        # grid's curves can then run under it. It names the two markers too.
        old = right.get_legend()
        handles = [*old.legend_handles, self.recommended_marker, self.marker]
        # "lateness 1s" -> "1s" under the title "lateness"; "median latency (right)"
        # -> "latency (right)": narrow enough to fit beside the axes.
        labels = [
            t.get_text().removeprefix("lateness ").replace("median latency", "latency")
            for t in old.get_texts()
        ]
        labels = [*labels, "recommended", "current"]
        old.remove()
        legend = right.legend(
            handles, labels, loc="upper left", bbox_to_anchor=(LEGEND_X, TRADEOFF_TOP),
            bbox_transform=self.figure.transFigure, fontsize="x-small", borderaxespad=0,
            framealpha=1, handlelength=2.2, labelspacing=0.3, title="lateness",
            title_fontsize="x-small", alignment="left", markerscale=0.7,
        )  # fmt: skip
        # Its clock in a second line: one line would be taller than the axes.
        label = twin.get_ylabel()
        twin.set_ylabel(label.replace(" (s, ", " (s)\n").replace(" clock)", " clock"))
        self.tradeoff_legend = legend
        self.static_texts += [
            right.title, right.xaxis.label, right.yaxis.label, twin.yaxis.label, legend,
        ]  # fmt: skip

    def _set_tradeoff_data(self, grid: pd.DataFrame) -> None:
        """New data for the trade-off curves (one pair per lateness), new limits."""
        lag = grid["lag"].to_numpy().view(np.int64)
        lateness = grid["lateness"].to_numpy().view(np.int64)
        drop_rate = grid["drop_rate"].to_numpy(np.float64) * 100
        latency = grid["latency_median"].to_numpy().view(np.int64)
        latency_seconds = np.where(latency == NEG_INF, np.nan, latency / 1e9)
        for value in np.unique(lateness):
            mine = np.flatnonzero(lateness == value)
            mine = mine[np.argsort(lag[mine], kind="stable")]
            name = duration_text(pd.Timedelta(int(value)))
            self._curves[f"drop_rate:{name}"].set_data(lag[mine] / 1e9, drop_rate[mine])
            self._curves[f"latency:{name}"].set_data(lag[mine] / 1e9, latency_seconds[mine])
        for axes in (self.right, self.right.right_ax):
            # Visible only: the trade-off axes hold invisible copies of the latency curves
            # (in the twin's units) that only steer the legend.
            axes.relim(visible_only=True)
            axes.autoscale_view()

    def _lay_out(self) -> None:
        """Make the axes and the artists that updates give new data to."""
        from matplotlib.lines import Line2D

        fig = self.figure
        self.clear()
        # Places fixed by hand (figure fractions): the texts around the axes are at
        # fixed places too, and drawn once.
        self.top = fig.add_axes(TOP_AXES)
        self.left = fig.add_axes(LEFT_AXES)
        self.right = fig.add_axes(RIGHT_AXES)
        self.watermark = WatermarkPanel(self.top)
        self.late_by = LateByPanel(self.left)
        top, left = self.top, self.left
        self.static_texts = [
            top.xaxis.label, top.yaxis.label, left.xaxis.label, left.yaxis.label, left.title,
            self.late_by.heading, top.get_legend(),
        ]  # fmt: skip
        # Drawn over the background on every update, so it is no child of the axes.
        self.marker = Line2D(
            [], [], marker="*", markersize=16, color="red", linestyle="none",
            label="current", zorder=5,
        )  # fmt: skip
        self.marker.set_figure(fig)
        self.recommended_marker = Line2D(
            [], [], marker="D", markersize=11, markerfacecolor="none", markeredgecolor="black",
            markeredgewidth=1.6, linestyle="none", label="recommended", zorder=4,
        )  # fmt: skip
        self.recommended_marker.set_figure(fig)

    def _draw_static(self) -> None:
        """Keep the pixels of the static parts alone, and of the trade-off legend."""
        axes = [self.top, self.left, self.right, self.right.right_ax]
        for one in axes:
            one.set_visible(False)
        self.canvas.draw()
        renderer = self.canvas.get_renderer()
        for text in self.static_texts:
            text.set_visible(True)
            text.draw(renderer)
            text.set_visible(False)
        self._static = self.canvas.copy_from_bbox(self.figure.bbox)
        self._legend_pixels = self.canvas.copy_from_bbox(
            self.tradeoff_legend.get_window_extent(renderer).padded(1)
        )
        for one in axes:
            one.set_visible(True)
        # The trade-off axes with their tick labels: right of the late-by axes (and its
        # last tick label), below the watermark axes' tick labels, which stay outside.
        from matplotlib.transforms import Bbox

        width, _ = self.canvas.get_width_height()
        left = self.left.get_window_extent(renderer)
        right = self.right.get_window_extent(renderer)
        self._region = Bbox([[left.x1 + 14 * self._px, 0], [width, right.y1 + 2 * self._px]])

    # -- one state -----------------------------------------------------------

    def draw_rows(
        self,
        rows: ScopeRows,
        judged: Judged,
        *,
        code: int,
        view: tuple[int, int],
        size: int,
        offset: int,
        title: str,
        max_points: int,
        tradeoff: Any,
    ) -> None:
        """Draw the watermark and late-by plots of one state over the static pixels
        (and the trade-off ``tradeoff``, when it was shown before); :meth:`finish`
        completes the image."""
        data = self.watermark.set_data(rows, judged, code, view, size, offset, max_points)
        # At a fixed height: the automatic one measures the axis every draw.
        self.watermark.set_heading(title, view, len(rows), data)
        self.late_by.set_data(judged)
        canvas = self.canvas
        canvas.restore_region(self._static)
        if tradeoff in self._tradeoffs:
            canvas.restore_region(self._tradeoffs[tradeoff][0])
        renderer = canvas.get_renderer()
        with _tick_label_boxes_skipped(self.top, self.left):
            self.top.draw(renderer)
            self.left.draw(renderer)

    def finish(
        self,
        name: Any,
        grid: pd.DataFrame,
        current: tuple[float, float],
        recommended: tuple[float, float] | None = None,
    ) -> bytes:
        """Draw the trade-off of the sweep ``grid`` (once per ``name``; its pixels are
        kept), the recommended point (when there is one) and the current point on
        it; returns the figure as PNG."""
        canvas = self.canvas
        renderer = canvas.get_renderer()
        if name not in self._tradeoffs:
            self._set_tradeoff_data(grid)
            with _tick_label_boxes_skipped(self.right, self.right.right_ax):
                self.right.draw(renderer)
                self.right.right_ax.draw(renderer)
            # The legend stays on top of the curves, as when it is drawn last.
            canvas.restore_region(self._legend_pixels)
            self._tradeoffs[name] = (
                canvas.copy_from_bbox(self._region),
                self.right.transData.frozen(),
            )
        transform = self._tradeoffs[name][1]
        if recommended is not None:
            self.recommended_marker.set_transform(transform)
            self.recommended_marker.set_data([recommended[0]], [recommended[1]])
            self.recommended_marker.draw(renderer)
        self.marker.set_transform(transform)
        self.marker.set_data([current[0]], [current[1]])
        self.marker.draw(renderer)
        return self._png()

    def page_picture(self) -> bytes:
        """The figure as the page shows it, at one bitmap pixel per CSS pixel (fewer
        bytes than the image widget's, for a saved notebook)."""
        from PIL import Image

        pixels = np.asarray(self.canvas.buffer_rgba())[:, :, :3]
        picture = Image.fromarray(np.ascontiguousarray(pixels))
        picture = picture.resize(CSS_SIZE, Image.Resampling.BOX)
        out = io.BytesIO()
        picture.save(out, format="png", optimize=True)
        return out.getvalue()

    def _png(self) -> bytes:
        return png_bytes(np.asarray(self.canvas.buffer_rgba()))
