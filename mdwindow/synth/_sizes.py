"""Trade sizes: heavy-tailed round lots with a share of odd lots."""

from __future__ import annotations

import functools

import numpy as np

from mdwindow.synth._portable_math import integer_powers

__all__ = ["MAX_LOTS", "trade_sizes"]

# Block prints beyond this are rare on lit venues and would dominate volume sums.
MAX_LOTS = 1_000
# Lots are read off a uniform integer of this many bits: 2**-24 is far below
# the smallest tail probability that matters, P(lots >= 1000) ~ 3e-5.
_UNIFORM_BITS = 24
# A first table indexed by the top bits settles most draws with one lookup.
_BUCKET_BITS = 14


def trade_sizes(
    rng: np.random.Generator,
    n: int,
    lot_size: int,
    size_exponent: float,
    odd_lot_rate: float,
) -> np.ndarray:
    """Share counts: discrete Pareto round lots, and a fraction of odd lots.

    Parameters
    ----------
    rng : numpy.random.Generator
        The size stream.
    n : int
        Number of prints.
    lot_size : int
        Shares per round lot.
    size_exponent : float
        ``P(lots >= k) = k ** -(size_exponent - 1)``, capped at 1,000 lots.
    odd_lot_rate : float
        Fraction of prints that are 1 to ``lot_size - 1`` shares.

    Returns
    -------
    numpy.ndarray
        int64 sizes.

    Examples
    --------
    >>> drawn = trade_sizes(np.random.default_rng(0), 10_000, 100, 2.5, 0.0)
    >>> bool((drawn % 100 == 0).all()), round(float((drawn == 100).mean()), 1)
    (True, 0.6)
    """
    lots = _pareto_lots(rng.integers(0, 2**_UNIFORM_BITS, n, dtype=np.int32), size_exponent)
    sizes = lots.astype(np.int64)
    sizes *= lot_size
    if lot_size > 1:
        odd = np.flatnonzero(rng.random(n) < odd_lot_rate)
        sizes[odd] = rng.integers(1, lot_size, len(odd), dtype=np.int64)
    return sizes


def _pareto_lots(uniform: np.ndarray, size_exponent: float) -> np.ndarray:
    """Lots for uniform integers in ``[0, 2**_UNIFORM_BITS)``."""
    # lots >= k exactly when the uniform reaches 1 - k ** -(size_exponent - 1),
    # the inversion of the Pareto tail. Comparing integers against integer
    # thresholds, rather than truncating a power, leaves nothing for the
    # CPU's rounding to decide.
    thresholds, first_lots, next_thresholds = _lot_tables(float(size_exponent))
    bucket = uniform >> (_UNIFORM_BITS - _BUCKET_BITS)
    lots = first_lots[bucket]
    # A bucket that a threshold cuts (about one draw in a hundred) is resolved
    # by bisection.
    cut = np.flatnonzero(uniform >= next_thresholds[bucket])
    lots[cut] = np.searchsorted(thresholds, uniform[cut], side="right")
    return lots


@functools.lru_cache(maxsize=8)
def _lot_tables(size_exponent: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thresholds of ``lots >= k`` for k = 1..MAX_LOTS, and per-bucket lookups."""
    tails = integer_powers(MAX_LOTS, -(size_exponent - 1.0))  # P(lots >= k)
    # Scaling by a power of two is exact, so the ceiling is the smallest
    # uniform integer u with u / 2**bits >= 1 - tail.
    thresholds = np.ceil((1.0 - tails) * 2.0**_UNIFORM_BITS).astype(np.int32)
    thresholds[0] = 0  # P(lots >= 1) = 1: every draw has at least one lot
    bucket_starts = np.arange(2**_BUCKET_BITS, dtype=np.int32) << (_UNIFORM_BITS - _BUCKET_BITS)
    first_lots = np.searchsorted(thresholds, bucket_starts, side="right").astype(np.int16)
    # The threshold of one more lot than the bucket starts with; past the
    # last one, a bound no uniform reaches.
    next_thresholds = np.append(thresholds, np.int32(2**_UNIFORM_BITS))[first_lots]
    for table in (thresholds, first_lots, next_thresholds):
        table.setflags(write=False)
    return thresholds, first_lots, next_thresholds
