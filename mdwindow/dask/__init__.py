"""The Dask backend: the same windows as pandas, for frames that outgrow one machine.

:func:`tumbling_windows` takes a Dask DataFrame whose partitions are in
arrival order (the first partition's rows arrive first; inside a partition,
row order or the stable order of ``arrival_time``) and returns a
:class:`DaskWindowResult` whose frames are Dask DataFrames;
``result.compute()`` is exactly the :class:`~mdwindow.WindowResult` that
:func:`mdwindow.tumbling_windows` gives on ``ddf.compute()``.

How it runs
-----------
Nothing here re-implements the semantics: every row goes through the
engine's step, :func:`mdwindow.core.engine.process_chunk`, which on any
split of a frame into chunks gives exactly the batch result (SPEC 9). The
work is a *fold* (:mod:`mdwindow.dask.chains`): one step per Dask
partition, in arrival order, the engine's state handed from task to task. A
task holds one partition (or a slice of one) plus the state, which keeps
only open windows and one maximum per scope, so memory per worker is
bounded by the partition size, not by the frame.

Scope "key" and "partition" (without ``idle_timeout``)
    A key's watermark depends on that key's rows only (a partition's on that
    hash partition's rows), so the keys are split into ``buckets`` groups that
    never share a watermark: by ``partition_ids(key, buckets)`` for scope
    "key", by the hash partition modulo ``buckets`` for scope "partition".
    Each input partition is split by bucket (a task-based shuffle that keeps
    whole keys together) and each bucket folds its slices in arrival order:
    ``buckets`` independent chains run in parallel. The rows keep their global
    arrival position (input partition offset plus position in the partition's
    arrival order), so ``emit_row`` and ``arrival`` are mapped back exactly,
    and the outputs of each input partition are merged in emission order
    (:mod:`mdwindow.dask.gather`); windows still open at the end are ordered
    by ``(window_start, key)`` in the engine's key order. A row can close
    only windows of its own bucket, so merging by ``emit_row`` alone is exact.
Scope "global" (string or integer keys, ``buckets`` > 1)
    One watermark couples every key, yet a bucket's chain needs only to know
    when that watermark reaches a window end ``E`` or a close ``E + L``: no
    comparison of the row rules looks at anything else. The split also finds
    the rows after which the running maximum of event time carries the
    watermark past such a level (*crossings*), and puts a copy of each
    crossing row of another bucket into every bucket's piece, with a
    *phantom* key that no key of that bucket can equal (a value that hashes
    to another bucket). These *carriers* lift the bucket's watermark to the
    global one at every crossing and never above it, so each bucket runs
    the engine on its own rows with the true status of every row and closes
    every window right after the true row (mapped back through the carrier's
    arrival position). The phantom key's windows and the carriers' rows are
    dropped, and the columns that show the watermark (``watermark_before``
    and ``watermark_after`` of the trace, ``watermark`` and ``late_by`` of
    late rows, ``emit_watermark``) are rewritten from the global running
    maximum: each partition's own, after the largest event time of earlier
    partitions, carried along with the arrival cursor. Windows closed by one
    row in several buckets are ordered by ``(window_start, key)``. Carriers
    are few: at most two crossings per window size of event-time progress,
    plus one per input partition, each copied into the other buckets; see
    :mod:`mdwindow.dask.carriers`.
Any ``idle_timeout``, scope "global" with ``key=None`` or keys of other dtypes
(object, categorical, float, ...)
    One chain: one task per input partition, in order. Memory stays bounded,
    but **there is no parallelism** beyond reading the partitions: expect
    about the pandas run time plus scheduling.

The state travels between tasks as a Python object (Dask pickles it only
when consecutive steps run on different workers). The engine returns a new
state and leaves the one it is given as it was, and each state is consumed
by one step only, so no task changes its input.

Costs: one read of each input partition; the heaviest key (a whole bucket)
is a sequential unit, so it bounds the speedup, and slices of a lagging chain
wait in memory until it catches up; the windows still open at the end come
together in one task (they are the engine's own end state).

Examples
--------
>>> import dask.dataframe as dd
>>> import pandas as pd
>>> ticks = pd.DataFrame({
...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
...     "symbol": ["A", "B", "A", "B", "A", "A", "B"],
... })
>>> ddf = dd.from_pandas(ticks, npartitions=3, sort=False)
>>> result = tumbling_windows(ddf, "2s", allowed_lateness="1s", scope="key")
>>> result.compute().windows[["symbol", "window_start", "count", "emit_row"]]
  symbol              window_start  count  emit_row
0      A 1970-01-01 00:00:00+00:00      2         5
1      A 1970-01-01 00:00:02+00:00      1         5
"""

from __future__ import annotations

try:
    import dask  # noqa: F401
    import dask.dataframe  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'mdwindow.dask needs Dask: install the extra with pip install "mdwindow[dask]" '
        "(dask[dataframe] and distributed)"
    ) from exc

from mdwindow.dask.partitioning import hash_partition, partition_balance
from mdwindow.dask.result import DaskWindowResult
from mdwindow.dask.windows import tumbling_windows

__all__ = ["DaskWindowResult", "hash_partition", "partition_balance", "tumbling_windows"]
