"""``HeldItems``: the original items of open windows, kept aside from the engine.

The engine sees only event times and keys; the items themselves wait here
until the engine emits their windows.

Items are sorted by window when they are taken in, while they are still in
the CPU cache, and copied once into an *arena* (a numpy object array); a
window holds runs of it, kept as numpy columns. After the engine has judged
the rows, the runs join the held ones (the rare dropped items are marked
dead first), and an item is touched again only when its window is released.
No Python object is made per window until then, and object arrays are
invisible to Python's cycle collector, so holding many items costs it no
work. Should the engine judge a row otherwise than staged (a window start or
a missing key seen differently), the push is held from the engine's own
judgement instead.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")

__all__ = ["Arrivals", "HeldItems", "as_object_array", "window_starts"]

_NEG_INF = int(np.iinfo(np.int64).min)
_INT64_MAX = int(np.iinfo(np.int64).max)

_EMPTY = np.empty(0, np.int64)
#: Arena slots the first chunks get, and how far beyond twice the held items
#: it may grow before it is compacted.
ARENA_START = 1 << 14
ARENA_SLACK = 1 << 16


def window_starts(nanos: np.ndarray, size: int, offset: int) -> np.ndarray:
    """``offset + floor((t - offset) / size) * size`` for each time (SPEC section 3).

    Times so close to the int64 limits that the grid might overflow (missing
    times among them) get ``NEG_INF``; such rows are left for the engine to place.
    """
    lowest = _NEG_INF + 2 * size
    if lowest > _INT64_MAX:
        return np.full(len(nanos), _NEG_INF, np.int64)
    if not len(nanos) or nanos.min() >= lowest:
        return nanos - (nanos - offset) % size
    safe = nanos >= lowest
    starts = np.full(len(nanos), _NEG_INF, np.int64)
    starts[safe] = nanos[safe] - (nanos[safe] - offset) % size
    return starts


def as_object_array(items: list[Any]) -> np.ndarray:
    """The items as a 1-d object array (each item whole, even a tuple or a list)."""
    return np.fromiter(items, dtype=object, count=len(items))


class Arrivals:
    """The items of one push in arrival order, kept as the object arrays they came in.

    Examples
    --------
    >>> arrivals = Arrivals()
    >>> arrivals.append(as_object_array(["a", "b"]))
    >>> arrivals.append(as_object_array(["c"]))
    >>> len(arrivals), arrivals.item(2), arrivals.all().tolist()
    (3, 'c', ['a', 'b', 'c'])
    """

    def __init__(self) -> None:
        self._arrays: list[np.ndarray] = []
        self._firsts: list[int] = []
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, items: np.ndarray) -> None:
        """Add the next chunk (an object array)."""
        self._arrays.append(items)
        self._firsts.append(self._n)
        self._n += len(items)

    def item(self, position: int) -> Any:
        """The item at an arrival position."""
        chunk = int(np.searchsorted(self._firsts, position, side="right")) - 1
        return self._arrays[chunk][position - self._firsts[chunk]]

    def all(self) -> np.ndarray:
        """Every item, one object array."""
        if not self._arrays:
            return np.empty(0, dtype=object)
        return np.concatenate(self._arrays)


class HeldItems(Generic[T]):
    """The items of open windows, by window, in arrival order.

    Items live in an *arena*, one object array; a window holds *parts*, runs
    ``[first, stop)`` of the arena, kept as numpy columns (key code, window
    start, first, stop), so holding and releasing windows is a few vectorised
    steps however many windows there are. Dropped items inside a run are
    marked dead and skipped when the window is released.

    Parameters
    ----------
    size : int
        Window size in nanoseconds.

    Examples
    --------
    >>> held = HeldItems(size=10)
    >>> codes, starts = np.array([0, 1, 0]), np.array([0, 0, 0])
    >>> held.stage(as_object_array(["a", "b", "c"]), codes, starts)
    >>> held.settle(None, np.array([True, True, True]), codes, starts)
    >>> held.take_out(np.array([0, 2]), starts[:2])
    (['a', 'c'], array([2, 0]))
    >>> len(held)
    1
    """

    def __init__(self, size: int) -> None:
        self._size = int(size)
        self._arena = np.empty(ARENA_START, dtype=object)
        self._dead = np.zeros(ARENA_START, bool)
        self._end = 0
        # Settled parts, in arrival order: key code, window start, arena run.
        self._codes = self._starts = self._firsts = self._stops = _EMPTY
        self._clear_stage()

    def __len__(self) -> int:
        """How many windows hold items."""
        return len(set(zip(self._codes.tolist(), self._starts.tolist(), strict=True)))

    # -- taking items in --------------------------------------------------------

    def stage(self, items: np.ndarray, codes: np.ndarray, starts: np.ndarray) -> None:
        """Sort a chunk of newly arrived items (an object array) by window.

        ``codes`` (key codes, -1 for a missing key) and ``starts`` (window
        starts, ``NEG_INF`` for a missing time) are the rows' windows as far
        as they can be told before the engine judges them.
        """
        n = len(items)
        place_of_row = np.full(n, -1, np.int64)
        part_of_row = np.full(n, -1, np.int64)
        valid = np.flatnonzero((codes >= 0) & (starts != _NEG_INF))
        if len(valid):
            order = valid[np.lexsort((starts[valid], codes[valid]))]
            part_codes, part_starts = codes[order], starts[order]
            change = _changes(part_codes, part_starts)
            first = np.flatnonzero(change)
            base = self._append(items[order])
            place_of_row[order] = np.arange(base, base + len(order))
            part_of_row[order] = np.cumsum(change) - 1 + self._n_staged
            self._n_staged += len(first)
            self._stage_parts.append(
                (
                    part_codes[first],
                    part_starts[first],
                    first + base,
                    np.append(first[1:], len(order)) + base,
                )
            )
        self._place_of_row.append(place_of_row)
        self._part_of_row.append(part_of_row)
        self._start_of_row.append(starts)

    def settle(
        self,
        arrivals: Arrivals | None,
        accepted: np.ndarray,
        codes: np.ndarray,
        starts: np.ndarray,
    ) -> None:
        """Hold the accepted rows of the items staged since the last call.

        ``accepted`` is the engine's verdict for each row in arrival order,
        ``codes`` their key codes and ``starts`` their window starts as the
        engine placed them; ``arrivals`` (the items in arrival order) is read
        only if the engine saw a row otherwise than staged.
        """
        places = _concat(self._place_of_row)
        part_of_row = _concat(self._part_of_row)
        staged_starts = _concat(self._start_of_row)
        parts = [_concat(list(column)) for column in zip(*self._stage_parts, strict=True)]
        self._clear_stage()
        if not len(parts):
            parts = [_EMPTY] * 4
        if len(places) != len(accepted):
            mismatch = bool(accepted.any())
        else:
            mismatch = bool((accepted & (places < 0)).any()) or bool(
                (staged_starts[accepted] != starts[accepted]).any()
            )
        if mismatch:
            # What was staged stays unreferenced in the arena until it is compacted.
            assert arrivals is not None
            self._hold(arrivals.all(), np.flatnonzero(accepted), codes, starts)
            return
        dropped = np.flatnonzero(~accepted & (places >= 0))
        if len(dropped):
            # Staged but dropped (late) or rejected: dead in their runs, and
            # runs with nothing else (a window closed before) let go.
            self._dead[places[dropped]] = True
            dead = np.bincount(part_of_row[dropped], minlength=len(parts[0]))
            alive = np.flatnonzero(dead < parts[3] - parts[2])
            parts = [column[alive] for column in parts]
        self._add(*parts)

    def _hold(
        self, items: np.ndarray, positions: np.ndarray, codes: np.ndarray, starts: np.ndarray
    ) -> None:
        """Hold ``items[p]`` for each ``p`` of ``positions`` (arrival order) in its window."""
        if not len(positions):
            return
        order = positions[np.lexsort((starts[positions], codes[positions]))]
        part_codes, part_starts = codes[order], starts[order]
        first = np.flatnonzero(_changes(part_codes, part_starts))
        base = self._append(items[order])
        stops = np.append(first[1:], len(order)) + base
        self._add(part_codes[first], part_starts[first], first + base, stops)

    def _append(self, items: np.ndarray) -> int:
        """Put items at the end of the arena; returns where the first went."""
        base, end = self._end, self._end + len(items)
        if end > len(self._arena):
            capacity = max(2 * len(self._arena), end)
            arena = np.empty(capacity, dtype=object)
            arena[:base] = self._arena[:base]
            dead = np.zeros(capacity, bool)
            dead[:base] = self._dead[:base]
            self._arena, self._dead = arena, dead
        self._arena[base:end] = items
        self._end = end
        return base

    def _add(
        self, codes: np.ndarray, starts: np.ndarray, firsts: np.ndarray, stops: np.ndarray
    ) -> None:
        self._codes = np.concatenate([self._codes, codes])
        self._starts = np.concatenate([self._starts, starts])
        self._firsts = np.concatenate([self._firsts, firsts])
        self._stops = np.concatenate([self._stops, stops])

    # -- letting items go -------------------------------------------------------

    def take_out(self, codes: np.ndarray, starts: np.ndarray) -> tuple[list[T], np.ndarray]:
        """Release the windows ``(codes, starts)``.

        Returns ``(items, counts)``: the items one window after the other in
        the given order, each window's in arrival order, and how many items
        each window has (0 for a window this holds nothing for).
        """
        n_windows = len(codes)
        window_of_part = _match(self._codes, self._starts, codes, starts, self._size)
        taken = np.flatnonzero(window_of_part >= 0)
        if not len(taken):
            return [], np.zeros(n_windows, np.int64)
        # Parts are in arrival order: a stable sort by window keeps it within each.
        taken = taken[np.argsort(window_of_part[taken], kind="stable")]
        firsts, stops = self._firsts[taken], self._stops[taken]
        lengths = stops - firsts
        positions = _runs(firsts, lengths)
        window_of_item = np.repeat(window_of_part[taken], lengths)
        dead = self._dead[positions]
        if dead.any():
            self._dead[positions] = False
            self._arena[positions[dead]] = None
            alive = ~dead
            positions, window_of_item = positions[alive], window_of_item[alive]
        items = self._arena[positions].tolist()
        self._arena[positions] = None
        kept = np.flatnonzero(window_of_part < 0)
        self._codes, self._starts = self._codes[kept], self._starts[kept]
        self._firsts, self._stops = self._firsts[kept], self._stops[kept]
        self._compact()
        return items, np.bincount(window_of_item, minlength=n_windows)

    def _compact(self) -> None:
        """Move the held runs to the front of the arena once they are a small part of it.

        Amortised over the items taken in, this costs O(1) per item, however
        long a quiet key keeps a window open.
        """
        lengths = self._stops - self._firsts
        held = int(lengths.sum())
        if self._end <= 2 * held + ARENA_SLACK:
            return
        positions = _runs(self._firsts, lengths)
        arena = np.empty(len(self._arena), dtype=object)
        arena[:held] = self._arena[positions]
        dead = np.zeros(len(self._arena), bool)
        dead[:held] = self._dead[positions]
        self._arena, self._dead, self._end = arena, dead, held
        self._stops = np.cumsum(lengths)
        self._firsts = self._stops - lengths

    def clear(self) -> None:
        """Forget every item."""
        self.__init__(self._size)  # type: ignore[misc]

    def _clear_stage(self) -> None:
        self._n_staged = 0
        self._stage_parts: list[tuple[np.ndarray, ...]] = []
        self._place_of_row: list[np.ndarray] = []
        self._part_of_row: list[np.ndarray] = []
        self._start_of_row: list[np.ndarray] = []


def _changes(codes: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """True where a row sorted by window begins a new window."""
    change = np.empty(len(codes), bool)
    if len(codes):
        change[0] = True
        np.not_equal(codes[1:], codes[:-1], out=change[1:])
        change[1:] |= starts[1:] != starts[:-1]
    return change


def _runs(firsts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``first, first + 1, ..., first + length - 1`` of each run, in order."""
    return np.repeat(firsts - (np.cumsum(lengths) - lengths), lengths) + np.arange(
        int(lengths.sum())
    )


def _concat(arrays: list[np.ndarray]) -> np.ndarray:
    if not arrays:
        return _EMPTY
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _match(
    held_codes: np.ndarray,
    held_starts: np.ndarray,
    codes: np.ndarray,
    starts: np.ndarray,
    size: int,
) -> np.ndarray:
    """For each held part, the index of its window among ``(codes, starts)``, or -1."""
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
    part_ids = held_codes * n_slots + (held_starts - lowest) // size
    sorter = np.argsort(window_ids)
    found = sorter[np.minimum(np.searchsorted(window_ids[sorter], part_ids), n_windows - 1)]
    return np.where(window_ids[found] == part_ids, found, -1)
