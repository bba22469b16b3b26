"""Scope "global" on Dask in parallel buckets: carrier rows and the true watermark.

With one watermark over all rows, a bucket of keys cannot run on its own
rows: its watermark would lag the global one. It does not need the whole
stream either. A row's status and every emission compare the watermark
``W`` only with the fire levels (window ends) and the close levels (ends
plus allowed lateness) of the window grid. Between two rows that carry ``W``
past such a level (*crossings*, :func:`~mdwindow.core.rules.crosses_level`),
every comparison gives the same answer.

So each bucket's chain gets, besides its own rows, a *carrier* after every
crossing row of another bucket: a copy of that row whose key is a
*phantom* value that no key of the bucket can equal. A crossing row raised
the maximum event time, so its own time is the global maximum then, and the
bucket's watermark after the carrier is the global one. Carriers are copies
of valid rows placed after them, so a bucket's maximum never exceeds the
global maximum. Before each of the bucket's rows, its watermark therefore
lies between the global watermark after the last crossing and the global
watermark before the row: between the same two levels, so every status is
exact, and every window closes (or fires its on-time pane) right after the
carrier standing for the true row. Each bucket runs the engine itself;
nothing here judges a row.

Crossings are found per input partition without knowing the maximum of
earlier partitions: a row that crosses a level in the global running
maximum also crosses one in the partition's own running maximum (started at
minus infinity), so carriers are placed after every row of the latter kind,
a superset that costs a few carriers per partition and changes nothing.

The phantom key of bucket ``b`` is a value of the key's dtype whose bucket
(``partition_ids(value, buckets)``) is not ``b``; a key equal to it would
hash to the same other bucket, so no key of bucket ``b`` equals it. It is
chosen once, when the graph is built, from the key column's dtype: strings
(:class:`pandas.StringDtype`) and integers. Other key dtypes run one chain.

The watermark-valued columns (trace ``watermark_before``/``watermark_after``,
late ``watermark`` and ``late_by``, windows ``emit_watermark``) must show the
global watermark, not the bucket's; they are rewritten from the global
running maximum: each partition's running maximum from its own rows, and the
maximum of all earlier partitions, carried along the partitions in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from mdwindow import hashing
from mdwindow.core.keys import key_codes, key_rank
from mdwindow.core.options import WindowOptions
from mdwindow.core.panes import pane_order
from mdwindow.core.prepare import prepare
from mdwindow.core.rules import (
    NEG_INF,
    VALID,
    crosses_level,
    effective_watermark,
    effective_watermark_array,
    judge,
    window_start,
)
from mdwindow.core.state import State
from mdwindow.core.times import timedelta_array, utc_array

#: How many phantom candidates are hashed to find one outside each bucket.
CANDIDATES = 64


# --------------------------------------------------------------------------
# Phantom keys


def key_kind(dtype: Any) -> str | None:
    """The kind of phantom a key dtype has: "string", "integer", or None."""
    if isinstance(dtype, pd.StringDtype):
        return "string"
    if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return "integer"
    return None


def _candidates(dtype: Any) -> pd.Series | None:
    """Values of the key's dtype to choose phantoms from; None when the dtype has none."""
    kind = key_kind(dtype)
    if kind == "string":
        values: list = [f"\uffffmdwindow carrier {i}" for i in range(CANDIDATES)]
    elif kind == "integer":
        values = list(range(CANDIDATES))  # every integer dtype holds 0..63
    else:
        return None
    return pd.Series(values, dtype=dtype)


def phantom_keys(dtype: Any, buckets: int) -> list | None:
    """For each bucket a key value that no key of that bucket can equal, or None.

    None when the dtype is not supported (see the module docstring) or no
    candidate lands outside some bucket.

    Examples
    --------
    >>> phantoms = phantom_keys(pd.Int64Dtype(), 3)
    >>> hashing.partition_ids(pd.Series(phantoms), 3).tolist()  # buckets 0, 1, 2: never its own
    [2, 0, 0]
    >>> phantom_keys(np.dtype("float64"), 3) is None
    True
    """
    candidates = _candidates(dtype)
    if candidates is None or buckets < 2:
        return None
    ids = hashing.partition_ids(candidates, buckets)
    phantoms = []
    for b in range(buckets):
        outside = np.flatnonzero(ids != b)
        if not len(outside):
            return None
        phantoms.append(candidates.iloc[int(outside[0])])
    return phantoms


# --------------------------------------------------------------------------
# Crossings and the running maximum


@njit(cache=True)
def _running_max(
    t, bad_time, key_missing, size, offset, lag, lateness, idle
):  # pragma: no cover - compiled
    """Running maximum of valid event times, and the rows after which its watermark
    reaches a new level.

    ``t``, ``bad_time`` and ``key_missing`` are in arrival order. Validity
    is the engine's own (:func:`~mdwindow.core.rules.window_start`). The first
    valid row always crosses (from minus infinity).
    """
    n = t.shape[0]
    running = np.empty(n, np.int64)
    crossing = np.zeros(n, np.bool_)
    m = NEG_INF
    for i in range(n):
        ti = t[i]
        _, reason = window_start(ti, bad_time[i], key_missing[i], size, offset)
        if reason == VALID and ti > m:
            if m == NEG_INF:
                crossing[i] = True
            else:
                crossing[i] = crosses_level(
                    effective_watermark(m, m, lag, idle),
                    effective_watermark(ti, ti, lag, idle),
                    size,
                    offset,
                    lateness,
                )
            m = ti
        running[i] = m
    return running, crossing


@njit(cache=True)
def _late_by(watermark, start, size, lateness):  # pragma: no cover - compiled
    """``late_by`` of dropped rows, by the row rule (:func:`~mdwindow.core.rules.judge`)."""
    out = np.empty(watermark.shape[0], np.int64)
    for i in range(watermark.shape[0]):
        _, out[i] = judge(watermark[i], start[i], size, lateness)
    return out


@dataclass
class Marks:
    """One input partition seen by scope "global": what its pieces and its outputs need."""

    order: np.ndarray  # arrival rank -> row position in the partition
    running_max: np.ndarray  # maximum valid event time up to each row, arrival order
    crossing: np.ndarray  # rows after which the watermark reaches a new level

    @property
    def max_time(self) -> int:
        """The largest valid event time of the partition (NEG_INF: none)."""
        return int(self.running_max[-1]) if len(self.running_max) else NEG_INF


@dataclass(frozen=True)
class Carriers:
    """Scope "global" in ``buckets`` chains: the options and each bucket's phantom key."""

    cfg: WindowOptions
    dtype: Any  # the key column's dtype in the Dask frame's meta
    phantoms: list

    def marks(self, frame: pd.DataFrame, index: int) -> Marks:
        """Arrival order, running maximum and crossings of input partition ``index``."""
        cfg = self.cfg
        dtype = frame[cfg.key].dtype
        if key_kind(dtype) != key_kind(self.dtype):
            # A float 5.0 is not told from the integer phantom 5 by its hash.
            raise TypeError(
                f"key: column {cfg.key!r} holds {dtype} values in Dask partition {index}, "
                f"but {self.dtype} in the frame's meta; make them agree, e.g. "
                f"ddf[{cfg.key!r}] = ddf[{cfg.key!r}].astype({str(self.dtype)!r})"
            )
        prepared = prepare(cfg, State(), frame)
        codes, _, _ = key_codes(cfg, State(), prepared)
        running, crossing = _running_max(
            prepared.t,
            prepared.out_of_range,
            codes < 0,
            cfg.spec.size_ns,
            cfg.spec.offset_ns,
            cfg.policy.lag_ns,
            cfg.policy.lateness_ns,
            cfg.idle_arg,
        )
        order = prepared.order if prepared.order is not None else np.arange(prepared.n)
        return Marks(order, running, crossing)

    def piece(self, frame: pd.DataFrame, marks: Marks, bucket: np.ndarray, b: int):
        """Rows of bucket ``b`` and carriers, in arrival order: ``(frame, ranks, rows, carrier)``.

        ``bucket`` is the bucket of each row in arrival order.
        """
        ranks = np.flatnonzero((bucket == b) | marks.crossing)
        carrier = bucket[ranks] != b
        rows = marks.order[ranks]
        piece = frame.iloc[rows]
        if carrier.any():
            keys = piece[self.cfg.key].array.copy()
            keys[np.flatnonzero(carrier)] = self.phantoms[b]
            piece = piece.copy(deep=False)
            piece[self.cfg.key] = keys
        return piece, ranks.astype(np.int64), rows, carrier

    def is_phantom(self, frame: pd.DataFrame, b: int) -> np.ndarray:
        """Rows of an output frame that belong to bucket ``b``'s phantom key."""
        keys = frame[self.cfg.key]
        return (keys == self.phantoms[b]).to_numpy(dtype=bool, na_value=False)

    # -- the global watermark, for the columns that show it ---------------------

    def _watermarks(self, marks: Marks, entering: int) -> tuple[np.ndarray, np.ndarray]:
        """Global watermark before and after each row of the partition, arrival order."""
        cfg = self.cfg
        lag, idle = cfg.policy.lag_ns, cfg.idle_arg
        after = np.maximum(marks.running_max, entering)
        before = np.concatenate([[entering], after[:-1]]).astype(np.int64)
        # One scope: its maximum is the global maximum.
        return (
            effective_watermark_array(before, before, lag, idle),
            effective_watermark_array(after, after, lag, idle),
        )

    def patch(
        self,
        windows: pd.DataFrame,
        late: pd.DataFrame,
        trace: pd.DataFrame,
        marks: Marks,
        offset: int,
        entering: int,
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """One partition's merged outputs with the global watermark in its columns.

        ``offset`` is the partition's first arrival position, ``entering`` the
        largest valid event time of earlier partitions.
        """
        before, after = self._watermarks(marks, entering)
        windows, late, trace = (f.copy(deep=False) for f in (windows, late, trace))
        if len(windows):
            rank = windows["emit_row"].to_numpy(np.int64) - offset
            windows["emit_watermark"] = utc_array(after[rank])
        if len(late):
            rank = late["arrival"].to_numpy(np.int64) - offset
            watermark = before[rank]
            start = pd.DatetimeIndex(late["window_start"]).asi8
            late["watermark"] = utc_array(watermark)
            late["late_by"] = timedelta_array(
                _late_by(watermark, start, self.cfg.spec.size_ns, self.cfg.policy.lateness_ns)
            )
        if len(trace):
            rank = trace["arrival"].to_numpy(np.int64) - offset
            trace["watermark_before"] = utc_array(before[rank])
            trace["watermark_after"] = utc_array(after[rank])
        return windows, late, trace

    def emission_order(self, windows: pd.DataFrame, offset: int) -> np.ndarray:
        """Order of windows by (emit row, window start, key) in the engine's key order.

        One row can now close windows of every bucket. Phantom-free keys of a
        supported dtype (strings, integers) always compare, so the order of
        the keys present here is the order among all keys. ``offset`` is the
        partition's first arrival position (every ``emit_row`` is at or after it).
        """
        codes, uniques = pd.factorize(windows[self.cfg.key])
        rank = key_rank(pd.Index(uniques, dtype=getattr(uniques, "dtype", None)))
        start = pd.DatetimeIndex(windows["window_start"]).asi8
        row = windows["emit_row"].to_numpy(np.int64) - offset
        return pane_order(row, start, rank[codes])
