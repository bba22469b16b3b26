"""``sweep``: what each (lag, allowed lateness) pair would cost, from one pass over the data.

The largest event time seen by each watermark scope, row by row, does not
depend on the lag or the lateness. So the engine's per-row pass
(:func:`mdwindow.core.kernels.classify_rows`) runs once with a zero lag, and
every grid point is then read off that pass:

- with ``M`` the (effective) scope maximum just before a row and ``E`` the
  end of its window, the row's *slack* is ``M - E``; under a policy
  ``(lag, L)`` the row is on time when ``slack < lag``, late when
  ``lag <= slack < lag + L``, and dropped when ``slack >= lag + L``
  (SPEC section 5 with ``W = M - lag``), so counts are two binary searches
  in the sorted slacks;
- a window holds a row (so exists) when its smallest slack is below
  ``lag + L``, and lost a row when its largest slack reaches it;
- a window closes at the first arrival at which its scope's maximum
  reaches ``E + lag + L`` (a merge of the windows, sorted by end, with the
  steps of each scope's running maximum).

Everything but the late count depends on ``lag + L`` only, so grid points
that share that sum share the work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from mdwindow.core.kernels import classify_rows
from mdwindow.core.keys import key_codes, n_scopes, scope_of_keys
from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy, WindowOptions
from mdwindow.core.prepare import prepare
from mdwindow.core.rules import (
    INT64_MAX,
    NEG_INF,
    REJECTED,
    fire_level_array,
    global_floor_array,
    has_reached,
    sat_add,
    slack_array,
)
from mdwindow.core.state import State
from mdwindow.core.times import to_nanos

__all__ = ["SWEEP_COLUMNS", "sweep"]

#: Columns of the frame :func:`sweep` returns, in order.
SWEEP_COLUMNS: tuple[str, ...] = (
    "lag",
    "lateness",
    "rows",
    "on_time",
    "late_accepted",
    "dropped",
    "rejected",
    "drop_rate",
    "windows",
    "pending",
    "incomplete_windows",
    "completeness",
    "latency_median",
    "latency_p99",
)

LATENCY_QUANTILES = (0.5, 0.99)


@njit(cache=True)
def _close_rows(
    w_offsets,
    w_end,
    w_by_end,
    shift,
    step_offsets,
    step_level,
    step_row,
    glob_level,
    glob_row,
    none,
):  # pragma: no cover - compiled
    """First arrival at which each window's scope maximum reaches ``end + shift``.

    Windows are grouped by scope (``w_offsets``) and sorted by end within a
    scope; the steps of each scope's running maximum (``step_offsets``) are
    in arrival order, so at rising levels: one merge per scope. With an idle
    timeout, ``glob_level`` holds the global maximum minus the timeout at its
    steps, which may reach a window's threshold first: one more merge, over
    all windows in order of end (``w_by_end``). ``none``: never closed.
    """
    out = np.empty(w_end.shape[0], np.int64)
    for s in range(w_offsets.shape[0] - 1):
        p = step_offsets[s]
        hi = step_offsets[s + 1]
        for j in range(w_offsets[s], w_offsets[s + 1]):
            threshold = sat_add(w_end[j], shift)
            while p < hi and not has_reached(step_level[p], threshold):
                p += 1
            out[j] = step_row[p] if p < hi else none
    n_glob = glob_level.shape[0]
    if n_glob:
        p = 0
        for j in w_by_end:
            threshold = sat_add(w_end[j], shift)
            while p < n_glob and not has_reached(glob_level[p], threshold):
                p += 1
            if p < n_glob and glob_row[p] < out[j]:
                out[j] = glob_row[p]
    return out


@njit(cache=True)
def _emitted_latencies(close, w_min_slack, total, clock, w_end, none):  # pragma: no cover
    """Latency (``clock[close] - end``) of each window that exists and closed, and the count
    of windows that exist (hold a row whose slack is below ``total``)."""
    latency = np.empty(close.shape[0], np.int64)
    n_emitted = 0
    n_exists = 0
    for j in range(close.shape[0]):
        if w_min_slack[j] >= total:
            continue
        n_exists += 1
        if close[j] < none:
            latency[n_emitted] = clock[close[j]] - w_end[j]
            n_emitted += 1
    return latency[:n_emitted], n_exists


@dataclass
class _Scan:
    """The lag-independent facts of one input, from one engine pass."""

    rows: int
    rejected: int
    slack_sorted: np.ndarray  # per valid row, ascending
    w_end: np.ndarray  # windows grouped by scope, ascending end within a scope
    w_offsets: np.ndarray
    w_by_end: np.ndarray  # window order by end, across scopes (idle timeout only)
    w_min_slack: np.ndarray  # same window order
    w_max_slack_sorted: np.ndarray  # ascending
    w_min_slack_sorted: np.ndarray  # ascending
    step_offsets: np.ndarray
    step_level: np.ndarray
    step_row: np.ndarray
    glob_level: np.ndarray
    glob_row: np.ndarray
    clock: np.ndarray  # per arrival position: the clock that latency is read on

    @property
    def valid(self) -> int:
        return len(self.slack_sorted)

    @property
    def perfect_windows(self) -> int:
        return len(self.w_end)


def _scan(cfg: Any, ticks: pd.DataFrame) -> _Scan:
    state = State()
    prepared = prepare(cfg, state, ticks)
    n = prepared.n
    codes, keys, key_partition = key_codes(cfg, state, prepared)
    scope = scope_of_keys(cfg, codes, key_partition)
    scope_count = max(n_scopes(cfg, keys), 1)
    idle = cfg.policy.idle_ns
    size = cfg.spec.size_ns
    # Lag 0 and lateness 0: the "watermark before" of each row is then the
    # effective maximum max(M_scope, M_global - idle) before it.
    (
        start, _reason, status, max_before, _w_after, _late_by,
        own_after, glob_after, own_step, glob_step, _global_max,
    ) = classify_rows(
        prepared.t, prepared.out_of_range.view(np.int8), scope, codes < 0,
        np.full(scope_count, NEG_INF, np.int64), NEG_INF,
        size, cfg.spec.offset_ns, 0, cfg.idle_arg, 0,
    )  # fmt: skip
    valid = np.flatnonzero(status != REJECTED)
    slack = slack_array(max_before[valid], fire_level_array(start[valid], size))

    # Windows of the perfect watermark: distinct (key, start) among valid rows.
    v_key = np.maximum(codes[valid], 0)
    v_start = start[valid]
    by_window = np.lexsort((v_start, v_key))
    k_sorted, s_sorted = v_key[by_window], v_start[by_window]
    first = np.ones(len(valid), bool)
    first[1:] = (k_sorted[1:] != k_sorted[:-1]) | (s_sorted[1:] != s_sorted[:-1])
    heads = np.flatnonzero(first)
    w_key = k_sorted[heads]
    w_end = fire_level_array(s_sorted[heads], size)
    if len(heads):
        w_min = np.minimum.reduceat(slack[by_window], heads)
        w_max = np.maximum.reduceat(slack[by_window], heads)
    else:
        w_min = w_max = np.empty(0, np.int64)
    w_scope = scope_of_keys(cfg, w_key, key_partition)
    by_scope = np.lexsort((w_end, w_scope))
    w_end, w_min, w_scope = w_end[by_scope], w_min[by_scope], w_scope[by_scope]
    w_offsets = np.searchsorted(w_scope, np.arange(scope_count + 1)).astype(np.int64)

    # Steps of each scope's running maximum, grouped by scope in arrival order.
    if cfg.scope == "global":
        step_rows = np.flatnonzero(glob_step)
        step_level = glob_after[step_rows]
        step_offsets = np.array([0, len(step_rows)], np.int64)
    else:
        step_rows = np.flatnonzero(own_step)
        grouped = np.argsort(scope[step_rows], kind="stable")
        step_rows = step_rows[grouped]
        step_level = own_after[step_rows]
        step_offsets = np.searchsorted(scope[step_rows], np.arange(scope_count + 1)).astype(
            np.int64
        )
    if idle is not None:
        glob_row = np.flatnonzero(glob_step)
        glob_level = global_floor_array(glob_after[glob_row], 0, idle)
        w_by_end = np.argsort(w_end, kind="stable")
    else:
        glob_row = glob_level = w_by_end = np.empty(0, np.int64)

    clock = prepared.arrival_stamp if prepared.arrival_stamp is not None else glob_after
    return _Scan(
        rows=n,
        rejected=n - len(valid),
        slack_sorted=np.sort(slack),
        w_end=w_end,
        w_offsets=w_offsets,
        w_by_end=w_by_end.astype(np.int64, copy=False),
        w_min_slack=w_min,
        w_max_slack_sorted=np.sort(w_max),
        w_min_slack_sorted=np.sort(w_min),
        step_offsets=step_offsets,
        step_level=step_level.astype(np.int64, copy=False),
        step_row=step_rows.astype(np.int64, copy=False),
        glob_level=glob_level.astype(np.int64, copy=False),
        glob_row=glob_row.astype(np.int64, copy=False),
        clock=np.asarray(clock, dtype=np.int64),
    )


def _latency_quantiles(latency: np.ndarray) -> list[int]:
    """Median and p99 in whole nanoseconds (numpy's linear interpolation); NaT if empty."""
    if len(latency) == 0:
        return [NEG_INF] * len(LATENCY_QUANTILES)
    values = np.quantile(latency, LATENCY_QUANTILES)
    return [int(round(float(v))) for v in values]


def _by_total_wait(scan: _Scan, total: int, emit_partial: bool) -> dict[str, Any]:
    """Everything that depends on ``lag + lateness`` only."""
    accepted_rows = int(np.searchsorted(scan.slack_sorted, total, side="left"))
    close = _close_rows(
        scan.w_offsets,
        scan.w_end,
        scan.w_by_end,
        total,
        scan.step_offsets,
        scan.step_level,
        scan.step_row,
        scan.glob_level,
        scan.glob_row,
        scan.rows,
    )
    latency, n_exists = _emitted_latencies(
        close, scan.w_min_slack, total, scan.clock, scan.w_end, scan.rows
    )
    n_closed = len(latency)
    median, p99 = _latency_quantiles(latency)
    incomplete = scan.perfect_windows - int(
        np.searchsorted(scan.w_max_slack_sorted, total, side="left")
    )
    return {
        "accepted": accepted_rows,
        "windows": n_exists if emit_partial else n_closed,
        "pending": 0 if emit_partial else n_exists - n_closed,
        "incomplete_windows": incomplete,
        "latency_median": median,
        "latency_p99": p99,
    }


def _durations(values: Any, name: str) -> list[int]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        values = [values]
    out = [to_nanos(v, name) for v in values]
    if not out:
        raise ValueError(f"{name}: got an empty sequence; give at least one duration")
    for value in out:
        if value < 0:
            raise ValueError(f"{name}: got {pd.Timedelta(value)}; durations must be >= 0")
    return out


def sweep(
    ticks: pd.DataFrame,
    spec: TumblingWindowSpec | Any,
    *,
    lags: Any,
    lateness: Any,
    scope: str = "global",
    time: str = "ts",
    key: str | None = "symbol",
    arrival_time: str | None = None,
    partitions: int | None = None,
    idle_timeout: Any = None,
    time_unit: str | None = None,
    hash: str = "murmur3",
    seed: int = 0,
) -> pd.DataFrame:
    """What every (lag, allowed lateness) pair of a grid would do to the same ticks.

    Each row of the result equals what ``tumbling_windows(ticks, spec,
    lag=lag, allowed_lateness=lateness, ...)`` with ``emit="final"`` would
    report, but the whole grid costs little more than one windowing run:
    the per-row scope maxima are computed once and each grid point is
    derived from them.

    Parameters
    ----------
    ticks : pandas.DataFrame
        The tick frame, rows in arrival order (or give ``arrival_time``).
    spec : TumblingWindowSpec or duration
        Window size and offset; ``emit_partial`` decides whether windows
        still open at the end count in ``windows`` or in ``pending``.
    lags, lateness : duration or sequence of durations
        The grid: one result row per ``(lag, lateness)`` pair, lags outer.
    scope, time, key, arrival_time, partitions, idle_timeout, time_unit, hash, seed
        As in :func:`mdwindow.tumbling_windows`.

    Returns
    -------
    pandas.DataFrame
        One row per pair, columns :data:`SWEEP_COLUMNS`:

        ``lag``, ``lateness`` (timedelta64[ns])
            The grid point.
        ``rows``, ``on_time``, ``late_accepted``, ``dropped``, ``rejected``
            Row counts by status, as in ``WindowResult.summary()``.
        ``drop_rate``
            ``dropped`` over valid rows (NaN without valid rows).
        ``windows``, ``pending``
            ``len(result.windows)`` and ``len(result.pending)``: windows
            emitted (closed) before the end of input and windows still open.
        ``incomplete_windows``
            Windows of the perfect-watermark result (every valid row
            accepted: the distinct ``(key, window)`` pairs of the valid
            rows) that lost at least one row to dropping, including those
            that lost every row and so never appear. These are the windows
            whose content differs from the perfect result: the distinct
            ``(key, window_start)`` pairs of ``result.late``.
        ``completeness``
            ``1 - incomplete_windows / perfect windows`` (NaN without any).
        ``latency_median``, ``latency_p99`` (timedelta64[ns])
            Median and 99th percentile (linear interpolation) over emitted
            windows of ``clock at emission - window_end``. The clock is the
            arrival time of the emitting row when ``arrival_time`` is given
            (``emit_time - window_end``); otherwise it is event time: the
            largest valid event time seen over all rows, the "market clock",
            when the window was emitted. NaT when no window was emitted.

        ``frame.attrs`` holds ``latency_clock`` (``"arrival_time"`` or
        ``"event_time"``), ``perfect_windows``, ``scope`` and ``window``.

    See Also
    --------
    plot_lag_tradeoff : Drop rate and latency against lag, per lateness.

    Examples
    --------
    >>> import pandas as pd
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> grid = sweep(ticks, "2s", lags=["0s", "1s"], lateness=["0s", "1s"])
    >>> grid[["lag", "lateness", "dropped", "late_accepted", "windows", "pending"]]
                  lag        lateness  dropped  late_accepted  windows  pending
    0 0 days 00:00:00 0 days 00:00:00        3              0        2        1
    1 0 days 00:00:00 0 days 00:00:01        1              2        2        1
    2 0 days 00:00:01 0 days 00:00:00        1              0        2        1
    3 0 days 00:00:01 0 days 00:00:01        1              0        1        2
    >>> grid["latency_median"].dt.total_seconds().tolist()
    [0.5, 2.0, 2.0, 3.0]
    """
    lag_values = _durations(lags, "lags")
    lateness_values = _durations(lateness, "lateness")
    cfg = WindowOptions.build(
        spec,
        WatermarkPolicy(scope=scope, idle_timeout=idle_timeout),
        time=time,
        key=key,
        arrival_time=arrival_time,
        time_unit=time_unit,
        partitions=partitions,
        hash=hash,
        seed=seed,
    )
    scan = _scan(cfg, ticks)
    by_total: dict[int, dict[str, Any]] = {}
    records = []
    for lag in lag_values:
        not_on_time = scan.valid - int(np.searchsorted(scan.slack_sorted, lag, side="left"))
        for allowed in lateness_values:
            total = lag + allowed if allowed <= INT64_MAX - lag else INT64_MAX
            if total not in by_total:
                by_total[total] = _by_total_wait(scan, total, cfg.spec.emit_partial)
            shared = by_total[total]
            dropped = scan.valid - shared["accepted"]
            late = not_on_time - dropped
            records.append(
                {
                    "lag": lag,
                    "lateness": allowed,
                    "rows": scan.rows,
                    "on_time": scan.valid - late - dropped,
                    "late_accepted": late,
                    "dropped": dropped,
                    "rejected": scan.rejected,
                    "drop_rate": dropped / scan.valid if scan.valid else float("nan"),
                    "windows": shared["windows"],
                    "pending": shared["pending"],
                    "incomplete_windows": shared["incomplete_windows"],
                    "completeness": (
                        1.0 - shared["incomplete_windows"] / scan.perfect_windows
                        if scan.perfect_windows
                        else float("nan")
                    ),
                    "latency_median": shared["latency_median"],
                    "latency_p99": shared["latency_p99"],
                }
            )
    frame = pd.DataFrame.from_records(records, columns=list(SWEEP_COLUMNS))
    for column in ("lag", "lateness", "latency_median", "latency_p99"):
        frame[column] = frame[column].to_numpy(np.int64).view("timedelta64[ns]")
    for column in SWEEP_COLUMNS[2:7] + ("windows", "pending", "incomplete_windows"):
        frame[column] = frame[column].astype(np.int64)
    frame.attrs.update(
        {
            "latency_clock": "arrival_time" if arrival_time is not None else "event_time",
            "perfect_windows": scan.perfect_windows,
            "scope": cfg.scope,
            "window": cfg.spec.size,
        }
    )
    return frame
