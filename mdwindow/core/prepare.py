"""Input checks and normalisation: a chunk in, one normalised chunk out.

Everything here raises before any state changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.options import WindowOptions
from mdwindow.core.rules import NEG_INF
from mdwindow.core.state import State
from mdwindow.core.times import event_times_of, is_datetime

#: The last (config, column index, column names) that passed
#: :func:`require_columns`: a replay of one frame's slices checks its columns once.
_CHECKED: tuple[Any, Any, Any] = (None, None, None)


def require_columns(cfg: WindowOptions, frame: pd.DataFrame) -> None:
    global _CHECKED
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"ticks: got {type(frame).__name__}; give a pandas DataFrame")
    columns = frame.columns
    # Slices of one frame share the (immutable) values of its column index.
    labels = getattr(columns, "_values", columns)
    if _CHECKED[0] is cfg and (_CHECKED[1] is labels or _CHECKED[2] == tuple(columns)):
        return
    _check_columns(cfg, frame)
    _CHECKED = (cfg, labels, tuple(columns))


def _check_columns(cfg: WindowOptions, frame: pd.DataFrame) -> None:
    wanted = [("time", cfg.time)]
    if cfg.key is not None:
        wanted.append(("key", cfg.key))
    if cfg.arrival_time is not None:
        wanted.append(("arrival_time", cfg.arrival_time))
    wanted += [("agg", c) for c in cfg.plan.columns]
    columns = frame.columns
    if isinstance(columns, pd.MultiIndex):
        raise TypeError(
            "ticks: the frame has MultiIndex columns; flatten them first, e.g. "
            "ticks.columns = ['_'.join(map(str, c)) for c in ticks.columns]"
        )
    for role, column in wanted:
        if column not in columns:
            available = list(map(str, columns))
            hint = (
                "set price=/size= to the right columns"
                if role == "agg"
                else f"pass {role}=<column name>"
            )
            raise KeyError(
                f"{role}: column {column!r} is not in the frame (columns: {available}); {hint}"
            )
        copies = int((columns == column).sum())
        if copies > 1:
            raise ValueError(
                f"{role}: column {column!r} appears {copies} times in the frame; "
                "give every column a distinct name first"
            )
    clashes = [c for c in ADDED_COLUMNS if c in columns]
    if clashes:
        raise ValueError(
            f"ticks: column(s) {clashes} would be overwritten by the columns that the late "
            "and rejected frames add; rename them first, e.g. "
            f"ticks.rename(columns={{{clashes[0]!r}: {clashes[0] + '_in'!r}}})"
        )


#: The column index last read by :func:`column_values`, and positions found in it.
_LOCATED: tuple[Any, dict[str, Any]] = (None, {})

#: Columns that ``late``, ``rejected`` add to the input's own columns.
ADDED_COLUMNS = ("arrival", "window_start", "window_end", "watermark", "late_by", "reason")


def time_kind(values: Any) -> str:
    """``"datetime"``, ``"integer"`` or ``"other"`` (refused by the time conversion)."""
    dtype = values.dtype
    kind = _TIME_KINDS.get(dtype)
    if kind is None:
        kind = "other"
        if is_datetime(dtype):
            kind = "datetime"
        elif pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            kind = "integer"
        _TIME_KINDS[dtype] = kind
    return kind


#: What :func:`time_kind` and :func:`_is_number` found of each dtype (a chunk per push
#: asks again for the same few dtypes).
_TIME_KINDS: dict[Any, str] = {}
_NUMBERS: dict[Any, bool] = {}


def column_values(frame: pd.DataFrame, name: str) -> Any:
    """The values (numpy or pandas array) of column ``name``, without building a Series."""
    global _LOCATED
    try:
        columns = frame.columns
        # Slices of one frame share their column index: its positions are found once.
        labels, found = _LOCATED
        if labels is not columns:
            labels, found = _LOCATED = (columns, {})
        loc = found.get(name)
        if loc is None:
            loc = found[name] = columns.get_loc(name)
        if isinstance(loc, (int, np.integer)):
            return frame._mgr.iget_values(loc)
    except AttributeError:  # pragma: no cover - other pandas versions
        pass
    series = frame[name]
    return series.to_numpy() if isinstance(series.dtype, np.dtype) else series.array


@dataclass
class Prepared:
    """One chunk, checked and normalised: everything after :func:`prepare` reads this.

    Per-row arrays are in arrival order, except ``key_values`` (frame order,
    coded by :mod:`mdwindow.core.keys` straight from its buffers). ``frame``
    is the chunk as given, kept for the late, rejected and trace frames,
    which show its own columns.
    """

    frame: pd.DataFrame
    n: int
    order: np.ndarray | None  # arrival position -> frame position
    t: np.ndarray
    out_of_range: np.ndarray
    arrival_stamp: np.ndarray | None
    key_values: Any  # the key column's values, in frame order (None: no key)
    time_kind: str
    columns: dict[str, Any]  # the aggregated columns, in arrival order

    @property
    def keys(self) -> pd.Series | None:
        """The key column in arrival order (RangeIndex)."""
        if self.key_values is None:
            return None
        # An explicit dtype: pandas would infer "str" from object values.
        keys = pd.Series(self.key_values, dtype=self.key_values.dtype, copy=False)
        return keys if self.order is None else keys.take(self.order).reset_index(drop=True)


def arrival_order(stamps: Any, column: str) -> tuple[np.ndarray, np.ndarray]:
    """``(order, stamps in that order)`` of an ``arrival_time`` column's values.

    The order is the stable sort of the stamps (int64 ns); raises when they
    are not datetimes, are missing or are out of range.
    """
    if time_kind(stamps) != "datetime":
        raise TypeError(
            f"arrival_time: column {column!r} holds "
            f"{stamps.dtype} values, not datetimes; convert it first, "
            f"e.g. pd.to_datetime(frame[{column!r}], utc=True)"
        )
    raw, out_of_range = event_times_of(stamps, column, None)
    missing = int(((raw == NEG_INF) & ~out_of_range).sum())
    if missing:
        raise ValueError(
            f"arrival_time: column {column!r} has {missing} missing value(s); "
            "arrival order must be known for every row: fill or drop them first"
        )
    if out_of_range.any():
        raise ValueError(
            f"arrival_time: column {column!r} has times outside the "
            "datetime64[ns] range; drop or fix those rows"
        )
    order = np.argsort(raw, kind="stable")
    return order, raw[order]


def prepare(cfg: WindowOptions, state: State, frame: pd.DataFrame) -> Prepared:
    """Check a chunk and bring it into arrival order; raises before any work."""
    require_columns(cfg, frame)
    times = column_values(frame, cfg.time)
    kind = time_kind(times)
    if kind == "other":
        event_times_of(times, cfg.time, cfg.time_unit)  # raises, saying what to do
    if state.time_kind is not None and len(frame) and kind != state.time_kind:
        raise TypeError(
            f"time: column {cfg.time!r} holds {kind} times in this chunk but "
            f"{state.time_kind} times in earlier ones; convert every chunk the same way"
        )
    t, out_of_range = event_times_of(times, cfg.time, cfg.time_unit)
    n = len(frame)
    order = None
    stamp = None
    if cfg.arrival_time is not None:
        order, stamp = arrival_order(column_values(frame, cfg.arrival_time), cfg.arrival_time)
        if n and stamp[0] < state.last_arrival_time:
            raise ValueError(
                f"arrival_time: this chunk starts at {pd.Timestamp(int(stamp[0]), tz='UTC')}, "
                f"before the last arrival of earlier chunks "
                f"({pd.Timestamp(int(state.last_arrival_time), tz='UTC')}); "
                "push chunks in arrival order"
            )
        t = t[order]
        out_of_range = out_of_range[order]
    keys = column_values(frame, cfg.key) if cfg.key is not None else None
    columns = {}
    for name in cfg.plan.columns:
        # numpy columns stay numpy for the compiled reductions.
        values = column_values(frame, name)
        if cfg.plan.is_ohlcv and not _is_number(values.dtype):
            raise TypeError(
                f"agg: column {name!r} holds {values.dtype} values, but 'ohlcv' needs numbers; "
                f"convert it first, e.g. pd.to_numeric(ticks[{name!r}])"
            )
        columns[name] = values if order is None else values.take(order)
    return Prepared(frame, n, order, t, out_of_range, stamp, keys, kind, columns)


def _is_number(dtype: Any) -> bool:
    number = _NUMBERS.get(dtype)
    if number is None:
        number = _NUMBERS[dtype] = bool(
            pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        )
    return number


def nonzero_or_empty(flags: np.ndarray) -> np.ndarray:
    """``flags``, or an empty array when none is set (the compiled pass then skips them)."""
    return flags if flags.any() else flags[:0]
