"""Delivery: network delay, a lagging venue, feed stalls and redeliveries."""

from __future__ import annotations

import numpy as np

from mdwindow.synth._portable_math import exp, log_ratio

__all__ = ["receive_offsets", "redelivery_gaps", "stall_windows"]

# Retransmissions after a gap fill come back within tens of milliseconds.
_REDELIVERY_MEDIAN_NS = 10 * 10**6
_REDELIVERY_SIGMA = 1.0


def stall_windows(
    rng: np.random.Generator,
    n_venues: int,
    duration_ns: int,
    stall_rate: float,
    shortest_ns: int,
    longest_ns: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stalled ``(venue, start, end)`` windows, disjoint within each venue.

    Parameters
    ----------
    rng : numpy.random.Generator
        The stall stream.
    n_venues : int
        Venue codes are ``0 .. n_venues - 1``.
    duration_ns : int
        Session length; stalls start in ``[0, duration_ns)``.
    stall_rate : float
        Stalls per second over all venues together (Poisson).
    shortest_ns, longest_ns : int
        Range of the uniform stall length.

    Returns
    -------
    tuple of numpy.ndarray
        int64 venue codes, starts and ends (offsets from the open), sorted
        by start within each venue.

    Examples
    --------
    >>> venues, starts, ends = stall_windows(np.random.default_rng(0), 2, 60 * 10**9, 0.5, 1, 2)
    >>> len(venues) == len(starts) == len(ends) > 0, bool((ends > starts).all())
    (True, True)
    """
    n_stalls = int(rng.poisson(stall_rate * duration_ns / 1e9))
    starts = rng.integers(0, duration_ns, n_stalls, dtype=np.int64)
    ends = starts + rng.integers(shortest_ns, longest_ns + 1, n_stalls, dtype=np.int64)
    venues = rng.integers(0, n_venues, n_stalls, dtype=np.int64)
    merged_venues, merged_starts, merged_ends = [], [], []
    for venue in range(n_venues):
        venue_starts, venue_ends = _merge_intervals(starts[venues == venue], ends[venues == venue])
        merged_venues.append(np.full(len(venue_starts), venue, dtype=np.int64))
        merged_starts.append(venue_starts)
        merged_ends.append(venue_ends)
    return (
        np.concatenate(merged_venues),
        np.concatenate(merged_starts),
        np.concatenate(merged_ends),
    )


def _merge_intervals(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of half-open intervals as sorted, disjoint ``(starts, ends)``."""
    if len(starts) == 0:
        return starts, ends
    order = np.argsort(starts)
    starts, ends = starts[order], np.maximum.accumulate(ends[order])
    # A stall that starts inside an earlier one extends it: a new group
    # begins only past the furthest end seen so far.
    opens = np.ones(len(starts), dtype=bool)
    opens[1:] = starts[1:] > ends[:-1]
    closes = np.append(np.flatnonzero(opens)[1:] - 1, len(starts) - 1)
    return starts[opens], ends[closes]


def receive_offsets(
    rng: np.random.Generator,
    offsets_ns: np.ndarray,
    venue_codes: np.ndarray,
    venue_lags_ns: np.ndarray,
    delay_median_ns: int,
    delay_sigma: float,
    stall_venues: np.ndarray,
    stall_starts_ns: np.ndarray,
    stall_ends_ns: np.ndarray,
) -> np.ndarray:
    """Receive offsets: publish (event + venue lag, held by stalls) plus delay.

    Parameters
    ----------
    rng : numpy.random.Generator
        The delay stream.
    offsets_ns : numpy.ndarray
        Sorted event offsets from the open.
    venue_codes : numpy.ndarray
        Venue code of each event.
    venue_lags_ns : numpy.ndarray
        Constant extra delay per venue code.
    delay_median_ns : int
        Median of the lognormal network delay.
    delay_sigma : float
        Log-scale standard deviation of the network delay.
    stall_venues, stall_starts_ns, stall_ends_ns : numpy.ndarray
        Stall windows from :func:`stall_windows`.

    Returns
    -------
    numpy.ndarray
        int64 receive offsets from the open, never before the event.

    Examples
    --------
    >>> empty = np.array([], dtype=np.int64)
    >>> received = receive_offsets(
    ...     np.random.default_rng(0),
    ...     np.array([0, 1_000]),
    ...     np.array([0, 0], dtype=np.int8),
    ...     np.array([0]),
    ...     10,
    ...     0.0,
    ...     empty,
    ...     empty,
    ...     empty,
    ... )
    >>> received.tolist()
    [10, 1010]
    """
    n = len(offsets_ns)
    # float32 normals are cheaper to draw; the lognormal itself is the
    # portable exp, since a delay sitting on a half nanosecond would
    # otherwise round differently per CPU.
    normals = rng.standard_normal(n, dtype=np.float32)
    received_ns = exp(
        normals,
        scale=delay_sigma,
        shift=log_ratio(delay_median_ns),
        out=np.empty(n, dtype=np.int64),
    )
    del normals
    received_ns += offsets_ns
    for venue in np.flatnonzero(venue_lags_ns):
        np.add(received_ns, venue_lags_ns[venue], out=received_ns, where=venue_codes == venue)

    # Event times are sorted, so the prints a stall holds back are found by
    # bisecting its window (shifted by the venue's lag) instead of testing
    # every row against every stall.
    shift_ns = venue_lags_ns[stall_venues]
    lows = np.searchsorted(offsets_ns, stall_starts_ns - shift_ns, side="left")
    highs = np.searchsorted(offsets_ns, stall_ends_ns - shift_ns, side="left")
    window_sizes = highs - lows
    window_of_row = np.repeat(np.arange(len(lows)), window_sizes)
    rows = np.arange(len(window_of_row)) + np.repeat(
        lows - (np.cumsum(window_sizes) - window_sizes), window_sizes
    )
    held = venue_codes[rows] == stall_venues[window_of_row]
    rows, window_of_row = rows[held], window_of_row[held]
    # Delivered at the stall's end, still subject to the usual network delay.
    received_ns[rows] += stall_ends_ns[window_of_row] - (
        offsets_ns[rows] + venue_lags_ns[venue_codes[rows]]
    )
    return received_ns


def redelivery_gaps(rng: np.random.Generator, n: int) -> np.ndarray:
    """Lognormal gaps (ns) between a message and its retransmission.

    Parameters
    ----------
    rng : numpy.random.Generator
        The noise stream.
    n : int
        Number of redeliveries.

    Returns
    -------
    numpy.ndarray
        int64 gaps, median 10 ms.

    Examples
    --------
    >>> gaps = redelivery_gaps(np.random.default_rng(0), 10_001)
    >>> 8e6 < float(np.median(gaps)) < 12e6
    True
    """
    return exp(
        rng.standard_normal(n),
        scale=_REDELIVERY_SIGMA,
        shift=log_ratio(_REDELIVERY_MEDIAN_NS),
        out=np.empty(n, dtype=np.int64),
    )
