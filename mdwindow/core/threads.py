"""Two pieces of compiled work at once, on the caller's thread and a helper.

The engine's compiled loops release the GIL, so two of them run on both
cores of a 2-core machine. Used where a large piece of work splits into two
halves with nothing shared: coding a first chunk's keys, gathering a result's
key column.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["at_once"]

A = TypeVar("A")
B = TypeVar("B")


def at_once(first: Callable[[], A], second: Callable[[], B], name: str) -> tuple[A, B]:
    """``(first(), second())``, ``second`` run meanwhile on a helper thread named ``name``.

    An error of either is raised in the caller's thread, ``first``'s before
    ``second``'s; the helper has always ended when this returns or raises.

    Examples
    --------
    >>> at_once(lambda: 1, lambda: 2, "example")
    (1, 2)
    >>> at_once(lambda: 1, lambda: 1 // 0, "example")
    Traceback (most recent call last):
    ...
    ZeroDivisionError: integer division or modulo by zero
    """
    later: list[Any] = [None, None]  # the result, or the error

    def run_second() -> None:
        try:
            later[0] = second()
        except BaseException as error:  # raised again in the caller's thread
            later[1] = error

    helper = threading.Thread(target=run_second, name=name)
    helper.start()
    try:
        result = first()
    finally:
        helper.join()
    if later[1] is not None:
        raise later[1]
    return result, later[0]
