"""Synthetic, seeded market ticks with realistic skew, delay, stalls and noise.

:func:`generate_ticks` draws a trading session of trade prints as they would
reach a local consumer from several exchange feeds. Everything is vectorized
numpy, so ten million rows take a few seconds, and the same ``seed`` gives an
identical frame in any process on any CPU: every floating-point value that
ends up in an integer (nanoseconds, lots, ticks) is computed from the random
draws with IEEE basic operations only (:mod:`mdwindow.synth._portable_math`),
never with numpy's or libm's CPU-specific exp, log or power. (numpy's normal
and exponential samplers call libm only in rare rejection and tail branches,
where a last-bit difference would almost never move a nanosecond.)

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

The package holds one module per part of the model: ``_activity`` (symbols
and event times), ``_prices``, ``_sizes``, ``_delivery`` (delays, stalls,
redeliveries), ``_portable_math`` (the CPU-independent exp and log) and
``_generate`` (the public function, its argument checks and the assembly).
"""

from __future__ import annotations

from mdwindow.synth._generate import COLUMNS, DEFAULT_VENUES, generate_ticks
from mdwindow.synth._prices import REFERENCE_TICKERS

__all__ = ["COLUMNS", "DEFAULT_VENUES", "REFERENCE_TICKERS", "generate_ticks"]
