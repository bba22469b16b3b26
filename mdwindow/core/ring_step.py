"""One chunk through the ring pass, for either emit mode.

:func:`ring_of` says whether the ring pass can take a run's chunk (no idle
timeout, a small ring); :func:`ring_step` runs it on a chunk's rows and
finds the rows the windows it left open hold.
"""

from __future__ import annotations

import numpy as np

from mdwindow.core import ring_layout as rings
from mdwindow.core.pane_columns import N_COUNT, N_ROW, first_panes, new_pane_columns
from mdwindow.core.prefault import populated_ahead
from mdwindow.core.ring_pass import ring_rows
from mdwindow.core.ring_slots import grid_numbering
from mdwindow.core.ring_work import MAX_RING_ENTRIES, open_rows_of, ring_size, ring_work
from mdwindow.core.step import ChunkRows, PassResult, fused_rows

_EMPTY = np.empty(0, np.int64)
_NEVER = np.iinfo(np.int64).max


def ring_of(cfg, n_keys: int) -> int | None:
    """The ring size for a run of these options with ``n_keys`` keys, or None (no ring)."""
    policy = cfg.policy
    ring = ring_size(cfg.spec.size_ns, policy.lag_ns, policy.lateness_ns, policy.idle_ns)
    if ring is not None and n_keys * ring > MAX_RING_ENTRIES:
        return None
    return ring


def ring_step(
    cfg, state, prepared, chunk: ChunkRows, ring: int, live, *, updates: bool
) -> PassResult | None:
    """Run the ring pass on a chunk; None when a ring position clashed (see ring_pass).

    ``live`` is the carried table to take over, or None: the kept open rows
    then rejoin new windows first.
    """
    n = prepared.n
    old = chunk.old
    n_old = 0 if live is not None else len(old["key"])
    fused = fused_rows(cfg, chunk, prepared, n_old)
    price, size = fused if fused is not None else (np.empty(0, np.float64),) * 2
    per_key = cfg.scope == "key"
    work = ring_work(
        live.work if live is not None else None, chunk.scope_max, state.global_max,
        len(chunk.rank), ring, per_key, n_old + n, price.dtype, size.dtype,
    )  # fmt: skip
    resumed_open = int(work.counters[rings.C_OPEN])
    windows = resumed_open + n_old + n  # at most one new window per row
    # emit="updates": a pane per window and one per late row.
    capacity = windows + (n if updates else 0)
    track = fused is None and bool(cfg.plan.items)
    out = rings.RingOutputs(
        panes=new_pane_columns(
            capacity, (price.dtype, size.dtype) if fused else None, timing=updates
        ),
        dropped=np.empty((4, n), np.int64),
        rejected=np.empty(n, np.int64),
        reasons=np.empty(n, np.int8),
        late_rows=np.empty(n, np.int64),
        row_window=np.empty(n if track else 0, np.int64),
        old_window=np.empty(n_old if track else 0, np.int64),
        pane=np.empty(windows if track and not updates else 0, np.int64),
        pane_window=np.empty(capacity if track and updates else 0, np.int64),
    )
    out.pane[:resumed_open] = -1
    coded = chunk.coded
    inp = rings.RingInputs(
        key=coded.codes,
        key_map=coded.key_map,
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
    panes = out.panes
    grid = grid_numbering(cfg.spec.size_ns)
    # Every pane writes these; late counts and revisions mostly stay zero pages.
    written = [panes.key, panes.times, panes.counts[N_COUNT], panes.counts[N_ROW], panes.timing,
               panes.prices, panes.volume, panes.vwap]  # fmt: skip
    with populated_ahead(written, capacity, work.counters, rings.C_EMITTED):
        status = ring_rows(
            inp, out, work, state.rows_seen, per_key, ring, cfg.spec.size_ns,
            cfg.spec.offset_ns, grid, cfg.policy.lag_ns,
            cfg.policy.lateness_ns, fused is not None, track, updates,
        )  # fmt: skip
    if status == rings.CLASH:
        return None
    c = work.counters
    n_open = int(c[rings.C_OPEN])
    open_key = np.empty(n_open, np.int64)
    open_start = np.empty(n_open, np.int64)
    old_ids = np.empty(len(old["key"]), np.int64)
    new_rows = np.empty(n, np.int64)
    new_ids = np.empty(n, np.int64)
    _, kept = open_rows_of(
        work, ring, cfg.spec.size_ns, cfg.spec.offset_ns, grid, state.rows_seen, open_key,
        open_start, old["key"], old["start"], old_ids, coded.codes, coded.key_map, prepared.t,
        chunk.bad_time, new_rows, new_ids, np.full(len(work.last_slot), _NEVER, np.int64),
    )  # fmt: skip
    n_panes = int(c[rings.C_EMITTED])
    return PassResult(
        ("ring", ring),
        work,
        first_panes(out.panes, n_panes),
        out.dropped[:, : c[rings.C_DROPPED]],
        out.rejected[: c[rings.C_REJECTED]],
        out.reasons[: c[rings.C_REJECTED]],
        out.late_rows[: c[rings.C_LATE]],
        int(c[rings.C_GLOBAL_MAX]),
        int(c[rings.C_WINDOWS]),
        np.concatenate([out.old_window, out.row_window]) if track else None,
        out.pane[: int(c[rings.C_WINDOWS])] if track and not updates else None,
        out.pane_window[:n_panes] if track and updates else None,
        open_key,
        open_start,
        old_ids,
        new_rows[:kept],
        new_ids[:kept],
    )
