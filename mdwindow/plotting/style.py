"""What every plot shares: the colour and marker of each status, line colours, the axes.

Statuses have one colour everywhere (Okabe-Ito, colour-blind safe), in the
plotting functions, the tuner's figure and the HTML report alike. On-time
ticks that arrived out of order (below the largest event time seen before
them) keep the on-time colour but are drawn as open rings, so that the
disorder the lag has to absorb stands out from the in-order stream.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import matplotlib
import pandas as pd

from mdwindow.core.rules import DROPPED, LATE, ON_TIME, REJECTED, STATUS_NAMES

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "BOUNDARY_COLOR",
    "DRAW_ORDER",
    "EMITTED_COLOR",
    "MAX_EVENT_TIME_COLOR",
    "OUT_OF_ORDER_LABEL",
    "OUT_OF_ORDER_MARKER",
    "PARTITION_COLOR",
    "STATUS_COLORS",
    "STATUS_LABELS",
    "STATUS_MARKERS",
    "WATERMARK_COLOR",
    "current_axes",
    "duration_text",
    "thinning",
]

#: The colour of each row status, in every plot (Okabe-Ito, colour-blind safe).
STATUS_COLORS: Mapping[str, str] = MappingProxyType(
    dict(zip(STATUS_NAMES, ("#0072B2", "#E69F00", "#D55E00", "#999999"), strict=True))
)
#: Legend text of each row status.
STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    dict(zip(STATUS_NAMES, ("on time", "late (accepted)", "dropped", "rejected"), strict=True))
)
#: Marker (shape, area in points squared) of each row status.
STATUS_MARKERS: Mapping[str, tuple[str, float]] = MappingProxyType(
    dict(zip(STATUS_NAMES, (("o", 6), ("o", 14), ("X", 42), ("s", 14)), strict=True))
)
#: Status codes in drawing order: dropped ticks last, so nothing hides them.
DRAW_ORDER: tuple[int, ...] = (ON_TIME, REJECTED, LATE, DROPPED)
#: Marker (shape, area) of on-time ticks that arrived out of order: an open ring of the
#: on-time colour, larger than the in-order dots.
OUT_OF_ORDER_MARKER: tuple[str, float] = ("o", 18)
#: Legend text of on-time ticks that arrived out of order.
OUT_OF_ORDER_LABEL = "on time, out of order"

WATERMARK_COLOR = "black"
MAX_EVENT_TIME_COLOR = "#6A3D9A"
EMITTED_COLOR = "#009E73"
BOUNDARY_COLOR = "0.85"
PARTITION_COLOR = "#56B4E9"


T = TypeVar("T")


def plain_text(func: Callable[..., T]) -> Callable[..., T]:
    """Draw with every text taken literally: key names such as ``"$x^{$"`` are not mathtext.

    matplotlib reads ``$...$`` in any label, title or tick as mathtext, and a
    symbol name with an unbalanced ``$`` would fail the whole figure; texts
    made while the decorated function runs keep ``parse_math=False``.
    """

    @functools.wraps(func)
    def drawn(*args: Any, **kwargs: Any) -> T:
        with matplotlib.rc_context({"text.parse_math": False}):
            return func(*args, **kwargs)

    return drawn


def current_axes(ax: Axes | None) -> Axes:
    """``ax``, or pyplot's current axes when None (seaborn's ``ax=None`` convention)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


def thinning(count: int, limit: int) -> int:
    """Keep one item in this many so that at most ``limit`` of ``count`` remain.

    Examples
    --------
    >>> thinning(10, 20), thinning(45_000, 20_000)
    (1, 3)
    """
    return max(1, math.ceil(count / max(limit, 1)))


def duration_text(value: Any) -> str:
    """A duration the way people write it: ``"0s"``, ``"250ms"``, ``"1.5s"``, ``"2min"``.

    Examples
    --------
    >>> [duration_text(v) for v in ("0s", "250ms", "1500ms", "120s", "3us")]
    ['0s', '250ms', '1.5s', '2min', '3us']
    """
    nanos = int(pd.Timedelta(value).value)
    if nanos == 0:
        return "0s"
    for unit, size in (("h", 3_600 * 10**9), ("min", 60 * 10**9)):
        if nanos % size == 0:
            return f"{nanos // size}{unit}"
    for unit, size in (("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1)):
        # At most three decimals, so that 1.5s stays 1.5s and 1.2345s becomes 1234.5ms.
        if abs(nanos) >= size and nanos % max(size // 1000, 1) == 0:
            return f"{nanos / size:.12g}{unit}"
    return f"{nanos}ns"  # pragma: no cover - every nonzero value matches "ns"
