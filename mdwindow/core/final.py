"""The ``emit="final"`` step: one compiled pass judges rows, fills and closes windows."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from mdwindow.core.aggregate import aggregate, fused_ohlcv
from mdwindow.core.final_pass import (
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
    final_counters,
    final_pass,
    new_final_work,
    open_row_positions,
    renumber_open,
    resumed_work,
)
from mdwindow.core.frames import TIMINGS
from mdwindow.core.keys import key_codes_and_table, key_rank, n_scopes, scope_of_keys
from mdwindow.core.panes import RowOutcome, deferred_output, layout_panes
from mdwindow.core.prefault import Prefault
from mdwindow.core.prepare import nonzero_or_empty
from mdwindow.core.rules import LATE, NEG_INF
from mdwindow.core.state import LiveWindows, State, concat_arrays, empty_rows, next_state


def final_chunk(cfg, state, prepared):
    """``emit="final"``: one compiled pass judges rows, fills windows and closes them."""
    n = prepared.n
    old = state.open_rows or empty_rows(cfg)
    chunk_columns = prepared.columns
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
        columns = {c: concat_arrays(old["col:" + c], chunk_columns[c]) for c in cfg.plan.columns}
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
    # Fault the per-row output pages in on another core meanwhile (see Prefault).
    coded_here = isinstance(prepared.key_values, pd.arrays.ArrowStringArray)
    prefault = Prefault([codes] * coded_here + [outputs.per_row, outputs.status, outputs.window])
    try:
        codes, keys, key_partition, key_table = key_codes_and_table(cfg, state, prepared, codes)
        inputs = FinalInputs(
            key=codes if resume else concat_arrays(old["key"], codes),
            t=prepared.t if resume else concat_arrays(old["t"], prepared.t),
            old_start=old["start"][:n_old],
            old_late=old["late"][:n_old],
            bad_time=nonzero_or_empty(prepared.out_of_range.view(np.int8)),
            price=price,
            size=volume,
            scope_of_key=scope_of_keys(cfg, np.arange(len(keys)), key_partition),
            key_rank=np.zeros(len(keys), np.int64),
        )
        rank_cache = State(_key_rank=state._key_rank)
        if cfg.key is not None:
            inputs = inputs._replace(key_rank=key_rank(keys, rank_cache))
        scope_max = np.full(n_scopes(cfg, keys), NEG_INF, np.int64)
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
        cfg, state, prepared, rows, outputs, work, columns, keys, key_partition, key_table
    )
    new_state = next_state(
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
    new_state._live = LiveWindows(
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
        return concat_arrays(self.old[name], chunk_values)


def _final_output(cfg, state, prepared, rows, outputs, work, columns, keys, partition, key_table):
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
            concat_arrays(rows.old_window, rows.window),
            pane,
            n_panes,
            rows.all("t", rows.t),
            rows.all("arrival", base + np.arange(prepared.n)),
        )
    emit_row = emitted[E_ROW]
    windows = layout_panes(
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
        "key": concat_arrays(old["key"][kept_old], rows.codes[kept_new]),
        "start": concat_arrays(old["start"][kept_old], start[kept_new]),
        "t": concat_arrays(old["t"][kept_old], rows.t[kept_new]),
        "arrival": concat_arrays(old["arrival"][kept_old], base + kept_new),
        "late": concat_arrays(old["late"][kept_old], status[kept_new] == LATE),
    }
    for c in cfg.plan.columns:
        open_rows["col:" + c] = concat_arrays(
            old["col:" + c][kept_old], rows.chunk_columns[c][kept_new]
        )
    remap = np.full(n_windows, -1, np.int64)
    renumber_open(work.slots, remap)
    open_window = concat_arrays(remap[rows.old_window[kept_old]], remap[rows.window[kept_new]])

    dropped, late_by = outputs.dropped[:, : counters[C_DROPPED]]
    rejected = outputs.rejected[: counters[C_REJECTED]]
    reasons = outputs.reasons[: counters[C_REJECTED]]
    outcome = RowOutcome(
        arrival, start, w_before, w_after, status, dropped, late_by, rejected, reasons
    )
    output = deferred_output(cfg, prepared, windows, outcome)
    return output, open_rows, open_window
