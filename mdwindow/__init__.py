"""mdwindow: event-time tumbling windows with watermarks for market tick data."""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mdwindow.core.specs import TumblingWindowSpec, WatermarkPolicy
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

#: Subpackages with optional dependencies, imported on first use as attributes
#: (``mdwindow.widgets`` needs ipywidgets, ``mdwindow.dask`` needs dask), so
#: that ``import mdwindow`` costs pandas users nothing.
_LAZY = ("widgets", "dask", "stream", "synth")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f"mdwindow.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'mdwindow' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
