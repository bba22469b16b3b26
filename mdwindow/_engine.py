"""The windowing engine: one kernel ``(state, chunk) -> (output, state)``.

Batch mode is one call of :func:`process_chunk` on an empty state followed by
:func:`finish`; incremental mode calls :func:`process_chunk` once per pushed
chunk. Both front doors share every line of the semantics below.

Times are int64 nanoseconds; ``NEG_INF`` (the NaT bit pattern) stands for a
watermark of minus infinity. Watermark arithmetic saturates instead of
wrapping, so times near the int64 limits stay exact.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from mdwindow._aggregate import AggPlan, aggregate, fused_ohlcv, make_plan
from mdwindow._final_pass import (
    C_DROPPED,
    C_EMITTED,
    C_GLOBAL_MAX,
    C_OPEN,
    C_REJECTED,
    C_WINDOWS,
    E_KEY,
    E_LATE,
    E_ROW,
    E_ROWS,
    E_START,
    E_WATERMARK,
    FinalInputs,
    FinalOutputs,
    FinalWork,
    final_counters,
    final_pass,
    new_final_work,
    open_row_positions,
    renumber_open,
    resumed_work,
)
from mdwindow._frames import (
    TIMINGS,
    _categorical,
    _frame,
    _labels,
    _late_frame,
    _plain,
    _rejected_frame,
    _take,
    _trace_frame,
)
from mdwindow._kernels import (
    K_KEYS,
    K_NEW,
    K_ROW,
    K_UNKNOWN,
    classify_rows,
    emission_order,
    factorize_strings,
    first_reaching,
    group_rows,
    last_at_or_before,
    prefix_lengths,
    rehash_strings,
    window_ids,
)
from mdwindow._time import (
    INT64_MAX,
    NEG_INF,
    event_times_of,
    is_datetime,
    utc_array,
)
from mdwindow.hashing import HASHES, partition_ids_for_uniques
from mdwindow.specs import TumblingWindowSpec, WatermarkPolicy, resolve_policy

EMITS = ("final", "updates")
ON_TIME, LATE, DROPPED, REJECTED = range(4)


@dataclass(frozen=True)
class Config:
    """Every option of a windowing run, validated once."""

    spec: TumblingWindowSpec
    policy: WatermarkPolicy
    time: str
    key: str | None
    plan: AggPlan
    emit: str
    arrival_time: str | None
    time_unit: str | None
    partitions: int | None
    hash: str
    seed: int

    @property
    def scope(self) -> str:
        return self.policy.scope


def make_config(
    spec: Any,
    policy: WatermarkPolicy | None,
    *,
    time: str,
    key: str | None,
    agg: Any,
    emit: str,
    arrival_time: str | None,
    time_unit: str | None,
    partitions: int | None,
    hash: str,
    seed: int,
    price: str,
    size: str,
    policy_keywords: dict[str, Any],
) -> Config:
    """Validate the options of ``tumbling_windows`` / ``Windower``."""
    spec = TumblingWindowSpec.coerce(spec)
    policy = resolve_policy(policy, policy_keywords)
    if not isinstance(time, str):
        raise TypeError(f"time: got {time!r}; give the name of the event-time column")
    if key is not None and not isinstance(key, str):
        raise TypeError(f"key: got {key!r}; give the name of the key column, or None")
    if emit not in EMITS:
        raise ValueError(f"emit: got {emit!r}; choose 'final' or 'updates'")
    if hash not in HASHES:
        raise ValueError(f"hash: got {hash!r}; choose one of {', '.join(map(repr, HASHES))}")
    if partitions is not None and (
        isinstance(partitions, bool)
        or not isinstance(partitions, (int, np.integer))
        or partitions < 1
    ):
        raise ValueError(
            f"partitions: got {partitions!r}; give a whole number >= 1 (or None: no partitions)"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed: got {seed!r}; give an integer seed")
    if hash == "kafka" and seed != 0:
        raise ValueError(
            "seed: Kafka's partitioner has a fixed seed; leave seed=0 with hash='kafka'"
        )
    if arrival_time is not None and not isinstance(arrival_time, str):
        raise TypeError(f"arrival_time: got {arrival_time!r}; give a column name or None")
    if policy.scope != "global" and key is None:
        raise ValueError(
            f"scope: {policy.scope!r} needs a key column, but key=None; "
            "name the key column or use scope='global'"
        )
    if policy.scope == "partition" and partitions is None:
        raise ValueError(
            "partitions: scope='partition' needs partitions=P (the number of hash partitions)"
        )
    if partitions is not None and key is None:
        raise ValueError("partitions: hash partitioning needs a key column, but key=None")
    plan = make_plan(agg, price=price, size=size, key=key)
    return Config(
        spec=spec,
        policy=policy,
        time=time,
        key=key,
        plan=plan,
        emit=emit,
        arrival_time=arrival_time,
        time_unit=time_unit,
        partitions=None if partitions is None else int(partitions),
        hash=hash,
        seed=int(seed),
    )


@dataclass
class State:
    """Everything the engine remembers between chunks.

    Only open windows' rows and one maximum per scope are kept, so the state
    stays small however long the replay.
    """

    rows_seen: int = 0
    global_max: int = NEG_INF
    scope_max: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    keys: pd.Index | None = None
    key_partition: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    open_rows: dict[str, Any] | None = None
    last_arrival_time: int = NEG_INF
    time_kind: str | None = None
    _key_rank: np.ndarray | None = field(default=None, repr=False, compare=False)
    _key_table: Any = field(default=None, repr=False, compare=False)
    # The compiled window table of emit="final", valid for this state only
    # while ``_live.owner is _token`` (see _LiveWindows).
    _live: Any = field(default=None, repr=False, compare=False)
    _token: object = field(default_factory=object, repr=False, compare=False)


@dataclass(eq=False)
class _LiveWindows:
    """The open windows of ``emit="final"`` in compiled form, carried to the next chunk.

    Rebuilding the window table from the open rows costs a pass over them
    on every chunk, however small (with long windows, more rows than the
    chunk itself). The table is kept
    instead, for the state that the chunk produced: ``owner`` is that
    state's token, and a chunk that starts from any other state (an older
    one, a restored checkpoint) rebuilds the table from its ``open_rows``.
    A chunk that takes the table over clears ``owner`` before changing it,
    so a chunk failing half way leaves nothing usable behind.
    """

    work: FinalWork
    window: np.ndarray  # window id (slot numbering) of each of the owner's open rows
    fused: bool  # whether the slots fold OHLCV (then of these dtypes)
    dtypes: tuple
    owner: object


class Deferred:
    """A result frame that is built the first time somebody reads it.

    A pushed chunk of a thousand rows costs more in DataFrame construction
    than in windowing, and a replay often reads only ``windows``: the other
    frames wait as their ready arrays. :class:`~mdwindow.WindowResult`
    builds them on first access (once).
    """

    __slots__ = ("build",)

    def __init__(self, build: Callable[[], pd.DataFrame]) -> None:
        self.build = build


def resolve(value: pd.DataFrame | Deferred) -> pd.DataFrame:
    """The frame itself, or the frame a :class:`Deferred` builds."""
    return value.build() if isinstance(value, Deferred) else value


@dataclass
class ChunkOutput:
    """Frames produced by one step of the engine (``late``, ``rejected`` and
    ``trace`` may be :class:`Deferred`)."""

    windows: pd.DataFrame
    late: pd.DataFrame | Deferred
    rejected: pd.DataFrame | Deferred
    trace: pd.DataFrame | Deferred
    pending: pd.DataFrame | None = None


def _held(frame: pd.DataFrame, *positions: np.ndarray) -> pd.DataFrame:
    """``frame`` as a deferred build may keep it: a copy-on-write view when rows
    of it are taken later (so changing the caller's frame changes nothing here)."""
    return frame.copy(deep=False) if any(len(p) for p in positions) else frame


def _deferred_output(
    cfg, frame, prepared, windows, arrival, start, w_before, w_after, status,
    dropped, late_by, rejected, reasons,
) -> ChunkOutput:  # fmt: skip
    """A step's output: ``windows`` built, the per-row frames deferred to first read.

    Per-row arrays are in arrival order; ``dropped`` and ``rejected`` are row
    positions, ``late_by`` and ``reasons`` one per dropped or rejected row.
    """
    held = _held(frame, dropped, rejected)
    size = cfg.spec.size_ns
    return ChunkOutput(
        windows=windows,
        late=Deferred(
            lambda: _late_frame(
                held,
                prepared,
                dropped,
                arrival[dropped],
                start[dropped],
                size,
                w_before[dropped],
                late_by,
            )  # fmt: skip
        ),
        rejected=Deferred(
            lambda: _rejected_frame(held, prepared, rejected, arrival[rejected], reasons)
        ),
        trace=Deferred(
            lambda: _trace_frame(held, prepared, arrival, start, w_before, w_after, status)
        ),
    )


# --------------------------------------------------------------------------
# Saturating int64 arithmetic on arrays


def _sat_sub(values: np.ndarray, amount: int) -> np.ndarray:
    """``values - amount`` (amount >= 0); results at or below int64 min are NEG_INF."""
    if amount == 0:
        return values
    out = values - amount
    out[values <= NEG_INF + amount] = NEG_INF
    return out


def _sat_add(values: np.ndarray, amount: int) -> np.ndarray:
    """``values + amount`` (amount >= 0), saturating at int64 max ("never")."""
    if amount == 0:
        return values.copy()
    out = values + amount
    out[values > INT64_MAX - amount] = INT64_MAX
    return out


# --------------------------------------------------------------------------
# Input checks and normalisation (raise before any state changes)


#: The last (config, column index, column names) that passed
#: :func:`_require_columns`: a replay of one frame's slices checks its columns once.
_CHECKED: tuple[Any, Any, Any] = (None, None, None)


def _require_columns(cfg: Config, frame: pd.DataFrame) -> None:
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


def _check_columns(cfg: Config, frame: pd.DataFrame) -> None:
    wanted = [("time", cfg.time)]
    if cfg.key is not None:
        wanted.append(("key", cfg.key))
    if cfg.arrival_time is not None:
        wanted.append(("arrival_time", cfg.arrival_time))
    wanted += [("agg", c) for c in cfg.plan.columns]
    columns = frame.columns
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
    clashes = [c for c in ADDED_COLUMNS if c in columns]
    if clashes:
        raise ValueError(
            f"ticks: column(s) {clashes} would be overwritten by the columns that the late "
            "and rejected frames add; rename them first, e.g. "
            f"ticks.rename(columns={{{clashes[0]!r}: {clashes[0] + '_in'!r}}})"
        )


#: Columns that ``late``, ``rejected`` add to the input's own columns.
ADDED_COLUMNS = ("arrival", "window_start", "window_end", "watermark", "late_by", "reason")


def _time_kind(values: Any) -> str:
    return "datetime" if is_datetime(values.dtype) else "integer"


def _column(frame: pd.DataFrame, name: str) -> Any:
    """The values (numpy or pandas array) of column ``name``, without building a Series."""
    try:
        loc = frame.columns.get_loc(name)
        if isinstance(loc, (int, np.integer)):
            return frame._mgr.iget_values(loc)
    except AttributeError:  # pragma: no cover - other pandas versions
        pass
    series = frame[name]
    return series.to_numpy() if isinstance(series.dtype, np.dtype) else series.array


@dataclass
class _Prepared:
    n: int
    order: np.ndarray | None  # arrival position -> frame position
    t: np.ndarray
    out_of_range: np.ndarray
    arrival_stamp: np.ndarray | None
    key_values: Any  # the key column's values, in frame order (None: no key)
    time_kind: str

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
    if _time_kind(stamps) != "datetime":
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


def prepare(cfg: Config, state: State, frame: pd.DataFrame) -> _Prepared:
    """Check a chunk and bring it into arrival order; raises before any work."""
    _require_columns(cfg, frame)
    times = _column(frame, cfg.time)
    kind = _time_kind(times)
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
        order, stamp = arrival_order(_column(frame, cfg.arrival_time), cfg.arrival_time)
        if n and stamp[0] < state.last_arrival_time:
            raise ValueError(
                f"arrival_time: this chunk starts at {pd.Timestamp(int(stamp[0]), tz='UTC')}, "
                f"before the last arrival of earlier chunks "
                f"({pd.Timestamp(int(state.last_arrival_time), tz='UTC')}); "
                "push chunks in arrival order"
            )
        t = t[order]
        out_of_range = out_of_range[order]
    keys = _column(frame, cfg.key) if cfg.key is not None else None
    return _Prepared(n, order, t, out_of_range, stamp, keys, kind)


# --------------------------------------------------------------------------
# The kernel


def _empty_rows(cfg: Config) -> dict[str, Any]:
    rows: dict[str, Any] = {
        "key": np.empty(0, np.int64),
        "start": np.empty(0, np.int64),
        "t": np.empty(0, np.int64),
        "arrival": np.empty(0, np.int64),
        "late": np.empty(0, bool),
    }
    for column in cfg.plan.columns:
        rows["col:" + column] = np.empty(0, np.float64)
    return rows


def _concat_rows(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, values in new.items():
        before = old.get(name)
        if before is None or len(before) == 0:
            out[name] = values
        elif len(values) == 0:
            out[name] = before
        elif isinstance(values, np.ndarray) and isinstance(before, np.ndarray):
            out[name] = np.concatenate([before, values])
        else:
            out[name] = pd.concat([pd.Series(before), pd.Series(values)], ignore_index=True).array
    return out


def _take_rows(rows: dict[str, Any], index: np.ndarray) -> dict[str, Any]:
    return {name: (None if v is None else v[index]) for name, v in rows.items()}


def _append_keys(known: pd.Index, fresh: pd.Index) -> pd.Index:
    """Extend the key dictionary without letting pandas re-infer its dtype."""
    if known.dtype == object and fresh.dtype == object:
        values = np.concatenate([known.to_numpy(), fresh.to_numpy()])
        return pd.Index(values, dtype=object, tupleize_cols=False)
    keys = known.append(fresh)
    if isinstance(keys.array, pd.arrays.ArrowStringArray):
        # One Arrow chunk, so that taking keys for each result frame is cheap.
        try:
            chunked = keys.array._pa_array
            if chunked.num_chunks > 1:
                keys = pd.Index(
                    type(keys.array)(chunked.combine_chunks(), dtype=keys.dtype), name=keys.name
                )
        except AttributeError:  # pragma: no cover - other pandas versions
            pass
    return keys


def key_codes(cfg: Config, state: State, prepared: _Prepared):
    """Codes of the chunk's keys in the state's key dictionary (-1 = missing).

    Returns ``(codes in arrival order, keys, key_partition)``.
    """
    codes, keys, key_partition, _ = _key_codes(cfg, state, prepared)
    return codes, keys, key_partition


def _key_codes(cfg: Config, state: State, prepared: _Prepared, out: np.ndarray | None = None):
    """:func:`key_codes` and the compiled key dictionary to keep (or None).

    ``out`` (int64, one per row) receives the codes when the compiled path runs.
    """
    if cfg.key is None:
        keys = state.keys if state.keys is not None else pd.Index([None], dtype=object)
        return np.zeros(prepared.n, np.int64), keys, state.key_partition, None
    fast = _arrow_key_codes(state, prepared, out)
    if fast is not None:
        codes, fresh, table = fast
    else:
        codes, fresh = _pandas_key_codes(state, prepared)
        table = None
    if fresh is None:
        return codes, state.keys, state.key_partition, table
    base_keys = state.keys if state.keys is not None and len(state.keys) else fresh[:0]
    keys = _append_keys(base_keys, fresh) if len(fresh) else base_keys
    if len(keys) == 0:
        keys = fresh
    key_partition = state.key_partition
    if cfg.partitions is not None and len(fresh):
        key_partition = np.concatenate(
            [
                key_partition,
                partition_ids_for_uniques(
                    fresh, cfg.partitions, hash=cfg.hash, seed=cfg.seed
                ).astype(np.int64, copy=False),
            ]
        )
    return codes, keys, key_partition, table


def _pandas_key_codes(state: State, prepared: _Prepared):
    """``(codes, new keys in order of first arrival)`` through ``pd.factorize``."""
    codes, uniques = pd.factorize(prepared.keys, use_na_sentinel=True)
    codes = codes.astype(np.int64, copy=False)
    # Keep the input's dtype: pd.Index would infer "str" from object arrays.
    uniques = pd.Index(uniques, dtype=getattr(uniques, "dtype", None), tupleize_cols=False)
    if state.keys is None or len(state.keys) == 0:
        known = np.full(len(uniques), -1, np.int64)
        n_known = 0
    else:
        known = state.keys.get_indexer(uniques).astype(np.int64, copy=False)
        n_known = len(state.keys)
    fresh = known < 0
    known[fresh] = n_known + np.arange(int(fresh.sum()))
    mapped = np.where(codes >= 0, known[np.maximum(codes, 0)] if len(known) else -1, -1)
    return mapped.astype(np.int64, copy=False), uniques[fresh]


class KeyTable(NamedTuple):
    """The key dictionary in compiled form (see ``factorize_strings``)."""

    table: np.ndarray
    hashes: np.ndarray
    offsets: np.ndarray
    data: np.ndarray
    size: int

    @classmethod
    def empty(cls) -> KeyTable:
        return cls(
            np.full(64, -1, np.int64),
            np.empty(32, np.int64),
            np.zeros(33, np.int64),
            np.empty(256, np.uint8),
            0,
        )

    def copy(self) -> KeyTable:
        return KeyTable(*(a.copy() for a in self[:4]), self.size)


def _arrow_strings(values: Any):
    """One Arrow (large_)string array of ``values`` when they are Arrow-backed strings."""
    if not isinstance(values, pd.arrays.ArrowStringArray):
        return None
    import pyarrow as pa

    chunked = values.__arrow_array__()
    if not (pa.types.is_string(chunked.type) or pa.types.is_large_string(chunked.type)):
        return None
    return chunked.combine_chunks() if chunked.num_chunks != 1 else chunked.chunk(0)


def _run_factorize(array, order: np.ndarray, table: KeyTable, insert: bool, codes: np.ndarray):
    """``(dictionary, positions of new keys, rows of unknown keys)`` after coding ``array``.

    With ``insert`` the dictionary's arrays are filled in place (and grown).
    """
    import pyarrow as pa

    validity, offsets, data = array.buffers()
    offsets = np.frombuffer(
        offsets, np.int64 if pa.types.is_large_string(array.type) else np.int32
    )
    data = np.frombuffer(data, np.uint8) if data is not None else np.empty(0, np.uint8)
    valid = (
        np.frombuffer(validity, np.uint8)
        if validity is not None and array.null_count
        else np.empty(0, np.uint8)
    )
    counters = np.zeros(4, np.int64)
    counters[K_KEYS] = table.size
    new_positions = np.empty(16, np.int64)
    while not factorize_strings(
        offsets, data, valid, array.offset, order, table.table, table.hashes,
        table.offsets, table.data, new_positions, counters, insert, codes,
    ):  # fmt: skip
        # Out of room for a new key: grow whatever is full and go on.
        size = int(counters[K_KEYS])
        row = int(counters[K_ROW])
        at = array.offset + (int(order[row]) if len(order) else row)
        length = int(offsets[at + 1] - offsets[at])
        table_codes, hashes, key_offsets, key_data = table[:4]
        if size + 2 > len(key_offsets) or size >= len(hashes):
            key_offsets = _grown(key_offsets, 2 * len(key_offsets))
            hashes = _grown(hashes, 2 * len(hashes))
        if 2 * (size + 1) > len(table_codes):
            table_codes = np.full(2 * len(table_codes), -1, np.int64)
            rehash_strings(table_codes, hashes, size)
        if key_offsets[size] + length > len(key_data):
            key_data = _grown(key_data, 2 * (len(key_data) + length))
        if counters[K_NEW] == len(new_positions):
            new_positions = _grown(new_positions, 2 * len(new_positions))
        table = KeyTable(table_codes, hashes, key_offsets, key_data, size)
    table = table._replace(size=int(counters[K_KEYS]))
    return table, new_positions[: counters[K_NEW]], int(counters[K_UNKNOWN])


def _grown(values: np.ndarray, capacity: int) -> np.ndarray:
    bigger = np.empty(capacity, values.dtype)
    bigger[: len(values)] = values
    return bigger


def _arrow_key_codes(state: State, prepared: _Prepared, out: np.ndarray | None = None):
    """Codes, new keys and the grown dictionary, straight from Arrow string buffers.

    None when the keys are not Arrow strings (or earlier keys were of another dtype).
    """
    values = prepared.key_values
    array = _arrow_strings(values)
    if array is None:
        return None
    known = state.keys
    if known is not None and len(known) and known.dtype != values.dtype:
        return None
    order = prepared.order if prepared.order is not None else np.empty(0, np.int64)
    codes = np.empty(prepared.n, np.int64) if out is None else out
    table = state._key_table
    if known is None or len(known) == 0:
        table, new_positions, _ = _run_factorize(array, order, KeyTable.empty(), True, codes)
    else:
        if table is None or table.size != len(known):
            # Rebuild the compiled dictionary, e.g. after a checkpoint was restored.
            table, _, _ = _run_factorize(
                _arrow_strings(pd.array(known, dtype=values.dtype)),
                np.empty(0, np.int64),
                KeyTable.empty(),
                True,
                np.empty(len(known), np.int64),
            )
        table, new_positions, unknown = _run_factorize(array, order, table, False, codes)
        if unknown:
            # New keys: insert them into a copy, so the state's dictionary stays as it was.
            table, new_positions, _ = _run_factorize(array, order, table.copy(), True, codes)
    if len(new_positions) or known is None or not len(known):
        fresh = pd.Index(values.take(new_positions), dtype=values.dtype, tupleize_cols=False)
    else:
        fresh = None  # no new keys
    return codes, fresh, table


def _scope_of_keys(cfg: Config, codes: np.ndarray, key_partition: np.ndarray) -> np.ndarray:
    if cfg.scope == "global":
        return np.zeros(len(codes), np.int64)
    if cfg.scope == "key":
        return codes
    if len(key_partition) == 0:
        return np.full(len(codes), -1, np.int64)
    return np.where(codes >= 0, key_partition[np.maximum(codes, 0)], -1).astype(
        np.int64, copy=False
    )


def _n_scopes(cfg: Config, keys: pd.Index | None) -> int:
    if cfg.scope == "global":
        return 1
    if cfg.scope == "key":
        return 0 if keys is None else len(keys)
    return int(cfg.partitions)


def _effective(cfg: Config, own: np.ndarray, glob: np.ndarray) -> np.ndarray:
    """Effective watermark from a scope maximum and the global maximum."""
    w = _sat_sub(own, cfg.policy.lag_ns)
    idle = cfg.policy.idle_ns
    if idle is not None:
        w = np.maximum(w, _sat_sub(_sat_sub(glob, cfg.policy.lag_ns), idle))
    return w


def _window_ids(key: np.ndarray, start: np.ndarray):
    """Dense ids of (key, start) pairs: ``(gid per row, n, key and start per window)``."""
    gid, w_key, w_start = window_ids(key, start)
    return gid, len(w_key), w_key, w_start


def key_rank(keys: pd.Index | None, cache: State | None = None) -> np.ndarray:
    """Rank of each key code in the natural order of the key values.

    ``cache`` (a state) remembers the ranks until new keys arrive.
    """
    if keys is None or len(keys) == 0:
        return np.zeros(0, np.int64)
    if cache is not None and cache._key_rank is not None and len(cache._key_rank) == len(keys):
        return cache._key_rank
    values = np.asarray(keys, dtype=object)
    try:
        order = np.argsort(values, kind="stable")
    except TypeError:
        # Keys of mixed types have no common order; their text has one.
        order = np.argsort(np.array([str(v) for v in values], dtype=object), kind="stable")
    rank = np.empty(len(keys), np.int64)
    rank[order] = np.arange(len(keys))
    if cache is not None:
        cache._key_rank = rank
    return rank


def _concat(before: Any, values: Any) -> Any:
    """``before`` followed by ``values`` (numpy or extension arrays); no copy when one is empty."""
    if before is None or len(before) == 0:
        return values
    if len(values) == 0:
        return before
    if isinstance(values, np.ndarray) and isinstance(before, np.ndarray):
        return np.concatenate([before, values])
    return pd.concat([pd.Series(before), pd.Series(values)], ignore_index=True).array


def _chunk_column(frame: pd.DataFrame, prepared: _Prepared, column: str) -> Any:
    """An input column in arrival order; numpy columns stay numpy for the compiled reductions."""
    values = _column(frame, column)
    return values if prepared.order is None else values.take(prepared.order)


def process_chunk(cfg: Config, state: State, frame: pd.DataFrame) -> tuple[ChunkOutput, State]:
    """Run one chunk (rows in arrival order) through the engine.

    Returns this chunk's output and the new state; ``state`` itself is left
    untouched, so a failing chunk changes nothing.
    """
    prepared = prepare(cfg, state, frame)
    if cfg.emit == "final":
        return _final_chunk(cfg, state, frame, prepared)
    codes, keys, key_partition, key_table = _key_codes(cfg, state, prepared)
    output, new_state = _updates_chunk(cfg, state, frame, prepared, codes, keys, key_partition)
    new_state._key_table = key_table if key_table is not None else state._key_table
    return output, new_state


def _next_state(cfg, state, prepared, *, global_max, scope_max, keys, key_partition, open_rows):
    n = prepared.n
    return State(
        rows_seen=state.rows_seen + n,
        global_max=int(global_max),
        scope_max=scope_max,
        keys=keys if cfg.key is not None else state.keys,
        key_partition=key_partition,
        open_rows=open_rows,
        last_arrival_time=(
            int(prepared.arrival_stamp[-1])
            if prepared.arrival_stamp is not None and n
            else state.last_arrival_time
        ),
        time_kind=state.time_kind
        if (state.time_kind is not None or n == 0)
        else prepared.time_kind,
        _key_rank=state._key_rank,
    )


#: Chunks of at least this many rows fault their output pages in on a helper thread.
PREFAULT_ROWS = 1 << 20
_MADV_POPULATE_WRITE = 23  # Linux >= 5.14
_madvise = None


class _Prefault:
    """Fault in the pages of fresh arrays on a helper thread (Linux only).

    Writing to fresh memory makes the operating system clear each page
    first, and on a busy virtual machine that costs as much as the engine's
    own work. For arrays whose size is known in advance (the per-row
    outputs), a helper thread asks Linux to populate the pages
    (``MADV_POPULATE_WRITE``, which changes no data, so the engine may
    write them at the same time) while this thread codes the keys and runs
    the compiled pass with the GIL released. Elsewhere, or for small
    chunks, this does nothing.
    """

    _madvise: Any = None

    def __init__(self, arrays: list[np.ndarray]) -> None:
        self.thread = None
        if sum(a.nbytes for a in arrays) < PREFAULT_ROWS * 8 or not self._available():
            return
        self.thread = threading.Thread(
            target=self._populate, args=(arrays,), name="mdwindow-prefault", daemon=True
        )
        self.thread.start()

    @classmethod
    def _available(cls) -> bool:
        if cls._madvise is None:
            cls._madvise = False
            if sys.platform.startswith("linux"):
                try:
                    libc = ctypes.CDLL(None, use_errno=True)
                    libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
                    probe = np.empty(1 << 13, np.uint8)
                    page = (probe.ctypes.data + 4095) & ~4095
                    if libc.madvise(page, 4096, _MADV_POPULATE_WRITE) == 0:
                        cls._madvise = libc.madvise
                except (OSError, AttributeError):
                    pass
        return bool(cls._madvise)

    @classmethod
    def _populate(cls, arrays: list[np.ndarray]) -> None:
        for values in arrays:
            start = values.ctypes.data & ~4095
            cls._madvise(start, values.ctypes.data + values.nbytes - start, _MADV_POPULATE_WRITE)

    def finish(self) -> None:
        if self.thread is not None:
            self.thread.join()


def _final_chunk(cfg, state, frame, prepared):
    """``emit="final"``: one compiled pass judges rows, fills windows and closes them."""
    n = prepared.n
    old = state.open_rows or _empty_rows(cfg)
    chunk_columns = {c: _chunk_column(frame, prepared, c) for c in cfg.plan.columns}
    fused = fused_ohlcv(cfg.plan, chunk_columns)
    live = state._live
    resume = (
        live is not None
        and live.owner is state._token
        and live.fused == (fused is not None)
        and (fused is None or live.dtypes == (fused[0].dtype, fused[1].dtype))
    )
    # Rows the pass folds: this chunk's, after the kept open rows unless the
    # window table of the previous chunk is taken over.
    n_old = 0 if resume else len(old["key"])
    if resume:
        live.owner = None
    if resume and fused is not None:
        columns = chunk_columns  # the slots hold the open windows' running OHLCV
    else:
        columns = {c: _concat(old["col:" + c], chunk_columns[c]) for c in cfg.plan.columns}
        if not resume:
            fused = fused_ohlcv(cfg.plan, columns)
    price, volume = fused if fused is not None else (np.empty(0, np.float64),) * 2
    # Outputs come from numpy, which asks for huge pages; pages past what is
    # written (windows emitted, rows dropped) are never touched.
    n_open = int(live.work.counters[C_OPEN]) if resume else 0
    capacity = n_open + n_old + n  # at most one new window per row
    per_window = capacity if fused is not None else 0
    outputs = FinalOutputs(
        per_row=np.empty((4, n), np.int64),
        status=np.empty(n, np.int8),
        window=np.empty(n_old + n, np.int64),
        pane=np.empty(capacity, np.int64),
        dropped=np.empty((2, n), np.int64),
        rejected=np.empty(n, np.int64),
        reasons=np.empty(n, np.int8),
        emitted=np.empty((6, capacity), np.int64),
        prices=np.empty((4, per_window), price.dtype),
        volume=np.empty(per_window, volume.dtype),
        vwap=np.empty(per_window, np.float64),
    )
    outputs.pane[:n_open] = -1
    codes = np.empty(n, np.int64)
    # Fault the per-row output pages in on another core meanwhile (see _Prefault).
    coded_here = isinstance(prepared.key_values, pd.arrays.ArrowStringArray)
    prefault = _Prefault([codes] * coded_here + [outputs.per_row, outputs.status, outputs.window])
    try:
        codes, keys, key_partition, key_table = _key_codes(cfg, state, prepared, codes)
        inputs = FinalInputs(
            key=codes if resume else _concat(old["key"], codes),
            t=prepared.t if resume else _concat(old["t"], prepared.t),
            old_start=old["start"][:n_old],
            old_late=old["late"][:n_old],
            bad_time=_nonzero_or_empty(prepared.out_of_range.view(np.int8)),
            price=price,
            size=volume,
            scope_of_key=_scope_of_keys(cfg, np.arange(len(keys)), key_partition),
            key_rank=np.zeros(len(keys), np.int64),
        )
        rank_cache = State(_key_rank=state._key_rank)
        if cfg.key is not None:
            inputs = inputs._replace(key_rank=key_rank(keys, rank_cache))
        scope_max = np.full(_n_scopes(cfg, keys), NEG_INF, np.int64)
        scope_max[: len(state.scope_max)] = state.scope_max
        if resume:
            work = resumed_work(
                live.work, scope_max, state.global_max, len(keys), inputs.key_rank,
                state.keys is None or len(keys) != len(state.keys),
            )  # fmt: skip
        else:
            work = new_final_work(
                scope_max, state.global_max, len(keys), price.dtype, volume.dtype, n_old,
                final_counters(),
            )  # fmt: skip
        idle = cfg.policy.idle_ns
        work = final_pass(
            inputs, outputs, work, n_old, state.rows_seen, 0 if cfg.scope == "global" else -1,
            cfg.spec.size_ns, cfg.spec.offset_ns, cfg.policy.lag_ns,
            -1 if idle is None else idle, cfg.policy.lateness_ns, fused is not None,
        )  # fmt: skip
    finally:
        prefault.finish()
    # Every row the windows hold: the kept open rows, then this chunk's.
    rows = _WindowRows(
        old,
        old_window=live.window if resume else outputs.window[:n_old],
        window=outputs.window[n_old:],
        codes=codes,
        t=prepared.t,
        chunk_columns=chunk_columns,
    )
    key_table = key_table if key_table is not None else state._key_table
    output, open_rows, open_window = _final_output(
        cfg, state, frame, prepared, rows, outputs, work, columns, keys, key_partition, key_table
    )
    new_state = _next_state(
        cfg,
        state,
        prepared,
        global_max=work.counters[C_GLOBAL_MAX],
        scope_max=scope_max,
        keys=keys,
        key_partition=key_partition,
        open_rows=open_rows,
    )
    new_state._key_rank = rank_cache._key_rank
    new_state._key_table = key_table
    new_state._live = _LiveWindows(
        work,
        open_window,
        fused is not None,
        (price.dtype, volume.dtype),
        new_state._token,
    )
    return output, new_state


class _WindowRows(NamedTuple):
    """The rows of a ``final_pass`` in two parts: kept open rows, then the chunk's."""

    old: dict[str, Any]
    old_window: np.ndarray
    window: np.ndarray
    codes: np.ndarray
    t: np.ndarray
    chunk_columns: dict[str, Any]

    def all(self, name: str, chunk_values: Any) -> Any:
        return _concat(self.old[name], chunk_values)


def _nonzero_or_empty(flags: np.ndarray) -> np.ndarray:
    """``flags``, or an empty array when none is set (the compiled pass then skips them)."""
    return flags if flags.any() else flags[:0]


def _final_output(
    cfg, state, frame, prepared, rows, outputs, work, columns, keys, partition, key_table
):
    """The frames of a ``final_pass``; the rows of the windows it left open and their
    window ids (renumbered ``0 .. open-1`` in ``work``)."""
    counters = work.counters
    base = state.rows_seen
    n_panes = int(counters[C_EMITTED])
    n_windows = int(counters[C_WINDOWS])
    start, w_before, w_after, arrival = outputs.per_row
    status = outputs.status
    emitted = outputs.emitted[:, :n_panes]
    pane = outputs.pane[:n_windows]
    if len(outputs.vwap):
        parts = (*outputs.prices[:, :n_panes], outputs.volume[:n_panes], outputs.vwap[:n_panes])
        values = dict(zip(cfg.plan.names, parts, strict=True))
    else:
        values = aggregate(
            cfg.plan,
            columns,
            _concat(rows.old_window, rows.window),
            pane,
            n_panes,
            rows.all("t", rows.t),
            rows.all("arrival", base + np.arange(prepared.n)),
        )
    emit_row = emitted[E_ROW]
    windows = _layout_panes(
        cfg,
        keys,
        partition,
        emitted[E_KEY],
        emitted[E_START],
        values,
        emitted[E_ROWS],
        emitted[E_LATE],
        np.full(n_panes, TIMINGS.index("final"), np.int8),
        np.zeros(n_panes, np.int64),
        emit_row + base if base else emit_row,
        emitted[E_WATERMARK],
        prepared.arrival_stamp[emit_row] if prepared.arrival_stamp is not None else None,
        key_table,
    )

    kept_old = open_row_positions(rows.old_window, pane)
    kept_new = open_row_positions(rows.window, pane)
    old = rows.old
    open_rows = {
        "key": _concat(old["key"][kept_old], rows.codes[kept_new]),
        "start": _concat(old["start"][kept_old], start[kept_new]),
        "t": _concat(old["t"][kept_old], rows.t[kept_new]),
        "arrival": _concat(old["arrival"][kept_old], base + kept_new),
        "late": _concat(old["late"][kept_old], status[kept_new] == LATE),
    }
    for c in cfg.plan.columns:
        open_rows["col:" + c] = _concat(old["col:" + c][kept_old], rows.chunk_columns[c][kept_new])
    remap = np.full(n_windows, -1, np.int64)
    renumber_open(work.slots, remap)
    open_window = _concat(remap[rows.old_window[kept_old]], remap[rows.window[kept_new]])

    dropped, late_by = outputs.dropped[:, : counters[C_DROPPED]]
    rejected = outputs.rejected[: counters[C_REJECTED]]
    reasons = outputs.reasons[: counters[C_REJECTED]]
    output = _deferred_output(
        cfg, frame, prepared, windows, arrival, start, w_before, w_after, status,
        dropped, late_by, rejected, reasons,
    )  # fmt: skip
    return output, open_rows, open_window


def _updates_chunk(cfg, state, frame, prepared, codes, keys, key_partition):
    """``emit="updates"``: vectorised searches of each window's on-time and late panes."""
    n = prepared.n
    base = state.rows_seen
    size, lateness = cfg.spec.size_ns, cfg.policy.lateness_ns
    t = prepared.t
    arrival = base + np.arange(n, dtype=np.int64)

    scope = _scope_of_keys(cfg, codes, key_partition)
    n_scopes = _n_scopes(cfg, keys)
    scope_max = np.full(n_scopes, NEG_INF, np.int64)
    scope_max[: len(state.scope_max)] = state.scope_max
    state_scope_max = scope_max.copy()
    idle = cfg.policy.idle_ns
    (
        start, reason, status, w_before, w_after, late_by,
        own_after, glob_after, own_record, glob_record, global_max,
    ) = classify_rows(
        t, prepared.out_of_range.view(np.int8), scope, codes < 0, scope_max, state.global_max,
        size, cfg.spec.offset_ns, cfg.policy.lag_ns, -1 if idle is None else idle, lateness,
    )  # fmt: skip
    late = status == LATE
    start[status == REJECTED] = NEG_INF

    # Rows of open windows: those kept from earlier chunks, then this chunk's accepted ones.
    accepted = np.flatnonzero(status <= LATE)
    new_rows: dict[str, Any] = {
        "key": np.maximum(codes[accepted], 0),
        "start": start[accepted],
        "t": t[accepted],
        "arrival": arrival[accepted],
        "late": late[accepted],
    }
    for column in cfg.plan.columns:
        new_rows["col:" + column] = _chunk_column(frame, prepared, column)[accepted]
    rows = _concat_rows(state.open_rows or _empty_rows(cfg), new_rows)

    gid, n_windows, w_key, w_start = _window_ids(rows["key"], rows["start"])
    w_end = w_start + size
    w_scope = _scope_of_keys(cfg, w_key, key_partition) if n_windows else w_key
    w_has_on_time = np.zeros(n_windows, bool)
    w_has_on_time[gid[~rows["late"]]] = True

    # Watermark steps of this chunk, grouped by scope, for the searches below.
    record_rows = np.flatnonzero(own_record)
    offsets, ordered = group_rows(record_rows, scope, n_scopes)
    own_level = _sat_sub(own_after, cfg.policy.lag_ns)
    glob_rows = np.flatnonzero(glob_record)
    glob_level = (
        _sat_sub(_sat_sub(glob_after, cfg.policy.lag_ns), idle) if idle is not None else None
    )

    def first_at_least(threshold: np.ndarray, scopes: np.ndarray) -> np.ndarray:
        found = first_reaching(offsets, ordered, own_level, scopes, threshold, n)
        if glob_level is not None and len(glob_rows):
            steps = glob_level[glob_rows]
            pos = np.searchsorted(steps, threshold, side="left")
            via_global = np.where(
                pos < len(glob_rows), glob_rows[np.minimum(pos, len(glob_rows) - 1)], n
            )
            found = np.minimum(found, via_global)
        return found

    def watermark_at(rows_at: np.ndarray, scopes: np.ndarray) -> np.ndarray:
        """Effective watermark of each scope right after chunk row ``rows_at``."""
        own = own_after[rows_at]
        elsewhere = scope[rows_at] != scopes
        if elsewhere.any():
            # Closed through the global watermark (idle timeout) by another scope's row.
            last = last_at_or_before(offsets, ordered, scopes[elsewhere], rows_at[elsewhere])
            own[elsewhere] = np.where(
                last >= 0, own_after[np.maximum(last, 0)], state_scope_max[scopes[elsewhere]]
            )
        return _effective(cfg, own, glob_after[rows_at])

    close_at = first_at_least(_sat_add(w_end, lateness), w_scope)
    closed = close_at < n

    state_w = _effective(
        cfg, state_scope_max[w_scope], np.full(n_windows, state.global_max, np.int64)
    )
    waiting = np.flatnonzero(w_has_on_time & (state_w < w_end))
    fire_at = first_at_least(w_end[waiting], w_scope[waiting])
    fired = fire_at < n
    on_gid = waiting[fired]
    on_row = fire_at[fired]
    # One pane per late row of this chunk; its revision counts the panes before it.
    late_rows = np.flatnonzero(rows["late"])
    late_gid = gid[late_rows]
    earlier_late = (
        pd.Series(late_gid).groupby(late_gid).cumcount().to_numpy(np.int64)
        if len(late_rows)
        else np.empty(0, np.int64)
    )
    fresh = rows["arrival"][late_rows] >= base
    late_rows, late_gid, earlier_late = late_rows[fresh], late_gid[fresh], earlier_late[fresh]
    local = rows["arrival"][late_rows] - base

    pane_gid = np.concatenate([on_gid, late_gid])
    pane_row = np.concatenate([on_row, local])
    rank_cache = State(_key_rank=state._key_rank)
    rank = key_rank(keys if cfg.key is not None else None, rank_cache)
    pane_rank = rank[w_key[pane_gid]] if len(rank) else np.zeros(len(pane_gid), np.int64)
    order = _emission_order(pane_row, w_start[pane_gid], pane_rank)
    pane_gid = pane_gid[order]
    pane_row = pane_row[order]
    n_on = len(on_gid)
    windows = _pane_frame(
        cfg,
        rows,
        gid,
        n_windows,
        w_key,
        w_start,
        keys,
        key_partition,
        pane_gid,
        np.concatenate([base + on_row, rows["arrival"][late_rows]])[order],
        base + pane_row,
        np.concatenate(
            [
                np.full(n_on, TIMINGS.index("on_time"), np.int8),
                np.full(len(late_gid), TIMINGS.index("late"), np.int8),
            ]
        )[order],
        np.concatenate(
            [
                np.zeros(n_on, np.int64),
                w_has_on_time[late_gid].astype(np.int64, copy=False) + earlier_late,
            ]
        )[order],
        np.concatenate([watermark_at(on_row, w_scope[on_gid]), w_after[local]])[order],
        prepared.arrival_stamp[pane_row] if prepared.arrival_stamp is not None else None,
    )

    kept = ~closed[gid] if n_windows else np.zeros(0, bool)
    new_state = _next_state(
        cfg,
        state,
        prepared,
        global_max=global_max,
        scope_max=scope_max,
        keys=keys,
        key_partition=key_partition,
        open_rows=_take_rows(rows, np.flatnonzero(kept)),
    )
    new_state._key_rank = rank_cache._key_rank
    dropped = np.flatnonzero(status == DROPPED)
    rejected = np.flatnonzero(reason >= 0)
    output = _deferred_output(
        cfg, frame, prepared, windows, arrival, start, w_before, w_after, status,
        dropped, late_by[dropped], rejected, reason[rejected],
    )  # fmt: skip
    return output, new_state


def _emission_order(row: np.ndarray, start: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Order of panes by (emit row, window start, key)."""
    if len(row) <= 1:
        return np.arange(len(row))
    return emission_order(row, int(row.max()), start, rank)


def _replicate(gid: np.ndarray, arrival: np.ndarray, n_windows: int, pane_gid, pane_upto):
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


def _pane_frame(
    cfg: Config,
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
        row_index, group = _replicate(gid, rows["arrival"], n_windows, pane_gid, pane_upto)
        pane_of_window = np.arange(n_panes, dtype=np.int64)
        t, arrival = rows["t"][row_index], rows["arrival"][row_index]
        columns = {c: rows["col:" + c][row_index] for c in cfg.plan.columns}
        count = np.bincount(group, minlength=n_panes).astype(np.int64, copy=False)
        late_count = np.bincount(group, weights=rows["late"][row_index], minlength=n_panes)
    values = aggregate(cfg.plan, columns, group, pane_of_window, n_panes, t, arrival)
    return _layout_panes(
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


def _layout_panes(
    cfg: Config,
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
) -> pd.DataFrame:
    """The ``windows``-style frame of panes whose aggregates are computed.

    ``key_table``, when it is the compiled form of ``keys``, lends its string
    buffers for taking the panes' keys.
    """
    n_panes = len(pane_key)
    out: dict[str, Any] = {}
    if cfg.key is not None:
        # Keep the keys' dtype (a frame would infer "str" from object values).
        strings = None
        if key_table is not None and keys is not None and key_table.size == len(keys):
            strings = (key_table.offsets, key_table.data)
        out[cfg.key] = (
            _take(keys.array, pane_key, strings) if keys is not None else np.empty(0, object)
        )
    if cfg.partitions is not None:
        out["partition"] = (
            key_partition[pane_key].astype(np.int64, copy=False)
            if n_panes
            else np.empty(0, np.int64)
        )
    out["window_start"] = utc_array(start)
    out["window_end"] = utc_array(start + cfg.spec.size_ns)
    out.update((name, _plain(v)) for name, v in values.items())
    out["count"] = count.astype(np.int64, copy=False)
    out["late_count"] = late_count.astype(np.int64, copy=False)
    out["timing"] = _categorical(timing, TIMINGS)
    out["revision"] = revision.astype(np.int64, copy=False)
    out["emit_row"] = emit_row.astype(np.int64, copy=False)
    wm = emit_watermark if emit_watermark is not None else np.full(n_panes, NEG_INF, np.int64)
    out["emit_watermark"] = utc_array(wm)
    if cfg.arrival_time is not None:
        stamps = emit_time if emit_time is not None else np.full(n_panes, NEG_INF, np.int64)
        out["emit_time"] = utc_array(stamps)
    return _frame(_labels(tuple(out)), list(out.values()), pd.RangeIndex(n_panes))


def open_windows(cfg: Config, state: State, *, closing: bool):
    """Windows of the state that have emitted nothing yet, as a pane frame.

    With ``closing`` these are the end-of-input panes (``partial`` or
    ``pending``); without it, a look at what is pending now.
    """
    rows = state.open_rows or _empty_rows(cfg)
    gid, n_windows, w_key, w_start = _window_ids(rows["key"], rows["start"])
    w_end = w_start + cfg.spec.size_ns
    silent = np.ones(n_windows, bool)
    if cfg.emit == "updates" and n_windows:
        # A window that has emitted a pane is complete at the end, not pending.
        w_scope = _scope_of_keys(cfg, w_key, state.key_partition)
        scope_max = np.full(max(_n_scopes(cfg, state.keys), 1), NEG_INF, np.int64)
        scope_max[: len(state.scope_max)] = state.scope_max
        w_now = _effective(cfg, scope_max[w_scope], np.full(n_windows, state.global_max))
        has_late = np.zeros(n_windows, bool)
        has_late[gid[rows["late"]]] = True
        silent = (w_now < w_end) & ~has_late
    chosen = np.flatnonzero(silent)
    rank = key_rank(state.keys if cfg.key is not None else None, state)
    order = _emission_order(
        np.zeros(len(chosen), np.int64),
        w_start[chosen],
        rank[w_key[chosen]] if len(rank) else np.zeros(len(chosen), np.int64),
    )
    chosen = chosen[order]
    timing = "partial" if (closing and cfg.spec.emit_partial) else "pending"
    n_panes = len(chosen)
    return _pane_frame(
        cfg,
        rows,
        gid,
        n_windows,
        w_key,
        w_start,
        state.keys if cfg.key is not None else None,
        state.key_partition,
        chosen,
        None,
        np.full(n_panes, state.rows_seen, np.int64),
        np.full(n_panes, TIMINGS.index(timing), np.int8),
        np.zeros(n_panes, np.int64),
        None,
        None,
    )


def finish(cfg: Config, state: State) -> tuple[pd.DataFrame, pd.DataFrame]:
    """End of input: ``(windows emitted at the end, pending windows)``."""
    frame = open_windows(cfg, state, closing=True)
    empty = frame.iloc[:0]
    if cfg.spec.emit_partial:
        return frame, empty.copy()
    return empty.copy(), frame
