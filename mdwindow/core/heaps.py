"""Heaps (numba): indexed min-heaps of window slots for the heap pass of ``emit="final"``,
and an in-place sort of small arrays for the ring pass.

A heap orders slots by (window start, key rank): all windows have one size,
so that is the order in which a rising watermark closes them, and the key
rank orders windows closing together. Heaps are *indexed*: each slot keeps
its position in a heap (field ``pos`` of ``slots``), so a slot can leave a
heap from anywhere in it. Heap ``h`` lives at ``heap[base : base + n]`` of
a shared pool.
"""

from __future__ import annotations

from mdwindow.core.jit import nrt_free_inline

#: Fields of ``slots`` that the heaps read (the heap pass's S_START and S_RANK).
HEAP_START, HEAP_RANK = 1, 2


@nrt_free_inline
def closes_first(a, b, slots):  # pragma: no cover - compiled
    return slots[HEAP_START, a] < slots[HEAP_START, b] or (
        slots[HEAP_START, a] == slots[HEAP_START, b] and slots[HEAP_RANK, a] < slots[HEAP_RANK, b]
    )


@nrt_free_inline
def _sift_up(heap, base, i, slots, pos):  # pragma: no cover - compiled
    """Move the slot at ``heap[base + i]`` up to its place; ``slots[pos]`` tracks positions."""
    g = heap[base + i]
    while i > 0:
        parent = (i - 1) >> 1
        above = heap[base + parent]
        if not closes_first(g, above, slots):
            break
        heap[base + i] = above
        slots[pos, above] = i
        i = parent
    heap[base + i] = g
    slots[pos, g] = i


@nrt_free_inline
def _sift_down(heap, base, n, i, slots, pos):  # pragma: no cover - compiled
    """Move the slot at ``heap[base + i]`` down to its place in a heap of ``n``."""
    g = heap[base + i]
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        other = child + 1
        if other < n and closes_first(heap[base + other], heap[base + child], slots):
            child = other
        below = heap[base + child]
        if not closes_first(below, g, slots):
            break
        heap[base + i] = below
        slots[pos, below] = i
        i = child
    heap[base + i] = g
    slots[pos, g] = i


@nrt_free_inline
def heap_insert(heap, base, n, g, slots, pos):  # pragma: no cover - compiled
    """Add slot ``g`` to a heap of ``n`` (which has room); the caller counts it."""
    heap[base + n] = g
    _sift_up(heap, base, n, slots, pos)


@nrt_free_inline
def heap_remove(heap, base, n, g, slots, pos):  # pragma: no cover - compiled
    """Take slot ``g`` out of a heap of ``n``; the caller counts it."""
    i = slots[pos, g]
    last = heap[base + n - 1]
    if i == n - 1:
        return
    heap[base + i] = last
    slots[pos, last] = i
    _sift_up(heap, base, i, slots, pos)
    _sift_down(heap, base, n - 1, slots[pos, last], slots, pos)


@nrt_free_inline
def sort_in_place(values, n):  # pragma: no cover - compiled
    """Sort ``values[:n]`` in place: insertion sort when short, else heapsort."""
    if n <= 24:
        for a in range(1, n):
            item = values[a]
            b = a - 1
            while b >= 0 and values[b] > item:
                values[b + 1] = values[b]
                b -= 1
            values[b + 1] = item
        return
    for top in range(n // 2 - 1, -1, -1):
        _sift_values(values, top, n)
    for end in range(n - 1, 0, -1):
        first = values[0]
        values[0] = values[end]
        values[end] = first
        _sift_values(values, 0, end)


@nrt_free_inline
def _sift_values(values, i, n):  # pragma: no cover - compiled
    item = values[i]
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and values[child + 1] > values[child]:
            child += 1
        if values[child] <= item:
            break
        values[i] = values[child]
        i = child
    values[i] = item
