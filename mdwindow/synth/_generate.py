"""The public generator: argument checks, one random stream per component, assembly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mdwindow.synth._activity import ranked_symbol_codes, session_offsets
from mdwindow.synth._delivery import receive_offsets, redelivery_gaps, stall_windows
from mdwindow.synth._prices import REFERENCE_TICKERS, price_paths, start_log_ticks
from mdwindow.synth._sizes import trade_sizes

__all__ = ["COLUMNS", "DEFAULT_VENUES", "generate_ticks"]

TimedeltaLike = str | pd.Timedelta | dt.timedelta | np.timedelta64

DEFAULT_VENUES: tuple[str, ...] = ("XNAS", "ARCX", "BATS", "IEXG")
COLUMNS: tuple[str, ...] = ("ts", "recv_ts", "symbol", "price", "size", "venue")


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
        parameters give an identical frame in any process, on any CPU.
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

    offsets_ns = session_offsets(time_rng, n_events, duration_ns, intraday_u)
    symbol_codes = ranked_symbol_codes(symbol_rng, n_events, len(names), zipf_exponent)
    log_start_ticks = start_log_ticks(price_rng, names, tick_size)
    prices = price_paths(
        price_rng, offsets_ns, symbol_codes, log_start_ticks, volatility, tick_size
    )
    sizes = trade_sizes(size_rng, n_events, lot_size, size_exponent, odd_lot_rate)

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
    stall_venues, stall_starts_ns, stall_ends_ns = stall_windows(
        stall_rng, len(venue_names), duration_ns, stall_rate, stall_min_ns, stall_max_ns
    )
    received_ns = receive_offsets(
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
    received_ns[redelivered] += redelivery_gaps(noise_rng, len(redelivered))

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
