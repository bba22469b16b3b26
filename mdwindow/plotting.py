"""Plots of watermarks, late drops, partition balance and the lag trade-off.

Every function takes ``ax=None``, draws on the current axes when none is
given and returns the ``Axes`` it drew on. Statuses have one colour
everywhere, :data:`STATUS_COLORS`. Times are drawn as UTC datetimes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mdwindow.core.rules import NEG_INF
from mdwindow.core.times import event_times
from mdwindow.hashing import partition_balance

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mdwindow.result import WindowResult

__all__ = [
    "STATUS_COLORS",
    "STATUS_LABELS",
    "WindowResultPlot",
    "duration_text",
    "plot_lag_tradeoff",
    "plot_late_drops",
    "plot_partition_balance",
    "plot_watermark",
]

#: The colour of each row status, in every plot (Okabe-Ito, colour-blind safe).
STATUS_COLORS: Mapping[str, str] = MappingProxyType(
    {
        "on_time": "#0072B2",
        "late": "#E69F00",
        "dropped": "#D55E00",
        "rejected": "#999999",
    }
)
#: Legend text of each row status.
STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "on_time": "on time",
        "late": "late (accepted)",
        "dropped": "dropped",
        "rejected": "rejected",
    }
)
_MARKERS = {"on_time": ("o", 6), "late": ("o", 14), "rejected": ("s", 14), "dropped": ("X", 42)}
# Drawing order: dropped ticks last, so nothing hides them.
_DRAW_ORDER = ("on_time", "rejected", "late", "dropped")
WATERMARK_COLOR = "black"
MAX_EVENT_TIME_COLOR = "#6A3D9A"
EMITTED_COLOR = "#009E73"
BOUNDARY_COLOR = "0.85"
PARTITION_COLOR = "#56B4E9"
# Further keys get these line colours, never a status colour.
_KEY_LINE_COLORS = ("black", "#6A3D9A", "#009E73", "#8C564B", "#CC79A7", "#17BECF")


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


def _datetimes(nanos: np.ndarray) -> np.ndarray:
    """int64 nanoseconds (NEG_INF as NaT) -> naive UTC datetime64[ns]."""
    return np.asarray(nanos, dtype=np.int64).view("datetime64[ns]")


def _nanos(frame: pd.DataFrame, column: str, time_unit: str | None = None) -> np.ndarray:
    return event_times(frame, column, time_unit)[0]


def _every(count: int, limit: int) -> int:
    """Keep one row in this many so that at most ``limit`` remain."""
    return max(1, math.ceil(count / max(limit, 1)))


def _key_column(result: WindowResult) -> str | None:
    """Name of the key column of the run (the first column of ``windows``), or None."""
    first = result.windows.columns[0] if len(result.windows.columns) else None
    return None if first in (None, "partition", "window_start") else str(first)


def _window_grid(result: WindowResult) -> tuple[int, int] | None:
    """Window size and offset (ns) of the run, read off any window it reports."""
    for frame in (result.windows, result.pending, result.late):
        if len(frame):
            start = int(frame["window_start"].iloc[0].value)
            size = int(frame["window_end"].iloc[0].value) - start
            return size, start % size
    return None


def duration_text(value: Any) -> str:
    """A duration the way people write it: ``"0s"``, ``"250ms"``, ``"1.5s"``, ``"2min"``.

    Examples
    --------
    >>> [duration_text(v) for v in ("0s", "250ms", "1500ms", "120s", "3us")]
    ['0s', '250ms', '1.5s', '2min', '3us']
    """
    nanos = int(pd.Timedelta(value).value)
    if nanos == 0:
        return "0s"
    for unit, size in (("h", 3_600 * 10**9), ("min", 60 * 10**9)):
        if nanos % size == 0:
            return f"{nanos // size}{unit}"
    for unit, size in (("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1)):
        # At most three decimals, so that 1.5s stays 1.5s and 1.2345s becomes 1234.5ms.
        if abs(nanos) >= size and nanos % max(size // 1000, 1) == 0:
            return f"{nanos / size:.12g}{unit}"
    return f"{nanos}ns"  # pragma: no cover - every nonzero value matches "ns"


def _steps(x: np.ndarray, y: np.ndarray, end: Any) -> tuple[np.ndarray, np.ndarray]:
    """A step function (``where="post"``) by its change points, held until ``end``."""
    if len(y) == 0:
        return x, y
    keep = np.ones(len(y), bool)
    keep[1:] = y[1:] != y[:-1]
    x, y = x[keep], y[keep]
    if end is not None and end != x[-1]:
        x, y = np.append(x, end), np.append(y, y[-1])
    return x, y


class _Rows:
    """Per-row facts of a result in arrival order, with what the ticks add."""

    def __init__(
        self,
        result: WindowResult,
        ticks: pd.DataFrame | None,
        *,
        time: str,
        key_column: str | None,
        arrival_time: str | None,
        time_unit: str | None,
    ) -> None:
        trace = result.trace
        n = len(trace)
        at = np.empty(n, np.int64)
        at[trace["arrival"].to_numpy(np.int64)] = np.arange(n)
        self.n = n
        self.status = np.asarray(trace["status"].cat.codes.to_numpy()[at], dtype=np.int8)
        self.status_names = list(trace["status"].cat.categories)
        self.w_before = _nanos(trace, "watermark_before")[at]
        self.w_after = _nanos(trace, "watermark_after")[at]
        self.has_ticks = ticks is not None
        self.keys: np.ndarray | None = None
        self.arrival_stamp: np.ndarray | None = None
        if ticks is not None:
            if len(ticks) != n:
                raise ValueError(
                    f"ticks: got {len(ticks)} rows but the result traces {n}; "
                    "pass the frame the result was computed from"
                )
            if time not in ticks.columns:
                raise KeyError(
                    f"time: column {time!r} is not in ticks (columns: {list(ticks.columns)}); "
                    "pass time=<event-time column>"
                )
            self.t = _nanos(ticks, time, time_unit)[at]
            if key_column is not None:
                if key_column not in ticks.columns:
                    raise KeyError(
                        f"key_column: column {key_column!r} is not in ticks; "
                        "pass key_column=<key column>"
                    )
                self.keys = ticks[key_column].to_numpy()[at]
            if arrival_time is not None:
                if arrival_time not in ticks.columns:
                    raise KeyError(
                        f"arrival_time: column {arrival_time!r} is not in ticks; "
                        "pass arrival_time=<arrival-time column>"
                    )
                self.arrival_stamp = _nanos(ticks, arrival_time)[at]
        else:
            # The result alone knows the event times of its dropped rows only.
            self.t = np.full(n, NEG_INF, np.int64)
            late = result.late
            if len(late):
                if time not in late.columns:
                    raise KeyError(
                        f"time: column {time!r} is not in result.late; "
                        "pass time=<event-time column> (or the ticks)"
                    )
                self.t[late["arrival"].to_numpy(np.int64)] = _nanos(late, time, time_unit)

    def code(self, status: str) -> int:
        return self.status_names.index(status)

    def one_watermark(self) -> bool:
        """Whether the valid rows' watermarks form one continuous line (as one scope's do)."""
        valid = np.flatnonzero(self.status != self.code("rejected"))
        return bool(np.array_equal(self.w_before[valid[1:]], self.w_after[valid[:-1]]))


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
        key_column = _key_column(result)
    ax = _axes(ax)
    rows = _Rows(
        result,
        ticks,
        time=time,
        key_column=key_column,
        arrival_time=arrival_time,
        time_unit=time_unit,
    )
    valid = rows.status != rows.code("rejected")
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

    # Which rows to show, and which rows make up each watermark line.
    lines: list[tuple[str, np.ndarray]] = []
    if key is not None:
        shown = rows.keys == key
        if not shown.any():
            sample = pd.unique(rows.keys[valid])[:8].tolist()
            raise ValueError(f"key: {key!r} has no rows; keys include {sample}")
        line_rows = valid if shared else (shown & valid)
        lines.append((str(key) if not shared else "", np.flatnonzero(line_rows)))
        title = f"Watermark, {key_column} = {key}"
    elif shared:
        shown = np.ones(rows.n, bool)
        lines.append(("", np.flatnonzero(valid)))
        title = "Watermark"
    else:
        counts = pd.Series(rows.keys[valid]).value_counts(sort=True)
        chosen = counts.index[: max(busiest, 1)].tolist()
        shown = np.isin(rows.keys, np.asarray(chosen, dtype=rows.keys.dtype))
        for name in chosen:
            lines.append((str(name), np.flatnonzero((rows.keys == name) & valid)))
        title = f"Watermark of the {len(chosen)} busiest keys: " + ", ".join(map(str, chosen))

    if x == "arrival":
        x_of_row = np.arange(rows.n)
        ax.set_xlabel("arrival position (row)")
    else:
        x_of_row = _datetimes(rows.arrival_stamp)
        ax.set_xlabel(f"arrival time, {arrival_time} (UTC)")

    shown &= in_view
    # Ticks, coloured by status.
    known = rows.t != NEG_INF
    for status in _DRAW_ORDER:
        picked = np.flatnonzero(shown & known & (rows.status == rows.code(status)))
        if len(picked) == 0:
            continue
        total = len(picked)
        label = f"{STATUS_LABELS[status]} ({total:,})"
        if status == "on_time":
            step = _every(total, max_points)
            picked = picked[::step]
            if step > 1:
                label = f"{STATUS_LABELS[status]} ({total:,}; 1 in {step} shown)"
        marker, size = _MARKERS[status]
        crowded = status == "dropped" and len(picked) > 2_000
        ax.scatter(
            x_of_row[picked],
            _datetimes(rows.t[picked]),
            s=size / 3 if crowded else size,
            marker=marker,
            color=STATUS_COLORS[status],
            edgecolors="black" if status == "dropped" and not crowded else "none",
            linewidths=0.5,
            zorder=5 if status == "dropped" else 3,
            label=label,
            gid=f"status:{status}",
        )

    # Watermark and max event time, as step lines through each line's rows.
    view_rows = np.flatnonzero(in_view)
    end_x = x_of_row[view_rows[-1]] if len(view_rows) else None
    for number, (name, all_members) in enumerate(lines):
        # The running maximum needs the rows before the view too.
        running_max = np.maximum.accumulate(rows.t[all_members]) if len(all_members) else None
        kept = in_view[all_members]
        members = all_members[kept]
        if len(members) == 0:
            continue
        color = WATERMARK_COLOR if len(lines) == 1 else _KEY_LINE_COLORS[number % 6]
        suffix = f" ({name})" if name else ""
        has_w = rows.w_after[members] != NEG_INF
        wx, wy = _steps(x_of_row[members][has_w], rows.w_after[members][has_w], end_x)
        if len(wx):
            ax.step(
                wx,
                _datetimes(wy),
                where="post",
                color=color,
                linewidth=1.4,
                label="watermark" + suffix,
                gid="watermark" + (f":{name}" if name else ""),
                zorder=4,
            )
        if rows.has_ticks:
            mx, my = _steps(x_of_row[members], running_max[kept], end_x)
            ax.step(
                mx,
                _datetimes(my),
                where="post",
                color=MAX_EVENT_TIME_COLOR if len(lines) == 1 else color,
                linestyle="--",
                linewidth=1.0,
                label="max event time" + suffix,
                gid="max_event_time" + (f":{name}" if name else ""),
                zorder=4,
            )

    # The moment each window was emitted: (emitting row, window end).
    windows = result.windows
    emit_row = windows["emit_row"].to_numpy()
    emitted = windows[(emit_row < rows.n) & in_view[np.minimum(emit_row, max(rows.n - 1, 0))]]
    if key is not None and key_column is not None:
        emitted = emitted[emitted[key_column].to_numpy() == key]
    elif not shared and key_column is not None:
        emitted = emitted[emitted[key_column].isin([name for name, _ in lines])]
    if len(emitted):
        points = pd.DataFrame(
            {"row": emitted["emit_row"].to_numpy(np.int64), "end": _nanos(emitted, "window_end")}
        ).drop_duplicates()
        step = _every(len(points), max_points)
        points = points.iloc[::step]
        label = "window emitted (row, window end)" + (f"; 1 in {step} shown" if step > 1 else "")
        ax.scatter(
            x_of_row[points["row"].to_numpy()],
            _datetimes(points["end"].to_numpy()),
            s=22,
            marker=">",
            color=EMITTED_COLOR,
            zorder=4,
            label=label,
            gid="emitted",
        )

    # Window boundaries, when few enough to read.
    grid = _window_grid(result)
    seen = rows.t[shown & known]
    if grid is not None and len(seen):
        size, offset = grid
        lo, hi = int(seen.min()), int(seen.max())
        first = offset + ((lo - offset) // size) * size
        count = (hi - first) // size + 2
        if count <= max_boundaries:
            for i, edge in enumerate(first + size * np.arange(count, dtype=np.int64)):
                ax.axhline(
                    _datetimes(np.array([edge]))[0],
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


def plot_late_drops(
    result: WindowResult,
    *,
    by: str = "key",
    top: int = 20,
    bins: int = 30,
    max_bars: int = 2_000,
    key_column: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Dropped ticks per key, per window, or a histogram of how late they were.

    Parameters
    ----------
    result : WindowResult
        The run whose ``late`` frame (dropped rows) to show.
    by : {"key", "window", "late_by"}, default "key"
        ``"key"``: a bar per key, most drops first (at most ``top``);
        ``"window"``: drops per window start over all keys, one step per
        window (drawn as one filled ``stairs``); ``"late_by"``: a histogram
        of ``late_by`` (how far the watermark had passed
        ``window_end + allowed_lateness``), in seconds.
    top : int, default 20
        Keys shown with ``by="key"``.
    bins : int, default 30
        Histogram bins with ``by="late_by"``.
    max_bars : int, default 2000
        With ``by="window"``, neighbouring windows share a bar when the
        input spans more windows than this.
    key_column : str, optional
        Key column; by default the one the result was computed with.
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
    >>> ax = plot_late_drops(tumbling_windows(ticks, "2s"), by="key", ax=Figure().add_subplot())
    >>> [float(bar.get_height()) for bar in ax.patches]
    [3.0]
    """
    if by not in ("key", "window", "late_by"):
        raise ValueError(f"by: got {by!r}; choose 'key', 'window' or 'late_by'")
    if key_column is None:
        key_column = _key_column(result)
    if by == "key" and key_column is None:
        raise ValueError(
            "by='key': the result has no key column (it was computed with key=None); "
            "use by='window' or by='late_by'"
        )
    ax = _axes(ax)
    late = result.late
    color = STATUS_COLORS["dropped"]
    ax.set_ylabel("dropped ticks")
    if by == "key":
        ax.set_xlabel(key_column)
        counts = late[key_column].value_counts(sort=True) if len(late) else pd.Series([])
        shown = counts.head(top)
        positions = np.arange(len(shown))
        ax.bar(positions, shown.to_numpy(), color=color, label=STATUS_LABELS["dropped"])
        ax.set_xticks(positions, [str(k) for k in shown.index], rotation=45, ha="right")
        more = f" (top {len(shown)} of {len(counts)} keys)" if len(counts) > len(shown) else ""
        ax.set_title(f"Dropped ticks per {key_column}{more}")
    elif by == "window":
        ax.set_xlabel("window start (UTC)")
        title = "Dropped ticks per window"
        if len(late):
            # One stairs artist, not a bar per window: sessions have tens of thousands.
            starts = _nanos(late, "window_start")
            size = int(_nanos(late, "window_end")[0] - starts[0])
            first = int(starts.min())
            slot = (starts - first) // size
            per_bar = _every(int(slot.max()) + 1, max_bars)
            counts = np.bincount(slot // per_bar)
            edges = first + size * per_bar * np.arange(len(counts) + 1, dtype=np.int64)
            ax.stairs(
                counts,
                _datetimes(edges),
                fill=True,
                color=color,
                label=STATUS_LABELS["dropped"],
                gid="drops_per_window",
            )
            if per_bar > 1:
                title += f" (bars of {per_bar} windows)"
        ax.set_title(title)
    else:
        ax.set_xlabel("late by (s): watermark - (window end + allowed lateness)")
        if len(late):
            seconds = late["late_by"].dt.total_seconds().to_numpy()
            ax.hist(seconds, bins=bins, color=color, label=STATUS_LABELS["dropped"])
        ax.set_title("How late the dropped ticks were")
    if len(late) == 0:
        ax.text(0.5, 0.5, "no dropped ticks", transform=ax.transAxes, ha="center", va="center")
    return ax


def plot_partition_balance(
    ticks: pd.DataFrame,
    *,
    key: str = "symbol",
    partitions: int = 8,
    hash: str = "murmur3",
    seed: int = 0,
    ax: Axes | None = None,
) -> Axes:
    """Rows per hash partition, with the mean and the max/mean ratio.

    Parameters
    ----------
    ticks : pandas.DataFrame
        The rows to count.
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
    """
    balance = partition_balance(ticks, key, partitions, hash=hash, seed=seed)
    ax = _axes(ax)
    bars = ax.bar(
        balance["partition"].to_numpy(),
        balance["rows"].to_numpy(),
        color=PARTITION_COLOR,
        label="rows",
    )
    if len(balance) <= 16:
        ax.bar_label(bars, labels=[f"{k} keys" for k in balance["keys"]], fontsize="small")
    mean = float(balance["rows"].mean())
    ax.axhline(mean, color="black", linestyle="--", linewidth=1, label=f"mean {mean:,.0f}")
    ratio = balance.attrs["max_mean_ratio"]
    ax.set_title(f"Rows per partition ({hash}, P={partitions}): max/mean = {ratio:.2f}")
    ax.set_xlabel("partition")
    ax.set_ylabel("rows")
    ax.set_xticks(balance["partition"].to_numpy())
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_lag_tradeoff(
    sweep: pd.DataFrame, *, latency: str = "median", ax: Axes | None = None
) -> Axes:
    """Drop rate and emission latency against lag, one pair of curves per lateness.

    Drop rates (percent, solid lines, circles) are on ``ax``; latencies
    (seconds, dashed lines, squares) on a twin axis at the right, which is
    ``ax.right_ax`` (as in pandas' ``secondary_y``). Each allowed lateness
    has one colour for both of its curves.

    Parameters
    ----------
    sweep : pandas.DataFrame
        The output of :func:`mdwindow.sweep.sweep`.
    latency : {"median", "p99"}, default "median"
        Which latency column to draw.
    ax : matplotlib.axes.Axes, optional
        Where to draw; the current axes by default.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> import pandas as pd
    >>> from mdwindow.sweep import sweep
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> grid = sweep(ticks, "2s", lags=["0s", "1s", "2s"], lateness=["0s", "1s"])
    >>> ax = plot_lag_tradeoff(grid, ax=Figure().add_subplot())
    >>> ax.lines[0].get_ydata().round(1).tolist()
    [42.9, 14.3, 14.3]
    """
    if latency not in ("median", "p99"):
        raise ValueError(f"latency: got {latency!r}; choose 'median' or 'p99'")
    column = f"latency_{latency}"
    missing = [c for c in ("lag", "lateness", "drop_rate", column) if c not in sweep.columns]
    if missing:
        raise KeyError(
            f"sweep: columns {missing} are missing; pass the frame that sweep() returns"
        )
    import matplotlib as mpl
    from matplotlib.lines import Line2D

    ax = _axes(ax)
    right = ax.twinx()
    ax.right_ax = right
    latenesses = sorted(pd.Timedelta(v) for v in sweep["lateness"].unique())
    colors = mpl.colormaps["viridis"](np.linspace(0.0, 0.85, max(len(latenesses), 1)))
    legend = []
    for color, lateness in zip(colors, latenesses, strict=False):
        part = sweep[sweep["lateness"] == lateness].sort_values("lag")
        lag_seconds = part["lag"].dt.total_seconds().to_numpy()
        name = duration_text(lateness)
        ax.plot(
            lag_seconds,
            part["drop_rate"].to_numpy() * 100,
            marker="o",
            color=color,
            gid=f"drop_rate:{name}",
        )
        right.plot(
            lag_seconds,
            part[column].dt.total_seconds().to_numpy(),
            marker="s",
            linestyle="--",
            color=color,
            gid=f"latency:{name}",
        )
        legend.append(Line2D([], [], color=color, linewidth=6, label=f"lateness {name}"))
    legend += [
        Line2D([], [], color="0.3", marker="o", label="drop rate (left)"),
        Line2D(
            [], [], color="0.3", marker="s", linestyle="--", label=f"{latency} latency (right)"
        ),
    ]
    clock = sweep.attrs.get("latency_clock", "event_time").replace("_", " ")
    ax.set_xlabel("lag (s)")
    ax.set_ylabel("drop rate (%)")
    right.set_ylabel(f"{latency} emission latency (s, {clock} clock)")
    ax.set_title("Lag trade-off: dropped ticks against emission latency")
    ax.legend(handles=legend, fontsize="small", loc="best", framealpha=0.9)
    return ax


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
    >>> ax.get_xlabel()
    'late by (s): watermark - (window end + allowed lateness)'
    """

    def __init__(self, result: WindowResult) -> None:
        self._result = result

    def watermark(self, ticks: pd.DataFrame | None = None, **options: Any) -> Axes:
        """:func:`plot_watermark` of this result."""
        return plot_watermark(self._result, ticks, **options)

    def late_drops(self, **options: Any) -> Axes:
        """:func:`plot_late_drops` of this result."""
        return plot_late_drops(self._result, **options)
