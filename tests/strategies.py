"""Hypothesis strategies shared by the property tests: small tick frames and options."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

SECOND = 1_000_000_000
KEYS = ["AAPL", "MSFT", "NVDA", "TSLA"]


@st.composite
def tick_frames(draw, *, max_rows: int = 40, allow_invalid: bool = True):
    """A frame of ticks in arrival order with integer-second-ish event times.

    Times cluster on a small range (negative ones included) so window edges,
    ties and out-of-order arrivals are common.
    """
    n = draw(st.integers(0, max_rows))
    n_keys = draw(st.integers(1, len(KEYS)))
    half_steps = draw(st.booleans())
    unit = SECOND // 2 if half_steps else SECOND
    times = draw(st.lists(st.integers(-12, 30), min_size=n, max_size=n))
    keys = draw(st.lists(st.sampled_from(KEYS[:n_keys]), min_size=n, max_size=n))
    missing_time = [False] * n
    missing_key = [False] * n
    if allow_invalid and n and draw(st.booleans()):
        missing_time = draw(
            st.lists(st.sampled_from([False] * 9 + [True]), min_size=n, max_size=n)
        )
        missing_key = draw(st.lists(st.sampled_from([False] * 9 + [True]), min_size=n, max_size=n))
    prices = draw(
        st.lists(
            st.sampled_from([10.0, 10.5, 11.0, 9.75, 12.25, float("nan")]), min_size=n, max_size=n
        )
    )
    sizes = draw(st.lists(st.sampled_from([100, 200, 300, 500, 1000]), min_size=n, max_size=n))
    ns = np.array(times, dtype=np.int64) * unit
    ts = pd.Series(ns.view("datetime64[ns]")).dt.tz_localize("UTC")
    ts[np.array(missing_time, dtype=bool)] = pd.NaT
    symbol = pd.Series(keys, dtype=object)
    symbol[np.array(missing_key, dtype=bool)] = None
    arrival = draw(st.lists(st.integers(0, 15), min_size=n, max_size=n))
    frame = pd.DataFrame(
        {
            "ts": ts,
            "symbol": symbol,
            "price": prices,
            "size": np.array(sizes, dtype=np.int64),
            "recv": pd.to_datetime(np.array(arrival, dtype=np.int64), unit="s", utc=True),
        }
    )
    if draw(st.booleans()):
        # A shuffled, non-unique index: arrival is by position, never by label.
        labels = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
        frame.index = pd.Index(labels)
    return frame


AGGS = [
    None,
    "ohlcv",
    {"first": ("price", "first"), "last": ("price", "last"), "n": ("size", "count")},
    {
        "hi": ("price", "max"),
        "lo": ("size", "min"),
        "total": ("size", "sum"),
        "avg": ("price", "mean"),
    },
    {"med": ("price", "median"), "sd": ("size", "std"), "uniq": ("price", "nunique")},
    {"spread": ("price", lambda s: s.max() - s.min())},
]


@st.composite
def options(draw):
    """Keyword arguments for ``tumbling_windows`` (and the reference)."""
    scope = draw(st.sampled_from(["global", "key", "partition"]))
    size = draw(st.sampled_from(["1s", "2s", "3s", "5s"]))
    opts = {
        "spec": size,
        "lag": draw(st.sampled_from(["0s", "1s", "2s", "3s"])),
        "allowed_lateness": draw(st.sampled_from(["0s", "1s", "2s", "4s"])),
        "scope": scope,
        "emit": draw(st.sampled_from(["final", "updates"])),
        "agg": draw(st.sampled_from(AGGS)),
    }
    offset = draw(st.sampled_from([None, "1s", "-1s", "1500ms"]))
    partial = draw(st.booleans())
    if offset is not None or partial:
        from mdwindow import TumblingWindowSpec

        opts["spec"] = TumblingWindowSpec(size, offset=offset or 0, emit_partial=partial)
    if scope == "partition" or draw(st.booleans()):
        opts["partitions"] = draw(st.integers(1, 3))
    if scope != "global" and draw(st.booleans()):
        opts["idle_timeout"] = draw(st.sampled_from(["0s", "1s", "3s"]))
    if draw(st.booleans()):
        opts["arrival_time"] = "recv"
    return opts
