"""The ``emit="final"`` step: one compiled pass judges rows, fills and closes windows.

Two passes share this step and their outputs: the ring pass of
:mod:`~mdwindow.core.ring_pass` (no idle timeout, few windows open per key:
the usual case) and the heap pass of :mod:`~mdwindow.core.final_pass`
(everything else). Either keeps its working state for the next chunk.
"""

from __future__ import annotations

import numpy as np

from mdwindow.core import final_pass as heap
from mdwindow.core.final_work import (
    final_counters,
    final_pass,
    new_final_work,
    open_positions,
    renumber_open,
    resumed_work,
)
from mdwindow.core.keys import chunk_keys
from mdwindow.core.pane_columns import first_panes, new_pane_columns
from mdwindow.core.ring_step import ring_of, ring_step
from mdwindow.core.state import concat_arrays
from mdwindow.core.step import ChunkRows, PassResult, carried, chunk_rows, fused_rows, step_output

_EMPTY = np.empty(0, np.int64)
_HEAP = ("heap", None)


def final_chunk(cfg, state, prepared):
    """``emit="final"``: one compiled pass judges rows, fills windows and closes them."""
    coded = chunk_keys(cfg, state, prepared)
    chunk = chunk_rows(cfg, state, prepared, coded)
    ring = ring_of(cfg, len(coded.keys))
    fused = fused_rows(cfg, chunk, prepared, 0)
    live = carried(state, _HEAP if ring is None else ("ring", ring), fused)
    done = None
    if ring is not None:
        done = ring_step(cfg, state, prepared, chunk, ring, live, updates=False)
        if done is None:
            # A ring position clashed (never expected): the heap pass decides instead.
            live = None
            chunk.scope_max[:] = chunk.before
    if done is None:
        done = _heap_step(cfg, state, prepared, chunk, live)
    return step_output(cfg, state, prepared, chunk, done, live, "final")


def _heap_step(cfg, state, prepared, chunk: ChunkRows, live) -> PassResult:
    """Run the heap pass (idle timeouts, many windows open per key); ``live`` is the
    carried table to take over, or None."""
    n = prepared.n
    old = chunk.old
    n_old = 0 if live is not None else len(old["key"])
    fused = fused_rows(cfg, chunk, prepared, n_old)
    price, size = fused if fused is not None else (np.empty(0, np.float64),) * 2
    n_keys = len(chunk.rank)
    if live is not None:
        work = resumed_work(
            live.work, chunk.scope_max, state.global_max, n_keys, chunk.rank,
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
    codes = chunk.coded.key_codes()
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
    renumber_open(work.slots, remap, open_key, open_start)
    window = out.window
    old_window = live.window if live is not None else window[:n_old]
    kept_new = open_positions(window[n_old:], pane)
    return PassResult(
        _HEAP,
        work,
        first_panes(out.panes, int(c[heap.C_EMITTED])),
        out.dropped[:, : c[heap.C_DROPPED]],
        out.rejected[: c[heap.C_REJECTED]],
        out.reasons[: c[heap.C_REJECTED]],
        out.late_rows[: c[heap.C_LATE]],
        int(c[heap.C_GLOBAL_MAX]),
        windows,
        window if fused is None else None,
        pane if fused is None else None,
        None,
        open_key,
        open_start,
        remap[old_window] if len(old_window) else _EMPTY,
        kept_new,
        remap[window[n_old:][kept_new]],
    )
