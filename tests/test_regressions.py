"""Regression and coverage tests for the compiled fast paths of the engine.

The property tests of the rest of the suite use object-dtype keys and small
frames; these run the same oracle comparisons through the paths that only
larger or Arrow-backed inputs would otherwise reach.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mdwindow.core.final_pass as final_pass_kernels
from mdwindow import tumbling_windows
from mdwindow.incremental import Windower
from tests.compare import assert_matches_reference
from tests.reference import reference
from tests.strategies import options, tick_frames

FRAMES = ("windows", "pending", "late", "rejected", "trace")


def run_in_chunks(ticks, spec, bounds, **opts):
    windower = Windower(spec, **opts)
    results = [
        windower.push(ticks.iloc[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    results.append(windower.flush())
    out = {}
    for name in FRAMES:
        parts = [getattr(r, name) for r in results]
        non_empty = [p for p in parts if len(p)] or parts[:1]
        out[name] = pd.concat(non_empty, ignore_index=name in ("windows", "pending"))
    return out


def assert_same_frames(got, expected, *, key_dtype_differs=False):
    for name in FRAMES:
        a = got[name] if isinstance(got, dict) else getattr(got, name)
        b = expected[name] if isinstance(expected, dict) else getattr(expected, name)
        if name in ("windows", "pending"):
            a, b = a.reset_index(drop=True), b.reset_index(drop=True)
        if key_dtype_differs and "symbol" in a.columns:
            a, b = a.copy(), b.copy()
            a["symbol"] = a["symbol"].astype(object).where(a["symbol"].notna(), None)
            b["symbol"] = b["symbol"].astype(object).where(b["symbol"].notna(), None)
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=name)


@given(ticks=tick_frames(), opts=options(), data=st.data())
def test_arrow_string_keys_equal_object_keys(ticks, opts, data):
    """Keys held as pandas' Arrow-backed ``str`` go through the compiled dictionary."""
    opts = dict(opts)
    spec = opts.pop("spec")
    if "arrival_time" in opts:
        ticks = ticks.iloc[np.argsort(ticks["recv"].to_numpy(), kind="stable")]
    arrow = ticks.assign(symbol=ticks["symbol"].astype("str"))
    expected = tumbling_windows(ticks, spec, **opts)
    assert_same_frames(tumbling_windows(arrow, spec, **opts), expected, key_dtype_differs=True)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(ticks)), max_size=6)))
    chunked = run_in_chunks(arrow, spec, [0, *cuts, len(ticks)], **opts)
    assert_same_frames(chunked, expected, key_dtype_differs=True)


@contextmanager
def tiny_kernel_capacity():
    """Start the windowing pass with one slot so that every growth path runs."""
    saved = final_pass_kernels.MIN_SLOTS
    final_pass_kernels.MIN_SLOTS = 1
    try:
        yield
    finally:
        final_pass_kernels.MIN_SLOTS = saved


@given(ticks=tick_frames(max_rows=60), opts=options())
def test_growing_kernel_state_equals_reference(ticks, opts):
    opts = dict(opts)
    spec = opts.pop("spec")
    expected = reference(ticks, spec, **opts)
    with tiny_kernel_capacity():
        result = tumbling_windows(ticks, spec, **opts)
    assert_matches_reference(result, expected, ticks)


def test_arrow_keys_after_checkpoint_restore():
    """A restored Windower rebuilds the compiled key dictionary from its keys."""
    ts = pd.to_datetime([0, 1, 2, 3, 4, 5, 6, 7], unit="s", utc=True)
    ticks = pd.DataFrame(
        {
            "ts": ts,
            "symbol": pd.array(["B", "A", "B", None, "C", "A", "", "C"], dtype="str"),
            "price": np.arange(8.0),
            "size": 100,
        }
    )
    batch = tumbling_windows(ticks, "2s", lag="1s", scope="key", agg="ohlcv")
    first = Windower("2s", lag="1s", scope="key", agg="ohlcv")
    head = first.push(ticks.iloc[:4])
    restored = Windower.restore(first.checkpoint())
    tail = restored.push(ticks.iloc[4:])
    end = restored.flush()
    windows = pd.concat([head.windows, tail.windows, end.windows], ignore_index=True)
    pd.testing.assert_frame_equal(windows, batch.windows, check_exact=True)
    assert restored.watermark.index.tolist() == ["B", "A", "C", ""]


def test_many_arrow_keys_grow_the_dictionary():
    """Hundreds of keys, some long, grow every array of the compiled key dictionary."""
    rng = np.random.default_rng(7)
    names = [f"K{i}" + "x" * int(rng.integers(0, 40)) for i in range(300)] + ["L" * 600, ""]
    n = 5_000
    symbol = pd.array(rng.choice(np.array(names, dtype=object), n), dtype="str")
    symbol[rng.random(n) < 0.01] = None
    ticks = pd.DataFrame(
        {
            "ts": pd.to_datetime(np.sort(rng.integers(0, 60_000, n)), unit="ms", utc=True),
            "symbol": symbol,
            "price": rng.random(n),
            "size": rng.integers(1, 10, n),
        }
    )
    as_object = ticks.assign(symbol=ticks["symbol"].astype(object).where(ticks["symbol"].notna()))
    opts = {"lag": "500ms", "scope": "key", "agg": "ohlcv", "partitions": 4}
    expected = tumbling_windows(as_object, "1s", **opts)
    assert_same_frames(tumbling_windows(ticks, "1s", **opts), expected, key_dtype_differs=True)
    chunked = run_in_chunks(ticks, "1s", [0, 1, 700, 701, 2_500, n], **opts)
    assert_same_frames(chunked, expected, key_dtype_differs=True)


@given(data=st.data(), ticks=tick_frames(max_rows=60), opts=options())
def test_carried_window_table_grows_between_chunks(data, ticks, opts):
    """Pushes take over the previous chunk's window table and grow it (one slot to start)."""
    opts = dict(opts)
    spec = opts.pop("spec")
    if "arrival_time" in opts:
        ticks = ticks.iloc[np.argsort(ticks["recv"].to_numpy(), kind="stable")]
    expected = tumbling_windows(ticks, spec, **opts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(ticks)), max_size=8)))
    with tiny_kernel_capacity():
        chunked = run_in_chunks(ticks, spec, [0, *cuts, len(ticks)], **opts)
    assert_same_frames(chunked, expected)


def _keyed_ticks(symbols: list[str], seconds: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(np.array(seconds) * 1e9, utc=True),
            "symbol": pd.array(symbols, dtype="str"),
            "price": np.arange(len(symbols), dtype=float),
            "size": 1,
        }
    )


def test_new_keys_between_chunks_keep_the_emission_order():
    """Keys first seen in a later chunk sort before open windows' keys: windows
    closing together are still emitted by (start, key order)."""
    ticks = _keyed_ticks(
        ["M", "Z", "A", "B", "M", "Z"],
        [0.1, 0.2, 0.3, 0.4, 5.0, 5.1],
    )
    opts = {"lag": "1s", "scope": "global", "agg": "ohlcv"}
    batch = tumbling_windows(ticks, "1s", **opts)
    windower = Windower("1s", **opts)
    parts = [windower.push(ticks.iloc[:2]).windows, windower.push(ticks.iloc[2:]).windows]
    windows = pd.concat([*parts, windower.flush().windows], ignore_index=True)
    pd.testing.assert_frame_equal(windows, batch.windows, check_exact=True)
    assert windows["symbol"].tolist()[:4] == ["A", "B", "M", "Z"]


def test_an_older_state_can_be_continued_again():
    """The engine's states stay valid after a later chunk took the window table over:
    continuing an older one rebuilds the table from its open rows."""
    from mdwindow.core.engine import process_chunk
    from mdwindow.core.state import State as EngineState
    from mdwindow.core.state import resolve

    ticks = _keyed_ticks(["A", "B", "A", "B", "A", "B"], [0.1, 0.2, 1.5, 1.6, 4.0, 4.1])
    windower = Windower("1s", lag="1s", agg="ohlcv")
    cfg = windower.config
    _, first = process_chunk(cfg, EngineState(), ticks.iloc[:3])
    out_a, _ = process_chunk(cfg, first, ticks.iloc[3:])  # takes the table over
    out_b, _ = process_chunk(cfg, first, ticks.iloc[3:])  # from the same state again
    pd.testing.assert_frame_equal(out_a.windows, out_b.windows, check_exact=True)
    pd.testing.assert_frame_equal(resolve(out_a.trace), resolve(out_b.trace))
    windower.push(ticks.iloc[:3])
    pd.testing.assert_frame_equal(windower.push(ticks.iloc[3:]).windows, out_b.windows)
    assert out_b.windows["count"].tolist() == [1, 1, 1, 1]  # A and B, [0s, 1s) and [1s, 2s)


@pytest.mark.parametrize("kind", ["string", "large_string"])
def test_keys_taken_from_their_string_buffers(kind):
    import pyarrow as pa

    from mdwindow.core.frames import take_values

    words = ["", "é", "AAPL", "ñxyz", "b"]
    chunked = pa.chunked_array([pa.array(words, getattr(pa, kind)())])
    values = pd.arrays.ArrowStringArray(chunked)
    lengths = np.array([len(w.encode()) for w in words])
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    data = np.frombuffer("".join(words).encode(), np.uint8)
    positions = np.array([3, 0, 1, 1, 4, 2])
    taken = take_values(values, positions, (offsets, data))
    assert list(taken) == [words[p] for p in positions]
    assert taken.dtype == values.dtype
    assert take_values(values, positions[:0], (offsets, data)).tolist() == []
