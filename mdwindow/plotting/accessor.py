"""``result.plot``: the plotting functions as methods of a result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mdwindow.plotting.drops import plot_late_drops
from mdwindow.plotting.watermark import plot_watermark
from mdwindow.plotting.watermark_panels import plot_watermark_panels

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mdwindow.interchange import FrameLike
    from mdwindow.result import WindowResult

__all__ = ["WindowResultPlot"]


class WindowResultPlot:
    """``result.plot``: thin forwards to the plotting functions.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> import pandas as pd
    >>> from mdwindow import tumbling_windows
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> result = tumbling_windows(ticks, "2s")
    >>> ax = result.plot.late_drops(by="late_by", ax=Figure().add_subplot())
    >>> ax.get_title()
    'How late the dropped ticks were'
    """

    def __init__(self, result: WindowResult) -> None:
        self._result = result

    def watermark(self, ticks: FrameLike | None = None, **options: Any) -> Axes:
        """:func:`plot_watermark` of this result."""
        return plot_watermark(self._result, ticks, **options)

    def watermark_panels(self, ticks: FrameLike | None = None, **options: Any) -> Any:
        """:func:`plot_watermark_panels` of this result."""
        return plot_watermark_panels(self._result, ticks, **options)

    def late_drops(self, **options: Any) -> Axes:
        """:func:`plot_late_drops` of this result."""
        return plot_late_drops(self._result, **options)
