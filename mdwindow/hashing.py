"""Deterministic hash partitioning of ticks by key (SPEC section 8).

The partitioning of columns and frames; the hash functions themselves are in
:mod:`mdwindow.core.hashing` (and importable from here).

A key goes to partition ``H(key) mod P``, where ``H`` hashes the UTF-8 bytes
of ``str(key)`` (bytes keys as they are). Two hash functions are offered,
named in :data:`HASHES`:

``"murmur3"``
    ``mmh3.hash(bytes, seed, signed=False)``, the default.
``"kafka"``
    Kafka's default partitioner for keyed records,
    ``(murmur2(bytes) & 0x7fffffff) mod P``, bit-exact with the Java client, so
    you can see which Kafka partition a symbol lands on.

Python's built-in ``hash()`` is salted per process and is never used, so
partition numbers are the same in every process and on every machine.

Examples
--------
>>> HASHES
('murmur3', 'kafka')
>>> partition_ids(["AAPL", "MSFT", "NVDA"], 2).tolist()
[1, 0, 1]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.hashing import (
    HASHES,
    check_hash,
    check_partitions,
    key_bytes,
    murmur2,
    partition_ids_for_uniques,
    partitions_of,
)
from mdwindow.core.keys import KEY_KINDS, is_missing_key, key_kind
from mdwindow.interchange import (
    ACCEPTED_FRAMES,
    FrameKind,
    FrameLike,
    frame_library,
    read_column,
    read_frame,
    write_frame,
)

__all__ = [
    "DEFAULT_PARTITIONS",
    "HASHES",
    "balance_frame",
    "hash_partition",
    "key_bytes",
    "murmur2",
    "partition_balance",
    "partition_ids",
    "partition_ids_for_uniques",
]

#: Partitions of :func:`hash_partition` and :func:`partition_balance` when none are given.
DEFAULT_PARTITIONS = 8


def _codes_and_uniques(keys: Any) -> tuple[np.ndarray, Any]:
    """Codes into distinct keys (-1 for missing) and the distinct keys."""
    if isinstance(keys, str | bytes):
        raise TypeError(
            f"keys must be a Series, Index, array or list of keys; got the single "
            f"{type(keys).__name__} {keys!r}. Wrap it in a list: [{keys!r}]."
        )
    if isinstance(keys, pd.DataFrame):
        raise TypeError(
            "keys must be one column of keys, not a DataFrame; pass ticks[column] instead."
        )
    if isinstance(keys, pd.Series | pd.Index):
        # Factorizing the plain ndarray is about twice as fast as going
        # through the NumpyExtensionArray wrapper that .array returns.
        values = keys.to_numpy() if isinstance(keys.dtype, np.dtype) else keys.array
    elif isinstance(keys, np.ndarray | pd.api.extensions.ExtensionArray):
        values = keys
    else:
        # An object array keeps each key as given: np.asarray would turn
        # [1, "a"] into strings and pd.Index would turn [1, 1.5] into floats,
        # both changing str(key) and so the partition.
        items = list(keys)
        values = np.fromiter(items, dtype=object, count=len(items))
    if isinstance(values, pd.Categorical):
        # The codes already number the distinct keys, so factorizing again
        # would only cost time. Unused categories get hashed too, harmlessly.
        return values.codes, values.categories
    mixed = getattr(values, "dtype", None) == np.dtype(object) and key_kind(values) not in (
        *KEY_KINDS,
        "empty",
    )
    if mixed:
        # Keys of several types: factorizing would make 1, 1.0 and True one
        # key, hashed as whichever came first. Tagged with their type, each
        # key is its own, and its partition depends on that key alone.
        tagged = np.fromiter(
            (None if is_missing_key(v) else (type(v), v) for v in values),
            dtype=object,
            count=len(values),
        )
        codes, pairs = pd.factorize(tagged, use_na_sentinel=True)
        uniques = np.fromiter((pair[1] for pair in pairs), dtype=object, count=len(pairs))
        return codes, uniques
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, uniques


def _ids_by_code(
    keys: Any, partitions: int, hash: str, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the keys and the partition of each code, with -1 for code -1."""
    partitions = check_partitions(partitions)
    hash, seed = check_hash(hash, seed)
    codes, uniques = _codes_and_uniques(keys)
    table = np.empty(len(uniques) + 1, dtype=np.int64)
    table[:-1] = partitions_of(uniques, len(uniques), hash, seed, partitions)
    # The missing-key code is -1, which numpy indexing reads as "last
    # element", so a trailing -1 maps missing keys without a masked pass.
    table[-1] = -1
    return codes, table


def partition_ids(
    keys: Any, partitions: int, *, hash: str = "murmur3", seed: int = 0
) -> np.ndarray:
    """Partition number of every key, in order; -1 where the key is missing.

    Each distinct key is hashed once (``pd.factorize``, or the codes of a
    categorical), then the result is taken by code, so millions of rows with
    thousands of symbols take about as long as factorizing the column.

    Parameters
    ----------
    keys : pandas.Series, pandas.Index, numpy.ndarray, list, polars.Series or Arrow array
        One key per row. Keys are hashed as the UTF-8 bytes of ``str(key)``,
        bytes keys as they are (see :func:`key_bytes`). A polars Series, a
        pyarrow Array or ChunkedArray (or an object with ``__arrow_c_stream__``)
        is read as :func:`mdwindow.interchange.read_column` reads it.
    partitions : int
        Number of partitions ``P >= 1``.
    hash : {"murmur3", "kafka"}, default "murmur3"
        ``"murmur3"``: ``mmh3.hash(bytes, seed, signed=False) % P``.
        ``"kafka"``: ``(murmur2(bytes) & 0x7fffffff) % P``, the partition
        Kafka's default partitioner picks for that key.
    seed : int, default 0
        Seed for ``"murmur3"``, in ``[0, 2**32)``. Must be 0 for ``"kafka"``,
        whose seed is fixed.

    Returns
    -------
    numpy.ndarray
        ``int64``, one value per key: a partition in ``[0, partitions)``, or
        -1 for a missing key (None, NaN, pd.NA).

    Examples
    --------
    >>> partition_ids(pd.Series(["AAPL", "MSFT", None, "AAPL"]), 2).tolist()
    [1, 0, -1, 1]
    >>> partition_ids(["AAPL", "MSFT", "NVDA"], 6, hash="kafka").tolist()
    [3, 0, 5]
    >>> import pyarrow as pa
    >>> partition_ids(pa.array(["AAPL", "MSFT", None]).dictionary_encode(), 2).tolist()
    [1, 0, -1]
    """
    codes, table = _ids_by_code(read_column(keys), partitions, hash, seed)
    return table[codes]


def _read_ticks(
    ticks: Any, key: Any, output: str | None, caller: str
) -> tuple[pd.DataFrame, FrameKind]:
    if frame_library(ticks) is None:
        raise TypeError(
            f"{caller}: ticks must be a DataFrame; got {type(ticks).__name__}. "
            f"Give {ACCEPTED_FRAMES}."
        )
    return read_frame(ticks, output=output, columns=(key,) if isinstance(key, str) else None)


def _key_column(ticks: pd.DataFrame, key: Any, caller: str) -> pd.Series:
    if key not in ticks.columns:
        available = ", ".join(repr(column) for column in ticks.columns) or "none"
        raise KeyError(
            f"{caller}: key column {key!r} is not in ticks; available columns: {available}. "
            "Pass key=<column name>."
        )
    column = ticks[key]
    if isinstance(column, pd.DataFrame):
        raise ValueError(
            f"{caller}: key column {key!r} appears {column.shape[1]} times in ticks; "
            "rename the duplicates so the key is a single column."
        )
    return column


def hash_partition(
    ticks: FrameLike,
    key: Any = "symbol",
    partitions: int = DEFAULT_PARTITIONS,
    *,
    hash: str = "murmur3",
    seed: int = 0,
    output: str | None = None,
) -> list[FrameLike]:
    """Split ticks into one frame per partition of their key.

    Parameters
    ----------
    ticks : pandas, polars or Arrow frame
        The rows to split (see :mod:`mdwindow.interchange` for the kinds).
    key : column label, default "symbol"
        Column holding the partition key.
    partitions : int, default 8
        Number of partitions ``P >= 1``.
    hash : {"murmur3", "kafka"}, default "murmur3"
        Hash function; see :func:`partition_ids`.
    seed : int, default 0
        Seed for ``"murmur3"``; must be 0 for ``"kafka"``.
    output : {None, "pandas", "polars", "arrow"}
        The library of the frames; None gives the input's.

    Returns
    -------
    list of frames
        Exactly ``partitions`` frames; frame ``p`` holds the rows whose key
        lands on partition ``p``, in their original order and with their
        original index labels (pandas; polars and Arrow frames have the
        input's columns and types, and no index). Empty partitions are empty
        frames with the same columns and dtypes. Every row is in exactly one
        frame.

    Raises
    ------
    KeyError
        If ``key`` is not a column of ``ticks``.
    ValueError
        If any row's key is missing. Rows are never dropped silently: drop or
        fill them first.

    See Also
    --------
    partition_balance : How evenly the rows would spread.

    Examples
    --------
    >>> ticks = pd.DataFrame(
    ...     {"symbol": ["AAPL", "MSFT", "NVDA", "MSFT"], "price": [1.0, 2.0, 3.0, 4.0]},
    ...     index=[10, 11, 12, 13],
    ... )
    >>> left, right = hash_partition(ticks, partitions=2)
    >>> left
       symbol  price
    11   MSFT    2.0
    13   MSFT    4.0
    >>> right.index.tolist()
    [10, 12]
    """
    ticks, kind = _read_ticks(ticks, key, output, "hash_partition")
    column = _key_column(ticks, key, "hash_partition")
    ids = partition_ids(column, partitions, hash=hash, seed=seed)
    missing = int(np.count_nonzero(ids < 0))
    if missing:
        raise ValueError(
            f"hash_partition: {missing} of {len(ids)} rows have a missing key in column "
            f"{key!r}; hash_partition never drops rows silently. Drop them "
            f"(ticks.dropna(subset=[{key!r}])) or fill them "
            f"(ticks.fillna({{{key!r}: ...}})) first."
        )
    partitions = int(partitions)
    # A stable sort keeps rows in their original order inside each partition;
    # int16 ids let numpy use its O(n) radix sort instead of a merge sort.
    sortable = ids.astype(np.int16) if partitions <= np.iinfo(np.int16).max else ids
    order = np.argsort(sortable, kind="stable")
    sizes = np.bincount(ids, minlength=partitions)
    stops = np.cumsum(sizes)
    starts = stops - sizes
    return [
        write_frame(ticks.iloc[order[start:stop]], kind, rows=True)
        for start, stop in zip(starts, stops, strict=True)
    ]


def partition_balance(
    ticks: FrameLike,
    key: Any = "symbol",
    partitions: int = DEFAULT_PARTITIONS,
    *,
    hash: str = "murmur3",
    seed: int = 0,
    output: str | None = None,
) -> FrameLike:
    """How evenly rows and keys spread over the partitions.

    Parameters
    ----------
    ticks : pandas, polars or Arrow frame
        The rows to count (see :mod:`mdwindow.interchange` for the kinds).
    key : column label, default "symbol"
        Column holding the partition key.
    partitions : int, default 8
        Number of partitions ``P >= 1``.
    hash : {"murmur3", "kafka"}, default "murmur3"
        Hash function; see :func:`partition_ids`.
    seed : int, default 0
        Seed for ``"murmur3"``; must be 0 for ``"kafka"``.
    output : {None, "pandas", "polars", "arrow"}
        The library of the result; None gives the input's.

    Returns
    -------
    pandas.DataFrame (or polars DataFrame, Arrow table)
        One row per partition ``0 .. P-1`` (RangeIndex), with columns

        ``partition`` (int64)
            The partition number.
        ``rows`` (int64)
            Rows landing on it.
        ``keys`` (int64)
            Distinct keys landing on it.
        ``share`` (float64)
            ``rows`` over all rows with a key; 0.0 when there are none.

        ``frame.attrs["max_mean_ratio"]`` is the largest ``rows`` over the
        mean ``rows`` (1.0 is perfect balance; NaN when no row has a key), and
        ``frame.attrs["missing_keys"]`` the number of rows with a missing key,
        which are counted in no partition. An Arrow table keeps these in its
        schema metadata; a polars frame cannot hold them.

    Raises
    ------
    KeyError
        If ``key`` is not a column of ``ticks``.

    Examples
    --------
    >>> ticks = pd.DataFrame({"symbol": ["AAPL", "MSFT", "NVDA", "MSFT", None]})
    >>> balance = partition_balance(ticks, partitions=2)
    >>> balance
       partition  rows  keys  share
    0          0     2     1    0.5
    1          1     2     2    0.5
    >>> balance.attrs
    {'max_mean_ratio': 1.0, 'missing_keys': 1}
    """
    ticks, kind = _read_ticks(ticks, key, output, "partition_balance")
    column = _key_column(ticks, key, "partition_balance")
    codes, table = _ids_by_code(column, partitions, hash, seed)
    partitions = int(partitions)
    present = codes >= 0
    rows = np.bincount(table[codes[present]], minlength=partitions).astype(np.int64)
    # Count a key only if some row uses it: categorical keys can carry unused
    # categories, which must not inflate the per-partition key counts.
    used = np.bincount(codes[present], minlength=len(table) - 1) > 0
    keys = np.bincount(table[:-1][used], minlength=partitions).astype(np.int64)
    return write_frame(balance_frame(rows, keys, int(np.count_nonzero(~present))), kind)


def balance_frame(rows: np.ndarray, keys: np.ndarray, missing_keys: int) -> pd.DataFrame:
    """The :func:`partition_balance` frame of per-partition row and key counts.

    ``attrs`` carry ``max_mean_ratio`` (NaN without rows) and ``missing_keys``.
    """
    partitions = len(rows)
    total = int(rows.sum())
    share = rows / total if total else np.zeros(partitions, dtype=np.float64)
    balance = pd.DataFrame(
        {
            "partition": np.arange(partitions, dtype=np.int64),
            "rows": rows,
            "keys": keys,
            "share": share.astype(np.float64),
        }
    )
    balance.attrs["max_mean_ratio"] = float(rows.max() / rows.mean()) if total else float("nan")
    balance.attrs["missing_keys"] = int(missing_keys)
    return balance
