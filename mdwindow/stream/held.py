"""``HeldItems``: the original items of open windows, kept aside from the engine.

The engine sees only event times and keys; the items themselves wait here
until the engine emits their windows. Items go into an arena (a list, in
arrival order) once, when they are taken in; accepted rows of open windows
are held as arena positions with their key code and window start. Emitting a
batch of windows is then a few vectorised steps and one reference per item,
however many windows there are.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")

__all__ = ["HeldItems"]

# Items the arena may hold beyond twice the held ones before it is compacted.
ARENA_SLACK = 1 << 14


class HeldItems(Generic[T]):
    """The items of open windows, by (key, window start), in arrival order.

    Parameters
    ----------
    size_ns : int
        Window size in nanoseconds (window starts lie on one grid of it).

    Examples
    --------
    >>> held = HeldItems(10)
    >>> first = held.take_in(["a", "b", "c"])
    >>> held.hold(first + np.array([0, 2]), np.array(["x", "x"], dtype=object),
    ...           np.array([0, 0]))
    >>> held.take_out(pd.Series(["x"]), np.array([0]))
    (['x'], array([2]), ['a', 'c'])
    """

    def __init__(self, size_ns: int) -> None:
        self._size = int(size_ns)
        self._arena: list[T] = []
        self._positions = np.empty(0, np.int64)
        self._codes = np.empty(0, np.int64)
        self._starts = np.empty(0, np.int64)
        self._key_codes: dict[Any, int] = {}
        self._key_objects: list[Any] = []

    def __len__(self) -> int:
        """How many items are held for open windows."""
        return len(self._positions)

    @property
    def end(self) -> int:
        """The arena position the next item taken in will get."""
        return len(self._arena)

    def take_in(self, items: list[T]) -> int:
        """Put newly arrived items in the arena; returns the position of the first."""
        first = len(self._arena)
        self._arena.extend(items)
        return first

    def item(self, position: int) -> T:
        """The item at an arena position (valid until the next :meth:`compact`)."""
        return self._arena[position]

    def hold(self, positions: np.ndarray, keys: np.ndarray | None, starts: np.ndarray) -> None:
        """Hold the items at ``positions`` (in arrival order) for windows ``(keys, starts)``.

        ``keys`` is an object array of keys, or None when the stream has no key.
        """
        if keys is None:
            codes = np.zeros(len(positions), np.int64)
        else:
            # Python work per distinct key of the batch, not per item.
            factorized, uniques = pd.factorize(keys)
            codes = self._codes_of(uniques)[factorized]
        self._positions = np.concatenate([self._positions, positions])
        self._codes = np.concatenate([self._codes, codes])
        self._starts = np.concatenate([self._starts, starts])

    def take_out(
        self, keys: pd.Series | None, starts: np.ndarray
    ) -> tuple[list[Any], np.ndarray, list[T]]:
        """Release the items of the windows ``(keys, starts)``.

        Returns ``(window_keys, counts, items)``: each window's key as first
        taken in, how many items each window holds (0 for a window this holds
        nothing for), and the items one window after the other in the given
        order, each window's in arrival order.
        """
        n_windows = len(starts)
        if keys is None:
            codes = np.zeros(n_windows, np.int64)
            window_keys: list[Any] = [None] * n_windows
        else:
            factorized, uniques = pd.factorize(keys)
            codes = self._codes_of(uniques)[factorized]
            window_keys = list(map(self._key_objects.__getitem__, codes.tolist()))
        window_of_row = self._match(codes, starts)
        taken = np.flatnonzero(window_of_row >= 0)
        if not len(taken):
            return window_keys, np.zeros(n_windows, np.int64), []
        # Rows are held in arrival order, so a stable sort by window keeps it.
        order = taken[np.argsort(window_of_row[taken], kind="stable")]
        items = list(map(self._arena.__getitem__, self._positions[order].tolist()))
        kept = np.flatnonzero(window_of_row < 0)
        self._positions = self._positions[kept]
        self._codes = self._codes[kept]
        self._starts = self._starts[kept]
        return window_keys, np.bincount(window_of_row[taken], minlength=n_windows), items

    def compact(self) -> None:
        """Let go of arena items no open window needs, once they are most of it.

        Amortised over the items taken in, this costs O(1) per item, however
        long a quiet key keeps a window open.
        """
        held = len(self._positions)
        if len(self._arena) <= 2 * held + ARENA_SLACK:
            return
        self._arena = list(map(self._arena.__getitem__, self._positions.tolist()))
        self._positions = np.arange(held, dtype=np.int64)

    def clear(self) -> None:
        """Forget every item."""
        self._arena = []
        self._positions = self._codes = self._starts = np.empty(0, np.int64)

    def _codes_of(self, keys: Any) -> np.ndarray:
        """Stream-wide codes of distinct keys, numbering keys never seen before."""
        known = self._key_codes
        objects = self._key_objects
        codes = np.empty(len(keys), np.int64)
        for position, key in enumerate(keys):
            code = known.get(key)
            if code is None:
                code = known[key] = len(objects)
                objects.append(key)
            codes[position] = code
        return codes

    def _match(self, codes: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """For each held row, the index of its window among ``(codes, starts)``, or -1."""
        held_codes, held_starts = self._codes, self._starts
        n_windows = len(codes)
        if not len(held_codes) or not n_windows:
            return np.full(len(held_codes), -1, np.int64)
        lowest = min(int(held_starts.min()), int(starts.min()))
        highest = max(int(held_starts.max()), int(starts.max()))
        n_slots = (highest - lowest) // self._size + 1
        if n_slots * max(len(self._key_objects), 1) >= 1 << 62:
            # Windows centuries apart: no dense id fits in int64, let pandas match pairs.
            windows = pd.MultiIndex.from_arrays([codes, starts])
            return windows.get_indexer(pd.MultiIndex.from_arrays([held_codes, held_starts]))
        window_ids = codes * n_slots + (starts - lowest) // self._size
        row_ids = held_codes * n_slots + (held_starts - lowest) // self._size
        sorter = np.argsort(window_ids)
        found = sorter[np.minimum(np.searchsorted(window_ids[sorter], row_ids), n_windows - 1)]
        return np.where(window_ids[found] == row_ids, found, -1)
