"""Trade prices: a geometric random walk per symbol, on the tick grid."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from mdwindow.synth._portable_math import exp, log_ratio

__all__ = ["REFERENCE_TICKERS", "price_paths", "start_log_ticks"]

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

_VOLATILITY_HORIZON_NS = 23_400 * 10**9  # one 6.5-hour regular session
# Start levels of names without a reference price are log-uniform in this range.
_UNKNOWN_PRICE_RANGE = (5.0, 500.0)


def start_log_ticks(rng: np.random.Generator, names: list[str], tick_size: float) -> np.ndarray:
    """Log of each symbol's start price in ticks.

    Built-in tickers start at their reference level, other names log-uniform
    in 5-500.

    Parameters
    ----------
    rng : numpy.random.Generator
        The price stream; one draw per name, known or not.
    names : list of str
        Symbols in code order.
    tick_size : float
        Price grid.

    Returns
    -------
    numpy.ndarray
        float64 ``ln(start_price / tick_size)`` per name.

    Examples
    --------
    >>> logs = start_log_ticks(np.random.default_rng(0), ["SPY", "XYZ"], 0.01)
    >>> round(float(np.exp(logs[0])), 6)
    51000.0
    """
    # Drawn in log space, so no exp-then-log round trip can differ by CPU;
    # drawn for every name so the stream does not depend on which are known.
    lowest, highest = (log_ratio(price, tick_size) for price in _UNKNOWN_PRICE_RANGE)
    log_ticks = rng.uniform(lowest, highest, len(names))
    reference = dict(REFERENCE_TICKERS)
    for code, name in enumerate(names):
        if name in reference:
            log_ticks[code] = log_ratio(reference[name], tick_size)
    return log_ticks


def price_paths(
    rng: np.random.Generator,
    offsets_ns: np.ndarray,
    symbol_codes: np.ndarray,
    log_start_ticks: np.ndarray,
    volatility: float,
    tick_size: float,
) -> np.ndarray:
    """Per-symbol geometric Brownian motion at event times, on the tick grid.

    Parameters
    ----------
    rng : numpy.random.Generator
        The price stream.
    offsets_ns : numpy.ndarray
        Sorted event offsets from the open.
    symbol_codes : numpy.ndarray
        Symbol code of each event.
    log_start_ticks : numpy.ndarray
        Log start price in ticks per symbol code (:func:`start_log_ticks`).
    volatility : float
        Standard deviation of the log price over 6.5 hours.
    tick_size : float
        Price grid.

    Returns
    -------
    numpy.ndarray
        float64 prices, each the double nearest a whole number of ticks, at
        least one tick.

    Examples
    --------
    >>> prices = price_paths(
    ...     np.random.default_rng(0),
    ...     np.array([0, 10**9, 2 * 10**9]),
    ...     np.array([0, 0, 0], dtype=np.int16),
    ...     np.array([np.log(51_000.0)]),
    ...     0.0,
    ...     0.01,
    ... )
    >>> prices.tolist()
    [510.0, 510.0, 510.0]
    """
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
    log_start = log_start_ticks[codes[starts]]
    path_ends = np.add.reduceat(steps, starts) + log_start if n else log_start
    steps[starts] += log_start
    steps[starts[1:]] -= path_ends[:-1]
    grid_steps = np.cumsum(steps, out=steps)
    # numpy's own exp would round differently per CPU, and a price sitting
    # on a half tick would then land on different ticks.
    exp(grid_steps, out=grid_steps)
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
