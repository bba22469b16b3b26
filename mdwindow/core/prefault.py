"""Faulting fresh output pages in on a helper thread (Linux)."""

from __future__ import annotations

import ctypes
import sys
import threading
from typing import Any

import numpy as np

#: Chunks of at least this many rows fault their output pages in on a helper thread.
PREFAULT_ROWS = 1 << 20


_MADV_POPULATE_WRITE = 23  # Linux >= 5.14


_madvise = None


class Prefault:
    """Fault in the pages of fresh arrays on a helper thread (Linux only).

    Writing to fresh memory makes the operating system clear each page
    first, and on a busy virtual machine that costs as much as the engine's
    own work. For arrays whose size is known in advance (the per-row
    outputs), a helper thread asks Linux to populate the pages
    (``MADV_POPULATE_WRITE``, which changes no data, so the engine may
    write them at the same time) while this thread codes the keys and runs
    the compiled pass with the GIL released. Elsewhere, or for small
    chunks, this does nothing.
    """

    _madvise: Any = None

    def __init__(self, arrays: list[np.ndarray]) -> None:
        self.thread = None
        if sum(a.nbytes for a in arrays) < PREFAULT_ROWS * 8 or not self._available():
            return
        self.thread = threading.Thread(
            target=self._populate, args=(arrays,), name="mdwindow-prefault", daemon=True
        )
        self.thread.start()

    @classmethod
    def _available(cls) -> bool:
        if cls._madvise is None:
            cls._madvise = False
            if sys.platform.startswith("linux"):
                try:
                    libc = ctypes.CDLL(None, use_errno=True)
                    libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
                    probe = np.empty(1 << 13, np.uint8)
                    page = (probe.ctypes.data + 4095) & ~4095
                    if libc.madvise(page, 4096, _MADV_POPULATE_WRITE) == 0:
                        cls._madvise = libc.madvise
                except (OSError, AttributeError):
                    pass
        return bool(cls._madvise)

    @classmethod
    def _populate(cls, arrays: list[np.ndarray]) -> None:
        for values in arrays:
            start = values.ctypes.data & ~4095
            cls._madvise(start, values.ctypes.data + values.nbytes - start, _MADV_POPULATE_WRITE)

    def finish(self) -> None:
        if self.thread is not None:
            self.thread.join()
