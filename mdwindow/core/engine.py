"""The windowing engine: one kernel ``(state, chunk) -> (output, state)``.

Batch mode is one call of :func:`process_chunk` on an empty state followed by
:func:`finish`; incremental mode calls :func:`process_chunk` once per pushed
chunk. Both front doors share every line of the semantics below.

Times are int64 nanoseconds; ``NEG_INF`` (the NaT bit pattern) stands for a
watermark of minus infinity. Watermark arithmetic saturates instead of
wrapping, so times near the int64 limits stay exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mdwindow.core.final import final_chunk
from mdwindow.core.frames import TIMINGS
from mdwindow.core.keys import key_rank, n_scopes, scope_of_keys
from mdwindow.core.memory import without_hugepage_hint
from mdwindow.core.options import WindowOptions
from mdwindow.core.panes import pane_frame, pane_order, window_ids_of
from mdwindow.core.prepare import prepare
from mdwindow.core.rules import (
    NEG_INF,
    effective_watermark_array,
    fire_level_array,
    has_reached_array,
)
from mdwindow.core.state import ChunkOutput, State, empty_rows
from mdwindow.core.updates import updates_chunk


@without_hugepage_hint
def process_chunk(
    cfg: WindowOptions, state: State, frame: pd.DataFrame
) -> tuple[ChunkOutput, State]:
    """Run one chunk (rows in arrival order) through the engine.

    Returns this chunk's output and the new state; ``state`` itself is left
    untouched, so a failing chunk changes nothing.
    """
    prepared = prepare(cfg, state, frame)
    if cfg.emit == "final":
        return final_chunk(cfg, state, prepared)
    return updates_chunk(cfg, state, prepared)


def open_windows(cfg: WindowOptions, state: State, *, closing: bool):
    """Windows of the state that have emitted nothing yet, as a pane frame.

    With ``closing`` these are the end-of-input panes (``partial`` or
    ``pending``); without it, a look at what is pending now.
    """
    rows = state.open_rows or empty_rows(cfg)
    gid, n_windows, w_key, w_start = window_ids_of(rows["key"], rows["start"])
    w_end = fire_level_array(w_start, cfg.spec.size_ns)
    silent = np.ones(n_windows, bool)
    if cfg.emit == "updates" and n_windows:
        # A window that has emitted a pane is complete at the end, not pending.
        w_scope = scope_of_keys(cfg, w_key, state.key_partition)
        w_now = scope_watermarks(cfg, state, minimum=1)[w_scope]
        has_late = np.zeros(n_windows, bool)
        has_late[gid[rows["late"]]] = True
        silent = ~has_reached_array(w_now, w_end) & ~has_late
    chosen = np.flatnonzero(silent)
    rank = key_rank(state.keys if cfg.key is not None else None, state)
    order = pane_order(
        np.zeros(len(chosen), np.int64),
        w_start[chosen],
        rank[w_key[chosen]] if len(rank) else np.zeros(len(chosen), np.int64),
    )
    chosen = chosen[order]
    timing = "partial" if (closing and cfg.spec.emit_partial) else "pending"
    n_panes = len(chosen)
    return pane_frame(
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


@without_hugepage_hint
def finish(cfg: WindowOptions, state: State) -> tuple[pd.DataFrame, pd.DataFrame]:
    """End of input: ``(windows emitted at the end, pending windows)``."""
    frame = open_windows(cfg, state, closing=True)
    empty = frame.iloc[:0]
    if cfg.spec.emit_partial:
        return frame, empty.copy()
    return empty.copy(), frame


def scope_watermarks(cfg: WindowOptions, state: State, *, minimum: int = 0) -> np.ndarray:
    """The watermark of every scope of ``state`` now (at least ``minimum`` scopes)."""
    n = max(n_scopes(cfg, state.keys), minimum)
    scope_max = np.full(n, NEG_INF, np.int64)
    scope_max[: len(state.scope_max)] = state.scope_max
    return effective_watermark_array(
        scope_max, np.full(n, state.global_max, np.int64), cfg.policy.lag_ns, cfg.idle_arg
    )
