"""Panes to frames: aggregate the rows of each pane and lay out ``windows``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from mdwindow.core.aggregate import aggregate
from mdwindow.core.frames import (
    TIMINGS,
    categorical,
    column_labels,
    make_frame,
    plain_values,
    take_values,
)
from mdwindow.core.kernels import emission_order, group_rows, prefix_lengths, window_ids
from mdwindow.core.key_coding import KeyTable
from mdwindow.core.options import WindowOptions
from mdwindow.core.prepare import Prepared
from mdwindow.core.row_frames import late_frame, rejected_frame, trace_frame
from mdwindow.core.rules import NEG_INF
from mdwindow.core.state import ChunkOutput, Deferred
from mdwindow.core.times import utc_array

#: Chunks of more rows than this are always held as a copy-on-write view
#: (cheaper than copying their event times for the trace).
HOLD_ROWS = 1 << 16


def _held(frame: pd.DataFrame, always: bool, *positions: np.ndarray) -> pd.DataFrame:
    """``frame`` as a deferred build may keep it: a copy-on-write view when rows
    of it are taken later (so changing the caller's frame changes nothing here)."""
    if not (always or any(len(p) for p in positions)):
        return frame
    try:
        # What ``frame.copy(deep=False)`` makes, without its checks: each block
        # referenced once more, so a write to the caller's frame copies first.
        manager = frame._mgr
        blocks = tuple(block.copy(deep=False) for block in manager.blocks)
        view = type(manager)(blocks, manager.axes, verify_integrity=False)
        return pd.DataFrame._from_mgr(view, view.axes)
    except (AttributeError, TypeError):  # pragma: no cover - other pandas versions
        return frame.copy(deep=False)


class RowOutcome(NamedTuple):
    """What one step decided for the rows of its chunk (positions in arrival order).

    The per-row decisions that only the trace shows come from ``per_row``,
    called when the trace is first read: ``(window start, watermark before,
    watermark after, status)`` of every row.
    """

    base: int  # arrival position of the chunk's first row over all pushed rows
    dropped: np.ndarray  # positions of the dropped rows
    dropped_start: np.ndarray  # their window starts
    dropped_watermark: np.ndarray  # the watermarks that dropped them
    late_by: np.ndarray  # how late each was
    rejected: np.ndarray  # positions of the rejected rows
    reasons: np.ndarray  # one per rejected row
    per_row: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


def deferred_output(
    cfg: WindowOptions, prepared: Prepared, windows: pd.DataFrame, rows: RowOutcome
) -> ChunkOutput:
    """A step's output: ``windows`` built, the per-row frames deferred to first read.

    ``rows.per_row`` gets the chunk's event times, kept as they are now
    whatever the caller does to its frame afterwards.
    """
    held = _held(prepared.frame, prepared.n > HOLD_ROWS, rows.dropped, rows.rejected)
    # The event times may be a view of the caller's column: a frame held is a
    # copy-on-write view that keeps them, else they are copied (a small chunk).
    t = prepared.t if held is not prepared.frame else prepared.t.copy()
    size = cfg.spec.size_ns
    base = rows.base

    def trace() -> pd.DataFrame:
        start, w_before, w_after, status = rows.per_row(t)
        arrival = np.arange(base, base + prepared.n, dtype=np.int64)
        return trace_frame(held, prepared, arrival, start, w_before, w_after, status)

    return ChunkOutput(
        windows=windows,
        late=Deferred(
            lambda: late_frame(
                held,
                prepared,
                rows.dropped,
                base + rows.dropped,
                rows.dropped_start,
                size,
                rows.dropped_watermark,
                rows.late_by,
            )  # fmt: skip
        ),
        rejected=Deferred(
            lambda: rejected_frame(
                held, prepared, rows.rejected, base + rows.rejected, rows.reasons
            )
        ),
        trace=Deferred(trace),
    )


def window_ids_of(key: np.ndarray, start: np.ndarray):
    """Dense ids of (key, start) pairs: ``(gid per row, n, key and start per window)``."""
    gid, w_key, w_start = window_ids(key, start)
    return gid, len(w_key), w_key, w_start


def pane_order(row: np.ndarray, start: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Order of panes by (emit row, window start, key)."""
    if len(row) <= 1:
        return np.arange(len(row))
    return emission_order(row, int(row.max()), start, rank)


def replicate_rows(gid: np.ndarray, arrival: np.ndarray, n_windows: int, pane_gid, pane_upto):
    """Row indices (and pane ids) of every pane: rows of its window arrived by ``upto``.

    Within each pane the rows stay in arrival order.
    """
    if len(pane_gid) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    offsets, ordered = group_rows(np.arange(len(gid), dtype=np.int64), gid, n_windows)
    lengths = prefix_lengths(offsets, ordered, arrival, pane_gid, pane_upto)
    pane_ids = np.repeat(np.arange(len(pane_gid), dtype=np.int64), lengths)
    within = np.arange(len(pane_ids), dtype=np.int64) - np.repeat(
        np.cumsum(lengths) - lengths, lengths
    )
    return ordered[offsets[pane_gid][pane_ids] + within], pane_ids


def pane_frame(
    cfg: WindowOptions,
    rows: dict[str, Any],
    gid: np.ndarray,
    n_windows: int,
    w_key: np.ndarray,
    w_start: np.ndarray,
    keys: pd.Index | None,
    key_partition: np.ndarray,
    pane_gid: np.ndarray,
    pane_upto: np.ndarray | None,
    emit_row: np.ndarray,
    timing: np.ndarray,
    revision: np.ndarray,
    emit_watermark: np.ndarray | None,
    emit_time: np.ndarray | None,
) -> pd.DataFrame:
    """Aggregate the rows of each pane and lay out a ``windows``-style frame.

    ``pane_upto`` None: each pane is a whole window (each window at most once).
    """
    n_panes = len(pane_gid)
    if pane_upto is None:
        # Whole windows: aggregate every row in place, straight into its pane.
        pane_of_window = np.full(n_windows, -1, np.int64)
        pane_of_window[pane_gid] = np.arange(n_panes)
        group = gid
        t, arrival = rows["t"], rows["arrival"]
        columns = {c: rows["col:" + c] for c in cfg.plan.columns}
        count = np.bincount(gid, minlength=n_windows)[pane_gid].astype(np.int64, copy=False)
        late_count = np.bincount(gid, weights=rows["late"], minlength=n_windows)[pane_gid]
    else:
        row_index, group = replicate_rows(gid, rows["arrival"], n_windows, pane_gid, pane_upto)
        pane_of_window = np.arange(n_panes, dtype=np.int64)
        t, arrival = rows["t"][row_index], rows["arrival"][row_index]
        columns = {c: rows["col:" + c][row_index] for c in cfg.plan.columns}
        count = np.bincount(group, minlength=n_panes).astype(np.int64, copy=False)
        late_count = np.bincount(group, weights=rows["late"][row_index], minlength=n_panes)
    values = aggregate(cfg.plan, columns, group, pane_of_window, n_panes, t, arrival)
    return layout_panes(
        cfg,
        keys,
        key_partition,
        w_key[pane_gid],
        w_start[pane_gid],
        values,
        count,
        late_count.astype(np.int64),
        timing,
        revision,
        emit_row,
        emit_watermark,
        emit_time,
    )


def layout_panes(
    cfg: WindowOptions,
    keys: pd.Index | None,
    key_partition: np.ndarray,
    pane_key: np.ndarray,
    start: np.ndarray,
    values: dict[str, Any],
    count: np.ndarray,
    late_count: np.ndarray,
    timing: np.ndarray,
    revision: np.ndarray,
    emit_row: np.ndarray,
    emit_watermark: np.ndarray | None,
    emit_time: np.ndarray | None,
    key_table: KeyTable | None = None,
    end: np.ndarray | None = None,
) -> pd.DataFrame:
    """The ``windows``-style frame of panes whose aggregates are computed.

    ``key_table``, when it is the compiled form of ``keys``, lends its string
    buffers for taking the panes' keys; ``end`` may hold the window ends.
    """
    n_panes = len(pane_key)
    out: dict[str, Any] = {}
    if cfg.key is not None:
        # Keep the keys' dtype (a frame would infer "str" from object values).
        strings = None
        if key_table is not None and keys is not None and key_table.size == len(keys):
            strings = (key_table.offsets, key_table.data)
        out[cfg.key] = (
            take_values(keys.array, pane_key, strings) if keys is not None else np.empty(0, object)
        )
    if cfg.partitions is not None:
        out["partition"] = (
            key_partition[pane_key].astype(np.int64, copy=False)
            if n_panes
            else np.empty(0, np.int64)
        )
    out["window_start"] = utc_array(start)
    out["window_end"] = utc_array(start + cfg.spec.size_ns if end is None else end)
    out.update((name, plain_values(v)) for name, v in values.items())
    out["count"] = count.astype(np.int64, copy=False)
    out["late_count"] = late_count.astype(np.int64, copy=False)
    out["timing"] = categorical(timing, TIMINGS)
    out["revision"] = revision.astype(np.int64, copy=False)
    out["emit_row"] = emit_row.astype(np.int64, copy=False)
    wm = emit_watermark if emit_watermark is not None else np.full(n_panes, NEG_INF, np.int64)
    out["emit_watermark"] = utc_array(wm)
    if cfg.arrival_time is not None:
        stamps = emit_time if emit_time is not None else np.full(n_panes, NEG_INF, np.int64)
        out["emit_time"] = utc_array(stamps)
    return make_frame(column_labels(tuple(out)), list(out.values()), pd.RangeIndex(n_panes))
