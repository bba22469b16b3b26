"""A recommendation's frontier: loss against emission latency over the whole grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mdwindow.plotting.style import (
    BOUNDARY_COLOR,
    EMITTED_COLOR,
    STATUS_COLORS,
    WATERMARK_COLOR,
    current_axes,
    duration_text,
    plain_text,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mdwindow.recommend import Recommendation

__all__ = ["plot_recommendation"]

#: The y axis of each objective: the grid column and its label.
LOSS_AXES = {
    "latency": ("drop_rate", "dropped rows (% of valid rows)"),
    "completeness": ("window_loss", "incomplete windows (% of windows)"),
}


def _percent_label(value: float, _position: object = None) -> str:
    return "0%" if value == 0 else f"{value:.3g}%"


@plain_text
def plot_recommendation(rec: Recommendation, ax: Axes | None = None) -> Axes:
    """The loss-latency frontier of a recommendation's grid, the pick and the target.

    Every grid point is drawn at its median emission latency (x, seconds)
    and its loss (y, percent: dropped rows, or incomplete windows for the
    objective ``"completeness"``), on a scale that is linear near 0 and
    logarithmic above, so that targets such as 0.1% stay visible. The
    Pareto frontier (:func:`mdwindow.recommend.pareto_frontier`) is
    highlighted, the recommended point marked, the target drawn as a line
    with the region above it shaded in the colour of dropped rows. Points
    that emitted no window before the end of input have no latency and are
    left out (the legend counts them).

    Parameters
    ----------
    rec : Recommendation
        What :func:`mdwindow.recommend` returned.
    ax : matplotlib.axes.Axes, optional
        Where to draw; the current axes by default.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> import pandas as pd
    >>> from mdwindow.recommend import recommend
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 3, 4, 2, 5, 7, 6], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> rec = recommend(ticks, "2s", max_drop_rate=0.1, lags=["0s", "1s", "2s"])
    >>> ax = plot_recommendation(rec, ax=Figure().add_subplot())
    >>> ax.get_ylabel()
    'dropped rows (% of valid rows)'
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    ax = current_axes(ax)
    column, ylabel = LOSS_AXES[rec.objective]
    grid = rec.grid
    latency = grid["latency_median"]
    drawn = grid[latency.notna().to_numpy()]
    seconds = drawn["latency_median"].dt.total_seconds().to_numpy()
    loss = drawn[column].to_numpy(np.float64) * 100
    target = rec.max_drop_rate * 100

    positive = loss[loss > 0]
    floor = min(target if target > 0 else np.inf, positive.min() if len(positive) else np.inf)
    linear_below = floor / 2 if np.isfinite(floor) else 0.01
    ax.set_yscale("symlog", linthresh=linear_below, linscale=0.5)

    hidden = len(grid) - len(drawn)
    label = f"grid points ({len(grid)})"
    if hidden:
        label = f"grid points ({len(drawn)} shown; {hidden} closed no window)"
    ax.scatter(
        seconds, loss, s=22, facecolor=BOUNDARY_COLOR, edgecolor="0.45", linewidth=0.6,
        zorder=2, gid="grid", label=label,
    )  # fmt: skip
    frontier = drawn["frontier"].to_numpy(bool)
    order = np.argsort(seconds[frontier], kind="stable")
    ax.plot(
        seconds[frontier][order], loss[frontier][order], color=EMITTED_COLOR, marker="o",
        markersize=5, linewidth=1.6, drawstyle="steps-post", zorder=3, gid="frontier",
        label="Pareto frontier",
    )  # fmt: skip
    dropped = STATUS_COLORS["dropped"]
    ax.axhline(target, color=dropped, linestyle="--", linewidth=1.2, zorder=1, gid="target")
    top = min(max(loss.max() if len(loss) else target, target) * 3, 150.0) or 1.0
    ax.axhspan(target, top, color=dropped, alpha=0.07, zorder=0, linewidth=0)
    # A little room below 0, so that points dropping nothing are drawn whole.
    ax.set_ylim(-linear_below * 0.6, top)

    handles, _ = ax.get_legend_handles_labels()
    handles.append(
        Line2D([], [], color=dropped, linestyle="--", label=f"target {_percent_label(target)}")
    )
    picked = grid[grid["recommended"].to_numpy(bool) & latency.notna().to_numpy()]
    if len(picked):
        x = float(picked["latency_median"].dt.total_seconds().iloc[0])
        y = float(picked[column].iloc[0]) * 100
        ax.scatter(
            [x], [y], marker="*", s=260, color=WATERMARK_COLOR, edgecolor="white",
            linewidth=0.8, zorder=4, gid="recommended",
        )  # fmt: skip
        # Below and left of a frontier point no grid point lies: the label goes
        # there, unless the point is near the left edge (then right) or the
        # bottom (then above).
        span = (seconds.min(), seconds.max()) if len(seconds) else (x, x)
        right = x - span[0] < 0.25 * (span[1] - span[0])
        above = right or y <= linear_below
        ax.annotate(
            f"lag {duration_text(rec.lag)}\nlateness {duration_text(rec.allowed_lateness)}",
            (x, y), xytext=(12 if right else -12, 12 if above else -12),
            textcoords="offset points", ha="left" if right else "right",
            va="bottom" if above else "top", fontsize="small", zorder=5,
            gid="recommended_label",
            bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "0.7"},
        )  # fmt: skip
        handles.append(
            Line2D([], [], color=WATERMARK_COLOR, marker="*", markersize=12, linestyle="none",
                   label="recommended")
        )  # fmt: skip

    ax.yaxis.set_major_formatter(FuncFormatter(_percent_label))
    clock = rec.latency_clock.replace("_", "-")
    ax.set_xlabel(f"median emission latency (s after window end, {clock} clock)")
    ax.set_ylabel(ylabel)
    ax.set_title(
        f"Recommended: lag {duration_text(rec.lag)}, lateness "
        f"{duration_text(rec.allowed_lateness)}\n{rec.parameters}",
        fontsize="medium",
    )
    ax.legend(handles=handles, fontsize="small", loc="upper right", framealpha=0.9)
    ax.grid(True, which="major", color=BOUNDARY_COLOR, linewidth=0.6, zorder=0)
    return ax
