"""Dropped ticks: per key, per window, and how late they were."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mdwindow.plotting.rows import key_column_of
from mdwindow.plotting.style import STATUS_COLORS, STATUS_LABELS, current_axes, thinning
from mdwindow.plotting.timeaxis import as_datetimes, nanos

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mdwindow.result import WindowResult

__all__ = ["plot_late_drops"]


def plot_late_drops(
    result: WindowResult,
    *,
    by: str = "key",
    top: int = 20,
    bins: int = 30,
    max_bars: int = 2_000,
    key_column: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Dropped ticks per key, per window, or a histogram of how late they were.

    Parameters
    ----------
    result : WindowResult
        The run whose ``late`` frame (dropped rows) to show.
    by : {"key", "window", "late_by"}, default "key"
        ``"key"``: a bar per key, most drops first (at most ``top``);
        ``"window"``: drops per window start over all keys, one step per
        window (drawn as one filled ``stairs``); ``"late_by"``: a histogram
        of ``late_by`` (how far the watermark had passed
        ``window_end + allowed_lateness``), in seconds.
    top : int, default 20
        Keys shown with ``by="key"``.
    bins : int, default 30
        Histogram bins with ``by="late_by"``.
    max_bars : int, default 2000
        With ``by="window"``, neighbouring windows share a bar when the
        input spans more windows than this.
    key_column : str, optional
        Key column; by default the one the result was computed with.
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
    >>> ax = plot_late_drops(tumbling_windows(ticks, "2s"), by="key", ax=Figure().add_subplot())
    >>> [float(bar.get_height()) for bar in ax.patches]
    [3.0]
    """
    if by not in ("key", "window", "late_by"):
        raise ValueError(f"by: got {by!r}; choose 'key', 'window' or 'late_by'")
    if key_column is None:
        key_column = key_column_of(result)
    if by == "key" and key_column is None:
        raise ValueError(
            "by='key': the result has no key column (it was computed with key=None); "
            "use by='window' or by='late_by'"
        )
    ax = current_axes(ax)
    late = result.late
    color = STATUS_COLORS["dropped"]
    ax.set_ylabel("dropped ticks")
    if by == "key":
        ax.set_xlabel(key_column)
        counts = late[key_column].value_counts(sort=True) if len(late) else pd.Series([])
        shown = counts.head(top)
        positions = np.arange(len(shown))
        ax.bar(positions, shown.to_numpy(), color=color, label=STATUS_LABELS["dropped"])
        ax.set_xticks(positions, [str(k) for k in shown.index], rotation=45, ha="right")
        more = f" (top {len(shown)} of {len(counts)} keys)" if len(counts) > len(shown) else ""
        ax.set_title(f"Dropped ticks per {key_column}{more}")
    elif by == "window":
        ax.set_xlabel("window start (UTC)")
        title = "Dropped ticks per window"
        if len(late):
            # One stairs artist, not a bar per window: sessions have tens of thousands.
            starts = nanos(late, "window_start")
            size = int(nanos(late, "window_end")[0] - starts[0])
            first = int(starts.min())
            slot = (starts - first) // size
            per_bar = thinning(int(slot.max()) + 1, max_bars)
            counts = np.bincount(slot // per_bar)
            edges = first + size * per_bar * np.arange(len(counts) + 1, dtype=np.int64)
            ax.stairs(
                counts,
                as_datetimes(edges),
                fill=True,
                color=color,
                label=STATUS_LABELS["dropped"],
                gid="drops_per_window",
            )
            if per_bar > 1:
                title += f" (bars of {per_bar} windows)"
        ax.set_title(title)
    else:
        ax.set_xlabel("late by (s): watermark - (window end + allowed lateness)")
        if len(late):
            seconds = late["late_by"].dt.total_seconds().to_numpy()
            ax.hist(seconds, bins=bins, color=color, label=STATUS_LABELS["dropped"])
        ax.set_title("How late the dropped ticks were")
    if len(late) == 0:
        ax.text(0.5, 0.5, "no dropped ticks", transform=ax.transAxes, ha="center", va="center")
    return ax
