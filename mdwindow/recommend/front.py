"""``recommend``: the lag and allowed lateness to pick, read off one grid pass."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.grid import RowScan, TickColumns, read_grid, scan_rows
from mdwindow.core.grid.disorder import (
    LAG_LEVELS,
    LATENESS_LEVELS,
    disorder_grid,
    measure_disorder,
    share_wait,
)
from mdwindow.core.grid.key_losses import KEY_LOSS_COLUMNS, key_losses
from mdwindow.core.options import TumblingWindowSpec, WindowOptions
from mdwindow.core.times import to_nanos_list
from mdwindow.interchange import FrameLike, read_frame
from mdwindow.recommend.choice import (
    LOSS_COLUMNS,
    annotate_grid,
    check_target,
    choose,
)
from mdwindow.recommend.result import Recommendation

__all__ = [
    "TARGET_SHARES",
    "derived_grids",
    "recommend",
    "recommend_from_grid",
    "recommend_from_scan",
]

#: Multiples of the target whose smallest waits a derived grid of lags holds: the
#: target's own, and a few around it to draw the frontier near it.
TARGET_SHARES = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0)


def _grid_values(values: Any, name: str) -> list[int]:
    """Distinct durations (ns, >= 0), ascending."""
    return sorted(set(to_nanos_list(values, name)))


def derived_grids(
    columns: TickColumns, cfg: WindowOptions, target: float, objective: str
) -> tuple[list[int], list[int]]:
    """The grids of lags and latenesses (ns) that :func:`recommend` reads off the data.

    Lags: 0, the quantiles of the disorder at :data:`LAG_LEVELS`, and the
    smallest waits that lose at most the target and the shares
    :data:`TARGET_SHARES` times it (of rows, or of windows for the
    objective "completeness"). Latenesses: 0 and the quantiles of the
    disorder at :data:`LATENESS_LEVELS`. All rounded up to three significant
    digits.
    """
    disorder = measure_disorder(columns, cfg)
    slacks = disorder.window_slack if objective == "completeness" else disorder.row_slack
    waits = {share_wait(slacks, min(target * share, 1.0)) for share in TARGET_SHARES}
    lags = sorted({*disorder_grid(disorder.rows, LAG_LEVELS), *waits})
    return lags, disorder_grid(disorder.rows, LATENESS_LEVELS)


def recommend(
    ticks: FrameLike,
    spec: TumblingWindowSpec | Any,
    *,
    max_drop_rate: float = 1e-3,
    objective: str = "latency",
    lags: Any = None,
    latenesses: Any = None,
    scope: str = "key",
    time: str = "ts",
    key: str | None = "symbol",
    arrival_time: str | None = None,
    partitions: int | None = None,
    idle_timeout: Any = None,
    time_unit: str | None = None,
    hash: str = "murmur3",
    seed: int = 0,
) -> Recommendation:
    """The lag and allowed lateness with the smallest emission latency that meet a drop target.

    Every ``(lag, allowed_lateness)`` pair of a grid is judged in one pass
    over the rows, as :func:`mdwindow.sweep` judges it (each pair's counts
    and latencies are those of ``tumbling_windows`` with ``emit="final"``),
    and the pair that emits soonest among those dropping at most
    ``max_drop_rate`` of the valid rows is returned.

    Parameters
    ----------
    ticks : pandas, polars or Arrow frame
        The tick frame, rows in arrival order (or give ``arrival_time``);
        any kind :func:`mdwindow.sweep` takes. The frames of the
        recommendation are pandas whatever the input.
    spec : TumblingWindowSpec or duration
        Window size and offset.
    max_drop_rate : float, default 1e-3
        The target: the largest share of valid rows that may be dropped
        (0 asks for a point that drops nothing).
    objective : {"latency", "completeness"}, default "latency"
        What the target bounds while the latency is minimised: the share of
        valid rows dropped (``"latency"``), or the share of the windows of
        the perfect-watermark result that lose at least one row
        (``"completeness"``: a bar that lost one tick is a wrong bar).
    lags, latenesses : duration or sequence of durations, optional
        The grid. Left to None, each is read off the data (one extra pass,
        :func:`derived_grids`). A row's *disorder* is how far the largest
        event time its watermark follows (its scope's, before it, with the
        idle timeout's floor) is past the row's own event time, 0 for a row
        that is its scope's newest: the derived lags are 0, the disorder's
        quantiles at ``LAG_LEVELS`` (0.5 to 1) and the smallest waits that
        drop at most ``max_drop_rate`` times 0, 0.1, 0.3, 1, 3 and 10 of the
        rows (of the windows, for ``"completeness"``); the derived
        latenesses are 0 and the disorder's quantiles at
        ``LATENESS_LEVELS`` (0.5, 0.9, 0.99). All are rounded up to three
        significant digits. So a derived grid of lags always holds the
        (rounded) smallest lag that meets the target with lateness 0, and
        one that drops nothing: a lag of at least a row's disorder keeps it
        on time.
    scope : {"global", "key", "partition"}, default "key"
        The watermark scope. Per key by default here: what a researcher
        windowing symbols independently would deploy.
    time, key, arrival_time, partitions, idle_timeout, time_unit, hash, seed
        As in :func:`mdwindow.tumbling_windows`.

    Returns
    -------
    Recommendation
        The point, its drop rate, late-accepted rate, completeness and
        latencies, the keys that force the choice and the annotated grid.

    Raises
    ------
    TargetNotMet
        When no point of the grid meets the target (a ``ValueError`` naming
        ``max_drop_rate``, the best loss the grid reached and where).

    Notes
    -----
    Among the points meeting the target, the recommended one has, in turn:
    the smallest median latency; the smallest loss (drop rate, or share of
    incomplete windows); the smallest p99 latency; the smallest drop rate;
    the smallest wait ``lag + allowed_lateness``; the smallest lateness.
    Points that emit no window before the end of input have an infinite
    latency. Pairs with the same wait drop the same rows and emit every
    window at the same row, so the last rule prefers the one that accepts
    fewest rows late (with ``emit="updates"``, fewest revised panes).

    The keys that force the choice are read at the largest wait of the
    grid below the recommended one that misses the target: the keys whose
    own loss exceeds the target there. At least one key does whenever
    that wait exists and the frame has a key column.

    Examples
    --------
    >>> import pandas as pd
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 3, 4, 2, 5, 7, 6, 9, 3], unit="s", utc=True),
    ...     "symbol": list("AABABBAABABA"),
    ... })
    >>> rec = recommend(ticks, "2s")
    >>> rec
    Recommendation for 2s windows, scope 'key', drop rate <= 0.1%:
      lag               2.01s
      allowed_lateness  0s
      drop rate         0%
      late accepted     0%
      complete windows  100%
      latency median    3s (window end to emission, event-time clock)
      latency p99       3s
      forcing keys      1 key above the target at lag + lateness = 0s (drop rate):
                        A 14.3%
    >>> rec.forcing_keys[["symbol", "rows", "dropped"]]
      symbol  rows  dropped
    0      A     7        1
    """
    cfg = WindowOptions.build(
        spec,
        scope=scope,
        idle_timeout=idle_timeout,
        time=time,
        key=key,
        arrival_time=arrival_time,
        time_unit=time_unit,
        partitions=partitions,
        hash=hash,
        seed=seed,
    )
    target = check_target(max_drop_rate, objective)
    lag_values = None if lags is None else _grid_values(lags, "lags")
    lateness_values = None if latenesses is None else _grid_values(latenesses, "latenesses")
    ticks, _ = read_frame(ticks)
    columns = TickColumns.of(cfg, ticks)
    if lag_values is None or lateness_values is None:
        derived_lags, derived_latenesses = derived_grids(columns, cfg, target, objective)
        lag_values = derived_lags if lag_values is None else lag_values
        lateness_values = derived_latenesses if lateness_values is None else lateness_values
    scan = scan_rows(columns, cfg, lag_values, lateness_values)
    return recommend_from_scan(
        scan, columns, cfg, read_grid(scan), max_drop_rate=target, objective=objective
    )


def recommend_from_scan(
    scan: RowScan,
    columns: TickColumns,
    cfg: WindowOptions,
    grid: pd.DataFrame,
    *,
    max_drop_rate: float = 1e-3,
    objective: str = "latency",
) -> Recommendation:
    """The recommendation of :func:`recommend` for a grid frame read off a scan held.

    For a front door that scanned the rows once for a larger grid (the
    report: its trade-off grid and the recommendation's): ``grid`` is the
    part of ``read_grid(scan)`` to choose from, and the keys that force the
    choice are read off the same scan (any grid's scan holds every wait).

    Parameters
    ----------
    scan : RowScan
        ``scan_rows(columns, cfg, lags, latenesses)``, its grid work held.
    columns : TickColumns
        The columns scanned.
    cfg : WindowOptions
        The options scanned with (the key column and idle timeout are read).
    grid : pandas.DataFrame
        Rows of ``read_grid(scan)`` (with its ``attrs``), lags outer.
    max_drop_rate, objective
        As in :func:`recommend`.

    Returns
    -------
    Recommendation
    """
    target = check_target(max_drop_rate, objective)
    rec = recommend_from_grid(grid, max_drop_rate=target, objective=objective)
    forcing = pd.DataFrame(columns=[cfg.key or "key", *KEY_LOSS_COLUMNS])
    if rec.forcing_wait is not None and cfg.key is not None:
        losses = key_losses(scan, columns, int(rec.forcing_wait.value), cfg.key)
        loss = LOSS_COLUMNS[objective]
        losses = losses[losses[loss] > target].sort_values(cfg.key, kind="stable")
        forcing = losses.sort_values(loss, ascending=False, kind="stable").reset_index(drop=True)
    return replace(rec, forcing_keys=forcing, idle_timeout=cfg.policy.idle_timeout)


def recommend_from_grid(
    grid: pd.DataFrame, *, max_drop_rate: float = 1e-3, objective: str = "latency"
) -> Recommendation:
    """The recommendation of :func:`recommend`, read off a grid frame alone.

    For a front door that already holds a grid (``sweep``'s frame, a
    tuner's grid): the same target, order of preference and annotated grid,
    but ``forcing_keys`` is None (naming them needs the rows).

    Parameters
    ----------
    grid : pandas.DataFrame
        What :func:`mdwindow.sweep` returns (its ``attrs`` give the window
        size, scope and latency clock).
    max_drop_rate, objective
        As in :func:`recommend`.

    Returns
    -------
    Recommendation

    Examples
    --------
    >>> import pandas as pd
    >>> from mdwindow import sweep
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> grid = sweep(ticks, "2s", lags=["0s", "1s"], lateness=["0s", "1s"])
    >>> rec = recommend_from_grid(grid, max_drop_rate=0.2)
    >>> rec.lag, rec.allowed_lateness, round(rec.drop_rate, 3)
    (Timedelta('0 days 00:00:01'), Timedelta('0 days 00:00:00'), 0.143)
    """
    target = check_target(max_drop_rate, objective)
    annotated = annotate_grid(grid, target, objective)
    position = choose(annotated, target, objective)
    annotated["recommended"] = np.arange(len(annotated)) == position
    point = annotated.iloc[position]
    valid = int(point["on_time"] + point["late_accepted"] + point["dropped"])
    wait = annotated["lag"] + annotated["lateness"]
    # Drops depend on the wait only: the next smaller setting that misses the target.
    missing = wait[(wait < wait.iloc[position]) & ~annotated["meets_target"]]
    forcing_wait = missing.max() if len(missing) else None
    return Recommendation(
        lag=pd.Timedelta(point["lag"]),
        allowed_lateness=pd.Timedelta(point["lateness"]),
        drop_rate=float(point["drop_rate"]),
        late_accepted_rate=int(point["late_accepted"]) / valid,
        completeness=float(point["completeness"]),
        latency_median=pd.Timedelta(point["latency_median"]),
        latency_p99=pd.Timedelta(point["latency_p99"]),
        latency_clock=str(grid.attrs.get("latency_clock", "event_time")),
        max_drop_rate=target,
        objective=objective,
        window=pd.Timedelta(grid.attrs.get("window", pd.NaT)),
        scope=str(grid.attrs.get("scope", "unknown")),
        forcing_wait=None if forcing_wait is None else pd.Timedelta(forcing_wait),
        grid=annotated,
    )
