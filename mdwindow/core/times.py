"""Durations and event-time columns, normalised to int64 nanoseconds (UTC)."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

#: Sentinel for a watermark of minus infinity (before the first row).
NEG_INF = np.iinfo(np.int64).min
INT64_MAX = np.iinfo(np.int64).max

TIME_UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}

#: A number without a unit, which a duration string must not be (zero aside).
_BARE_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")

DurationLike = pd.Timedelta | _dt.timedelta | np.timedelta64 | str


def to_nanos(value: Any, name: str, *, allow_none: bool = False) -> int | None:
    """Convert a duration to integer nanoseconds.

    Parameters
    ----------
    value
        ``pd.Timedelta``, ``datetime.timedelta``, ``np.timedelta64`` or a string
        such as ``"5s"`` or ``"250ms"``. The integer ``0`` is accepted as zero.
    name
        Name of the argument, used in error messages.
    allow_none
        Whether ``None`` is a valid value (returned unchanged).

    Examples
    --------
    >>> to_nanos("250ms", "lag")
    250000000
    """
    if value is None:
        if allow_none:
            return None
        raise TypeError(f"{name}: got None; give a duration such as '5s' or pd.Timedelta('5s')")
    if isinstance(value, bool):
        raise TypeError(f"{name}: got {value!r}; give a duration such as '5s'")
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.timedelta64):
        if int(value) == 0:
            return 0
        raise TypeError(
            f"{name}: got the bare number {value!r}, which has no unit; "
            f"give a duration such as '{value}s', '{value}ms' or pd.Timedelta({value}, 'ms')"
        )
    if isinstance(value, str) and _BARE_NUMBER.fullmatch(value) and float(value) != 0:
        number = value.strip()
        raise ValueError(
            f"{name}: got the bare number {value!r}, which has no unit; give a duration "
            f"such as '{number}s', '{number}ms' or '{number}us' (units: d, h, min, s, ms, us, ns)"
        )
    if isinstance(value, (pd.Timedelta, _dt.timedelta, np.timedelta64, str)):
        try:
            delta = pd.Timedelta(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{name}: cannot read {value!r} as a duration ({exc}); "
                "use a string such as '5s', '250ms', '1min' or a pd.Timedelta"
            ) from None
        if delta is pd.NaT:
            raise ValueError(f"{name}: got a missing duration (NaT); give a duration such as '5s'")
        return int(delta.value)
    raise TypeError(
        f"{name}: got {value!r} of type {type(value).__name__}; "
        "give a duration such as '5s', pd.Timedelta('5s') or datetime.timedelta(seconds=5)"
    )


def event_times(
    frame: pd.DataFrame, column: str, time_unit: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Return the event-time column as int64 nanoseconds since the epoch, UTC.

    Returns ``(nanos, out_of_range)``. Missing times are ``NEG_INF`` (the NaT
    bit pattern); so are times that int64 nanoseconds cannot hold, which are
    also flagged in ``out_of_range``. Integer columns need ``time_unit``.
    """
    return event_times_of(frame[column].array, column, time_unit)


def is_datetime(dtype: Any) -> bool:
    """Whether ``dtype`` holds datetimes (tz-aware or naive, any unit)."""
    return isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype)


def event_times_of(
    values: Any, column: str, time_unit: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`event_times` of a column's values (numpy or pandas array) named ``column``.

    Nanosecond datetimes come back as a view of ``values``, not a copy.
    """
    dtype = values.dtype
    if time_unit is not None and time_unit not in TIME_UNITS:
        raise ValueError(
            f"time_unit: got {time_unit!r}; choose one of {', '.join(map(repr, TIME_UNITS))}"
        )
    if is_datetime(dtype):
        if time_unit is not None:
            raise ValueError(
                f"time_unit: column {column!r} already holds datetimes ({dtype}); "
                "time_unit is only for integer time columns, leave it as None"
            )
        if isinstance(values, pd.arrays.DatetimeArray):
            # Stored as UTC already, whatever the zone: no conversion needed.
            ints, unit = values.asi8, values.unit
        else:
            raw = np.asarray(values)
            ints, unit = raw.view(np.int64), np.datetime_data(raw.dtype)[0]
        if unit == "ns":
            return ints, np.zeros(len(ints), dtype=bool)
        return _scale(ints, ints == NEG_INF, TIME_UNITS[unit])
    series = pd.Series(values, dtype=dtype, copy=False)
    if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        if time_unit is None:
            raise TypeError(
                f"column {column!r} holds integers ({dtype}) but no time_unit was given; "
                "pass time_unit='s', 'ms', 'us' or 'ns' to say what the numbers count"
            )
        missing = series.isna().to_numpy()
        factor = TIME_UNITS[time_unit]
        if pd.api.types.is_unsigned_integer_dtype(dtype):
            # Values past the int64 range would wrap around in the cast below.
            raw = series.to_numpy(dtype=np.uint64, na_value=0)
            too_big = raw > np.uint64(INT64_MAX // factor)
            ints = np.where(too_big, 0, raw).astype(np.int64)
            out, out_of_range = _scale(ints, missing, factor)
            out_of_range |= too_big & ~missing
            out[out_of_range] = NEG_INF
            return out, out_of_range
        ints = series.to_numpy(dtype=np.int64, na_value=0)
        return _scale(ints, missing, factor)
    if pd.api.types.is_float_dtype(dtype) and time_unit is not None:
        raise TypeError(
            f"column {column!r} holds floats ({dtype}); integer times need an integer dtype. "
            "Convert with pd.to_datetime(frame[column], unit=...) or cast to int64 first"
        )
    raise TypeError(
        f"column {column!r} holds {dtype} values, not datetimes; "
        f"convert it first, e.g. frame[{column!r}] = pd.to_datetime(frame[{column!r}], utc=True)"
    )


def _scale(ints: np.ndarray, missing: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Scale integer times to nanoseconds without wrapping around."""
    limit = INT64_MAX // factor
    out_of_range = ~missing & ((ints > limit) | (ints < -limit))
    out = ints * factor if factor != 1 else ints.copy()
    # A value equal to the NaT bit pattern cannot be told from a missing time.
    out_of_range |= ~missing & (out == NEG_INF)
    out[missing | out_of_range] = NEG_INF
    return out, out_of_range


def to_utc(values: np.ndarray) -> pd.DatetimeIndex:
    """int64 nanoseconds (NEG_INF as NaT) -> tz-aware UTC datetimes."""
    return pd.DatetimeIndex(np.asarray(values, dtype=np.int64).view("datetime64[ns]"), tz="UTC")


_UTC = pd.DatetimeTZDtype("ns", "UTC")


def utc_array(values: np.ndarray) -> pd.arrays.DatetimeArray:
    """int64 nanoseconds -> a ``datetime64[ns, UTC]`` array (NEG_INF is NaT)."""
    nanos = np.asarray(values, dtype=np.int64).view("datetime64[ns]")
    try:
        # Wrapping UTC nanoseconds needs no conversion; the public constructors
        # localise value by value, which costs a pass over millions of rows.
        return pd.arrays.DatetimeArray._simple_new(nanos, dtype=_UTC)
    except (AttributeError, TypeError):  # pragma: no cover - other pandas versions
        return pd.array(nanos, dtype=_UTC)


def timedelta_array(values: np.ndarray) -> pd.arrays.TimedeltaArray:
    """int64 nanoseconds -> a ``timedelta64[ns]`` array."""
    nanos = np.asarray(values, dtype=np.int64).view("timedelta64[ns]")
    try:
        return pd.arrays.TimedeltaArray._simple_new(nanos, dtype=nanos.dtype)
    except (AttributeError, TypeError):  # pragma: no cover - other pandas versions
        return pd.array(nanos)


def to_nanos_list(values: Any, name: str) -> list[int]:
    """Durations (one, or a sequence of them) as int64 nanoseconds, each >= 0, in the
    order given; an empty sequence is an error naming ``name``.

    Examples
    --------
    >>> to_nanos_list(["1s", "0s"], "lags")
    [1000000000, 0]
    >>> to_nanos_list("250ms", "lags")
    [250000000]
    """
    if isinstance(values, str) or not isinstance(values, Iterable):
        values = [values]
    out = [to_nanos(v, name) for v in values]
    if not out:
        raise ValueError(f"{name}: got an empty sequence; give at least one duration")
    for value in out:
        if value < 0:
            raise ValueError(f"{name}: got {pd.Timedelta(value)}; durations must be >= 0")
    return out
