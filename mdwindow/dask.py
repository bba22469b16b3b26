"""The Dask backend: the same windows as pandas, for frames that outgrow one machine.

:func:`tumbling_windows` takes a Dask DataFrame whose partitions are in
arrival order (the first partition's rows arrive first; inside a partition,
row order or the stable order of ``arrival_time``) and returns a
:class:`DaskWindowResult` whose frames are Dask DataFrames;
``result.compute()`` is exactly the :class:`~mdwindow.WindowResult` that
:func:`mdwindow.tumbling_windows` gives on ``ddf.compute()``.

How it runs
-----------
Nothing here re-implements the semantics: every row goes through the
incremental front door, :class:`~mdwindow.incremental.Windower`, whose
``push`` on any split of a frame gives exactly the batch result (SPEC 9).
The work is a *fold*: one ``push`` per Dask partition, in arrival order, the
Windower's state handed from task to task. A task holds one partition (or a
slice of one) plus the state, which keeps only open windows and one maximum
per scope, so memory per worker is bounded by the partition size, not by the
frame.

Scope "key" and "partition" (without ``idle_timeout``)
    A key's watermark depends on that key's rows only (a partition's on that
    hash partition's rows), so the keys are split into ``buckets`` groups that
    never share a watermark: by ``partition_ids(key, buckets)`` for scope
    "key", by the hash partition modulo ``buckets`` for scope "partition".
    Each input partition is split by bucket (a task-based shuffle that keeps
    whole keys together) and each bucket folds its slices in arrival order:
    ``buckets`` independent chains run in parallel. The rows keep their global
    arrival position (input partition offset plus position in the partition's
    arrival order), so ``emit_row`` and ``arrival`` are mapped back exactly,
    and the outputs of each input partition are merged in emission order;
    windows still open at the end are ordered by ``(window_start, key)`` in
    the engine's key order. A row can close only windows of its own bucket,
    so merging by ``emit_row`` alone is exact.
Scope "global" (string or integer keys, ``buckets`` > 1)
    One watermark couples every key, yet a bucket's chain needs only to know
    when that watermark passes a window end ``E`` or a close ``E + L``: no
    comparison of the row rules looks at anything else. The split also finds
    the rows after which the running maximum of event time carries the
    watermark past such a point (*crossings*), and puts a copy of each
    crossing row of another bucket into every bucket's piece, with a
    *phantom* key that no key of that bucket can equal (a value that hashes
    to another bucket). These *carriers* lift the bucket's watermark to the
    global one at every crossing and never above it, so each bucket runs
    the engine on its own rows with the true status of every row and closes
    every window right after the true row (mapped back through the carrier's
    arrival position). The phantom key's windows and the carriers' rows are
    dropped, and the columns that show the watermark (``watermark_before``
    and ``watermark_after`` of the trace, ``watermark`` and ``late_by`` of
    late rows, ``emit_watermark``) are rewritten from the global running
    maximum: each partition's own, after the largest event time of earlier
    partitions, carried along with the arrival cursor. Windows closed by one
    row in several buckets are ordered by ``(window_start, key)``. Carriers
    are few: at most two crossings per window size of event-time progress,
    plus one per input partition, each copied into the other buckets; see
    :mod:`mdwindow._dask_global`.
Any ``idle_timeout``, scope "global" with ``key=None`` or keys of other dtypes
(object, categorical, float, ...)
    One chain: one task per input partition, in order. Memory stays bounded,
    but **there is no parallelism** beyond reading the partitions: expect
    about the pandas run time plus scheduling.

The Windower travels between tasks as a Python object (Dask pickles it only
when consecutive steps run on different workers) and each step works on a
deep copy, so no task changes its input. A ``checkpoint()`` round trip per
step would be the process-neutral alternative but costs about 75 ms per step
(five Parquet sections), against about 1 ms for the copy.

Costs: one read of each input partition; the heaviest key (a whole bucket)
is a sequential unit, so it bounds the speedup, and slices of a lagging chain
wait in memory until it catches up; the windows still open at the end come
together in one task (they are the engine's own end state).

Examples
--------
>>> import dask.dataframe as dd
>>> import pandas as pd
>>> ticks = pd.DataFrame({
...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
...     "symbol": ["A", "B", "A", "B", "A", "A", "B"],
... })
>>> ddf = dd.from_pandas(ticks, npartitions=3, sort=False)
>>> result = tumbling_windows(ddf, "2s", allowed_lateness="1s", scope="key")
>>> result.compute().windows[["symbol", "window_start", "count", "emit_row"]]
  symbol              window_start  count  emit_row
0      A 1970-01-01 00:00:00+00:00      2         5
1      A 1970-01-01 00:00:02+00:00      1         5
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

try:
    import dask
    import dask.dataframe as dd
    from dask import delayed
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'mdwindow.dask needs Dask: install the extra with pip install "mdwindow[dask]" '
        "(dask[dataframe] and distributed)"
    ) from exc

from mdwindow import hashing as _hashing
from mdwindow import windows as _windows
from mdwindow._dask_global import Carriers, Marks, phantom_keys
from mdwindow.core.frames import STATUSES
from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy
from mdwindow.core.rules import NEG_INF
from mdwindow.incremental import Windower
from mdwindow.result import WindowResult

__all__ = ["DaskWindowResult", "hash_partition", "partition_balance", "tumbling_windows"]

FRAMES = ("windows", "pending", "late", "rejected", "trace")


# --------------------------------------------------------------------------
# The result


@dataclass(frozen=True)
class DaskWindowResult:
    """What a Dask windowing run will produce, as lazy Dask DataFrames.

    Attributes
    ----------
    windows : dask.dataframe.DataFrame
        Emitted windows or panes in emission order: partition ``i`` holds
        those emitted at rows of input partition ``i``, and one last partition
        those emitted at the end of input. The index is per partition;
        :meth:`compute` gives the RangeIndex of the pandas result.
    pending : dask.dataframe.DataFrame
        Windows still open at the end, in one partition.
    late, rejected : dask.dataframe.DataFrame
        Dropped and invalid rows in arrival order, one partition per input
        partition, original columns and index.
    trace : dask.dataframe.DataFrame
        One row per input row, partitioned like the input (same divisions).

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "AAPL",
    ... })
    >>> result = tumbling_windows(dd.from_pandas(ticks, npartitions=2), "2s")
    >>> result.summary()["dropped"]
    3
    """

    windows: dd.DataFrame
    pending: dd.DataFrame
    late: dd.DataFrame
    rejected: dd.DataFrame
    trace: dd.DataFrame

    def compute(self, **kwargs: Any) -> WindowResult:
        """Run the graph once for all frames and return the pandas :class:`WindowResult`.

        The partitions are concatenated here, on the client, not on a worker
        as ``dask.compute`` would do. Keyword arguments go to
        :func:`dask.compute` (``scheduler=`` ...).
        """
        delayed_parts = {name: getattr(self, name).to_delayed() for name in FRAMES}
        (parts,) = dask.compute(delayed_parts, **kwargs)
        frames = {name: _concat(parts[name]) for name in FRAMES}
        return WindowResult(
            windows=frames["windows"].reset_index(drop=True),
            pending=frames["pending"].reset_index(drop=True),
            late=frames["late"],
            rejected=frames["rejected"],
            trace=frames["trace"],
        )

    def persist(self, **kwargs: Any) -> DaskWindowResult:
        """Compute all frames into (cluster) memory once; later reads are cheap."""
        return DaskWindowResult(*dask.persist(*(getattr(self, n) for n in FRAMES), **kwargs))

    def summary(self, **kwargs: Any) -> dict[str, Any]:
        """Counts as in :meth:`WindowResult.summary`, computed without collecting frames."""
        status, n_windows, n_pending = dask.compute(
            self.trace["status"].value_counts(),
            self.windows.shape[0],
            self.pending.shape[0],
            **kwargs,
        )
        counts = {name: int(status.get(name, 0)) for name in STATUSES}
        valid = counts["on_time"] + counts["late"] + counts["dropped"]
        return {
            "rows": sum(counts.values()),
            **counts,
            "windows": int(n_windows),
            "pending": int(n_pending),
            "drop_rate": counts["dropped"] / valid if valid else float("nan"),
        }

    def __repr__(self) -> str:
        parts = ", ".join(f"{name}={getattr(self, name).npartitions}" for name in FRAMES)
        return f"DaskWindowResult(partitions: {parts})"


# --------------------------------------------------------------------------
# Values that travel between tasks


@dataclass
class _Piece:
    """Rows of one input partition bound for one bucket, in arrival order."""

    frame: pd.DataFrame
    arrival: np.ndarray | None  # arrival rank inside the input partition, per row
    position: np.ndarray | None  # row position inside the input partition
    carrier: np.ndarray | None = None  # rows standing for another bucket's row (global)
    carriers: Carriers | None = None
    bucket: int = 0


@dataclass
class _Facts:
    """What later tasks need to know about one input partition."""

    rows: int
    first_arrival: pd.Timestamp | None
    last_arrival: pd.Timestamp | None
    keys: pd.Series  # distinct keys, in order of first arrival
    max_time: int = NEG_INF  # largest valid event time (scope "global" with buckets)


@dataclass
class _Cursor:
    """Rows before an input partition, and the latest arrival time among them."""

    offset: int
    last_arrival: pd.Timestamp | None
    max_time: int = NEG_INF  # largest valid event time before the partition (scope "global")


@dataclass
class _Step:
    """A Windower after one piece, and what that piece produced."""

    windower: Windower
    windows: pd.DataFrame
    late: pd.DataFrame
    rejected: pd.DataFrame
    trace: pd.DataFrame
    position: np.ndarray | None  # of the trace rows, inside the input partition


# --------------------------------------------------------------------------
# Tasks


def _instants(column: pd.Series) -> np.ndarray:
    """A datetime column as sortable int64 (its own unit; NaT sorts first)."""
    values = column.array
    if getattr(values, "tz", None) is not None:
        values = values.tz_convert("UTC").tz_localize(None)
    return np.asarray(values).view(np.int64)


def _split(
    frame: pd.DataFrame,
    index: int,
    *,
    key: str,
    arrival_time: str | None,
    buckets: int,
    scope: str,
    partitions: int | None,
    hash: str,
    seed: int,
    carriers: Carriers | None = None,
) -> tuple:
    """Split one input partition by bucket: ``(facts, marks, piece_0, ..., piece_{B-1})``.

    With ``carriers`` (scope "global") each piece also holds carrier rows and
    ``marks`` the partition's running maximum; otherwise ``marks`` is None.
    """
    n = len(frame)
    first = last = None
    if arrival_time is not None:
        stamps = frame[arrival_time]
        missing = int(stamps.isna().sum())
        if missing:
            raise ValueError(
                f"arrival_time: column {arrival_time!r} has {missing} missing value(s) in "
                f"Dask partition {index}; arrival order must be known for every row: "
                "fill or drop them first"
            )
        order = np.argsort(_instants(stamps), kind="stable")
        if n:
            first, last = stamps.min(), stamps.max()
    else:
        order = np.arange(n)
    keys = frame[key]
    if scope == "partition":
        ids = _hashing.partition_ids(keys, partitions, hash=hash, seed=seed)
    else:
        ids = _hashing.partition_ids(keys, buckets)
    # Missing keys are rejected whatever their bucket; they go to the first one.
    bucket = np.where(ids < 0, 0, ids % buckets)[order]
    arrival_keys = keys.iloc[order]
    distinct = arrival_keys[arrival_keys.notna()].drop_duplicates()
    if carriers is not None:
        marks = carriers.marks(frame, index)
        pieces = []
        for b in range(buckets):
            piece, ranks, rows, carrier = carriers.piece(frame, marks, bucket, b)
            pieces.append(_Piece(piece, ranks, rows, carrier, carriers, b))
        facts = _Facts(n, first, last, distinct, marks.max_time)
        return (facts, marks, *pieces)
    by_bucket = np.argsort(bucket, kind="stable")
    stops = np.cumsum(np.bincount(bucket, minlength=buckets))
    starts = stops - np.bincount(bucket, minlength=buckets)
    pieces = []
    for b in range(buckets):
        ranks = by_bucket[starts[b] : stops[b]]  # arrival ranks, increasing
        rows = order[ranks]
        pieces.append(_Piece(frame.iloc[rows], ranks.astype(np.int64), rows))
    return (_Facts(n, first, last, distinct), None, *pieces)


def _advance(cursor: _Cursor, facts: _Facts, index: int, arrival_time: str | None) -> _Cursor:
    """The cursor after input partition ``index``; checks the partitions' arrival order."""
    last = cursor.last_arrival
    if facts.rows and arrival_time is not None:
        if last is not None and facts.first_arrival < last:
            raise ValueError(
                f"arrival_time: Dask partition {index} starts at {facts.first_arrival}, "
                f"before the last arrival of earlier partitions ({last}); the partitions "
                f"must be in arrival order: sort first, e.g. "
                f"ddf.sort_values({arrival_time!r})"
            )
        last = facts.last_arrival if last is None else max(last, facts.last_arrival)
    return _Cursor(cursor.offset + facts.rows, last, max(cursor.max_time, facts.max_time))


def _step(
    before: Windower | _Step, piece: _Piece | pd.DataFrame, cursor: _Cursor | None = None
) -> _Step:
    """Push one piece into a copy of the Windower."""
    if isinstance(piece, pd.DataFrame):
        piece = _Piece(piece, None, None)
    windower = before.windower if isinstance(before, _Step) else before
    windower = copy.deepcopy(windower)  # a Dask task must not change its inputs
    base = windower.rows_seen
    pushed = windower.push(piece.frame)
    frames = {
        "windows": pushed.windows,
        "late": pushed.late,
        "rejected": pushed.rejected,
        "trace": pushed.trace,
    }
    if piece.arrival is not None:
        # The bucket counts only its own rows; give them back their global position.
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
    return _Step(windower, **frames, position=position)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, keeping an empty frame's dtypes when everything is empty."""
    full = [f for f in frames if len(f)]
    if not full:
        return frames[0]
    if len(full) == 1:
        return full[0]
    return pd.concat(full)


def _by(frame: pd.DataFrame, order: np.ndarray) -> pd.DataFrame:
    return frame.iloc[order] if len(frame) > 1 else frame


def _gather(
    outputs: list[_Step],
    marks: Marks | None = None,
    cursor: _Cursor | None = None,
    carriers: Carriers | None = None,
) -> tuple[pd.DataFrame, ...]:
    """Merge the buckets' outputs for one input partition, in the pandas order.

    Scope "global" (``carriers``): also orders windows closed by one row in
    several buckets, and shows the global watermark.
    """
    if len(outputs) == 1:
        out = outputs[0]
        return out.windows, out.late, out.rejected, out.trace
    windows = _concat([o.windows for o in outputs])
    if carriers is not None:
        windows = _by(windows, carriers.emission_order(windows))
    else:
        # One row closes windows of one bucket only: a stable sort on the row is enough.
        windows = _by(windows, np.argsort(windows["emit_row"].to_numpy(), kind="stable"))
    late = _concat([o.late for o in outputs])
    late = _by(late, np.argsort(late["arrival"].to_numpy(), kind="stable"))
    rejected = _concat([o.rejected for o in outputs])
    rejected = _by(rejected, np.argsort(rejected["arrival"].to_numpy(), kind="stable"))
    trace = _concat([o.trace for o in outputs])
    position = np.concatenate([o.position for o in outputs if len(o.trace)] or [[]])
    trace = _by(trace, np.argsort(position, kind="stable"))
    if carriers is not None:
        windows, late, trace = carriers.patch(
            windows, late, trace, marks, cursor.offset, cursor.max_time
        )
    return windows, late, rejected, trace


def _finish(
    last: _Step, total: _Cursor | None, carriers: Carriers | None = None, bucket: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """End of input for one chain: ``(windows emitted at the end, pending)``."""
    flushed = copy.deepcopy(last.windower).flush()
    windows, pending = flushed.windows, flushed.pending
    if carriers is not None:
        windows = windows.iloc[np.flatnonzero(~carriers.is_phantom(windows, bucket))]
        pending = pending.iloc[np.flatnonzero(~carriers.is_phantom(pending, bucket))]
    if total is not None:
        # "The number of rows" means all rows, not this bucket's.
        windows["emit_row"] = np.full(len(windows), total.offset, np.int64)
        pending["emit_row"] = np.full(len(pending), total.offset, np.int64)
    return windows, pending


def _key_order(facts: list[_Facts], time: str, key: str) -> pd.Index:
    """All keys in the engine's order, asked of the engine itself.

    One row per key at the same event time leaves one pending window per key,
    and pending windows come out in the engine's key order (the natural order
    of the key values, or of their text when they do not compare).
    """
    keys = pd.concat([f.keys for f in facts], ignore_index=True).drop_duplicates()
    epoch = pd.Series(np.zeros(len(keys), "datetime64[ns]")).dt.tz_localize("UTC")
    probe = pd.DataFrame({time: epoch, key: keys.reset_index(drop=True)})
    ordered = _windows.tumbling_windows(probe, "1s", time=time, key=key).pending[key]
    return pd.Index(np.asarray(ordered, dtype=object), dtype=object, tupleize_cols=False)


def _gather_end(ends: list[tuple], key: str | None, order: pd.Index | None):
    """Merge the chains' end-of-input windows and pending windows, in the pandas order."""
    merged = []
    for frames in zip(*ends, strict=True):
        frame = _concat(list(frames))
        if len(frames) > 1 and len(frame) > 1:
            rank = order.get_indexer(np.asarray(frame[key], dtype=object))
            start = pd.DatetimeIndex(frame["window_start"]).asi8
            frame = frame.iloc[np.lexsort((rank, start))]
        merged.append(frame)
    return tuple(merged)


# --------------------------------------------------------------------------
# Front doors


def _require_dask_frame(ddf: Any, caller: str) -> None:
    if not isinstance(ddf, dd.DataFrame):
        raise TypeError(
            f"{caller}: got {type(ddf).__name__}; give a Dask DataFrame, e.g. "
            "dd.from_pandas(ticks, npartitions=8) or dd.read_parquet(path) "
            "(for a pandas frame use mdwindow's own function)"
        )


def _default_buckets() -> int:
    """Two chains per thread of the current cluster (or per core), for load balance."""
    try:
        from distributed import default_client

        threads = sum(default_client().nthreads().values())
    except (ImportError, ValueError):
        threads = os.cpu_count() or 1
    return max(1, 2 * threads)


def tumbling_windows(
    ddf: dd.DataFrame,
    spec: TumblingWindowSpec | Any,
    policy: WatermarkPolicy | None = None,
    *,
    time: str = "ts",
    key: str | None = "symbol",
    agg: Any = None,
    emit: str = "final",
    arrival_time: str | None = None,
    time_unit: str | None = None,
    partitions: int | None = None,
    hash: str = "murmur3",
    seed: int = 0,
    price: str = "price",
    size: str = "size",
    buckets: int | None = None,
    **policy_keywords: Any,
) -> DaskWindowResult:
    """Event-time tumbling windows over a Dask DataFrame, exactly as pandas.

    Takes the options of :func:`mdwindow.tumbling_windows`. The partitions
    of ``ddf`` must be in arrival order: all rows of partition ``i`` arrive
    before those of partition ``i + 1`` (with ``arrival_time``, no partition
    may start before an earlier one ends). Nothing is computed until the
    result is; options are checked at once against ``ddf``'s schema.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        The ticks, partitions in arrival order.
    spec, policy, time, key, agg, emit, arrival_time, time_unit, partitions, hash, seed, \
price, size, **policy_keywords
        As for :func:`mdwindow.tumbling_windows`.
    buckets : int, optional
        How many chains the keys are spread over (at most ``partitions``
        with scope "partition"). Default: twice the threads of the current
        Dask client, or of this machine. Results never depend on it. Runs
        with ``idle_timeout``, and scope "global" without a key or with keys
        that are neither strings nor integers, always run one chain.

    Returns
    -------
    DaskWindowResult
        Lazy frames; ``.compute()`` gives the pandas :class:`WindowResult`.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> result = tumbling_windows(dd.from_pandas(ticks, npartitions=3), "2s",
    ...                           allowed_lateness="1s")
    >>> result.windows.npartitions
    4
    >>> result.compute().windows[["window_start", "count", "emit_row"]]
                   window_start  count  emit_row
    0 1970-01-01 00:00:00+00:00      4         5
    1 1970-01-01 00:00:02+00:00      1         5
    """
    _require_dask_frame(ddf, "tumbling_windows")
    options = dict(
        time=time,
        key=key,
        agg=agg,
        emit=emit,
        arrival_time=arrival_time,
        time_unit=time_unit,
        partitions=partitions,
        hash=hash,
        seed=seed,
        price=price,
        size=size,
        **policy_keywords,
    )
    # The engine checks the options and the schema, and gives the frames' dtypes.
    meta = _windows.tumbling_windows(ddf._meta, spec, policy, **options)
    windower = Windower(spec, policy, **options)
    cfg = windower.config
    if buckets is not None and (
        isinstance(buckets, bool) or not isinstance(buckets, (int, np.integer)) or buckets < 1
    ):
        raise ValueError(f"buckets: got {buckets!r}; give a whole number >= 1 (or None)")
    n_buckets = 1 if cfg.policy.idle_timeout is not None else int(buckets or _default_buckets())
    if cfg.scope == "partition":
        n_buckets = min(n_buckets, cfg.partitions)
    carriers = None
    if cfg.scope == "global" and n_buckets > 1:
        dtype = None if cfg.key is None else ddf._meta[cfg.key].dtype
        phantoms = None if dtype is None else phantom_keys(dtype, n_buckets)
        if phantoms is None:
            n_buckets = 1  # no phantom key for this key dtype: one chain
        else:
            carriers = Carriers(cfg, dtype, phantoms)

    parts = ddf.to_delayed()
    step = delayed(_step)
    outputs: list[list[Any]] = [[] for _ in parts]
    if n_buckets == 1:
        chain = windower
        for i, part in enumerate(parts):
            chain = step(chain, part)
            outputs[i].append(chain)
        end = delayed(_finish, nout=2)(chain, None)
    else:
        split = delayed(_split, nout=n_buckets + 2)
        advance = delayed(_advance)
        cursors = [_Cursor(0, None)]
        chains = [windower] * n_buckets
        facts: list[Any] = []
        marks: list[Any] = []
        for i, part in enumerate(parts):
            pieces = split(
                part,
                i,
                key=cfg.key,
                arrival_time=cfg.arrival_time,
                buckets=n_buckets,
                scope=cfg.scope,
                partitions=cfg.partitions,
                hash=cfg.hash,
                seed=cfg.seed,
                carriers=carriers,
            )
            facts.append(pieces[0])
            marks.append(pieces[1])
            for b in range(n_buckets):
                chains[b] = step(chains[b], pieces[b + 2], cursors[i])
                outputs[i].append(chains[b])
            cursors.append(advance(cursors[i], pieces[0], i, cfg.arrival_time))
        finish = delayed(_finish, nout=2)
        ends = [finish(chain, cursors[-1], carriers, b) for b, chain in enumerate(chains)]
        order = delayed(_key_order)(facts, cfg.time, cfg.key)
        end = delayed(_gather_end, nout=2)(ends, cfg.key, order)

    gather = delayed(_gather, nout=4)
    if carriers is None:
        gathered = [gather(outs) for outs in outputs]
    else:
        gathered = [gather(outs, marks[i], cursors[i], carriers) for i, outs in enumerate(outputs)]
    divisions = ddf.divisions if ddf.known_divisions else None

    def frame(pieces: list, name: str, **kwargs: Any) -> dd.DataFrame:
        return dd.from_delayed(
            pieces,
            meta=getattr(meta, name),
            prefix=f"mdwindow-{name}",
            verify_meta=False,
            **kwargs,
        )

    return DaskWindowResult(
        windows=frame([g[0] for g in gathered] + [end[0]], "windows"),
        pending=frame([end[1]], "pending"),
        late=frame([g[1] for g in gathered], "late"),
        rejected=frame([g[2] for g in gathered], "rejected"),
        trace=frame([g[3] for g in gathered], "trace", divisions=divisions),
    )


def _split_by_hash(frame: pd.DataFrame, key: Any, partitions: int, hash: str, seed: int):
    return tuple(_hashing.hash_partition(frame, key, partitions, hash=hash, seed=seed))


def hash_partition(
    ddf: dd.DataFrame,
    key: Any = "symbol",
    partitions: int = 8,
    *,
    hash: str = "murmur3",
    seed: int = 0,
) -> dd.DataFrame:
    """Repartition by the hash of the key: Dask partition ``p`` holds hash partition ``p``.

    The Dask counterpart of :func:`mdwindow.hash_partition`: partition ``p``
    of the result, computed, equals the ``p``-th frame that function returns
    on ``ddf.compute()`` (rows in their original order, original index).

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        The rows to split.
    key, partitions, hash, seed
        As for :func:`mdwindow.hash_partition`. A missing key raises when
        the partition holding it is computed.

    Returns
    -------
    dask.dataframe.DataFrame
        Exactly ``partitions`` partitions, unknown divisions.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> ticks = pd.DataFrame({"symbol": ["AAPL", "MSFT", "NVDA", "MSFT"], "price": [1.0, 2, 3, 4]})
    >>> parts = hash_partition(dd.from_pandas(ticks, npartitions=2), partitions=2)
    >>> parts.partitions[0].compute()
      symbol  price
    1   MSFT    2.0
    3   MSFT    4.0
    """
    _require_dask_frame(ddf, "hash_partition")
    _hashing.hash_partition(ddf._meta, key, partitions, hash=hash, seed=seed)  # checks
    partitions = int(partitions)
    split = delayed(_split_by_hash, nout=partitions)
    splits = [split(part, key, partitions, hash, seed) for part in ddf.to_delayed()]
    gathered = [delayed(_concat)([s[p] for s in splits]) for p in range(partitions)]
    return dd.from_delayed(gathered, meta=ddf._meta, prefix="mdwindow-hash", verify_meta=False)


def _key_counts(frame: pd.DataFrame, key: Any) -> tuple[pd.Series, int]:
    column = frame[key]
    counts = column.value_counts(dropna=True, sort=False)
    return counts[counts > 0], int(column.isna().sum())


def partition_balance(
    ddf: dd.DataFrame,
    key: Any = "symbol",
    partitions: int = 8,
    *,
    hash: str = "murmur3",
    seed: int = 0,
) -> pd.DataFrame:
    """How evenly rows and keys would spread over the hash partitions (computed now).

    The Dask counterpart of :func:`mdwindow.partition_balance`, with the same
    frame and ``attrs``. Only the count of rows per distinct key comes back
    from the workers.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> ticks = pd.DataFrame({"symbol": ["AAPL", "MSFT", "NVDA", "MSFT", None]})
    >>> partition_balance(dd.from_pandas(ticks, npartitions=2), partitions=2)
       partition  rows  keys  share
    0          0     2     1    0.5
    1          1     2     2    0.5
    """
    _require_dask_frame(ddf, "partition_balance")
    _hashing.partition_balance(ddf._meta, key, partitions, hash=hash, seed=seed)  # checks
    partitions = int(partitions)
    tallies = dask.compute(*[delayed(_key_counts)(p, key) for p in ddf[[key]].to_delayed()])
    counts = pd.concat([t[0] for t in tallies])
    counts = counts.groupby(level=0, sort=False, observed=True).sum()
    table = _hashing.partition_ids_for_uniques(counts.index, partitions, hash=hash, seed=seed)
    rows = np.bincount(table, weights=counts.to_numpy(), minlength=partitions).astype(np.int64)
    keys = np.bincount(table, minlength=partitions).astype(np.int64)
    return _hashing.balance_frame(rows, keys, sum(t[1] for t in tallies))
