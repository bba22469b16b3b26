"""What a live windowing stream hands out: windows, late items, rejected items.

Named tuples rather than dataclasses: a stream makes one per window, often
nearly one per item, and a named tuple is the cheapest immutable record.
"""

from __future__ import annotations

from typing import Any, Generic, NamedTuple, TypeVar

import pandas as pd

T = TypeVar("T")

__all__ = ["LateItem", "RejectedItem", "WindowFrame"]


class WindowFrame(NamedTuple, Generic[T]):
    """One emitted window: its key, bounds and the original items, in arrival order.

    A named tuple (cheap to make, one per window), so
    ``key, start, end, items, timing = window`` works too.

    Attributes
    ----------
    key : object
        The key as ``get_key`` returned it (None without ``get_key``).
    start, end : pandas.Timestamp
        Window bounds ``[start, end)``, UTC.
    items : list
        Every accepted item of the window (on time or late within the allowed
        lateness), in arrival order.
    timing : {"final", "partial", "pending"}
        ``"final"`` for windows closed by the watermark; ``"partial"`` for open
        windows emitted at the end of the source with ``emit_partial=True``;
        ``"pending"`` in :attr:`WindowStream.pending`.
    """

    key: Any
    start: pd.Timestamp
    end: pd.Timestamp
    items: list[T]
    timing: str = "final"


class LateItem(NamedTuple, Generic[T]):
    """An item dropped as too late, with why (SPEC section 5, status "dropped").

    ``late_by = watermark - (window_end + allowed_lateness)``, at least zero.
    """

    item: T
    key: Any
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    watermark: pd.Timestamp
    late_by: pd.Timedelta


class RejectedItem(NamedTuple, Generic[T]):
    """An invalid item: ``reason`` is "missing_time", "missing_key" or "time_out_of_range"."""

    item: T
    reason: str
