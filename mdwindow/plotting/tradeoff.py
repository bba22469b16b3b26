"""The lag trade-off of a sweep: drop rate against emission latency."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mdwindow.plotting.captions import SEPARATOR, set_heading
from mdwindow.plotting.inputs import pandas_ticks
from mdwindow.plotting.style import current_axes, duration_text, plain_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_lag_tradeoff"]


@plain_text
def plot_lag_tradeoff(
    sweep: pd.DataFrame, *, latency: str = "median", ax: Axes | None = None
) -> Axes:
    """Drop rate and emission latency against lag, one pair of curves per lateness.

    Drop rates (percent, solid lines, circles) are on ``ax``; latencies
    (seconds, dashed lines, squares) on a twin axis at the right, which is
    ``ax.right_ax`` (as in pandas' ``secondary_y``). Each allowed lateness
    has one colour for both of its curves. The line under the title states
    what the sweep held fixed (window size, scope) and the latency's clock,
    from ``sweep.attrs``.

    Parameters
    ----------
    sweep : DataFrame
        The output of :func:`mdwindow.sweep.sweep` (pandas, polars or Arrow).
    latency : {"median", "p99"}, default "median"
        Which latency column to draw.
    ax : matplotlib.axes.Axes, optional
        Where to draw; the current axes by default.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> import pandas as pd
    >>> from mdwindow.sweep import sweep
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> grid = sweep(ticks, "2s", lags=["0s", "1s", "2s"], lateness=["0s", "1s"])
    >>> ax = plot_lag_tradeoff(grid, ax=Figure().add_subplot())
    >>> ax.lines[0].get_ydata().round(1).tolist()
    [42.9, 14.3, 14.3]
    """
    if latency not in ("median", "p99"):
        raise ValueError(f"latency: got {latency!r}; choose 'median' or 'p99'")
    # A polars or Arrow sweep (an Arrow table keeps the attrs; polars cannot).
    sweep = pandas_ticks(sweep, name="sweep")
    column = f"latency_{latency}"
    missing = [c for c in ("lag", "lateness", "drop_rate", column) if c not in sweep.columns]
    if missing:
        raise KeyError(
            f"sweep: columns {missing} are missing; pass the frame that sweep() returns"
        )
    import matplotlib as mpl
    from matplotlib.lines import Line2D

    ax = current_axes(ax)
    right = ax.twinx()
    ax.right_ax = right
    latenesses = sorted(pd.Timedelta(v) for v in sweep["lateness"].unique())
    colors = mpl.colormaps["viridis"](np.linspace(0.0, 0.85, max(len(latenesses), 1)))
    legend = []
    for color, lateness in zip(colors, latenesses, strict=False):
        part = sweep[sweep["lateness"] == lateness].sort_values("lag")
        lag_seconds = part["lag"].dt.total_seconds().to_numpy()
        name = duration_text(lateness)
        ax.plot(
            lag_seconds,
            part["drop_rate"].to_numpy() * 100,
            marker="o",
            color=color,
            gid=f"drop_rate:{name}",
        )
        (curve,) = right.plot(
            lag_seconds,
            part[column].dt.total_seconds().to_numpy(),
            marker="s",
            linestyle="--",
            color=color,
            gid=f"latency:{name}",
        )
        # The legend's "best" place looks at its own axes only: an invisible copy of each
        # latency curve, in the twin's coordinates, keeps it off those curves too.
        ax.add_artist(
            Line2D(
                curve.get_xdata(), curve.get_ydata(), transform=right.transData,
                visible=False, gid=f"legend_avoids:{name}",
            )
        )  # fmt: skip
        legend.append(Line2D([], [], color=color, linewidth=6, label=f"lateness {name}"))
    legend += [
        Line2D([], [], color="0.3", marker="o", label="drop rate (left)"),
        Line2D(
            [], [], color="0.3", marker="s", linestyle="--", label=f"{latency} latency (right)"
        ),
    ]
    clock = sweep.attrs.get("latency_clock", "event_time").replace("_", " ")
    ax.set_xlabel("lag (s)")
    ax.set_ylabel("drop rate (%)")
    right.set_ylabel(f"{latency} emission latency (s, {clock} clock)")
    ax.legend(handles=legend, fontsize="small", loc="best", framealpha=0.9)
    set_heading(ax, "Lag trade-off: dropped ticks against emission latency", [_fixed(sweep)])
    return ax


def _fixed(sweep: pd.DataFrame) -> str:
    """What the sweep held fixed, from its ``attrs``."""
    attrs = sweep.attrs
    parts = []
    if "window" in attrs and not pd.isna(attrs["window"]):
        parts.append(f"window {duration_text(attrs['window'])}")
    if "scope" in attrs:
        parts.append(f"scope {attrs['scope']}")
    clock = attrs.get("latency_clock", "event_time").replace("_", "-")
    parts.append(f"latency: window end to emission on the {clock} clock")
    return SEPARATOR.join(parts)
