"""The result of a windowing run."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from mdwindow.core.rules import STATUS_NAMES as STATUSES
from mdwindow.core.state import Deferred, resolve
from mdwindow.interchange import ROW_COLUMN, FrameKind, write_frame

_FRAMES = ("windows", "pending", "late", "rejected", "trace")
#: Frames of input rows: without a pandas index, their input position is a column.
_ROW_FRAMES = ("late", "rejected")


class _Frame:
    """A read-only frame attribute of :class:`WindowResult`, built on first read."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, result: WindowResult | None, owner: type) -> Any:
        if result is None:
            return self
        value = result._pandas(self.name)
        kind = result._kind
        rows = self.name in _ROW_FRAMES
        if kind.library == "pandas" and not (rows and kind.source is not None):
            return value
        # Converted on first read too: a replay that reads only ``windows``
        # never converts the others.
        converted = result._converted
        if self.name not in converted:
            index = ROW_COLUMN if rows else None
            converted[self.name] = write_frame(value, kind, index=index, rows=rows)
        return converted[self.name]

    def __set__(self, result: WindowResult, value: Any) -> None:
        raise AttributeError(f"WindowResult.{self.name} is read-only")


class WindowResult:
    """What a windowing run produced, frame by frame.

    The frames are pandas DataFrames, or polars DataFrames or Arrow tables
    when the input was one (or ``output=`` asked for them; see
    :mod:`mdwindow.interchange`). Those have no index: their ``late`` and
    ``rejected`` frames start with a ``row`` column, the input position of
    the row, and ``trace`` row ``i`` is input row ``i``.

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
    >>> result.to("arrow").late.column_names[:3]
    ['row', 'ts', 'symbol']
    """

    windows: pd.DataFrame = _Frame()
    pending: pd.DataFrame = _Frame()
    late: pd.DataFrame = _Frame()
    rejected: pd.DataFrame = _Frame()
    trace: pd.DataFrame = _Frame()

    __slots__ = ("_frames", "_kind", "_converted")

    def __init__(
        self,
        windows: pd.DataFrame | Deferred,
        pending: pd.DataFrame | Deferred,
        late: pd.DataFrame | Deferred,
        rejected: pd.DataFrame | Deferred,
        trace: pd.DataFrame | Deferred,
        *,
        kind: FrameKind | None = None,
    ) -> None:
        # Frames the engine hands over as Deferred are built on first read
        # (a replay that reads only ``windows`` never pays for the others).
        self._frames = dict(zip(_FRAMES, (windows, pending, late, rejected, trace), strict=True))
        self._kind = kind if kind is not None else FrameKind()
        self._converted: dict[str, Any] = {}

    def __reduce__(self) -> tuple:
        # The kind may hold the input (late and rejected rows are taken from
        # it): it is pickled too, so that they come out whole.
        frames = tuple(self._pandas(name) for name in _FRAMES)
        return (_rebuild, (*frames, self._kind))

    def _pandas(self, name: str) -> pd.DataFrame:
        """Frame ``name`` as the engine made it (pandas), built on first read."""
        frames = self._frames
        value = frames[name]
        if isinstance(value, Deferred):
            value = frames[name] = resolve(value)
        return value

    @property
    def output(self) -> str:
        """The library of the frames: ``"pandas"``, ``"polars"`` or ``"arrow"``."""
        return self._kind.library

    def to(self, output: str) -> WindowResult:
        """The same result with its frames in another library.

        ``output`` is ``"pandas"``, ``"polars"`` or ``"arrow"``. The engine's
        pandas frames are shared, not copied. A pandas result's index becomes
        the ``row`` column of polars and Arrow ``late`` and ``rejected`` frames.

        Examples
        --------
        >>> import pandas as pd
        >>> from mdwindow import tumbling_windows
        >>> ticks = pd.DataFrame({"ts": pd.to_datetime([0], unit="s", utc=True), "symbol": "A"})
        >>> tumbling_windows(ticks, "1s").to("arrow").pending.column_names[:3]
        ['symbol', 'window_start', 'window_end']
        """
        kind = self._kind.to(output)
        result = WindowResult(*(self._frames[name] for name in _FRAMES), kind=kind)
        if kind == self._kind:
            result._converted = self._converted
        return result

    @property
    def plot(self) -> Any:
        """Plots of this result: ``result.plot.watermark(ticks)``, ``result.plot.late_drops()``.

        Thin forwards to :func:`mdwindow.plotting.plot_watermark` and
        :func:`mdwindow.plotting.plot_late_drops`.
        """
        from mdwindow.plotting import WindowResultPlot

        # The plots read pandas frames, whatever library this result returns.
        return WindowResultPlot(self if self.output == "pandas" else self.to("pandas"))

    def summary(self) -> dict[str, Any]:
        """Counts of rows by status, windows and pending windows, and the drop rate.

        ``windows`` counts rows of the ``windows`` frame (panes, in updates mode).
        The drop rate is dropped rows over valid rows (NaN when there are none).
        """
        return summarise(
            self._pandas("trace")["status"].value_counts(),
            len(self._pandas("windows")),
            len(self._pandas("pending")),
        )

    def _repr_html_(self) -> str:
        items = self.summary()
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{v:.4%}</td></tr>"
            if k == "drop_rate" and v == v
            else f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{v}</td></tr>"
            for k, v in items.items()
        )
        head = self._pandas("windows").head(5).to_html(max_cols=12, border=0)
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


def _rebuild(
    windows: pd.DataFrame,
    pending: pd.DataFrame,
    late: pd.DataFrame,
    rejected: pd.DataFrame,
    trace: pd.DataFrame,
    kind: FrameKind,
) -> WindowResult:
    """A pickled :class:`WindowResult` again (pickle passes no keywords)."""
    return WindowResult(windows, pending, late, rejected, trace, kind=kind)


def summarise(status_counts: Any, n_windows: int, n_pending: int) -> dict[str, Any]:
    """The summary of a result from its rows' status counts (a mapping by status name)
    and its numbers of windows and pending windows: see :meth:`WindowResult.summary`."""
    counts = {name: int(status_counts.get(name, 0)) for name in STATUSES}
    valid = counts["on_time"] + counts["late"] + counts["dropped"]
    return {
        "rows": sum(counts.values()),
        **counts,
        "windows": int(n_windows),
        "pending": int(n_pending),
        "drop_rate": counts["dropped"] / valid if valid else float("nan"),
    }
