"""The tuner's two live panels: artists made once, new data on every update.

:class:`WatermarkPanel` (the picked symbol's ticks, watermark, emissions and
window boundaries) and :class:`LateByPanel` (how late the dropped ticks
were) look like :func:`mdwindow.plotting.plot_watermark` and
:func:`mdwindow.plotting.plot_late_drops`, but keep their artists: an update
gives them new data (``set_data``, ``set_offsets``) instead of plotting
anew. Their labels and legend sit at fixed places, so that
:class:`~mdwindow.plotting.tuner_figure.TunerFigure` can draw them once
into its static background.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mdwindow.core.rules import DROPPED, NEG_INF, ON_TIME, REJECTED, STATUS_NAMES
from mdwindow.plotting.style import (
    BOUNDARY_COLOR,
    DRAW_ORDER,
    EMITTED_COLOR,
    MAX_EVENT_TIME_COLOR,
    STATUS_COLORS,
    STATUS_LABELS,
    STATUS_MARKERS,
    WATERMARK_COLOR,
    thinning,
)
from mdwindow.plotting.timeaxis import date_numbers, step_points, window_boundaries

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mdwindow.core.grid import Judged, ScopeRows

__all__ = ["HISTOGRAM_BINS", "MAX_BOUNDARIES", "LateByPanel", "WatermarkPanel"]

#: Drawing order, name and marker (shape, area) of the statuses, as in ``plot_watermark``.
_STATUS_STYLE = tuple(
    (code, STATUS_NAMES[code], *STATUS_MARKERS[STATUS_NAMES[code]]) for code in DRAW_ORDER
)
HISTOGRAM_BINS = 30
MAX_BOUNDARIES = 40


class WatermarkPanel:
    """The watermark plot of one symbol's rows, on the axes ``top``."""

    def __init__(self, top: Axes) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator

        self.axes = top
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
                edgecolors="black" if code == DROPPED else STATUS_COLORS[name],
                linewidths=0.5 if code == DROPPED else 0.0,
                zorder=5 if code == DROPPED else 3, gid=f"status:{name}",
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
        top.yaxis_date()
        top.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        top.set_xlabel("arrival position (row)")
        top.set_ylabel("event time (UTC)")
        # Labels at fixed places (room for six-digit tick labels), so that they can be
        # drawn once into the background with the legend.
        top.xaxis.set_label_coords(0.5, -0.09)
        top.yaxis.set_label_coords(-0.1, 0.5)

    def set_data(
        self,
        rows: ScopeRows,
        judged: Judged,
        code: int,
        view: tuple[int, int],
        size: int,
        offset: int,
        max_points: int,
    ) -> str:
        """Give the artists the rows of key ``code`` in ``view``; returns the counts shown."""
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
            if status_code == ON_TIME:
                step = thinning(total, max_points)
                picked = picked[::step]
                if step > 1:
                    label += f" (1 in {step} shown)"
            if status_code == DROPPED:
                crowded = len(picked) > 2_000
                artist.set_sizes([area / 3 if crowded else area])
                artist.set_edgecolors(STATUS_COLORS[name] if crowded else "black")
                artist.set_linewidths(0.0 if crowded else 0.5)
            y = date_numbers(t[picked])
            artist.set_offsets(np.column_stack([x[picked], y]))
            if total or status_code != REJECTED:
                counts.append(label)
            if total:
                y_parts.append(y)

        members = np.flatnonzero(rows.valid[begin:stop])
        end_x = stop - 1
        w_after = judged.watermark_after[begin:stop][members]
        has_w = w_after != NEG_INF
        wx, wy = step_points(x[members][has_w], w_after[has_w], end_x)
        mx, my = step_points(x[members], rows.max_after[begin:stop][members], end_x)
        for line, lx, ly in ((self.watermark_line, wx, wy), (self.max_line, mx, my)):
            y = date_numbers(ly)
            line.set_data(lx, y)
            if len(lx):
                y_parts.append(y)

        emit_row, emit_end = judged.emissions(rows, code)
        in_view = (emit_row >= begin) & (emit_row < stop)
        emit_row, emit_end = emit_row[in_view], emit_end[in_view]
        by_emission = np.lexsort((emit_end, emit_row))
        step = thinning(len(by_emission), max_points)
        by_emission = by_emission[::step]
        y = date_numbers(emit_end[by_emission])
        self.emitted.set_offsets(np.column_stack([emit_row[by_emission], y]))
        counts.append(
            f"windows emitted {len(emit_row):,}" + (f" (1 in {step} shown)" if step > 1 else "")
        )
        if len(by_emission):
            y_parts.append(y)

        seen = t[shown]
        edges = np.empty(0, np.int64)
        if len(seen):
            edges = window_boundaries(
                int(seen.min()), int(seen.max()), size, offset, MAX_BOUNDARIES
            )
        bx = np.tile([0.0, 1.0, np.nan], len(edges))
        by = np.repeat(date_numbers(edges), 3)
        self.boundaries.set_data(bx, by)
        if len(edges):
            y_parts.append(by[::3])

        top = self.axes
        pad = max(0.05 * (end_x - begin), 0.5)
        top.set_xlim(begin - pad, end_x + pad)
        if y_parts:
            values = np.concatenate(y_parts)
            lo_y, hi_y = float(values.min()), float(values.max())
            margin = 0.05 * (hi_y - lo_y) or 1 / 86_400
            top.set_ylim(lo_y - margin, hi_y + margin)
        return "in view: " + ", ".join(counts)


class LateByPanel:
    """The histogram of how late the dropped ticks were, on the axes ``left``."""

    def __init__(self, left: Axes) -> None:
        from matplotlib.ticker import MaxNLocator

        self.axes = left
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
        left.xaxis.set_label_coords(0.5, -0.11)
        left.yaxis.set_label_coords(-0.17, 0.5)

    def set_data(self, judged: Judged) -> None:
        """Give the histogram the ``late_by`` of the dropped rows, in seconds."""
        seconds = judged.late_by[judged.status == DROPPED] / 1e9
        left = self.axes
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
