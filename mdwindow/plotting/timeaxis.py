"""Event time on an axis: nanoseconds to dates, step lines, window boundaries."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.rules import window_starts
from mdwindow.core.times import event_times

__all__ = ["as_datetimes", "date_numbers", "nanos", "step_points", "window_boundaries"]

_NS_PER_DAY = 86_400 * 10**9


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
