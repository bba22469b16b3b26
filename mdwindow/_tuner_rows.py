"""What the tuner's plots show, judged for any lag and lateness without rerunning the engine.

The picked symbol's watermark plot depends only on the rows that share its
watermark: the symbol's rows (scope "key"), its hash partition's rows
(scope "partition") or every row (scope "global"). Those rows form one
scope, so their watermark is one running maximum ``M`` of the valid event
times, minus the lag (SPEC section 4). ``M`` and each row's window do not
depend on lag or lateness, so they are computed once per window size and
scope; a slider move then only compares each row's watermark with its
window end (SPEC section 5), a few vectorized passes.

:func:`mdwindow.tumbling_windows` on the same rows gives the same statuses,
watermarks, ``late_by`` and emissions (``tests/test_widgets.py`` checks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit

from mdwindow.core.prepare import arrival_order, column_values
from mdwindow.core.rules import INT64_MAX, NEG_INF, sat_sub
from mdwindow.core.times import event_times

ON_TIME, LATE, DROPPED, REJECTED = 0, 1, 2, 3
#: Status names, indexed by the codes above.
STATUS_NAMES = ("on_time", "late", "dropped", "rejected")


def _sat_add(values: np.ndarray, amount: int) -> np.ndarray:
    """``values + amount`` for ``amount >= 0``, saturating at the int64 maximum."""
    out = values + amount
    out[values > INT64_MAX - amount] = INT64_MAX
    return out


@dataclass(frozen=True)
class TickColumns:
    """The event times and keys of a frame in arrival order: what every scope is cut from."""

    t: np.ndarray  # event time, int64 ns; NEG_INF when missing or out of range
    bad_time: np.ndarray  # the time is out of the int64 nanosecond range
    codes: np.ndarray  # key code per row; -1 when the key is missing
    keys: pd.Index  # the key of each code
    arrival: np.ndarray | None = None  # arrival time per row, int64 ns, when one is named

    @classmethod
    def of(
        cls,
        ticks: pd.DataFrame,
        *,
        time: str,
        key: str,
        arrival_time: str | None,
        time_unit: str | None,
    ) -> TickColumns:
        t, bad_time = event_times(ticks, time, time_unit)
        codes, keys = pd.factorize(ticks[key], use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.int64)
        arrival = None
        if arrival_time is not None:
            order, stamps = arrival_order(column_values(ticks, arrival_time), arrival_time)
            t, bad_time, codes = t[order], bad_time[order], codes[order]
            arrival = np.ascontiguousarray(stamps, np.int64)
        return cls(
            np.ascontiguousarray(t, np.int64),
            np.ascontiguousarray(bad_time, bool),
            np.ascontiguousarray(codes),
            pd.Index(keys),
            arrival,
        )

    def code_of(self, key: object) -> int:
        found = self.keys.get_indexer([key])[0]
        if found < 0:
            raise KeyError(f"symbol: {key!r} has no rows")
        return int(found)

    def rows_sharing_watermark(
        self, key: object, scope: str, partition_of_key: pd.Series
    ) -> np.ndarray | None:
        """Arrival positions of the rows whose watermark is ``key``'s (None: every row)."""
        if scope == "global":
            return None
        if scope == "key":
            return np.flatnonzero(self.codes == self.code_of(key))
        partition_of_code = partition_of_key.reindex(self.keys).to_numpy(np.int64)
        mine = partition_of_code == int(partition_of_key[key])
        return np.flatnonzero(mine[self.codes] & (self.codes >= 0))


@dataclass
class ScopeRows:
    """Rows sharing one watermark, in arrival order, with what lag and lateness don't change."""

    t: np.ndarray
    codes: np.ndarray
    valid: np.ndarray
    end: np.ndarray  # window end of each valid row
    max_before: np.ndarray  # largest valid event time before each row (NEG_INF: none yet)
    max_after: np.ndarray  # ... after it
    _size: int = 0  # window size in ns, when known (0: windows found by sorting)
    _windows_of: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def of(
        cls, columns: TickColumns, rows: np.ndarray | None, size: int, offset: int
    ) -> ScopeRows:
        if rows is None:
            t, bad_time, codes = columns.t, columns.bad_time, columns.codes
        else:
            t, bad_time, codes = columns.t[rows], columns.bad_time[rows], columns.codes[rows]
        # Window start as the engine computes it (SPEC section 3), with its range checks.
        shift = ((t % size) - offset) % size
        start = t - shift
        valid = (~bad_time) & (t != NEG_INF) & (codes >= 0) & (t >= NEG_INF + 1 + shift)
        valid &= start <= INT64_MAX - size
        end = np.where(valid, start + size, INT64_MAX)
        max_after = np.maximum.accumulate(np.where(valid, t, NEG_INF)) if len(t) else t.copy()
        max_before = np.empty_like(max_after)
        max_before[:1] = NEG_INF
        max_before[1:] = max_after[:-1]
        return cls(t, codes, valid, end, max_before, max_after, size)

    def __len__(self) -> int:
        return len(self.t)

    def key_windows(self, code: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rows, window of each row, window ends)`` for the valid rows of one key."""
        if code not in self._windows_of:
            rows, lo, hi = _key_rows(self.codes, self.valid, self.end, code)
            # A key's window ends are whole window sizes apart: when they span few
            # sizes, a table indexed by (end - first end) // size replaces sorting.
            size = self._size
            if len(rows) and size > 0 and (hi - lo) // size <= 4 * len(rows) + 1024:
                window, ends = _dense_windows(self.end, rows, lo, (hi - lo) // size + 1, size)
            else:
                ends, window = np.unique(self.end[rows], return_inverse=True)
            self._windows_of[code] = (rows, window.ravel(), ends)
        return self._windows_of[code]


@dataclass(frozen=True)
class Judged:
    """Each row of a :class:`ScopeRows` under one lag and allowed lateness."""

    status: np.ndarray  # int8 codes, STATUS_NAMES
    watermark_before: np.ndarray
    watermark_after: np.ndarray
    late_by: np.ndarray  # for dropped rows: W - (E + L); 0 otherwise
    lateness: int

    def status_counts(self) -> dict[str, int]:
        counts = np.bincount(self.status, minlength=len(STATUS_NAMES))
        return {name: int(n) for name, n in zip(STATUS_NAMES, counts, strict=True)}

    def emissions(self, rows: ScopeRows, code: int) -> tuple[np.ndarray, np.ndarray]:
        """``(emit_row, window_end)`` of the key's windows emitted before the end of input.

        A window exists once it accepted a row, and is emitted right after the
        first row that makes ``W >= E + L`` (SPEC section 6, ``emit="final"``).
        The watermark never falls, so that row is a binary search away.
        """
        key_rows, window, ends = rows.key_windows(code)
        exists = np.zeros(len(ends), bool)
        exists[window[self.status[key_rows] != DROPPED]] = True
        ends = ends[exists]
        emit_row = np.searchsorted(self.watermark_after, _sat_add(ends, self.lateness), "left")
        closed = emit_row < len(rows)
        return emit_row[closed], ends[closed]


@njit(cache=True, nogil=True)
def _key_rows(codes, valid, end, code):  # pragma: no cover - compiled
    """The valid rows of one key, and their smallest and largest window end."""
    count = 0
    for i in range(codes.shape[0]):
        if codes[i] == code and valid[i]:
            count += 1
    rows = np.empty(count, np.int64)
    lo = INT64_MAX
    hi = NEG_INF
    j = 0
    for i in range(codes.shape[0]):
        if codes[i] == code and valid[i]:
            rows[j] = i
            j += 1
            e = end[i]
            if e < lo:
                lo = e
            if e > hi:
                hi = e
    return rows, lo, hi


@njit(cache=True, nogil=True)
def _dense_windows(end, rows, first, slots, size):  # pragma: no cover - compiled
    """``(window of each row, ascending distinct ends)`` as ``np.unique`` gives them."""
    present = np.zeros(slots, np.int64)
    for j in range(rows.shape[0]):
        present[(end[rows[j]] - first) // size] = 1
    ends = np.empty(slots, np.int64)
    n = 0
    for slot in range(slots):
        if present[slot]:
            present[slot] = n
            ends[n] = first + slot * size
            n += 1
    window = np.empty(rows.shape[0], np.int64)
    for j in range(rows.shape[0]):
        window[j] = present[(end[rows[j]] - first) // size]
    return window, ends[:n]


@njit(cache=True)
def _judge_rows(valid, end, max_before, max_after, lag, lateness):  # pragma: no cover
    """One pass of SPEC section 5 over rows whose scope maximum is already known."""
    n = valid.shape[0]
    status = np.empty(n, np.int8)
    w_before = np.empty(n, np.int64)
    w_after = np.empty(n, np.int64)
    late_by = np.zeros(n, np.int64)
    for i in range(n):
        wb = sat_sub(max_before[i], lag)
        w_before[i] = wb
        w_after[i] = sat_sub(max_after[i], lag)
        if not valid[i]:
            status[i] = REJECTED
            continue
        e = end[i]
        end_late = INT64_MAX if e > INT64_MAX - lateness else e + lateness
        if wb < e:
            status[i] = ON_TIME
        elif wb < end_late:
            status[i] = LATE
        else:
            status[i] = DROPPED
            if end_late < 0 and wb > INT64_MAX + end_late:
                late_by[i] = INT64_MAX
            else:
                late_by[i] = wb - end_late
    return status, w_before, w_after, late_by


def judge(rows: ScopeRows, lag: int, lateness: int) -> Judged:
    """Status, watermarks and lateness of every row under ``lag`` and ``lateness`` (ns)."""
    status, w_before, w_after, late_by = _judge_rows(
        rows.valid, rows.end, rows.max_before, rows.max_after, lag, lateness
    )
    return Judged(status, w_before, w_after, late_by, lateness)
