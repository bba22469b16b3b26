"""The columns every grid is cut from: event times and key codes in arrival order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mdwindow.core.keys import key_codes, scope_of_keys
from mdwindow.core.options import WindowOptions
from mdwindow.core.prepare import prepare
from mdwindow.core.state import State

__all__ = ["TickColumns"]


@dataclass(frozen=True)
class TickColumns:
    """A frame's event times and keys in arrival order, read once through the engine's
    checks (:func:`~mdwindow.core.prepare.prepare`, :func:`~mdwindow.core.keys.key_codes`).

    Window size, scope, lag and lateness do not change them: the tuner reads
    them once and scans them for every window size and scope it shows.
    """

    t: np.ndarray  # event time, int64 ns; NEG_INF when missing or out of range
    bad_time: np.ndarray  # the time is out of the int64 nanosecond range
    codes: np.ndarray  # key code per row; -1 when the key is missing
    keys: pd.Index  # the key of each code
    key_partition: np.ndarray  # hash partition of each code (empty without partitions)
    arrival: np.ndarray | None = None  # arrival time per row, int64 ns, when one is named

    @classmethod
    def of(cls, cfg: WindowOptions, ticks: pd.DataFrame) -> TickColumns:
        """Read ``ticks`` as ``tumbling_windows`` with the options ``cfg`` would."""
        state = State()
        prepared = prepare(cfg, state, ticks)
        codes, keys, key_partition = key_codes(cfg, state, prepared)
        arrival = prepared.arrival_stamp
        return cls(
            np.ascontiguousarray(prepared.t, np.int64),
            np.ascontiguousarray(prepared.out_of_range, np.bool_),
            np.ascontiguousarray(codes, np.int64),
            pd.Index([]) if keys is None else keys,
            np.asarray(key_partition, np.int64),
            None if arrival is None else np.ascontiguousarray(arrival, np.int64),
        )

    def __len__(self) -> int:
        return len(self.t)

    def code_of(self, key: object) -> int:
        """The code of ``key``; KeyError when no row holds it."""
        found = self.keys.get_indexer([key])[0]
        if found < 0:
            raise KeyError(f"symbol: {key!r} has no rows")
        return int(found)

    def scopes(self, cfg: WindowOptions) -> np.ndarray:
        """The watermark scope of each row under ``cfg`` (-1: none, for a missing key
        under a per-key scope)."""
        return np.ascontiguousarray(scope_of_keys(cfg, self.codes, self.key_partition))

    def rows_sharing_watermark(self, key: object, scope: str) -> np.ndarray | None:
        """Arrival positions of the rows whose watermark is ``key``'s under ``scope``
        (None: every row)."""
        if scope == "global":
            return None
        code = self.code_of(key)
        if scope == "key":
            return np.flatnonzero(self.codes == code)
        mine = self.key_partition == self.key_partition[code]
        return np.flatnonzero(mine[self.codes] & (self.codes >= 0))
