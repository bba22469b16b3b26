"""Incremental mode: any split into chunks gives exactly the batch result."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdwindow import tumbling_windows
from mdwindow.checkpoint import CheckpointError
from mdwindow.incremental import Windower
from tests.strategies import options, tick_frames

FRAMES = ("windows", "pending", "late", "rejected", "trace")


def concat(parts: list[pd.DataFrame], ignore_index: bool) -> pd.DataFrame:
    non_empty = [p for p in parts if len(p)]
    if not non_empty:
        return parts[0]
    return pd.concat(non_empty, ignore_index=ignore_index)


def run_in_chunks(ticks, spec, bounds, **opts):
    windower = Windower(spec, **opts)
    results = [
        windower.push(ticks.iloc[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    results.append(windower.flush())
    return {
        "windows": concat([r.windows for r in results], ignore_index=True),
        "pending": concat([r.pending for r in results], ignore_index=True),
        "late": concat([r.late for r in results], ignore_index=False),
        "rejected": concat([r.rejected for r in results], ignore_index=False),
        "trace": concat([r.trace for r in results], ignore_index=False),
    }


def assert_same_as_batch(chunked, batch) -> None:
    for name in FRAMES:
        expected = getattr(batch, name)
        got = chunked[name]
        if name in ("windows", "pending"):
            got = got.reset_index(drop=True)
            expected = expected.reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected, check_exact=True, obj=name)


@st.composite
def splits(draw, n: int):
    """Chunk boundaries, with empty and one-row chunks likely."""
    cuts = draw(st.lists(st.integers(0, n), max_size=8))
    return [0, *sorted(cuts), n]


@given(data=st.data(), ticks=tick_frames(), opts=options())
def test_any_split_equals_batch(data, ticks, opts):
    opts = dict(opts)
    spec = opts.pop("spec")
    if "arrival_time" in opts:
        # Chunks must come in arrival order; within a chunk the stable sort applies.
        ticks = ticks.iloc[np.argsort(ticks["recv"].to_numpy(), kind="stable")]
    bounds = data.draw(splits(len(ticks)))
    batch = tumbling_windows(ticks, spec, **opts)
    assert_same_as_batch(run_in_chunks(ticks, spec, bounds, **opts), batch)


def test_split_inside_run_of_equal_timestamps():
    ts = pd.to_datetime([1, 1, 1, 1, 3, 3, 3, 0, 5], unit="s", utc=True)
    ticks = pd.DataFrame(
        {"ts": ts, "symbol": list("ABABABABA"), "price": np.arange(9.0), "size": 100}
    )
    for emit in ("final", "updates"):
        batch = tumbling_windows(
            ticks, "2s", lag="1s", allowed_lateness="1s", agg="ohlcv", emit=emit
        )
        for cut in range(len(ticks) + 1):
            chunked = run_in_chunks(
                ticks,
                "2s",
                [0, cut, cut, len(ticks)],
                lag="1s",
                allowed_lateness="1s",
                agg="ohlcv",
                emit=emit,
            )
            assert_same_as_batch(chunked, batch)


def _sample(n=400, seed=3):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, 60_000, n)) + rng.integers(-3000, 500, n)
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(t, unit="ms", utc=True),
            "symbol": rng.choice(["AAPL", "MSFT", "NVDA"], n),
            "price": rng.normal(100, 1, n).round(2),
            "size": rng.integers(1, 5, n) * 100,
        }
    )


@pytest.mark.parametrize("cut", [0, 137, 400])
def test_checkpoint_restore_in_new_process(tmp_path, cut):
    ticks = _sample()
    ticks.to_parquet(tmp_path / "ticks.parquet")
    opts = dict(lag="2s", allowed_lateness="1s", scope="key", agg="ohlcv", emit="updates")
    windower = Windower("5s", **opts)
    first = windower.push(ticks.iloc[:cut])
    windower.save(tmp_path / "state.ckpt")
    script = textwrap.dedent(
        f"""
        import pandas as pd
        from mdwindow.incremental import Windower
        ticks = pd.read_parquet({str(tmp_path / "ticks.parquet")!r})
        w = Windower.load({str(tmp_path / "state.ckpt")!r})
        a = w.push(ticks.iloc[{cut}:])
        b = w.flush()
        pd.concat([a.windows, b.windows], ignore_index=True).to_pickle({str(tmp_path / "w.pkl")!r})
        b.pending.to_pickle({str(tmp_path / "p.pkl")!r})
        a.late.to_pickle({str(tmp_path / "l.pkl")!r})
        """
    )
    subprocess.run(
        [sys.executable, "-c", script], check=True, env={"PYTHONHASHSEED": "777", "PATH": ""}
    )
    batch = tumbling_windows(ticks, "5s", **opts)
    windows = pd.concat([first.windows, pd.read_pickle(tmp_path / "w.pkl")], ignore_index=True)
    pd.testing.assert_frame_equal(windows, batch.windows, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_pickle(tmp_path / "p.pkl"), batch.pending)
    late = pd.concat([first.late, pd.read_pickle(tmp_path / "l.pkl")])
    pd.testing.assert_frame_equal(late, batch.late)


def test_restore_roundtrip_keeps_watermarks_and_pending():
    ticks = _sample()
    w = Windower("5s", lag="1s", scope="partition", partitions=2)
    w.push(ticks.iloc[:250])
    again = Windower.restore(w.checkpoint())
    pd.testing.assert_series_equal(again.watermark, w.watermark)
    pd.testing.assert_frame_equal(again.pending(), w.pending())
    assert again.open_windows == w.open_windows > 0
    assert again.rows_seen == 250


def test_corrupted_and_foreign_checkpoints_are_refused():
    w = Windower("5s", lag="1s")
    w.push(_sample(50))
    blob = w.checkpoint()
    with pytest.raises(CheckpointError, match="not an mdwindow checkpoint"):
        Windower.restore(b"PK\x03\x04 something else")
    damaged = bytearray(blob)
    damaged[-20] ^= 0xFF
    with pytest.raises(CheckpointError, match="corrupted"):
        Windower.restore(bytes(damaged))
    with pytest.raises(CheckpointError, match="corrupted"):
        Windower.restore(blob[:-10])
    with pytest.raises(TypeError, match="bytes"):
        Windower.restore("not bytes")


def test_callable_aggregates_must_be_passed_again():
    spread = {"spread": ("price", lambda s: s.max() - s.min())}
    w = Windower("5s", agg=spread)
    w.push(_sample(30))
    blob = w.checkpoint()
    with pytest.raises(CheckpointError, match="spread"):
        Windower.restore(blob)
    restored = Windower.restore(blob, agg=spread)
    assert restored.pending()["spread"].notna().all()


def test_save_is_atomic_and_load_continues(tmp_path):
    w = Windower("5s", lag="1s")
    w.push(_sample(100))
    path = w.save(tmp_path / "ckpt.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.bin"]
    assert Windower.load(path).rows_seen == 100


@pytest.mark.parametrize(
    "bad, error",
    [
        (lambda c: c.drop(columns="ts"), KeyError),
        (lambda c: c.drop(columns="price"), KeyError),
        (lambda c: c.assign(ts=c["ts"].astype(str)), TypeError),
        (lambda c: c.assign(ts=c["ts"].astype("int64") // 10**6), TypeError),
    ],
)
def test_bad_chunk_changes_nothing(bad, error):
    ticks = _sample()
    opts = dict(lag="1s", allowed_lateness="1s", scope="key", agg="ohlcv")
    reference = run_in_chunks(ticks, "5s", [0, 150, 300, 400], **opts)
    w = Windower("5s", **opts)
    parts = [w.push(ticks.iloc[:150])]
    before = w.checkpoint()
    with pytest.raises(error):
        w.push(bad(ticks.iloc[150:300]))
    assert w.checkpoint() == before
    parts += [w.push(ticks.iloc[150:300]), w.push(ticks.iloc[300:]), w.flush()]
    windows = pd.concat([p.windows for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(windows, reference["windows"])


def test_time_kind_must_not_change_between_chunks():
    ticks = _sample(20)
    w = Windower("5s")
    w.push(ticks.iloc[:10])
    ints = ticks.iloc[10:].assign(ts=ticks["ts"].iloc[10:].astype("int64"))
    w2 = Windower("5s", time_unit=None)
    del w2
    with pytest.raises(TypeError, match="time"):
        w.push(ints)


def test_arrival_time_chunks_must_come_in_order():
    ticks = _sample(20).assign(recv=pd.date_range("2024-01-01", periods=20, freq="s", tz="UTC"))
    w = Windower("5s", arrival_time="recv")
    w.push(ticks.iloc[10:])
    with pytest.raises(ValueError, match="arrival order"):
        w.push(ticks.iloc[:10])


def test_push_after_flush_is_an_error():
    w = Windower("5s")
    w.flush()
    with pytest.raises(RuntimeError, match="flushed"):
        w.push(_sample(5))


def test_state_stays_flat_over_a_long_replay():
    """After the first chunks, the state holds only open windows, not the day."""
    from mdwindow.synth import generate_ticks

    ticks = generate_ticks(200_000, symbols=20, seed=1, duration="40min")
    w = Windower("1s", lag="2s", scope="key", agg="ohlcv")
    sizes = []
    for start in range(0, len(ticks), 10_000):
        w.push(ticks.iloc[start : start + 10_000])
        sizes.append(w.state_nbytes)
    early, late = max(sizes[2:6]), max(sizes[-4:])
    assert late < 3 * early, sizes
    assert max(sizes) < 5_000_000, sizes
    assert w.open_windows < 20 * 40


@pytest.mark.parametrize("agg", [None, "ohlcv", {"first_venue": ("venue", "first")}])
def test_flush_without_any_push_gives_empty_frames(agg):
    w = Windower("5s", agg=agg, arrival_time="recv")
    end = w.flush()
    assert end.windows.empty and end.pending.empty and end.late.empty and end.trace.empty
    assert "window_start" in end.pending.columns


def test_frames_read_later_show_the_chunk_as_it_was_pushed():
    # late, rejected and trace are built when first read: changing the pushed
    # frame afterwards must not reach them.
    ticks = pd.DataFrame(
        {
            "ts": pd.to_datetime([10, 11, 0, None], unit="s", utc=True),
            "symbol": ["A", "A", "A", "A"],
            "price": [1.0, 2.0, 3.0, 4.0],
        }
    )
    windower = Windower("2s", agg={"last_price": ("price", "last")})
    pushed = windower.push(ticks)
    expected = tumbling_windows(ticks.copy(), "2s", agg={"last_price": ("price", "last")})
    ticks.loc[:, "price"] = -1.0
    ticks.loc[2, "symbol"] = "Z"
    pd.testing.assert_frame_equal(pushed.late, expected.late)
    pd.testing.assert_frame_equal(pushed.rejected, expected.rejected)
    pd.testing.assert_frame_equal(pushed.trace, expected.trace)
    assert pushed.late["price"].tolist() == [3.0]
    assert pushed.rejected["price"].tolist() == [4.0]
    # Read once, kept: the same object on the next read.
    assert pushed.late is pushed.late


def test_pushed_result_is_read_only_and_pickles_with_every_frame():
    import pickle

    ticks = pd.DataFrame(
        {"ts": pd.to_datetime([0, 5, 1], unit="s", utc=True), "symbol": ["A", "B", "A"]}
    )
    pushed = Windower("2s", key="symbol").push(ticks)
    with pytest.raises(AttributeError, match="read-only"):
        pushed.late = pushed.windows
    back = pickle.loads(pickle.dumps(pushed))
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(back, name), getattr(pushed, name))
    assert len(back.late) == 1 and back.late["arrival"].tolist() == [2]
