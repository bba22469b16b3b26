"""``sweep``: what each (lag, allowed lateness) pair would cost, from one pass over the data.

The front door onto the grid pass of :mod:`mdwindow.core.grid`: the rows
are read and checked as ``tumbling_windows`` reads them, scanned once in
arrival order (each row's window and the maximum its watermark trails,
which no lag or lateness changes), and every grid point is read off that
scan with the row rules.
"""

from __future__ import annotations

from typing import Any

from mdwindow.core.grid import SWEEP_COLUMNS, TickColumns, read_grid, scan_rows
from mdwindow.core.options import TumblingWindowSpec, WindowOptions
from mdwindow.core.times import to_nanos_list
from mdwindow.interchange import FrameLike, option_columns, read_frame, write_frame

__all__ = ["SWEEP_COLUMNS", "sweep"]


def sweep(
    ticks: FrameLike,
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
    output: str | None = None,
) -> FrameLike:
    """What every (lag, allowed lateness) pair of a grid would do to the same ticks.

    Each row of the result equals what ``tumbling_windows(ticks, spec,
    lag=lag, allowed_lateness=lateness, ...)`` with ``emit="final"`` would
    report, but the whole grid costs little more than one windowing run:
    the per-row scope maxima are computed once and each grid point is
    derived from them.

    Parameters
    ----------
    ticks : pandas, polars or Arrow frame
        The tick frame, rows in arrival order (or give ``arrival_time``); see
        :mod:`mdwindow.interchange` for the kinds of frame.
    spec : TumblingWindowSpec or duration
        Window size and offset; ``emit_partial`` decides whether windows
        still open at the end count in ``windows`` or in ``pending``.
    lags, lateness : duration or sequence of durations
        The grid: one result row per ``(lag, lateness)`` pair, lags outer.
    scope, time, key, arrival_time, partitions, idle_timeout, time_unit, hash, seed, output
        As in :func:`mdwindow.tumbling_windows`.

    Returns
    -------
    pandas.DataFrame (or polars DataFrame, Arrow table: the input's kind, or ``output``)
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
        ``"event_time"``), ``perfect_windows``, ``scope`` and ``window``; an
        Arrow table keeps them in its schema metadata, a polars frame cannot.

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
    lag_values = to_nanos_list(lags, "lags")
    lateness_values = to_nanos_list(lateness, "lateness")
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
    ticks, kind = read_frame(ticks, output=output, columns=option_columns(cfg))
    columns = TickColumns.of(cfg, ticks)
    return write_frame(read_grid(scan_rows(columns, cfg, lag_values, lateness_values)), kind)
