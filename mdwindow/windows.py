"""``tumbling_windows``: the batch front door onto the engine."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mdwindow.core.engine import finish, process_chunk
from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy, WindowOptions
from mdwindow.core.state import State
from mdwindow.interchange import FrameLike, option_columns, read_frame
from mdwindow.result import WindowResult


def tumbling_windows(
    ticks: FrameLike,
    spec: TumblingWindowSpec | Any,
    policy: WatermarkPolicy | None = None,
    *,
    time: str = "ts",
    key: str | None = "symbol",
    agg: Any = None,
    emit: str = "final",
    arrival_time: str | None = None,
    time_unit: str | None = None,
    partitions: int | None = None,
    hash: str = "murmur3",
    seed: int = 0,
    price: str = "price",
    size: str = "size",
    output: str | None = None,
    **policy_keywords: Any,
) -> WindowResult:
    """Event-time tumbling windows over a whole frame, driven by watermarks.

    Rows are taken in arrival order (row order, or the stable order of
    ``arrival_time``). Each row is judged against the watermark in effect
    just before it arrives: on time, late (accepted) or dropped.

    Parameters
    ----------
    ticks : pandas, polars or Arrow frame
        The tick frame: a pandas DataFrame, a polars DataFrame or LazyFrame, a
        pyarrow Table or RecordBatch, or any object with ``__arrow_c_stream__``
        (see :mod:`mdwindow.interchange`).
    spec : TumblingWindowSpec or duration
        Window size (and offset); a duration such as ``"5s"`` is enough.
    policy : WatermarkPolicy, optional
        Lag, allowed lateness, scope and idle timeout. Instead of a policy
        the keywords ``lag=``, ``allowed_lateness=``, ``scope=`` and
        ``idle_timeout=`` may be given (not both).
    time : str, default "ts"
        Event-time column: datetimes (any unit, tz-aware or naive UTC), or
        integers with ``time_unit``.
    key : str or None, default "symbol"
        Key column; None treats all rows as one stream.
    agg : None, "ohlcv" or dict
        ``None`` counts rows; ``"ohlcv"`` adds open, high, low, close, volume
        and vwap from ``price`` and ``size``; a dict of named aggregations
        ``{"out": ("column", func)}``. first/last/open/close are by event time,
        ties broken by arrival.
    emit : {"final", "updates"}, default "final"
        One final pane per window, or an on-time pane plus one pane per late row.
    arrival_time : str, optional
        Column giving the arrival order (stable sort).
    time_unit : {"s", "ms", "us", "ns"}, optional
        Unit of an integer time column.
    partitions : int, optional
        Number of hash partitions: adds the ``partition`` column; required by
        ``scope="partition"``.
    hash : {"murmur3", "kafka"}, default "murmur3"
        Partitioner.
    seed : int, default 0
        murmur3 seed.
    price, size : str
        Columns read by ``agg="ohlcv"``.
    output : {None, "pandas", "polars", "arrow"}
        The library of the result frames; None gives the input's. polars and
        Arrow ``late`` and ``rejected`` frames have a ``row`` column (the
        input position) where pandas ones keep the input's index.

    Returns
    -------
    WindowResult

    Examples
    --------
    Kafka Streams' final results for a size-2 window with 1 of grace:

    >>> import pandas as pd
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> result = tumbling_windows(ticks, "2s", allowed_lateness="1s")
    >>> result.windows[["window_start", "count", "emit_row"]]
                   window_start  count  emit_row
    0 1970-01-01 00:00:00+00:00      4         5
    1 1970-01-01 00:00:02+00:00      1         5
    >>> result.late["arrival"].tolist()
    [6]

    An Arrow table (or a polars frame) gives Arrow tables (polars frames) back:

    >>> import pyarrow as pa
    >>> arrow = tumbling_windows(pa.Table.from_pandas(ticks), "2s", allowed_lateness="1s")
    >>> arrow.late.select(["row", "arrival", "symbol"]).to_pylist()
    [{'row': 6, 'arrival': 6, 'symbol': 'A'}]
    """
    cfg = WindowOptions.build(
        spec,
        policy,
        time=time,
        key=key,
        agg=agg,
        emit=emit,
        arrival_time=arrival_time,
        time_unit=time_unit,
        partitions=partitions,
        hash=hash,
        seed=seed,
        price=price,
        size=size,
        **policy_keywords,
    )
    ticks, kind = read_frame(ticks, output=output, row_column=True, columns=option_columns(cfg))
    output, state = process_chunk(cfg, State(), ticks)
    at_end, pending = finish(cfg, state)
    windows = output.windows
    if len(at_end):
        windows = pd.concat([windows, at_end], ignore_index=True)
    return WindowResult(
        windows=windows,
        pending=pending,
        late=output.late,
        rejected=output.rejected,
        trace=output.trace,
        kind=kind,
    )
