"""The tuner's lag x lateness grid for one window size and scope, from compiled passes.

:func:`mdwindow.sweep.sweep` answers the same question for any input, but
the tuner asks it on every first visit of a window size or scope, where a
few hundred milliseconds matter. This module reads the same grid off one
pass over the rows in arrival order, with what the tuner keeps anyway (the
key codes and event times of :class:`~mdwindow._tuner_rows.TickColumns`):

- the pass keeps the running maximum event time of every watermark scope
  (a grouped cumulative maximum over the valid rows; invalid rows never
  move it, SPEC section 4), and gives each valid row its *slack* ``M - E``:
  the scope maximum just before it minus its window end. Under
  ``(lag, L)`` the row is on time when ``slack < lag``, late when
  ``lag <= slack < lag + L`` and dropped otherwise (SPEC section 5 with
  ``W = M - lag``). The status of a row is monotone in each threshold, so
  counting the slacks between consecutive thresholds of the grid gives the
  counts of every grid point at once;
- a window (a ``(key, start)`` pair of valid rows) exists under ``lag + L``
  when its smallest slack is below it, and lost a row when its largest
  slack reaches it;
- it closes at the first row at which its scope maximum reaches
  ``E + lag + L``: a search in the steps of that scope's maximum, which
  moves forward as ``lag + L`` grows.

The same pass gives every row's window end and scope maxima before and
after it, so the rows of the picked symbol's scope (what the watermark plot
judges) are a slice of it. ``tests/test_widgets.py`` checks the grid
against ``sweep`` and ``tumbling_windows``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from mdwindow._tuner_rows import ScopeRows, TickColumns
from mdwindow.core.kernels import upper_bound
from mdwindow.core.rules import INT64_MAX, NEG_INF
from mdwindow.sweep import LATENCY_QUANTILES, SWEEP_COLUMNS

#: Windows are gathered in a dense table (a slot per key and window between its
#: first and last) when it has at most this many slots per valid row (or at most
#: MIN_DENSE_SLOTS); else by sorting the rows.
DENSE_SLOTS_PER_ROW = 4
MIN_DENSE_SLOTS = 1024
#: Closing steps are looked up in a table (a slot per scope, window size between
#: its first window end and its last plus the largest total, and remainder of a
#: total modulo the size) when it has at most this many entries per window (or at
#: most MIN_CLOSING_TABLE); else searched for each window and total.
CLOSING_TABLE_PER_WINDOW = 16
MIN_CLOSING_TABLE = 1 << 16


@njit(cache=True, nogil=True)
def _sat_add(a, b):  # pragma: no cover - compiled
    if a > INT64_MAX - b:
        return INT64_MAX
    return a + b


@njit(cache=True, nogil=True)
def _slack(before, end):  # pragma: no cover - compiled
    """``before - end`` without wrapping around; NEG_INF (no row yet) stays NEG_INF."""
    if before == NEG_INF:
        return NEG_INF
    if end < 0 and before > INT64_MAX + end:
        return INT64_MAX
    if end > 0 and before < NEG_INF + 1 + end:
        return NEG_INF + 1
    return before - end


@njit(cache=True, nogil=True)
def _scan_rows(t, bad_time, codes, scope, n_scopes, n_keys, size, offset, thresholds):
    """One pass in arrival order: each row's window and scope maxima, the slack
    histogram over ``thresholds``, each key's window range, the maxima's steps."""
    n = t.shape[0]
    n_thresholds = thresholds.shape[0]
    valid = np.zeros(n, np.bool_)
    end = np.full(n, INT64_MAX, np.int64)
    max_before = np.empty(n, np.int64)
    max_after = np.empty(n, np.int64)
    is_step = np.zeros(n, np.bool_)
    scope_max = np.full(max(n_scopes, 1), NEG_INF, np.int64)
    step_offsets = np.zeros(n_scopes + 1, np.int64)
    key_first = np.full(max(n_keys, 1), INT64_MAX, np.int64)
    key_last = np.full(max(n_keys, 1), NEG_INF, np.int64)
    histogram = np.zeros(thresholds.shape[0] + 1, np.int64)
    last_end = np.full(max(n_keys, 1), NEG_INF, np.int64)  # window of each key's last row
    for i in range(n):
        ti = t[i]
        s = scope[i]
        c = codes[i]
        m = scope_max[s] if s >= 0 else NEG_INF
        max_before[i] = m
        # Valid as the engine's row_window decides it (SPEC sections 3 and 5).
        if not bad_time[i] and ti != NEG_INF and c >= 0:
            e = last_end[c]
            if e == NEG_INF or ti >= e or ti < e - size:
                # Not in the window of the key's last valid row: divide.
                r = ((ti % size) - offset) % size
                if ti < NEG_INF + 1 + r or ti - r > INT64_MAX - size:
                    e = NEG_INF
                else:
                    e = ti - r + size
                    last_end[c] = e
            if e != NEG_INF:
                valid[i] = True
                end[i] = e
                sl = _slack(m, e)
                # Most rows are on time under every lag: below the smallest threshold.
                below = sl < thresholds[0]
                histogram[0 if below else upper_bound(thresholds, 0, n_thresholds, sl)] += 1
                if e < key_first[c]:
                    key_first[c] = e
                if e > key_last[c]:
                    key_last[c] = e
                if ti > m:
                    m = ti
                    scope_max[s] = ti
                    is_step[i] = True
                    step_offsets[s + 1] += 1
        max_after[i] = m
    for s in range(n_scopes):
        step_offsets[s + 1] += step_offsets[s]
    step_row = np.empty(step_offsets[n_scopes], np.int64)
    step_level = np.empty(step_offsets[n_scopes], np.int64)
    step_global = np.empty(step_offsets[n_scopes], np.int64)  # the global maximum then
    fill = step_offsets[:n_scopes].copy()
    gm = NEG_INF
    for i in range(n):
        if valid[i] and t[i] > gm:
            gm = t[i]
        if is_step[i]:
            s = scope[i]
            step_row[fill[s]] = i
            step_level[fill[s]] = t[i]
            step_global[fill[s]] = gm
            fill[s] += 1
    return (
        valid, end, max_before, max_after, histogram,
        key_first, key_last, step_offsets, step_row, step_level, step_global,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def _slacks(max_before, end, rows):  # pragma: no cover - compiled
    out = np.empty(rows.shape[0], np.int64)
    for j in range(rows.shape[0]):
        out[j] = _slack(max_before[rows[j]], end[rows[j]])
    return out


@njit(cache=True, nogil=True)
def _dense_windows(
    valid, codes, end, max_before, key_first, slot_offsets, size
):  # pragma: no cover
    """Smallest and largest slack per (key, window) slot; slots ordered by key, then end."""
    n_slots = slot_offsets[-1]
    w_min = np.full(n_slots, INT64_MAX, np.int64)
    w_max = np.full(n_slots, NEG_INF, np.int64)
    present = np.zeros(n_slots, np.bool_)
    for i in range(valid.shape[0]):
        if valid[i]:
            c = codes[i]
            slot = slot_offsets[c] + (end[i] - key_first[c]) // size
            present[slot] = True
            sl = _slack(max_before[i], end[i])
            if sl < w_min[slot]:
                w_min[slot] = sl
            if sl > w_max[slot]:
                w_max[slot] = sl
    return present, w_min, w_max


@njit(cache=True, nogil=True)
def _first_at_or_above(levels, p, hi, threshold):  # pragma: no cover - compiled
    """The first index ``>= p`` (below ``hi``) of the ascending ``levels`` that reaches
    ``threshold`` (``hi`` if none): galloping on from ``p``, so near ones are cheap."""
    if p >= hi or levels[p] >= threshold:
        return p
    step = 1
    lo = p
    while p + step < hi and levels[p + step] < threshold:
        lo = p + step
        step *= 2
    top = min(p + step, hi)
    lo += 1
    while lo < top:
        mid = (lo + top) >> 1
        if levels[mid] < threshold:
            lo = mid + 1
        else:
            top = mid
    return lo


#: Buckets of one radix pass when selecting order statistics (see ``_order_statistics``).
_RADIX_BITS = 11


@njit(cache=True, nogil=True)
def _bucket_shift(lo, hi):  # pragma: no cover - compiled
    """The right shift that puts ``v - lo`` for ``lo <= v <= hi`` in ``2**_RADIX_BITS`` buckets."""
    span = np.uint64(hi) - np.uint64(lo)  # wraps around to the true difference
    bits = 0
    while bits < 64 and (span >> np.uint64(bits)) > np.uint64(0):
        bits += 1
    return max(bits - _RADIX_BITS, 0)


@njit(cache=True, nogil=True, inline="always")
def _value_range(values, m):  # pragma: no cover - compiled
    """``(smallest, largest)`` of ``values[:m]`` (``m >= 1``)."""
    lo = values[0]
    hi = values[0]
    for i in range(1, m):
        v = values[i]
        if v < lo:
            lo = v
        elif v > hi:
            hi = v
    return lo, hi


@njit(cache=True, nogil=True, inline="always")
def _bucket_counts(values, m, base, shift):  # pragma: no cover - compiled
    """How many of ``values[:m]`` fall in each radix bucket ``(v - base) >> shift``."""
    counts = np.zeros((1 << _RADIX_BITS) + 1, np.int64)
    for i in range(m):
        counts[(np.uint64(values[i]) - base) >> shift] += 1
    return counts


@njit(cache=True, nogil=True)
def _kth_smallest(values, m, rank):  # pragma: no cover - compiled
    """The ``rank``-th smallest (from 0) of ``values[:m]``, which it reorders.

    Radix selection: each pass keeps the bucket (of ``2**_RADIX_BITS`` over
    the values' range) that holds the rank, so the range shrinks by that
    factor per pass; a few values left are sorted.
    """
    while m > 32:
        lo, hi = _value_range(values, m)
        if lo == hi:
            return lo
        shift = np.uint64(_bucket_shift(lo, hi))
        base = np.uint64(lo)
        counts = _bucket_counts(values, m, base, shift)
        bucket = 0
        while rank >= counts[bucket]:
            rank -= counts[bucket]
            bucket += 1
        kept = 0
        for i in range(m):
            v = values[i]
            if (np.uint64(v) - base) >> shift == bucket:
                values[kept] = v
                kept += 1
        m = kept
    sorted_values = np.sort(values[:m])
    return sorted_values[rank]


@njit(cache=True, nogil=True)
def _order_statistics(values, n, ranks, out, scratch):  # pragma: no cover - compiled
    """``out[i]`` = the ``ranks[i]``-th smallest of ``values[:n]`` (left as they are).

    One radix pass over all values finds the bucket of every rank; each
    rank is then selected among its bucket's values alone.
    """
    lo, hi = _value_range(values, n)
    shift = np.uint64(_bucket_shift(lo, hi))
    base = np.uint64(lo)
    n_buckets = (1 << _RADIX_BITS) + 1
    counts = _bucket_counts(values, n, base, shift)
    first = np.zeros(n_buckets + 1, np.int64)  # rank of each bucket's smallest value
    for b in range(n_buckets):
        first[b + 1] = first[b] + counts[b]
    wanted = np.zeros(n_buckets, np.bool_)
    bucket_of = np.empty(ranks.shape[0], np.int64)
    for r in range(ranks.shape[0]):
        b = np.searchsorted(first, ranks[r], side="right") - 1
        bucket_of[r] = b
        wanted[b] = True
    # The wanted buckets' values, each bucket in its own run of ``scratch``.
    fill = np.zeros(n_buckets, np.int64)
    used = 0
    for b in range(n_buckets):
        if wanted[b]:
            fill[b] = used
            used += counts[b]
    run_start = fill.copy()
    for i in range(n):
        v = values[i]
        b = (np.uint64(v) - base) >> shift
        if wanted[b]:
            scratch[fill[b]] = v
            fill[b] += 1
    for r in range(ranks.shape[0]):
        b = bucket_of[r]
        run = scratch[run_start[b] : run_start[b] + counts[b]].copy()
        out[r] = _kth_smallest(run, counts[b], ranks[r] - first[b])


@njit(cache=True, nogil=True)
def _quantiles_of(values, n, quantiles, out, scratch):  # pragma: no cover - compiled
    """``np.quantile(values[:n], quantiles)`` (method "linear"), with its arithmetic.

    numpy takes the virtual index ``(n - 1) * q``, the order statistics
    around it (the largest when it reaches ``n - 1``) and interpolates with
    ``_lerp``: ``a + (b - a) * g``, or ``b - (b - a) * (1 - g)`` when
    ``g >= 0.5``, in float64 from int64 ``b - a``.
    """
    n_q = quantiles.shape[0]
    below = np.empty(n_q, np.int64)
    above = np.empty(n_q, np.int64)
    gamma = np.empty(n_q, np.float64)
    for i in range(n_q):
        virtual = (n - 1) * quantiles[i]
        previous = np.floor(virtual)
        gamma[i] = virtual - previous
        if virtual >= n - 1:
            below[i] = above[i] = n - 1
        else:
            below[i] = np.int64(previous)
            above[i] = below[i] + 1
    ranks = np.empty(2 * n_q, np.int64)
    ranks[:n_q] = below
    ranks[n_q:] = above
    stats = np.empty(2 * n_q, np.int64)
    _order_statistics(values, n, ranks, stats, scratch)
    for i in range(n_q):
        a = stats[i]
        b = stats[n_q + i]
        diff = b - a
        g = gamma[i]
        if g >= 0.5:
            out[i] = b - diff * (1 - g)
        else:
            out[i] = a + diff * g


@njit(cache=True, nogil=True)
def _window_latencies(
    w_offsets, w_end, w_min_slack, totals, step_offsets, step_level, step_clock
):  # pragma: no cover - compiled
    """Latencies (clock at the closing row - window end) of the windows that exist
    and close under each of the ascending ``totals`` (``lag + lateness``).

    Windows are grouped by scope (``w_offsets``), by end within a scope. The
    closing step of a window under a total is the first step of its scope's
    maximum that reaches ``E + total``; it moves forward with the total and
    with ``E``, so each search gallops on from the later of the two closing
    steps found before it (the same total's for the scope's previous
    window, the next smaller total's for this window). Row ``k`` of the
    result holds ``counts[k]`` latencies in its first columns.
    """
    n_totals = totals.shape[0]
    latency = np.empty((n_totals, w_end.shape[0]), np.int64)
    counts = np.zeros(n_totals, np.int64)
    closing = np.empty(n_totals, np.int64)
    for s in range(w_offsets.shape[0] - 1):
        hi = step_offsets[s + 1]
        closing[:] = step_offsets[s]
        for j in range(w_offsets[s], w_offsets[s + 1]):
            e = w_end[j]
            p = closing[0]
            for k in range(n_totals):
                if closing[k] > p:
                    p = closing[k]
                p = _first_at_or_above(step_level, p, hi, _sat_add(e, totals[k]))
                closing[k] = p
            for k in range(n_totals):
                if w_min_slack[j] >= totals[k]:
                    continue  # no row accepted: the window does not exist
                p = closing[k]
                if p >= hi:
                    break  # never closes, nor under any larger total
                latency[k, counts[k]] = step_clock[p] - e
                counts[k] += 1
    return latency, counts


@njit(cache=True, nogil=True)
def _window_latencies_by_table(
    w_offsets, w_end, w_min_slack, totals, step_offsets, step_level, step_clock, size
):  # pragma: no cover - compiled
    """What :func:`_window_latencies` returns, for totals ``>= 0`` and window ends
    that are whole window sizes apart (so they are, SPEC section 3).

    ``E + total`` then takes few values: ``first end + m * size + r`` with
    ``r`` one of the totals' remainders modulo ``size``. The closing step of
    each is found once, in one forward walk over the scope's steps, and
    every (window, total) looks its closing step up instead of searching.
    """
    n_totals = totals.shape[0]
    whole = totals // size
    remainder = totals - whole * size
    remainders = np.unique(remainder)
    n_rem = remainders.shape[0]
    remainder_at = np.searchsorted(remainders, remainder)
    lookup = whole * n_rem + remainder_at  # of each total, from a window's slot
    latency = np.empty((n_totals, w_end.shape[0]), np.int64)
    counts = np.zeros(n_totals, np.int64)
    for s in range(w_offsets.shape[0] - 1):
        if w_offsets[s] == w_offsets[s + 1]:
            continue
        first = w_end[w_offsets[s]]
        slots = (w_end[w_offsets[s + 1] - 1] - first) // size + whole[n_totals - 1] + 1
        closing = np.empty(slots * n_rem, np.int64)
        p = step_offsets[s]
        hi = step_offsets[s + 1]
        for m in range(slots):
            for r in range(n_rem):
                p = _first_at_or_above(step_level, p, hi, first + m * size + remainders[r])
                closing[m * n_rem + r] = p
        for j in range(w_offsets[s], w_offsets[s + 1]):
            e = w_end[j]
            slot = (e - first) // size * n_rem
            for k in range(n_totals):
                if w_min_slack[j] >= totals[k]:
                    continue  # no row accepted: the window does not exist
                p = closing[slot + lookup[k]]
                if p >= hi:
                    break  # never closes, nor under any larger total
                latency[k, counts[k]] = step_clock[p] - e
                counts[k] += 1
    return latency, counts


def load_compiled() -> None:
    """Load both ways of finding closing steps (compiled code is loaded on its first
    call, some ms each): a tuner calls this when it is built, so that the first
    visit that takes the other way does not pay for it."""
    one = np.zeros(1, np.int64)
    offsets = np.array([0, 1], np.int64)
    _window_latencies(offsets, one, one, one, offsets, one, one)
    _window_latencies_by_table(offsets, one, one, one, offsets, one, one, 1)


def _closing_table_fits(
    w_offsets: np.ndarray, w_end: np.ndarray, totals: np.ndarray, size: int
) -> bool:
    """Whether :func:`_window_latencies_by_table` applies and its tables stay small."""
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
    entries = int(sum((last - first) // size + largest // size + 1)) * remainders
    return entries <= max(CLOSING_TABLE_PER_WINDOW * len(w_end), MIN_CLOSING_TABLE)


@njit(cache=True, nogil=True)
def _latency_quantiles(latency, counts, quantiles):  # pragma: no cover - compiled
    """The ``quantiles`` of each row's first ``counts[k]`` latencies (NaN: none)."""
    values = np.full((counts.shape[0], quantiles.shape[0]), np.nan)
    scratch = np.empty(latency.shape[1], np.int64)
    for k in range(counts.shape[0]):
        if counts[k]:
            _quantiles_of(latency[k], counts[k], quantiles, values[k], scratch)
    return values


def _sat_sum(a: int, b: int) -> int:
    return INT64_MAX if b > INT64_MAX - a else a + b


def _below(histogram: np.ndarray) -> np.ndarray:
    """From counts between consecutive thresholds, the count ``< threshold[k]`` per k."""
    return np.cumsum(histogram)[:-1]


@dataclass
class ScopeScan:
    """Every row under one window size and scope, and the grid of lags x latenesses."""

    valid: np.ndarray
    end: np.ndarray  # window end of each valid row (INT64_MAX otherwise)
    max_before: np.ndarray  # its scope's largest valid event time before the row
    max_after: np.ndarray  # ... after it
    size: int = 0  # the window size, ns
    grid: pd.DataFrame | None = None  # as mdwindow.sweep.sweep returns it
    #: Reads the grid off the scan (holds what it needs; None once it is not needed).
    finish: Callable[[], pd.DataFrame] | None = field(default=None, repr=False)

    def rows(self, columns: TickColumns, positions: np.ndarray | None) -> ScopeRows:
        """The :class:`ScopeRows` of the rows at ``positions`` (None: all), which must
        share one watermark: then their maxima are that watermark's."""
        if positions is None:
            return ScopeRows(
                columns.t,
                columns.codes,
                self.valid,
                self.end,
                self.max_before,
                self.max_after,
                self.size,
            )
        return ScopeRows(
            columns.t[positions],
            columns.codes[positions],
            self.valid[positions],
            self.end[positions],
            self.max_before[positions],
            self.max_after[positions],
            self.size,
        )


def scope_of_rows(columns: TickColumns, scope: str, partition_of_key: pd.Series) -> np.ndarray:
    """The watermark scope of each row (-1: none, for a missing key under a per-key scope)."""
    if scope == "global":
        return np.zeros(len(columns.codes), np.int64)
    if scope == "key":
        return columns.codes
    of_code = partition_of_code(partition_of_key, columns.keys)
    if len(of_code) == 0:
        return np.full(len(columns.codes), -1, np.int64)
    return np.where(columns.codes >= 0, of_code[np.maximum(columns.codes, 0)], -1)


def scan_scope(columns: TickColumns, **options: Any) -> ScopeScan:
    """The rows and the grid of one window size and scope (durations in ns, lags outer).

    Takes the keywords of :func:`scan_rows`. The grid equals ``sweep(ticks,
    spec, lags=..., lateness=..., scope=..., partitions=...)`` on the frame
    ``columns`` was read from.
    """
    scan = scan_rows(columns, **options)
    scan.grid = scan.finish()
    return scan


def scan_rows(
    columns: TickColumns,
    *,
    size: int,
    offset: int,
    scope: str,
    partitions: int,
    partition_of_key: pd.Series,
    lags: list[int],
    lateness: list[int],
    emit_partial: bool = False,
) -> ScopeScan:
    """The pass over the rows; its ``finish()`` reads the grid off it.

    The rows are all the plots need; ``finish()`` (windows, their closing
    rows and latencies) is only needed when the grid of this window size
    and scope is not known yet.
    """
    n_keys = len(columns.keys)
    n_scopes = {"global": 1, "key": n_keys}.get(scope, partitions)
    scope_codes = np.ascontiguousarray(scope_of_rows(columns, scope, partition_of_key), np.int64)
    totals = sorted({_sat_sum(lag, allowed) for lag in lags for allowed in lateness})
    thresholds = np.array(sorted({*lags, *totals}), np.int64)
    (
        valid, end, max_before, max_after, histogram,
        key_first, key_last, step_offsets, step_row, step_level, step_global,
    ) = _scan_rows(
        columns.t, columns.bad_time, columns.codes, scope_codes, n_scopes, n_keys,
        size, offset, thresholds,
    )  # fmt: skip

    def finish() -> pd.DataFrame:
        return _grid(
            columns, scope, size, partition_of_key, lags, lateness, emit_partial, n_scopes,
            thresholds, totals, valid, end, max_before, histogram, key_first, key_last,
            step_offsets, step_row, step_level, step_global,
        )  # fmt: skip

    return ScopeScan(valid, end, max_before, max_after, size, finish=finish)


def _grid(
    columns: TickColumns,
    scope: str,
    size: int,
    partition_of_key: pd.Series,
    lags: list[int],
    lateness: list[int],
    emit_partial: bool,
    n_scopes: int,
    thresholds: np.ndarray,
    totals: list[int],
    valid: np.ndarray,
    end: np.ndarray,
    max_before: np.ndarray,
    histogram: np.ndarray,
    key_first: np.ndarray,
    key_last: np.ndarray,
    step_offsets: np.ndarray,
    step_row: np.ndarray,
    step_level: np.ndarray,
    step_global: np.ndarray,
) -> pd.DataFrame:
    """The sweep frame from what :func:`scan_rows` found."""
    n = len(columns.t)
    n_keys = len(columns.keys)
    below = dict(zip(thresholds.tolist(), _below(histogram).tolist(), strict=True))
    n_valid = int(histogram.sum())

    w_key, w_end, w_min, w_max = _windows(valid, end, max_before, columns.codes, key_first,
                                          key_last, size, n_keys, n_valid)  # fmt: skip
    # Windows grouped by scope, by end within a scope (for one key they are already).
    if scope == "key":
        by_scope = w_key
        s_end, s_min = w_end, w_min
    else:
        by_scope = np.zeros(len(w_key), np.int64)
        if scope == "partition":
            by_scope = partition_of_code(partition_of_key, columns.keys)[w_key]
        order = np.lexsort((w_end, by_scope))
        by_scope, s_end, s_min = by_scope[order], w_end[order], w_min[order]
    w_offsets = np.searchsorted(by_scope, np.arange(n_scopes + 1)).astype(np.int64)
    step_clock = step_global if columns.arrival is None else columns.arrival[step_row]
    total_array = np.array(totals, np.int64)
    wanted = np.array(LATENCY_QUANTILES, np.float64)
    if _closing_table_fits(w_offsets, s_end, total_array, size):
        latency, closed = _window_latencies_by_table(
            w_offsets, s_end, s_min, total_array, step_offsets, step_level, step_clock, size
        )
    else:
        latency, closed = _window_latencies(
            w_offsets, s_end, s_min, total_array, step_offsets, step_level, step_clock
        )
    quantiles = _latency_quantiles(latency, closed, wanted)
    w_bounds = np.array(totals, np.int64)
    exists = np.searchsorted(np.sort(w_min), w_bounds, side="left")
    complete = np.searchsorted(np.sort(w_max), w_bounds, side="left")
    return _grid_frame(
        columns, scope, size, lags, lateness, emit_partial, totals, n, n_valid,
        below, len(w_end), quantiles, closed, exists, complete,
    )  # fmt: skip


def _grid_frame(
    columns: TickColumns,
    scope: str,
    size: int,
    lags: list[int],
    lateness: list[int],
    emit_partial: bool,
    totals: list[int],
    n: int,
    n_valid: int,
    below: dict[int, int],
    n_windows: int,
    quantiles: np.ndarray,
    closed: np.ndarray,
    exists: np.ndarray,
    complete: np.ndarray,
) -> pd.DataFrame:
    """The sweep frame: latency quantiles per total, counts per grid point."""
    by_total = {}
    for k, total in enumerate(totals):
        if closed[k]:
            median, p99 = (int(round(float(v))) for v in quantiles[k])
        else:
            median = p99 = NEG_INF
        n_closed, n_exists = int(closed[k]), int(exists[k])
        by_total[total] = (
            n_exists if emit_partial else n_closed,
            0 if emit_partial else n_exists - n_closed,
            n_windows - int(complete[k]),
            median,
            p99,
        )

    records = []
    for lag in lags:
        not_on_time = n_valid - below[lag]
        for allowed in lateness:
            total = _sat_sum(lag, allowed)
            dropped = n_valid - below[total]
            late = not_on_time - dropped
            windows, pending, incomplete, median, p99 = by_total[total]
            records.append(
                (
                    lag, allowed, n, n_valid - late - dropped, late, dropped, n - n_valid,
                    dropped / n_valid if n_valid else float("nan"),
                    windows, pending, incomplete,
                    1.0 - incomplete / n_windows if n_windows else float("nan"),
                    median, p99,
                )
            )  # fmt: skip
    grid = pd.DataFrame.from_records(records, columns=list(SWEEP_COLUMNS))
    for column in ("lag", "lateness", "latency_median", "latency_p99"):
        grid[column] = grid[column].to_numpy(np.int64).view("timedelta64[ns]")
    for column in SWEEP_COLUMNS[2:7] + ("windows", "pending", "incomplete_windows"):
        grid[column] = grid[column].astype(np.int64)
    grid["drop_rate"] = grid["drop_rate"].astype(np.float64)
    grid["completeness"] = grid["completeness"].astype(np.float64)
    grid.attrs.update(
        {
            "latency_clock": "arrival_time" if columns.arrival is not None else "event_time",
            "perfect_windows": n_windows,
            "scope": scope,
            "window": pd.Timedelta(size),
        }
    )
    return grid


def partition_of_code(partition_of_key: pd.Series, keys: pd.Index) -> np.ndarray:
    """The hash partition of each key code."""
    return partition_of_key.reindex(keys).to_numpy(np.int64)


def _windows(
    valid: np.ndarray,
    end: np.ndarray,
    max_before: np.ndarray,
    codes: np.ndarray,
    key_first: np.ndarray,
    key_last: np.ndarray,
    size: int,
    n_keys: int,
    n_valid: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(key, end, smallest slack, largest slack)`` per window, ordered by key, then end."""
    seen = key_last[:n_keys] >= key_first[:n_keys]
    # Window ends of a key are multiples of size apart; the unsigned difference of
    # int64 values cannot wrap around.
    spans = np.zeros(n_keys, np.uint64)
    spans[seen] = (
        key_last[:n_keys][seen].view(np.uint64) - key_first[:n_keys][seen].view(np.uint64)
    ) // np.uint64(size) + np.uint64(1)
    n_slots = int(spans.sum(dtype=np.float64))
    if n_slots <= max(DENSE_SLOTS_PER_ROW * n_valid, MIN_DENSE_SLOTS):
        slot_offsets = np.zeros(n_keys + 1, np.int64)
        np.cumsum(spans.astype(np.int64), out=slot_offsets[1:])
        present, w_min, w_max = _dense_windows(
            valid, codes, end, max_before, key_first, slot_offsets, size
        )
        slots = np.flatnonzero(present)
        w_key = np.searchsorted(slot_offsets, slots, side="right") - 1
        w_end = key_first[w_key] + (slots - slot_offsets[w_key]) * size
        return w_key, w_end, w_min[slots], w_max[slots]
    rows = np.flatnonzero(valid)
    v_key, v_end, v_slack = codes[rows], end[rows], _slacks(max_before, end, rows)
    order = np.lexsort((v_end, v_key))
    v_key, v_end, v_slack = v_key[order], v_end[order], v_slack[order]
    first = np.ones(len(rows), bool)
    first[1:] = (v_key[1:] != v_key[:-1]) | (v_end[1:] != v_end[:-1])
    heads = np.flatnonzero(first)
    if len(heads) == 0:
        empty = np.empty(0, np.int64)
        return empty, empty, empty, empty
    return (
        v_key[heads],
        v_end[heads],
        np.minimum.reduceat(v_slack, heads),
        np.maximum.reduceat(v_slack, heads),
    )
