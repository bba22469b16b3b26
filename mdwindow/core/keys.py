"""The key dictionary: keys to dense codes, scopes and the natural key order."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from mdwindow.core.hashing import partition_ids_for_uniques
from mdwindow.core.key_coding import KeyTable, arrow_key_codes, categorical_key_codes
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


class ChunkKeys(NamedTuple):
    """The keys of a chunk, coded in the key dictionary."""

    codes: np.ndarray  # per row, in arrival order: key code or a code of key_map (-1 missing)
    key_map: np.ndarray  # input code -> key code (empty: the codes are key codes)
    keys: pd.Index  # the key dictionary, this chunk's new keys included
    key_partition: np.ndarray  # partition of each key code
    table: KeyTable | None  # the compiled dictionary to keep (Arrow strings), or None

    def key_codes(self) -> np.ndarray:
        """The key code of every row (int64, -1 missing)."""
        codes = self.codes.astype(np.int64, copy=False)
        if len(self.key_map) == 0:
            return codes
        return np.where(codes >= 0, self.key_map[np.maximum(codes, 0)], -1)


def key_codes(cfg: WindowOptions, state: State, prepared: Prepared):
    """Codes of the chunk's keys in the state's key dictionary (-1 = missing).

    Returns ``(codes in arrival order, keys, key_partition)``.
    """
    coded = chunk_keys(cfg, state, prepared)
    return coded.key_codes(), coded.keys, coded.key_partition


def key_codes_and_table(cfg: WindowOptions, state: State, prepared: Prepared):
    """:func:`key_codes` and the compiled key dictionary to keep (or None)."""
    coded = chunk_keys(cfg, state, prepared)
    return coded.key_codes(), coded.keys, coded.key_partition, coded.table


def chunk_keys(cfg: WindowOptions, state: State, prepared: Prepared) -> ChunkKeys:
    """Code the chunk's keys: from Arrow buffers, categorical codes or ``pd.factorize``."""
    empty = np.empty(0, np.int64)
    if cfg.key is None:
        keys = state.keys if state.keys is not None else pd.Index([None], dtype=object)
        return ChunkKeys(np.zeros(prepared.n, np.int64), empty, keys, state.key_partition, None)
    known, values = state.keys, prepared.key_values
    if not _same_typed_keys(known, values):
        check_key_kind(cfg.key, known, values)
    key_map, table = empty, None
    fast = arrow_key_codes(state, prepared)
    if fast is not None:
        codes, fresh, table = fast
    else:
        categorical = categorical_key_codes(state, prepared)
        if categorical is not None:
            codes, key_map, fresh = categorical
        else:
            codes, fresh = _pandas_key_codes(state, prepared)
    if fresh is None:
        return ChunkKeys(codes, key_map, state.keys, state.key_partition, table)
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
    return ChunkKeys(codes, key_map, keys, key_partition, table)


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


def _same_typed_keys(known: pd.Index | None, values: Any) -> bool:
    """Whether ``values`` hold keys of the kind already checked for ``known``: a dtype
    of one kind of values (not object) that earlier chunks had too."""
    if known is None or len(known) == 0:
        return False
    dtype = getattr(values, "dtype", None)
    if dtype is None or (isinstance(dtype, np.dtype) and dtype.kind == "O"):
        return False
    return known.dtype is dtype or known.dtype == dtype


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
