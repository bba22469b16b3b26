"""Per-pane outputs of the compiled passes, laid out as the blocks of the ``windows`` frame.

A compiled pass writes each emitted pane straight into the arrays that
become the frame's blocks: the three time columns in one int64 array (one
datetime block), the four counts in another (one int64 block), the prices
in a third. The frame is then put together from those blocks without a
copy, whatever the number of panes. ``counts`` starts as zeros (``calloc``:
pages never written cost nothing), so a pass writes a late count only when
it is not zero, and never writes ``revision`` when every pane is the first.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from mdwindow.core.frames import (
    TIMINGS,
    BlockLayout,
    categorical,
    column_labels,
    plain_values,
    take_values,
)
from mdwindow.core.key_coding import KeyTable
from mdwindow.core.options import WindowOptions
from mdwindow.core.times import utc_array

#: Rows of ``times`` and of ``counts``.
T_START, T_END, T_WATERMARK = range(3)
N_COUNT, N_LATE, N_REVISION, N_ROW = range(4)
_TIMES = ("window_start", "window_end", "emit_watermark")
_COUNTS = ("count", "late_count", "revision", "emit_row")


class PaneColumns(NamedTuple):
    """What a compiled pass writes for each pane (one column per pane, in emission order)."""

    key: np.ndarray  # (cap,) int64: key code
    times: np.ndarray  # (3, cap) int64: T_* nanoseconds
    counts: np.ndarray  # (4, cap) int64: N_*, zero until written
    timing: np.ndarray  # (cap,) int8: index in TIMINGS (empty: one timing for all)
    prices: np.ndarray  # (4, cap): open, high, low, close (fused OHLCV; else (4, 0))
    volume: np.ndarray  # (cap,) of the size dtype (fused; else empty)
    vwap: np.ndarray  # (cap,) float64 (fused; else empty)


def new_pane_columns(
    capacity: int, fused_dtypes: tuple | None, *, timing: bool = False
) -> PaneColumns:
    """Room for ``capacity`` panes; OHLCV columns when ``fused_dtypes`` (price, size) is given."""
    price_dtype, size_dtype = fused_dtypes if fused_dtypes is not None else (np.float64,) * 2
    folded = capacity if fused_dtypes is not None else 0
    return PaneColumns(
        key=np.empty(capacity, np.int64),
        times=np.empty((3, capacity), np.int64),
        counts=np.zeros((4, capacity), np.int64),
        timing=np.empty(capacity if timing else 0, np.int8),
        prices=np.empty((4, folded), price_dtype),
        volume=np.empty(folded, size_dtype),
        vwap=np.empty(folded, np.float64),
    )


def first_panes(columns: PaneColumns, n: int) -> PaneColumns:
    """The first ``n`` panes of ``columns`` (views)."""
    return PaneColumns(
        columns.key[:n],
        columns.times[:, :n],
        columns.counts[:, :n],
        columns.timing[:n],
        columns.prices[:, :n],
        columns.volume[:n],
        columns.vwap[:n],
    )


class _Layout(NamedTuple):
    """How the ``windows`` frame of one run is laid out, its aggregates folded or not."""

    blocks: BlockLayout  # key, [partition], times, counts, aggregates..., timing, [emit_time]
    utc: Any  # the dtype of the time columns


#: Layouts by (id of the options, folded?): options records live as long as their runs.
_LAYOUTS: dict[tuple[int, bool], tuple[WindowOptions, _Layout]] = {}


def _layout(cfg: WindowOptions, folded: bool) -> _Layout:
    found = _LAYOUTS.get((id(cfg), folded))
    if found is not None and found[0] is cfg:
        return found[1]
    names: list[str] = []
    if cfg.key is not None:
        names.append(cfg.key)
    if cfg.partitions is not None:
        names.append("partition")
    names += ["window_start", "window_end", *cfg.plan.names]
    names += ["count", "late_count", "timing", "revision", "emit_row", "emit_watermark"]
    if cfg.arrival_time is not None:
        names.append("emit_time")
    at = {name: j for j, name in enumerate(names)}
    groups = [[at[cfg.key]]] if cfg.key is not None else []
    if cfg.partitions is not None:
        groups.append([at["partition"]])
    groups += [[at[name] for name in _TIMES], [at[name] for name in _COUNTS]]
    aggregates = cfg.plan.names
    if folded:
        groups += [[at[name] for name in aggregates[:4]], [at[aggregates[4]]], [at[aggregates[5]]]]
    else:
        groups += [[at[name]] for name in aggregates]
    groups.append([at["timing"]])
    if cfg.arrival_time is not None:
        groups.append([at["emit_time"]])
    layout = _Layout(
        BlockLayout(column_labels(tuple(names)), groups), utc_array(np.empty(0, np.int64)).dtype
    )
    if len(_LAYOUTS) > 256:
        _LAYOUTS.clear()
    _LAYOUTS[id(cfg), folded] = (cfg, layout)
    return layout


def _row(values: Any) -> Any:
    """A column as a block takes it: numpy values as one row, pandas arrays as they are."""
    values = plain_values(values)
    return values.reshape(1, -1) if isinstance(values, np.ndarray) else values


def windows_frame(
    cfg: WindowOptions,
    columns: PaneColumns,
    keys: pd.Index | None,
    key_partition: np.ndarray,
    key_table: KeyTable | None,
    *,
    values: dict[str, Any] | None = None,
    timing: str | None = None,
    emit_time: np.ndarray | None = None,
) -> pd.DataFrame:
    """The ``windows`` frame of the panes in ``columns`` (as :func:`first_panes` cut them).

    The aggregates are the fused OHLCV columns, or ``values`` (name -> one
    value per pane); ``timing`` names the timing of every pane when the pass
    wrote none.
    """
    layout = _layout(cfg, values is None)
    n = len(columns.key)
    blocks: list[Any] = []
    if cfg.key is not None:
        strings = None
        if key_table is not None and keys is not None and key_table.size == len(keys):
            strings = (key_table.offsets, key_table.data)
        taken = (
            take_values(keys.array, columns.key, strings)
            if keys is not None
            else np.empty(0, object)
        )
        blocks.append(_row(taken))
    if cfg.partitions is not None:
        partition = key_partition[columns.key] if n else np.empty(0, np.int64)
        blocks.append(_row(partition.astype(np.int64, copy=False)))
    blocks.append(
        pd.arrays.DatetimeArray._simple_new(columns.times.view("datetime64[ns]"), dtype=layout.utc)
    )
    blocks.append(columns.counts)
    if values is None:
        blocks += [columns.prices, _row(columns.volume), _row(columns.vwap)]
    else:
        blocks += [_row(values[name]) for name in cfg.plan.names]
    codes = columns.timing if timing is None else np.full(n, TIMINGS.index(timing), np.int8)
    blocks.append(categorical(codes, TIMINGS))
    if cfg.arrival_time is not None:
        stamps = emit_time if emit_time is not None else np.full(n, np.iinfo(np.int64).min)
        blocks.append(utc_array(stamps))
    return layout.blocks.frame(blocks, n)
