"""When each window closes under each sum ``lag + lateness``, and how late that is.

A window closes (``emit="final"``, SPEC section 6) right after the first row
that makes its scope's watermark reach ``end + lateness``. The watermark is
the scope's maximum less the lag, so that is the first row at which the
maximum reaches ``end + lag + lateness``
(:func:`~mdwindow.core.rules.has_reached`): one of the steps of the
scope's own maximum or, with an idle timeout, of the global maximum less
the timeout (:func:`~mdwindow.core.rules.global_floor`), whichever comes
first. Its latency is the clock at that row less the window end.

A sum at a time: windows come grouped by scope, by end within a scope, so
the closing step moves forward with the end and each search gallops on
from the previous window's. Window ends lie on one grid, so ``end + sum``
takes few values modulo the window size: when they are few enough, the
closing step of every value is found once, in one walk over the steps,
and every (window, sum) looks it up. The latencies of one sum are read
into their quantiles before the next (:mod:`~mdwindow.core.grid.quantiles`),
so memory stays one latency per window.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdwindow.core.grid.quantiles import quantiles_of
from mdwindow.core.grid.search import first_reaching
from mdwindow.core.rules import INT64_MAX, kept_slack, sat_add

__all__ = [
    "CLOSING_TABLE_PER_WINDOW",
    "LATENCY_ENTRIES",
    "MIN_CLOSING_TABLE",
    "closing_latencies",
    "load_compiled",
]

#: Closing steps are looked up in a table (a slot per window size between a
#: scope's first window end and its last plus the largest sum, and remainder of a
#: sum modulo the size) when it has at most this many entries per window (or at
#: most MIN_CLOSING_TABLE); else searched for each window and sum. The scopes'
#: steps and the global floor's steps each get a table, or not.
CLOSING_TABLE_PER_WINDOW = 16
MIN_CLOSING_TABLE = 1 << 16
#: Latencies held at once (sums x windows): more sums are taken in turns.
LATENCY_ENTRIES = 1 << 22


@njit(cache=True, nogil=True, inline="always")
def _step(p, hi, step_row, step_clock, none):  # pragma: no cover - compiled
    """``(row, clock)`` of step ``p`` of a scope ending at ``hi``; ``none`` past it."""
    if p < hi:
        return step_row[p], step_clock[p]
    return none, 0


@njit(cache=True, nogil=True)
def _fill_table(
    rows, clocks, levels, step_row, step_clock, lo, hi, first, remainders, size, none
):  # pragma: no cover - compiled
    """At ``m * len(remainders) + r``: the row and clock of the first step in
    ``levels[lo:hi]`` that reaches ``first + m * size + remainders[r]``, found in one
    forward walk."""
    n_rem = remainders.shape[0]
    p = lo
    for m in range(rows.shape[0] // n_rem):
        for r in range(n_rem):
            p = first_reaching(levels, p, hi, sat_add(first + m * size, remainders[r]))
            row, clock = _step(p, hi, step_row, step_clock, none)
            rows[m * n_rem + r] = row
            clocks[m * n_rem + r] = clock


@njit(cache=True, nogil=True)
def _scope_tables(
    w_offsets, w_end, step_offsets, step_level, step_row, step_clock, remainders, top_whole,
    size, none,
):  # fmt: skip  # pragma: no cover - compiled
    """The closing table of every scope, one after the other: ``(rows, clocks, the
    table position of each window's end)``."""
    n_scope = w_offsets.shape[0] - 1
    n_rem = remainders.shape[0]
    offsets = np.zeros(n_scope + 1, np.int64)
    for s in range(n_scope):
        if w_offsets[s] < w_offsets[s + 1]:
            span = (w_end[w_offsets[s + 1] - 1] - w_end[w_offsets[s]]) // size
            offsets[s + 1] = (span + top_whole + 1) * n_rem
        offsets[s + 1] += offsets[s]
    rows = np.empty(offsets[n_scope], np.int64)
    clocks = np.empty(offsets[n_scope], np.int64)
    at = np.empty(w_end.shape[0], np.int64)
    for s in range(n_scope):
        lo, hi = offsets[s], offsets[s + 1]
        if lo == hi:
            continue
        first = w_end[w_offsets[s]]
        _fill_table(
            rows[lo:hi], clocks[lo:hi], step_level, step_row, step_clock, step_offsets[s],
            step_offsets[s + 1], first, remainders, size, none,
        )  # fmt: skip
        for j in range(w_offsets[s], w_offsets[s + 1]):
            at[j] = lo + (w_end[j] - first) // size * n_rem
    return rows, clocks, at


@njit(cache=True, nogil=True)
def _closing_quantiles(
    w_offsets, w_end, w_min_slack, totals, step_offsets, step_level, step_row, step_clock,
    glob_level, glob_row, glob_clock, none, own_rows, own_clocks, own_at, glob_rows,
    glob_clocks, glob_at, lookup, quantiles, per_turn,
):  # fmt: skip  # pragma: no cover - compiled
    """The latency quantiles of the windows that exist and close under each sum, and
    how many close; NaN quantiles where none does.

    ``per_turn`` sums at a time, window by window: a window's closing steps
    under consecutive sums lie close together, and so do those of a scope's
    consecutive windows. Closing steps come from the tables when given
    (``own_at`` / ``glob_at`` not empty: a window's entry for sum ``k`` is
    at its position plus ``lookup[k]``), else from a search that gallops on
    from the later of the answers for the previous sum and the previous
    window. The turn's latencies are read into their quantiles before the
    next turn.
    """
    n_totals = totals.shape[0]
    n_glob = glob_level.shape[0]
    own_by_table = own_at.shape[0] > 0
    glob_by_table = glob_at.shape[0] > 0
    values = np.full((n_totals, quantiles.shape[0]), np.nan)
    closed = np.zeros(n_totals, np.int64)
    latency = np.empty((min(per_turn, n_totals), w_end.shape[0]), np.int64)
    scratch = np.empty(w_end.shape[0], np.int64)
    own_from = np.empty(per_turn, np.int64)  # each sum's answer for the previous window
    glob_from = np.empty(per_turn, np.int64)
    for first in range(0, n_totals, per_turn):
        turn = min(per_turn, n_totals - first)
        counts = np.zeros(turn, np.int64)
        for s in range(w_offsets.shape[0] - 1):
            hi = step_offsets[s + 1]
            own_from[:] = step_offsets[s]
            glob_from[:] = 0
            for j in range(w_offsets[s], w_offsets[s + 1]):
                e = w_end[j]
                p = step_offsets[s]
                q = 0
                for t in range(turn):
                    k = first + t
                    if not kept_slack(w_min_slack[j], totals[k]):
                        continue  # no row kept: the window does not exist
                    if own_by_table:
                        row = own_rows[own_at[j] + lookup[k]]
                        clock = own_clocks[own_at[j] + lookup[k]]
                    else:
                        level = sat_add(e, totals[k])
                        p = first_reaching(step_level, max(p, own_from[t]), hi, level)
                        own_from[t] = p
                        row, clock = _step(p, hi, step_row, step_clock, none)
                    glob = none
                    glob_time = 0
                    if glob_by_table:
                        glob = glob_rows[glob_at[j] + lookup[k]]
                        glob_time = glob_clocks[glob_at[j] + lookup[k]]
                    elif n_glob:
                        level = sat_add(e, totals[k])
                        q = first_reaching(glob_level, max(q, glob_from[t]), n_glob, level)
                        glob_from[t] = q
                        glob, glob_time = _step(q, n_glob, glob_row, glob_clock, none)
                    if glob < row:
                        row, clock = glob, glob_time
                    if row == none:
                        break  # never closes, nor under any larger sum
                    latency[t, counts[t]] = clock - e
                    counts[t] += 1
        for t in range(turn):
            closed[first + t] = counts[t]
            if counts[t]:
                quantiles_of(latency[t], counts[t], quantiles, values[first + t], scratch)
    return values, closed


def _table_slots(w_offsets: np.ndarray, w_end: np.ndarray, largest: int, size: int) -> int:
    """Slots of the scopes' closing tables, per remainder (Python integers: no wrapping)."""
    starts, stops = w_offsets[:-1], w_offsets[1:]
    used = starts < stops
    first = w_end[starts[used]].astype(object)
    last = w_end[stops[used] - 1].astype(object)
    return int(sum((last - first) // size + largest // size + 1))


def closing_latencies(
    w_offsets: np.ndarray,
    w_end: np.ndarray,
    w_min_slack: np.ndarray,
    totals: list[int],
    steps: tuple[np.ndarray, ...],
    glob_steps: tuple[np.ndarray, ...],
    size: int,
    none: int,
    quantiles: tuple[float, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """``(latency quantiles, closed windows)`` per sum ``lag + lateness`` (ascending).

    Windows are grouped by scope (``w_offsets``), by end within a scope,
    with their smallest slack; ``steps`` are ``(offsets, level, row,
    clock)`` of every scope's maximum, ``glob_steps`` ``(level, row,
    clock)`` of the global floor (empty without an idle timeout); ``none``
    is past every row. Quantiles are NaN where no window closed.
    """
    total_array = np.array(totals, np.int64)
    # A window's entry for a sum: whole sizes past its own, at the sum's remainder.
    whole = total_array // size
    remainder = total_array - whole * size
    remainders = np.unique(remainder)
    lookup = whole * len(remainders) + np.searchsorted(remainders, remainder)
    empty = np.empty(0, np.int64)
    own, glob = (empty, empty, empty), (empty, empty, empty)
    if len(w_end) and len(total_array):
        largest = int(total_array[-1])
        limit = max(CLOSING_TABLE_PER_WINDOW * len(w_end), MIN_CLOSING_TABLE)
        # Table slots hold window ends plus sums: they must not wrap around.
        if int(w_end.max()) + largest + size <= INT64_MAX:
            if _table_slots(w_offsets, w_end, largest, size) * len(remainders) <= limit:
                own = _scope_tables(
                    w_offsets, w_end, *steps, remainders, largest // size, size, none
                )
            # The global floor's steps serve every scope: one table over all ends.
            order = np.argsort(w_end, kind="stable")
            all_ends = np.array([0, len(w_end)], np.int64)
            if len(glob_steps[0]) and (
                _table_slots(all_ends, w_end[order], largest, size) * len(remainders) <= limit
            ):
                rows, clocks, at = _scope_tables(
                    all_ends, w_end[order], np.array([0, len(glob_steps[0])], np.int64),
                    *glob_steps, remainders, largest // size, size, none,
                )  # fmt: skip
                glob = (rows, clocks, np.empty_like(at))
                glob[2][order] = at
    return _closing_quantiles(
        w_offsets, w_end, w_min_slack, total_array, *steps, *glob_steps, none, *own, *glob,
        lookup, np.array(quantiles, np.float64), max(1, LATENCY_ENTRIES // max(len(w_end), 1)),
    )  # fmt: skip


def load_compiled() -> None:
    """Load the compiled closing search and its tables (compiled code is loaded on its
    first call, some ms each): a tuner calls this when it is built, so that its
    first visit of a window size does not pay for it."""
    one = np.zeros(1, np.int64)
    offsets = np.array([0, 1], np.int64)
    closing_latencies(offsets, one, one, [0], (offsets, one, one, one), (one, one, one), 1, 1,
                      (0.5,))  # fmt: skip
