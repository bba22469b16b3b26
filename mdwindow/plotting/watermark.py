"""The watermark plot: one key's ticks against arrival, coloured by status, with its watermark.

:func:`plot_watermark` draws one panel of the watermark view
(:mod:`mdwindow.plotting.watermark_view`) on one axes;
:class:`WatermarkRows` reads a result (and its ticks) once and gives the
panel of any key, for it and for the per-key panels of
:func:`~mdwindow.plotting.plot_watermark_panels`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mdwindow.core.rules import NEG_INF
from mdwindow.plotting.captions import (
    SEPARATOR,
    interval_text,
    options_of,
    parameters_text,
    set_heading,
)
from mdwindow.plotting.inputs import pandas_result, pandas_ticks
from mdwindow.plotting.rows import ArrivalRows, key_column_of, window_grid_of
from mdwindow.plotting.style import current_axes, plain_text
from mdwindow.plotting.timeaxis import clock_text, date_numbers, day_text, nanos
from mdwindow.plotting.timeaxis import window_boundaries as boundaries_between
from mdwindow.plotting.watermark_view import PanelData, WatermarkArtists, counts_text, panel_data

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mdwindow.core.options import WindowOptions
    from mdwindow.interchange import FrameLike
    from mdwindow.result import WindowResult

__all__ = ["WatermarkRows", "plot_watermark"]


@plain_text
def plot_watermark(
    result: WindowResult,
    ticks: FrameLike | None = None,
    *,
    key: Any = None,
    x: str = "arrival",
    time: str = "ts",
    key_column: str | None = None,
    arrival_time: str | None = None,
    time_unit: str | None = None,
    arrival_range: tuple[int, int] | None = None,
    options: Any = None,
    max_points: int = 20_000,
    max_boundaries: int = 40,
    ax: Axes | None = None,
) -> Axes:
    """Event time of one key's ticks against their arrival, coloured by status, with the
    watermark that judged them.

    One panel of the watermark view: each tick at (arrival, event time) in
    its status colour (:data:`STATUS_COLORS`), on-time ticks that arrived
    out of order (below the largest event time seen before them) as open
    rings, dropped ticks as large crosses on top; the watermark after each
    row (solid) and the largest event time seen (dashed), whose gap is the
    lag; a marker at (emitting row, window end) for each emitted window;
    the window boundaries when at most ``max_boundaries`` are in view. The
    title names the key and the arrival rows shown; the lines under it the
    run's parameters and the counts in view (in-order and out-of-order dots
    are each thinned to at most ``max_points``, said there). The legend is
    outside the axes, at the right.

    When all rows share one watermark (scope "global", or one key) the
    panel shows every row, or ``key``'s; when each key has its own (scope
    "key" or "partition") it shows ``key``, or the busiest key.
    :func:`plot_watermark_panels` draws several keys, a panel each.

    Parameters
    ----------
    result : WindowResult
        The run to show; its frames may be pandas, polars or Arrow.
    ticks : pandas, polars or Arrow frame, optional
        The frame the result was computed from (of a polars or Arrow frame
        only the columns drawn are converted). Without it only what the
        result holds can be drawn: the watermark, the dropped ticks (their
        event times are in ``result.late``) and the emissions.
    key : optional
        Show only this key's ticks (and its watermark, when keys have their own).
    x : {"arrival", "time"}, default "arrival"
        The x axis: arrival position (row number in arrival order), or
        arrival time, which needs ``ticks`` and ``arrival_time``. Rows keep
        apart the ticks that a feed stall releases at one arrival time.
    time : str, default "ts"
        Event-time column of ``ticks`` (and of ``result.late``).
    key_column : str, optional
        Key column; by default the one the result was computed with.
    arrival_time : str, optional
        Arrival-time column of ``ticks``, for ``x="time"`` (and the clock
        times of the rows shown, in the heading).
    time_unit : str, optional
        Unit of an integer event-time column, as in ``tumbling_windows``.
    arrival_range : (int, int), optional
        Show only the rows at arrival positions ``start <= position < stop``
        (a zoom: thinning then applies to what is in view).
    options : WindowOptions or dict, optional
        The options of the run (``tumbling_windows`` keywords, e.g.
        ``dict(lag="2s", allowed_lateness="1s", scope="key")``), stated
        under the title; without them only the window size is.
    max_points : int, default 20000
        At most this many in-order on-time dots, as many out-of-order ones,
        and as many emission markers.
    max_boundaries : int, default 40
        Draw window boundaries only when at most this many are in view.
    ax : matplotlib.axes.Axes, optional
        Where to draw; the current axes by default.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> import pandas as pd
    >>> from mdwindow import tumbling_windows
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> result = tumbling_windows(ticks, "2s", allowed_lateness="1s")
    >>> ax = plot_watermark(result, ticks, options={"allowed_lateness": "1s"},
    ...                     ax=Figure(layout="constrained").add_subplot())
    >>> ax.get_title()
    'Watermark on 1970-01-01, all 7 rows'
    >>> print(ax.texts[0].get_text())
    window 2s · lag 0s · allowed lateness 1s · scope global
    4 on time (0 out of order) · 2 late · 1 dropped · 2 windows emitted
    """
    view = WatermarkRows(
        result, ticks, x=x, time=time, key_column=key_column, arrival_time=arrival_time,
        time_unit=time_unit, arrival_range=arrival_range, options=options,
    )  # fmt: skip
    (shown,) = view.keys(key=key, busiest=1)
    ax = current_axes(ax)
    artists = WatermarkArtists(ax, x_is_time=view.x_is_time)
    data = view.panel(shown, max_points=max_points, max_boundaries=max_boundaries)
    artists.show(data)
    if view.x_is_time:
        ax.set_xlabel(f"arrival time, {arrival_time} (UTC)")
    subject = view.subject(shown)
    counts = counts_text(data)
    arrived = view.arrived()
    lines = [view.parameters(), f"{arrived}{SEPARATOR}{counts}" if arrived else counts]
    set_heading(ax, f"Watermark{subject}{view.day_of(data)}, {view.interval()}", lines)
    artists.legend(data.present())
    return ax


class WatermarkRows:
    """A result's rows read once for the watermark view: which keys, which rows, which x.

    Takes the arguments of :func:`plot_watermark` but ``key`` and the
    drawing limits; :meth:`panel` gives the :class:`PanelData` of one key.
    """

    def __init__(
        self,
        result: WindowResult,
        ticks: FrameLike | None,
        *,
        x: str = "arrival",
        time: str = "ts",
        key_column: str | None = None,
        arrival_time: str | None = None,
        time_unit: str | None = None,
        arrival_range: tuple[int, int] | None = None,
        options: Any = None,
    ) -> None:
        if x not in ("arrival", "time"):
            raise ValueError(f"x: got {x!r}; choose 'arrival' (row position) or 'time'")
        if x == "time" and (ticks is None or arrival_time is None):
            raise ValueError(
                "x='time' needs the arrival times: pass the ticks and the column, e.g. "
                "plot_watermark(result, ticks, x='time', arrival_time='recv_ts')"
            )
        result = pandas_result(result)
        if key_column is None:
            key_column = key_column_of(result)
        ticks = pandas_ticks(ticks, (time, key_column, arrival_time))
        self.result = result
        self.key_column = key_column
        self.cfg: WindowOptions | None = options_of(result, options)
        self.rows = rows = ArrivalRows(
            result, ticks, time=time, key_column=key_column, arrival_time=arrival_time,
            time_unit=time_unit,
        )  # fmt: skip
        self.shared = rows.one_watermark()
        if not self.shared and rows.keys is None:
            raise ValueError(
                "the rows have one watermark per key or partition (scope 'key' or "
                "'partition'); pass the ticks so each key's rows can be told apart: "
                "plot_watermark(result, ticks)"
            )
        n = rows.n
        begin, stop = (0, n) if arrival_range is None else arrival_range
        self.begin = min(max(int(begin), 0), n)
        self.stop = min(max(int(stop), self.begin), n)
        self.x_is_time = x == "time"
        if self.x_is_time:
            self.x_of_row = date_numbers(rows.arrival_stamp)
        else:
            self.x_of_row = np.arange(n, dtype=np.float64)

    def keys(self, *, key: Any = None, keys: Any = None, busiest: int = 1) -> list[Any]:
        """The keys to show, a panel each (None: every row, when all share one watermark).

        ``key`` (one) or ``keys`` (several) as given; otherwise every row
        when the watermark is shared, else the ``busiest`` keys (most valid rows).
        """
        rows = self.rows
        wanted = [key] if key is not None else (list(keys) if keys is not None else None)
        if wanted is not None:
            if rows.keys is None:
                raise ValueError(
                    f"key={wanted[0]!r}: choosing a key needs the ticks and their key column: "
                    "plot_watermark(result, ticks, key=...)"
                )
            for one in wanted:
                if not (rows.keys == one).any():
                    sample = pd.unique(rows.keys[rows.valid])[:8].tolist()
                    raise ValueError(f"key: {one!r} has no rows; keys include {sample}")
            return wanted
        if self.shared:
            return [None]
        counts = pd.Series(rows.keys[rows.valid]).value_counts(sort=True)
        return counts.index[: max(busiest, 1)].tolist()

    def key_count(self) -> int:
        """How many keys have valid rows."""
        if self.rows.keys is None:
            return 0
        return int(pd.Series(self.rows.keys[self.rows.valid]).nunique())

    def panel(self, key: Any, *, max_points: int, max_boundaries: int) -> PanelData:
        """What the panel of ``key`` (None: every row) shows, in the view."""
        rows = self.rows
        begin, stop = self.begin, self.stop
        valid = rows.valid
        if key is None:
            is_key = np.ones(rows.n, bool)
        else:
            is_key = rows.keys == key
        members = np.flatnonzero(valid if self.shared else (is_key & valid))
        # The running maximum needs the rows before the view too.
        t = rows.t
        running_max = np.maximum.accumulate(t[members]) if len(members) else t[members]
        out_of_order = np.zeros(rows.n, bool)
        if rows.has_ticks and len(members) > 1:
            out_of_order[members[1:]] = t[members[1:]] < running_max[:-1]
        in_view = slice(begin, stop)
        kept = (members >= begin) & (members < stop)
        line_rows = members[kept]
        emit_x, emit_end = self._emissions(key)
        shown = is_key[in_view] & (t[in_view] != NEG_INF)
        seen = t[in_view][shown]
        edges = np.empty(0, np.int64)
        grid = window_grid_of(self.result)
        if grid is not None and len(seen):
            edges = boundaries_between(
                int(seen.min()), int(seen.max()), grid.size_ns, grid.offset_ns, max_boundaries
            )
        return panel_data(
            x=self.x_of_row[in_view],
            t=t[in_view],
            status=rows.status[in_view],
            out_of_order=out_of_order[in_view],
            shown=shown,
            line_x=self.x_of_row[line_rows],
            watermark=rows.w_after[line_rows],
            max_time=running_max[kept] if rows.has_ticks else None,
            emit_x=emit_x,
            emit_end=emit_end,
            boundaries=edges,
            max_points=max_points,
        )

    def _emissions(self, key: Any) -> tuple[np.ndarray, np.ndarray]:
        """(x, window end) of the windows of ``key`` (None: all) emitted in the view."""
        windows = self.result.windows
        if key is not None and self.key_column is not None:
            windows = windows[windows[self.key_column].to_numpy() == key]
        emit_row = windows["emit_row"].to_numpy(np.int64)
        mine = (emit_row >= self.begin) & (emit_row < self.stop)
        if not mine.any():
            return np.empty(0), np.empty(0, np.int64)
        points = pd.DataFrame(
            {"row": emit_row[mine], "end": nanos(windows[mine], "window_end")}
        ).drop_duplicates()
        return self.x_of_row[points["row"].to_numpy()], points["end"].to_numpy(np.int64)

    # -- what the headings say ----------------------------------------------------

    def subject(self, key: Any) -> str:
        """`` of SPY`` for a key's panel, ``""`` for every row."""
        return "" if key is None else f" of {key}"

    def interval(self) -> str:
        """The arrival rows in view, e.g. ``arrival rows 249,000 to 252,999 of 300,000``."""
        return interval_text(self.begin, self.stop, self.rows.n)

    def arrived(self) -> str:
        """When the rows in view arrived (with an arrival-time column), else ``""``."""
        stamps = self.rows.arrival_stamp
        if stamps is None or self.stop <= self.begin:
            return ""
        return f"arrived {clock_text(int(stamps[self.begin]), int(stamps[self.stop - 1]))} UTC"

    def day_of(self, data: PanelData) -> str:
        """`` on 2024-03-01``: the UTC day of the event times drawn."""
        y_range = data.y_range()
        if y_range is None:
            return ""
        lo, hi = (int(v * 86_400 * 10**9) for v in y_range)
        return f" on {day_text(lo, hi)}"

    def parameters(self) -> str:
        """The run's parameters, as stated under a title."""
        return parameters_text(self.cfg, self.result)
