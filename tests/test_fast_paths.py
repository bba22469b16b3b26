"""The engine's fast paths against the reference, each forced onto the inputs it takes.

The property tests elsewhere reach the ring pass (no idle timeout) and the
heap pass or the searches of emit="updates" (idle timeouts) through
``tumbling_windows``; these force the rarer branches: a ring too small for
the data (every clash falls back to the other path), the other path for
every run, chunked runs carrying the working state of a pass from push to
push, and every kind of key column.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import mdwindow.core.ring_step as ring_step
from mdwindow import Windower, tumbling_windows
from tests.compare import assert_matches_reference
from tests.reference import reference
from tests.strategies import options, tick_frames

FRAMES = ("windows", "pending", "late", "rejected", "trace")


@contextmanager
def ring_size_of(size):
    """Make the engine choose ``size`` ring positions (None: the heap pass) for every run."""
    saved = ring_step.ring_size
    ring_step.ring_size = lambda *args: size
    try:
        yield
    finally:
        ring_step.ring_size = saved


def chunked(ticks, spec, cuts, **opts):
    windower = Windower(spec, **opts)
    bounds = [0, *sorted(cuts), len(ticks)]
    pieces = zip(bounds[:-1], bounds[1:], strict=True)
    results = [windower.push(ticks.iloc[a:b]) for a, b in pieces]
    results.append(windower.flush())
    out = {}
    for name in FRAMES:
        parts = [getattr(r, name) for r in results]
        non_empty = [p for p in parts if len(p)] or parts[:1]
        out[name] = pd.concat(non_empty, ignore_index=name in ("windows", "pending"))
    return out


def in_arrival_order(ticks, opts):
    """Chunks must come in arrival order: sort by the arrival column when there is one."""
    if "arrival_time" not in opts:
        return ticks
    return ticks.iloc[np.argsort(ticks[opts["arrival_time"]].to_numpy(), kind="stable")]


def assert_same(got: dict, result) -> None:
    for name in FRAMES:
        a, b = got[name], getattr(result, name)
        if name in ("windows", "pending"):
            a, b = a.reset_index(drop=True), b.reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=name)


@given(ticks=tick_frames(), opts=options(), data=st.data())
def test_small_ring_falls_back_to_the_heap_pass(ticks, opts, data):
    """A ring of one position clashes as soon as a key has two windows open."""
    opts = dict(opts)
    spec = opts.pop("spec")
    opts.pop("idle_timeout", None)
    expected = reference(ticks, spec, **opts)
    with ring_size_of(1):
        assert_matches_reference(tumbling_windows(ticks, spec, **opts), expected, ticks)
        ticks = in_arrival_order(ticks, opts)
        cuts = data.draw(st.lists(st.integers(0, len(ticks)), max_size=4))
        assert_same(chunked(ticks, spec, cuts, **opts), tumbling_windows(ticks, spec, **opts))


@given(ticks=tick_frames(), opts=options(), data=st.data())
def test_without_ring(ticks, opts, data):
    """The heap pass (emit="final") and the searches (emit="updates") for every run."""
    opts = dict(opts)
    spec = opts.pop("spec")
    expected = reference(ticks, spec, **opts)
    with ring_size_of(None):
        assert_matches_reference(tumbling_windows(ticks, spec, **opts), expected, ticks)
        ticks = in_arrival_order(ticks, opts)
        cuts = data.draw(st.lists(st.integers(0, len(ticks)), max_size=4))
        assert_same(chunked(ticks, spec, cuts, **opts), tumbling_windows(ticks, spec, **opts))


@given(ticks=tick_frames(max_rows=60), opts=options(), data=st.data())
def test_carried_ring_state_equals_batch(ticks, opts, data):
    """Pushes carry the ring pass's state (and rebuild it when a state is reused)."""
    opts = dict(opts)
    spec = opts.pop("spec")
    opts.pop("idle_timeout", None)
    ticks = in_arrival_order(ticks, opts)
    arrow = ticks.assign(symbol=ticks["symbol"].astype("str"))
    cuts = data.draw(st.lists(st.integers(0, len(ticks)), max_size=6))
    assert_same(chunked(arrow, spec, cuts, **opts), tumbling_windows(arrow, spec, **opts))


def test_trace_keeps_the_times_of_a_small_chunk():
    """The trace is rebuilt from the chunk's times when read: a later change of the
    caller's frame does not reach it, though no row was dropped or rejected."""
    ticks = pd.DataFrame(
        {"ts": pd.to_datetime([0, 1, 2], unit="s", utc=True), "symbol": ["A", "A", "B"]}
    )
    pushed = Windower("1s").push(ticks)
    expected = tumbling_windows(ticks.copy(), "1s").trace
    ticks.loc[:, "ts"] = pd.Timestamp("2000-01-01", tz="UTC")
    pd.testing.assert_frame_equal(pushed.trace, expected)


KEY_DTYPES = ["str", "category", "string[pyarrow]", "large_string", "string"]


def as_key_dtype(symbol: pd.Series, dtype: str) -> pd.Series:
    if dtype in ("large_string", "string"):
        import pyarrow as pa

        return symbol.astype(pd.ArrowDtype(getattr(pa, dtype)()))
    return symbol.astype(dtype)


def plain_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its key column as object strings (None for missing)."""
    if "symbol" not in frame.columns:
        return frame
    symbol = frame["symbol"].astype(object)
    return frame.assign(symbol=symbol.where(symbol.notna(), None))


@given(ticks=tick_frames(), opts=options(), dtype=st.sampled_from(KEY_DTYPES), data=st.data())
def test_key_dtypes_equal_object_keys(ticks, opts, dtype, data):
    """Arrow-backed, pyarrow and categorical keys are coded without pandas; the
    results equal those of object keys, in batch and in chunks."""
    opts = dict(opts)
    spec = opts.pop("spec")
    ticks = in_arrival_order(ticks, opts)
    typed = ticks.assign(symbol=as_key_dtype(ticks["symbol"], dtype))
    expected = tumbling_windows(ticks, spec, **opts)
    got = tumbling_windows(typed, spec, **opts)
    cuts = data.draw(st.lists(st.integers(0, len(ticks)), max_size=4))
    pieces = chunked(typed, spec, cuts, **opts)
    for name in FRAMES:
        want = plain_keys(getattr(expected, name))
        for frame in (getattr(got, name), pieces[name]):
            if name in ("windows", "pending"):
                frame = frame.reset_index(drop=True)
                want = want.reset_index(drop=True)
            pd.testing.assert_frame_equal(plain_keys(frame), want, check_exact=True, obj=name)


@given(
    keys=st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(["A", "BB", "SYM491", "SYM492", "LONGER_THAN_8"]),
            st.text(max_size=12),
        ),
        min_size=2,
        max_size=60,
    ),  # fmt: skip
    cut=st.integers(0, 60),
    large=st.booleans(),
)
def test_keys_coded_in_halves_equal_one_go(keys, cut, large):
    """A first chunk coded in two halves at once (one dictionary each, then merged)
    gives the codes and the dictionary of coding every row in one go."""
    import pyarrow as pa

    from mdwindow.core import key_coding

    kind = pa.large_string() if large else pa.string()
    cut = min(cut, len(keys))
    pieces = [pa.array(keys[:cut], kind), pa.array(keys[cut:], kind)]
    one = np.empty(len(keys), np.int32)
    table, positions, _ = key_coding._run_factorize(
        pieces, key_coding._NO_ORDER, key_coding.KeyTable.empty(), True, one
    )
    halves = np.empty(len(keys), np.int32)
    split_table, split_positions = key_coding._coded_in_halves(pieces, halves)
    np.testing.assert_array_equal(halves, one)
    np.testing.assert_array_equal(split_positions, positions)
    assert split_table.size == table.size
    strings = key_coding._strings_of
    assert strings(split_table).to_pylist() == strings(table).to_pylist()


def test_first_big_chunk_coded_in_halves(monkeypatch):
    """tumbling_windows on string keys gives the same frames when its keys are coded
    in halves (every chunk of 2+ rows here) as when coded in one go."""
    from mdwindow.core import key_coding
    from mdwindow.synth import generate_ticks

    ticks = generate_ticks(5_000, symbols=40, seed=11, duration="5min")
    ticks["symbol"] = ticks["symbol"].astype("str")
    ticks.loc[::97, "symbol"] = None
    opts = {"lag": "1s", "scope": "key", "agg": "ohlcv"}
    monkeypatch.setattr(key_coding, "SPLIT_ROWS", 1 << 62)
    whole = tumbling_windows(ticks, "1s", **opts)
    monkeypatch.setattr(key_coding, "SPLIT_ROWS", 2)
    calls = []
    halves = key_coding._coded_in_halves
    monkeypatch.setattr(key_coding, "_coded_in_halves", lambda *a: calls.append(1) or halves(*a))
    split = tumbling_windows(ticks, "1s", **opts)
    assert calls
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(split, name), getattr(whole, name), obj=name)


@settings(max_examples=25)
@given(
    keys=st.lists(st.sampled_from(["A", "BB", "", "SYM491", "LONGER_THAN_8", "é"]), max_size=40),
    codes=st.lists(st.integers(0, 5), max_size=50),
    split=st.integers(1, 60),
    large=st.booleans(),
)
def test_key_column_gathered_in_halves_equals_take(keys, codes, split, large):
    """The key column of a result frame, gathered in two halves at once from
    SPLIT_GATHER rows on, holds the strings ``take`` gives."""
    import pyarrow as pa

    from mdwindow.core import frames
    from mdwindow.core.key_coding import _NO_ORDER, KeyTable, _run_factorize

    kind = pa.large_string() if large else pa.string()
    keys = list(dict.fromkeys(keys)) or ["A"]
    values = pd.arrays.ArrowStringArray(pa.chunked_array([pa.array(keys, kind)]))
    table, _, _ = _run_factorize(
        [pa.array(keys, kind)], _NO_ORDER, KeyTable.empty(), True, np.empty(len(keys), np.int32)
    )
    positions = np.array([c % len(keys) for c in codes], np.int64)
    saved = frames.SPLIT_GATHER
    frames.SPLIT_GATHER = split
    try:
        taken = frames.take_values(values, positions, (table.offsets, table.data))
    finally:
        frames.SPLIT_GATHER = saved
    assert list(taken) == [keys[p] for p in positions]
    assert taken.dtype == values.dtype
    assert taken._pa_array.type == values._pa_array.type


@settings(max_examples=12)
@given(
    symbols=st.integers(80, 120),
    seed=st.integers(0, 2**16),
    scope=st.sampled_from(["global", "partition"]),
    emit=st.sampled_from(["final", "updates"]),
    data=st.data(),
)
def test_many_windows_of_one_start_in_key_order(symbols, seed, scope, emit, data):
    """Under a shared watermark, more than 24 windows of one start fire or close
    together: they come out in key order (read off a bit per key rank, not
    sorted), as the reference has it, in batch and in chunks."""
    rng = np.random.default_rng(seed)
    n = symbols * 3 * 2  # two ticks of every symbol in each of 3 seconds
    ts = np.repeat(np.arange(3) * 10**9, symbols * 2) + rng.integers(0, 10**9, n)
    order = np.argsort(ts + rng.integers(0, 3 * 10**8, n), kind="stable")  # some disorder
    ticks = pd.DataFrame(
        {
            "ts": pd.to_datetime(ts[order], unit="ns", utc=True),
            "symbol": np.tile([f"S{k:03d}" for k in rng.permutation(symbols)], 6)[order],
            "price": rng.normal(100, 1, n),
            "size": rng.integers(1, 100, n),
        }
    )
    opts = {"lag": "100ms", "scope": scope, "emit": emit, "allowed_lateness": "200ms",
            "agg": "ohlcv"}  # fmt: skip
    if scope == "partition":
        opts["partitions"] = 2
    expected = reference(ticks, "1s", **opts)
    result = tumbling_windows(ticks, "1s", **opts)
    assert_matches_reference(result, expected, ticks)
    assert result.windows.groupby(["emit_row", "window_start"]).size().max() > 24
    cuts = data.draw(st.lists(st.integers(0, len(ticks)), max_size=3))
    assert_same(chunked(ticks, "1s", cuts, **opts), result)


@settings(max_examples=300)
@given(
    size=st.one_of(
        st.integers(1, 2**63 - 1),
        st.integers(0, 62).map(lambda e: 2**e),
        st.integers(1, 2**20).map(lambda d: d * 10**9),
    ),
    data=st.data(),
)
def test_ring_position_is_the_grid_number_modulo_the_ring(size, data):
    """The ring pass numbers window starts without a division: the position equals
    ``(start // size) & mask`` for every start on the grid, at the int64 edges too."""
    from mdwindow.core.ring_slots import grid_numbering, ring_position

    offset = data.draw(st.integers(0, size - 1), label="offset")
    low, high = -(2**63), 2**63 - 1
    n = data.draw(st.integers(-((offset - low) // size), (high - offset) // size), label="n")
    start = offset + n * size
    mask = data.draw(st.sampled_from([0, 1, 3, 7, 15, 31, 63]), label="mask")
    grid = grid_numbering(size)
    assert ring_position(start, size, offset, grid, mask) == (start // size) & mask


@given(
    t=st.integers(-(2**63) + 1, 2**63 - 1),
    size=st.integers(1, 2**62),
    offset=st.integers(-(2**62), 2**62),
)
def test_window_start_for_any_offset(t, size, offset):
    """``window_start`` is ``offset + floor((t - offset) / size) * size`` whether the
    offset is a spec's (in ``[0, size)``) or any other."""
    from mdwindow.core.rules import VALID, window_start

    start, reason = window_start(t, False, False, size, offset)
    expected = t - (t - offset) % size
    if reason == VALID:
        assert start == expected
    else:
        assert expected < -(2**63) + 1 or expected > 2**63 - 1 - size
