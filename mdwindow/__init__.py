"""mdwindow: event-time tumbling windows with watermarks for market tick data."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy
from mdwindow.hashing import hash_partition, partition_balance, partition_ids
from mdwindow.incremental import Windower
from mdwindow.plotting import (
    STATUS_COLORS,
    plot_lag_tradeoff,
    plot_late_drops,
    plot_partition_balance,
    plot_recommendation,
    plot_watermark,
)
from mdwindow.recommend import recommend
from mdwindow.report import write_report
from mdwindow.result import WindowResult
from mdwindow.sweep import sweep
from mdwindow.windows import tumbling_windows

try:
    __version__ = version("mdwindow")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "STATUS_COLORS",
    "TumblingWindowSpec",
    "WatermarkPolicy",
    "WindowResult",
    "Windower",
    "__version__",
    "hash_partition",
    "partition_balance",
    "partition_ids",
    "plot_lag_tradeoff",
    "plot_late_drops",
    "plot_partition_balance",
    "plot_recommendation",
    "plot_watermark",
    "recommend",
    "sweep",
    "tumbling_windows",
    "write_report",
]
