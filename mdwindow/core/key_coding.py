"""Key codes without pandas: straight from Arrow string buffers or categorical codes.

:func:`arrow_key_codes` codes Arrow-backed strings (pandas' ``str`` and
``string[pyarrow]``, ``pd.ArrowDtype`` strings) with the compiled dictionary
of :mod:`~mdwindow.core.strings`, chunk by chunk of the Arrow column;
:func:`categorical_key_codes` maps a categorical column's categories onto
the key dictionary and keeps its codes, so that no code is written per row.
Both give new keys in order of first arrival, as ``pd.factorize`` would.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from numba import njit

from mdwindow.core.prefault import populated_ahead
from mdwindow.core.prepare import Prepared
from mdwindow.core.state import State
from mdwindow.core.strings import (
    K_KEYS,
    K_NEW,
    K_ROW,
    K_UNKNOWN,
    factorize_strings,
    rehash_strings,
)
from mdwindow.core.threads import at_once


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


def arrow_string_chunks(values: Any) -> list | None:
    """The Arrow (large_)string chunks of ``values`` when they are Arrow-backed strings."""
    if not isinstance(values, (pd.arrays.ArrowStringArray, pd.arrays.ArrowExtensionArray)):
        return None
    import pyarrow as pa

    chunked = getattr(values, "_pa_array", None)
    if chunked is None:  # pragma: no cover - other pandas versions
        chunked = values.__arrow_array__()
    kind = chunked.type
    if not (kind == _LARGE_STRING or pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return None
    return chunked.chunks


try:
    import pyarrow

    _LARGE_STRING = pyarrow.large_string()
except ImportError:  # pragma: no cover - pyarrow is a dependency
    _LARGE_STRING = None


def _grown(values: np.ndarray, capacity: int) -> np.ndarray:
    bigger = np.empty(capacity, values.dtype)
    bigger[: len(values)] = values
    return bigger


def _buffers(array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(offsets, data, validity bits or empty)`` of an Arrow string array."""
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
    return offsets, data, valid


def _run_factorize(pieces, order: np.ndarray, table: KeyTable, insert: bool, codes: np.ndarray):
    """``(dictionary, positions of new keys, rows of unknown keys)`` after coding ``pieces``.

    ``pieces`` are Arrow string arrays whose rows follow one another (one
    array when ``order`` is given). With ``insert`` the dictionary's arrays
    are filled in place (and grown).
    """
    new_positions = np.empty(16, np.int64)
    n_new = 0
    unknown = 0
    start = 0
    for array in pieces:
        n = len(array)
        offsets, data, valid = _buffers(array)
        counters = np.zeros(4, np.int64)
        counters[K_KEYS] = table.size
        piece_new = np.empty(16, np.int64)
        while not factorize_strings(
            offsets, data, valid, array.offset, order, table.table, table.hashes,
            table.offsets, table.data, piece_new, counters, insert, codes[start : start + n],
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
            if counters[K_NEW] == len(piece_new):
                piece_new = _grown(piece_new, 2 * len(piece_new))
            table = KeyTable(table_codes, hashes, key_offsets, key_data, size)
        table = table._replace(size=int(counters[K_KEYS]))
        added = int(counters[K_NEW])
        if n_new + added > len(new_positions):
            new_positions = _grown(new_positions, 2 * (n_new + added))
        new_positions[n_new : n_new + added] = piece_new[:added] + start
        n_new += added
        unknown += int(counters[K_UNKNOWN])
        start += n
    return table, new_positions[:n_new], unknown


def arrow_key_codes(state: State, prepared: Prepared):
    """``(codes, new keys or None, grown dictionary)`` straight from Arrow string buffers.

    The codes are int32 (arrival order, -1 missing). None when the keys are
    not Arrow strings (or earlier keys were of another dtype).
    """
    values = prepared.key_values
    pieces = arrow_string_chunks(values)
    if pieces is None:
        return None
    known = state.keys
    n_known = 0 if known is None else len(known)
    if n_known and known.dtype is not values.dtype and known.dtype != values.dtype:
        return None
    if prepared.order is not None:
        import pyarrow as pa

        pieces = [pa.chunked_array(pieces, pieces[0].type).combine_chunks()] if pieces else []
        order = prepared.order
    else:
        order = _NO_ORDER
    codes = np.empty(prepared.n, np.int32)
    table = state._key_table
    with populated_ahead([codes], len(codes), np.array([len(codes)]), 0):
        table, new_positions = _coded(pieces, order, table, n_known, known, values, codes)
    if len(new_positions) or not n_known:
        fresh = pd.Index(values.take(new_positions), dtype=values.dtype, tupleize_cols=False)
    else:
        fresh = None  # no new keys
    return codes, fresh, table


def _coded(pieces, order, table, n_known, known, values, codes):
    """``(dictionary, positions of new keys)`` after writing the codes of ``pieces``."""
    if not n_known and not len(order) and len(codes) >= SPLIT_ROWS:
        return _coded_in_halves(pieces, codes)
    if not n_known:
        table, new_positions, _ = _run_factorize(pieces, order, KeyTable.empty(), True, codes)
    else:
        if table is None or table.size != n_known:
            # Rebuild the compiled dictionary, e.g. after a checkpoint was restored.
            table, _, _ = _run_factorize(
                arrow_string_chunks(pd.array(known, dtype=values.dtype)),
                _NO_ORDER,
                KeyTable.empty(),
                True,
                np.empty(n_known, np.int32),
            )
        table, new_positions, unknown = _run_factorize(pieces, order, table, False, codes)
        if unknown:
            # New keys: insert them into a copy, so the state's dictionary stays as it was.
            table, new_positions, _ = _run_factorize(pieces, order, table.copy(), True, codes)
    return table, new_positions


_NO_ORDER = np.empty(0, np.int64)
#: A first chunk of at least this many rows is coded in two halves at once.
SPLIT_ROWS = 1 << 20


def _coded_in_halves(pieces, codes):
    """:func:`_coded` of a first chunk, its halves coded at once on two threads.

    Each half gets a dictionary of its own; then the second half's strings,
    in its dictionary's order, are coded in the first's, the new ones joining
    it, and the second half's codes are mapped. The new keys of the second
    half first appear there, in its dictionary's order: the dictionary and
    the codes are the ones coding all rows in one go would give.
    """
    n = len(codes)
    half = n // 2
    first, second = _split_pieces(pieces, half)

    def coded(part: list, lo: int, hi: int):
        return _run_factorize(part, _NO_ORDER, KeyTable.empty(), True, codes[lo:hi])

    (table, positions, _), (later, later_positions, _) = at_once(
        lambda: coded(first, 0, half), lambda: coded(second, half, n), "mdwindow-keys"
    )
    mapping = np.empty(later.size, np.int32)
    table, joined, _ = _run_factorize([_strings_of(later)], _NO_ORDER, table, True, mapping)
    _recode(codes[half:], mapping)
    return table, np.concatenate([positions, later_positions[joined] + half])


def _split_pieces(pieces: list, at: int) -> tuple[list, list]:
    """Arrow arrays of rows ``[0, at)`` and of the rest, from consecutive ``pieces``."""
    first, second = [], []
    seen = 0
    for array in pieces:
        n = len(array)
        if seen + n <= at:
            first.append(array)
        elif seen >= at:
            second.append(array)
        else:
            first.append(array.slice(0, at - seen))
            second.append(array.slice(at - seen))
        seen += n
    return first, second


def _strings_of(table: KeyTable):
    """The dictionary's strings, in code order, as an Arrow array over its buffers."""
    import pyarrow as pa

    return pa.Array.from_buffers(
        pa.large_string(),
        table.size,
        [None, pa.py_buffer(table.offsets[: table.size + 1]), pa.py_buffer(table.data)],
    )


@njit(cache=True, nogil=True)
def _recode(codes, mapping):  # pragma: no cover - compiled
    """``codes[i] = mapping[codes[i]]`` in place, missing keys (-1) left as they are."""
    for i in range(codes.shape[0]):
        c = codes[i]
        if c >= 0:
            codes[i] = mapping[c]


@njit(cache=True, nogil=True)
def _first_arrivals(codes, order, known, n_categories):  # pragma: no cover - compiled
    """Positions (in the frame) of the first arrival of each category not in ``known``
    (-1 there), in order of first arrival."""
    seen = np.zeros(n_categories, np.bool_)
    found = np.empty(n_categories, np.int64)
    count = 0
    has_order = order.shape[0] > 0
    for r in range(codes.shape[0]):
        p = order[r] if has_order else r
        c = codes[p]
        if c >= 0 and known[c] < 0 and not seen[c]:
            seen[c] = True
            found[count] = p
            count += 1
            if count == n_categories:
                break
    return found[:count]


def categorical_key_codes(state: State, prepared: Prepared):
    """``(category codes, key_map, new keys or None)`` of a categorical key column.

    ``key_map[category code]`` is the key code of that category (-1 for
    categories that have none yet and do not occur); the category codes are
    the column's own, in arrival order (a view when there is no arrival
    column). None when the keys are not categorical.
    """
    values = prepared.key_values
    if not isinstance(values, pd.Categorical):
        return None
    known_keys = state.keys
    if known_keys is not None and len(known_keys) and known_keys.dtype != values.dtype:
        return None
    categories = values.categories
    codes = values.codes
    if known_keys is None or len(known_keys) == 0:
        known = np.full(len(categories), -1, np.int64)
    else:
        known = known_keys.get_indexer(categories).astype(np.int64, copy=False)
    order = prepared.order if prepared.order is not None else np.empty(0, np.int64)
    first = _first_arrivals(codes, order, known, len(categories))
    key_map = known
    n_known = 0 if known_keys is None else len(known_keys)
    key_map[codes[first]] = n_known + np.arange(len(first))
    if prepared.order is not None:
        codes = codes[prepared.order]
    fresh = None
    if len(first) or not n_known:
        fresh = pd.Index(values.take(first), dtype=values.dtype, tupleize_cols=False)
    return codes, key_map, fresh
