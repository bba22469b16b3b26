"""Deterministic hash partitioning of ticks by key (SPEC section 8).

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

import numbers
import struct
from collections.abc import Callable, Iterable
from typing import Any

import mmh3
import numpy as np
import pandas as pd

__all__ = [
    "HASHES",
    "hash_partition",
    "key_bytes",
    "murmur2",
    "partition_balance",
    "partition_ids",
    "partition_ids_for_uniques",
]

HASHES: tuple[str, ...] = ("murmur3", "kafka")

# Constants of org.apache.kafka.common.utils.Utils.murmur2. Changing any of
# them would silently move every key to a different Kafka partition.
_KAFKA_SEED = 0x9747B28C
_KAFKA_M = 0x5BD1E995
_KAFKA_R = 24
_UINT32 = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's 32-bit murmur2 hash of ``data``, as a signed int like Java's.

    Bit-exact with ``org.apache.kafka.common.utils.Utils.murmur2`` (seed
    ``0x9747b28c``), which Kafka's default partitioner applies to the
    serialized record key.

    Parameters
    ----------
    data : bytes
        The bytes to hash (``bytearray`` and ``memoryview`` are accepted too).

    Returns
    -------
    int
        The hash in ``[-2**31, 2**31)``, the value a Java ``int`` would hold.

    See Also
    --------
    key_bytes : The bytes a key is hashed as.

    Examples
    --------
    The Kafka partition of a key is ``(murmur2(key) & 0x7fffffff) % P``:

    >>> murmur2(b"21")
    -973932308
    >>> (murmur2(b"AAPL") & 0x7FFFFFFF) % 6
    3
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(
            f"murmur2: data must be bytes; got {type(data).__name__} {data!r}. "
            "Encode the key first, e.g. murmur2(key_bytes(key))."
        )
    data = bytes(data)
    length = len(data)
    # Python ints are unbounded, so every multiplication is masked back to
    # 32 bits to reproduce Java's wrapping int arithmetic.
    h = (_KAFKA_SEED ^ length) & _UINT32
    body = length & ~3
    for k in struct.unpack_from(f"<{body // 4}I", data):
        k = (k * _KAFKA_M) & _UINT32
        k ^= k >> _KAFKA_R
        k = (k * _KAFKA_M) & _UINT32
        h = ((h * _KAFKA_M) & _UINT32) ^ k
    tail = length & 3
    if tail == 3:
        h ^= data[body + 2] << 16
    if tail >= 2:
        h ^= data[body + 1] << 8
    if tail >= 1:
        h ^= data[body]
        h = (h * _KAFKA_M) & _UINT32
    h ^= h >> 13
    h = (h * _KAFKA_M) & _UINT32
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def key_bytes(key: Any) -> bytes:
    """The bytes a key is hashed as: UTF-8 of ``str(key)``, bytes as they are.

    Parameters
    ----------
    key : object
        A key value. ``bytes``, ``bytearray`` and ``memoryview`` are used
        unchanged; anything else is converted with ``str`` first, so the int
        ``7`` and the string ``"7"`` land on the same partition, while the
        float ``7.0`` (``"7.0"``) may not.

    Returns
    -------
    bytes

    Examples
    --------
    >>> key_bytes("AAPL")
    b'AAPL'
    >>> key_bytes(42)
    b'42'
    >>> key_bytes(b"\\x00raw")
    b'\\x00raw'
    """
    if isinstance(key, bytes):
        return key
    if isinstance(key, bytearray | memoryview):
        return bytes(key)
    return str(key).encode("utf-8")


def _check_partitions(partitions: Any) -> int:
    # bool is an int subclass, but partitions=True is always a mistake.
    if isinstance(partitions, bool | np.bool_) or not isinstance(partitions, numbers.Integral):
        raise TypeError(
            f"partitions must be an int >= 1; got {type(partitions).__name__} "
            f"{partitions!r}. Pass the number of partitions, e.g. partitions=8."
        )
    if partitions < 1:
        raise ValueError(
            f"partitions must be an int >= 1; got {partitions!r}. "
            "Pass the number of partitions, e.g. partitions=8."
        )
    return int(partitions)


def _check_hash(hash: Any, seed: Any) -> tuple[str, int]:
    if hash not in HASHES:
        choices = ", ".join(repr(name) for name in HASHES)
        raise ValueError(f"hash must be one of {choices}; got {hash!r}.")
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"seed must be an int in [0, 2**32); got {type(seed).__name__} {seed!r}. "
            "Leave the default seed=0 unless you need a different placement."
        )
    if not 0 <= seed <= _UINT32:
        raise ValueError(
            f"seed must be an int in [0, 2**32) (murmur3 takes an unsigned 32-bit seed); "
            f"got {seed!r}."
        )
    if hash == "kafka" and seed != 0:
        raise ValueError(
            f"seed must be 0 (the default) with hash='kafka'; got {seed!r}. Kafka's "
            "partitioner always uses murmur2 with the fixed seed 0x9747b28c, so any other "
            "seed would no longer match Kafka. Use hash='murmur3' to choose a seed."
        )
    return hash, int(seed)


def _hasher(hash: str, seed: int) -> Callable[[bytes], int]:
    """A function from key bytes to a non-negative hash, before ``mod P``."""
    if hash == "kafka":
        # Kafka's Utils.toPositive clears the sign bit; abs() would send every
        # key with a negative hash to a different partition than Kafka does.
        return lambda data: murmur2(data) & 0x7FFFFFFF
    return lambda data: mmh3.hash(data, seed, signed=False)


def _partitions_of(
    uniques: Iterable[Any], count: int, hash: str, seed: int, partitions: int
) -> np.ndarray:
    hash_one = _hasher(hash, seed)
    hashes = np.fromiter(
        (hash_one(key_bytes(value)) for value in uniques), dtype=np.int64, count=count
    )
    return hashes % partitions


def partition_ids_for_uniques(
    uniques: Any, partitions: int, hash: str = "murmur3", seed: int = 0
) -> np.ndarray:
    """Partition of each value in an array of distinct, non-missing keys.

    This is the per-key step of :func:`partition_ids`, for callers that keep
    their own key dictionary (such as the windowing engine) and map rows to it
    themselves.

    Parameters
    ----------
    uniques : array-like
        Distinct key values, none missing. Duplicates give correct results but
        are hashed again.
    partitions : int
        Number of partitions ``P >= 1``.
    hash : {"murmur3", "kafka"}, default "murmur3"
        Hash function; see :data:`HASHES`.
    seed : int, default 0
        Seed for ``"murmur3"``, in ``[0, 2**32)``. Must be 0 for ``"kafka"``.

    Returns
    -------
    numpy.ndarray
        ``int64`` partition numbers in ``[0, partitions)``, one per value.

    Raises
    ------
    ValueError
        If a value is missing (None, NaN, pd.NA), or an argument is invalid.

    Examples
    --------
    >>> partition_ids_for_uniques(["AAPL", "MSFT", "NVDA"], 2).tolist()
    [1, 0, 1]
    >>> partition_ids_for_uniques(["AAPL", "MSFT", "NVDA"], 6, hash="kafka").tolist()
    [3, 0, 5]
    """
    partitions = _check_partitions(partitions)
    hash, seed = _check_hash(hash, seed)
    if isinstance(uniques, str | bytes):
        raise TypeError(
            f"uniques must be an array of keys; got the single {type(uniques).__name__} "
            f"{uniques!r}. Wrap it in a list: [{uniques!r}]."
        )
    if not hasattr(uniques, "__len__"):
        uniques = list(uniques)
    missing = np.asarray(pd.isna(uniques))
    if missing.any():
        raise ValueError(
            f"uniques must not contain missing keys; got {int(missing.sum())} "
            "(None, NaN or pd.NA). Drop them first; partition_ids maps them to -1."
        )
    return _partitions_of(uniques, len(missing), hash, seed, partitions)


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
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, uniques


def _ids_by_code(
    keys: Any, partitions: int, hash: str, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the keys and the partition of each code, with -1 for code -1."""
    partitions = _check_partitions(partitions)
    hash, seed = _check_hash(hash, seed)
    codes, uniques = _codes_and_uniques(keys)
    table = np.empty(len(uniques) + 1, dtype=np.int64)
    table[:-1] = _partitions_of(uniques, len(uniques), hash, seed, partitions)
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
    keys : pandas.Series, pandas.Index, numpy.ndarray or list
        One key per row. Keys are hashed as the UTF-8 bytes of ``str(key)``,
        bytes keys as they are (see :func:`key_bytes`).
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
    """
    codes, table = _ids_by_code(keys, partitions, hash, seed)
    return table[codes]


def _key_column(ticks: Any, key: Any, caller: str) -> pd.Series:
    if not isinstance(ticks, pd.DataFrame):
        raise TypeError(f"{caller}: ticks must be a DataFrame; got {type(ticks).__name__}.")
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
    ticks: pd.DataFrame,
    key: Any = "symbol",
    partitions: int = 8,
    *,
    hash: str = "murmur3",
    seed: int = 0,
) -> list[pd.DataFrame]:
    """Split ticks into one frame per partition of their key.

    Parameters
    ----------
    ticks : pandas.DataFrame
        The rows to split.
    key : column label, default "symbol"
        Column holding the partition key.
    partitions : int, default 8
        Number of partitions ``P >= 1``.
    hash : {"murmur3", "kafka"}, default "murmur3"
        Hash function; see :func:`partition_ids`.
    seed : int, default 0
        Seed for ``"murmur3"``; must be 0 for ``"kafka"``.

    Returns
    -------
    list of pandas.DataFrame
        Exactly ``partitions`` frames; frame ``p`` holds the rows whose key
        lands on partition ``p``, in their original order and with their
        original index labels. Empty partitions are empty frames with the
        same columns and dtypes. Every row is in exactly one frame.

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
    return [ticks.iloc[order[start:stop]] for start, stop in zip(starts, stops, strict=True)]


def partition_balance(
    ticks: pd.DataFrame,
    key: Any = "symbol",
    partitions: int = 8,
    *,
    hash: str = "murmur3",
    seed: int = 0,
) -> pd.DataFrame:
    """How evenly rows and keys spread over the partitions.

    Parameters
    ----------
    ticks : pandas.DataFrame
        The rows to count.
    key : column label, default "symbol"
        Column holding the partition key.
    partitions : int, default 8
        Number of partitions ``P >= 1``.
    hash : {"murmur3", "kafka"}, default "murmur3"
        Hash function; see :func:`partition_ids`.
    seed : int, default 0
        Seed for ``"murmur3"``; must be 0 for ``"kafka"``.

    Returns
    -------
    pandas.DataFrame
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
        which are counted in no partition.

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
    column = _key_column(ticks, key, "partition_balance")
    codes, table = _ids_by_code(column, partitions, hash, seed)
    partitions = int(partitions)
    present = codes >= 0
    rows = np.bincount(table[codes[present]], minlength=partitions).astype(np.int64)
    # Count a key only if some row uses it: categorical keys can carry unused
    # categories, which must not inflate the per-partition key counts.
    used = np.bincount(codes[present], minlength=len(table) - 1) > 0
    keys = np.bincount(table[:-1][used], minlength=partitions).astype(np.int64)
    return balance_frame(rows, keys, int(np.count_nonzero(~present)))


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
