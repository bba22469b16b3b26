"""Synthetic, seeded market ticks with realistic skew, delay, stalls and noise.

:func:`generate_ticks` draws a trading session of trade prints as they would
reach a local consumer from several exchange feeds. Everything is vectorized
numpy, so ten million rows take a few seconds, and the same ``seed`` gives an
identical frame in any process.

The model, one component per keyword parameter of :func:`generate_ticks`:

Activity
    Symbol of rank ``k`` (its position in ``symbols``) trades with intensity
    proportional to ``k ** -zipf_exponent``, so a few names carry most of
    the flow. Over the session the intensity is U-shaped,
    ``1 + intraday_u * (2u - 1) ** 2`` at session fraction ``u``: the open and
    the close are ``1 + intraday_u`` times as busy as midday. Exchange event
    times ``ts`` are the sorted points of that inhomogeneous process.
Prices
    Each symbol starts from a reference price (a round level of the right
    order of magnitude for the built-in tickers; log-uniform in 5-500 for
    other names) and follows a geometric Brownian motion sampled at its own
    event times, with ``volatility`` the standard deviation of the log price
    over 6.5 hours; prices are rounded to the ``tick_size`` grid and are at
    least one tick.
Sizes
    Round lots of ``lot_size`` shares; the number of lots ``L`` is discrete
    Pareto, ``P(L >= k) = k ** -(size_exponent - 1)`` (about two thirds of
    prints are a single lot, capped at 1,000 lots); a fraction
    ``odd_lot_rate`` of prints are odd lots of 1 to ``lot_size - 1`` shares.
Delivery
    Each print comes from one of ``venues`` (uniformly). The receive time
    ``recv_ts`` is ``ts`` plus a lognormal network delay (median
    ``delay_median``, log-scale ``delay_sigma``); the ``lagging_venue`` feed
    adds a constant ``venue_lag``. Stalls start as a Poisson process of
    ``stall_rate`` per second, each freezing one random venue's feed for a
    duration uniform in ``stall_duration``; prints published during a stall
    are delivered in a burst when it ends. Because the other venues keep
    flowing, those prints arrive seconds behind newer data: they are the
    late data. ``recv_ts >= ts`` always holds for rows with a ``ts``.
Noise
    A fraction ``duplicate_rate`` of rows are exact copies of another
    message (same ``ts``, ``symbol``, ``price``, ``size``, ``venue``): half
    arrive back to back with the original (the whole row repeats), half are
    redelivered a few to a hundred milliseconds later. A fraction
    ``bad_row_rate`` of rows are broken for the rejected path: half have a
    missing ``ts`` (NaT), half a missing ``symbol``.

Rows come in arrival order (stable sort by ``recv_ts``) with a RangeIndex.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["COLUMNS", "DEFAULT_VENUES", "REFERENCE_TICKERS", "generate_ticks"]

TimedeltaLike = str | pd.Timedelta | dt.timedelta | np.timedelta64

# Roughly in order of how actively they trade, so the Zipf ranks look
# plausible; prices are round levels of the right magnitude, not quotes from
# any particular day.
REFERENCE_TICKERS: tuple[tuple[str, float], ...] = (
    ("SPY", 510.0),
    ("QQQ", 440.0),
    ("NVDA", 820.0),
    ("TSLA", 200.0),
    ("AAPL", 180.0),
    ("AMD", 200.0),
    ("AMZN", 178.0),
    ("MSFT", 415.0),
    ("META", 500.0),
    ("GOOGL", 137.0),
    ("PLTR", 25.0),
    ("INTC", 44.0),
    ("SMCI", 880.0),
    ("NFLX", 610.0),
    ("AVGO", 1300.0),
    ("BAC", 35.0),
    ("F", 12.0),
    ("SOFI", 9.0),
    ("MARA", 25.0),
    ("NIO", 5.6),
)
DEFAULT_VENUES: tuple[str, ...] = ("XNAS", "ARCX", "BATS", "IEXG")
COLUMNS: tuple[str, ...] = ("ts", "recv_ts", "symbol", "price", "size", "venue")

_VOLATILITY_HORIZON_NS = 23_400 * 10**9  # one 6.5-hour regular session
# Linear interpolation between this many exact points of the intraday inverse
# CDF is off by well under a microsecond over a 6.5-hour session.
_INVERSE_CDF_POINTS = 2**16 + 1
# Block prints beyond this are rare on lit venues and would dominate volume sums.
_MAX_LOTS = 1_000
# Retransmissions after a gap fill come back within tens of milliseconds.
_REDELIVERY_MEDIAN_NS = 10 * 10**6
_REDELIVERY_SIGMA = 1.0


def generate_ticks(
    n: int,
    symbols: int | Sequence[str] = 20,
    *,
    seed: int = 0,
    start: str | pd.Timestamp | dt.datetime = "2024-03-01 14:30:00+00:00",
    duration: TimedeltaLike = "6.5h",
    zipf_exponent: float = 1.1,
    intraday_u: float = 3.0,
    tick_size: float = 0.01,
    volatility: float = 0.02,
    lot_size: int = 100,
    size_exponent: float = 2.5,
    odd_lot_rate: float = 0.05,
    venues: Sequence[str] = DEFAULT_VENUES,
    lagging_venue: str | None = "IEXG",
    venue_lag: TimedeltaLike = "1.5s",
    lagging_symbols: int = 0,
    delay_median: TimedeltaLike = "3ms",
    delay_sigma: float = 0.5,
    stall_rate: float = 1 / 300,
    stall_duration: tuple[TimedeltaLike, TimedeltaLike] = ("1s", "10s"),
    duplicate_rate: float = 0.001,
    bad_row_rate: float = 0.0,
) -> pd.DataFrame:
    """Generate a seeded session of synthetic trade ticks in arrival order.

    The model behind each parameter is described in the module docstring
    of :mod:`mdwindow.synth`.

    Parameters
    ----------
    n : int
        Number of rows returned, duplicates and bad rows included.
    symbols : int or sequence of str, default 20
        Either a count -- the built-in tickers (SPY, QQQ, NVDA, ...) first,
        then ``SYM020``, ``SYM021``, ... -- or the names themselves. The
        position in the list is the activity rank.
    seed : int, default 0
        Seed for :func:`numpy.random.default_rng`; the same seed and
        parameters give an identical frame in any process.
    start : str, Timestamp or datetime, default "2024-03-01 14:30:00+00:00"
        Session open. A naive value is taken as UTC.
    duration : timedelta-like, default "6.5h"
        Session length; event times fall in ``[start, start + duration)``.
    zipf_exponent : float, default 1.1
        Activity of the symbol of rank ``k`` is proportional to
        ``k ** -zipf_exponent``; 0 makes all symbols equally active.
    intraday_u : float, default 3.0
        Depth of the U-shaped intraday intensity: open and close are
        ``1 + intraday_u`` times as busy as midday; 0 is flat.
    tick_size : float, default 0.01
        Price grid.
    volatility : float, default 0.02
        Standard deviation of the log price over 6.5 hours.
    lot_size : int, default 100
        Shares per round lot.
    size_exponent : float, default 2.5
        Tail exponent of the number of lots per print,
        ``P(lots >= k) = k ** -(size_exponent - 1)``; must exceed 1.
    odd_lot_rate : float, default 0.05
        Fraction of prints that are odd lots (1 to ``lot_size - 1`` shares).
    venues : sequence of str, default ("XNAS", "ARCX", "BATS", "IEXG")
        Venue codes, each equally likely.
    lagging_venue : str or None, default "IEXG"
        Venue whose feed runs ``venue_lag`` behind the others; None for none.
    venue_lag : timedelta-like, default "1.5s"
        Extra delay of every print from ``lagging_venue``.
    lagging_symbols : int, default 0
        How many symbols (the least active ones) print only through
        ``lagging_venue``: their whole feed runs ``venue_lag`` behind, so a
        global watermark, driven by the other symbols, drops their ticks while
        per-symbol watermarks keep them.
    delay_median : timedelta-like, default "3ms"
        Median of the lognormal network delay.
    delay_sigma : float, default 0.5
        Log-scale standard deviation of the network delay.
    stall_rate : float, default 1/300
        Feed stalls per second of session, over all venues together.
    stall_duration : (timedelta-like, timedelta-like), default ("1s", "10s")
        Range of the uniform stall length.
    duplicate_rate : float, default 0.001
        Fraction of rows that are duplicate deliveries (at most 0.5).
    bad_row_rate : float, default 0.0
        Fraction of rows with a missing ``ts`` or a missing ``symbol``.

    Returns
    -------
    pandas.DataFrame
        Columns ``ts`` and ``recv_ts`` (datetime64[ns, UTC]), ``symbol``
        (string), ``price`` (float64), ``size`` (int64) and ``venue``
        (string), sorted by ``recv_ts`` with ties left in event order, with
        a RangeIndex. The string columns use pandas' default string dtype
        (``str`` in pandas 3), so a missing symbol is its NA value.

    Raises
    ------
    ValueError
        If a parameter is out of range; the message names it.

    Examples
    --------
    >>> ticks = generate_ticks(1_000, symbols=5, duration="10min", seed=7)
    >>> list(ticks.columns)
    ['ts', 'recv_ts', 'symbol', 'price', 'size', 'venue']
    >>> len(ticks), bool(ticks["recv_ts"].is_monotonic_increasing)
    (1000, True)
    >>> sorted(ticks["symbol"].unique())
    ['AAPL', 'NVDA', 'QQQ', 'SPY', 'TSLA']
    >>> bool((ticks["recv_ts"] >= ticks["ts"]).all())
    True
    """
    n = _check_count(n, "n")
    names = _symbol_names(symbols)
    venue_names = _venue_names(venues)
    start_ns = _timestamp_ns(start)
    duration_ns = _positive_ns(duration, "duration")
    for value, name in (
        (zipf_exponent, "zipf_exponent"),
        (intraday_u, "intraday_u"),
        (volatility, "volatility"),
        (delay_sigma, "delay_sigma"),
        (stall_rate, "stall_rate"),
    ):
        _check_range(value, name, 0.0, np.inf)
    _check_range(odd_lot_rate, "odd_lot_rate", 0.0, 1.0)
    _check_range(duplicate_rate, "duplicate_rate", 0.0, 0.5)
    _check_range(bad_row_rate, "bad_row_rate", 0.0, 1.0)
    if not tick_size > 0:
        raise ValueError(f"tick_size must be positive, got {tick_size!r}.")
    if not size_exponent > 1:
        raise ValueError(f"size_exponent must be greater than 1, got {size_exponent!r}.")
    lot_size = _check_count(lot_size, "lot_size")
    if lot_size < 1:
        raise ValueError(f"lot_size must be at least 1, got {lot_size!r}.")
    if lagging_venue is not None and lagging_venue not in venue_names:
        raise ValueError(
            f"lagging_venue must be one of venues {venue_names} or None, got {lagging_venue!r}."
        )
    venue_lag_ns = _positive_ns(venue_lag, "venue_lag", allow_zero=True)
    delay_median_ns = _positive_ns(delay_median, "delay_median")
    if isinstance(stall_duration, str) or len(stall_duration) != 2:
        raise ValueError(
            f"stall_duration must be (shortest, longest), e.g. ('1s', '10s'), "
            f"got {stall_duration!r}."
        )
    stall_min_ns, stall_max_ns = (
        _positive_ns(value, "stall_duration") for value in stall_duration
    )
    if stall_min_ns > stall_max_ns:
        raise ValueError(
            f"stall_duration must be (shortest, longest), got {tuple(stall_duration)!r}."
        )

    # One independent stream per component, so that the parameters of one
    # (the size law, the venues, the stall rate) do not reshuffle the draws of
    # the others. Only what changes the number of events moves everything.
    (
        count_rng,
        time_rng,
        symbol_rng,
        price_rng,
        size_rng,
        venue_rng,
        delay_rng,
        stall_rng,
        noise_rng,
    ) = np.random.default_rng(seed).spawn(9)

    n_duplicates = min(int(count_rng.binomial(n, duplicate_rate)), n // 2)
    n_events = n - n_duplicates

    offsets_ns = _session_offsets(time_rng, n_events, duration_ns, intraday_u)
    weights = np.arange(1, len(names) + 1, dtype=np.float64) ** -zipf_exponent
    symbol_codes = np.searchsorted(
        np.cumsum(weights / weights.sum()), symbol_rng.random(n_events), side="right"
    )
    # int16 codes let numpy use its radix sort for the per-symbol grouping.
    symbol_codes = np.minimum(symbol_codes, len(names) - 1).astype(
        np.int16 if len(names) <= np.iinfo(np.int16).max else np.int32
    )
    start_prices = _start_prices(price_rng, names)
    prices = _price_paths(price_rng, offsets_ns, symbol_codes, start_prices, volatility, tick_size)
    sizes = _sizes(size_rng, n_events, lot_size, size_exponent, odd_lot_rate)

    venue_codes = venue_rng.integers(0, len(venue_names), n_events, dtype=np.int8)
    lagging_symbols = _check_count(lagging_symbols, "lagging_symbols")
    if lagging_symbols > len(names) or (lagging_symbols and lagging_venue is None):
        raise ValueError(
            f"lagging_symbols must be at most the number of symbols ({len(names)}) and needs "
            f"a lagging_venue, got {lagging_symbols!r}."
        )
    if lagging_symbols:
        # Drawn after the venues, so other parameters keep their random streams.
        only_lagging = symbol_codes >= len(names) - lagging_symbols
        venue_codes[only_lagging] = venue_names.index(lagging_venue)
    venue_lags_ns = np.zeros(len(venue_names), dtype=np.int64)
    if lagging_venue is not None:
        venue_lags_ns[venue_names.index(lagging_venue)] = venue_lag_ns
    stall_venues, stall_starts_ns, stall_ends_ns = _stall_windows(
        stall_rng, len(venue_names), duration_ns, stall_rate, stall_min_ns, stall_max_ns
    )
    received_ns = _receive_times(
        delay_rng,
        offsets_ns,
        venue_codes,
        venue_lags_ns,
        delay_median_ns,
        delay_sigma,
        stall_venues,
        stall_starts_ns,
        stall_ends_ns,
    )

    # Repeating the source index puts each copy right after its original, so a
    # zero redelivery gap keeps the pair adjacent through the stable sort.
    copies_per_event = np.ones(n_events, dtype=np.int64)
    copies_per_event[noise_rng.choice(n_events, n_duplicates, replace=False)] = 2
    source = np.repeat(np.arange(n_events), copies_per_event)
    copies = np.flatnonzero(source[1:] == source[:-1]) + 1
    received_ns = received_ns[source]
    redelivered = copies[noise_rng.random(len(copies)) < 0.5]
    received_ns[redelivered] += np.rint(
        noise_rng.lognormal(np.log(_REDELIVERY_MEDIAN_NS), _REDELIVERY_SIGMA, len(redelivered))
    ).astype(np.int64)

    arrival = np.argsort(received_ns, kind="stable")
    source = source[arrival]
    received_ns = received_ns[arrival]
    event_ns = offsets_ns[source]
    event_ns += start_ns
    received_ns += start_ns
    symbol_codes = symbol_codes[source]

    # Alternating kinds over a random set guarantees both kinds once there are two.
    bad_rows = noise_rng.choice(n, int(noise_rng.binomial(n, bad_row_rate)), replace=False)
    missing_symbol = None
    if len(bad_rows) > 1:
        missing_symbol = np.zeros(n, dtype=bool)
        missing_symbol[bad_rows[1::2]] = True
    event_ns[bad_rows[0::2]] = np.iinfo(np.int64).min  # NaT

    # Every column is a fresh array, so the frame can own them without a copy.
    return pd.DataFrame(
        {
            "ts": _utc(event_ns),
            "recv_ts": _utc(received_ns),
            "symbol": _strings(symbol_codes, names, missing_symbol),
            "price": prices[source],
            "size": sizes[source],
            "venue": _strings(venue_codes[source], venue_names, None),
        },
        copy=False,
    )


def _session_offsets(
    rng: np.random.Generator, n: int, duration_ns: int, intraday_u: float
) -> np.ndarray:
    """Sorted event offsets (ns from the open) under the U-shaped intensity."""
    # Normalized cumulative exponential spacings are sorted uniforms, in O(n)
    # instead of sorting; a monotone inverse CDF keeps them sorted.
    quantiles = np.cumsum(rng.standard_exponential(n + 1))
    quantiles /= quantiles[-1]
    quantiles = quantiles[:n]
    if intraday_u > 0:
        # Inverse CDF of 1 + a(2u - 1)^2 is the real root of a depressed cubic,
        # written in the sinh form that stays accurate as a goes to zero. It
        # is evaluated exactly on a fine grid and interpolated, because
        # np.interp on sorted input is several times cheaper than sinh/arcsinh.
        grid = np.linspace(0.0, 1.0, _INVERSE_CDF_POINTS)
        centred = (grid - 0.5) * (1 + intraday_u / 3)
        root = (2 / np.sqrt(intraday_u)) * np.sinh(
            np.arcsinh(3 * centred * np.sqrt(intraday_u)) / 3
        )
        quantiles = np.interp(quantiles, grid, np.clip((root + 1) / 2, 0.0, 1.0))
    quantiles *= duration_ns
    offsets = quantiles.astype(np.int64)
    np.minimum(offsets, duration_ns - 1, out=offsets)
    # Floating-point rounding could break order by a nanosecond here and there.
    return np.maximum.accumulate(offsets, out=offsets) if n else offsets


def _start_prices(rng: np.random.Generator, names: list[str]) -> np.ndarray:
    """Reference price for built-in tickers, log-uniform 5-500 for other names."""
    # Draw for every name so the stream does not depend on which are known.
    prices = np.exp(rng.uniform(np.log(5.0), np.log(500.0), len(names)))
    reference = dict(REFERENCE_TICKERS)
    for code, name in enumerate(names):
        prices[code] = reference.get(name, prices[code])
    return prices


def _price_paths(
    rng: np.random.Generator,
    offsets_ns: np.ndarray,
    symbol_codes: np.ndarray,
    start_prices: np.ndarray,
    volatility: float,
    tick_size: float,
) -> np.ndarray:
    """Per-symbol geometric Brownian motion at event times, on the tick grid."""
    n = len(symbol_codes)
    by_symbol = np.argsort(symbol_codes, kind="stable")
    codes = symbol_codes[by_symbol]
    times = offsets_ns[by_symbol]
    starts = np.flatnonzero(np.diff(codes, prepend=-1))
    elapsed_ns = np.empty(n, dtype=np.int64)
    np.subtract(times[1:], times[:-1], out=elapsed_ns[1:])
    elapsed_ns[starts] = times[starts]  # each path starts at the open
    del times
    # In-place arithmetic from here on: at ten million rows every fresh
    # temporary costs about as much in page faults as the arithmetic itself.
    steps = np.sqrt(elapsed_ns, dtype=np.float64)
    del elapsed_ns
    steps *= volatility / np.sqrt(_VOLATILITY_HORIZON_NS)
    # float32 normals are cheaper to draw and only scale float64 steps.
    steps *= rng.standard_normal(n, dtype=np.float32)
    # Each symbol's first step also carries its log start price (in ticks)
    # minus where the previous symbol's path ended, so one global cumsum
    # yields every symbol's own path.
    log_start = np.log(start_prices / tick_size)[codes[starts]]
    path_ends = np.add.reduceat(steps, starts) + log_start if n else log_start
    steps[starts] += log_start
    steps[starts[1:]] -= path_ends[:-1]
    grid_steps = np.cumsum(steps, out=steps)
    np.exp(grid_steps, out=grid_steps)
    np.rint(grid_steps, out=grid_steps)
    np.maximum(grid_steps, 1.0, out=grid_steps)
    # tick = units / scale exactly, and dividing exact integers rounds once, so
    # every price is the float nearest its decimal value (0.1 + 0.2 stays out).
    tick = Decimal(repr(tick_size))
    scale = 10 ** max(0, -tick.as_tuple().exponent)
    grid_steps *= float(tick * scale)
    grid_steps /= scale
    prices = np.empty(n, dtype=np.float64)
    prices[by_symbol] = grid_steps
    return prices


def _sizes(
    rng: np.random.Generator,
    n: int,
    lot_size: int,
    size_exponent: float,
    odd_lot_rate: float,
) -> np.ndarray:
    """Heavy-tailed round lots with a share of odd lots."""
    # Discrete Pareto by inversion, P(lots >= k) = k ** -(size_exponent - 1):
    # the same tail as a Zipf law, without rng.zipf's slow rejection loop.
    # float32 is plenty for a count capped at 1,000 and twice as fast.
    lots = rng.random(n, dtype=np.float32)
    np.subtract(np.float32(1.0), lots, out=lots)  # in (0, 1]: the power stays finite
    np.power(lots, np.float32(-1.0 / (size_exponent - 1.0)), out=lots)
    np.minimum(lots, _MAX_LOTS, out=lots)
    sizes = lots.astype(np.int64)  # truncation is the floor for positive values
    sizes *= lot_size
    if lot_size > 1:
        odd = np.flatnonzero(rng.random(n) < odd_lot_rate)
        sizes[odd] = rng.integers(1, lot_size, len(odd), dtype=np.int64)
    return sizes


def _stall_windows(
    rng: np.random.Generator,
    n_venues: int,
    duration_ns: int,
    stall_rate: float,
    shortest_ns: int,
    longest_ns: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stalled ``(venue, start, end)`` windows, disjoint within each venue."""
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


def _receive_times(
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
    """Receive offsets: publish (event + venue lag, held by stalls) plus delay."""
    n = len(offsets_ns)
    # float32 halves the cost of the normal draws and the exp; its relative
    # precision (1e-7) is far below any delay that matters here.
    delays = rng.standard_normal(n, dtype=np.float32)
    delays *= np.float32(delay_sigma)
    delays += np.float32(np.log(delay_median_ns))
    np.exp(delays, out=delays)
    received_ns = delays.astype(np.int64)
    del delays
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


def _utc(nanoseconds: np.ndarray) -> pd.Series:
    return pd.Series(nanoseconds.view("M8[ns]"), dtype="datetime64[ns, UTC]")


def _strings(codes: np.ndarray, names: list[str], missing: np.ndarray | None) -> pd.Series:
    # Decoding through Arrow avoids ten million Python string objects, and
    # large_string is what pandas' Arrow-backed string dtype stores anyway.
    indices = pa.array(codes, mask=missing)
    decoded = pc.take(pa.array(names, type=pa.large_string()), indices)
    return pd.Series(pd.array(decoded, dtype="str"))


def _symbol_names(symbols: int | Sequence[str]) -> list[str]:
    if isinstance(symbols, str):
        raise ValueError(
            f"symbols must be a count or a list of names, got the string {symbols!r}; "
            f"wrap it in a list."
        )
    if isinstance(symbols, int | np.integer) and not isinstance(symbols, bool):
        if symbols < 1:
            raise ValueError(f"symbols must be at least 1, got {symbols!r}.")
        known = [name for name, _ in REFERENCE_TICKERS]
        return (known + [f"SYM{i:03d}" for i in range(len(known), int(symbols))])[: int(symbols)]
    names = list(symbols)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ValueError(f"symbols must be non-empty strings, got {names!r}.")
    if len(set(names)) != len(names):
        raise ValueError(f"symbols must be unique, got {names!r}.")
    return names


def _venue_names(venues: Sequence[str]) -> list[str]:
    names = [venues] if isinstance(venues, str) else list(venues)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ValueError(f"venues must be non-empty strings, got {venues!r}.")
    if len(set(names)) != len(names):
        raise ValueError(f"venues must be unique, got {names!r}.")
    if len(names) > np.iinfo(np.int8).max:
        raise ValueError(f"venues can hold at most 127 names, got {len(names)}.")
    return names


def _check_count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")
    return int(value)


def _check_range(value: float, name: str, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value!r}.")


def _timestamp_ns(value: str | pd.Timestamp | dt.datetime) -> int:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"start must be a timestamp, got {value!r}.") from error
    if stamp is pd.NaT:
        raise ValueError(f"start must be a timestamp, got {value!r}.")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.as_unit("ns").value)


def _positive_ns(value: TimedeltaLike, name: str, *, allow_zero: bool = False) -> int:
    try:
        span = pd.Timedelta(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a duration like '3ms', got {value!r}.") from error
    nanoseconds = int(span.as_unit("ns").value) if span is not pd.NaT else -1
    if nanoseconds < 0 or (nanoseconds == 0 and not allow_zero):
        raise ValueError(f"{name} must be a positive duration, got {value!r}.")
    return nanoseconds
