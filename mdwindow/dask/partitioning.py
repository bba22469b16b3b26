"""Hash partitioning of Dask DataFrames: the Dask counterparts of :mod:`mdwindow.hashing`."""

from __future__ import annotations

from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
from dask import delayed

from mdwindow import hashing
from mdwindow.dask.gather import concat_frames
from mdwindow.dask.windows import require_dask_frame


def _split_by_hash(frame: pd.DataFrame, key: Any, partitions: int, hash: str, seed: int):
    return tuple(hashing.hash_partition(frame, key, partitions, hash=hash, seed=seed))


def hash_partition(
    ddf: dd.DataFrame,
    key: Any = "symbol",
    partitions: int = 8,
    *,
    hash: str = "murmur3",
    seed: int = 0,
) -> dd.DataFrame:
    """Repartition by the hash of the key: Dask partition ``p`` holds hash partition ``p``.

    The Dask counterpart of :func:`mdwindow.hash_partition`: partition ``p``
    of the result, computed, equals the ``p``-th frame that function returns
    on ``ddf.compute()`` (rows in their original order, original index).

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        The rows to split.
    key, partitions, hash, seed
        As for :func:`mdwindow.hash_partition`. A missing key raises when
        the partition holding it is computed.

    Returns
    -------
    dask.dataframe.DataFrame
        Exactly ``partitions`` partitions, unknown divisions.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> ticks = pd.DataFrame({"symbol": ["AAPL", "MSFT", "NVDA", "MSFT"], "price": [1.0, 2, 3, 4]})
    >>> parts = hash_partition(dd.from_pandas(ticks, npartitions=2), partitions=2)
    >>> parts.partitions[0].compute()
      symbol  price
    1   MSFT    2.0
    3   MSFT    4.0
    """
    require_dask_frame(ddf, "hash_partition")
    hashing.hash_partition(ddf._meta, key, partitions, hash=hash, seed=seed)  # checks
    partitions = int(partitions)
    split = delayed(_split_by_hash, nout=partitions)
    splits = [split(part, key, partitions, hash, seed) for part in ddf.to_delayed()]
    gathered = [delayed(concat_frames)([s[p] for s in splits]) for p in range(partitions)]
    return dd.from_delayed(gathered, meta=ddf._meta, prefix="mdwindow-hash", verify_meta=False)


def _key_counts(frame: pd.DataFrame, key: Any) -> tuple[pd.Series, int]:
    column = frame[key]
    counts = column.value_counts(dropna=True, sort=False)
    return counts[counts > 0], int(column.isna().sum())


def partition_balance(
    ddf: dd.DataFrame,
    key: Any = "symbol",
    partitions: int = 8,
    *,
    hash: str = "murmur3",
    seed: int = 0,
) -> pd.DataFrame:
    """How evenly rows and keys would spread over the hash partitions (computed now).

    The Dask counterpart of :func:`mdwindow.partition_balance`, with the same
    frame and ``attrs``. Only the count of rows per distinct key comes back
    from the workers.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> ticks = pd.DataFrame({"symbol": ["AAPL", "MSFT", "NVDA", "MSFT", None]})
    >>> partition_balance(dd.from_pandas(ticks, npartitions=2), partitions=2)
       partition  rows  keys  share
    0          0     2     1    0.5
    1          1     2     2    0.5
    """
    require_dask_frame(ddf, "partition_balance")
    hashing.partition_balance(ddf._meta, key, partitions, hash=hash, seed=seed)  # checks
    partitions = int(partitions)
    tallies = dask.compute(*[delayed(_key_counts)(p, key) for p in ddf[[key]].to_delayed()])
    counts = pd.concat([t[0] for t in tallies])
    counts = counts.groupby(level=0, sort=False, observed=True).sum()
    table = hashing.partition_ids_for_uniques(counts.index, partitions, hash=hash, seed=seed)
    rows = np.bincount(table, weights=counts.to_numpy(), minlength=partitions).astype(np.int64)
    keys = np.bincount(table, minlength=partitions).astype(np.int64)
    return hashing.balance_frame(rows, keys, sum(t[1] for t in tallies))
