"""Compiled searches of the grid pass, each answering with a row rule.

The grid pass keeps ascending sequences (the steps of a scope's running
maximum, the sorted slacks of rows or windows, the thresholds of a grid)
and asks where a rule's answer changes along them. The rule is monotone
along each sequence, so the answer is a partition point: these searches
find it with the rule itself (:func:`~mdwindow.core.rules.has_reached`,
:func:`~mdwindow.core.rules.kept_slack`), never with a comparison of their
own.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mdwindow.core.rules import has_reached, kept_slack

__all__ = ["first_kept", "first_reaching", "first_reaching_each", "kept_counts"]


@njit(cache=True, nogil=True, inline="always")
def first_reaching(levels, p, hi, threshold):  # pragma: no cover - compiled
    """The first index ``>= p`` (below ``hi``) of the ascending ``levels`` that has
    reached ``threshold`` (``hi`` if none), galloping on from ``p``: the next
    answer of a rising threshold is usually near the last one."""
    if p >= hi or has_reached(levels[p], threshold):
        return p
    step = 1
    lo = p
    while p + step < hi and not has_reached(levels[p + step], threshold):
        lo = p + step
        step *= 2
    top = min(p + step, hi)
    lo += 1
    while lo < top:
        mid = (lo + top) >> 1
        if has_reached(levels[mid], threshold):
            top = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True, nogil=True)
def first_reaching_each(levels, thresholds):  # pragma: no cover - compiled
    """For each threshold, the first index of the ascending ``levels`` that has reached
    it (``len(levels)`` if none)."""
    out = np.empty(thresholds.shape[0], np.int64)
    hi = levels.shape[0]
    for j in range(thresholds.shape[0]):
        lo = 0
        top = hi
        while lo < top:
            mid = (lo + top) >> 1
            if has_reached(levels[mid], thresholds[j]):
                top = mid
            else:
                lo = mid + 1
        out[j] = lo
    return out


@njit(cache=True, nogil=True, inline="always")
def first_kept(row_slack, waits):  # pragma: no cover - compiled
    """How many of the ascending ``waits`` (sums ``lag + lateness``, or lags) do not keep
    a row of this slack: the first under which it is kept.

    A row kept under a wait is kept under every longer one.
    """
    lo = 0
    top = waits.shape[0]
    while lo < top:
        mid = (lo + top) >> 1
        if kept_slack(row_slack, waits[mid]):
            top = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True, nogil=True)
def kept_counts(slacks, waits):  # pragma: no cover - compiled
    """For each of the ascending ``waits``, how many of ``slacks`` it keeps."""
    counts = np.zeros(waits.shape[0] + 1, np.int64)
    for i in range(slacks.shape[0]):
        counts[first_kept(slacks[i], waits)] += 1
    return np.cumsum(counts)[:-1]
