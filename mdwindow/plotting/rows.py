"""What a result (and optionally its ticks) says about each row, in arrival order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mdwindow.core.options import TumblingWindowSpec
from mdwindow.core.rules import NEG_INF, REJECTED, STATUS_NAMES
from mdwindow.plotting.timeaxis import nanos

if TYPE_CHECKING:
    from mdwindow.result import WindowResult

__all__ = ["ArrivalRows", "key_column_of", "rows_per_key", "window_grid_of"]


def key_column_of(result: WindowResult) -> str | None:
    """Name of the key column of the run (the first column of ``windows``), or None."""
    first = result.windows.columns[0] if len(result.windows.columns) else None
    return None if first in (None, "partition", "window_start") else str(first)


def window_grid_of(result: WindowResult) -> TumblingWindowSpec | None:
    """The window grid (size and offset) of the run, read off any window it reports."""
    for frame in (result.windows, result.pending, result.late):
        if len(frame):
            start = frame["window_start"].iloc[0]
            # Any window start is on the grid: the spec normalises it to the offset.
            size = frame["window_end"].iloc[0] - start
            return TumblingWindowSpec(size, offset=pd.Timedelta(start.value))
    return None


def rows_per_key(result: WindowResult, key_column: str) -> pd.DataFrame:
    """Valid rows per key, read off the result alone: ``accepted``, ``dropped``, ``valid``.

    A window's accepted rows are the count of its last pane (panes
    accumulate), emitted or pending; valid rows are those plus the dropped
    ones. Sorted by key.

    Examples
    --------
    >>> from mdwindow import tumbling_windows
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": ["A", "A", "A", "B", "A", "B", "A"],
    ... })
    >>> table = rows_per_key(tumbling_windows(ticks, "2s"), "symbol")
    >>> table.index.tolist(), table["accepted"].tolist(), table["dropped"].tolist()
    (['A', 'B'], [3, 1], [2, 1])
    """
    frames = [f[[key_column, "window_start", "count"]] for f in (result.windows, result.pending)]
    panes = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    by_window = panes.groupby([key_column, "window_start"], observed=True, sort=False)["count"]
    accepted = by_window.max().groupby(level=0, observed=True).sum()
    dropped = result.late[key_column].value_counts()
    table = pd.DataFrame({"accepted": accepted, "dropped": dropped}).fillna(0).astype(np.int64)
    table.index.name = key_column
    table["valid"] = table["accepted"] + table["dropped"]
    return table.sort_index()


class ArrivalRows:
    """Per-row facts of a result in arrival order, with what the ticks add.

    Attributes
    ----------
    n : int
        Rows traced.
    status : numpy.ndarray
        Status codes of :mod:`mdwindow.core.rules` (``ON_TIME`` ... ``REJECTED``).
    w_before, w_after : numpy.ndarray
        Watermark of the row's scope just before and just after it (ns).
    t : numpy.ndarray
        Event times (ns); without ticks only those of dropped rows, NEG_INF elsewhere.
    keys, arrival_stamp : numpy.ndarray or None
        Keys and arrival times (ns) of the rows, when the ticks have them.
    """

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
        # By name, so that the codes are the rules' whatever the categories' order.
        codes = trace["status"].cat.set_categories(STATUS_NAMES).cat.codes.to_numpy()
        self.status = np.asarray(codes[at], dtype=np.int8)
        self.w_before = nanos(trace, "watermark_before")[at]
        self.w_after = nanos(trace, "watermark_after")[at]
        self.has_ticks = ticks is not None
        self.keys: np.ndarray | None = None
        self.arrival_stamp: np.ndarray | None = None
        if ticks is not None:
            self._read_ticks(ticks, at, time, key_column, arrival_time, time_unit)
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
                self.t[late["arrival"].to_numpy(np.int64)] = nanos(late, time, time_unit)

    def _read_ticks(
        self,
        ticks: pd.DataFrame,
        at: np.ndarray,
        time: str,
        key_column: str | None,
        arrival_time: str | None,
        time_unit: str | None,
    ) -> None:
        if len(ticks) != self.n:
            raise ValueError(
                f"ticks: got {len(ticks)} rows but the result traces {self.n}; "
                "pass the frame the result was computed from"
            )
        if time not in ticks.columns:
            raise KeyError(
                f"time: column {time!r} is not in ticks (columns: {list(ticks.columns)}); "
                "pass time=<event-time column>"
            )
        self.t = nanos(ticks, time, time_unit)[at]
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
            self.arrival_stamp = nanos(ticks, arrival_time)[at]

    @property
    def valid(self) -> np.ndarray:
        """Whether each row was valid (not rejected)."""
        return self.status != REJECTED

    def one_watermark(self) -> bool:
        """Whether the valid rows' watermarks form one continuous line (as one scope's do)."""
        valid = np.flatnonzero(self.valid)
        return bool(np.array_equal(self.w_before[valid[1:]], self.w_after[valid[:-1]]))
