"""The tuner's two live panels: artists made once, new data on every update.

:class:`WatermarkPanel` is the panel of the watermark view
(:class:`~mdwindow.plotting.watermark_view.WatermarkArtists`, the very
artists :func:`mdwindow.plotting.plot_watermark` draws with: same markers,
colours, out-of-order rings and legend), filled from the tuner's judged
rows; :class:`LateByPanel` is the histogram of
:func:`mdwindow.plotting.plot_late_drops` with ``by="late_by"``. An update
gives their artists new data (``set_data``, ``set_offsets``) instead of
plotting anew. Their labels and legend sit at fixed places, so that
:class:`~mdwindow.plotting.tuner_figure.TunerFigure` can draw them once into
its static background.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mdwindow.core.rules import DROPPED, NEG_INF
from mdwindow.plotting.captions import SEPARATOR, set_heading
from mdwindow.plotting.drops import LATE_BY_DEFINITION
from mdwindow.plotting.style import STATUS_COLORS, STATUS_LABELS
from mdwindow.plotting.timeaxis import day_text, window_boundaries
from mdwindow.plotting.watermark_view import (
    MAX_BOUNDARIES,
    PanelData,
    WatermarkArtists,
    counts_text,
    panel_data,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mdwindow.core.grid import Judged, ScopeRows

__all__ = ["HISTOGRAM_BINS", "MAX_BOUNDARIES", "LateByPanel", "WatermarkPanel"]

HISTOGRAM_BINS = 30


class WatermarkPanel:
    """The watermark panel of one symbol's rows, on the axes ``top``."""

    def __init__(self, top: Axes) -> None:
        self.axes = top
        # Room at the right for a legend outside the data: it then never changes, and
        # sits in the background; the counts an update changes go in the heading.
        box = top.get_position()
        top.set_position([box.x0, box.y0, box.width * 0.82, box.height])
        self.artists = WatermarkArtists(top)
        self.artists.legend()
        # The rows sharing the picked symbol's watermark, counted in arrival order: all
        # rows under scope "global", the symbol's under "key", its partition's under
        # "partition".
        top.set_xlabel("arrival position among the rows sharing this watermark")
        # Labels at fixed places (room for six-digit tick labels), so that they can be
        # drawn once into the background with the legend.
        top.xaxis.set_label_coords(0.5, -0.15)
        top.yaxis.set_label_coords(-0.115, 0.5)
        self.heading = set_heading(top, "", ["", ""], fontsize="small", y=1.0)

    def set_data(
        self,
        rows: ScopeRows,
        judged: Judged,
        code: int,
        view: tuple[int, int],
        size: int,
        offset: int,
        max_points: int,
    ) -> PanelData:
        """Give the artists the rows of key ``code`` in ``view``; returns what they show."""
        begin, stop = view
        x = np.arange(begin, stop, dtype=np.float64)
        t = rows.t[begin:stop]
        valid = rows.valid[begin:stop]
        shown = (rows.codes[begin:stop] == code) & (t != NEG_INF)
        members = np.flatnonzero(valid)
        emit_row, emit_end = judged.emissions(rows, code)
        in_view = (emit_row >= begin) & (emit_row < stop)
        seen = t[shown]
        edges = np.empty(0, np.int64)
        if len(seen):
            edges = window_boundaries(
                int(seen.min()), int(seen.max()), size, offset, MAX_BOUNDARIES
            )
        data = panel_data(
            x=x,
            t=t,
            status=judged.status[begin:stop],
            # Below the largest event time seen before it (the dashed line).
            out_of_order=valid & (t < rows.max_before[begin:stop]),
            shown=shown,
            line_x=x[members],
            watermark=judged.watermark_after[begin:stop][members],
            max_time=rows.max_after[begin:stop][members],
            emit_x=emit_row[in_view].astype(np.float64),
            emit_end=emit_end[in_view],
            boundaries=edges,
            max_points=max_points,
        )
        self.artists.show(data)
        return data

    def set_heading(self, title: str, view: tuple[int, int], rows: int, data: PanelData) -> None:
        """The title (what the tuner shows: symbol and parameters), the rows in view and
        their day, and the counts."""
        begin, stop = view
        where = (
            f"rows {begin:,} to {max(stop - 1, begin):,} of the {rows:,} sharing this watermark"
        )
        y_range = data.y_range()
        if y_range is not None:
            where += SEPARATOR + day_text(*(int(v * 86_400 * 10**9) for v in y_range))
        set_heading(self.axes, title, [where, counts_text(data)], fontsize="small", y=1.0)
        self.axes.title.set_fontsize("medium")


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
        left.set_xlabel("late by (s)")
        left.set_ylabel("dropped ticks")
        self.heading = set_heading(
            left, "How late the dropped ticks were", [LATE_BY_DEFINITION], y=1.0
        )
        left.xaxis.set_label_coords(0.5, -0.13)
        left.yaxis.set_label_coords(-0.2, 0.5)

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
