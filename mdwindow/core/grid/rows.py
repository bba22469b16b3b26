"""The rows that share one watermark, judged for any lag and lateness.

The tuner's watermark plot shows the rows that share the picked symbol's
watermark: the symbol's rows (scope "key"), its hash partition's rows
(scope "partition") or every row (scope "global"). A scan gives each of
them its window end and the maximum its watermark trails, before and after
it; those depend on neither lag nor lateness, so a slider move only judges
each row again (:func:`~mdwindow.core.rules.judge` against the watermark
``maximum - lag``), one compiled pass.

:func:`mdwindow.tumbling_windows` gives the same statuses, watermarks,
``late_by`` and emissions (``tests/test_widgets.py`` checks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from mdwindow.core.grid.columns import TickColumns
from mdwindow.core.grid.scan import RowScan, scan_pass
from mdwindow.core.grid.search import first_reaching_each
from mdwindow.core.grid.windows import dense_key_windows, key_rows
from mdwindow.core.rules import (
    DROPPED,
    NO_IDLE,
    REJECTED,
    STATUS_NAMES,
    judge,
    sat_add_array,
    sat_sub,
)

__all__ = ["Judged", "ScopeRows", "judge_rows", "scope_rows"]


@dataclass
class ScopeRows:
    """Rows sharing one watermark, in arrival order, with what lag and lateness don't change."""

    t: np.ndarray
    codes: np.ndarray
    valid: np.ndarray
    end: np.ndarray  # window end of each valid row
    max_before: np.ndarray  # the maximum the watermark trails, before each row (NEG_INF: none)
    max_after: np.ndarray  # ... after it
    size: int = 0  # window size in ns (0: a key's windows are found by sorting)
    _windows_of: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def of(
        cls, columns: TickColumns, rows: np.ndarray | None, size: int, offset: int
    ) -> ScopeRows:
        """The rows at arrival positions ``rows`` (None: all) scanned on their own, as one
        watermark without an idle timeout."""
        if rows is None:
            rows = np.arange(len(columns))
        t, codes = columns.t[rows], columns.codes[rows]
        valid, end, max_before, max_after, *_ = scan_pass(
            t, columns.bad_time[rows], codes, np.zeros(len(rows), np.int64), 1,
            len(columns.keys), size, offset, NO_IDLE, np.zeros(1, np.int64),
        )  # fmt: skip
        return cls(t, codes, valid, end, max_before, max_after, size)

    def __len__(self) -> int:
        return len(self.t)

    def key_windows(self, code: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rows, window of each row, window ends)`` for the valid rows of one key."""
        if code not in self._windows_of:
            rows, lo, hi = key_rows(self.codes, self.valid, self.end, code)
            # A key's window ends are whole window sizes apart: when they span few
            # sizes, a table indexed by (end - first end) // size replaces sorting.
            size = self.size
            if len(rows) and size > 0 and (hi - lo) // size <= 4 * len(rows) + 1024:
                window, ends = dense_key_windows(self.end, rows, lo, (hi - lo) // size + 1, size)
            else:
                ends, window = np.unique(self.end[rows], return_inverse=True)
            self._windows_of[code] = (rows, window.ravel(), ends)
        return self._windows_of[code]


def scope_rows(scan: RowScan, columns: TickColumns, positions: np.ndarray | None) -> ScopeRows:
    """The :class:`ScopeRows` of the scanned rows at ``positions`` (None: all), which
    must share one watermark: then their maxima are that watermark's."""
    if positions is None:
        return ScopeRows(
            columns.t, columns.codes, scan.valid, scan.end, scan.max_before, scan.max_after,
            scan.size,
        )  # fmt: skip
    return ScopeRows(
        columns.t[positions], columns.codes[positions], scan.valid[positions],
        scan.end[positions], scan.max_before[positions], scan.max_after[positions], scan.size,
    )  # fmt: skip


@dataclass(frozen=True)
class Judged:
    """Each row of a :class:`ScopeRows` under one lag and allowed lateness."""

    status: np.ndarray  # int8 codes of mdwindow.core.rules.STATUS_NAMES
    watermark_before: np.ndarray
    watermark_after: np.ndarray
    late_by: np.ndarray  # for dropped rows: W - (E + L); 0 otherwise
    lateness: int

    def status_counts(self) -> dict[str, int]:
        counts = np.bincount(self.status, minlength=len(STATUS_NAMES))
        return {name: int(n) for name, n in zip(STATUS_NAMES, counts, strict=True)}

    def emissions(self, rows: ScopeRows, code: int) -> tuple[np.ndarray, np.ndarray]:
        """``(emit_row, window_end)`` of the key's windows emitted before the end of input.

        A window exists once it kept a row, and is emitted right after the
        first row that makes ``W >= E + L`` (SPEC section 6, ``emit="final"``).
        The watermark never falls, so that row is a binary search away. With
        an idle timeout, a row of another scope may close a window (by
        raising the global maximum): it is then shown at the next of these
        rows, and not at all when these rows end first.
        """
        mine, window, ends = rows.key_windows(code)
        exists = np.zeros(len(ends), bool)
        exists[window[self.status[mine] != DROPPED]] = True
        ends = ends[exists]
        levels = sat_add_array(ends, self.lateness)
        emit_row = first_reaching_each(self.watermark_after, levels)
        closed = emit_row < len(rows)
        return emit_row[closed], ends[closed]


@njit(cache=True)
def _judge_rows(valid, end, max_before, max_after, size, lag, lateness):  # pragma: no cover
    """SPEC section 5 for rows whose watermark's maximum is already known."""
    n = valid.shape[0]
    status = np.empty(n, np.int8)
    w_before = np.empty(n, np.int64)
    w_after = np.empty(n, np.int64)
    late_by = np.zeros(n, np.int64)
    for i in range(n):
        wb = sat_sub(max_before[i], lag)
        w_before[i] = wb
        w_after[i] = sat_sub(max_after[i], lag)
        if valid[i]:
            status[i], late_by[i] = judge(wb, end[i] - size, size, lateness)
        else:
            status[i] = REJECTED
    return status, w_before, w_after, late_by


def judge_rows(rows: ScopeRows, lag: int, lateness: int) -> Judged:
    """Status, watermarks and lateness of every row under ``lag`` and ``lateness`` (ns)."""
    status, w_before, w_after, late_by = _judge_rows(
        rows.valid, rows.end, rows.max_before, rows.max_after, rows.size, lag, lateness
    )
    return Judged(status, w_before, w_after, late_by, lateness)
