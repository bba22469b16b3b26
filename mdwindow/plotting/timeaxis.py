"""Event time on an axis: nanoseconds to dates, readable date ticks, step lines, window
boundaries and histogram bins over time.

Date axes get matplotlib's :class:`~matplotlib.dates.ConciseDateFormatter`
with clock-time formats and no offset text: tick labels say ``14:57:05``
(or ``14:35``, ``14:57:05.25``), never ``01 14:35``, and the day goes into
the figure's heading (:func:`day_text`), so an axis of a tuner update never
changes its offset.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.rules import window_starts
from mdwindow.core.times import event_times

__all__ = [
    "NICE_BINS",
    "as_datetimes",
    "date_axis",
    "date_numbers",
    "day_text",
    "clock_text",
    "nanos",
    "nice_bin",
    "step_points",
    "window_boundaries",
]

_NS_PER_DAY = 86_400 * 10**9
_NS_PER_SECOND = 10**9
#: Tick label formats by the finest date field that changes between ticks (years,
#: months, days, hours, minutes, seconds); seconds lose their trailing zeros.
_FORMATS = ["%Y", "%Y-%m", "%m-%d", "%H:%M", "%H:%M", "%H:%M:%S.%f"]
_ZERO_FORMATS = ["%Y", "%Y-%m", "%m-%d", "%m-%d", "%H:%M", "%H:%M:%S.%f"]
#: Histogram bin widths over time, in seconds: the smallest that is a whole number of
#: windows and gives at most the asked number of bins is taken.
NICE_BINS = (
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30,
    60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400,
)  # fmt: skip


def as_datetimes(values: np.ndarray) -> np.ndarray:
    """int64 nanoseconds (NEG_INF as NaT) -> naive UTC datetime64[ns], without a copy."""
    return np.asarray(values, dtype=np.int64).view("datetime64[ns]")


def date_numbers(values: np.ndarray) -> np.ndarray:
    """int64 ns since the epoch -> matplotlib date numbers (days since 1970, its epoch)."""
    return np.asarray(values, dtype=np.float64) / _NS_PER_DAY


def nanos(frame: pd.DataFrame, column: str, time_unit: str | None = None) -> np.ndarray:
    """A time column of ``frame`` as int64 nanoseconds (NEG_INF where missing)."""
    return event_times(frame, column, time_unit)[0]


def step_points(x: np.ndarray, y: np.ndarray, end: Any) -> tuple[np.ndarray, np.ndarray]:
    """A step function (``where="post"``) by its change points, held until ``end``.

    Examples
    --------
    >>> x, y = step_points(np.arange(4), np.array([5, 5, 7, 7]), 9)
    >>> x.tolist(), y.tolist()
    ([0, 2, 9], [5, 7, 7])
    """
    if len(y) == 0:
        return x, y
    keep = np.ones(len(y), bool)
    keep[1:] = y[1:] != y[:-1]
    x, y = x[keep], y[keep]
    if end is not None and end != x[-1]:
        x, y = np.append(x, end), np.append(y, y[-1])
    return x, y


def window_boundaries(lo: int, hi: int, size: int, offset: int, limit: int) -> np.ndarray:
    """Starts and ends of the windows of event times ``lo`` to ``hi`` (ns), ascending.

    Empty when there would be more than ``limit`` of them, too many to read.

    Examples
    --------
    >>> window_boundaries(3, 7, 2, 1, 40).tolist()
    [3, 5, 7, 9]
    """
    first, last = window_starts(np.array([lo, hi], np.int64), size, offset)
    # The starts of the windows from lo's to hi's, and the end of hi's.
    count = (last - first) // size + 2
    if count > limit:
        return np.empty(0, np.int64)
    return first + size * np.arange(count, dtype=np.int64)


def date_axis(axis: Any, label: str, *, max_ticks: int = 7) -> None:
    """Readable UTC clock times on a matplotlib ``axis`` (x or y) holding datetimes.

    A date locator that puts no more ticks than the axis has room for (at
    most ``max_ticks``) and a :class:`~matplotlib.dates.ConciseDateFormatter`
    of clock times without offset text; ``label`` becomes the axis label.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> _ = ax.plot(as_datetimes(np.array([0, 20 * 10**9])), [0, 1])
    >>> date_axis(ax.xaxis, "arrival time (UTC)")
    >>> ax.figure.canvas.draw()
    >>> [t.get_text() for t in ax.get_xticklabels()][:3]
    ['00:00:00', '00:00:10', '00:00:20']
    """
    import matplotlib.dates as mdates

    class Locator(mdates.AutoDateLocator):
        """As many ticks as the axis has room for, up to ``max_ticks``."""

        def __call__(self) -> Any:
            if self.axis is not None:
                room = self.axis.get_tick_space()
                if self.axis.axis_name == "x":
                    # get_tick_space allows 3 font sizes a label; a clock time takes 6.5.
                    room = room * 3 // 6.5
                self.maxticks = dict.fromkeys(self.maxticks, int(min(max(room, 2), max_ticks)))
            return super().__call__()

    locator = Locator(minticks=2, maxticks=max_ticks)
    formatter = mdates.ConciseDateFormatter(
        locator, formats=_FORMATS, zero_formats=_ZERO_FORMATS, show_offset=False
    )
    axis.set_major_locator(locator)
    axis.set_major_formatter(formatter)
    axis.set_label_text(label)


def day_text(lo: int, hi: int) -> str:
    """The UTC day (or days) of the times ``lo`` to ``hi`` (ns), for a heading.

    Examples
    --------
    >>> day = 19_783 * 86_400 * 10**9  # 2024-03-01
    >>> day_text(day, day + 3_600 * 10**9), day_text(day, day + _NS_PER_DAY)
    ('2024-03-01', '2024-03-01 to 2024-03-02')
    """
    first, last = (str(np.datetime64(int(v), "ns").astype("datetime64[D]")) for v in (lo, hi))
    return first if first == last else f"{first} to {last}"


def clock_text(lo: int, hi: int) -> str:
    """The UTC clock times ``lo`` to ``hi`` (ns), to the precision that tells them apart.

    Examples
    --------
    >>> clock_text(10**9 * 3_600, 10**9 * 3_720), clock_text(0, 250 * 10**6)
    ('01:00:00 to 01:02:00', '00:00:00.000 to 00:00:00.250')
    """
    precise = (hi - lo) < 10 * _NS_PER_SECOND and (lo % _NS_PER_SECOND or hi % _NS_PER_SECOND)
    unit = "ms" if precise else "s"
    texts = [
        str(np.datetime64(int(v), "ns").astype(f"datetime64[{unit}]")).split("T")[-1]
        for v in (lo, hi)
    ]
    return " to ".join(texts)


def nice_bin(span: int, size: int, max_bins: int) -> int:
    """A histogram bin width (ns) over ``span`` ns: a whole number of windows of ``size``
    ns, a round duration when one fits, and at most ``max_bins`` bins.

    Examples
    --------
    >>> s = 10**9
    >>> nice_bin(1_800 * s, 5 * s, 60) // s, nice_bin(60 * s, 5 * s, 60) // s
    (30, 5)
    >>> nice_bin(1_800 * s, 7 * s, 60) // s  # no round duration is a multiple of 7s
    56
    """
    needed = max(span // max(max_bins, 1), 1)
    for seconds in NICE_BINS:
        width = int(round(seconds * _NS_PER_SECOND))
        if width >= needed and width >= size and width % size == 0:
            return width
    # Whole windows, in powers of two.
    windows = 1
    while size * windows < needed:
        windows *= 2
    return size * windows
