"""Latency quantiles as ``np.quantile`` gives them, without sorting every latency.

The grid needs the median and 99th percentile of the latencies of the
windows that close under each sum ``lag + lateness``: radix selection
finds the few order statistics they interpolate between in a couple of
passes over the values, where a sort would take many.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["quantiles_of"]

#: Buckets of one radix pass when selecting order statistics (see ``_order_statistics``).
_RADIX_BITS = 11


@njit(cache=True, nogil=True)
def _bucket_shift(lo, hi):  # pragma: no cover - compiled
    """The right shift that puts ``v - lo`` for ``lo <= v <= hi`` in ``2**_RADIX_BITS`` buckets."""
    span = np.uint64(hi) - np.uint64(lo)  # wraps around to the true difference
    bits = 0
    while bits < 64 and (span >> np.uint64(bits)) > np.uint64(0):
        bits += 1
    return max(bits - _RADIX_BITS, 0)


@njit(cache=True, nogil=True, inline="always")
def _value_range(values, m):  # pragma: no cover - compiled
    """``(smallest, largest)`` of ``values[:m]`` (``m >= 1``)."""
    lo = values[0]
    hi = values[0]
    for i in range(1, m):
        v = values[i]
        if v < lo:
            lo = v
        elif v > hi:
            hi = v
    return lo, hi


@njit(cache=True, nogil=True, inline="always")
def _bucket_counts(values, m, base, shift):  # pragma: no cover - compiled
    """How many of ``values[:m]`` fall in each radix bucket ``(v - base) >> shift``."""
    counts = np.zeros((1 << _RADIX_BITS) + 1, np.int64)
    for i in range(m):
        counts[(np.uint64(values[i]) - base) >> shift] += 1
    return counts


@njit(cache=True, nogil=True)
def _kth_smallest(values, m, rank):  # pragma: no cover - compiled
    """The ``rank``-th smallest (from 0) of ``values[:m]``, which it reorders.

    Radix selection: each pass keeps the bucket (of ``2**_RADIX_BITS`` over
    the values' range) that holds the rank, so the range shrinks by that
    factor per pass; a few values left are sorted.
    """
    while m > 32:
        lo, hi = _value_range(values, m)
        if lo == hi:
            return lo
        shift = np.uint64(_bucket_shift(lo, hi))
        base = np.uint64(lo)
        counts = _bucket_counts(values, m, base, shift)
        bucket = 0
        while rank >= counts[bucket]:
            rank -= counts[bucket]
            bucket += 1
        kept = 0
        for i in range(m):
            v = values[i]
            if (np.uint64(v) - base) >> shift == bucket:
                values[kept] = v
                kept += 1
        m = kept
    sorted_values = np.sort(values[:m])
    return sorted_values[rank]


@njit(cache=True, nogil=True)
def _order_statistics(values, n, ranks, out, scratch):  # pragma: no cover - compiled
    """``out[i]`` = the ``ranks[i]``-th smallest of ``values[:n]`` (left as they are).

    One radix pass over all values finds the bucket of every rank; each
    rank is then selected among its bucket's values alone.
    """
    lo, hi = _value_range(values, n)
    shift = np.uint64(_bucket_shift(lo, hi))
    base = np.uint64(lo)
    n_buckets = (1 << _RADIX_BITS) + 1
    counts = _bucket_counts(values, n, base, shift)
    first = np.zeros(n_buckets + 1, np.int64)  # rank of each bucket's smallest value
    for b in range(n_buckets):
        first[b + 1] = first[b] + counts[b]
    wanted = np.zeros(n_buckets, np.bool_)
    bucket_of = np.empty(ranks.shape[0], np.int64)
    for r in range(ranks.shape[0]):
        b = np.searchsorted(first, ranks[r], side="right") - 1
        bucket_of[r] = b
        wanted[b] = True
    # The wanted buckets' values, each bucket in its own run of ``scratch``.
    fill = np.zeros(n_buckets, np.int64)
    used = 0
    for b in range(n_buckets):
        if wanted[b]:
            fill[b] = used
            used += counts[b]
    run_start = fill.copy()
    for i in range(n):
        v = values[i]
        b = (np.uint64(v) - base) >> shift
        if wanted[b]:
            scratch[fill[b]] = v
            fill[b] += 1
    for r in range(ranks.shape[0]):
        b = bucket_of[r]
        run = scratch[run_start[b] : run_start[b] + counts[b]].copy()
        out[r] = _kth_smallest(run, counts[b], ranks[r] - first[b])


@njit(cache=True, nogil=True)
def quantiles_of(values, n, quantiles, out, scratch):  # pragma: no cover - compiled
    """``np.quantile(values[:n], quantiles)`` (method "linear"), with its arithmetic.

    numpy takes the virtual index ``(n - 1) * q``, the order statistics
    around it (the largest when it reaches ``n - 1``) and interpolates with
    ``_lerp``: ``a + (b - a) * g``, or ``b - (b - a) * (1 - g)`` when
    ``g >= 0.5``, in float64 from int64 ``b - a``.
    """
    n_q = quantiles.shape[0]
    below = np.empty(n_q, np.int64)
    above = np.empty(n_q, np.int64)
    gamma = np.empty(n_q, np.float64)
    for i in range(n_q):
        virtual = (n - 1) * quantiles[i]
        previous = np.floor(virtual)
        gamma[i] = virtual - previous
        if virtual >= n - 1:
            below[i] = above[i] = n - 1
        else:
            below[i] = np.int64(previous)
            above[i] = below[i] + 1
    ranks = np.empty(2 * n_q, np.int64)
    ranks[:n_q] = below
    ranks[n_q:] = above
    stats = np.empty(2 * n_q, np.int64)
    _order_statistics(values, n, ranks, stats, scratch)
    for i in range(n_q):
        a = stats[i]
        b = stats[n_q + i]
        diff = b - a
        g = gamma[i]
        if g >= 0.5:
            out[i] = b - diff * (1 - g)
        else:
            out[i] = a + diff * g
