"""What the plots read, as pandas: results and tick frames of any library, converted once.

The plots draw from pandas frames. A result whose frames are polars or
Arrow (its input was, or ``output=`` asked for it) is read through
:meth:`WindowResult.to`, which shares the engine's pandas frames instead of
converting them back; a polars or Arrow frame of ticks goes through
:func:`mdwindow.interchange.read_frame`, the columns a plot reads only,
numbers and timestamps without a copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from mdwindow.interchange import read_frame

if TYPE_CHECKING:
    from mdwindow.result import WindowResult

__all__ = ["pandas_result", "pandas_ticks"]


def pandas_result(result: WindowResult) -> WindowResult:
    """``result`` with pandas frames (itself when they are already).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mdwindow import tumbling_windows
    >>> times = pa.array([0, 10**9], pa.timestamp("ns", "UTC"))
    >>> table = pa.table({"ts": times, "symbol": ["A", "A"]})
    >>> type(pandas_result(tumbling_windows(table, "1s")).pending).__name__
    'DataFrame'
    """
    return result if result.output == "pandas" else result.to("pandas")


def pandas_ticks(
    ticks: Any, columns: Iterable[str | None] | None = None, name: str = "ticks"
) -> pd.DataFrame | None:
    """A frame of ticks of any kind as a pandas frame; None stays None.

    ``columns`` (None entries skipped) are those the plot reads: of a polars
    or Arrow frame only these are converted, when it has them all (else
    every column, so that the plot's own error names what is missing).

    Examples
    --------
    >>> import pyarrow as pa
    >>> table = pa.table({"symbol": ["A", "B"], "note": ["x", "y"]})
    >>> pandas_ticks(table, ["symbol"]).columns.tolist()
    ['symbol']
    """
    if ticks is None or isinstance(ticks, pd.DataFrame):
        return ticks
    wanted = None if columns is None else [c for c in columns if c is not None]
    frame, _ = read_frame(ticks, name=name, columns=wanted)
    return frame
