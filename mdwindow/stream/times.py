"""Event times returned by ``get_event_time``, as int64 UTC nanoseconds."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.rules import INT64_MAX, NEG_INF
from mdwindow.core.times import event_times_of

__all__ = ["event_nanos", "nanos_of"]

#: The argument named in errors about event times.
SOURCE = "get_event_time"


def _is_integer(kind: type) -> bool:
    return issubclass(kind, int | np.integer) and not issubclass(kind, bool | np.bool_)


_INT = {int}
_DATETIME_KINDS = (_dt.datetime, np.datetime64, type(None), type(pd.NaT))


def event_nanos(values: list[Any], time_unit: str = "ns") -> tuple[np.ndarray, np.ndarray]:
    """Event times as int64 UTC nanoseconds (``NEG_INF`` where missing) and an out-of-range mask.

    Accepts ``datetime.datetime`` (naive is taken as UTC), ``pd.Timestamp``,
    ``np.datetime64``, integers counting ``time_unit``, and None / NaT / NaN
    for a missing time. Integers are scaled as the engine scales an integer
    time column (:func:`mdwindow.core.times.event_times_of`).

    Examples
    --------
    >>> event_nanos([1_000, pd.Timestamp("1970-01-01 00:00:01", tz="UTC"), None])[0].tolist()
    [1000, 1000000000, -9223372036854775808]
    >>> event_nanos([3, 2**62], "s")[1].tolist()
    [False, True]
    """
    kinds = set(map(type, values))
    if kinds == _INT and time_unit == "ns":
        # The common case (int nanoseconds): nothing to scale, and pandas'
        # checks would cost more than the rest of the batch's reading.
        try:
            nanos = np.array(values, dtype=np.int64)
        except OverflowError:
            return _nanos_one_by_one(values, time_unit)
        # The NaT bit pattern cannot be told from a missing time.
        return nanos, nanos == NEG_INF
    if all(_is_integer(kind) for kind in kinds):
        try:
            ints = np.array(values, dtype=np.int64)
        except OverflowError:
            return _nanos_one_by_one(values, time_unit)
        return event_times_of(ints, SOURCE, time_unit)
    if all(issubclass(kind, _DATETIME_KINDS) for kind in kinds):
        try:
            stamps = pd.to_datetime(values, utc=True).as_unit("ns")
        except (OverflowError, ValueError, TypeError):
            return _nanos_one_by_one(values, time_unit)
        return np.array(stamps.asi8, dtype=np.int64), np.zeros(len(values), bool)
    return _nanos_one_by_one(values, time_unit)


def _nanos_one_by_one(values: list[Any], time_unit: str) -> tuple[np.ndarray, np.ndarray]:
    nanos = np.empty(len(values), np.int64)
    out_of_range = np.zeros(len(values), bool)
    integers = np.zeros(len(values), bool)
    for position, value in enumerate(values):
        if _is_integer(type(value)):
            # In int64 here, scaled below with the others; beyond it, out of range.
            integers[position] = NEG_INF <= value <= INT64_MAX
            out_of_range[position] = not integers[position]
            nanos[position] = value if integers[position] else NEG_INF
        else:
            nanos[position], out_of_range[position] = _one_nanos(value)
    if integers.any():
        nanos[integers], out_of_range[integers] = event_times_of(
            nanos[integers], SOURCE, time_unit
        )
    return nanos, out_of_range


def _one_nanos(value: Any) -> tuple[int, bool]:
    if value is None or value is pd.NaT:
        return NEG_INF, False
    if isinstance(value, float | np.floating) and math.isnan(value):
        return NEG_INF, False
    if isinstance(value, _dt.datetime | np.datetime64):
        stamp = pd.Timestamp(value)
        if stamp is pd.NaT:
            return NEG_INF, False
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize("UTC")
        try:
            return int(stamp.as_unit("ns").value), False
        except (OverflowError, ValueError):
            return NEG_INF, True
    raise TypeError(
        f"{SOURCE}: returned {value!r} of type {type(value).__name__}; return a "
        "datetime, pd.Timestamp, np.datetime64 or an integer count of time_unit "
        "(nanoseconds by default). Convert text first, e.g. pd.Timestamp(text)"
    )


def nanos_of(column: pd.Series) -> np.ndarray:
    """A datetime column of the engine's frames as int64 nanoseconds (NaT is ``NEG_INF``)."""
    return column.to_numpy(dtype="datetime64[ns]").view(np.int64)
