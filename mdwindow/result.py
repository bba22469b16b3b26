"""The result of a windowing run."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from mdwindow.core.frames import STATUSES
from mdwindow.core.state import Deferred, resolve

_FRAMES = ("windows", "pending", "late", "rejected", "trace")


class _Frame:
    """A read-only frame attribute of :class:`WindowResult`, built on first read."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, result: WindowResult | None, owner: type) -> Any:
        if result is None:
            return self
        frames = result._frames
        value = frames[self.name]
        if isinstance(value, Deferred):
            value = frames[self.name] = resolve(value)
        return value

    def __set__(self, result: WindowResult, value: Any) -> None:
        raise AttributeError(f"WindowResult.{self.name} is read-only")


class WindowResult:
    """What a windowing run produced, frame by frame.

    Attributes
    ----------
    windows : pandas.DataFrame
        One row per emitted window or pane, in emission order (``emit_row``,
        then ``window_start``, then key).
    pending : pandas.DataFrame
        Windows still open at the end of input (``timing="pending"``).
    late : pandas.DataFrame
        Dropped rows (too late even for the allowed lateness), with their
        original columns and index plus ``arrival``, ``window_start``,
        ``window_end``, ``watermark`` and ``late_by``.
    rejected : pandas.DataFrame
        Invalid rows (missing event time or key) with ``arrival`` and ``reason``.
    trace : pandas.DataFrame
        One row per input row, aligned with the input index: ``arrival``,
        ``window_start``, ``watermark_before``, ``watermark_after``, ``status``.

    Examples
    --------
    >>> import pandas as pd
    >>> from mdwindow import tumbling_windows
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "AAPL",
    ... })
    >>> result = tumbling_windows(ticks, "2s", allowed_lateness="1s")
    >>> result.summary()["dropped"]
    1
    """

    windows: pd.DataFrame = _Frame()
    pending: pd.DataFrame = _Frame()
    late: pd.DataFrame = _Frame()
    rejected: pd.DataFrame = _Frame()
    trace: pd.DataFrame = _Frame()

    __slots__ = ("_frames",)

    def __init__(
        self,
        windows: pd.DataFrame | Deferred,
        pending: pd.DataFrame | Deferred,
        late: pd.DataFrame | Deferred,
        rejected: pd.DataFrame | Deferred,
        trace: pd.DataFrame | Deferred,
    ) -> None:
        # Frames the engine hands over as Deferred are built on first read
        # (a replay that reads only ``windows`` never pays for the others).
        self._frames = dict(zip(_FRAMES, (windows, pending, late, rejected, trace), strict=True))

    def __reduce__(self) -> tuple:
        return (WindowResult, tuple(getattr(self, name) for name in _FRAMES))

    @property
    def plot(self) -> Any:
        """Plots of this result: ``result.plot.watermark(ticks)``, ``result.plot.late_drops()``.

        Thin forwards to :func:`mdwindow.plotting.plot_watermark` and
        :func:`mdwindow.plotting.plot_late_drops`.
        """
        from mdwindow.plotting import WindowResultPlot

        return WindowResultPlot(self)

    def summary(self) -> dict[str, Any]:
        """Counts of rows by status, windows and pending windows, and the drop rate.

        ``windows`` counts rows of the ``windows`` frame (panes, in updates mode).
        The drop rate is dropped rows over valid rows (NaN when there are none).
        """
        status = self.trace["status"].value_counts()
        counts = {name: int(status.get(name, 0)) for name in STATUSES}
        valid = counts["on_time"] + counts["late"] + counts["dropped"]
        return {
            "rows": int(len(self.trace)),
            **counts,
            "windows": int(len(self.windows)),
            "pending": int(len(self.pending)),
            "drop_rate": counts["dropped"] / valid if valid else float("nan"),
        }

    def _repr_html_(self) -> str:
        items = self.summary()
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{v:.4%}</td></tr>"
            if k == "drop_rate" and v == v
            else f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{v}</td></tr>"
            for k, v in items.items()
        )
        head = self.windows.head(5).to_html(max_cols=12, border=0)
        return (
            "<div><strong>WindowResult</strong>"
            f"<table>{cells}</table>"
            f"<details><summary>first windows</summary>{head}</details></div>"
        )

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"WindowResult(rows={s['rows']}, windows={s['windows']}, pending={s['pending']}, "
            f"on_time={s['on_time']}, late={s['late']}, dropped={s['dropped']}, "
            f"rejected={s['rejected']})"
        )
