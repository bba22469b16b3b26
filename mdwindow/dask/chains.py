"""The fold: one engine step per piece of input, the state handed from task to task.

A *chain* is a sequence of tasks, one per input partition in arrival order,
each calling :func:`mdwindow.core.engine.process_chunk` on its piece with the
state the previous task left. With one chain the piece is the whole input
partition; with ``buckets`` chains each input partition is first split by
bucket (:func:`split_partition`), and each piece keeps its rows' global
arrival positions so that the outputs map back exactly.

The engine leaves the state it is given untouched (``process_chunk``
returns a new one), and every state in the graph is consumed by one step
only, so no task changes its input and nothing needs copying.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from dask import delayed

from mdwindow import hashing
from mdwindow.core.engine import finish, process_chunk
from mdwindow.core.options import WindowOptions
from mdwindow.core.prepare import arrival_order, column_values
from mdwindow.core.rules import NEG_INF
from mdwindow.core.state import State, resolve
from mdwindow.dask.carriers import Carriers
from mdwindow.dask.gather import gather, gather_end, key_order

# --------------------------------------------------------------------------
# Values that travel between tasks


@dataclass
class Piece:
    """Rows of one input partition bound for one chain, in arrival order."""

    frame: pd.DataFrame
    arrival: np.ndarray | None  # arrival rank inside the input partition, per row
    position: np.ndarray | None  # row position inside the input partition
    carrier: np.ndarray | None = None  # rows standing for another bucket's row (global)
    carriers: Carriers | None = None
    bucket: int = 0


@dataclass
class Facts:
    """What later tasks need to know about one input partition."""

    rows: int
    first_arrival: int | None  # int64 ns of the earliest arrival_time (None: none)
    last_arrival: int | None
    keys: pd.Series  # distinct keys, in order of first arrival
    max_time: int = NEG_INF  # largest valid event time (scope "global" with buckets)


@dataclass
class Cursor:
    """Rows before an input partition, and the latest arrival time among them."""

    offset: int
    last_arrival: int | None
    max_time: int = NEG_INF  # largest valid event time before the partition (scope "global")


@dataclass
class Step:
    """The engine's state after one piece, and what that piece produced."""

    state: State
    windows: pd.DataFrame
    late: pd.DataFrame
    rejected: pd.DataFrame
    trace: pd.DataFrame
    position: np.ndarray | None  # of the trace rows, inside the input partition


# --------------------------------------------------------------------------
# Tasks


def split_partition(
    frame: pd.DataFrame,
    index: int,
    cfg: WindowOptions,
    buckets: int,
    carriers: Carriers | None = None,
) -> tuple:
    """Split one input partition by bucket: ``(facts, marks, piece_0, ..., piece_{B-1})``.

    With ``carriers`` (scope "global") each piece also holds carrier rows and
    ``marks`` the partition's running maximum; otherwise ``marks`` is None.
    """
    n = len(frame)
    first = last = None
    if cfg.arrival_time is not None:
        try:
            order, stamps = arrival_order(column_values(frame, cfg.arrival_time), cfg.arrival_time)
        except ValueError as exc:
            raise ValueError(f"{exc} (Dask partition {index})") from None
        if n:
            first, last = int(stamps[0]), int(stamps[-1])
    else:
        order = np.arange(n)
    keys = frame[cfg.key]
    if cfg.scope == "partition":
        ids = hashing.partition_ids(keys, cfg.partitions, hash=cfg.hash, seed=cfg.seed)
    else:
        ids = hashing.partition_ids(keys, buckets)
    # Missing keys are rejected whatever their bucket; they go to the first one.
    bucket = np.where(ids < 0, 0, ids % buckets)[order]
    arrival_keys = keys.iloc[order]
    distinct = arrival_keys[arrival_keys.notna()].drop_duplicates()
    if carriers is not None:
        marks = carriers.marks(frame, index)
        pieces = []
        for b in range(buckets):
            piece, ranks, rows, carrier = carriers.piece(frame, marks, bucket, b)
            pieces.append(Piece(piece, ranks, rows, carrier, carriers, b))
        facts = Facts(n, first, last, distinct, marks.max_time)
        return (facts, marks, *pieces)
    by_bucket = np.argsort(bucket, kind="stable")
    counts = np.bincount(bucket, minlength=buckets)
    stops = np.cumsum(counts)
    starts = stops - counts
    pieces = []
    for b in range(buckets):
        ranks = by_bucket[starts[b] : stops[b]]  # arrival ranks, increasing
        rows = order[ranks]
        pieces.append(Piece(frame.iloc[rows], ranks.astype(np.int64), rows))
    return (Facts(n, first, last, distinct), None, *pieces)


def advance(cursor: Cursor, facts: Facts, index: int, arrival_time: str | None) -> Cursor:
    """The cursor after input partition ``index``; checks the partitions' arrival order."""
    last = cursor.last_arrival
    if facts.rows and arrival_time is not None:
        if last is not None and facts.first_arrival < last:
            raise ValueError(
                f"arrival_time: Dask partition {index} starts at "
                f"{pd.Timestamp(facts.first_arrival, tz='UTC')}, before the last arrival "
                f"of earlier partitions ({pd.Timestamp(last, tz='UTC')}); the partitions "
                f"must be in arrival order: sort first, e.g. "
                f"ddf.sort_values({arrival_time!r})"
            )
        last = facts.last_arrival if last is None else max(last, facts.last_arrival)
    return Cursor(cursor.offset + facts.rows, last, max(cursor.max_time, facts.max_time))


def _step(
    cfg: WindowOptions,
    before: Step | None,
    piece: Piece | pd.DataFrame,
    cursor: Cursor | None = None,
) -> Step:
    """One engine step on one piece, from the state the previous step left (None: the first)."""
    if isinstance(piece, pd.DataFrame):
        piece = Piece(piece, None, None)
    state = before.state if before is not None else State()
    base = state.rows_seen
    output, state = process_chunk(cfg, state, piece.frame)
    frames = {
        "windows": output.windows,
        "late": resolve(output.late),
        "rejected": resolve(output.rejected),
        "trace": resolve(output.trace),
    }
    if piece.arrival is not None:
        # The chain counts only its own rows; give them back their global position.
        arrival = cursor.offset + piece.arrival
        for name, column in (
            ("windows", "emit_row"),
            ("late", "arrival"),
            ("rejected", "arrival"),
            ("trace", "arrival"),
        ):
            frame = frames[name]
            local = frame[column].to_numpy(np.int64) - base
            frame[column] = arrival[local]
    position = piece.position
    if piece.carriers is not None:
        # Carriers stand in for other buckets' rows: only their effect stays.
        own = ~piece.carrier
        frames["trace"] = frames["trace"].iloc[np.flatnonzero(own)]
        position = position[own]
        for name in ("windows", "late"):
            phantom = piece.carriers.is_phantom(frames[name], piece.bucket)
            if phantom.any():
                frames[name] = frames[name].iloc[np.flatnonzero(~phantom)]
    return Step(state, **frames, position=position)


def end_of_chain(
    cfg: WindowOptions,
    last: Step | None,
    total: Cursor | None,
    carriers: Carriers | None = None,
    bucket: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """End of input for one chain: ``(windows emitted at the end, pending)``."""
    windows, pending = finish(cfg, last.state if last is not None else State())
    if carriers is not None:
        windows = windows.iloc[np.flatnonzero(~carriers.is_phantom(windows, bucket))]
        pending = pending.iloc[np.flatnonzero(~carriers.is_phantom(pending, bucket))]
    if total is not None:
        # "The number of rows" means all rows, not this chain's.
        windows["emit_row"] = np.full(len(windows), total.offset, np.int64)
        pending["emit_row"] = np.full(len(pending), total.offset, np.int64)
    return windows, pending


# --------------------------------------------------------------------------
# The graph


def fold(
    cfg: WindowOptions, parts: list[Any], buckets: int, carriers: Carriers | None
) -> tuple[list[Any], Any]:
    """The delayed outputs of every input partition, and of the end of input.

    ``parts`` are the input partitions (delayed pandas frames) in arrival
    order. Returns ``(gathered, end)``: for each input partition a delayed
    ``(windows, late, rejected, trace)``, and a delayed ``(windows emitted
    at the end, pending)``.
    """
    # One node for the options (taken as it is, not rebuilt field by field),
    # so that every task reads the same object.
    options = delayed(cfg, traverse=False)
    step = delayed(_step)
    outputs: list[list[Any]] = [[] for _ in parts]
    if buckets == 1:
        chain: Any = None
        for i, part in enumerate(parts):
            chain = step(options, chain, part)
            outputs[i].append(chain)
        end = delayed(end_of_chain, nout=2)(options, chain, None)
        return [delayed(gather, nout=4)(outs) for outs in outputs], end

    split = delayed(split_partition, nout=buckets + 2)
    shared = None if carriers is None else delayed(carriers, traverse=False)
    cursors = [Cursor(0, None)]
    chains: list[Any] = [None] * buckets
    facts: list[Any] = []
    marks: list[Any] = []  # delayed Marks (None without carriers)
    for i, part in enumerate(parts):
        pieces = split(part, i, options, buckets, shared)
        facts.append(pieces[0])
        marks.append(pieces[1])
        for b in range(buckets):
            chains[b] = step(options, chains[b], pieces[b + 2], cursors[i])
            outputs[i].append(chains[b])
        cursors.append(delayed(advance)(cursors[i], pieces[0], i, cfg.arrival_time))
    finish_chain = delayed(end_of_chain, nout=2)
    ends = [finish_chain(options, c, cursors[-1], shared, b) for b, c in enumerate(chains)]
    order = delayed(key_order)(facts)
    end = delayed(gather_end, nout=2)(ends, cfg.key, order)
    gather_one = delayed(gather, nout=4)
    if carriers is None:
        gathered = [gather_one(outs) for outs in outputs]
    else:
        gathered = [
            gather_one(outs, marks[i], cursors[i], shared) for i, outs in enumerate(outputs)
        ]
    return gathered, end
