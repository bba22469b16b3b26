"""``HeldItems``: the original items of open windows, kept aside from the engine.

The engine sees only event times and keys; the items themselves wait here
until the engine emits their windows, found by one integer made of the
window's key code and its place on the grid.

Items are sorted by window when they are taken in, while they are still in
the CPU cache: each chunk becomes one numpy object array, ordered by window,
and a window holds *spans* ``(array, first, stop)`` of such arrays. After the
engine has judged the rows, the spans join their windows (the rare dropped
items are cut out first), and an item is touched again only when its window's
list is made. Object arrays are invisible to Python's cycle collector, so
holding many items costs no collector work; a list per window would be
traversed by every full collection. Should the engine judge a row otherwise
than staged (a window start or a missing key seen differently), the push is
held from the engine's own judgement instead.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any, Generic, TypeVar

import numpy as np

T = TypeVar("T")

__all__ = ["Arrivals", "HeldItems", "items_of", "window_ids", "window_starts"]

_NEG_INF = int(np.iinfo(np.int64).min)
_INT64_MAX = int(np.iinfo(np.int64).max)
#: Key codes take the low 32 bits of a window id (KeyTable numbers fewer keys).
_CODE_BITS = 32

#: Items of one window: a span of a sorted chunk, or several spans in arrival order.
Span = tuple[np.ndarray, int, int]


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


def window_ids(codes: np.ndarray, starts: np.ndarray, size: int) -> list[int]:
    """One int per window: ``(start // size) << 32 | code``, equal for equal windows.

    Window starts lie on one grid, so ``start // size`` numbers them.
    """
    slots = starts // size
    if not len(slots) or max(-int(slots.min()), int(slots.max())) < 1 << (62 - _CODE_BITS):
        return ((slots << _CODE_BITS) | codes).tolist()
    # Slots too far out for int64 (tiny windows, far dates): Python ints, same values.
    pairs = zip(slots.tolist(), codes.tolist(), strict=True)
    return [(slot << _CODE_BITS) | code for slot, code in pairs]


def as_object_array(items: list[Any]) -> np.ndarray:
    """The items as a 1-d object array (each item whole, even a tuple or a list)."""
    return np.fromiter(items, dtype=object, count=len(items))


def items_of(held: Span | list[Span]) -> list[Any]:
    """The list of items of one window's spans."""
    if type(held) is tuple:
        array, first, stop = held
        return array[first:stop].tolist()
    return np.concatenate([array[first:stop] for array, first, stop in held]).tolist()


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
    >>> [None if w is None else items_of(w) for w in held.take_out(np.array([0, 2]), starts[:2])]
    [['a', 'c'], None]
    >>> len(held)
    1
    """

    def __init__(self, size: int) -> None:
        self._size = int(size)
        self._open: dict[int, Span | list[Span]] = {}
        self._clear_stage()

    def __len__(self) -> int:
        """How many windows hold items."""
        return len(self._open)

    # -- taking items in --------------------------------------------------------

    def stage(self, items: np.ndarray, codes: np.ndarray, starts: np.ndarray) -> None:
        """Sort a chunk of newly arrived items (an object array) by window.

        ``codes`` (key codes, -1 for a missing key) and ``starts`` (window
        starts, ``NEG_INF`` for a missing time) are the rows' windows as far
        as they can be told before the engine judges them.
        """
        n = len(items)
        part_of_row = np.full(n, -1, np.int64)
        place_of_row = np.zeros(n, np.int64)
        valid = np.flatnonzero((codes >= 0) & (starts != _NEG_INF))
        if len(valid):
            order = valid[np.lexsort((starts[valid], codes[valid]))]
            first, windows = self._parts(codes[order], starts[order])
            part_of_row[order] = np.cumsum(_boundaries(first, len(order))) - 1 + self._n_parts
            place_of_row[order] = np.arange(len(order))
            self._add_parts(items[order], first, windows)
        self._part_of_row.append(part_of_row)
        self._place_of_row.append(place_of_row)
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
        staged = np.concatenate(self._part_of_row) if self._part_of_row else None
        places = np.concatenate(self._place_of_row) if self._place_of_row else None
        staged_starts = np.concatenate(self._start_of_row) if self._start_of_row else None
        spans, windows = self._spans, self._windows
        self._clear_stage()
        if not accepted.any():
            return
        if staged is None or len(staged) != len(accepted):
            mismatch = True
        else:
            unstaged = staged < 0
            mismatch = bool((accepted & unstaged).any()) or bool(
                (staged_starts[accepted] != starts[accepted]).any()
            )
        if mismatch:
            assert arrivals is not None
            self._hold(arrivals.all(), np.flatnonzero(accepted), codes, starts)
            return
        dropped = np.flatnonzero(~accepted & ~unstaged)
        if len(dropped):
            # Staged but dropped (late) or rejected: cut out of their spans.
            cuts: dict[int, list[int]] = {}
            for part, place in zip(
                staged[dropped].tolist(), places[dropped].tolist(), strict=True
            ):
                cuts.setdefault(part, []).append(place)
            for part, places_cut in cuts.items():
                array, first, stop = spans[part]
                bounds = zip(
                    [first, *(place + 1 for place in places_cut)], [*places_cut, stop], strict=True
                )
                kept = [(array, a, b) for a, b in bounds if a < b]
                spans[part] = kept if len(kept) > 1 else (kept[0] if kept else None)
        self._attach(windows, spans)

    def _hold(
        self, items: np.ndarray, positions: np.ndarray, codes: np.ndarray, starts: np.ndarray
    ) -> None:
        """Hold ``items[p]`` for each ``p`` of ``positions`` (arrival order) in its window."""
        if not len(positions):
            return
        order = positions[np.lexsort((starts[positions], codes[positions]))]
        first, windows = self._parts(codes[order], starts[order])
        self._add_parts(items[order], first, windows)
        spans, windows = self._spans, self._windows
        self._clear_stage()
        self._attach(windows, spans)

    def _parts(self, codes: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """Where each window's rows begin among rows sorted by window, and the window ids."""
        n = len(codes)
        change = np.empty(n, bool)
        change[0] = True
        np.not_equal(codes[1:], codes[:-1], out=change[1:])
        change[1:] |= starts[1:] != starts[:-1]
        first = np.flatnonzero(change)
        return first, window_ids(codes[first], starts[first], self._size)

    def _add_parts(self, sorted_items: np.ndarray, first: np.ndarray, windows: list[int]) -> None:
        stops = np.append(first[1:], len(sorted_items))
        self._spans += zip(repeat(sorted_items), first.tolist(), stops.tolist())
        self._windows += windows
        self._n_parts += len(first)

    def _attach(self, windows: list[int], spans: list[Any]) -> None:
        open_windows = self._open
        for window, span in zip(windows, spans, strict=True):
            if span is None:
                continue
            held = open_windows.get(window)
            if held is None:
                open_windows[window] = span
            elif type(held) is list:
                if type(span) is list:
                    held += span
                else:
                    held.append(span)
            else:
                open_windows[window] = [held, *span] if type(span) is list else [held, span]

    # -- letting items go -------------------------------------------------------

    def take_out(self, codes: np.ndarray, starts: np.ndarray) -> list[Any]:
        """Release the windows ``(codes, starts)``.

        Returns what each window holds (give it to :func:`items_of` for its
        items in arrival order), None for a window this holds nothing for.
        """
        windows = window_ids(codes, starts, self._size)
        return list(map(self._open.pop, windows, repeat(None)))

    def clear(self) -> None:
        """Forget every item."""
        self._open = {}
        self._clear_stage()

    def _clear_stage(self) -> None:
        self._n_parts = 0
        self._spans: list[Any] = []
        self._windows: list[int] = []
        self._part_of_row: list[np.ndarray] = []
        self._place_of_row: list[np.ndarray] = []
        self._start_of_row: list[np.ndarray] = []


def _boundaries(first: np.ndarray, n: int) -> np.ndarray:
    flags = np.zeros(n, np.int64)
    flags[first] = 1
    return flags
