"""The watermark plot: event time against arrival, coloured by status, with the watermark."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mdwindow.core.rules import NEG_INF, ON_TIME, STATUS_NAMES
from mdwindow.plotting.rows import ArrivalRows, key_column_of, window_grid_of
from mdwindow.plotting.style import (
    BOUNDARY_COLOR,
    DRAW_ORDER,
    EMITTED_COLOR,
    KEY_LINE_COLORS,
    MAX_EVENT_TIME_COLOR,
    STATUS_COLORS,
    STATUS_LABELS,
    STATUS_MARKERS,
    WATERMARK_COLOR,
    current_axes,
    thinning,
)
from mdwindow.plotting.timeaxis import as_datetimes, nanos, step_points, window_boundaries

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mdwindow.result import WindowResult

__all__ = ["plot_watermark"]

#: One watermark line: its name in the legend ("" when there is one) and its rows.
Line = tuple[str, np.ndarray]


def plot_watermark(
    result: WindowResult,
    ticks: pd.DataFrame | None = None,
    *,
    key: Any = None,
    x: str = "arrival",
    time: str = "ts",
    key_column: str | None = None,
    arrival_time: str | None = None,
    time_unit: str | None = None,
    arrival_range: tuple[int, int] | None = None,
    busiest: int = 3,
    max_points: int = 20_000,
    max_boundaries: int = 40,
    ax: Axes | None = None,
) -> Axes:
    """Event time of each tick against its arrival, coloured by status, with the watermark.

    Draws, on one axes:

    - each tick at (arrival, event time), coloured by status
      (:data:`STATUS_COLORS`); dropped ticks as large crosses on top;
      on-time ticks are thinned to at most ``max_points`` (one in ``k``, in
      arrival order, said in the legend), late and dropped ones never;
    - the watermark after each row as a step line, and (with ``ticks``)
      the largest event time seen so far among the same rows, dashed: the
      gap between the two is the lag (with scope "partition", a key's line
      follows its own rows, so its maximum can trail the partition's);
    - a marker at (emitting row, window end) for each emitted window;
    - the window boundaries, when at most ``max_boundaries`` fall in view.

    When the rows share one watermark (scope "global", or a single key)
    there is one watermark line. Otherwise (scope "key" or "partition")
    each key has its own: pick one with ``key=``, or the ``busiest`` keys
    (most valid rows) are shown, each with its own lines.

    Parameters
    ----------
    result : WindowResult
        The run to show.
    ticks : pandas.DataFrame, optional
        The frame the result was computed from. Without it only what the
        result holds can be drawn: the watermark, the dropped ticks (their
        event times are in ``result.late``) and the emissions.
    key : optional
        Show only this key's ticks (and its watermark, when keys have their own).
    x : {"arrival", "time"}, default "arrival"
        Arrival position (row number in arrival order), or arrival time,
        which needs ``ticks`` and ``arrival_time``.
    time : str, default "ts"
        Event-time column of ``ticks`` (and of ``result.late``).
    key_column : str, optional
        Key column; by default the one the result was computed with.
    arrival_time : str, optional
        Arrival-time column of ``ticks``, for ``x="time"``.
    time_unit : str, optional
        Unit of an integer event-time column, as in ``tumbling_windows``.
    arrival_range : (int, int), optional
        Show only the rows at arrival positions ``start <= position < stop``
        (a zoom: thinning then applies to what is in view).
    busiest : int, default 3
        How many keys to show when keys have their own watermarks and no
        ``key`` is given.
    max_points : int, default 20000
        At most this many on-time dots (and emission markers).
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
    >>> ax = plot_watermark(result, ticks, ax=Figure().add_subplot())
    >>> ax.get_ylabel()
    'event time (UTC)'
    """
    if x not in ("arrival", "time"):
        raise ValueError(f"x: got {x!r}; choose 'arrival' (row position) or 'time'")
    if x == "time" and (ticks is None or arrival_time is None):
        raise ValueError(
            "x='time' needs the arrival times: pass the ticks and the column, e.g. "
            "plot_watermark(result, ticks, x='time', arrival_time='recv_ts')"
        )
    if key_column is None:
        key_column = key_column_of(result)
    ax = current_axes(ax)
    rows = ArrivalRows(
        result,
        ticks,
        time=time,
        key_column=key_column,
        arrival_time=arrival_time,
        time_unit=time_unit,
    )
    shared = rows.one_watermark()
    in_view = np.ones(rows.n, bool)
    if arrival_range is not None:
        begin, stop = arrival_range
        in_view[: max(int(begin), 0)] = False
        in_view[max(int(stop), 0) :] = False
    if key is not None and rows.keys is None:
        raise ValueError(
            f"key={key!r}: choosing a key needs the ticks and their key column: "
            "plot_watermark(result, ticks, key=...)"
        )
    if not shared and rows.keys is None:
        raise ValueError(
            "the rows have one watermark per key or partition (scope 'key' or 'partition'); "
            "pass the ticks so each key's rows can be told apart: plot_watermark(result, ticks)"
        )
    shown, lines, title = _lines(rows, key, key_column, shared, busiest)

    if x == "arrival":
        x_of_row = np.arange(rows.n)
        ax.set_xlabel("arrival position (row)")
    else:
        x_of_row = as_datetimes(rows.arrival_stamp)
        ax.set_xlabel(f"arrival time, {arrival_time} (UTC)")

    shown &= in_view
    _draw_ticks(ax, rows, shown, x_of_row, max_points)
    _draw_lines(ax, rows, lines, in_view, x_of_row)
    emitted = result.windows
    if key is not None and key_column is not None:
        emitted = emitted[emitted[key_column].to_numpy() == key]
    elif not shared and key_column is not None:
        emitted = emitted[emitted[key_column].isin([name for name, _ in lines])]
    _draw_emissions(ax, emitted, rows.n, in_view, x_of_row, max_points)
    grid = window_grid_of(result)
    seen = rows.t[shown & (rows.t != NEG_INF)]
    if grid is not None and len(seen):
        edges = window_boundaries(
            int(seen.min()), int(seen.max()), grid.size_ns, grid.offset_ns, max_boundaries
        )
        for i, edge in enumerate(as_datetimes(edges)):
            ax.axhline(
                edge,
                color=BOUNDARY_COLOR,
                linewidth=0.8,
                zorder=0,
                label="window boundaries" if i == 0 else None,
                gid="window_boundary",
            )

    ax.set_ylabel("event time (UTC)")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small", markerscale=1.5)
    return ax


def _lines(
    rows: ArrivalRows, key: Any, key_column: str | None, shared: bool, busiest: int
) -> tuple[np.ndarray, list[Line], str]:
    """Which rows to show, which rows make up each watermark line, and the title."""
    valid = rows.valid
    lines: list[Line] = []
    if key is not None:
        shown = rows.keys == key
        if not shown.any():
            sample = pd.unique(rows.keys[valid])[:8].tolist()
            raise ValueError(f"key: {key!r} has no rows; keys include {sample}")
        line_rows = valid if shared else (shown & valid)
        lines.append((str(key) if not shared else "", np.flatnonzero(line_rows)))
        return shown, lines, f"Watermark, {key_column} = {key}"
    if shared:
        lines.append(("", np.flatnonzero(valid)))
        return np.ones(rows.n, bool), lines, "Watermark"
    counts = pd.Series(rows.keys[valid]).value_counts(sort=True)
    chosen = counts.index[: max(busiest, 1)].tolist()
    shown = np.isin(rows.keys, np.asarray(chosen, dtype=rows.keys.dtype))
    for name in chosen:
        lines.append((str(name), np.flatnonzero((rows.keys == name) & valid)))
    title = f"Watermark of the {len(chosen)} busiest keys: " + ", ".join(map(str, chosen))
    return shown, lines, title


def _draw_ticks(
    ax: Axes, rows: ArrivalRows, shown: np.ndarray, x_of_row: np.ndarray, max_points: int
) -> None:
    """Each shown tick with a known event time, coloured by status."""
    known = rows.t != NEG_INF
    for status in DRAW_ORDER:
        name = STATUS_NAMES[status]
        picked = np.flatnonzero(shown & known & (rows.status == status))
        if len(picked) == 0:
            continue
        total = len(picked)
        label = f"{STATUS_LABELS[name]} ({total:,})"
        if status == ON_TIME:
            step = thinning(total, max_points)
            picked = picked[::step]
            if step > 1:
                label = f"{STATUS_LABELS[name]} ({total:,}; 1 in {step} shown)"
        marker, size = STATUS_MARKERS[name]
        dropped = name == "dropped"
        crowded = dropped and len(picked) > 2_000
        ax.scatter(
            x_of_row[picked],
            as_datetimes(rows.t[picked]),
            s=size / 3 if crowded else size,
            marker=marker,
            color=STATUS_COLORS[name],
            edgecolors="black" if dropped and not crowded else "none",
            linewidths=0.5,
            zorder=5 if dropped else 3,
            label=label,
            gid=f"status:{name}",
        )


def _draw_lines(
    ax: Axes, rows: ArrivalRows, lines: list[Line], in_view: np.ndarray, x_of_row: np.ndarray
) -> None:
    """Watermark and max event time, as step lines through each line's rows."""
    view_rows = np.flatnonzero(in_view)
    end_x = x_of_row[view_rows[-1]] if len(view_rows) else None
    for number, (name, all_members) in enumerate(lines):
        # The running maximum needs the rows before the view too.
        running_max = np.maximum.accumulate(rows.t[all_members]) if len(all_members) else None
        kept = in_view[all_members]
        members = all_members[kept]
        if len(members) == 0:
            continue
        color = WATERMARK_COLOR if len(lines) == 1 else KEY_LINE_COLORS[number % 6]
        suffix = f" ({name})" if name else ""
        has_w = rows.w_after[members] != NEG_INF
        wx, wy = step_points(x_of_row[members][has_w], rows.w_after[members][has_w], end_x)
        if len(wx):
            ax.step(
                wx,
                as_datetimes(wy),
                where="post",
                color=color,
                linewidth=1.4,
                label="watermark" + suffix,
                gid="watermark" + (f":{name}" if name else ""),
                zorder=4,
            )
        if rows.has_ticks:
            mx, my = step_points(x_of_row[members], running_max[kept], end_x)
            ax.step(
                mx,
                as_datetimes(my),
                where="post",
                color=MAX_EVENT_TIME_COLOR if len(lines) == 1 else color,
                linestyle="--",
                linewidth=1.0,
                label="max event time" + suffix,
                gid="max_event_time" + (f":{name}" if name else ""),
                zorder=4,
            )


def _draw_emissions(
    ax: Axes,
    windows: pd.DataFrame,
    n: int,
    in_view: np.ndarray,
    x_of_row: np.ndarray,
    max_points: int,
) -> None:
    """The moment each window in view was emitted: (emitting row, window end)."""
    emit_row = windows["emit_row"].to_numpy()
    emitted = windows[(emit_row < n) & in_view[np.minimum(emit_row, max(n - 1, 0))]]
    if len(emitted) == 0:
        return
    points = pd.DataFrame(
        {"row": emitted["emit_row"].to_numpy(np.int64), "end": nanos(emitted, "window_end")}
    ).drop_duplicates()
    step = thinning(len(points), max_points)
    points = points.iloc[::step]
    label = "window emitted (row, window end)" + (f"; 1 in {step} shown" if step > 1 else "")
    ax.scatter(
        x_of_row[points["row"].to_numpy()],
        as_datetimes(points["end"].to_numpy()),
        s=22,
        marker=">",
        color=EMITTED_COLOR,
        zorder=4,
        label=label,
        gid="emitted",
    )
