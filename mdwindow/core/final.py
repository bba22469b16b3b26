"""The ``emit="final"`` step: one compiled pass judges rows, fills and closes windows.

Two passes share this driver and their outputs: the ring pass of
:mod:`~mdwindow.core.ring_pass` (no idle timeout, few windows open per key:
the usual case) and the heap pass of :mod:`~mdwindow.core.final_pass`
(everything else). Either keeps its working state for the next chunk.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from mdwindow.core import final_pass as heap
from mdwindow.core import ring_layout as rings
from mdwindow.core.aggregate import aggregate, fused_ohlcv
from mdwindow.core.final_work import (
    final_counters,
    final_pass,
    new_final_work,
    open_positions,
    resumed_work,
)
from mdwindow.core.final_work import renumber_open as renumber_heap
from mdwindow.core.keys import chunk_keys, key_rank, n_scopes, scope_of_keys
from mdwindow.core.pane_columns import N_ROW, first_panes, new_pane_columns, windows_frame
from mdwindow.core.panes import RowOutcome, deferred_output
from mdwindow.core.prepare import nonzero_or_empty
from mdwindow.core.replay import ReplayRows, replay
from mdwindow.core.ring_layout import D_LATE_BY, D_ROW, D_START, D_WATERMARK
from mdwindow.core.ring_pass import ring_rows
from mdwindow.core.ring_work import MAX_RING_ENTRIES, open_rows_of, ring_size
from mdwindow.core.ring_work import ring_work as make_ring_work
from mdwindow.core.rules import NEG_INF
from mdwindow.core.state import LiveWindows, State, concat_arrays, empty_rows, next_state

_EMPTY = np.empty(0, np.int64)


class _Pass(NamedTuple):
    """What either pass left for the frames and the next chunk."""

    work: Any  # its working state
    panes: Any  # PaneColumns of the emitted windows
    dropped: np.ndarray  # (4, dropped) int64: D_* per dropped row
    rejected: np.ndarray
    reasons: np.ndarray
    late_rows: np.ndarray
    global_max: int
    # Windows of the rows, when they were recorded (aggregates not folded):
    window: np.ndarray | None  # per kept row, then per chunk row
    pane: np.ndarray | None  # per window id
    # The open windows (ids 0 .. open-1) and the rows they hold:
    open_key: np.ndarray
    open_start: np.ndarray
    old_ids: np.ndarray  # per kept row: its window's id, -1 once closed
    new_rows: np.ndarray  # chunk rows in open windows
    new_ids: np.ndarray  # ... and their windows' ids


class _Chunk(NamedTuple):
    """A chunk's rows as both passes take them."""

    old: dict[str, Any]  # the kept open rows of the state
    codes: np.ndarray  # per row: key code, or a code of key_map
    key_map: np.ndarray  # (empty: the codes are key codes)
    bad_time: np.ndarray
    scope_max: np.ndarray  # the state's, grown to this chunk's scopes (updated in place)
    scope_of_key: np.ndarray
    rank: np.ndarray


def final_chunk(cfg, state, prepared):
    """``emit="final"``: one compiled pass judges rows, fills windows and closes them."""
    coded = chunk_keys(cfg, state, prepared)
    keys, key_partition, key_table = coded.keys, coded.key_partition, coded.table
    n_keys = len(keys)
    policy, spec = cfg.policy, cfg.spec
    ring = ring_size(spec.size_ns, policy.lag_ns, policy.lateness_ns, policy.idle_ns)
    if ring is not None and n_keys * ring > MAX_RING_ENTRIES:
        ring = None
    kind = ("heap", None) if ring is None else ("ring", ring)
    old = state.open_rows or empty_rows(cfg)
    fused = fused_ohlcv(cfg.plan, prepared.columns)
    live = state._live
    resume = (
        live is not None
        and live.owner is state._token
        and live.kind == kind
        and live.fused == (fused is not None)
        and (fused is None or live.dtypes == (fused[0].dtype, fused[1].dtype))
    )
    if resume:
        live.owner = None
    rank_cache = State(_key_rank=state._key_rank)
    rank = key_rank(keys, rank_cache) if cfg.key is not None else np.zeros(n_keys, np.int64)
    scope_max = np.full(n_scopes(cfg, keys), NEG_INF, np.int64)
    scope_max[: len(state.scope_max)] = state.scope_max
    chunk = _Chunk(
        old,
        coded.codes,
        coded.key_map,
        nonzero_or_empty(prepared.out_of_range.view(np.int8)),
        scope_max,
        scope_of_keys(cfg, np.arange(n_keys), key_partition),
        rank,
    )
    before = scope_max.copy()
    done = None
    if ring is not None:
        done = _ring_pass(cfg, state, prepared, chunk, ring, live.work if resume else None)
        if done is None:
            # A ring position clashed (never expected): the heap pass decides instead.
            kind, resume = ("heap", None), False
            scope_max[:] = before
    if done is None:
        carried = (live.work, live.window) if resume else None
        done = _heap_pass(cfg, state, prepared, chunk, carried)
    fused = fused is not None and done.window is None
    old_window = None
    if done.window is not None:
        # Kept rows folded again have their windows recorded; carried ones had them.
        old_window = live.window if resume else done.window[: len(old["key"])]
    replayed = ReplayRows(
        chunk.codes,
        chunk.key_map,
        prepared.t,
        chunk.bad_time,
        chunk.scope_of_key,
        0 if cfg.scope == "global" else -1,
        before,
        state.global_max,
    )
    output, open_rows, open_window = _final_output(
        cfg, state, prepared, chunk, done, old_window, keys, key_partition, key_table, replayed
    )
    new_state = next_state(
        cfg,
        state,
        prepared,
        global_max=done.global_max,
        scope_max=scope_max,
        keys=keys,
        key_partition=key_partition,
        open_rows=open_rows,
    )
    new_state._key_rank = rank_cache._key_rank
    new_state._key_table = key_table if key_table is not None else state._key_table
    dtypes = (done.panes.prices.dtype, done.panes.volume.dtype) if fused else None
    new_state._live = LiveWindows(done.work, open_window, fused, dtypes, new_state._token, kind)
    return output, new_state


def _fused(cfg, chunk: _Chunk, prepared, n_old: int):
    """:func:`fused_ohlcv` of the kept open rows to fold again, then the chunk's rows."""
    columns = prepared.columns
    if n_old:
        columns = {c: concat_arrays(chunk.old["col:" + c], v) for c, v in columns.items()}
    return fused_ohlcv(cfg.plan, columns)


def _ring_pass(cfg, state, prepared, chunk: _Chunk, ring: int, carried):
    """Run the ring pass; None when a ring position clashed."""
    n = prepared.n
    old = chunk.old
    n_old = 0 if carried is not None else len(old["key"])
    fused = _fused(cfg, chunk, prepared, n_old)
    price, size = fused if fused is not None else (np.empty(0, np.float64),) * 2
    per_key = cfg.scope == "key"
    work = make_ring_work(
        carried, chunk.scope_max, state.global_max, len(chunk.rank), ring, per_key,
        n_old + n, price.dtype, size.dtype,
    )  # fmt: skip
    resumed_open = int(work.counters[rings.C_OPEN])
    capacity = resumed_open + n_old + n  # at most one new window per row
    track = fused is None and bool(cfg.plan.items)
    out = rings.RingOutputs(
        panes=new_pane_columns(capacity, (price.dtype, size.dtype) if fused else None),
        dropped=np.empty((4, n), np.int64),
        rejected=np.empty(n, np.int64),
        reasons=np.empty(n, np.int8),
        late_rows=np.empty(n, np.int64),
        row_window=np.empty(n if track else 0, np.int64),
        old_window=np.empty(n_old if track else 0, np.int64),
        pane=np.empty(capacity if track else 0, np.int64),
    )
    out.pane[:resumed_open] = -1
    inp = rings.RingInputs(
        key=chunk.codes,
        key_map=chunk.key_map,
        t=prepared.t,
        bad_time=chunk.bad_time,
        price=price[n_old:],
        size=size[n_old:],
        old_key=old["key"][:n_old],
        old_start=old["start"][:n_old],
        old_late=old["late"][:n_old],
        old_t=old["t"][:n_old],
        old_price=price[:n_old],
        old_size=size[:n_old],
        scope_of_key=chunk.scope_of_key,
        key_rank=chunk.rank,
    )
    status = ring_rows(
        inp, out, work, state.rows_seen, per_key, ring, cfg.spec.size_ns, cfg.spec.offset_ns,
        cfg.policy.lag_ns, cfg.policy.lateness_ns, fused is not None, track,
    )  # fmt: skip
    if status == rings.CLASH:
        return None
    c = work.counters
    windows = int(c[rings.C_WINDOWS])
    n_open = int(c[rings.C_OPEN])
    open_key = np.empty(n_open, np.int64)
    open_start = np.empty(n_open, np.int64)
    old_ids = np.empty(len(old["key"]), np.int64)
    new_rows = np.empty(n, np.int64)
    new_ids = np.empty(n, np.int64)
    _, kept = open_rows_of(
        work, ring, cfg.spec.size_ns, cfg.spec.offset_ns, state.rows_seen, open_key,
        open_start, old["key"], old["start"], old_ids, chunk.codes, chunk.key_map, prepared.t,
        chunk.bad_time, new_rows, new_ids,
    )  # fmt: skip
    return _Pass(
        work,
        first_panes(out.panes, int(c[rings.C_EMITTED])),
        out.dropped[:, : c[rings.C_DROPPED]],
        out.rejected[: c[rings.C_REJECTED]],
        out.reasons[: c[rings.C_REJECTED]],
        out.late_rows[: c[rings.C_LATE]],
        int(c[rings.C_GLOBAL_MAX]),
        concat_arrays(out.old_window, out.row_window) if track else None,
        out.pane[:windows] if track else None,
        open_key,
        open_start,
        old_ids,
        new_rows[:kept],
        new_ids[:kept],
    )


def _heap_pass(cfg, state, prepared, chunk: _Chunk, carried):
    """Run the heap pass (idle timeouts, many windows open per key); ``carried`` is
    the previous chunk's ``(work, window ids of the kept rows)`` or None."""
    n = prepared.n
    old = chunk.old
    work = carried[0] if carried is not None else None
    n_old = 0 if work is not None else len(old["key"])
    fused = _fused(cfg, chunk, prepared, n_old)
    price, size = fused if fused is not None else (np.empty(0, np.float64),) * 2
    n_keys = len(chunk.rank)
    if work is not None:
        work = resumed_work(
            work, chunk.scope_max, state.global_max, n_keys, chunk.rank,
            state.keys is None or n_keys != len(state.keys),
        )  # fmt: skip
    else:
        work = new_final_work(
            chunk.scope_max, state.global_max, n_keys, price.dtype, size.dtype, n_old,
            final_counters(),
        )  # fmt: skip
    resumed_open = int(work.counters[heap.C_OPEN])
    capacity = resumed_open + n_old + n
    out = heap.FinalOutputs(
        window=np.empty(n_old + n, np.int64),
        pane=np.empty(capacity, np.int64),
        dropped=np.empty((4, n), np.int64),
        rejected=np.empty(n, np.int64),
        reasons=np.empty(n, np.int8),
        late_rows=np.empty(n, np.int64),
        panes=new_pane_columns(capacity, (price.dtype, size.dtype) if fused else None),
    )
    out.pane[:resumed_open] = -1
    codes = chunk.codes
    if len(chunk.key_map):
        codes = np.where(codes >= 0, chunk.key_map[np.maximum(codes, 0)], -1)
    inp = heap.FinalInputs(
        key=codes if n_old == 0 else concat_arrays(old["key"], codes),
        t=prepared.t if n_old == 0 else concat_arrays(old["t"], prepared.t),
        old_start=old["start"][:n_old],
        old_late=old["late"][:n_old],
        bad_time=chunk.bad_time,
        price=price,
        size=size,
        scope_of_key=chunk.scope_of_key,
        key_rank=chunk.rank,
    )
    idle = cfg.policy.idle_ns
    work = final_pass(
        inp, out, work, n_old, state.rows_seen, cfg.spec.size_ns, cfg.spec.offset_ns,
        cfg.policy.lag_ns, -1 if idle is None else idle, cfg.policy.lateness_ns,
        fused is not None,
    )  # fmt: skip
    c = work.counters
    windows = int(c[heap.C_WINDOWS])
    pane = out.pane[:windows]
    # The open windows, renumbered, and the rows they hold (by their window ids).
    remap = np.full(windows, -1, np.int64)
    n_open = int(c[heap.C_OPEN])
    open_key = np.empty(n_open, np.int64)
    open_start = np.empty(n_open, np.int64)
    renumber_heap(work.slots, remap, open_key, open_start)
    window = out.window
    old_window = carried[1] if carried is not None else window[:n_old]
    kept_new = open_positions(window[n_old:], pane)
    return _Pass(
        work,
        first_panes(out.panes, int(c[heap.C_EMITTED])),
        out.dropped[:, : c[heap.C_DROPPED]],
        out.rejected[: c[heap.C_REJECTED]],
        out.reasons[: c[heap.C_REJECTED]],
        out.late_rows[: c[heap.C_LATE]],
        int(c[heap.C_GLOBAL_MAX]),
        window if fused is None else None,
        pane if fused is None else None,
        open_key,
        open_start,
        remap[old_window] if len(old_window) else _EMPTY,
        kept_new,
        remap[window[n_old:][kept_new]],
    )


def _final_output(
    cfg, state, prepared, chunk, done, old_window, keys, partition, key_table, replayed
):
    """The frames of a pass; the rows of the windows it left open and their window
    ids (numbered ``0 .. open-1`` in its working state)."""
    base = state.rows_seen
    old = chunk.old
    panes = done.panes
    values = None
    if done.window is not None:
        columns = {
            c: concat_arrays(old["col:" + c], prepared.columns[c]) for c in cfg.plan.columns
        }
        values = aggregate(
            cfg.plan,
            columns,
            concat_arrays(old_window, done.window[len(done.window) - prepared.n :]),
            done.pane,
            len(panes.key),
            concat_arrays(old["t"], prepared.t),
            concat_arrays(old["arrival"], base + np.arange(prepared.n)),
        )
    elif not cfg.plan.items:
        values = {}
    emit_time = None
    if prepared.arrival_stamp is not None:
        emit_time = prepared.arrival_stamp[panes.counts[N_ROW] - base]
    windows = windows_frame(
        cfg, panes, keys, partition, key_table, values=values, timing="final", emit_time=emit_time
    )

    kept_old = np.flatnonzero(done.old_ids >= 0)
    new_rows = done.new_rows
    open_window = concat_arrays(done.old_ids[kept_old], done.new_ids)
    open_rows = {
        "key": done.open_key[open_window],
        "start": done.open_start[open_window],
        "t": concat_arrays(old["t"][kept_old], prepared.t[new_rows]),
        "arrival": concat_arrays(old["arrival"][kept_old], base + new_rows),
        "late": concat_arrays(old["late"][kept_old], np.isin(new_rows, done.late_rows)),
    }
    for c in cfg.plan.columns:
        open_rows["col:" + c] = concat_arrays(
            old["col:" + c][kept_old], prepared.columns[c][new_rows]
        )

    size, offset = cfg.spec.size_ns, cfg.spec.offset_ns
    lag, lateness, idle = cfg.policy.lag_ns, cfg.policy.lateness_ns, cfg.idle_arg
    dropped = done.dropped
    outcome = RowOutcome(
        base,
        dropped[D_ROW],
        dropped[D_START],
        dropped[D_WATERMARK],
        dropped[D_LATE_BY],
        done.rejected,
        done.reasons,
        lambda t: replay(replayed._replace(t=t), size, offset, lag, idle, lateness),
    )
    output = deferred_output(cfg, prepared, windows, outcome)
    return output, open_rows, open_window
