"""The Dask backend gives exactly the pandas result (SPEC 9), on a local cluster.

Every comparison runs :func:`mdwindow.tumbling_windows` on ``ddf.compute()``
and :func:`mdwindow.dask.tumbling_windows` on ``ddf`` and requires every frame
of the result to be equal, column by column, with ``check_exact``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import mdwindow  # noqa: E402
from mdwindow import TumblingWindowSpec  # noqa: E402
from mdwindow import dask as mdd  # noqa: E402
from mdwindow.synth import generate_ticks  # noqa: E402
from tests.strategies import options, tick_frames  # noqa: E402

FRAMES = ("windows", "pending", "late", "rejected", "trace")
SECOND = 1_000_000_000


@pytest.fixture(scope="module")
def client():
    # Threads, not processes: starting two worker processes costs ~10 s here;
    # test_worker_processes covers the trip of the state between processes.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def ticks() -> pd.DataFrame:
    """Synthetic ticks with stalls (late and dropped rows), bad rows and missing keys."""
    return generate_ticks(3_000, 8, seed=11, duration="60s", stall_rate=1 / 8, bad_row_rate=0.01)


def from_parts(parts: list[pd.DataFrame]) -> dd.DataFrame:
    """A Dask frame with exactly these partitions (empty ones included)."""
    return dd.from_delayed([dask.delayed(p) for p in parts], meta=parts[0].iloc[:0])


def cut(frame: pd.DataFrame, bounds: list[int]) -> list[pd.DataFrame]:
    return [frame.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def assert_same(ddf: dd.DataFrame, spec, **opts) -> mdwindow.WindowResult:
    # Two chains by default: each engine call costs ~20 ms however small its input.
    buckets = opts.pop("buckets", 2)
    expected = mdwindow.tumbling_windows(ddf.compute(), spec, **opts)
    result = mdd.tumbling_windows(ddf, spec, buckets=buckets, **opts)
    got = result.compute()
    for name in FRAMES:
        pd.testing.assert_frame_equal(
            getattr(got, name), getattr(expected, name), check_exact=True, obj=name
        )
    return got


# --------------------------------------------------------------------------
# Each scope and emit mode on synthetic data


SCOPES = {
    "global": {"scope": "global"},
    "key": {"scope": "key"},
    "key+partitions": {"scope": "key", "partitions": 3},
    "partition": {"scope": "partition", "partitions": 4},
    "key+idle": {"scope": "key", "idle_timeout": "1s"},
    "partition+idle": {"scope": "partition", "partitions": 3, "idle_timeout": "500ms"},
}


@pytest.mark.parametrize("emit", ["final", "updates"])
@pytest.mark.parametrize("scope", list(SCOPES))
def test_synthetic_scopes(client, ticks, scope, emit):
    ddf = dd.from_pandas(ticks, npartitions=3, sort=False)
    result = assert_same(
        ddf, "1s", lag="200ms", allowed_lateness="1s", emit=emit, agg="ohlcv", **SCOPES[scope]
    )
    summary = result.summary()
    assert summary["dropped"] > 0 and summary["late"] > 0 and summary["rejected"] > 0
    assert len(result.windows) > 0 and len(result.pending) > 0


@pytest.mark.parametrize("scope", ["global", "key", "partition"])
def test_arrival_time_partial_and_dict_agg(client, ticks, scope):
    # Rows shuffled inside each partition: arrival order comes from recv_ts only.
    rng = np.random.default_rng(5)
    parts = [p.iloc[rng.permutation(len(p))] for p in cut(ticks, [0, 1000, 1000, 3000])]
    agg = {"first": ("price", "first"), "last": ("price", "last"), "med": ("size", "median")}
    assert_same(
        from_parts(parts),
        TumblingWindowSpec("2s", offset="500ms", emit_partial=True),
        lag="100ms",
        allowed_lateness="500ms",
        scope=scope,
        partitions=3,
        arrival_time="recv_ts",
        agg=agg,
        emit="updates",
    )


# --------------------------------------------------------------------------
# Random frames


@st.composite
def partitioned(draw):
    """A tick frame, options, and partition bounds in arrival order."""
    frame = draw(tick_frames(max_rows=30))
    opts = draw(options())
    if "arrival_time" in opts:
        # Partitions must not overlap in arrival time: sort, cut, then shuffle
        # inside each partition so the within-partition sort is exercised.
        frame = frame.iloc[np.argsort(frame["recv"].to_numpy(), kind="stable")]
    n = len(frame)
    cuts = draw(st.lists(st.integers(0, n), min_size=1, max_size=4))
    bounds = [0, *sorted(cuts), n]
    parts = cut(frame, bounds)
    if "arrival_time" in opts:
        parts = [p.iloc[draw(st.permutations(range(len(p))))] for p in parts]
    opts["buckets"] = draw(st.sampled_from([1, 2, 3]))
    return parts, opts


@settings(max_examples=12, deadline=None)
@given(case=partitioned())
def test_random_frames(client, case):
    parts, opts = case
    spec = opts.pop("spec")
    assert_same(from_parts(parts), spec, **opts)


# --------------------------------------------------------------------------
# Scope "global" in parallel buckets (carrier rows; see mdwindow/dask/carriers.py)

#: Key values per key dtype: extremes of int64 and values equal to phantom candidates.
KEY_VALUES = {
    "str": ["AAPL", "MSFT", "NVDA", "TSLA", "", "é"],
    "string[python]": ["AAPL", "MSFT", "NVDA", "TSLA", "", "é"],
    "int64": [0, 1, 2, 63, -5, 2**63 - 1, -(2**63)],
    "Int64": [0, 1, 7, -3, 2**62],
    "uint8": [0, 1, 2, 3, 255],
}


def global_graph_steps(result: mdd.DaskWindowResult) -> int:
    """How many Windower steps the graph holds (one per input partition and bucket)."""
    graph = result.windows.__dask_graph__()
    names = (k[0] if isinstance(k, tuple) else k for k in graph)
    return sum(str(n).startswith("_step-") for n in names)


@st.composite
def global_cases(draw, max_rows: int = 60):
    """Frames full of ties, window edges, negative and missing times and keys, with
    options of scope "global", cut into Dask partitions (empty ones included)."""
    kind = draw(st.sampled_from(list(KEY_VALUES)))
    n = draw(st.integers(0, max_rows))
    pool = KEY_VALUES[kind][: draw(st.integers(1, len(KEY_VALUES[kind])))]
    unit = draw(st.sampled_from([SECOND, SECOND // 2]))
    times = np.array(draw(st.lists(st.integers(-12, 30), min_size=n, max_size=n)), np.int64)
    missing_time = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
    missing_time &= draw(st.booleans()) & (np.arange(n) % 7 == 3)
    ts = pd.Series((times * unit).view("datetime64[ns]")).dt.tz_localize("UTC")
    ts[missing_time] = pd.NaT
    keys = pd.Series(draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n)), dtype=kind)
    if kind in ("str", "string[python]", "Int64") and n and draw(st.booleans()):
        keys[np.arange(n) % 5 == 2] = None
    frame = pd.DataFrame(
        {
            "ts": ts,
            "symbol": keys,
            "price": np.linspace(10.0, 11.0, n),
            "size": np.arange(n, dtype=np.int64) % 4 + 1,
            "recv": pd.to_datetime(
                np.array(draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)), np.int64),
                unit="s",
                utc=True,
            ),
        }
    )
    opts = {
        "lag": draw(st.sampled_from(["0s", "500ms", "1s", "3s"])),
        "allowed_lateness": draw(st.sampled_from(["0s", "1s", "1500ms", "4s"])),
        "emit": draw(st.sampled_from(["final", "updates"])),
        "agg": draw(st.sampled_from([None, "ohlcv", {"first": ("price", "first")}])),
        "scope": "global",
    }
    opts["spec"] = TumblingWindowSpec(
        draw(st.sampled_from(["1s", "2s", "3s"])),
        offset=draw(st.sampled_from([0, "1s", "-1s", "1500ms"])),
        emit_partial=draw(st.booleans()),
    )
    if draw(st.booleans()):
        opts["partitions"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        opts["arrival_time"] = "recv"
        frame = frame.iloc[np.argsort(frame["recv"].to_numpy(), kind="stable")]
    cuts = draw(st.lists(st.integers(0, n), min_size=1, max_size=5))
    parts = cut(frame, [0, *sorted(cuts), n])
    if "arrival_time" in opts:
        parts = [p.iloc[draw(st.permutations(range(len(p))))] for p in parts]
    opts["buckets"] = draw(st.integers(2, 5))
    return parts, opts


@settings(max_examples=60, deadline=None)
@given(case=global_cases())
def test_global_scope_in_buckets(client, case):
    parts, opts = case
    spec = opts.pop("spec")
    # Dask would turn the engine's object key columns (python-storage strings) into Arrow.
    with dask.config.set({"dataframe.convert-string": False}):
        ddf = from_parts(parts)
        assert_same(ddf, spec, **opts)
        steps = global_graph_steps(mdd.tumbling_windows(ddf, spec, **opts))
    assert steps == len(parts) * opts["buckets"]  # parallel chains, not one


@pytest.mark.parametrize("emit", ["final", "updates"])
@pytest.mark.parametrize("lateness", ["0s", "700ms"])
def test_global_scope_synthetic(client, ticks, emit, lateness):
    # Every symbol spans every partition; one event-time jump closes windows of all buckets.
    ddf = from_parts(cut(ticks, [0, 400, 400, 1100, 2200, 3000]))
    for buckets in (2, 3, 7):
        got = assert_same(
            ddf, TumblingWindowSpec("1s", offset="250ms"), lag="300ms", scope="global",
            allowed_lateness=lateness, emit=emit, agg="ohlcv", arrival_time="recv_ts",
            buckets=buckets,
        )  # fmt: skip
        summary = got.summary()
        assert summary["dropped"] > 0 and summary["rejected"] > 0
        assert (summary["late"] > 0) == (lateness != "0s")
        # Windows of several keys close on one row: they come out by start, then key.
        shared = got.windows.groupby("emit_row")["symbol"].nunique()
        assert shared.max() > 1


def test_global_scope_one_row_closes_every_bucket(client):
    # Keys spread over the buckets; the watermark (lag 1s) stays below 1s until the
    # last row (key 40) lifts it to 4s and closes every window, in every bucket.
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime([0.5, 0.2, 0.9, 0.1, 1.4, 0.3, 5.0], unit="s", utc=True),
            "symbol": pd.Series([9, 3, 1, 7, 3, 12, 40], dtype="int64"),
        }
    )
    ddf = from_parts(cut(frame, [0, 2, 2, 5, 7]))
    buckets = 4
    spread = mdwindow.hashing.partition_ids(frame["symbol"].iloc[:6], buckets)
    assert len(set(spread)) > 1
    for emit in ("final", "updates"):
        got = assert_same(ddf, "1s", lag="1s", scope="global", emit=emit, buckets=buckets)
        assert got.windows["emit_row"].tolist() == [6] * 6
        # By window start, then key, across buckets.
        assert got.windows["symbol"].tolist() == [1, 3, 7, 9, 12, 3]
        assert got.windows["window_start"].dt.second.tolist() == [0] * 5 + [1]
        assert got.windows["emit_watermark"].eq(pd.Timestamp(4, unit="s", tz="UTC")).all()
        # The watermark is the global one, whichever bucket a row ran in.
        before = got.trace["watermark_before"]
        seconds = (before - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
        assert before.isna().tolist() == [True] + [False] * 6
        assert seconds.iloc[1:].round(6).tolist() == [-0.5, -0.5, -0.1, -0.1, 0.4, 0.4]


@pytest.mark.parametrize(
    "dtype", ["float64", "category", "object"], ids=["float", "categorical", "object"]
)
def test_global_scope_other_key_dtypes_run_one_chain(client, ticks, dtype):
    frame = ticks.iloc[:600].copy()
    codes = frame["symbol"].factorize()[0]
    frame["symbol"] = pd.Series(codes, index=frame.index).where(codes >= 0).astype(dtype)
    with dask.config.set({"dataframe.convert-string": False}):
        ddf = from_parts(cut(frame, [0, 200, 600]))
        assert_same(ddf, "1s", lag="200ms", scope="global", buckets=3)
        result = mdd.tumbling_windows(ddf, "1s", lag="200ms", scope="global", buckets=3)
        assert global_graph_steps(result) == 2
        assert_same(ddf, "1s", lag="200ms", key=None, buckets=3)


# --------------------------------------------------------------------------
# Layouts of the input


@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")
def test_many_small_parquet_files(client, ticks, tmp_path):
    for i, part in enumerate(cut(ticks, list(range(0, len(ticks), 300)) + [len(ticks)])):
        part.to_parquet(tmp_path / f"part-{i:03d}.parquet", index=False)
    ddf = dd.read_parquet(tmp_path)
    assert ddf.npartitions > 1
    for scope in ("key", "global"):
        assert_same(ddf, "1s", lag="250ms", allowed_lateness="1s", scope=scope, agg="ohlcv")


def test_empty_partitions(client, ticks):
    parts = cut(ticks.iloc[:2000], [0, 0, 700, 700, 2000, 2000])
    ddf = from_parts(parts)
    assert [len(p) for p in parts].count(0) == 3
    for scope in ("key", "global"):
        got = assert_same(ddf, "1s", lag="250ms", scope=scope, emit="updates", agg="ohlcv")
        assert len(got.windows)


def test_all_partitions_empty(client, ticks):
    ddf = from_parts([ticks.iloc[:0]] * 3)
    for scope in ("key", "global"):
        assert_same(ddf, "1s", scope=scope, agg="ohlcv", partitions=2)


def test_key_spanning_partitions(client):
    # One busy key in every partition; its windows close on rows of later partitions.
    seconds = [0, 1, 0.5, 2, 1.5, 0.2, 3, 2.5, 5, 4, 1, 7, 6, 9, 3]
    symbols = ["SPY", "QQQ", "SPY", "SPY", "QQQ", "SPY", "SPY", "SPY", "SPY", "QQQ", "SPY",
               "SPY", "SPY", "SPY", "QQQ"]  # fmt: skip
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime(np.array(seconds) * 1e9, utc=True),
            "symbol": symbols,
            "price": np.arange(len(seconds), dtype=float),
            "size": 100,
        }
    )
    parts = cut(frame, [0, 3, 6, 9, 12, 15])
    assert sum("SPY" in set(p["symbol"]) for p in parts) == 5
    for emit in ("final", "updates"):
        got = assert_same(
            from_parts(parts), "2s", lag="1s", allowed_lateness="1s", scope="key",
            emit=emit, agg="ohlcv", buckets=2,
        )  # fmt: skip
        # SPY's first window holds rows 0, 2 (partition 0) and 5 (partition 1) and
        # closes on a row of partition 2; row 10 comes too late for it.
        first = got.windows.iloc[0]
        assert (first["symbol"], first["count"]) == ("SPY", 3)
        assert first["emit_row"] in (6, 8)
        assert got.late["arrival"].tolist() == [10]


def unusual_frame(kind: str) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 150
    if kind == "mixed-type keys":
        pool = np.array([1, "b", 2.5, "a", 10, 9, "7", 7, None], dtype=object)
    else:
        pool = np.array(["1", "b", "2.5", "a", "10", "9", "7", "7.0", None], dtype=object)
    keys = pool[rng.integers(0, 9, n)]
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime(rng.integers(0, 40, n), unit="s", utc=True),
            "symbol": pd.Series(keys, dtype=object),
            "price": rng.random(n),
            "size": rng.integers(1, 5, n),
        }
    )
    if kind == "categorical keys":
        frame = frame.dropna(subset=["symbol"])
        categories = ["b", "a", "9", "10", "7", "2.5", "1", "unused"]
        # "7.0" is not a category: a missing key, as pandas would make it (said outright).
        text = frame["symbol"].astype(str)
        frame["symbol"] = pd.Categorical(text.where(text.isin(categories)), categories=categories)
    elif kind == "integer times":
        frame["ts"] = rng.integers(0, 40_000, n)
    elif kind == "naive microseconds":
        frame["ts"] = frame["ts"].dt.tz_localize(None).astype("datetime64[us]")
    return frame


@pytest.mark.parametrize(
    "kind", ["mixed-type keys", "categorical keys", "integer times", "naive microseconds"]
)
def test_unusual_inputs(client, kind):
    # Object keys (one missing) order by value, ties by first arrival: the
    # windows still open at the end must merge across chains in that order.
    frame = unusual_frame(kind)
    if kind == "mixed-type keys":
        # One type of key per run, in every mode (docs/semantics.md, section 11).
        with pytest.raises(TypeError, match="keys of mixed"):
            mdwindow.tumbling_windows(frame, "5s", scope="key")
        with dask.config.set({"dataframe.convert-string": False}):
            ddf = from_parts(cut(frame, [0, 40, 90, len(frame)]))
            with pytest.raises(TypeError, match="keys of mixed"):
                mdd.tumbling_windows(ddf, "5s", scope="key").compute()
        return
    with dask.config.set({"dataframe.convert-string": False}):
        ddf = from_parts(cut(frame, [0, 40, 90, len(frame)]))
        opts = {"time_unit": "ms"} if kind == "integer times" else {}
        spec = TumblingWindowSpec("5s", emit_partial=True)
        got = assert_same(ddf, spec, lag="3s", scope="key", agg="ohlcv", buckets=3, **opts)
        assert got.windows["emit_row"].iloc[-1] == len(frame)
        assert_same(ddf, "5s", lag="3s", scope="partition", partitions=5, buckets=3, **opts)
        assert_same(ddf, "5s", lag="1s", key=None, emit="updates", allowed_lateness="2s", **opts)


def test_results_do_not_depend_on_buckets(client, ticks):
    ddf = dd.from_pandas(ticks, npartitions=3, sort=False)
    for buckets in (1, 5):
        assert_same(ddf, "1s", lag="200ms", scope="key", agg="ohlcv", buckets=buckets)


# --------------------------------------------------------------------------
# The result object


def test_result_frames(client, ticks):
    ddf = dd.from_pandas(ticks, npartitions=3)  # known divisions
    result = mdd.tumbling_windows(ddf, "1s", lag="200ms", scope="key", buckets=2)
    assert isinstance(result.windows, dd.DataFrame)
    assert result.windows.npartitions == ddf.npartitions + 1
    assert result.trace.divisions == ddf.divisions
    assert "windows=4" in repr(result)
    expected = mdwindow.tumbling_windows(ddf.compute(), "1s", lag="200ms", scope="key")
    assert result.summary() == expected.summary()
    persisted = result.persist()
    pd.testing.assert_frame_equal(persisted.compute().windows, expected.windows)


# --------------------------------------------------------------------------
# Bad input


def test_refuses_pandas_frames(ticks):
    with pytest.raises(TypeError, match="Dask DataFrame"):
        mdd.tumbling_windows(ticks, "1s")


def test_checks_options_at_once(ticks):
    ddf = dd.from_pandas(ticks, npartitions=2)
    with pytest.raises(KeyError, match="nope"):
        mdd.tumbling_windows(ddf, "1s", key="nope")
    with pytest.raises(ValueError, match="partitions"):
        mdd.tumbling_windows(ddf, "1s", scope="partition")
    with pytest.raises(ValueError, match="buckets"):
        mdd.tumbling_windows(ddf, "1s", scope="key", buckets=0)


@pytest.mark.parametrize("scope", ["global", "key"])
def test_partitions_out_of_arrival_order(client, ticks, scope):
    parts = cut(ticks.iloc[:1000], [0, 500, 1000])[::-1]
    result = mdd.tumbling_windows(from_parts(parts), "1s", scope=scope, arrival_time="recv_ts")
    with pytest.raises(ValueError, match="arrival"):
        result.compute()


def test_global_scope_key_dtype_unlike_meta(client, ticks):
    # The phantom key is chosen from the meta's dtype; partitions must hold that dtype.
    frame = ticks.iloc[:100].assign(symbol=np.arange(100) % 4)
    parts = [frame.iloc[:50], frame.iloc[50:].astype({"symbol": "float64"})]
    ddf = dd.from_delayed([dask.delayed(p) for p in parts], meta=frame.iloc[:0])
    result = mdd.tumbling_windows(ddf, "1s", scope="global", buckets=2)
    with pytest.raises(TypeError, match="float64 values in Dask partition 1"):
        result.compute()


def test_missing_arrival_time(client, ticks):
    frame = ticks.iloc[:100].copy()
    frame.loc[frame.index[5], "recv_ts"] = pd.NaT
    result = mdd.tumbling_windows(
        from_parts(cut(frame, [0, 50, 100])), "1s", scope="key", arrival_time="recv_ts"
    )
    with pytest.raises(ValueError, match="missing"):
        result.compute()


# --------------------------------------------------------------------------
# Hash partitioning


@pytest.mark.parametrize("hash", ["murmur3", "kafka"])
def test_hash_partition(client, ticks, hash):
    ddf = dd.from_pandas(ticks.dropna(subset=["symbol"]), npartitions=4, sort=False)
    got = mdd.hash_partition(ddf, "symbol", 5, hash=hash)
    assert got.npartitions == 5
    expected = mdwindow.hash_partition(ddf.compute(), "symbol", 5, hash=hash)
    for p, frame in enumerate(expected):
        pd.testing.assert_frame_equal(got.partitions[p].compute(), frame, check_exact=True)


def test_hash_partition_missing_key(client, ticks):
    ddf = dd.from_pandas(ticks, npartitions=3, sort=False)
    with pytest.raises(ValueError, match="missing key"):
        mdd.hash_partition(ddf, "symbol", 3).compute()


@pytest.mark.parametrize("partitions", [1, 3, 16])
def test_partition_balance(client, ticks, partitions):
    ddf = dd.from_pandas(ticks, npartitions=4, sort=False)
    got = mdd.partition_balance(ddf, "symbol", partitions)
    expected = mdwindow.partition_balance(ddf.compute(), "symbol", partitions)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.attrs == expected.attrs


# --------------------------------------------------------------------------
# Worker processes


@pytest.mark.slow
def test_worker_processes(ticks):
    """The state crosses process boundaries (pickled Windower, callable aggregations)."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster),
    ):
        ddf = dd.from_pandas(ticks, npartitions=3, sort=False)
        agg = {"spread": ("price", lambda s: s.max() - s.min()), "n": ("size", "count")}
        for scope in ("key", "global"):
            assert_same(ddf, "1s", lag="200ms", scope=scope, agg=agg, buckets=3)
