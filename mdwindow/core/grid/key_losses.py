"""What each key loses at one wait ``lag + allowed_lateness``, read off a scan.

Drops depend on the sum of lag and lateness only
(:func:`~mdwindow.core.rules.kept_slack`): at a wait, a valid row is
dropped when the wait does not keep its slack, and a window of the
perfect-watermark result (a distinct ``(key, window)`` of valid rows) is
incomplete when the wait does not keep its largest slack
(:mod:`~mdwindow.core.grid.windows`). Summed over keys these are the
``dropped`` and ``incomplete_windows`` of the grid frame at that wait.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from mdwindow.core.grid.columns import TickColumns
from mdwindow.core.grid.scan import RowScan
from mdwindow.core.grid.windows import scan_windows
from mdwindow.core.rules import kept_slack, slack

__all__ = ["KEY_LOSS_COLUMNS", "key_losses"]

#: Columns of :func:`key_losses`' frame, after the key column.
KEY_LOSS_COLUMNS = (
    "rows",
    "dropped",
    "drop_rate",
    "windows",
    "incomplete_windows",
    "window_loss",
)


@njit(cache=True, nogil=True)
def _row_losses(valid, codes, end, max_before, wait, n_keys):  # pragma: no cover - compiled
    """Valid rows and dropped rows of each key code at ``wait``."""
    rows = np.zeros(n_keys, np.int64)
    dropped = np.zeros(n_keys, np.int64)
    for i in range(valid.shape[0]):
        if valid[i]:
            c = codes[i]
            rows[c] += 1
            if not kept_slack(slack(max_before[i], end[i]), wait):
                dropped[c] += 1
    return rows, dropped


@njit(cache=True, nogil=True)
def _window_losses(w_key, w_max, wait, n_keys):  # pragma: no cover - compiled
    """Windows and incomplete windows of each key code at ``wait``."""
    windows = np.zeros(n_keys, np.int64)
    incomplete = np.zeros(n_keys, np.int64)
    for j in range(w_key.shape[0]):
        c = w_key[j]
        windows[c] += 1
        if not kept_slack(w_max[j], wait):
            incomplete[c] += 1
    return windows, incomplete


def key_losses(scan: RowScan, columns: TickColumns, wait: int, key: str) -> pd.DataFrame:
    """Per key, its valid rows and windows and what it loses at ``wait`` (ns).

    Parameters
    ----------
    scan : RowScan
        A scan of ``columns`` (:func:`~mdwindow.core.grid.scan.scan_rows`)
        whose grid work is still held: any grid, since the wait is read
        off the slacks.
    columns : TickColumns
        The columns that were scanned.
    wait : int
        ``lag + allowed_lateness``, ns.
    key : str
        The name of the key column, the first column of the result.

    Returns
    -------
    pandas.DataFrame
        One row per key with a valid row, in the order of the keys' codes:
        the key, then :data:`KEY_LOSS_COLUMNS` (``drop_rate`` is ``dropped
        / rows``, ``window_loss`` is ``incomplete_windows / windows``).
    """
    work = scan.work
    if work is None:
        raise ValueError("key_losses: this scan's grid work was let go; scan the rows again")
    n_keys = len(columns.keys)
    rows, dropped = _row_losses(
        scan.valid, columns.codes, scan.end, scan.max_before, int(wait), max(n_keys, 1)
    )
    w_key, _, _, w_max = scan_windows(
        scan.valid, scan.end, scan.max_before, columns.codes,
        work.key_first[:n_keys], work.key_last[:n_keys], scan.size, int(rows.sum()),
    )  # fmt: skip
    windows, incomplete = _window_losses(
        np.ascontiguousarray(w_key, np.int64), np.ascontiguousarray(w_max, np.int64),
        int(wait), max(n_keys, 1),
    )  # fmt: skip
    seen = np.flatnonzero(rows[:n_keys] > 0)
    frame = pd.DataFrame(
        {
            key: columns.keys[seen],
            "rows": rows[seen],
            "dropped": dropped[seen],
            "drop_rate": dropped[seen] / rows[seen],
            "windows": windows[seen],
            "incomplete_windows": incomplete[seen],
            "window_loss": incomplete[seen] / np.maximum(windows[seen], 1),
        }
    )
    return frame
