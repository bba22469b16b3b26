"""``WindowFrame`` records of the windows the engine emitted, with their held items."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import repeat
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from mdwindow.stream.held import HeldItems
from mdwindow.stream.keys import KeyTable
from mdwindow.stream.records import WindowFrame
from mdwindow.stream.times import nanos_of

T = TypeVar("T")

__all__ = ["window_frames"]

# Distinct window bounds kept as boxed Timestamps (boxing one costs microseconds).
STAMP_CACHE = 1 << 16
# Shared by every stream of the process: partitions see the same window bounds.
_STAMPS: dict[int, pd.Timestamp] = {}


def window_frames(
    windows: pd.DataFrame,
    keys: KeyTable | None,
    held: HeldItems[T],
    timing: str,
) -> tuple[Iterator[WindowFrame[T]], int]:
    """The engine's windows (or pending windows) as WindowFrames, in the frame's order.

    Releases their items from ``held``. Returns the frames, made lazily, and
    how many there are: a window holding only idle-flush ghost rows has no
    items and is not a window.

    Each window's list of items is made only when the window is read, so a
    reader that lets windows go at once keeps the lists short-lived (the
    cycle collector then never meets them). C-level maps throughout: with
    sparse windows there are nearly as many windows as items.

    Parameters
    ----------
    windows : pandas.DataFrame
        Windows as the engine gives them (``window_start``, ``window_end``,
        and the key column ``key`` when ``keys`` is given).
    keys : KeyTable or None
        The stream's key codes; None when items have no key.
    held : HeldItems
        The items of open windows.
    timing : str
        The ``timing`` of the frames.
    """
    n = len(windows)
    if not n:
        return iter(()), 0
    start_nanos = nanos_of(windows["window_start"])
    end_nanos = nanos_of(windows["window_end"])
    if keys is None:
        codes = np.zeros(n, np.int64)
        window_keys: list[Any] = [None] * n
    else:
        factorized, uniques = pd.factorize(windows["key"])
        codes = keys.codes_of_distinct(uniques)[factorized]
        window_keys = keys.object_list(codes)
    items, counts = held.take_out(codes, start_nanos)
    stops = np.cumsum(counts)
    firsts = stops - counts
    if not counts.all():
        real = np.flatnonzero(counts)
        window_keys = [window_keys[window] for window in real.tolist()]
        start_nanos, end_nanos = start_nanos[real], end_nanos[real]
        firsts, stops = firsts[real], stops[real]
        n = len(real)
    starts, ends = _stamps(start_nanos, end_nanos)
    lists = map(items.__getitem__, map(slice, firsts.tolist(), stops.tolist()))
    fields = zip(window_keys, starts, ends, lists, repeat(timing, n), strict=True)
    # tuple.__new__ straight from C: the named tuple's own __new__ is Python code.
    return map(tuple.__new__, repeat(WindowFrame, n), fields), n


def _stamps(start_nanos: np.ndarray, end_nanos: np.ndarray) -> tuple[list[Any], list[Any]]:
    """UTC Timestamps of the windows' bounds, boxed once per distinct window start."""
    stamps = _STAMPS
    distinct, first = np.unique(start_nanos, return_index=True)
    if len(stamps) + 2 * len(distinct) > STAMP_CACHE:
        stamps.clear()
    for start, end in zip(distinct.tolist(), end_nanos[first].tolist(), strict=True):
        if start not in stamps:
            stamps[start] = pd.Timestamp(start, tz="UTC")
        if end not in stamps:
            stamps[end] = pd.Timestamp(end, tz="UTC")
    get = stamps.__getitem__
    return list(map(get, start_nanos.tolist())), list(map(get, end_nanos.tolist()))
