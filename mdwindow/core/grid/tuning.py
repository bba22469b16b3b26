"""What the tuner computes for its controls, kept between updates.

A tuner shows, for the window size, scope, lag and lateness on its
controls, the counts of the whole frame (a point of the grid of that size
and scope) and the rows sharing the picked symbol's watermark. Both come
from one scan of all rows per window size and scope
(:func:`~mdwindow.core.grid.scan.scan_rows`); the grid is read off it on the
first visit of a size and scope and kept, the scan is kept for a few, and
a slider move only judges the picked rows again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.grid.columns import TickColumns
from mdwindow.core.grid.frame import read_grid
from mdwindow.core.grid.rows import ScopeRows, scope_rows
from mdwindow.core.grid.scan import RowScan, scan_rows
from mdwindow.core.options import WindowOptions

__all__ = ["CACHED_SCANS", "CACHED_SCOPES", "TunerGrids"]

#: Rows sharing a watermark kept between updates (a global one holds a few arrays per tick).
CACHED_SCOPES = 8
#: Scans of all rows (four arrays per tick) kept for (window size, scope) pairs:
#: one per scope, so that toggling scopes and picking symbols never rescans.
CACHED_SCANS = 3
#: The counts of a grid point that the tuner shows, by their name in the grid frame.
POINT_COLUMNS = {
    "rows": "rows",
    "on_time": "on_time",
    "late": "late_accepted",
    "dropped": "dropped",
    "rejected": "rejected",
    "windows": "windows",
    "pending": "pending",
    "drop_rate": "drop_rate",
    "incomplete_windows": "incomplete_windows",
    "latency_median": "latency_median",
    "latency_p99": "latency_p99",
}


def _remember(cache: dict, key: Any, value: Any, limit: int) -> None:
    """Keep ``value`` as the most recently used of at most ``limit`` entries."""
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > limit:
        del cache[next(iter(cache))]


class TunerGrids:
    """The grids and rows of one frame for the options a tuner's controls describe.

    Parameters
    ----------
    ticks : pandas.DataFrame
        The frame, read (once, when first needed) with the options of ``cfg``.
    cfg : WindowOptions
        The tuner's options; the window size, scope, lag and lateness of
        each call's options may differ, its columns and partitioning not.
    lags, lateness : list of int
        The grid's lags and latenesses, ns.
    """

    def __init__(
        self, ticks: pd.DataFrame, cfg: WindowOptions, lags: list[int], lateness: list[int]
    ) -> None:
        self._ticks = ticks
        self._cfg = cfg
        self._lags = list(lags)
        self._lateness = list(lateness)
        self._columns: TickColumns | None = None
        self._grids: dict[Any, pd.DataFrame] = {}
        self._points: dict[Any, dict[tuple[int, int], int]] = {}
        self._scans: dict[Any, RowScan] = {}
        self._scopes: dict[Any, ScopeRows] = {}

    @property
    def columns(self) -> TickColumns:
        """The frame's columns (read on first use: its errors reach the first caller)."""
        if self._columns is None:
            self._columns = TickColumns.of(self._cfg, self._ticks)
        return self._columns

    @staticmethod
    def _grid_key(cfg: WindowOptions) -> tuple[Any, ...]:
        spec = cfg.spec
        return (spec.size_ns, spec.offset_ns, spec.emit_partial, cfg.scope, cfg.idle_arg)

    def grid(self, cfg: WindowOptions) -> pd.DataFrame:
        """The grid frame (as ``sweep`` returns it) of the window grid and scope of ``cfg``."""
        key = self._grid_key(cfg)
        grid = self._grids.get(key)
        if grid is None:
            scan = self._scan(cfg, key, grid=True)
            grid = read_grid(scan)
            scan.work = None  # lets go of what only the grid needed
            self._grids[key] = grid
        return grid

    def point(self, cfg: WindowOptions) -> dict[str, Any] | None:
        """The counts at the lag and lateness of ``cfg`` (None: not on the grid)."""
        key = self._grid_key(cfg)
        grid = self.grid(cfg)
        # The grid's rows by (lag, lateness) in ns, found once per grid.
        rows = self._points.get(key)
        if rows is None:
            lags = grid["lag"].to_numpy().view(np.int64).tolist()
            lateness = grid["lateness"].to_numpy().view(np.int64).tolist()
            rows = {}
            for row, at in enumerate(zip(lags, lateness, strict=True)):
                rows[at] = -1 if at in rows else row
            self._points[key] = rows
        row = rows.get((cfg.policy.lag_ns, cfg.policy.lateness_ns), -1)
        if row < 0:
            return None
        point: dict[str, Any] = {}
        for name, column in POINT_COLUMNS.items():
            value = grid[column].iat[row]
            if name == "drop_rate":
                point[name] = float(value)
            elif name.startswith("latency"):
                point[name] = pd.Timedelta(value)
            else:
                point[name] = int(value)
        return point

    def rows(self, cfg: WindowOptions, symbol: Any) -> ScopeRows:
        """The rows whose watermark is ``symbol``'s under ``cfg``: all its plot depends on."""
        columns = self.columns
        group = {"global": None, "key": symbol}.get(cfg.scope)
        if cfg.scope == "partition":
            group = int(columns.key_partition[columns.code_of(symbol)])
        key = (*self._grid_key(cfg), group)
        rows = self._scopes.get(key)
        if rows is None:
            scan = self._scan(cfg, self._grid_key(cfg))
            rows = scope_rows(scan, columns, columns.rows_sharing_watermark(symbol, cfg.scope))
        _remember(self._scopes, key, rows, CACHED_SCOPES)
        return rows

    def _scan(self, cfg: WindowOptions, key: Any, *, grid: bool = False) -> RowScan:
        """The scan of a window grid and scope (kept for a few); with ``grid``, one that
        can still give its grid."""
        scan = self._scans.get(key)
        if scan is None or (grid and scan.work is None):
            scan = scan_rows(self.columns, cfg, self._lags, self._lateness)
        _remember(self._scans, key, scan, CACHED_SCANS)
        return scan
