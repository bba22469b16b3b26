"""The ``emit="updates"`` step: the ring pass, or vectorised searches of each window's panes.

Without an idle timeout (and with a small ring) the ring pass of
:mod:`~mdwindow.core.ring_pass` writes every pane as it goes; otherwise
:func:`searched_updates` finds each window's on-time and late panes with
vectorised searches over the chunk's watermark steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.frames import TIMINGS
from mdwindow.core.kernels import classify_rows, first_reaching, group_rows, last_at_or_before
from mdwindow.core.keys import chunk_keys, key_rank, n_scopes, scope_of_keys
from mdwindow.core.panes import RowOutcome, deferred_output, pane_frame, pane_order, window_ids_of
from mdwindow.core.ring_step import ring_of, ring_step
from mdwindow.core.rules import (
    DROPPED,
    LATE,
    NEG_INF,
    REJECTED,
    VALID,
    close_level_array,
    effective_watermark_array,
    fire_level_array,
    global_floor_array,
    has_reached_array,
    sat_sub_array,
)
from mdwindow.core.state import State, concat_rows, empty_rows, next_state, take_rows
from mdwindow.core.step import carried, chunk_rows, fused_rows, step_output


def updates_chunk(cfg, state, prepared):
    """``emit="updates"``: each window's on-time pane and one pane per late row."""
    coded = chunk_keys(cfg, state, prepared)
    ring = ring_of(cfg, len(coded.keys))
    if ring is not None:
        chunk = chunk_rows(cfg, state, prepared, coded)
        kind = ("ring", ring)
        live = carried(state, kind, fused_rows(cfg, chunk, prepared, 0))
        done = ring_step(cfg, state, prepared, chunk, ring, live, updates=True)
        if done is not None:
            return step_output(cfg, state, prepared, chunk, done, live, None)
    codes = coded.key_codes()
    output, new_state = searched_updates(
        cfg, state, prepared, codes, coded.keys, coded.key_partition
    )
    new_state._key_table = coded.table if coded.table is not None else state._key_table
    return output, new_state


def searched_updates(cfg, state, prepared, codes, keys, key_partition):
    """``emit="updates"``: vectorised searches of each window's on-time and late panes."""
    n = prepared.n
    base = state.rows_seen
    size, lateness = cfg.spec.size_ns, cfg.policy.lateness_ns
    t = prepared.t
    arrival = base + np.arange(n, dtype=np.int64)

    scope = scope_of_keys(cfg, codes, key_partition)
    scope_count = n_scopes(cfg, keys)
    scope_max = np.full(scope_count, NEG_INF, np.int64)
    scope_max[: len(state.scope_max)] = state.scope_max
    state_scope_max = scope_max.copy()
    idle = cfg.policy.idle_ns
    (
        start, reason, status, w_before, w_after, late_by,
        own_after, glob_after, own_record, glob_record, global_max,
    ) = classify_rows(
        t, prepared.out_of_range.view(np.int8), scope, codes < 0, scope_max, state.global_max,
        size, cfg.spec.offset_ns, cfg.policy.lag_ns, cfg.idle_arg, lateness,
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
        new_rows["col:" + column] = prepared.columns[column][accepted]
    rows = concat_rows(state.open_rows or empty_rows(cfg), new_rows)

    gid, n_windows, w_key, w_start = window_ids_of(rows["key"], rows["start"])
    w_end = fire_level_array(w_start, size)
    w_scope = scope_of_keys(cfg, w_key, key_partition) if n_windows else w_key
    w_has_on_time = np.zeros(n_windows, bool)
    w_has_on_time[gid[~rows["late"]]] = True

    # Watermark steps of this chunk, grouped by scope, for the searches below.
    record_rows = np.flatnonzero(own_record)
    offsets, ordered = group_rows(record_rows, scope, scope_count)
    own_level = sat_sub_array(own_after, cfg.policy.lag_ns)
    glob_rows = np.flatnonzero(glob_record)
    glob_level = (
        global_floor_array(glob_after, cfg.policy.lag_ns, idle) if idle is not None else None
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
        return effective_watermark_array(own, glob_after[rows_at], cfg.policy.lag_ns, cfg.idle_arg)

    close_at = first_at_least(close_level_array(w_start, size, lateness), w_scope)
    closed = close_at < n

    state_w = effective_watermark_array(
        state_scope_max[w_scope],
        np.full(n_windows, state.global_max, np.int64),
        cfg.policy.lag_ns,
        cfg.idle_arg,
    )
    waiting = np.flatnonzero(w_has_on_time & ~has_reached_array(state_w, w_end))
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
    order = pane_order(pane_row, w_start[pane_gid], pane_rank)
    pane_gid = pane_gid[order]
    pane_row = pane_row[order]
    n_on = len(on_gid)
    windows = pane_frame(
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
    new_state = next_state(
        cfg,
        state,
        prepared,
        global_max=global_max,
        scope_max=scope_max,
        keys=keys,
        key_partition=key_partition,
        open_rows=take_rows(rows, np.flatnonzero(kept)),
    )
    new_state._key_rank = rank_cache._key_rank
    dropped = np.flatnonzero(status == DROPPED)
    rejected = np.flatnonzero(reason != VALID)
    outcome = RowOutcome(
        base, dropped, start[dropped], w_before[dropped], late_by[dropped],
        rejected, reason[rejected], lambda t: (start, w_before, w_after, status),
    )  # fmt: skip
    output = deferred_output(cfg, prepared, windows, outcome)
    return output, new_state
