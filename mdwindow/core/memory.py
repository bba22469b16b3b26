"""Big allocations without numpy's huge-page hint, while the engine runs.

On Linux numpy asks the kernel for transparent huge pages on every array of
4 MiB or more (``madvise(MADV_HUGEPAGE)``). Where the kernel's THP ``defrag``
setting is ``madvise`` (a common default), a page fault in such an array may
stop to compact memory first: a windowing call on 3M ticks that takes
0.25 s then now and again takes 1 to 1.6 s, nearly all of it in the kernel.
The engine writes its arrays once, front to back, and gains nothing from
huge pages, so while it runs the hint is off (:func:`without_hugepage_hint`).

The switch is numpy's own and process-wide: it is turned off when the first
engine call starts and restored when the last one ends, under a lock, so
calls from several threads leave it as they found it. A process started with
``NUMPY_MADVISE_HUGEPAGE`` set keeps what that says.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

__all__ = ["without_hugepage_hint"]

F = TypeVar("F", bound=Callable[..., Any])

_lock = threading.Lock()
_depth = 0
_before = True


def _switch() -> Callable[[bool], bool] | None:
    """numpy's setter of the hint (it returns the previous value), if it has one."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return None
    core = getattr(np, "_core", None) or getattr(np, "core", None)
    return getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)


_SET = _switch()


def without_hugepage_hint(func: F) -> F:
    """``func`` run with numpy's huge-page hint off (see the module's text).

    Examples
    --------
    >>> @without_hugepage_hint
    ... def total(n):
    ...     return int(np.ones(n, np.int64).sum())
    >>> total(1_000_000)
    1000000
    """
    if _SET is None:
        return func

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _depth, _before
        with _lock:
            if _depth == 0:
                _before = _SET(False)
            _depth += 1
        try:
            return func(*args, **kwargs)
        finally:
            with _lock:
                _depth -= 1
                if _depth == 0:
                    _SET(_before)

    return wrapper  # type: ignore[return-value]
