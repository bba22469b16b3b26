"""Plots of watermarks, late drops, partition balance and the lag trade-off.

Every function takes ``ax=None``, draws on the current axes when none is
given and returns the ``Axes`` it drew on. Statuses have one colour
everywhere, :data:`STATUS_COLORS`. Times are drawn as UTC datetimes.

One module per plot family:

- :mod:`~mdwindow.plotting.watermark`: :func:`plot_watermark`, one key's panel;
- :mod:`~mdwindow.plotting.watermark_panels`: :func:`plot_watermark_panels`, a panel
  per key (both draw the panel of :mod:`~mdwindow.plotting.watermark_view`, as the
  tuner does);
- :mod:`~mdwindow.plotting.drops`: :func:`plot_late_drops`;
- :mod:`~mdwindow.plotting.balance`: :func:`plot_partition_balance`;
- :mod:`~mdwindow.plotting.tradeoff`: :func:`plot_lag_tradeoff`;
- :mod:`~mdwindow.plotting.recommendation`: :func:`plot_recommendation`;
- :mod:`~mdwindow.plotting.accessor`: ``result.plot``;
- :mod:`~mdwindow.plotting.tuner_figure`: the watermark tuner's figure
  (with :mod:`~mdwindow.plotting.raster`, its fast Agg rendering and PNG);

and what they share: :mod:`~mdwindow.plotting.style` (colours, markers,
durations as text), :mod:`~mdwindow.plotting.timeaxis` (event time on an
axis, readable dates, window boundaries, bins over time),
:mod:`~mdwindow.plotting.captions` (the run's parameters and the heading
under each title: every figure states how it was made) and
:mod:`~mdwindow.plotting.rows` (a result's rows in arrival order).
"""

from __future__ import annotations

from mdwindow.plotting.accessor import WindowResultPlot
from mdwindow.plotting.balance import plot_partition_balance
from mdwindow.plotting.drops import plot_late_drops
from mdwindow.plotting.recommendation import plot_recommendation
from mdwindow.plotting.style import (
    BOUNDARY_COLOR,
    EMITTED_COLOR,
    MAX_EVENT_TIME_COLOR,
    PARTITION_COLOR,
    STATUS_COLORS,
    STATUS_LABELS,
    WATERMARK_COLOR,
    duration_text,
)
from mdwindow.plotting.tradeoff import plot_lag_tradeoff
from mdwindow.plotting.watermark import plot_watermark
from mdwindow.plotting.watermark_panels import plot_watermark_panels

__all__ = [
    "BOUNDARY_COLOR",
    "EMITTED_COLOR",
    "MAX_EVENT_TIME_COLOR",
    "PARTITION_COLOR",
    "STATUS_COLORS",
    "STATUS_LABELS",
    "WATERMARK_COLOR",
    "WindowResultPlot",
    "duration_text",
    "plot_lag_tradeoff",
    "plot_late_drops",
    "plot_partition_balance",
    "plot_recommendation",
    "plot_watermark",
    "plot_watermark_panels",
]
