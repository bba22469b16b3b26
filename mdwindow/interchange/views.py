"""Key columns of polars strings coded straight from their Arrow string views.

polars holds strings as Arrow string views: 16 bytes a row, the length and,
for strings of at most 12 bytes (tickers, venues), the bytes themselves, zero
padded. Converting them for pandas means copying every string into a large
string buffer, and the engine then hashes every row again to code the keys.
For a key column whose strings are all inline, :func:`view_categorical`
instead hashes the 16-byte views once (two 64-bit words a row) and gives a
pandas ``Categorical`` of ``str`` categories: the engine takes its codes as
they are, and nothing is copied per row but the codes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from numba import njit

__all__ = ["INLINE_BYTES", "view_categorical"]

#: The longest string an Arrow string view holds inline.
INLINE_BYTES = 12
_EMPTY = np.int64(-1)


@njit(cache=True, nogil=True, inline="always")
def _mix(low, high):  # pragma: no cover - compiled
    """A 64-bit hash of a view's two words whose low bits depend on every bit.

    A product's high bits depend on all of a factor's bits, its low bits on
    its low bits only (a view's low word starts with the string's length):
    the high half is folded onto the low one, which the table's slots read.
    """
    h = low * np.uint64(0x9E3779B97F4A7C15) + high * np.uint64(0xBF58476D1CE4E5B9)
    return h ^ (h >> np.uint64(32))


@njit(cache=True, nogil=True)
def _code_rows(words, valid, has_validity, bit_offset, table, uniques, count, codes, first):
    # pragma: no cover - compiled
    """Codes of the views ``words[first:]`` (two uint64 a row) into ``codes``.

    ``table`` (open addressing, size a power of two) holds indices into
    ``uniques`` (two words each) or -1. Returns ``(count, row, status)``:
    status 0 when every row is coded; 1 when row ``row`` needs a larger
    table or more room in ``uniques`` (grow them and call again from there);
    2 when row ``row`` holds a string that is not inline.
    """
    n = words.shape[0]
    mask = np.uint64(table.shape[0] - 1)
    room = min(table.shape[0] // 4, uniques.shape[0])  # at most a quarter full: short probes
    for i in range(first, n):
        if has_validity:
            bit = bit_offset + i
            if not (valid[bit >> 3] >> (bit & 7)) & 1:
                codes[i] = -1
                continue
        low = words[i, 0]
        if (low & np.uint64(0xFFFFFFFF)) > np.uint64(INLINE_BYTES):
            return count, i, 2
        high = words[i, 1]
        slot = _mix(low, high) & mask
        while True:
            found = table[slot]
            if found == -1:
                if count == room:
                    return count, i, 1
                uniques[count, 0] = low
                uniques[count, 1] = high
                table[slot] = count
                codes[i] = count
                count += 1
                break
            if uniques[found, 0] == low and uniques[found, 1] == high:
                codes[i] = found
                break
            slot = (slot + np.uint64(1)) & mask
    return count, n, 0


@njit(cache=True, nogil=True)
def _rehash(uniques, count, size):  # pragma: no cover - compiled
    """A table of ``size`` slots holding the first ``count`` uniques."""
    table = np.full(size, -1, np.int64)
    mask = np.uint64(size - 1)
    for k in range(count):
        slot = _mix(uniques[k, 0], uniques[k, 1]) & mask
        while table[slot] != -1:
            slot = (slot + np.uint64(1)) & mask
        table[slot] = k
    return table


def _chunk_words(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """A string-view chunk's views as (rows, 2) uint64 words, and its validity bitmap."""
    validity, views = chunk.buffers()[:2]
    words = np.frombuffer(views, np.uint64).reshape(-1, 2)[
        chunk.offset : chunk.offset + len(chunk)
    ]
    if validity is None or chunk.null_count == 0:
        return words, np.zeros(1, np.uint8), False, 0
    return words, np.frombuffer(validity, np.uint8), True, chunk.offset


def view_categorical(column: pa.ChunkedArray) -> pd.Categorical | None:
    """A string-view column as a pandas ``Categorical`` of ``str``; None unless every
    valid string is inline (then convert it the usual way).

    Categories come in order of first appearance; nulls are missing values.

    Examples
    --------
    >>> column = pa.chunked_array([pa.array(["AAPL", None, "MSFT", "AAPL"], pa.string_view())])
    >>> view_categorical(column)
    ['AAPL', NaN, 'MSFT', 'AAPL']
    Categories (2, str): ['AAPL', 'MSFT']
    >>> long = pa.array(["a rather long name"], pa.string_view())
    >>> print(view_categorical(pa.chunked_array([long])))
    None
    """
    codes = np.empty(len(column), np.int32)
    table = np.full(4096, _EMPTY, np.int64)
    uniques = np.empty((1024, 2), np.uint64)
    count, start = 0, 0
    for chunk in column.chunks:
        words, valid, has_validity, bit_offset = _chunk_words(chunk)
        into = codes[start : start + len(chunk)]
        row = 0
        while True:
            count, row, status = _code_rows(
                words, valid, has_validity, bit_offset, table, uniques, count, into, row
            )
            if status == 0:
                break
            if status == 2:
                return None
            grown = np.empty((2 * len(uniques), 2), np.uint64)
            grown[:count] = uniques[:count]
            uniques = grown
            table = _rehash(uniques, count, 2 * len(table))
        start += len(chunk)
    # The categories' bytes: a view's length, then its bytes (little-endian words).
    raw = uniques[:count].view(np.uint8).reshape(count, 16)
    lengths = raw[:, :4].copy().view(np.uint32).ravel()
    try:
        names = [bytes(raw[k, 4 : 4 + lengths[k]]).decode("utf-8") for k in range(count)]
    except UnicodeDecodeError:  # pragma: no cover - Arrow strings are UTF-8
        return None
    if len(set(names)) != count:  # pragma: no cover - a writer that left bytes past a string
        # The format zeroes the bytes past an inline string, so equal strings have
        # equal views; a writer that did not would give one string two codes.
        return None
    dtype = pd.CategoricalDtype(pd.Index(names, dtype="str"))
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def is_string_view(arrow_type: Any) -> bool:
    """Whether ``arrow_type`` is Arrow's string view (False where pyarrow has none)."""
    view = getattr(pa, "string_view", None)
    return view is not None and arrow_type == view()
