"""Event times returned by ``get_event_time``, as int64 UTC nanoseconds."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["NEG_INF", "TIME_UNITS", "event_nanos"]

#: Missing time (the NaT bit pattern), as in the engine.
NEG_INF = int(np.iinfo(np.int64).min)
INT64_MAX = int(np.iinfo(np.int64).max)
TIME_UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def _is_integer(kind: type) -> bool:
    return issubclass(kind, int | np.integer) and not issubclass(kind, bool | np.bool_)


_INT = {int}
_DATETIME_KINDS = (_dt.datetime, np.datetime64, type(None), type(pd.NaT))


def event_nanos(values: list[Any], factor: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Event times as int64 UTC nanoseconds (``NEG_INF`` where missing) and an out-of-range mask.

    Accepts ``datetime.datetime`` (naive is taken as UTC), ``pd.Timestamp``,
    ``np.datetime64``, integers counting ``factor`` nanoseconds, and None /
    NaT / NaN for a missing time.

    Examples
    --------
    >>> event_nanos([1_000, pd.Timestamp("1970-01-01 00:00:01", tz="UTC"), None])[0].tolist()
    [1000, 1000000000, -9223372036854775808]
    """
    kinds = set(map(type, values))
    if kinds == _INT and factor == 1:
        # The common case (int nanoseconds): only the NaT bit pattern needs a look.
        try:
            nanos = np.array(values, dtype=np.int64)
        except OverflowError:
            return _nanos_one_by_one(values, factor)
        out_of_range = nanos == NEG_INF
        return nanos, out_of_range
    if all(_is_integer(kind) for kind in kinds):
        try:
            ints = np.array(values, dtype=np.int64)
        except OverflowError:
            return _nanos_one_by_one(values, factor)
        limit = INT64_MAX // factor
        out_of_range = (ints > limit) | (ints < -limit)
        nanos = ints * factor if factor != 1 else ints
        # The NaT bit pattern cannot be told from a missing time.
        out_of_range |= nanos == NEG_INF
        nanos[out_of_range] = NEG_INF
        return nanos, out_of_range
    if all(issubclass(kind, _DATETIME_KINDS) for kind in kinds):
        try:
            stamps = pd.to_datetime(values, utc=True).as_unit("ns")
        except (OverflowError, ValueError, TypeError):
            return _nanos_one_by_one(values, factor)
        return np.array(stamps.asi8, dtype=np.int64), np.zeros(len(values), bool)
    return _nanos_one_by_one(values, factor)


def _nanos_one_by_one(values: list[Any], factor: int) -> tuple[np.ndarray, np.ndarray]:
    nanos = np.empty(len(values), np.int64)
    out_of_range = np.zeros(len(values), bool)
    for position, value in enumerate(values):
        nanos[position], out_of_range[position] = _one_nanos(value, factor)
    return nanos, out_of_range


def _one_nanos(value: Any, factor: int) -> tuple[int, bool]:
    if value is None or value is pd.NaT:
        return NEG_INF, False
    if _is_integer(type(value)):
        scaled = int(value) * factor
        if not NEG_INF < scaled <= INT64_MAX:
            return NEG_INF, True
        return scaled, False
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
        f"get_event_time: returned {value!r} of type {type(value).__name__}; return a "
        "datetime, pd.Timestamp, np.datetime64 or an integer count of time_unit "
        "(nanoseconds by default). Convert text first, e.g. pd.Timestamp(text)"
    )


def object_column(values: list[Any]) -> np.ndarray:
    # fromiter keeps each key whole: np.array would split tuple keys into columns.
    return np.fromiter(values, dtype=object, count=len(values))


def nanos_of(column: pd.Series) -> np.ndarray:
    return column.to_numpy(dtype="datetime64[ns]").view(np.int64)
