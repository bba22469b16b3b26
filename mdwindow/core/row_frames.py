"""The per-row result frames of a chunk: ``late``, ``rejected`` and ``trace``.

``late`` and ``rejected`` are the input's own rows (every column, the index)
with columns added; their layouts (the input's columns plus the added ones)
are worked out once per input schema. ``trace`` is one row per input row,
aligned with the input index.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from mdwindow.core.frames import (
    REASONS,
    STATUSES,
    categorical,
    column_labels,
    make_frame,
    plain_values,
    take_values,
)
from mdwindow.core.times import timedelta_array, utc_array


class _Layout(NamedTuple):
    """What ``frame.iloc[[]]`` with columns appended looks like, for one input schema."""

    columns: pd.Index
    dtypes: list
    index: tuple  # type, dtype and names of the index
    added: list
    labels: pd.Index  # columns of the result
    empty: pd.DataFrame  # the result for no rows (copied, never handed out)


#: The last layout seen per set of added columns (late, rejected).
_LAYOUTS: dict[tuple, _Layout] = {}


def _layout(frame: pd.DataFrame, added: dict[str, Any]) -> _Layout | None:
    """The layout of ``frame`` with ``added`` columns, or None when it has no simple one."""
    columns, index = frame.columns, frame.index
    if isinstance(columns, pd.MultiIndex) or not columns.is_unique:
        return None
    if type(index) not in (pd.RangeIndex, pd.Index):
        # Other index types keep more than their dtype in an empty take (levels, freq).
        return None
    try:
        dtypes = list(frame._mgr.get_dtypes())
    except AttributeError:  # pragma: no cover - other pandas versions
        return None
    names = tuple(added)
    added_dtypes = [values.dtype for values in added.values()]
    known = _LAYOUTS.get(names)
    if (
        known is not None
        and known.dtypes == dtypes
        and known.added == added_dtypes
        and known.index == (type(index), index.dtype, index.names)
        and (known.columns is columns or known.columns.equals(columns))
        and known.columns.dtype == columns.dtype
        and known.columns.name == columns.name
    ):
        return known
    # Assign the columns one by one as the plain pandas way would, once per schema.
    empty = frame.iloc[np.empty(0, np.int64)].copy()
    for name, values in added.items():
        empty[name] = values[:0]
    arrays = [plain_values(empty.iloc[:, j].array) for j in range(empty.shape[1])]
    layout = _Layout(
        columns,
        dtypes,
        (type(index), index.dtype, index.names),
        added_dtypes,
        empty.columns,
        make_frame(empty.columns, arrays, empty.index),
    )
    _LAYOUTS[names] = layout
    return layout


def _with_columns(frame: pd.DataFrame, at: np.ndarray, added: dict[str, Any]) -> pd.DataFrame:
    """``frame.iloc[at]`` with ``added`` columns appended, as ``out[name] = values`` would."""
    layout = _layout(frame, added)
    if layout is None:
        out = frame.iloc[at].copy()
        for name, values in added.items():
            out[name] = values
        return out
    if not len(at):
        return layout.empty.copy(deep=False)
    manager = frame._mgr
    arrays = [take_values(manager.iget_values(j), at) for j in range(len(frame.columns))]
    return make_frame(layout.labels, arrays + list(added.values()), frame.index.take(at))


def late_frame(frame, prepared, positions, arrival, start, size, watermark, late_by):
    return _with_columns(
        frame,
        positions if prepared.order is None else prepared.order[positions],
        {
            "arrival": arrival,
            "window_start": utc_array(start),
            "window_end": utc_array(start + size),
            "watermark": utc_array(watermark),
            "late_by": timedelta_array(late_by),
        },
    )


def rejected_frame(frame, prepared, positions, arrival, reason):
    return _with_columns(
        frame,
        positions if prepared.order is None else prepared.order[positions],
        {"arrival": arrival, "reason": categorical(reason, REASONS)},
    )


_TRACE = ("arrival", "window_start", "watermark_before", "watermark_after", "status")


def trace_frame(frame, prepared, arrival, start, w_before, w_after, status):
    """One row per input row, in input order, aligned with the input index.

    ``start`` is NEG_INF for rejected rows.
    """
    n = prepared.n
    if prepared.order is None:
        back = slice(None)
    else:
        back = np.empty(n, np.int64)
        back[prepared.order] = np.arange(n)
    arrays = [
        arrival[back],
        utc_array(start[back]),
        utc_array(w_before[back]),
        utc_array(w_after[back]),
        categorical(status[back], STATUSES),
    ]
    return make_frame(column_labels(_TRACE), arrays, frame.index)
