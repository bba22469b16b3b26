"""One panel of the watermark view: its look, what it shows, and the artists that show it.

:func:`~mdwindow.plotting.plot_watermark`, the per-key panels of
:func:`~mdwindow.plotting.plot_watermark_panels` and the tuner's figure draw
the same panel through :class:`WatermarkArtists`: the artists are made once
on an axes and :meth:`WatermarkArtists.show` gives them a
:class:`PanelData`. The plots fill it from a result (and its ticks), the
tuner from its judged rows on every update; what is on screen is the same
either way.

A panel shows event time against arrival (row position or arrival time):

- each tick as a marker of its status colour; on-time ticks that arrived
  out of order (below the largest event time seen before them, the dashed
  line) as open rings, the in-order ones as dots; dropped ticks as large
  crosses on top. On-time ticks are thinned to at most ``max_points``
  (one in ``k`` of the in-order and of the out-of-order ones alike, said in
  the counts); late, dropped and rejected ticks never;
- the watermark after each row (solid step line) and the largest event
  time seen (dashed): the gap between them is the lag;
- a marker at (emitting row, window end) for each emitted window, and the
  window boundaries, when few enough are in view to read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mdwindow.core.rules import DROPPED, LATE, NEG_INF, ON_TIME, REJECTED
from mdwindow.plotting.captions import SEPARATOR
from mdwindow.plotting.style import (
    BOUNDARY_COLOR,
    EMITTED_COLOR,
    MAX_EVENT_TIME_COLOR,
    OUT_OF_ORDER_LABEL,
    OUT_OF_ORDER_MARKER,
    STATUS_COLORS,
    STATUS_LABELS,
    STATUS_MARKERS,
    WATERMARK_COLOR,
    thinning,
)
from mdwindow.plotting.timeaxis import date_axis, date_numbers, step_points

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "EMITTED_LABEL",
    "KINDS",
    "MAX_BOUNDARIES",
    "MAX_EMISSIONS",
    "PanelData",
    "TickKind",
    "WatermarkArtists",
    "counts_text",
    "panel_data",
]

MAX_BOUNDARIES = 40
#: Emission markers are drawn only when at most this many are in view: more merge into
#: one band along the ticks (the counts still say how many there were).
MAX_EMISSIONS = 60
EMITTED_LABEL = "window emitted\n(row, window end)"
#: More dropped ticks than this are drawn smaller and without edges.
CROWDED = 2_000


@dataclass(frozen=True)
class TickKind:
    """How one kind of tick is drawn: a status, or on time and out of order."""

    gid: str
    label: str
    color: str
    marker: str
    size: float
    ring: bool = False
    zorder: int = 3


def _kind(name: str, label: str | None = None) -> TickKind:
    marker, size = STATUS_MARKERS[name]
    return TickKind(
        f"status:{name}", label or STATUS_LABELS[name], STATUS_COLORS[name], marker, size,
        zorder=5 if name == "dropped" else 3,
    )  # fmt: skip


#: Kinds of ticks in drawing order (dropped last, on top), with their status code.
KINDS: tuple[tuple[int, TickKind], ...] = (
    (ON_TIME, _kind("on_time", "on time, in order")),
    (
        ON_TIME,
        TickKind(
            "out_of_order",
            OUT_OF_ORDER_LABEL,
            STATUS_COLORS["on_time"],
            *OUT_OF_ORDER_MARKER,
            ring=True,
        ),  # fmt: skip
    ),
    (REJECTED, _kind("rejected")),
    (LATE, _kind("late")),
    (DROPPED, _kind("dropped")),
)


@dataclass
class PanelData:
    """What one panel shows, in plot units: x as given (row positions or date numbers),
    y in matplotlib date numbers."""

    points: dict[str, np.ndarray]  # kind gid -> (k, 2) offsets, thinned
    totals: dict[str, int]  # kind gid -> ticks in view, before thinning
    steps: dict[str, int]  # kind gid -> one in this many shown
    watermark: tuple[np.ndarray, np.ndarray]
    max_time: tuple[np.ndarray, np.ndarray] | None
    emitted: np.ndarray  # (k, 2) offsets; none when there are too many
    emitted_total: int
    boundaries: np.ndarray  # date numbers
    x_range: tuple[float, float]
    y_values: list[np.ndarray] = field(default_factory=list)

    def present(self) -> set[str]:
        """The gids of the artists that have something to show (for a legend)."""
        shown = {gid for gid, total in self.totals.items() if total}
        shown.add("watermark")
        if self.max_time is not None:
            shown.add("max_event_time")
        if len(self.emitted):
            shown.add("emitted")
        if len(self.boundaries):
            shown.add("window_boundary")
        return shown

    def y_range(self) -> tuple[float, float] | None:
        """Lowest and highest y of everything drawn, or None when nothing is."""
        parts = [v for v in self.y_values if len(v)]
        if not parts:
            return None
        values = np.concatenate(parts)
        return float(values.min()), float(values.max())


def panel_data(
    *,
    x: np.ndarray,
    t: np.ndarray,
    status: np.ndarray,
    out_of_order: np.ndarray,
    shown: np.ndarray,
    line_x: np.ndarray,
    watermark: np.ndarray,
    max_time: np.ndarray | None,
    emit_x: np.ndarray,
    emit_end: np.ndarray,
    boundaries: np.ndarray,
    max_points: int,
) -> PanelData:
    """The panel of the rows in view.

    ``x``, ``t`` (ns), ``status``, ``out_of_order`` and ``shown`` (drawn:
    the key's rows with a known event time) are per row in view;
    ``line_x``, ``watermark`` and ``max_time`` (ns, after each row) per row
    of the watermark's line in view (watermark NEG_INF where there is
    none); ``emit_x`` and ``emit_end`` (ns) per emission in view;
    ``boundaries`` the window edges (ns).
    """
    points: dict[str, np.ndarray] = {}
    totals: dict[str, int] = {}
    steps: dict[str, int] = {}
    y_values: list[np.ndarray] = []
    on_time = shown & (status == ON_TIME)
    # One step for in-order and out-of-order dots: what is drawn keeps their proportion.
    on_time_step = thinning(int(np.count_nonzero(on_time)), max_points)
    for code, kind in KINDS:
        mine = shown & (status == code)
        if code == ON_TIME:
            mine &= out_of_order if kind.ring else ~out_of_order
        picked = np.flatnonzero(mine)
        totals[kind.gid] = len(picked)
        step = on_time_step if code == ON_TIME else 1
        steps[kind.gid] = step
        picked = picked[::step]
        y = date_numbers(t[picked])
        points[kind.gid] = np.column_stack([x[picked], y])
        y_values.append(y)
    end_x = x[-1] if len(x) else None
    has_w = watermark != NEG_INF
    wx, wy = step_points(line_x[has_w], watermark[has_w], end_x)
    lines_y = date_numbers(wy)
    y_values.append(lines_y)
    max_line = None
    if max_time is not None:
        mx, my = step_points(line_x, max_time, end_x)
        max_line = (mx, date_numbers(my))
        y_values.append(max_line[1])
    order = np.lexsort((emit_end, emit_x)) if len(emit_x) <= MAX_EMISSIONS else []
    emitted = np.column_stack([emit_x[order], date_numbers(emit_end[order])])
    y_values.append(emitted[:, 1])
    edges = date_numbers(boundaries)
    y_values.append(edges)
    x_range = (float(x[0]), float(x[-1])) if len(x) else (0.0, 1.0)
    return PanelData(
        points, totals, steps, (wx, lines_y), max_line, emitted, len(emit_x), edges, x_range,
        y_values,
    )  # fmt: skip


def counts_text(data: PanelData) -> str:
    """The counts of a panel in one line: ticks by status, out of order, emissions.

    Examples
    --------
    >>> data = panel_data(
    ...     x=np.arange(3.0), t=np.array([0, 2, 1]) * 10**9, status=np.zeros(3, np.int8),
    ...     out_of_order=np.array([False, False, True]), shown=np.ones(3, bool),
    ...     line_x=np.arange(3.0), watermark=np.zeros(3, np.int64), max_time=None,
    ...     emit_x=np.zeros(0), emit_end=np.zeros(0, np.int64),
    ...     boundaries=np.zeros(0, np.int64), max_points=100)
    >>> counts_text(data)
    '3 on time (1 out of order) · 0 windows emitted'
    """
    totals, step = data.totals, data.steps["status:on_time"]
    in_order, disorder = totals["status:on_time"], totals["out_of_order"]
    on_time = f"{in_order + disorder:,} on time ({disorder:,} out of order"
    parts = [on_time + (f"; 1 in {step} drawn)" if step > 1 else ")")]
    for gid, word in (("status:late", "late"), ("status:dropped", "dropped")):
        if totals[gid]:
            parts.append(f"{totals[gid]:,} {word}")
    if totals["status:rejected"]:
        parts.append(f"{totals['status:rejected']:,} rejected")
    emitted = f"{data.emitted_total:,} windows emitted"
    if data.emitted_total and not len(data.emitted):
        emitted += " (too many to mark)"
    parts.append(emitted)
    return SEPARATOR.join(parts)


class WatermarkArtists:
    """The artists of one watermark panel on ``ax``, made once; :meth:`show` fills them.

    ``x_is_time`` puts clock times on the x axis (arrival time) instead of row positions.
    """

    def __init__(self, ax: Axes, *, x_is_time: bool = False) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator, StrMethodFormatter

        self.axes = ax
        self.x_is_time = x_is_time
        self.scatters = {}
        for _, kind in KINDS:
            # An edge of width 0 rather than none for dots: one colour for faces and edges
            # lets Agg stamp one rendered marker (draw_markers), many times faster.
            dropped = kind.gid == "status:dropped"
            self.scatters[kind.gid] = ax.scatter(
                np.empty(0), np.empty(0), s=kind.size, marker=kind.marker,
                facecolors="none" if kind.ring else kind.color,
                edgecolors="black" if dropped else kind.color,
                linewidths=0.9 if kind.ring else (0.5 if dropped else 0.0),
                zorder=kind.zorder, label=kind.label, gid=kind.gid,
            )  # fmt: skip
        (self.watermark_line,) = ax.plot(
            [], [], drawstyle="steps-post", color=WATERMARK_COLOR, linewidth=1.4,
            label="watermark", gid="watermark", zorder=4,
        )  # fmt: skip
        (self.max_line,) = ax.plot(
            [], [], drawstyle="steps-post", color=MAX_EVENT_TIME_COLOR, linestyle="--",
            linewidth=1.0, label="max event time", gid="max_event_time", zorder=4,
        )  # fmt: skip
        self.emitted = ax.scatter(
            np.empty(0), np.empty(0), s=22, marker=">", color=EMITTED_COLOR, zorder=4,
            label=EMITTED_LABEL, gid="emitted",
        )  # fmt: skip
        # Window boundaries: one line across the axes (x in axes units), broken by NaNs.
        self.boundaries = Line2D(
            [], [], color=BOUNDARY_COLOR, linewidth=0.8, zorder=0,
            transform=ax.get_yaxis_transform(), label="window boundary",
            gid="window_boundary",
        )  # fmt: skip
        ax.add_line(self.boundaries)
        # A minute until data comes: the date locator has no interval for the default
        # limits of an empty axes.
        ax.yaxis_date()
        ax.set_ylim(0, 1 / 1_440)
        date_axis(ax.yaxis, "event time (UTC)", max_ticks=6)
        if x_is_time:
            ax.xaxis_date()
            ax.set_xlim(0, 1 / 1_440)
            date_axis(ax.xaxis, "arrival time (UTC)")
        else:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
            ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
            ax.set_xlabel("arrival position (row)")

    def handles(self, present: set[str] | None = None) -> list[Any]:
        """The legend's artists in order: all, or those whose gid is in ``present``."""
        artists = [
            *self.scatters.values(), self.watermark_line, self.max_line, self.emitted,
            self.boundaries,
        ]  # fmt: skip
        return [a for a in artists if present is None or a.get_gid() in present]

    def legend(self, present: set[str] | None = None, **options: Any) -> Any:
        """A legend outside the axes at the right, of the artists in ``present`` (all
        by default; see :meth:`PanelData.present`); ``options`` update its settings."""
        settings = {
            "loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "fontsize": "small",
            "markerscale": 1.5, "frameon": False, "borderaxespad": 0.0,
        }  # fmt: skip
        settings.update(options)
        handles = self.handles(present)
        return self.axes.legend(
            handles=handles, labels=[h.get_label() for h in handles], **settings
        )

    def show(self, data: PanelData) -> None:
        """Give every artist its data, and set the axes' limits to what is drawn."""
        for gid, scatter in self.scatters.items():
            scatter.set_offsets(data.points[gid])
        dropped = self.scatters["status:dropped"]
        crowded = len(data.points["status:dropped"]) > CROWDED
        area = STATUS_MARKERS["dropped"][1]
        dropped.set_sizes([area / 3 if crowded else area])
        dropped.set_edgecolors(STATUS_COLORS["dropped"] if crowded else "black")
        dropped.set_linewidths(0.0 if crowded else 0.5)
        self.watermark_line.set_data(*data.watermark)
        self.max_line.set_visible(data.max_time is not None)
        if data.max_time is not None:
            self.max_line.set_data(*data.max_time)
        self.emitted.set_offsets(data.emitted)
        edges = data.boundaries
        self.boundaries.set_data(np.tile([0.0, 1.0, np.nan], len(edges)), np.repeat(edges, 3))
        lo, hi = data.x_range
        # At least half a row, or a millisecond of arrival time, either side.
        pad = max(0.02 * (hi - lo), 1 / 86_400_000 if self.x_is_time else 0.5)
        self.axes.set_xlim(lo - pad, hi + pad)
        y_range = data.y_range()
        if y_range is not None:
            lo_y, hi_y = y_range
            margin = 0.05 * (hi_y - lo_y) or 1 / 86_400
            self.axes.set_ylim(lo_y - margin, hi_y + margin)
