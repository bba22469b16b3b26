"""The key dictionary's compiled loops: Arrow strings to dense codes, and back (numba).

Keys are coded straight from the buffers of an Arrow string array: each
row's UTF-8 bytes are hashed and looked up in an open-addressing table of
the known strings. Most keys (tickers) are at most eight bytes long: such a
key is read as one 64-bit word, and its hash, the word times an odd
constant plus its length, is one-to-one, so equal hashes and lengths mean
equal keys without comparing bytes. Longer keys are hashed word by word
and compared byte by byte.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdwindow.core.jit import nrt_free, nrt_free_inline

#: Fields of the ``counters`` of :func:`factorize_strings`.
K_ROW, K_KEYS, K_NEW, K_UNKNOWN = range(4)

_ODD = np.uint64(0x9E3779B97F4A7C15)


@nrt_free_inline
def _word(data, lo, count):  # pragma: no cover - compiled
    """Bytes ``data[lo : lo + count]`` (``count <= 8``) as a little-endian word."""
    w = np.uint64(0)
    if lo + 8 <= data.shape[0]:
        # Eight loads of fixed count (unrolled), then a mask: no branch on the length.
        for b in range(8):
            w |= np.uint64(data[lo + b]) << np.uint64(8 * b)
        if count < 8:
            w &= (np.uint64(1) << np.uint64(8 * count)) - np.uint64(1)
    else:
        for b in range(count):
            w |= np.uint64(data[lo + b]) << np.uint64(8 * b)
    return w


@nrt_free_inline
def _mix(h):  # pragma: no cover - compiled
    """MurmurHash3's 64-bit finaliser (one-to-one)."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@nrt_free_inline
def _hash(data, lo, hi):  # pragma: no cover - compiled
    """Hash of the bytes ``data[lo:hi]``: one-to-one for (bytes, length) up to 8 bytes."""
    length = hi - lo
    if length <= 8:
        return np.int64(_word(data, lo, length) * _ODD + np.uint64(length))
    h = np.uint64(length)
    p = lo
    while p < hi:
        h = _mix(h ^ _word(data, p, min(8, hi - p)))
        p += 8
    return np.int64(h)


@nrt_free_inline
def _slot(h, mask):  # pragma: no cover - compiled
    """Table slot of hash ``h``: every bit of it mixed into the low ones.

    The short-key hash is a product, whose low bits depend only on the first
    bytes: tickers that differ in a late byte ("SYM491", "SYM492") would share
    their low bits and pile up in one run of the table.
    """
    return np.int64(_mix(np.uint64(h))) & mask


@nrt_free
def factorize_strings(
    offsets,
    data,
    valid,
    first,
    order,
    table,
    hashes,
    key_offsets,
    key_data,
    new_positions,
    counters,
    insert,
    codes,
):  # pragma: no cover - compiled
    """Codes of Arrow strings in a dictionary of known strings, in arrival order.

    Row ``r`` is string ``p = order[r]`` (``p = r`` when ``order`` is empty)
    of an Arrow string array starting at element ``first``: its UTF-8 bytes
    are ``data[offsets[first + p] : offsets[first + p + 1]]``, and it is
    null (code -1) when bit ``first + p`` of ``valid`` is clear (``valid``
    empty: no nulls). The dictionary holds ``counters[K_KEYS]`` strings:
    their bytes in ``key_data`` at ``key_offsets``, their hashes, and
    ``table``, an open-addressing hash table of codes (-1 empty) kept at
    most half full.

    With ``insert``, unknown strings join the dictionary in order of first
    appearance, their positions ``p`` going to ``new_positions``; without
    it they get code -2 (counted in ``counters[K_UNKNOWN]``) and the
    dictionary is untouched. Compiled without the runtime, this allocates
    nothing: it returns False when an array is full, before the row that
    needs the room (``counters[K_ROW]``), and True when done.
    """
    mask = table.shape[0] - 1
    has_order = order.shape[0] > 0
    has_nulls = valid.shape[0] > 0
    for r in range(counters[K_ROW], codes.shape[0]):
        p = order[r] if has_order else r
        e = first + p
        if has_nulls and not (valid[e >> 3] >> (e & 7)) & 1:
            codes[r] = -1
            continue
        lo = offsets[e]
        hi = offsets[e + 1]
        length = hi - lo
        h = _hash(data, lo, hi)
        slot = _slot(h, mask)
        code = -1
        while table[slot] >= 0:
            c = table[slot]
            if hashes[c] == h and key_offsets[c + 1] - key_offsets[c] == length:
                same = True
                if length > 8:
                    at = key_offsets[c]
                    for b in range(length):
                        if key_data[at + b] != data[lo + b]:
                            same = False
                            break
                if same:
                    code = c
                    break
            slot = (slot + 1) & mask
        if code < 0:
            if not insert:
                codes[r] = -2
                counters[K_UNKNOWN] += 1
                continue
            code = counters[K_KEYS]
            at = key_offsets[code]
            if (
                code + 2 > key_offsets.shape[0]
                or code >= hashes.shape[0]
                or 2 * (code + 1) > table.shape[0]
                or at + length > key_data.shape[0]
                or counters[K_NEW] == new_positions.shape[0]
            ):
                counters[K_ROW] = r
                return False
            counters[K_KEYS] = code + 1
            for b in range(length):
                key_data[at + b] = data[lo + b]
            key_offsets[code + 1] = at + length
            hashes[code] = h
            table[slot] = code
            new_positions[counters[K_NEW]] = p
            counters[K_NEW] += 1
        codes[r] = code
    counters[K_ROW] = codes.shape[0]
    return True


@nrt_free
def rehash_strings(table, hashes, n_keys):  # pragma: no cover - compiled
    """Fill the empty ``table`` with the codes of the first ``n_keys`` strings."""
    mask = table.shape[0] - 1
    for c in range(n_keys):
        slot = _slot(hashes[c], mask)
        while table[slot] >= 0:
            slot = (slot + 1) & mask
        table[slot] = c


@njit(cache=True, nogil=True)
def gather_strings(offsets, data, positions):  # pragma: no cover - compiled
    """Strings ``positions`` of (``offsets``, ``data``) as new Arrow buffers
    ``(offsets, data)``."""
    out_offsets = np.empty(positions.shape[0] + 1, np.int64)
    out_offsets[0] = 0
    total = 0
    for i in range(positions.shape[0]):
        p = positions[i]
        total += offsets[p + 1] - offsets[p]
        out_offsets[i + 1] = total
    out_data = np.empty(total, np.uint8)
    for i in range(positions.shape[0]):
        p = positions[i]
        at = out_offsets[i]
        for b in range(offsets[p], offsets[p + 1]):
            out_data[at] = data[b]
            at += 1
    return out_offsets, out_data
