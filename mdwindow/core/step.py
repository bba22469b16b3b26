"""What the compiled passes share: a chunk's rows as they take them, and what a
pass leaves turned into the step's frames and the next state.

A step (:func:`~mdwindow.core.final.final_chunk`, or
:func:`~mdwindow.core.updates.updates_chunk` on the ring pass) codes the
keys and sets up :class:`ChunkRows` with :func:`chunk_rows`, runs a pass,
which returns a :class:`PassResult`, and hands it to :func:`step_output`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from mdwindow.core.aggregate import aggregate, fused_ohlcv
from mdwindow.core.keys import ChunkKeys, key_rank, n_scopes, scope_of_keys
from mdwindow.core.pane_columns import N_ROW, windows_frame
from mdwindow.core.panes import RowOutcome, deferred_output, replicate_rows
from mdwindow.core.prepare import nonzero_or_empty
from mdwindow.core.replay import ReplayRows, replay
from mdwindow.core.ring_layout import D_LATE_BY, D_ROW, D_START, D_WATERMARK
from mdwindow.core.rules import NEG_INF
from mdwindow.core.state import LiveWindows, State, concat_arrays, empty_rows, next_state


class ChunkRows(NamedTuple):
    """A chunk's rows as the passes take them."""

    coded: ChunkKeys
    old: dict[str, Any]  # the kept open rows of the state
    bad_time: np.ndarray  # per row, nonzero when out of range (empty: none)
    scope_max: np.ndarray  # the state's, grown to this chunk's scopes (the pass updates it)
    before: np.ndarray  # ... as it was before the pass
    scope_of_key: np.ndarray
    rank: np.ndarray  # of each key code in the natural order of keys
    rank_cache: State  # holds the ranks for the next state


class PassResult(NamedTuple):
    """What a pass left for the frames and the next chunk."""

    kind: tuple  # ("ring", ring size), ("heap", None): the pass, for the next chunk
    work: Any  # its working state
    panes: Any  # PaneColumns of the emitted panes
    dropped: np.ndarray  # (4, dropped) int64: D_* per dropped row
    rejected: np.ndarray
    reasons: np.ndarray
    late_rows: np.ndarray
    global_max: int
    n_windows: int  # window ids the pass gave out
    # Windows of the rows, when they were recorded (aggregates not folded):
    window: np.ndarray | None  # per kept row folded again, then per chunk row
    pane: np.ndarray | None  # per window id: its pane (emit="final")
    pane_window: np.ndarray | None  # per pane: its window id (emit="updates")
    # The open windows (ids 0 .. open-1) and the rows they hold:
    open_key: np.ndarray
    open_start: np.ndarray
    old_ids: np.ndarray  # per kept row: its window's id, -1 once closed
    new_rows: np.ndarray  # chunk rows in open windows
    new_ids: np.ndarray  # ... and their windows' ids


def chunk_rows(cfg, state: State, prepared, coded: ChunkKeys) -> ChunkRows:
    """The rows of a chunk whose keys are ``coded``, with the state's maxima and open rows."""
    keys = coded.keys
    n_keys = len(keys)
    rank_cache = State(_key_rank=state._key_rank)
    rank = key_rank(keys, rank_cache) if cfg.key is not None else np.zeros(n_keys, np.int64)
    scope_max = np.full(n_scopes(cfg, keys), NEG_INF, np.int64)
    scope_max[: len(state.scope_max)] = state.scope_max
    return ChunkRows(
        coded,
        state.open_rows or empty_rows(cfg),
        nonzero_or_empty(prepared.out_of_range.view(np.int8)),
        scope_max,
        scope_max.copy(),
        scope_of_keys(cfg, np.arange(n_keys), coded.key_partition),
        rank,
        rank_cache,
    )


def fused_rows(cfg, chunk: ChunkRows, prepared, n_old: int):
    """:func:`fused_ohlcv` of the kept open rows to fold again, then the chunk's rows."""
    columns = prepared.columns
    if n_old:
        columns = {c: concat_arrays(chunk.old["col:" + c], v) for c, v in columns.items()}
    return fused_ohlcv(cfg.plan, columns)


def carried(state: State, kind: tuple, fused) -> Any:
    """The window table the previous chunk left for this one, when this chunk may take
    it over (made by the same pass, folding alike, for this very state); else None."""
    live = state._live
    if (
        live is None
        or live.owner is not state._token
        or live.kind != kind
        or live.fused != (fused is not None)
        or (fused is not None and live.dtypes != (fused[0].dtype, fused[1].dtype))
    ):
        return None
    live.owner = None
    return live


def _pane_values(cfg, prepared, chunk: ChunkRows, done: PassResult, old_window, base: int):
    """The aggregates of every pane, from the rows (when the pass did not fold them)."""
    old = chunk.old
    columns = {c: concat_arrays(old["col:" + c], prepared.columns[c]) for c in cfg.plan.columns}
    window = concat_arrays(old_window, done.window[len(done.window) - prepared.n :])
    t = concat_arrays(old["t"], prepared.t)
    arrival = concat_arrays(old["arrival"], base + np.arange(prepared.n))
    n_panes = len(done.panes.key)
    if done.pane_window is None:
        # Each window has one pane, of all its rows.
        return aggregate(cfg.plan, columns, window, done.pane, n_panes, t, arrival)
    # Each pane holds the rows of its window that arrived by its emit row.
    inside = np.flatnonzero(window >= 0)
    rows, pane_of_row = replicate_rows(
        window[inside], arrival[inside], done.n_windows, done.pane_window, done.panes.counts[N_ROW]
    )
    rows = inside[rows]
    taken = {c: values[rows] for c, values in columns.items()}
    return aggregate(
        cfg.plan, taken, pane_of_row, np.arange(n_panes), n_panes, t[rows], arrival[rows]
    )


def _members(rows: np.ndarray, ascending: np.ndarray) -> np.ndarray:
    """Whether each of ``rows`` is one of the ``ascending`` rows."""
    if len(ascending) == 0:
        return np.zeros(len(rows), bool)
    at = np.minimum(np.searchsorted(ascending, rows), len(ascending) - 1)
    return ascending[at] == rows


def step_output(cfg, state: State, prepared, chunk: ChunkRows, done: PassResult, live, timing):
    """The step's output (frames) and the next state, from what the pass left.

    ``live`` is the carried table the pass took over (None: it folded the
    kept rows again); ``timing`` the timing of every pane, or None when the
    pass wrote them.
    """
    base = state.rows_seen
    old = chunk.old
    coded = chunk.coded
    fused = done.window is None and bool(cfg.plan.items)
    values = None
    old_window = None
    if done.window is not None:
        # Kept rows folded again have their windows recorded; carried ones had them.
        old_window = live.window if live is not None else done.window[: len(old["key"])]
        values = _pane_values(cfg, prepared, chunk, done, old_window, base)
    elif not cfg.plan.items:
        values = {}
    panes = done.panes
    emit_time = None
    if prepared.arrival_stamp is not None:
        emit_time = prepared.arrival_stamp[panes.counts[N_ROW] - base]
    windows = windows_frame(
        cfg, panes, coded.keys, coded.key_partition, coded.table,
        values=values, timing=timing, emit_time=emit_time,
    )  # fmt: skip

    kept_old = np.flatnonzero(done.old_ids >= 0)
    new_rows = done.new_rows
    open_window = concat_arrays(done.old_ids[kept_old], done.new_ids)
    open_rows = {
        "key": done.open_key[open_window],
        "start": done.open_start[open_window],
        "t": concat_arrays(old["t"][kept_old], prepared.t[new_rows]),
        "arrival": concat_arrays(old["arrival"][kept_old], base + new_rows),
        "late": concat_arrays(old["late"][kept_old], _members(new_rows, done.late_rows)),
    }
    for c in cfg.plan.columns:
        open_rows["col:" + c] = concat_arrays(
            old["col:" + c][kept_old], prepared.columns[c][new_rows]
        )

    size, offset = cfg.spec.size_ns, cfg.spec.offset_ns
    lag, lateness, idle = cfg.policy.lag_ns, cfg.policy.lateness_ns, cfg.idle_arg
    replayed = ReplayRows(
        coded.codes,
        coded.key_map,
        prepared.t,
        chunk.bad_time,
        chunk.scope_of_key,
        0 if cfg.scope == "global" else -1,
        chunk.before,
        state.global_max,
    )
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
    new_state = next_state(
        cfg,
        state,
        prepared,
        global_max=done.global_max,
        scope_max=chunk.scope_max,
        keys=coded.keys,
        key_partition=coded.key_partition,
        open_rows=open_rows,
    )
    new_state._key_rank = chunk.rank_cache._key_rank
    new_state._key_table = coded.table if coded.table is not None else state._key_table
    dtypes = (panes.prices.dtype, panes.volume.dtype) if fused else None
    new_state._live = LiveWindows(
        done.work, open_window, fused, dtypes, new_state._token, done.kind
    )
    return output, new_state
