"""Gathering the chains' outputs into the frames of the pandas result, in its order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mdwindow.core.keys import key_rank
from mdwindow.core.panes import pane_order

if TYPE_CHECKING:
    from mdwindow.dask.carriers import Carriers, Marks
    from mdwindow.dask.chains import Cursor, Facts, Step


def concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, keeping an empty frame's dtypes when everything is empty."""
    full = [f for f in frames if len(f)]
    if not full:
        return frames[0]
    if len(full) == 1:
        return full[0]
    return pd.concat(full)


def _by(frame: pd.DataFrame, order: np.ndarray) -> pd.DataFrame:
    return frame.iloc[order] if len(frame) > 1 else frame


def gather(
    outputs: list[Step],
    marks: Marks | None = None,
    cursor: Cursor | None = None,
    carriers: Carriers | None = None,
) -> tuple[pd.DataFrame, ...]:
    """Merge the chains' outputs for one input partition, in the pandas order.

    Returns ``(windows, late, rejected, trace)``. Scope "global"
    (``carriers``): also orders windows closed by one row in several
    buckets, and shows the global watermark.
    """
    if len(outputs) == 1:
        out = outputs[0]
        return out.windows, out.late, out.rejected, out.trace
    windows = concat_frames([o.windows for o in outputs])
    if carriers is not None:
        windows = _by(windows, carriers.emission_order(windows, cursor.offset))
    else:
        # One row closes windows of one bucket only: a stable sort on the row is enough.
        windows = _by(windows, np.argsort(windows["emit_row"].to_numpy(), kind="stable"))
    late = concat_frames([o.late for o in outputs])
    late = _by(late, np.argsort(late["arrival"].to_numpy(), kind="stable"))
    rejected = concat_frames([o.rejected for o in outputs])
    rejected = _by(rejected, np.argsort(rejected["arrival"].to_numpy(), kind="stable"))
    trace = concat_frames([o.trace for o in outputs])
    position = np.concatenate([o.position for o in outputs if len(o.trace)] or [[]])
    trace = _by(trace, np.argsort(position, kind="stable"))
    if carriers is not None:
        windows, late, trace = carriers.patch(
            windows, late, trace, marks, cursor.offset, cursor.max_time
        )
    return windows, late, rejected, trace


def key_order(facts: list[Facts]) -> pd.Index:
    """All keys (as objects) in the engine's order of keys.

    Pending windows come out in the engine's key order: the natural order
    of the key values, or of their text when they do not compare, ties in
    order of first arrival (:func:`~mdwindow.core.keys.key_rank` over the
    keys in order of first arrival, as the engine's key dictionary holds them).
    """
    keys = pd.concat([f.keys for f in facts], ignore_index=True).drop_duplicates()
    known = pd.Index(keys.array, dtype=keys.dtype, tupleize_cols=False)
    values = np.asarray(known, dtype=object)
    ordered = np.empty(len(values), dtype=object)
    ordered[key_rank(known)] = values
    return pd.Index(ordered, dtype=object, tupleize_cols=False)


def gather_end(
    ends: list[tuple[pd.DataFrame, pd.DataFrame]], key: str | None, order: pd.Index | None
) -> tuple[pd.DataFrame, ...]:
    """Merge the chains' end-of-input windows and pending windows, in the pandas order."""
    merged = []
    for frames in zip(*ends, strict=True):
        frame = concat_frames(list(frames))
        if len(frames) > 1 and len(frame) > 1:
            rank = order.get_indexer(np.asarray(frame[key], dtype=object))
            start = pd.DatetimeIndex(frame["window_start"]).asi8
            frame = frame.iloc[pane_order(np.zeros(len(frame), np.int64), start, rank)]
        merged.append(frame)
    return tuple(merged)
