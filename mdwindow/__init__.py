"""mdwindow: event-time tumbling windows with watermarks for market tick data."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from mdwindow.hashing import hash_partition, partition_balance, partition_ids
from mdwindow.incremental import Windower
from mdwindow.result import WindowResult
from mdwindow.specs import TumblingWindowSpec, WatermarkPolicy
from mdwindow.windows import tumbling_windows

try:
    __version__ = version("mdwindow")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "TumblingWindowSpec",
    "WatermarkPolicy",
    "WindowResult",
    "Windower",
    "__version__",
    "hash_partition",
    "partition_balance",
    "partition_ids",
    "tumbling_windows",
]
