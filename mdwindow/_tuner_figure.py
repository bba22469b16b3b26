"""The tuner's held figure: artists made once, new data on every update, PNG out.

Three axes: the picked symbol's watermark (top), how late the dropped ticks
were (bottom left) and the lag trade-off of the sweep (bottom right).
Labels, titles and legends never change: they are drawn once into a static
image. The trade-off only changes with the window size or scope, so its
region is drawn once per grid and its pixels kept. An update pastes those
pixels and draws the two other axes and the current-point marker over them
(what blitting does on screen, here on the Agg canvas), then encodes the
pixels as PNG (a grid not shown before is drawn over them last, and its
region kept). The artists stay; an update gives them new data
(``set_data``, ``set_offsets``) instead of plotting anew. The look follows
:func:`mdwindow.plotting.plot_watermark` and
:func:`mdwindow.plotting.plot_late_drops`.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mdwindow._tuner_rows import DROPPED, LATE, ON_TIME, REJECTED, Judged, ScopeRows
from mdwindow.core.rules import NEG_INF
from mdwindow.plotting import (
    BOUNDARY_COLOR,
    EMITTED_COLOR,
    MAX_EVENT_TIME_COLOR,
    STATUS_COLORS,
    STATUS_LABELS,
    WATERMARK_COLOR,
    _steps,
    duration_text,
    plot_lag_tradeoff,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Drawing order and marker (shape, area) of the statuses, as in ``plot_watermark``.
_STATUS_STYLE = (
    (ON_TIME, "on_time", "o", 6),
    (REJECTED, "rejected", "s", 14),
    (LATE, "late", "o", 14),
    (DROPPED, "dropped", "X", 42),
)
_NS_PER_DAY = 86_400 * 10**9
HISTOGRAM_BINS = 30
MAX_BOUNDARIES = 40


def _every(count: int, limit: int) -> int:
    return max(1, math.ceil(count / max(limit, 1)))


def _date_numbers(nanos: np.ndarray) -> np.ndarray:
    """int64 ns since the epoch -> matplotlib date numbers (days since 1970, its epoch)."""
    return np.asarray(nanos, dtype=np.float64) / _NS_PER_DAY


def zoom(dropped_rows: np.ndarray, rows: int, span: int) -> tuple[int, int]:
    """``span`` arrival positions around the densest drops (or the middle); all when fewer."""
    if rows <= span:
        return 0, rows
    if len(dropped_rows):
        counts = np.bincount(dropped_rows // span)
        center = int(np.argmax(counts)) * span + span // 2
    else:
        center = rows // 2
    start = min(max(center - span // 2, 0), rows - span)
    return start, start + span


#: Text bitmaps kept by the figure's renderer (see ``_text_caching_canvas``).
MAX_CACHED_GLYPHS = 20_000
MAX_CACHED_LAYOUTS = 4_000


def _text_caching_canvas(figure: Figure) -> Any:
    """An Agg canvas whose renderer keeps the bitmap of every glyph it rendered.

    Most of an update's drawing time went into text: laying out each string
    and rasterizing each glyph anew, although the tick labels and titles
    hold the same few characters from one update to the next. FreeType
    rasterizes a glyph at a 1/64 pixel position; moving it by whole pixels
    moves its bitmap by whole pixels, so a bitmap kept per glyph, size and
    sub-pixel position gives the very pixels a fresh rendering would
    (``tests/test_widgets.py`` compares them). Matplotlib versions without the
    glyph-by-glyph text path (before 3.11) get a plain canvas.
    """
    from matplotlib.backends import backend_agg
    from matplotlib.ft2font import FT2Font

    plain = backend_agg.FigureCanvasAgg
    renderer_base = backend_agg.RendererAgg
    if not (
        hasattr(renderer_base, "_draw_text_glyphs_and_boxes")
        and hasattr(FT2Font, "_layout")
        and hasattr(FT2Font, "_render_glyph")
        and hasattr(FT2Font, "_set_transform")
    ):  # pragma: no cover - older matplotlib
        return plain(figure)

    import matplotlib as mpl

    class Renderer(renderer_base):
        def __init__(self, width: float, height: float, dpi: float) -> None:
            super().__init__(width, height, dpi)
            self._layouts: dict[Any, list[tuple[Any, int, float, float]]] = {}
            self._glyphs: dict[Any, tuple[np.ndarray, int, int]] = {}

        def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):  # noqa: ANN001
            if ismath:
                return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            flags = backend_agg.get_hinting_flag()
            features = mtext.get_fontfeatures() if mtext is not None else None
            language = mtext.get_language() if mtext is not None else None
            params = mpl.rcParams
            layout_key = (
                tuple(prop.__dict__.values()), s, features, language, flags,
                params["text.hinting_factor"], params["text.kerning_factor"],
            )  # fmt: skip
            items = self._layouts.get(layout_key)
            if items is None:
                font = self._prepare_font(prop)
                items = [
                    (item.ft_object, item.glyph_index, item.x, item.y)
                    for item in font._layout(s, flags=flags, features=features, language=language)
                ]
                if len(self._layouts) >= MAX_CACHED_LAYOUTS:
                    self._layouts.clear()
                self._layouts[layout_key] = items
            self._draw_cached_glyphs(gc, x, y, angle, prop.get_size_in_points(), flags, items)

        def _draw_cached_glyphs(self, gc, x, y, angle, size, flags, items):  # noqa: ANN001
            # As RendererAgg._draw_text_glyphs_and_boxes, each glyph rasterized once.
            cos = math.cos(math.radians(angle))
            sin = math.sin(math.radians(angle))
            antialiased = gc.get_antialiased()
            height = self.height
            glyphs = self._glyphs
            matrix = None
            for font, glyph_index, dx, dy in items:
                tx = round(0x40 * (x + dx * cos - dy * sin))
                ty = round(0x40 * (height - y + dx * sin + dy * cos))
                key = (font, size, self.dpi, glyph_index, angle, tx & 63, ty & 63,
                       antialiased, flags)  # fmt: skip
                glyph = glyphs.get(key)
                if glyph is None:
                    if matrix is None:
                        matrix = (
                            (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
                        )
                    font.set_size(size, self.dpi)
                    font._set_transform(matrix, [tx & 63, ty & 63])
                    bitmap = font._render_glyph(
                        glyph_index,
                        flags,
                        backend_agg.RenderMode.NORMAL
                        if antialiased
                        else backend_agg.RenderMode.MONO,
                    )
                    buffer = np.array(bitmap.buffer)
                    if not antialiased:
                        buffer *= 0xFF
                    glyph = (buffer, bitmap.left, bitmap.top)
                    if len(glyphs) >= MAX_CACHED_GLYPHS:
                        glyphs.clear()
                    glyphs[key] = glyph
                buffer, left, top = glyph
                self._renderer.draw_text_image(
                    buffer,
                    left + (tx >> 6),
                    int(height) - (top + (ty >> 6)) + buffer.shape[0],
                    0,
                    gc,
                )

    class Canvas(plain):
        def get_renderer(self) -> Any:
            w, h = self.get_width_height(physical=True)
            key = w, h, self.figure.dpi
            if self._lastKey != key:
                self.renderer = Renderer(w, h, self.figure.dpi)
                self._lastKey = key
            return self.renderer

    return Canvas(figure)


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

    def __init__(self, figure: Figure, *, dpi: float = 72) -> None:
        self.figure = figure
        self.dpi = dpi
        figure.set_dpi(dpi)
        self.canvas = _text_caching_canvas(figure)
        self._static: Any = None  # pixels of what never changes (labels, legends)
        self._legend_pixels: Any = None  # the trade-off legend's pixels
        self._region: Any = None  # where the trade-off axes and their tick labels are
        self._curves: dict[str, Any] = {}  # trade-off curves by gid
        # Per grid shown: the pixels of its trade-off region and where its axes put data.
        self._tradeoffs: dict[Any, tuple[Any, Any]] = {}

    @property
    def laid_out(self) -> bool:
        return bool(self.figure.axes) and self._static is not None

    def clear(self) -> None:
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
        right.set_title(right.get_title(), y=1.01)
        right.xaxis.set_label_coords(0.5, -0.11)
        right.yaxis.set_label_coords(-0.09, 0.5)
        twin.yaxis.set_label_coords(1.11, 0.5)
        legend = right.get_legend()
        # "best" is found once, with the first grid; the legend then stays there.
        self.canvas.draw()
        box = legend.get_window_extent(self.canvas.get_renderer())
        legend.set_loc(tuple(right.transAxes.inverted().transform((box.x0, box.y0))))
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
            axes.relim()
            axes.autoscale_view()

    def _lay_out(self) -> None:
        """Make the axes and the artists that updates give new data to."""
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator

        fig = self.figure
        self.clear()
        fig.subplots_adjust(left=0.1, right=0.92, top=0.93, bottom=0.08, hspace=0.35)
        self.top = fig.add_subplot(2, 1, 1)
        self.left = fig.add_subplot(2, 2, 3)
        self.right = fig.add_subplot(2, 2, 4)

        top = self.top
        # Room at the right for a legend outside the data: it then never changes, and
        # sits in the background; the counts an update changes go in the title.
        box = top.get_position()
        top.set_position([box.x0, box.y0, box.width * 0.84, box.height])
        self.scatters = {}
        for code, name, marker, size in _STATUS_STYLE:
            self.scatters[code] = top.scatter(
                [], [], s=size, marker=marker, color=STATUS_COLORS[name],
                # An edge of width 0 rather than none: one colour for faces and edges
                # lets Agg stamp one rendered marker (draw_markers), many times faster.
                edgecolors="black" if name == "dropped" else STATUS_COLORS[name],
                linewidths=0.5 if name == "dropped" else 0.0,
                zorder=5 if name == "dropped" else 3, gid=f"status:{name}",
            )  # fmt: skip
        (self.watermark_line,) = top.plot(
            [], [], drawstyle="steps-post", color=WATERMARK_COLOR, linewidth=1.4,
            label="watermark", gid="watermark", zorder=4,
        )  # fmt: skip
        (self.max_line,) = top.plot(
            [], [], drawstyle="steps-post", color=MAX_EVENT_TIME_COLOR, linestyle="--",
            linewidth=1.0, label="max event time", gid="max_event_time", zorder=4,
        )  # fmt: skip
        self.emitted = top.scatter(
            [], [], s=22, marker=">", color=EMITTED_COLOR, zorder=4, gid="emitted"
        )
        # Window boundaries: one line across the axes (x in axes units), broken by NaNs.
        self.boundaries = Line2D(
            [], [], color=BOUNDARY_COLOR, linewidth=0.8, zorder=0,
            transform=top.get_yaxis_transform(), label="window boundaries",
            gid="window_boundary",
        )  # fmt: skip
        top.add_line(self.boundaries)
        top.legend(
            handles=[*self.scatters.values(), self.watermark_line, self.max_line, self.emitted,
                     self.boundaries],
            labels=[*(STATUS_LABELS[name] for _, name, _, _ in _STATUS_STYLE), "watermark",
                    "max event time", "window emitted\n(row, window end)", "window boundaries"],
            loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", markerscale=1.5,
            frameon=False,
        )  # fmt: skip
        self.legend = top.get_legend()
        top.yaxis_date()
        top.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        top.set_xlabel("arrival position (row)")
        top.set_ylabel("event time (UTC)")

        left = self.left
        self.histogram = left.stairs(
            [0], [0.0, 1.0], fill=True, color=STATUS_COLORS["dropped"],
            label=STATUS_LABELS["dropped"], gid="late_by",
        )  # fmt: skip
        self.no_drops = left.text(
            0.5, 0.5, "no dropped ticks", transform=left.transAxes, ha="center", va="center"
        )
        left.xaxis.set_major_locator(MaxNLocator(nbins=6))
        left.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        left.set_xlabel("late by (s): watermark - (window end + allowed lateness)")
        left.set_ylabel("dropped ticks")
        left.set_title("How late the dropped ticks were", y=1.0)
        # Labels at fixed places (room for six-digit tick labels), so that they can be
        # drawn once into the background with the legend.
        top.xaxis.set_label_coords(0.5, -0.09)
        top.yaxis.set_label_coords(-0.1, 0.5)
        left.xaxis.set_label_coords(0.5, -0.11)
        left.yaxis.set_label_coords(-0.17, 0.5)
        self.static_texts = [
            top.xaxis.label, top.yaxis.label, left.xaxis.label, left.yaxis.label, left.title,
            self.legend,
        ]  # fmt: skip
        # Drawn over the background on every update, so it is no child of the axes.
        self.marker = Line2D(
            [], [], marker="*", markersize=16, color="red", linestyle="none",
            label="current", zorder=5,
        )  # fmt: skip
        self.marker.set_figure(fig)

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
        self._region = Bbox([[left.x1 + 14, 0], [width, right.y1 + 2]])

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
        counts = self._draw_watermark(rows, judged, code, view, size, offset, max_points)
        # At a fixed height: the automatic one measures the axis every draw.
        self.top.set_title(f"{title}\n{counts}", fontsize="medium", y=1.0)
        self._draw_late_by(judged)
        canvas = self.canvas
        canvas.restore_region(self._static)
        if tradeoff in self._tradeoffs:
            canvas.restore_region(self._tradeoffs[tradeoff][0])
        renderer = canvas.get_renderer()
        with _tick_label_boxes_skipped(self.top, self.left):
            self.top.draw(renderer)
            self.left.draw(renderer)

    def finish(self, name: Any, grid: pd.DataFrame, current: tuple[float, float]) -> bytes:
        """Draw the trade-off of the sweep ``grid`` (once per ``name``; its pixels are
        kept) and the current point on it; returns the figure as PNG."""
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
        self.marker.set_transform(self._tradeoffs[name][1])
        self.marker.set_data([current[0]], [current[1]])
        self.marker.draw(renderer)
        return self._png()

    def _draw_watermark(
        self,
        rows: ScopeRows,
        judged: Judged,
        code: int,
        view: tuple[int, int],
        size: int,
        offset: int,
        max_points: int,
    ) -> str:
        """Give the watermark plot's artists their data; returns the counts shown."""
        begin, stop = view
        x = np.arange(begin, stop)
        t = rows.t[begin:stop]
        status = judged.status[begin:stop]
        shown = (rows.codes[begin:stop] == code) & (t != NEG_INF)
        counts = []
        y_parts = []
        for status_code, name, _marker, area in _STATUS_STYLE:
            artist = self.scatters[status_code]
            picked = np.flatnonzero(shown & (status == status_code))
            total = len(picked)
            label = f"{STATUS_LABELS[name]} {total:,}"
            if name == "on_time":
                step = _every(total, max_points)
                picked = picked[::step]
                if step > 1:
                    label += f" (1 in {step} shown)"
            if name == "dropped":
                crowded = len(picked) > 2_000
                artist.set_sizes([area / 3 if crowded else area])
                artist.set_edgecolors(STATUS_COLORS[name] if crowded else "black")
                artist.set_linewidths(0.0 if crowded else 0.5)
            y = _date_numbers(t[picked])
            artist.set_offsets(np.column_stack([x[picked], y]))
            if total or name != "rejected":
                counts.append(label)
            if total:
                y_parts.append(y)

        members = np.flatnonzero(rows.valid[begin:stop])
        end_x = stop - 1
        w_after = judged.watermark_after[begin:stop][members]
        has_w = w_after != NEG_INF
        wx, wy = _steps(x[members][has_w], w_after[has_w], end_x)
        mx, my = _steps(x[members], rows.max_after[begin:stop][members], end_x)
        for line, lx, ly in ((self.watermark_line, wx, wy), (self.max_line, mx, my)):
            y = _date_numbers(ly)
            line.set_data(lx, y)
            if len(lx):
                y_parts.append(y)

        emit_row, emit_end = judged.emissions(rows, code)
        in_view = (emit_row >= begin) & (emit_row < stop)
        emit_row, emit_end = emit_row[in_view], emit_end[in_view]
        by_emission = np.lexsort((emit_end, emit_row))
        step = _every(len(by_emission), max_points)
        by_emission = by_emission[::step]
        y = _date_numbers(emit_end[by_emission])
        self.emitted.set_offsets(np.column_stack([emit_row[by_emission], y]))
        counts.append(
            f"windows emitted {len(emit_row):,}" + (f" (1 in {step} shown)" if step > 1 else "")
        )
        if len(by_emission):
            y_parts.append(y)

        seen = t[shown]
        edges = np.empty(0, np.int64)
        if len(seen):
            lo, hi = int(seen.min()), int(seen.max())
            first = offset + ((lo - offset) // size) * size
            count = (hi - first) // size + 2
            if count <= MAX_BOUNDARIES:
                edges = first + size * np.arange(count, dtype=np.int64)
        bx = np.tile([0.0, 1.0, np.nan], len(edges))
        by = np.repeat(_date_numbers(edges), 3)
        self.boundaries.set_data(bx, by)
        if len(edges):
            y_parts.append(by[::3])

        top = self.top
        pad = max(0.05 * (end_x - begin), 0.5)
        top.set_xlim(begin - pad, end_x + pad)
        if y_parts:
            values = np.concatenate(y_parts)
            lo_y, hi_y = float(values.min()), float(values.max())
            margin = 0.05 * (hi_y - lo_y) or 1 / 86_400
            top.set_ylim(lo_y - margin, hi_y + margin)
        return "in view: " + ", ".join(counts)

    def _draw_late_by(self, judged: Judged) -> None:
        seconds = judged.late_by[judged.status == DROPPED] / 1e9
        left = self.left
        self.no_drops.set_visible(len(seconds) == 0)
        self.histogram.set_visible(len(seconds) > 0)
        if len(seconds):
            counts, edges = np.histogram(seconds, bins=HISTOGRAM_BINS)
            self.histogram.set_data(counts, edges)
            pad = 0.05 * (edges[-1] - edges[0]) or 0.5
            left.set_xlim(edges[0] - pad, edges[-1] + pad)
            left.set_ylim(0, counts.max() * 1.05)
        else:
            left.set_xlim(0, 1)
            left.set_ylim(0, 1)

    def _png(self) -> bytes:
        return png_bytes(np.asarray(self.canvas.buffer_rgba()))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def png_bytes(rgba: np.ndarray) -> bytes:
    """A lossless RGB PNG of an ``(height, width, 4)`` uint8 image (alpha dropped).

    Rows are stored unfiltered and deflated at level 1: half the time of
    Pillow's adaptive filtering for an image of flat areas and thin lines,
    and about as small.
    """
    height, width, _ = rgba.shape
    rows = np.empty((height, 1 + 3 * width), np.uint8)
    rows[:, 0] = 0  # filter type "none"
    rows[:, 1:].reshape(height, width, 3)[...] = rgba[:, :, :3]
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows, 1)),
            _png_chunk(b"IEND", b""),
        )
    )
