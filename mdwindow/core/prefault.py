"""Pages of a compiled pass's output made ready by the other core, just ahead of it.

A fresh array's pages cost nothing until first written; then each page takes
a fault, and the kernel zeroes it. The ring pass writes its panes front to
back, some 110 bytes a window: on a day of ticks (1.4M windows from 3M rows)
the faults alone are 50-70 ms, a third of the pass. The pass runs without
the GIL, so a helper thread can take those faults on another core while the
pass runs: it asks the kernel to populate the pages a little ahead of the
pass's write position (``madvise(MADV_POPULATE_WRITE)``, Linux 5.14+), which
maps them writable without changing a byte, so it never races with the
pass's own writes. It reads the position off the pass's counter, stays at
most :data:`AHEAD` items ahead (what it populates and the pass never writes
is memory held for nothing) and stops when the pass ends.

Elsewhere (another OS, an older kernel, a small output) nothing happens and
the pass takes its own faults, as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext

import numpy as np

__all__ = ["populated_ahead"]

MADV_POPULATE_WRITE = 23
#: How many items ahead of the pass the helper populates.
AHEAD = 1 << 16
#: Outputs of fewer bytes are left alone: a thread (some 100 us) costs more than
#: their faults (some 2 us a page).
MIN_BYTES = 1 << 21
_PAGE = 4096


def _madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        call = libc.madvise
    except (OSError, AttributeError):  # pragma: no cover - unusual libc
        return None
    call.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    call.restype = ctypes.c_int
    return call


_MADVISE = _madvise()
_works: bool | None = None  # whether the kernel knows MADV_POPULATE_WRITE


def _rows(arrays: Sequence[np.ndarray], items: int) -> list[tuple[int, int]]:
    """``(address, bytes per item)`` of each run of ``items`` items the arrays hold:
    a 1-d array is one run, each row of a C-ordered 2-d array is one."""
    runs = []
    for array in arrays:
        if array.size == 0 or not array.flags.c_contiguous:
            continue
        address = array.__array_interface__["data"][0]
        if array.ndim == 1 and array.shape[0] == items:
            runs.append((address, array.itemsize))
        elif array.ndim == 2 and array.shape[1] == items:
            step = items * array.itemsize
            runs.extend((address + r * step, array.itemsize) for r in range(array.shape[0]))
    return runs


def _populate(runs: list[tuple[int, int]], lo: int, hi: int) -> bool:
    """Populate items ``[lo, hi)`` of every run; False when the kernel refuses."""
    global _works
    for address, width in runs:
        start = (address + lo * width) & ~(_PAGE - 1)
        end = address + hi * width
        if end <= start:
            continue
        if _MADVISE(start, end - start, MADV_POPULATE_WRITE) != 0:
            if _works is None:
                _works = False  # EINVAL: a kernel before 5.14
            return False
    _works = True
    return True


def _follow(runs, items: int, progress: np.ndarray, index: int, done: threading.Event) -> None:
    ready = 0
    while ready < items and not done.is_set():
        target = min(items, int(progress[index]) + AHEAD)
        if target - ready >= AHEAD // 4 or target == items:
            if not _populate(runs, ready, target):
                return
            ready = target
        else:
            time.sleep(0.0002)


def populated_ahead(
    arrays: Sequence[np.ndarray], items: int, progress: np.ndarray, index: int
) -> AbstractContextManager[None]:
    """While the body runs, populate the pages of ``arrays`` (each holding ``items``
    items along its last axis) ahead of ``progress[index]``, the number of items
    the body has written so far.

    Examples
    --------
    >>> out = np.empty(1 << 19, np.int64)
    >>> written = np.zeros(1, np.int64)
    >>> with populated_ahead([out], len(out), written, 0):
    ...     out[:] = 7
    ...     written[0] = len(out)
    >>> int(out.sum()) == 7 * len(out)
    True
    """
    if _MADVISE is None or _works is False or sum(a.nbytes for a in arrays) < MIN_BYTES:
        return _NOTHING  # (most pushes of a stream: no generator to run)
    return _following(arrays, items, progress, index)


_NOTHING = nullcontext()


@contextmanager
def _following(
    arrays: Sequence[np.ndarray], items: int, progress: np.ndarray, index: int
) -> Iterator[None]:
    runs = _rows(arrays, items)
    done = threading.Event()
    helper = threading.Thread(
        target=_follow, args=(runs, items, progress, index, done), daemon=True
    )
    helper.start()
    try:
        yield
    finally:
        done.set()
        helper.join()
