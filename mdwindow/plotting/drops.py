"""Dropped ticks: the drop rate per key, drops over time, and how late they were."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mdwindow.plotting.captions import options_of, parameters_text, set_heading
from mdwindow.plotting.inputs import pandas_result
from mdwindow.plotting.rows import key_column_of, rows_per_key, window_grid_of
from mdwindow.plotting.style import (
    STATUS_COLORS,
    STATUS_LABELS,
    current_axes,
    duration_text,
    plain_text,
)
from mdwindow.plotting.timeaxis import as_datetimes, date_axis, day_text, nanos, nice_bin

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mdwindow.result import WindowResult

__all__ = ["plot_late_drops"]

LATE_BY_DEFINITION = "late by = watermark - (window end + allowed lateness)"


@plain_text
def plot_late_drops(
    result: WindowResult,
    *,
    by: str = "key",
    measure: str = "rate",
    top: int = 20,
    bins: int = 30,
    max_bins: int = 60,
    key_column: str | None = None,
    options: Any = None,
    ax: Axes | None = None,
) -> Axes:
    """The drop rate per key, the dropped ticks over time, or how late they were.

    Parameters
    ----------
    result : WindowResult
        The run whose ``late`` frame (dropped rows) to show; its frames may be
        pandas, polars or Arrow.
    by : {"key", "window", "late_by"}, default "key"
        ``"key"``: a horizontal bar per key, highest first (at most
        ``top``), each labelled with its counts; ``"window"``: a histogram
        of the dropped ticks by the start of their window, in bins of a
        round duration that is a whole number of windows (at most
        ``max_bins`` bins over the run's span); ``"late_by"``: a histogram
        of ``late_by`` (how far the watermark had passed ``window_end +
        allowed_lateness``), in seconds.
    measure : {"rate", "count"}, default "rate"
        With ``by="key"``: each key's dropped ticks as a share of its valid
        ticks (where the lag is too small for that key, whatever its
        volume), or as a count (where most ticks are lost).
    top : int, default 20
        Keys shown with ``by="key"``.
    bins : int, default 30
        Histogram bins with ``by="late_by"``.
    max_bins : int, default 60
        At most this many bins with ``by="window"``.
    key_column : str, optional
        Key column; by default the one the result was computed with.
    options : WindowOptions or dict, optional
        The options of the run, stated under the title (as in
        :func:`plot_watermark`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; the current axes by default.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> import pandas as pd
    >>> from mdwindow import tumbling_windows
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> ax = plot_late_drops(tumbling_windows(ticks, "2s"), ax=Figure().add_subplot())
    >>> [round(float(bar.get_width()), 1) for bar in ax.patches]  # 3 of 7 ticks dropped
    [42.9]
    >>> [text.get_text() for text in ax.texts if text.get_gid() != "heading"]
    ['3 of 7']
    """
    if by not in ("key", "window", "late_by"):
        raise ValueError(f"by: got {by!r}; choose 'key', 'window' or 'late_by'")
    if measure not in ("rate", "count"):
        raise ValueError(f"measure: got {measure!r}; choose 'rate' or 'count'")
    result = pandas_result(result)
    if key_column is None:
        key_column = key_column_of(result)
    if by == "key" and key_column is None:
        raise ValueError(
            "by='key': the result has no key column (it was computed with key=None); "
            "use by='window' or by='late_by'"
        )
    cfg = options_of(result, options)
    ax = current_axes(ax)
    late = result.late
    lines = [parameters_text(cfg, result)]
    if by == "key":
        title = _per_key(ax, result, key_column, measure, top)
    elif by == "window":
        title, bins = _over_time(ax, result, max_bins)
        lines.append(bins)
    else:
        ax.set_xlabel("late by (s)")
        ax.set_ylabel("dropped ticks")
        if len(late):
            seconds = late["late_by"].dt.total_seconds().to_numpy()
            ax.hist(seconds, bins=bins, color=STATUS_COLORS["dropped"], gid="late_by")
        title = "How late the dropped ticks were"
        lines.append(LATE_BY_DEFINITION)
    if len(late) == 0:
        ax.text(0.5, 0.5, "no dropped ticks", transform=ax.transAxes, ha="center", va="center")
    set_heading(ax, title, lines)
    return ax


def _per_key(ax: Axes, result: WindowResult, key_column: str, measure: str, top: int) -> str:
    """Horizontal bars of each key's drop rate (or count), highest on top; the title."""
    table = rows_per_key(result, key_column)
    table = table[table["valid"] > 0]
    ax.set_ylabel(key_column)
    if table["dropped"].sum() == 0:
        ax.set_xlabel(f"dropped ticks (% of the {key_column}'s valid ticks)")
        ax.set_yticks([])
        return f"Drop rate per {key_column}"
    table["rate"] = table["dropped"] / table["valid"]
    order = ["rate", "dropped"] if measure == "rate" else ["dropped", "rate"]
    table = table.sort_values(order, ascending=False, kind="stable")
    shown = table.head(top)
    positions = np.arange(len(shown))
    if measure == "rate":
        values = shown["rate"].to_numpy() * 100
        labels = [f"{d:,} of {v:,}" for d, v in zip(shown["dropped"], shown["valid"], strict=True)]
        ax.set_xlabel(f"dropped ticks (% of the {key_column}'s valid ticks)")
        title = f"Drop rate per {key_column}"
    else:
        values = shown["dropped"].to_numpy()
        labels = [f"{d:,} ({r:.2%})" for d, r in zip(shown["dropped"], shown["rate"], strict=True)]
        ax.set_xlabel("dropped ticks")
        title = f"Dropped ticks per {key_column}"
    bars = ax.barh(
        positions, values, color=STATUS_COLORS["dropped"], label=STATUS_LABELS["dropped"],
        gid=f"drops_per_key:{measure}",
    )  # fmt: skip
    ax.bar_label(bars, labels=labels, padding=3, fontsize="x-small", color="0.25")
    ax.set_yticks(positions, [str(k) for k in shown.index])
    ax.set_ylim(len(shown) - 0.5, -0.5)  # highest on top
    # Room at the right for the counts beside the longest bar.
    ax.set_xlim(0, float(values.max()) * 1.32)
    if len(table) > len(shown):
        title += f" (top {len(shown)} of {len(table)})"
    return title


def _over_time(ax: Axes, result: WindowResult, max_bins: int) -> tuple[str, str]:
    """A histogram of the dropped ticks by window start, over the run's span; the title
    and what the bins are."""
    late = result.late
    grid = window_grid_of(result)
    date_axis(ax.xaxis, "window start (UTC)")
    ax.set_ylabel("dropped ticks")
    if grid is None:
        return "Dropped ticks over time", ""
    size, offset = grid.size_ns, grid.offset_ns
    starts = [
        nanos(frame, "window_start")
        for frame in (result.windows, result.pending, late)
        if len(frame)
    ]
    every = np.concatenate(starts)
    first, last = int(every.min()), int(every.max()) + size
    width = nice_bin(last - first, size, max_bins)
    # Bins of whole windows; at round times (multiples of the width) when the window
    # grid has no offset.
    lo = first - first % width if offset % size == 0 else first
    count = -(-(last - lo) // width)
    edges = lo + width * np.arange(count + 1, dtype=np.int64)
    drops = np.zeros(count, np.int64)
    if len(late):
        slot = (nanos(late, "window_start") - lo) // width
        drops = np.bincount(slot, minlength=count)
    ax.stairs(
        drops, as_datetimes(edges), fill=True, color=STATUS_COLORS["dropped"],
        label=STATUS_LABELS["dropped"], gid="drops_per_window",
    )  # fmt: skip
    ax.set_xlim(as_datetimes(edges[[0, -1]]))
    ax.set_ylim(0, max(int(drops.max()), 1) * 1.08)
    windows = width // size
    bins = "by window start"
    if windows > 1:
        bins = f"bins of {windows} windows of {duration_text(pd.Timedelta(size))} " + bins
    return (
        f"Dropped ticks per {duration_text(pd.Timedelta(width))} of event time",
        f"{bins}, {day_text(first, last)}",
    )
