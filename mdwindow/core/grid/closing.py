"""When each window closes under each sum ``lag + lateness``, and how late that is.

A window closes (``emit="final"``, SPEC section 6) right after the first row
that makes its scope's watermark reach ``end + lateness``. The watermark is
the scope's maximum less the lag, so that is the first row at which the
maximum reaches ``end + lag + lateness``
(:func:`~mdwindow.core.rules.has_reached`): one of the steps of the
scope's own maximum or, with an idle timeout, of the global maximum less
the timeout (:func:`~mdwindow.core.rules.global_floor`), whichever comes
first. Its latency is the clock at that row less the window end.

Windows come grouped by scope, by end within a scope; the closing step
moves forward with the end and with the sum, so each search gallops on
from the answers before it. When the sums and the window ends take few
values modulo the window size (they always lie on one grid), the closing
step of every value is found once, in one walk over the steps, and every
(window, sum) looks it up.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdwindow.core.grid.quantiles import latency_quantiles
from mdwindow.core.grid.search import first_reaching
from mdwindow.core.rules import INT64_MAX, kept_slack, sat_add

__all__ = [
    "CLOSING_TABLE_PER_WINDOW",
    "LATENCY_ENTRIES",
    "MIN_CLOSING_TABLE",
    "closing_latencies",
    "load_compiled",
]

#: Closing steps are looked up in tables (a slot per scope, window size between
#: its first window end and its last plus the largest sum, and remainder of a
#: sum modulo the size) when they have at most this many entries per window (or
#: at most MIN_CLOSING_TABLE); else searched for each window and sum.
CLOSING_TABLE_PER_WINDOW = 16
MIN_CLOSING_TABLE = 1 << 16
#: Latencies held at once (sums x windows): more sums are taken in turns.
LATENCY_ENTRIES = 1 << 23


@njit(cache=True, nogil=True, inline="always")
def _earlier(p, hi, step_row, step_clock, q, n_glob, glob_row, glob_clock, none):
    """``(row, clock)`` of the earlier of a scope step ``p`` and a global step ``q``
    (each missing at its end); ``none`` when neither exists."""
    row = none
    clock = 0
    if p < hi:
        row = step_row[p]
        clock = step_clock[p]
    if q < n_glob and glob_row[q] < row:
        row = glob_row[q]
        clock = glob_clock[q]
    return row, clock


@njit(cache=True, nogil=True)
def _latencies_by_search(
    w_offsets, w_end, w_min_slack, totals, step_offsets, step_level, step_row, step_clock,
    glob_level, glob_row, glob_clock, none,
):  # fmt: skip  # pragma: no cover - compiled
    """Latencies of the windows that exist and close under each ascending sum.

    Row ``k`` of the result holds ``counts[k]`` latencies in its first columns.
    """
    n_totals = totals.shape[0]
    n_glob = glob_level.shape[0]
    latency = np.empty((n_totals, w_end.shape[0]), np.int64)
    counts = np.zeros(n_totals, np.int64)
    own_at = np.empty(n_totals, np.int64)
    glob_at = np.empty(n_totals, np.int64)
    for s in range(w_offsets.shape[0] - 1):
        hi = step_offsets[s + 1]
        own_at[:] = step_offsets[s]
        glob_at[:] = 0
        for j in range(w_offsets[s], w_offsets[s + 1]):
            e = w_end[j]
            # Resume from the later of this sum's answer for the scope's previous
            # window and the next smaller sum's answer for this window.
            p = own_at[0]
            q = glob_at[0]
            for k in range(n_totals):
                level = sat_add(e, totals[k])
                p = first_reaching(step_level, max(p, own_at[k]), hi, level)
                own_at[k] = p
                if n_glob:
                    q = first_reaching(glob_level, max(q, glob_at[k]), n_glob, level)
                    glob_at[k] = q
            for k in range(n_totals):
                if not kept_slack(w_min_slack[j], totals[k]):
                    continue  # no row kept: the window does not exist
                row, clock = _earlier(
                    own_at[k], hi, step_row, step_clock,
                    glob_at[k], n_glob, glob_row, glob_clock, none,
                )  # fmt: skip
                if row == none:
                    break  # never closes, nor under any larger sum
                latency[k, counts[k]] = clock - e
                counts[k] += 1
    return latency, counts


@njit(cache=True, nogil=True)
def _closing_table(levels, lo, hi, first, slots, remainders, size):  # pragma: no cover
    """The first step in ``levels[lo:hi]`` that reaches ``first + m * size + r``, for
    every ``m < slots`` and remainder ``r`` (index ``m * len(remainders) + r``)."""
    n_rem = remainders.shape[0]
    table = np.empty(slots * n_rem, np.int64)
    p = lo
    for m in range(slots):
        for r in range(n_rem):
            p = first_reaching(levels, p, hi, sat_add(first + m * size, remainders[r]))
            table[m * n_rem + r] = p
    return table


@njit(cache=True, nogil=True)
def _latencies_by_table(
    w_offsets, w_end, w_min_slack, totals, step_offsets, step_level, step_row, step_clock,
    glob_level, glob_row, glob_clock, none, size,
):  # fmt: skip  # pragma: no cover - compiled
    """What :func:`_latencies_by_search` returns, for sums ``>= 0`` and window ends on
    one grid of ``size`` (so they are, SPEC section 3).

    ``end + sum`` then takes few values: ``first end + m * size + r`` with
    ``r`` one of the sums' remainders modulo ``size``.
    """
    n_totals = totals.shape[0]
    n_glob = glob_level.shape[0]
    whole = totals // size
    remainder = totals - whole * size
    remainders = np.unique(remainder)
    n_rem = remainders.shape[0]
    lookup = whole * n_rem + np.searchsorted(remainders, remainder)  # from a window's slot
    latency = np.empty((n_totals, w_end.shape[0]), np.int64)
    counts = np.zeros(n_totals, np.int64)
    glob_first = w_end.min() if w_end.shape[0] else 0
    glob_table = np.empty(0, np.int64)
    if n_glob and w_end.shape[0]:
        slots = (w_end.max() - glob_first) // size + whole[n_totals - 1] + 1
        glob_table = _closing_table(glob_level, 0, n_glob, glob_first, slots, remainders, size)
    for s in range(w_offsets.shape[0] - 1):
        if w_offsets[s] == w_offsets[s + 1]:
            continue
        first = w_end[w_offsets[s]]
        slots = (w_end[w_offsets[s + 1] - 1] - first) // size + whole[n_totals - 1] + 1
        hi = step_offsets[s + 1]
        own_table = _closing_table(step_level, step_offsets[s], hi, first, slots, remainders, size)
        for j in range(w_offsets[s], w_offsets[s + 1]):
            e = w_end[j]
            slot = (e - first) // size * n_rem
            glob_slot = (e - glob_first) // size * n_rem
            for k in range(n_totals):
                if not kept_slack(w_min_slack[j], totals[k]):
                    continue  # no row kept: the window does not exist
                q = glob_table[glob_slot + lookup[k]] if n_glob else n_glob
                row, clock = _earlier(
                    own_table[slot + lookup[k]], hi, step_row, step_clock,
                    q, n_glob, glob_row, glob_clock, none,
                )  # fmt: skip
                if row == none:
                    break  # never closes, nor under any larger sum
                latency[k, counts[k]] = clock - e
                counts[k] += 1
    return latency, counts


def _table_fits(
    w_offsets: np.ndarray, w_end: np.ndarray, totals: np.ndarray, size: int, idle: bool
) -> bool:
    """Whether :func:`_latencies_by_table` applies and its tables stay small."""
    if len(w_end) == 0 or len(totals) == 0 or totals[0] < 0:
        return False
    starts, stops = w_offsets[:-1], w_offsets[1:]
    used = starts < stops
    first = w_end[starts[used]].astype(object)  # Python integers: no wrapping around
    last = w_end[stops[used] - 1].astype(object)
    largest = int(totals[-1])
    if max(last) + largest + size > INT64_MAX:
        return False
    remainders = len({int(t) % size for t in totals})
    slots = int(sum((last - first) // size + largest // size + 1))
    if idle:
        slots += (int(w_end.max()) - int(w_end.min())) // size + largest // size + 1
    return slots * remainders <= max(CLOSING_TABLE_PER_WINDOW * len(w_end), MIN_CLOSING_TABLE)


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
    wanted = np.array(quantiles, np.float64)
    idle = len(glob_steps[0]) > 0
    if _table_fits(w_offsets, w_end, total_array, size, idle):
        find = _latencies_by_table
        extra: tuple[int, ...] = (none, size)
    else:
        find = _latencies_by_search
        extra = (none,)
    values, closed = [], []
    per_turn = max(1, LATENCY_ENTRIES // max(len(w_end), 1))
    for begin in range(0, len(total_array), per_turn):
        part = total_array[begin : begin + per_turn]
        latency, counts = find(w_offsets, w_end, w_min_slack, part, *steps, *glob_steps, *extra)
        values.append(latency_quantiles(latency, counts, wanted))
        closed.append(counts)
    return np.concatenate(values), np.concatenate(closed)


def load_compiled() -> None:
    """Load both ways of finding closing steps (compiled code is loaded on its first
    call, some ms each): a tuner calls this when it is built, so that the first
    visit that takes the other way does not pay for it."""
    one = np.zeros(1, np.int64)
    offsets = np.array([0, 1], np.int64)
    steps = (offsets, one, one, one)
    glob_steps = (one, one, one)
    _latencies_by_search(offsets, one, one, one, *steps, *glob_steps, 1)
    _latencies_by_table(offsets, one, one, one, *steps, *glob_steps, 1, 1)
    latency_quantiles(np.zeros((1, 1), np.int64), np.ones(1, np.int64), np.array([0.5]))
