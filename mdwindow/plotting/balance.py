"""Rows per hash partition."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from mdwindow.hashing import DEFAULT_PARTITIONS, partition_balance
from mdwindow.plotting.style import PARTITION_COLOR, current_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_partition_balance"]


def plot_partition_balance(
    ticks: pd.DataFrame,
    *,
    key: str = "symbol",
    partitions: int = DEFAULT_PARTITIONS,
    hash: str = "murmur3",
    seed: int = 0,
    ax: Axes | None = None,
) -> Axes:
    """Rows per hash partition, with the mean and the max/mean ratio.

    Parameters
    ----------
    ticks : pandas.DataFrame
        The rows to count.
    key : str, default "symbol"
        Key column.
    partitions : int, default 8
        Number of partitions.
    hash, seed
        Partitioner, as in :func:`mdwindow.partition_balance`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; the current axes by default.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> import pandas as pd
    >>> ticks = pd.DataFrame({"symbol": ["AAPL", "MSFT", "NVDA", "AAPL"]})
    >>> ax = plot_partition_balance(ticks, partitions=2, ax=Figure().add_subplot())
    >>> [float(bar.get_height()) for bar in ax.patches]
    [1.0, 3.0]
    """
    balance = partition_balance(ticks, key, partitions, hash=hash, seed=seed)
    ax = current_axes(ax)
    bars = ax.bar(
        balance["partition"].to_numpy(),
        balance["rows"].to_numpy(),
        color=PARTITION_COLOR,
        label="rows",
    )
    if len(balance) <= 16:
        ax.bar_label(bars, labels=[f"{k} keys" for k in balance["keys"]], fontsize="small")
    mean = float(balance["rows"].mean())
    ax.axhline(mean, color="black", linestyle="--", linewidth=1, label=f"mean {mean:,.0f}")
    ratio = balance.attrs["max_mean_ratio"]
    ax.set_title(f"Rows per partition ({hash}, P={partitions}): max/mean = {ratio:.2f}")
    ax.set_xlabel("partition")
    ax.set_ylabel("rows")
    ax.set_xticks(balance["partition"].to_numpy())
    ax.legend(loc="upper right", fontsize="small")
    return ax
