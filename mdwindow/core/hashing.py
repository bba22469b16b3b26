"""The hash functions of partitioning: murmur3 and Kafka's murmur2 (SPEC section 8).

A key goes to partition ``H(key) mod P``, where ``H`` hashes the UTF-8 bytes
of ``str(key)`` (bytes keys as they are). The hash functions are named in
:data:`HASHES`:

``"murmur3"``
    ``mmh3.hash(bytes, seed, signed=False)``, the default.
``"kafka"``
    Kafka's default partitioner for keyed records,
    ``(murmur2(bytes) & 0x7fffffff) mod P``, bit-exact with the Java client.

Python's built-in ``hash()`` is salted per process and is never used, so
partition numbers are the same in every process and on every machine. The
engine maps its key dictionary to partitions with
:func:`partition_ids_for_uniques`; the public partitioning functions of
frames and columns are in :mod:`mdwindow.hashing`.
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
    "check_hash",
    "check_partitions",
    "key_bytes",
    "murmur2",
    "partition_ids_for_uniques",
    "partitions_of",
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


def check_partitions(partitions: Any) -> int:
    """The number of partitions ``P``, checked: an int >= 1.

    Examples
    --------
    >>> check_partitions(8)
    8
    """
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


def check_hash(hash: Any, seed: Any) -> tuple[str, int]:
    """The hash function's name and seed, checked together.

    Examples
    --------
    >>> check_hash("kafka", 0)
    ('kafka', 0)
    """
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


def partitions_of(
    uniques: Iterable[Any], count: int, hash: str, seed: int, partitions: int
) -> np.ndarray:
    """``H(key) mod P`` of each of ``count`` keys (arguments already checked).

    Examples
    --------
    >>> partitions_of(["AAPL", "MSFT", "NVDA"], 3, "murmur3", 0, 2).tolist()
    [1, 0, 1]
    """
    hash_one = _hasher(hash, seed)
    hashes = np.fromiter(
        (hash_one(key_bytes(value)) for value in uniques), dtype=np.int64, count=count
    )
    return hashes % partitions


def partition_ids_for_uniques(
    uniques: Any, partitions: int, hash: str = "murmur3", seed: int = 0
) -> np.ndarray:
    """Partition of each value in an array of distinct, non-missing keys.

    This is the per-key step of :func:`mdwindow.hashing.partition_ids`, for callers that keep
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
    partitions = check_partitions(partitions)
    hash, seed = check_hash(hash, seed)
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
    return partitions_of(uniques, len(missing), hash, seed, partitions)
