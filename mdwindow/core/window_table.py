"""Open windows by (key, start): a small open-addressing hash table (numba).

The table holds window ids; a window's key and start live in the caller's
``w_key`` / ``w_start`` arrays. The heap pass keeps only open windows in
it, so it stays as small as the set of open windows however long the input.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdwindow.core.jit import nrt_free_inline
from mdwindow.core.rules import INT64_MAX


@njit(cache=True)
def _window_hash(key, start):  # pragma: no cover - compiled
    """Mix a (key, start) pair into a non-negative int64 (wrapping arithmetic)."""
    h = start * 0x5851F42D4C957F2D + key * 0x7FB5D329728EA185
    h ^= h >> 31
    h *= 0x3C79AC492BA7B653
    h ^= h >> 29
    return h & INT64_MAX


@nrt_free_inline
def table_find(table, key, start, w_key, w_start):  # pragma: no cover - compiled
    """Slot of window (key, start) in ``table``, or the empty slot where it would go."""
    mask = table.shape[0] - 1
    i = _window_hash(key, start) & mask
    while True:
        g = table[i]
        if g < 0 or (w_key[g] == key and w_start[g] == start):
            return i
        i = (i + 1) & mask


@njit(cache=True)
def table_grown(table, w_key, w_start):  # pragma: no cover - compiled
    """A table twice as large holding the same windows."""
    bigger = np.full(2 * table.shape[0], -1, np.int64)
    for g in table:
        if g >= 0:
            bigger[table_find(bigger, w_key[g], w_start[g], w_key, w_start)] = g
    return bigger


@nrt_free_inline
def table_delete(table, g, w_key, w_start):  # pragma: no cover - compiled
    """Remove window ``g``, shifting later entries back so no probe chain breaks."""
    mask = table.shape[0] - 1
    i = table_find(table, w_key[g], w_start[g], w_key, w_start)
    j = i
    while True:
        j = (j + 1) & mask
        h = table[j]
        if h < 0:
            break
        home = _window_hash(w_key[h], w_start[h]) & mask
        # ``h`` may fill the hole at i unless its home lies cyclically in (i, j].
        if ((j - home) & mask) >= ((j - i) & mask):
            table[i] = h
            i = j
    table[i] = -1


@njit(cache=True)
def window_ids(key, start):  # pragma: no cover - compiled
    """Dense ids of (key, start) pairs in order of first appearance.

    Returns ``(gid per row, key per window, start per window)``.
    """
    n = key.shape[0]
    gid = np.empty(n, np.int64)
    w_key = np.empty(n, np.int64)
    w_start = np.empty(n, np.int64)
    table = np.full(16, -1, np.int64)
    count = 0
    last = -1
    for i in range(n):
        k = key[i]
        st = start[i]
        # Consecutive rows mostly share a window: skip the hash lookup then.
        if last >= 0 and w_key[last] == k and w_start[last] == st:
            gid[i] = last
            continue
        slot = table_find(table, k, st, w_key, w_start)
        g = table[slot]
        if g < 0:
            g = count
            count += 1
            w_key[g] = k
            w_start[g] = st
            table[slot] = g
            if 2 * count > table.shape[0]:
                table = table_grown(table, w_key, w_start)
        gid[i] = g
        last = g
    return gid, w_key[:count].copy(), w_start[:count].copy()
