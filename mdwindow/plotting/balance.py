"""Rows per hash partition."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mdwindow.hashing import DEFAULT_PARTITIONS, partition_balance
from mdwindow.interchange import FrameLike
from mdwindow.plotting.captions import SEPARATOR, set_heading
from mdwindow.plotting.style import PARTITION_COLOR, current_axes, plain_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_partition_balance"]


@plain_text
def plot_partition_balance(
    ticks: FrameLike,
    *,
    key: str = "symbol",
    partitions: int = DEFAULT_PARTITIONS,
    hash: str = "murmur3",
    seed: int = 0,
    ax: Axes | None = None,
) -> Axes:
    """Rows per hash partition, with the mean and the max/mean ratio.

    Each bar is labelled with its number of keys when there are at most 16
    partitions; the line under the title states the key column, the hash,
    its seed and the number of rows.

    Parameters
    ----------
    ticks : pandas, polars or Arrow frame
        The rows to count (any kind :func:`mdwindow.partition_balance` takes).
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
    >>> [text.get_text() for text in ax.texts if text.get_gid() != "heading"]
    ['1 key', '2 keys']
    """
    # pandas whatever the input: the ratio is in the frame's attrs, which polars lacks.
    balance = partition_balance(ticks, key, partitions, hash=hash, seed=seed, output="pandas")
    ax = current_axes(ax)
    bars = ax.bar(
        balance["partition"].to_numpy(),
        balance["rows"].to_numpy(),
        color=PARTITION_COLOR,
        label="rows",
    )
    if len(balance) <= 16:
        labels = [f"{k:,} key" + ("" if k == 1 else "s") for k in balance["keys"]]
        ax.bar_label(bars, labels=labels, fontsize="small")
    mean = float(balance["rows"].mean())
    ax.axhline(mean, color="black", linestyle="--", linewidth=1, label=f"mean {mean:,.0f}")
    ratio = balance.attrs["max_mean_ratio"]
    top = float(balance["rows"].max()) if len(balance) else 0.0
    ax.set_ylim(0, max(top, 1.0) * 1.1)  # room for the labels above the bars
    ax.set_xlabel("partition")
    ax.set_ylabel("rows")
    ax.set_xticks(balance["partition"].to_numpy())
    ax.yaxis.set_major_formatter("{x:,.0f}")
    # Outside the bars, so that it never covers a bar or its label.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    seeded = f"{hash} (seed {seed})" if hash == "murmur3" else hash
    set_heading(
        ax,
        f"Rows per partition: max/mean = {ratio:.2f}",
        [SEPARATOR.join([f"key {key}", f"{partitions} partitions", seeded,
                         f"{int(balance['rows'].sum()):,} rows"])],
    )  # fmt: skip
    return ax
