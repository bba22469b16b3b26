"""The key dictionary: keys to dense codes, scopes and the natural key order."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from mdwindow.core.hashing import partition_ids_for_uniques
from mdwindow.core.kernels import (
    K_KEYS,
    K_NEW,
    K_ROW,
    K_UNKNOWN,
    factorize_strings,
    rehash_strings,
)
from mdwindow.core.options import WindowOptions
from mdwindow.core.prepare import Prepared
from mdwindow.core.state import State


def _append_keys(known: pd.Index, fresh: pd.Index) -> pd.Index:
    """Extend the key dictionary without letting pandas re-infer its dtype."""
    if known.dtype == object and fresh.dtype == object:
        values = np.concatenate([known.to_numpy(), fresh.to_numpy()])
        return pd.Index(values, dtype=object, tupleize_cols=False)
    keys = known.append(fresh)
    if isinstance(keys.array, pd.arrays.ArrowStringArray):
        # One Arrow chunk, so that taking keys for each result frame is cheap.
        try:
            chunked = keys.array._pa_array
            if chunked.num_chunks > 1:
                keys = pd.Index(
                    type(keys.array)(chunked.combine_chunks(), dtype=keys.dtype), name=keys.name
                )
        except AttributeError:  # pragma: no cover - other pandas versions
            pass
    return keys


def key_codes(cfg: WindowOptions, state: State, prepared: Prepared):
    """Codes of the chunk's keys in the state's key dictionary (-1 = missing).

    Returns ``(codes in arrival order, keys, key_partition)``.
    """
    codes, keys, key_partition, _ = key_codes_and_table(cfg, state, prepared)
    return codes, keys, key_partition


def key_codes_and_table(
    cfg: WindowOptions, state: State, prepared: Prepared, out: np.ndarray | None = None
):
    """:func:`key_codes` and the compiled key dictionary to keep (or None).

    ``out`` (int64, one per row) receives the codes when the compiled path runs.
    """
    if cfg.key is None:
        keys = state.keys if state.keys is not None else pd.Index([None], dtype=object)
        return np.zeros(prepared.n, np.int64), keys, state.key_partition, None
    check_key_kind(cfg.key, state.keys, prepared.key_values)
    fast = _arrow_key_codes(state, prepared, out)
    if fast is not None:
        codes, fresh, table = fast
    else:
        codes, fresh = _pandas_key_codes(state, prepared)
        table = None
    if fresh is None:
        return codes, state.keys, state.key_partition, table
    base_keys = state.keys if state.keys is not None and len(state.keys) else fresh[:0]
    keys = _append_keys(base_keys, fresh) if len(fresh) else base_keys
    if len(keys) == 0:
        keys = fresh
    key_partition = state.key_partition
    if cfg.partitions is not None and len(fresh):
        key_partition = np.concatenate(
            [
                key_partition,
                partition_ids_for_uniques(
                    fresh, cfg.partitions, hash=cfg.hash, seed=cfg.seed
                ).astype(np.int64, copy=False),
            ]
        )
    return codes, keys, key_partition, table


#: What a run's keys may be (pandas' ``infer_dtype`` names); one kind per run.
KEY_KINDS = ("string", "bytes", "integer", "floating", "boolean", "decimal",
             "datetime", "datetime64", "date", "timedelta", "timedelta64", "period")  # fmt: skip


def is_missing_key(key: Any) -> bool:
    """Whether ``key`` is a missing value (None, NaN, NaT, pd.NA), which rejects its row."""
    return bool(pd.api.types.is_scalar(key) and pd.isna(key))


def key_kind(values: Any) -> str:
    """The kind of a key column's values: one of :data:`KEY_KINDS`, ``"empty"``, or another."""
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        values = values.categories if hasattr(values, "categories") else values.array.categories
    if isinstance(values, pd.arrays.NumpyExtensionArray):
        values = values.to_numpy()
    kind = pd.api.types.infer_dtype(values, skipna=True)
    return "string" if kind == "unicode" else kind


def check_key_kind(column: str, known: pd.Index | None, values: Any) -> None:
    """Refuse keys of several types, in one chunk or across chunks.

    Keys are told apart by value, and a key's partition is the hash of its
    text; keys of mixed types (``1``, ``1.0``, ``True``, ``"1"``) would make
    both depend on which of them came first.
    """
    kind = key_kind(values)
    if kind == "empty":
        return
    if kind not in KEY_KINDS:
        found = sorted({type(v).__name__ for v in pd.unique(np.asarray(values, dtype=object))
                        if not pd.isna(v)})  # fmt: skip
        raise TypeError(
            f"key: column {column!r} holds keys of mixed or unsupported types "
            f"({', '.join(found)}); keys must be all strings, all integers, ...: "
            "convert them to one type first, "
            f"e.g. ticks[{column!r}] = ticks[{column!r}].astype(str)"
        )
    if known is not None and len(known):
        before = key_kind(known)
        if before not in ("empty", kind):
            raise TypeError(
                f"key: column {column!r} holds {kind} keys in this chunk but {before} keys in "
                "earlier ones; convert every chunk's keys to one type"
            )


def _pandas_key_codes(state: State, prepared: Prepared):
    """``(codes, new keys in order of first arrival)`` through ``pd.factorize``."""
    codes, uniques = pd.factorize(prepared.keys, use_na_sentinel=True)
    codes = codes.astype(np.int64, copy=False)
    # Keep the input's dtype: pd.Index would infer "str" from object arrays.
    uniques = pd.Index(uniques, dtype=getattr(uniques, "dtype", None), tupleize_cols=False)
    if state.keys is None or len(state.keys) == 0:
        known = np.full(len(uniques), -1, np.int64)
        n_known = 0
    else:
        known = state.keys.get_indexer(uniques).astype(np.int64, copy=False)
        n_known = len(state.keys)
    fresh = known < 0
    known[fresh] = n_known + np.arange(int(fresh.sum()))
    mapped = np.where(codes >= 0, known[np.maximum(codes, 0)] if len(known) else -1, -1)
    return mapped.astype(np.int64, copy=False), uniques[fresh]


class KeyTable(NamedTuple):
    """The key dictionary in compiled form (see ``factorize_strings``)."""

    table: np.ndarray
    hashes: np.ndarray
    offsets: np.ndarray
    data: np.ndarray
    size: int

    @classmethod
    def empty(cls) -> KeyTable:
        return cls(
            np.full(64, -1, np.int64),
            np.empty(32, np.int64),
            np.zeros(33, np.int64),
            np.empty(256, np.uint8),
            0,
        )

    def copy(self) -> KeyTable:
        return KeyTable(*(a.copy() for a in self[:4]), self.size)


def _arrow_strings(values: Any):
    """One Arrow (large_)string array of ``values`` when they are Arrow-backed strings."""
    if not isinstance(values, pd.arrays.ArrowStringArray):
        return None
    import pyarrow as pa

    chunked = values.__arrow_array__()
    if not (pa.types.is_string(chunked.type) or pa.types.is_large_string(chunked.type)):
        return None
    return chunked.combine_chunks() if chunked.num_chunks != 1 else chunked.chunk(0)


def _run_factorize(array, order: np.ndarray, table: KeyTable, insert: bool, codes: np.ndarray):
    """``(dictionary, positions of new keys, rows of unknown keys)`` after coding ``array``.

    With ``insert`` the dictionary's arrays are filled in place (and grown).
    """
    import pyarrow as pa

    validity, offsets, data = array.buffers()
    offsets = np.frombuffer(
        offsets, np.int64 if pa.types.is_large_string(array.type) else np.int32
    )
    data = np.frombuffer(data, np.uint8) if data is not None else np.empty(0, np.uint8)
    valid = (
        np.frombuffer(validity, np.uint8)
        if validity is not None and array.null_count
        else np.empty(0, np.uint8)
    )
    counters = np.zeros(4, np.int64)
    counters[K_KEYS] = table.size
    new_positions = np.empty(16, np.int64)
    while not factorize_strings(
        offsets, data, valid, array.offset, order, table.table, table.hashes,
        table.offsets, table.data, new_positions, counters, insert, codes,
    ):  # fmt: skip
        # Out of room for a new key: grow whatever is full and go on.
        size = int(counters[K_KEYS])
        row = int(counters[K_ROW])
        at = array.offset + (int(order[row]) if len(order) else row)
        length = int(offsets[at + 1] - offsets[at])
        table_codes, hashes, key_offsets, key_data = table[:4]
        if size + 2 > len(key_offsets) or size >= len(hashes):
            key_offsets = _grown(key_offsets, 2 * len(key_offsets))
            hashes = _grown(hashes, 2 * len(hashes))
        if 2 * (size + 1) > len(table_codes):
            table_codes = np.full(2 * len(table_codes), -1, np.int64)
            rehash_strings(table_codes, hashes, size)
        if key_offsets[size] + length > len(key_data):
            key_data = _grown(key_data, 2 * (len(key_data) + length))
        if counters[K_NEW] == len(new_positions):
            new_positions = _grown(new_positions, 2 * len(new_positions))
        table = KeyTable(table_codes, hashes, key_offsets, key_data, size)
    table = table._replace(size=int(counters[K_KEYS]))
    return table, new_positions[: counters[K_NEW]], int(counters[K_UNKNOWN])


def _grown(values: np.ndarray, capacity: int) -> np.ndarray:
    bigger = np.empty(capacity, values.dtype)
    bigger[: len(values)] = values
    return bigger


def _arrow_key_codes(state: State, prepared: Prepared, out: np.ndarray | None = None):
    """Codes, new keys and the grown dictionary, straight from Arrow string buffers.

    None when the keys are not Arrow strings (or earlier keys were of another dtype).
    """
    values = prepared.key_values
    array = _arrow_strings(values)
    if array is None:
        return None
    known = state.keys
    if known is not None and len(known) and known.dtype != values.dtype:
        return None
    order = prepared.order if prepared.order is not None else np.empty(0, np.int64)
    codes = np.empty(prepared.n, np.int64) if out is None else out
    table = state._key_table
    if known is None or len(known) == 0:
        table, new_positions, _ = _run_factorize(array, order, KeyTable.empty(), True, codes)
    else:
        if table is None or table.size != len(known):
            # Rebuild the compiled dictionary, e.g. after a checkpoint was restored.
            table, _, _ = _run_factorize(
                _arrow_strings(pd.array(known, dtype=values.dtype)),
                np.empty(0, np.int64),
                KeyTable.empty(),
                True,
                np.empty(len(known), np.int64),
            )
        table, new_positions, unknown = _run_factorize(array, order, table, False, codes)
        if unknown:
            # New keys: insert them into a copy, so the state's dictionary stays as it was.
            table, new_positions, _ = _run_factorize(array, order, table.copy(), True, codes)
    if len(new_positions) or known is None or not len(known):
        fresh = pd.Index(values.take(new_positions), dtype=values.dtype, tupleize_cols=False)
    else:
        fresh = None  # no new keys
    return codes, fresh, table


def scope_of_keys(cfg: WindowOptions, codes: np.ndarray, key_partition: np.ndarray) -> np.ndarray:
    if cfg.scope == "global":
        return np.zeros(len(codes), np.int64)
    if cfg.scope == "key":
        return codes
    if len(key_partition) == 0:
        return np.full(len(codes), -1, np.int64)
    return np.where(codes >= 0, key_partition[np.maximum(codes, 0)], -1).astype(
        np.int64, copy=False
    )


def n_scopes(cfg: WindowOptions, keys: pd.Index | None) -> int:
    if cfg.scope == "global":
        return 1
    if cfg.scope == "key":
        return 0 if keys is None else len(keys)
    return int(cfg.partitions)


def key_rank(keys: pd.Index | None, cache: State | None = None) -> np.ndarray:
    """Rank of each key code in the natural order of the key values.

    ``cache`` (a state) remembers the ranks until new keys arrive.
    """
    if keys is None or len(keys) == 0:
        return np.zeros(0, np.int64)
    if cache is not None and cache._key_rank is not None and len(cache._key_rank) == len(keys):
        return cache._key_rank
    values = np.asarray(keys, dtype=object)
    try:
        order = np.argsort(values, kind="stable")
    except TypeError:
        # Keys of mixed types have no common order; their text has one.
        order = np.argsort(np.array([str(v) for v in values], dtype=object), kind="stable")
    rank = np.empty(len(keys), np.int64)
    rank[order] = np.arange(len(keys))
    if cache is not None:
        cache._key_rank = rank
    return rank
