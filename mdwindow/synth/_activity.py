"""Who trades and when: Zipf-ranked symbols and U-shaped intraday event times."""

from __future__ import annotations

import numpy as np

from mdwindow.synth._portable_math import integer_powers

__all__ = ["ranked_symbol_codes", "session_offsets"]

# Linear interpolation between this many exact points of the intraday inverse
# CDF is off by well under a microsecond over a 6.5-hour session.
_INVERSE_CDF_POINTS = 2**16 + 1
# Newton from above converges in well under this many steps for any depth
# of the U shape; the cap only guards against a cycle of one ulp.
_NEWTON_STEPS = 200


def session_offsets(
    rng: np.random.Generator, n: int, duration_ns: int, intraday_u: float
) -> np.ndarray:
    """Sorted event offsets (ns from the open) under the U-shaped intensity.

    Parameters
    ----------
    rng : numpy.random.Generator
        The event-time stream.
    n : int
        Number of events.
    duration_ns : int
        Session length; offsets fall in ``[0, duration_ns)``.
    intraday_u : float
        Depth ``a`` of the intensity ``1 + a (2u - 1) ** 2``.

    Returns
    -------
    numpy.ndarray
        Sorted int64 offsets.

    Examples
    --------
    >>> offsets = session_offsets(np.random.default_rng(0), 5, 1_000, 3.0)
    >>> bool((np.diff(offsets) >= 0).all() and offsets.min() >= 0 and offsets.max() < 1_000)
    True
    """
    # Normalized cumulative exponential spacings are sorted uniforms, in O(n)
    # instead of sorting; a monotone inverse CDF keeps them sorted.
    quantiles = np.cumsum(rng.standard_exponential(n + 1))
    quantiles /= quantiles[-1]
    quantiles = quantiles[:n]
    if intraday_u > 0:
        # np.interp on sorted input is several times cheaper than solving
        # for every event, and it is plain arithmetic, the same on any CPU.
        grid = np.linspace(0.0, 1.0, _INVERSE_CDF_POINTS)
        quantiles = np.interp(quantiles, grid, _intraday_inverse_cdf(grid, intraday_u))
    quantiles *= duration_ns
    offsets = quantiles.astype(np.int64)
    np.minimum(offsets, duration_ns - 1, out=offsets)
    # Floating-point rounding could break order by a nanosecond here and there.
    return np.maximum.accumulate(offsets, out=offsets) if n else offsets


def _intraday_inverse_cdf(quantiles: np.ndarray, depth: float) -> np.ndarray:
    """Session fraction at which the U-shaped intensity reaches each quantile."""
    # With z = 2u - 1, the CDF of 1 + a z**2 reaches q where
    # a z**3 + 3 z = (2q - 1)(3 + a): one real root in [-1, 1], odd in q.
    # The closed form needs sinh and arcsinh, whose numpy kernels round
    # differently per CPU; Newton's method uses only + - * /. The cubic is
    # convex for z >= 0, so starting at z = 1, above every root, the steps
    # decrease monotonically to it; solving for |target| keeps the U shape
    # exactly symmetric.
    target = np.abs((2.0 * quantiles - 1.0) * (3.0 + depth))
    root = np.ones_like(target)
    for _ in range(_NEWTON_STEPS):
        squared = root * root
        residual = (depth * squared + 3.0) * root - target
        step = residual / (3.0 * depth * squared + 3.0)
        # Monotone by construction, so rounding cannot make it cycle.
        following = np.minimum(root, root - step)
        if np.array_equal(following, root):
            break
        root = following
    root = np.copysign(root, quantiles - 0.5)
    return np.clip((root + 1.0) / 2.0, 0.0, 1.0)


def ranked_symbol_codes(
    rng: np.random.Generator, n: int, n_symbols: int, zipf_exponent: float
) -> np.ndarray:
    """Symbol codes ``0 .. n_symbols - 1`` with Zipf-ranked activity.

    Parameters
    ----------
    rng : numpy.random.Generator
        The symbol stream.
    n : int
        Number of events.
    n_symbols : int
        Number of symbols; code ``k - 1`` has weight ``k ** -zipf_exponent``.
    zipf_exponent : float
        Skew of activity across symbols; 0 makes them equally likely.

    Returns
    -------
    numpy.ndarray
        int16 codes (int32 beyond 32,767 symbols).

    Examples
    --------
    >>> codes = ranked_symbol_codes(np.random.default_rng(0), 10_000, 3, 1.0)
    >>> np.bincount(codes).argmax().item(), codes.dtype.name
    (0, 'int16')
    """
    weights = integer_powers(n_symbols, -zipf_exponent)
    codes = np.searchsorted(np.cumsum(weights / weights.sum()), rng.random(n), side="right")
    # int16 codes let numpy use its radix sort for the per-symbol grouping.
    return np.minimum(codes, n_symbols - 1).astype(
        np.int16 if n_symbols <= np.iinfo(np.int16).max else np.int32
    )
