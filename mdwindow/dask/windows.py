"""``tumbling_windows`` over a Dask DataFrame: the Dask front door onto the engine."""

from __future__ import annotations

import os
from typing import Any

import dask.dataframe as dd
import numpy as np
import pandas as pd

from mdwindow.core.engine import finish, process_chunk
from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy, WindowOptions
from mdwindow.core.state import State, resolve
from mdwindow.dask.carriers import Carriers, phantom_keys
from mdwindow.dask.chains import fold
from mdwindow.dask.result import DaskWindowResult


def require_dask_frame(ddf: Any, caller: str) -> None:
    """Refuse anything but a Dask DataFrame, saying what to give instead."""
    if not isinstance(ddf, dd.DataFrame):
        raise TypeError(
            f"{caller}: got {type(ddf).__name__}; give a Dask DataFrame, e.g. "
            "dd.from_pandas(ticks, npartitions=8) or dd.read_parquet(path) "
            "(for a pandas frame use mdwindow's own function)"
        )


def default_buckets() -> int:
    """Two chains per thread of the current cluster (or per core), for load balance."""
    try:
        from distributed import default_client

        threads = sum(default_client().nthreads().values())
    except (ImportError, ValueError):
        threads = os.cpu_count() or 1
    return max(1, 2 * threads)


def _empty_result(cfg: WindowOptions, meta: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The engine's five frames over the Dask frame's meta (no rows).

    Running the engine checks the options against the schema at once, and
    gives the frames' columns and dtypes.
    """
    output, state = process_chunk(cfg, State(), meta)
    _, pending = finish(cfg, state)
    return {
        "windows": output.windows,
        "pending": pending,
        "late": resolve(output.late),
        "rejected": resolve(output.rejected),
        "trace": resolve(output.trace),
    }


def _chains(cfg: WindowOptions, meta: pd.DataFrame, buckets: Any) -> tuple[int, Carriers | None]:
    """How many chains run, and the carriers of scope "global" when it runs in several."""
    if buckets is not None and (
        isinstance(buckets, bool) or not isinstance(buckets, (int, np.integer)) or buckets < 1
    ):
        raise ValueError(f"buckets: got {buckets!r}; give a whole number >= 1 (or None)")
    # An idle timeout couples every scope to the global maximum: one chain.
    n_buckets = 1 if cfg.policy.idle_timeout is not None else int(buckets or default_buckets())
    if cfg.scope == "partition":
        n_buckets = min(n_buckets, cfg.partitions)
    if cfg.scope != "global" or n_buckets == 1:
        return n_buckets, None
    phantoms = None if cfg.key is None else phantom_keys(meta[cfg.key].dtype, n_buckets)
    if phantoms is None:
        return 1, None  # no phantom key for this key dtype: one chain
    return n_buckets, Carriers(cfg, meta[cfg.key].dtype, phantoms)


def tumbling_windows(
    ddf: dd.DataFrame,
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
    buckets: int | None = None,
    **policy_keywords: Any,
) -> DaskWindowResult:
    """Event-time tumbling windows over a Dask DataFrame, exactly as pandas.

    Takes the options of :func:`mdwindow.tumbling_windows`. The partitions
    of ``ddf`` must be in arrival order: all rows of partition ``i`` arrive
    before those of partition ``i + 1`` (with ``arrival_time``, no partition
    may start before an earlier one ends). Nothing is computed until the
    result is; options are checked at once against ``ddf``'s schema.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        The ticks, partitions in arrival order.
    spec, policy, time, key, agg, emit, arrival_time, time_unit, partitions, hash, seed, \
price, size, **policy_keywords
        As for :func:`mdwindow.tumbling_windows`.
    buckets : int, optional
        How many chains the keys are spread over (at most ``partitions``
        with scope "partition"). Default: twice the threads of the current
        Dask client, or of this machine. Results never depend on it. Runs
        with ``idle_timeout``, and scope "global" without a key or with keys
        that are neither strings nor integers, always run one chain.

    Returns
    -------
    DaskWindowResult
        Lazy frames; ``.compute()`` gives the pandas :class:`WindowResult`.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> result = tumbling_windows(dd.from_pandas(ticks, npartitions=3), "2s",
    ...                           allowed_lateness="1s")
    >>> result.windows.npartitions
    4
    >>> result.compute().windows[["window_start", "count", "emit_row"]]
                   window_start  count  emit_row
    0 1970-01-01 00:00:00+00:00      4         5
    1 1970-01-01 00:00:02+00:00      1         5
    """
    require_dask_frame(ddf, "tumbling_windows")
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
    meta = _empty_result(cfg, ddf._meta)
    n_buckets, carriers = _chains(cfg, ddf._meta, buckets)
    gathered, end = fold(cfg, ddf.to_delayed(), n_buckets, carriers)
    divisions = ddf.divisions if ddf.known_divisions else None

    def frame(pieces: list, name: str, **kwargs: Any) -> dd.DataFrame:
        return dd.from_delayed(
            pieces, meta=meta[name], prefix=f"mdwindow-{name}", verify_meta=False, **kwargs
        )

    return DaskWindowResult(
        windows=frame([g[0] for g in gathered] + [end[0]], "windows"),
        pending=frame([end[1]], "pending"),
        late=frame([g[1] for g in gathered], "late"),
        rejected=frame([g[2] for g in gathered], "rejected"),
        trace=frame([g[3] for g in gathered], "trace", divisions=divisions),
    )
