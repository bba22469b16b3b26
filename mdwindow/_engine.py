"""The windowing engine: one kernel ``(state, chunk) -> (output, state)``.

Batch mode is one call of :func:`process_chunk` on an empty state followed by
:func:`finish`; incremental mode calls :func:`process_chunk` once per pushed
chunk. Both front doors share every line of the semantics below.

Times are int64 nanoseconds; ``NEG_INF`` (the NaT bit pattern) stands for a
watermark of minus infinity. Watermark arithmetic saturates instead of
wrapping, so times near the int64 limits stay exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mdwindow._aggregate import AggPlan, aggregate, make_plan
from mdwindow._kernels import (
    classify_rows,
    dense_window_ids,
    emission_order,
    first_reaching,
    group_rows,
    last_at_or_before,
    prefix_lengths,
)
from mdwindow._time import INT64_MAX, NEG_INF, event_times, utc_array
from mdwindow.hashing import HASHES, partition_ids_for_uniques
from mdwindow.specs import TumblingWindowSpec, WatermarkPolicy, resolve_policy

EMITS = ("final", "updates")
STATUSES = ("on_time", "late", "dropped", "rejected")
TIMINGS = ("on_time", "late", "final", "partial", "pending")
REASONS = ("missing_time", "missing_key", "time_out_of_range")
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


@dataclass
class ChunkOutput:
    """Frames produced by one step of the engine."""

    windows: pd.DataFrame
    late: pd.DataFrame
    rejected: pd.DataFrame
    trace: pd.DataFrame
    pending: pd.DataFrame | None = None


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


def _require_columns(cfg: Config, frame: pd.DataFrame) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"ticks: got {type(frame).__name__}; give a pandas DataFrame")
    wanted = [("time", cfg.time)]
    if cfg.key is not None:
        wanted.append(("key", cfg.key))
    if cfg.arrival_time is not None:
        wanted.append(("arrival_time", cfg.arrival_time))
    wanted += [("agg", c) for c in cfg.plan.columns]
    available = list(map(str, frame.columns))
    for role, column in wanted:
        if column not in frame.columns:
            hint = (
                "set price=/size= to the right columns"
                if role == "agg"
                else f"pass {role}=<column name>"
            )
            raise KeyError(
                f"{role}: column {column!r} is not in the frame (columns: {available}); {hint}"
            )
    clashes = [c for c in ADDED_COLUMNS if c in frame.columns]
    if clashes:
        raise ValueError(
            f"ticks: column(s) {clashes} would be overwritten by the columns that the late "
            "and rejected frames add; rename them first, e.g. "
            f"ticks.rename(columns={{{clashes[0]!r}: {clashes[0] + '_in'!r}}})"
        )


#: Columns that ``late``, ``rejected`` add to the input's own columns.
ADDED_COLUMNS = ("arrival", "window_start", "window_end", "watermark", "late_by", "reason")


def _time_kind(frame: pd.DataFrame, column: str) -> str:
    dtype = frame[column].dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return "datetime"
    return "integer"


@dataclass
class _Prepared:
    n: int
    order: np.ndarray | None  # arrival position -> frame position
    t: np.ndarray
    out_of_range: np.ndarray
    arrival_stamp: np.ndarray | None
    keys: pd.Series | None  # in arrival order
    time_kind: str


def prepare(cfg: Config, state: State, frame: pd.DataFrame) -> _Prepared:
    """Check a chunk and bring it into arrival order; raises before any work."""
    _require_columns(cfg, frame)
    kind = _time_kind(frame, cfg.time)
    if state.time_kind is not None and len(frame) and kind != state.time_kind:
        raise TypeError(
            f"time: column {cfg.time!r} holds {kind} times in this chunk but "
            f"{state.time_kind} times in earlier ones; convert every chunk the same way"
        )
    t, out_of_range = event_times(frame, cfg.time, cfg.time_unit)
    n = len(frame)
    order = None
    stamp = None
    if cfg.arrival_time is not None:
        if _time_kind(frame, cfg.arrival_time) != "datetime":
            raise TypeError(
                f"arrival_time: column {cfg.arrival_time!r} holds "
                f"{frame[cfg.arrival_time].dtype} values, not datetimes; convert it first, "
                f"e.g. pd.to_datetime(frame[{cfg.arrival_time!r}], utc=True)"
            )
        stamp_raw, stamp_oor = event_times(frame, cfg.arrival_time, None)
        if ((stamp_raw == NEG_INF) & ~stamp_oor).any():
            missing = int(((stamp_raw == NEG_INF) & ~stamp_oor).sum())
            raise ValueError(
                f"arrival_time: column {cfg.arrival_time!r} has {missing} missing value(s); "
                "arrival order must be known for every row: fill or drop them first"
            )
        if stamp_oor.any():
            raise ValueError(
                f"arrival_time: column {cfg.arrival_time!r} has times outside the "
                "datetime64[ns] range; drop or fix those rows"
            )
        order = np.argsort(stamp_raw, kind="stable")
        stamp = stamp_raw[order]
        if n and stamp[0] < state.last_arrival_time:
            raise ValueError(
                f"arrival_time: this chunk starts at {pd.Timestamp(int(stamp[0]), tz='UTC')}, "
                f"before the last arrival of earlier chunks "
                f"({pd.Timestamp(int(state.last_arrival_time), tz='UTC')}); "
                "push chunks in arrival order"
            )
        t = t[order]
        out_of_range = out_of_range[order]
    keys = None
    if cfg.key is not None:
        keys = frame[cfg.key].reset_index(drop=True)
        if order is not None:
            keys = keys.take(order).reset_index(drop=True)
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
    return known.append(fresh)


def key_codes(cfg: Config, state: State, prepared: _Prepared):
    """Codes of the chunk's keys in the state's key dictionary (-1 = missing)."""
    if cfg.key is None:
        keys = state.keys if state.keys is not None else pd.Index([None], dtype=object)
        return np.zeros(prepared.n, np.int64), keys, state.key_partition
    codes, uniques = pd.factorize(prepared.keys, use_na_sentinel=True)
    codes = codes.astype(np.int64, copy=False)
    # Keep the input's dtype: pd.Index would infer "str" from object arrays.
    uniques = pd.Index(uniques, dtype=getattr(uniques, "dtype", None), tupleize_cols=False)
    if state.keys is None or len(state.keys) == 0:
        known = np.full(len(uniques), -1, np.int64)
        base_keys = uniques[:0]
    else:
        known = state.keys.get_indexer(uniques).astype(np.int64, copy=False)
        base_keys = state.keys
    fresh = known < 0
    n_known = len(base_keys)
    known[fresh] = n_known + np.arange(int(fresh.sum()))
    keys = _append_keys(base_keys, uniques[fresh]) if fresh.any() else base_keys
    if len(keys) == 0:
        keys = uniques
    key_partition = state.key_partition
    if cfg.partitions is not None and fresh.any():
        key_partition = np.concatenate(
            [
                key_partition,
                partition_ids_for_uniques(
                    uniques[fresh], cfg.partitions, hash=cfg.hash, seed=cfg.seed
                ).astype(np.int64, copy=False),
            ]
        )
    mapped = np.where(codes >= 0, known[np.maximum(codes, 0)] if len(known) else -1, -1)
    return mapped.astype(np.int64, copy=False), keys, key_partition


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


def _window_ids(key: np.ndarray, start: np.ndarray, size: int):
    """Dense ids of (key, start) pairs: ``(gid per row, n, key and start per window)``."""
    if len(key) == 0:
        empty = np.empty(0, np.int64)
        return empty, 0, empty, empty
    lo, hi = int(start.min()), int(start.max())
    n_slots = (hi - lo) // size + 1  # exact: starts lie on one grid
    n_keys = int(key.max()) + 1
    if n_keys * n_slots <= max(4 * len(key), 1 << 22):
        gid, w_key, w_slot = dense_window_ids(key, start, lo, size, n_slots, n_keys)
        return gid, len(w_key), w_key, lo + w_slot * size
    # Sparse (key, start) pairs over a wide range: let pandas hash them.
    frame = pd.DataFrame({"k": key, "s": start})
    grouped = frame.groupby(["k", "s"], sort=True)
    gid = grouped.ngroup().to_numpy(np.int64)
    firsts = grouped.size().index
    return (
        gid,
        len(firsts),
        firsts.get_level_values(0).to_numpy(np.int64),
        firsts.get_level_values(1).to_numpy(np.int64),
    )


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


def process_chunk(cfg: Config, state: State, frame: pd.DataFrame) -> tuple[ChunkOutput, State]:
    """Run one chunk (rows in arrival order) through the engine.

    Returns this chunk's output and the new state; ``state`` itself is left
    untouched, so a failing chunk changes nothing.
    """
    prepared = prepare(cfg, state, frame)
    n = prepared.n
    base = state.rows_seen
    size, lateness = cfg.spec.size_ns, cfg.policy.lateness_ns
    t = prepared.t
    arrival = base + np.arange(n, dtype=np.int64)

    codes, keys, key_partition = key_codes(cfg, state, prepared)
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
    dropped = status == DROPPED

    # Rows of open windows: those kept from earlier chunks, then this chunk's accepted ones.
    accepted = np.flatnonzero(status <= LATE)
    new_rows: dict[str, Any] = {
        "key": np.maximum(codes[accepted], 0),
        "start": start[accepted],
        "t": t[accepted],
        "arrival": arrival[accepted],
        "late": late[accepted],
    }
    frame_positions = accepted if prepared.order is None else prepared.order[accepted]
    for column in cfg.plan.columns:
        series = frame[column]
        # numpy columns stay numpy so the compiled reductions can take them.
        values = series.to_numpy() if isinstance(series.dtype, np.dtype) else series.array
        new_rows["col:" + column] = values.take(frame_positions) if len(accepted) else values[:0]
    rows = _concat_rows(state.open_rows or _empty_rows(cfg), new_rows)

    gid, n_windows, w_key, w_start = _window_ids(rows["key"], rows["start"], size)
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

    panes_gid: list[np.ndarray] = []
    panes_upto: list[np.ndarray] = []
    panes_row: list[np.ndarray] = []
    panes_timing: list[np.ndarray] = []
    panes_revision: list[np.ndarray] = []
    panes_wm: list[np.ndarray] = []
    if cfg.emit == "final":
        emitted = np.flatnonzero(closed)
        panes_gid.append(emitted)
        panes_upto.append(np.full(len(emitted), INT64_MAX, np.int64))
        panes_row.append(close_at[emitted])
        panes_timing.append(np.full(len(emitted), TIMINGS.index("final"), np.int8))
        panes_revision.append(np.zeros(len(emitted), np.int64))
        panes_wm.append(watermark_at(close_at[emitted], w_scope[emitted]))
    else:
        state_w = _effective(
            cfg, state_scope_max[w_scope], np.full(n_windows, state.global_max, np.int64)
        )
        waiting = np.flatnonzero(w_has_on_time & (state_w < w_end))
        fire_at = first_at_least(w_end[waiting], w_scope[waiting])
        fired = fire_at < n
        on_gid = waiting[fired]
        on_row = fire_at[fired]
        panes_gid.append(on_gid)
        panes_upto.append(base + on_row)
        panes_row.append(on_row)
        panes_timing.append(np.full(len(on_gid), TIMINGS.index("on_time"), np.int8))
        panes_revision.append(np.zeros(len(on_gid), np.int64))
        panes_wm.append(watermark_at(on_row, w_scope[on_gid]))
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
        panes_gid.append(late_gid)
        panes_upto.append(rows["arrival"][late_rows])
        panes_row.append(local)
        panes_timing.append(np.full(len(late_gid), TIMINGS.index("late"), np.int8))
        panes_revision.append(w_has_on_time[late_gid].astype(np.int64, copy=False) + earlier_late)
        panes_wm.append(w_after[local])

    pane_gid = np.concatenate(panes_gid)
    pane_row = np.concatenate(panes_row)
    rank_cache = State(_key_rank=state._key_rank)
    rank = key_rank(keys if cfg.key is not None else None, rank_cache)
    pane_rank = rank[w_key[pane_gid]] if len(rank) else np.zeros(len(pane_gid), np.int64)
    order = _emission_order(pane_row, w_start[pane_gid], pane_rank)
    pane_gid = pane_gid[order]
    pane_row = pane_row[order]
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
        np.concatenate(panes_upto)[order],
        base + pane_row,
        np.concatenate(panes_timing)[order],
        np.concatenate(panes_revision)[order],
        np.concatenate(panes_wm)[order],
        prepared.arrival_stamp[pane_row] if prepared.arrival_stamp is not None else None,
    )

    kept = ~closed[gid] if n_windows else np.zeros(0, bool)
    new_state = State(
        rows_seen=base + n,
        global_max=int(global_max),
        scope_max=scope_max,
        keys=keys if cfg.key is not None else state.keys,
        key_partition=key_partition,
        open_rows=_take_rows(rows, np.flatnonzero(kept)),
        last_arrival_time=(
            int(prepared.arrival_stamp[-1])
            if prepared.arrival_stamp is not None and n
            else state.last_arrival_time
        ),
        time_kind=state.time_kind
        if (state.time_kind is not None or n == 0)
        else prepared.time_kind,
        _key_rank=rank_cache._key_rank,
    )
    if new_state.time_kind is None and n:
        new_state.time_kind = prepared.time_kind

    output = ChunkOutput(
        windows=windows,
        late=_late_frame(frame, prepared, arrival, start, size, w_before, late_by, dropped),
        rejected=_rejected_frame(frame, prepared, arrival, reason),
        trace=_trace_frame(frame, prepared, arrival, start, w_before, w_after, status),
    )
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


def _categorical(codes: np.ndarray, categories: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(
        codes.astype(np.int8, copy=False), categories=list(categories)
    )


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
    pane_upto: np.ndarray,
    emit_row: np.ndarray,
    timing: np.ndarray,
    revision: np.ndarray,
    emit_watermark: np.ndarray | None,
    emit_time: np.ndarray | None,
) -> pd.DataFrame:
    """Aggregate the rows of each pane and lay out a ``windows``-style frame."""
    n_panes = len(pane_gid)
    if np.all(pane_upto == INT64_MAX):
        # Whole windows: aggregate every window in place, then pick the panes.
        columns = {c: rows["col:" + c] for c in cfg.plan.columns}
        values = aggregate(cfg.plan, columns, gid, n_windows, rows["t"], rows["arrival"])
        values = {name: v[pane_gid] for name, v in values.items()}
        count = np.bincount(gid, minlength=n_windows)[pane_gid].astype(np.int64, copy=False)
        late_count = np.bincount(gid, weights=rows["late"], minlength=n_windows)[pane_gid]
    else:
        row_index, pane_of_row = _replicate(gid, rows["arrival"], n_windows, pane_gid, pane_upto)
        columns = {c: rows["col:" + c][row_index] for c in cfg.plan.columns}
        values = aggregate(
            cfg.plan,
            columns,
            pane_of_row,
            n_panes,
            rows["t"][row_index],
            rows["arrival"][row_index],
        )
        count = np.bincount(pane_of_row, minlength=n_panes).astype(np.int64, copy=False)
        late_count = np.bincount(pane_of_row, weights=rows["late"][row_index], minlength=n_panes)
    late_count = late_count.astype(np.int64)
    out: dict[str, Any] = {}
    pane_key = w_key[pane_gid]
    if cfg.key is not None:
        # An explicit dtype: DataFrame() would infer "str" from object values.
        out[cfg.key] = (
            pd.Series(keys.take(pane_key).array, dtype=keys.dtype)
            if keys is not None
            else pd.Series([], dtype=object)
        )
    if cfg.partitions is not None:
        out["partition"] = (
            key_partition[pane_key].astype(np.int64, copy=False)
            if n_panes
            else np.empty(0, np.int64)
        )
    start = w_start[pane_gid]
    out["window_start"] = utc_array(start)
    out["window_end"] = utc_array(start + cfg.spec.size_ns)
    out.update(values)
    out["count"] = count
    out["late_count"] = late_count
    out["timing"] = _categorical(timing, TIMINGS)
    out["revision"] = revision.astype(np.int64, copy=False)
    out["emit_row"] = emit_row.astype(np.int64, copy=False)
    wm = emit_watermark if emit_watermark is not None else np.full(n_panes, NEG_INF, np.int64)
    out["emit_watermark"] = utc_array(wm)
    if cfg.arrival_time is not None:
        stamps = emit_time if emit_time is not None else np.full(n_panes, NEG_INF, np.int64)
        out["emit_time"] = utc_array(stamps)
    return pd.DataFrame(out, copy=False)


def _original_rows(
    frame: pd.DataFrame, prepared: _Prepared, positions: np.ndarray
) -> pd.DataFrame:
    """Rows of the input at arrival positions, original columns and index."""
    at = positions if prepared.order is None else prepared.order[positions]
    return frame.iloc[at]


def _late_frame(frame, prepared, arrival, start, size, w_before, late_by, dropped):
    positions = np.flatnonzero(dropped)
    out = _original_rows(frame, prepared, positions).copy()
    out["arrival"] = arrival[positions]
    out["window_start"] = utc_array(start[positions])
    out["window_end"] = utc_array(start[positions] + size)
    out["watermark"] = utc_array(w_before[positions])
    out["late_by"] = pd.array(late_by[positions].view("timedelta64[ns]"))
    return out


def _rejected_frame(frame, prepared, arrival, reason):
    positions = np.flatnonzero(reason >= 0)
    out = _original_rows(frame, prepared, positions).copy()
    out["arrival"] = arrival[positions]
    out["reason"] = _categorical(reason[positions], REASONS)
    return out


def _trace_frame(frame, prepared, arrival, start, w_before, w_after, status):
    """One row per input row, in input order, aligned with the input index."""
    n = prepared.n
    shown_start = np.where(status == REJECTED, NEG_INF, start)
    if prepared.order is None:
        back = slice(None)
    else:
        back = np.empty(n, np.int64)
        back[prepared.order] = np.arange(n)
    return pd.DataFrame(
        {
            "arrival": arrival[back],
            "window_start": utc_array(shown_start[back]),
            "watermark_before": utc_array(w_before[back]),
            "watermark_after": utc_array(w_after[back]),
            "status": _categorical(status[back], STATUSES),
        },
        index=frame.index,
        copy=False,
    )


def open_windows(cfg: Config, state: State, *, closing: bool):
    """Windows of the state that have emitted nothing yet, as a pane frame.

    With ``closing`` these are the end-of-input panes (``partial`` or
    ``pending``); without it, a look at what is pending now.
    """
    rows = state.open_rows or _empty_rows(cfg)
    gid, n_windows, w_key, w_start = _window_ids(rows["key"], rows["start"], cfg.spec.size_ns)
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
        np.full(n_panes, INT64_MAX, np.int64),
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
