"""``HeldItems``: the original items of open windows, kept aside from the engine.

The engine sees only event times and keys; the items themselves wait here
until the engine emits their windows.

Items are copied once, in arrival order, into an *arena* (a numpy object
array) as they are taken in, while they are still in the CPU cache. After the
engine has judged a push, its accepted rows are sorted by window using the
engine's own window starts, which touches only integers: a window holds runs
of that order, kept as numpy columns (key code, window start, run). An item is
touched again only when its window is released. No Python object is made per
window until then, and object arrays are invisible to Python's cycle
collector, so holding many items costs it no work.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")

__all__ = ["HeldItems", "as_object_array"]

_EMPTY = np.empty(0, np.int64)
#: Arena slots the first items get, and how far beyond twice the held items
#: it may grow before it is compacted.
ARENA_START = 1 << 14
ARENA_SLACK = 1 << 16


def as_object_array(items: list[Any]) -> np.ndarray:
    """The items as a 1-d object array (each item whole, even a tuple or a list)."""
    return np.fromiter(items, dtype=object, count=len(items))


class HeldItems(Generic[T]):
    """The items of open windows, by window, in arrival order.

    Parameters
    ----------
    size : int
        Window size in nanoseconds.

    Examples
    --------
    >>> held = HeldItems(size=10)
    >>> first = held.take_in(as_object_array(["a", "b", "c"]))
    >>> codes, starts = np.array([0, 1, 0]), np.array([0, 0, 0])
    >>> held.hold(first, np.array([True, True, True]), codes, starts)
    >>> held.item(first + 1)
    'b'
    >>> held.take_out(np.array([0, 2]), starts[:2])
    (['a', 'c'], array([2, 0]))
    >>> len(held)
    1
    """

    def __init__(self, size: int) -> None:
        self._size = int(size)
        self._arena = np.empty(ARENA_START, dtype=object)
        self._end = 0
        # Arena positions of held rows, window after window, arrival order within each.
        self._order = _EMPTY
        # Held runs of ``_order``, in arrival order: key code, window start, [first, stop).
        self._codes = self._starts = self._firsts = self._stops = _EMPTY

    def __len__(self) -> int:
        """How many windows hold items."""
        return len(set(zip(self._codes.tolist(), self._starts.tolist(), strict=True)))

    @property
    def end(self) -> int:
        """The arena position the next item taken in will get."""
        return self._end

    def take_in(self, items: np.ndarray) -> int:
        """Put newly arrived items (an object array) in the arena; returns where the first went."""
        base, end = self._end, self._end + len(items)
        if end > len(self._arena):
            arena = np.empty(max(2 * len(self._arena), end), dtype=object)
            arena[:base] = self._arena[:base]
            self._arena = arena
        self._arena[base:end] = items
        self._end = end
        return base

    def item(self, position: int) -> T:
        """The item at an arena position (until the next :meth:`take_out`)."""
        return self._arena[position]

    def hold(
        self, first: int, accepted: np.ndarray, codes: np.ndarray, starts: np.ndarray
    ) -> None:
        """Hold the accepted rows among those taken in from arena position ``first`` on.

        ``accepted``, ``codes`` (key codes) and ``starts`` (window starts, as
        the engine placed them) describe each row in arrival order; the
        others are let go.
        """
        rows = np.flatnonzero(accepted)
        if len(rows) < len(accepted):
            self._arena[first + np.flatnonzero(~accepted)] = None
        if not len(rows):
            return
        # A stable sort: arrival order within each window.
        rows = rows[np.lexsort((starts[rows], codes[rows]))]
        codes, starts = codes[rows], starts[rows]
        change = np.empty(len(rows), bool)
        change[0] = True
        np.not_equal(codes[1:], codes[:-1], out=change[1:])
        change[1:] |= starts[1:] != starts[:-1]
        runs = np.flatnonzero(change)
        base = len(self._order)
        self._order = np.concatenate([self._order, rows + first])
        self._codes = np.concatenate([self._codes, codes[runs]])
        self._starts = np.concatenate([self._starts, starts[runs]])
        self._firsts = np.concatenate([self._firsts, runs + base])
        self._stops = np.concatenate([self._stops, np.append(runs[1:], len(rows)) + base])

    def take_out(self, codes: np.ndarray, starts: np.ndarray) -> tuple[list[T], np.ndarray]:
        """Release the windows ``(codes, starts)``.

        Returns ``(items, counts)``: the items one window after the other in
        the given order, each window's in arrival order, and how many items
        each window has (0 for a window this holds nothing for).
        """
        n_windows = len(codes)
        window_of_run = _match(self._codes, self._starts, codes, starts, self._size)
        taken = np.flatnonzero(window_of_run >= 0)
        if not len(taken):
            self._compact()
            return [], np.zeros(n_windows, np.int64)
        # Runs are in arrival order: a stable sort by window keeps it within each.
        taken = taken[np.argsort(window_of_run[taken], kind="stable")]
        lengths = self._stops[taken] - self._firsts[taken]
        positions = self._order[_runs(self._firsts[taken], lengths)]
        items = self._arena[positions].tolist()
        self._arena[positions] = None
        kept = np.flatnonzero(window_of_run < 0)
        self._codes, self._starts = self._codes[kept], self._starts[kept]
        self._firsts, self._stops = self._firsts[kept], self._stops[kept]
        self._compact()
        counts = np.bincount(window_of_run[taken], weights=lengths, minlength=n_windows)
        return items, counts.astype(np.int64)

    def _compact(self) -> None:
        """Move the held items to the front of the arena once they are a small part of it.

        Amortised over the items taken in, this costs O(1) per item, however
        long a quiet key keeps a window open.
        """
        lengths = self._stops - self._firsts
        held = int(lengths.sum())
        if self._end <= 2 * held + ARENA_SLACK:
            return
        positions = self._order[_runs(self._firsts, lengths)]
        arena = np.empty(len(self._arena), dtype=object)
        arena[:held] = self._arena[positions]
        self._arena, self._end = arena, held
        self._order = np.arange(held, dtype=np.int64)
        self._stops = np.cumsum(lengths)
        self._firsts = self._stops - lengths

    def clear(self) -> None:
        """Forget every item."""
        self.__init__(self._size)  # type: ignore[misc]


def _runs(firsts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``first, first + 1, ..., first + length - 1`` of each run, in order."""
    return np.repeat(firsts - (np.cumsum(lengths) - lengths), lengths) + np.arange(
        int(lengths.sum())
    )


def _match(
    held_codes: np.ndarray,
    held_starts: np.ndarray,
    codes: np.ndarray,
    starts: np.ndarray,
    size: int,
) -> np.ndarray:
    """For each held run, the index of its window among ``(codes, starts)``, or -1."""
    n_windows = len(codes)
    if not len(held_codes) or not n_windows:
        return np.full(len(held_codes), -1, np.int64)
    lowest = min(int(held_starts.min()), int(starts.min()))
    highest = max(int(held_starts.max()), int(starts.max()))
    n_slots = (highest - lowest) // size + 1
    n_codes = max(int(held_codes.max()), int(codes.max())) + 1
    if n_slots * n_codes >= 1 << 62:
        # Windows centuries apart: no dense id fits in int64, let pandas match pairs.
        windows = pd.MultiIndex.from_arrays([codes, starts])
        return windows.get_indexer(pd.MultiIndex.from_arrays([held_codes, held_starts]))
    window_ids = codes * n_slots + (starts - lowest) // size
    run_ids = held_codes * n_slots + (held_starts - lowest) // size
    sorter = np.argsort(window_ids)
    found = sorter[np.minimum(np.searchsorted(window_ids[sorter], run_ids), n_windows - 1)]
    return np.where(window_ids[found] == run_ids, found, -1)
