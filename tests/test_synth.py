"""Statistical and structural properties of the synthetic tick generator."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from numpy._core import _multiarray_umath as numpy_build

from mdwindow.synth import COLUMNS, DEFAULT_VENUES, REFERENCE_TICKERS, generate_ticks

N = 200_000
START = pd.Timestamp("2024-03-01 14:30:00+00:00")
SESSION = pd.Timedelta("6.5h")
DATA_DIR = Path(__file__).resolve().parents[1] / "data"
MESSAGE_COLUMNS = ["ts", "symbol", "price", "size", "venue"]  # all but recv_ts


@pytest.fixture(scope="module")
def ticks() -> pd.DataFrame:
    return generate_ticks(N, seed=11)


def delays(frame: pd.DataFrame) -> pd.Series:
    return frame["recv_ts"] - frame["ts"]


def seconds(span: pd.Timedelta) -> float:
    return span.total_seconds()


def session_tenths(frame: pd.DataFrame) -> np.ndarray:
    fraction = (frame["ts"] - START) / SESSION
    return np.histogram(fraction, bins=10, range=(0.0, 1.0))[0]


def load_make_samples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_samples", DATA_DIR / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def readme_row_count(file_name: str) -> int:
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"`{re.escape(file_name)}`\s*\|\s*([\d,]+)\s*\|", readme)
    assert match, f"data/README.md has no row-count table entry for {file_name}"
    return int(match.group(1).replace(",", ""))


# --- shape and types -------------------------------------------------------


def test_columns_dtypes_and_index(ticks: pd.DataFrame) -> None:
    assert tuple(ticks.columns) == COLUMNS
    assert ticks["ts"].dtype == "datetime64[ns, UTC]"
    assert ticks["recv_ts"].dtype == "datetime64[ns, UTC]"
    assert pd.api.types.is_string_dtype(ticks["symbol"])
    assert pd.api.types.is_string_dtype(ticks["venue"])
    assert ticks["price"].dtype == np.float64
    assert ticks["size"].dtype == np.int64
    pd.testing.assert_index_equal(ticks.index, pd.RangeIndex(N))


@pytest.mark.parametrize("n", [0, 1, 2, 1_000])
def test_returns_exactly_n_rows(n: int) -> None:
    frame = generate_ticks(n, duplicate_rate=0.5, bad_row_rate=0.5)
    assert len(frame) == n
    assert tuple(frame.columns) == COLUMNS
    assert frame["ts"].dtype == "datetime64[ns, UTC]"


def test_rows_in_arrival_order(ticks: pd.DataFrame) -> None:
    assert ticks["recv_ts"].is_monotonic_increasing
    # Arrival order is not event order: stalls and the lagging venue reorder.
    assert not ticks["ts"].is_monotonic_increasing


def test_receive_never_precedes_event(ticks: pd.DataFrame) -> None:
    assert (ticks["recv_ts"] >= ticks["ts"]).all()


def test_event_times_fall_in_session(ticks: pd.DataFrame) -> None:
    assert ticks["ts"].min() >= START
    assert ticks["ts"].max() < START + SESSION


def test_naive_start_is_utc_and_duration_is_honoured() -> None:
    frame = generate_ticks(2_000, start="2024-06-03 13:30", duration="10min")
    start = pd.Timestamp("2024-06-03 13:30", tz="UTC")
    assert frame["ts"].min() >= start
    assert frame["ts"].max() < start + pd.Timedelta("10min")


# --- activity ---------------------------------------------------------------


def test_activity_is_zipf_skewed(ticks: pd.DataFrame) -> None:
    shares = ticks["symbol"].value_counts(normalize=True)
    expected_top = 1 / (np.arange(1, 21) ** -1.1).sum()  # about 0.31
    assert shares.index[0] == "SPY"  # rank follows the symbol list
    assert shares.iloc[0] == pytest.approx(expected_top, abs=0.01)
    assert shares.iloc[0] > 4 / 20
    assert shares.iloc[:4].sum() > 0.5  # top 20% of symbols
    assert len(shares) == 20


def test_zero_zipf_exponent_is_even() -> None:
    shares = generate_ticks(100_000, zipf_exponent=0.0)["symbol"].value_counts(normalize=True)
    assert shares.max() < 1.1 / 20
    assert shares.min() > 0.9 / 20


def test_intraday_intensity_is_u_shaped(ticks: pd.DataFrame) -> None:
    tenths = session_tenths(ticks)
    middle = tenths[4:6].mean()
    # Density 1 + 3(2u - 1)^2: the outer tenths average 3.4x the middle ones.
    assert tenths[0] > 2.5 * middle
    assert tenths[-1] > 2.5 * middle
    assert tenths[0] == pytest.approx(tenths[-1], rel=0.05)


def test_flat_intraday_without_u() -> None:
    tenths = session_tenths(generate_ticks(100_000, intraday_u=0.0))
    assert tenths.max() / tenths.min() < 1.1


# --- prices and sizes -------------------------------------------------------


def test_prices_on_tick_grid_and_positive(ticks: pd.DataFrame) -> None:
    prices = ticks["price"].to_numpy()
    assert (prices > 0).all()
    # Exact: each price is the float nearest its two-decimal value.
    np.testing.assert_array_equal(prices, np.round(prices, 2))


def test_coarser_tick_grid() -> None:
    prices = generate_ticks(20_000, tick_size=0.05)["price"].to_numpy()
    in_ticks = prices / 0.05
    np.testing.assert_allclose(in_ticks, np.rint(in_ticks), atol=1e-9)


def test_prices_start_from_reference_and_walk(ticks: pd.DataFrame) -> None:
    reference = dict(REFERENCE_TICKERS)
    by_event_time = ticks.dropna(subset=["ts"]).sort_values("ts", kind="stable")
    first = by_event_time.groupby("symbol")["price"].first()
    for symbol, price in first.items():
        assert price == pytest.approx(reference[symbol], rel=0.002)
    moves = by_event_time.groupby("symbol")["price"].agg(lambda path: path.max() - path.min())
    assert (moves > 0.05).all()


def test_zero_volatility_holds_start_price() -> None:
    frame = generate_ticks(5_000, volatility=0.0)
    expected = frame["symbol"].map(dict(REFERENCE_TICKERS))
    pd.testing.assert_series_equal(frame["price"], expected, check_names=False)


def test_sizes_are_lots_with_a_heavy_tail(ticks: pd.DataFrame) -> None:
    sizes = ticks["size"]
    assert (sizes > 0).all()
    odd = sizes % 100 != 0
    assert odd.mean() == pytest.approx(0.05, abs=0.005)
    assert sizes[odd].max() < 100
    round_lots = sizes[~odd] // 100
    # P(lots >= k) = k ** -1.5: one lot two thirds of the time, yet big blocks.
    assert (round_lots == 1).mean() == pytest.approx(1 - 2**-1.5, abs=0.01)
    assert (round_lots >= 100).mean() == pytest.approx(100**-1.5, rel=0.3)
    assert sizes.max() <= 1_000 * 100


def test_no_odd_lots_when_disabled() -> None:
    sizes = generate_ticks(20_000, odd_lot_rate=0.0, lot_size=50)["size"]
    assert (sizes % 50 == 0).all()
    assert (sizes > 0).all()


# --- delivery ---------------------------------------------------------------


def test_delay_median_on_prompt_venues(ticks: pd.DataFrame) -> None:
    prompt = ticks[ticks["venue"] != "IEXG"]
    assert seconds(delays(prompt).median()) == pytest.approx(0.003, rel=0.03)
    for _, venue_rows in prompt.groupby("venue"):
        assert seconds(delays(venue_rows).median()) == pytest.approx(0.003, rel=0.05)


def test_delay_median_and_spread_follow_parameters() -> None:
    frame = generate_ticks(50_000, delay_median="10ms", delay_sigma=0.2, lagging_venue=None)
    delay_seconds = delays(frame).dt.total_seconds()
    assert delay_seconds.median() == pytest.approx(0.010, rel=0.03)
    # The inner quartiles of a lognormal sit at median * exp(-/+0.674 sigma).
    ratio = delay_seconds.quantile(0.75) / delay_seconds.quantile(0.25)
    assert ratio == pytest.approx(np.exp(2 * 0.674 * 0.2), rel=0.03)


def test_lagging_venue_runs_behind_by_venue_lag(ticks: pd.DataFrame) -> None:
    medians = delays(ticks).groupby(ticks["venue"]).median()
    assert set(medians.index) == set(DEFAULT_VENUES)
    gap = medians["IEXG"] - medians.drop("IEXG").median()
    assert seconds(gap) == pytest.approx(1.5, abs=0.001)


def test_no_lagging_venue() -> None:
    frame = generate_ticks(50_000, lagging_venue=None)
    medians = delays(frame).groupby(frame["venue"]).median()
    assert medians.max() < pd.Timedelta("4ms")


def test_stalls_deliver_stale_bursts(ticks: pd.DataFrame) -> None:
    prompt = ticks[ticks["venue"] != "IEXG"]
    stale = prompt[delays(prompt) > pd.Timedelta("1s")]
    assert len(stale) > 50
    assert delays(stale).max() < pd.Timedelta("25s")  # stalls last 1-10 s
    # A burst arrives within a few ms once the stall ends.
    gaps = stale["recv_ts"].diff().dropna()
    assert (gaps < pd.Timedelta("50ms")).mean() > 0.5
    # ... after newer prints from other venues: late data for a watermark.
    newest_seen = ticks["ts"].cummax()
    behind = newest_seen.loc[stale.index] - stale["ts"]
    assert (behind > pd.Timedelta("1s")).mean() > 0.9


def test_no_stale_arrivals_without_stalls() -> None:
    frame = generate_ticks(50_000, stall_rate=0.0, lagging_venue=None)
    assert delays(frame).max() < pd.Timedelta("200ms")


def test_stall_length_follows_stall_duration() -> None:
    frame = generate_ticks(50_000, stall_rate=0.01, stall_duration=("2s", "3s"))
    prompt = frame[frame["venue"] != "IEXG"]
    stale = delays(prompt)[delays(prompt) > pd.Timedelta("500ms")]
    assert len(stale) > 0
    # Overlapping stalls on one venue merge, so allow up to two back to back.
    assert stale.max() < pd.Timedelta("6.1s")


# --- noise ------------------------------------------------------------------


def test_duplicate_rate(ticks: pd.DataFrame) -> None:
    copies = ticks.duplicated(subset=MESSAGE_COLUMNS)
    assert copies.mean() == pytest.approx(0.001, rel=0.3)
    # About half repeat the whole row back to back ...
    whole_row = ticks.duplicated()
    assert whole_row.sum() == pytest.approx(copies.sum() / 2, rel=0.35)
    assert ticks.eq(ticks.shift()).all(axis=1)[whole_row].all()
    # ... the rest are redelivered shortly after the original.
    deliveries = ticks[ticks.duplicated(subset=MESSAGE_COLUMNS, keep=False)]
    arrivals = deliveries.groupby(MESSAGE_COLUMNS)["recv_ts"]
    redelivery = arrivals.max() - arrivals.min()
    assert (redelivery < pd.Timedelta("2s")).all()
    assert (redelivery > pd.Timedelta(0)).mean() == pytest.approx(0.5, abs=0.15)


def test_no_duplicates_when_disabled() -> None:
    frame = generate_ticks(50_000, duplicate_rate=0.0)
    assert not frame.duplicated(subset=MESSAGE_COLUMNS).any()


def test_no_bad_rows_by_default(ticks: pd.DataFrame) -> None:
    assert ticks["ts"].notna().all()
    assert ticks["symbol"].notna().all()


def test_bad_rows_of_both_kinds_when_asked() -> None:
    frame = generate_ticks(50_000, bad_row_rate=0.01)
    missing_ts = frame["ts"].isna()
    missing_symbol = frame["symbol"].isna()
    assert (missing_ts | missing_symbol).mean() == pytest.approx(0.01, rel=0.2)
    assert missing_ts.sum() > 100
    assert missing_symbol.sum() > 100
    assert not (missing_ts & missing_symbol).any()
    assert frame["recv_ts"].notna().all()
    good = ~missing_ts
    assert (frame.loc[good, "recv_ts"] >= frame.loc[good, "ts"]).all()


# --- symbols and determinism ------------------------------------------------


def test_symbol_names_from_count_and_list() -> None:
    names = set(generate_ticks(20_000, symbols=25, zipf_exponent=0.0)["symbol"])
    assert names == {name for name, _ in REFERENCE_TICKERS} | {
        f"SYM{i:03d}" for i in range(20, 25)
    }
    frame = generate_ticks(2_000, symbols=["ABC", "XYZ"], venues=["XNAS"], lagging_venue=None)
    assert set(frame["symbol"]) == {"ABC", "XYZ"}
    assert set(frame["venue"]) == {"XNAS"}
    assert frame["symbol"].value_counts().index[0] == "ABC"


def test_same_seed_same_frame_different_seed_different() -> None:
    first = generate_ticks(20_000, seed=5, bad_row_rate=0.01)
    pd.testing.assert_frame_equal(first, generate_ticks(20_000, seed=5, bad_row_rate=0.01))
    other = generate_ticks(20_000, seed=6, bad_row_rate=0.01)
    assert not first.equals(other)
    assert not first["price"].equals(other["price"])


def test_same_seed_same_frame_in_another_process() -> None:
    here = pd.util.hash_pandas_object(generate_ticks(20_000, seed=5), index=True).sum()
    code = (
        "import pandas as pd; from mdwindow.synth import generate_ticks; "
        "print(pd.util.hash_pandas_object(generate_ticks(20_000, seed=5), index=True).sum())"
    )
    there = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=DATA_DIR.parent,
    ).stdout
    assert int(there) == int(here)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"n": -1}, "n"),
        ({"n": 10, "symbols": 0}, "symbols"),
        ({"n": 10, "symbols": "SPY"}, "symbols"),
        ({"n": 10, "symbols": ["A", "A"]}, "symbols"),
        ({"n": 10, "duration": "0s"}, "duration"),
        ({"n": 10, "tick_size": 0.0}, "tick_size"),
        ({"n": 10, "lagging_venue": "XLON"}, "lagging_venue"),
        ({"n": 10, "duplicate_rate": 0.9}, "duplicate_rate"),
        ({"n": 10, "bad_row_rate": -0.1}, "bad_row_rate"),
        ({"n": 10, "stall_duration": ("5s", "1s")}, "stall_duration"),
        ({"n": 10, "delay_median": "soon"}, "delay_median"),
        ({"n": 10, "size_exponent": 1.0}, "size_exponent"),
    ],
)
def test_invalid_arguments_are_named(arguments: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=rf"^{named} "):
        generate_ticks(**arguments)


# --- sample files -----------------------------------------------------------


def test_parquet_sample_matches_readme_and_generator() -> None:
    path = DATA_DIR / "ticks_sample.parquet"
    stored = pd.read_parquet(path)
    assert len(stored) == readme_row_count(path.name)
    assert stored["ts"].dtype == "datetime64[ns, UTC]"
    assert stored["recv_ts"].dtype == "datetime64[ns, UTC]"
    assert path.stat().st_size < 5_000_000
    # Written by another process: regenerating must give the very same frame.
    pd.testing.assert_frame_equal(stored, load_make_samples().sample_frame(path.name))


def test_csv_sample_matches_readme_and_generator() -> None:
    path = DATA_DIR / "ticks_small.csv"
    assert re.match(
        r"ts,recv_ts,symbol,price,size,venue\n"
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+00:00,",
        path.read_text(encoding="utf-8"),
    )
    stored = pd.read_csv(path, parse_dates=["ts", "recv_ts"])
    assert len(stored) == readme_row_count(path.name)
    assert stored["ts"].dtype == "datetime64[ns, UTC]"
    regenerated = load_make_samples().sample_frame(path.name)
    pd.testing.assert_frame_equal(stored, regenerated, check_dtype=False)


def test_lagging_symbols_print_only_through_the_lagging_venue():
    ticks = generate_ticks(20_000, symbols=10, seed=5, duration="10min", lagging_symbols=2)
    venues = ticks.dropna(subset=["symbol"]).groupby("symbol")["venue"].unique()
    only_lagging = [s for s, v in venues.items() if list(v) == ["IEXG"]]
    assert len(only_lagging) == 2
    # They are the two least active symbols, and their feed runs behind.
    counts = ticks["symbol"].value_counts()
    assert set(only_lagging) == set(counts.index[-2:])
    delay = (ticks["recv_ts"] - ticks["ts"]).dt.total_seconds()
    assert delay[ticks["symbol"].isin(only_lagging)].median() > 1.4


def test_lagging_symbols_needs_a_lagging_venue():
    with pytest.raises(ValueError, match="lagging_symbols"):
        generate_ticks(100, symbols=5, lagging_venue=None, lagging_symbols=1)


# --- the same ticks on every CPU --------------------------------------------

# numpy picks SIMD kernels for exp, log, power, sinh ... by CPU at import, and
# glibc picks FMA variants of exp and pow; they round differently. Switching
# them off makes this machine compute like an older CPU. Target names differ
# between numpy versions (X86_V4 in 2.4, AVX512F ... before); names this numpy
# does not know are left out.
AVX512_TARGETS = (
    "X86_V4",
    "AVX512F",
    "AVX512CD",
    "AVX512_KNL",
    "AVX512_KNM",
    "AVX512_SKX",
    "AVX512_CLX",
    "AVX512_CNL",
    "AVX512_ICL",
    "AVX512_SPR",
)
CPU_SETTINGS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "no AVX-512": (AVX512_TARGETS, None),
    "no AVX-512, AVX2 or FMA": (
        AVX512_TARGETS + ("X86_V3", "AVX2", "FMA3"),
        # Feature names of glibc >= 2.33 and of older ones; unknown ones are ignored.
        "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX2_Usable,-FMA_Usable",
    ),
}
# Run in a fresh interpreter, where the environment decides numpy's kernels.
DIGEST_SCRIPT = """
import hashlib, importlib.util, json, sys
import pandas as pd
from numpy._core import _multiarray_umath as numpy_build
from mdwindow.synth import generate_ticks

def digest(frame):
    hashed = hashlib.sha256()
    for name, column in frame.items():
        hashed.update(name.encode())
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            hashed.update(column.array.asi8.tobytes())  # NaT included
        elif pd.api.types.is_string_dtype(column):
            hashed.update(chr(0).join(column.fillna(chr(30))).encode())
        else:
            hashed.update(column.to_numpy().tobytes())
    return hashed.hexdigest()

spec = importlib.util.spec_from_file_location("make_samples", "data/make_samples.py")
make_samples = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_samples)
frames = {
    "stalls, lagging venue, duplicates, bad rows": dict(
        n=200_000, seed=17, stall_rate=1 / 30, duplicate_rate=0.01, bad_row_rate=0.01,
        lagging_symbols=2,
    ),
    "defaults": dict(n=200_000),
    "unknown names, coarse ticks, other laws": dict(
        n=50_000, symbols=60, seed=3, zipf_exponent=1.4, intraday_u=8.0, tick_size=0.05,
        size_exponent=2.1, delay_sigma=1.2,
    ),
    **make_samples.SAMPLES,
}
disabled = sys.argv[1].split()
print(json.dumps({
    "still_enabled": [name for name in disabled if numpy_build.__cpu_features__.get(name)],
    "digests": {name: digest(generate_ticks(**arguments)) for name, arguments in frames.items()},
}))
"""


def frame_digests(disabled: tuple[str, ...], glibc_tunables: str | None) -> dict:
    """Digests of several frames generated with some CPU features switched off."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES", "GLIBC_TUNABLES")
    }
    if disabled:
        environment["NPY_DISABLE_CPU_FEATURES"] = " ".join(disabled)
    if glibc_tunables:
        environment["GLIBC_TUNABLES"] = glibc_tunables
    child = subprocess.run(
        [sys.executable, "-c", DIGEST_SCRIPT, " ".join(disabled)],
        capture_output=True,
        text=True,
        cwd=DATA_DIR.parent,
        env=environment,
    )
    if child.returncode and "baseline" in child.stderr:
        # numpy refuses to disable what it was compiled to assume.
        pytest.skip(child.stderr.strip().splitlines()[-1])
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout)


@pytest.fixture(scope="module")
def digests_with_every_cpu_feature() -> dict[str, str]:
    return frame_digests((), None)["digests"]


@pytest.mark.parametrize("setting", list(CPU_SETTINGS))
def test_same_ticks_without_some_cpu_features(
    setting: str, digests_with_every_cpu_feature: dict[str, str]
) -> None:
    targets, glibc_tunables = CPU_SETTINGS[setting]
    known = set(numpy_build.__cpu_dispatch__) | set(numpy_build.__cpu_baseline__)
    disabled = tuple(name for name in targets if name in known)
    if not any(numpy_build.__cpu_features__.get(name) for name in disabled):
        pytest.skip(f"this CPU has none of {targets}, so there is nothing to switch off")
    child = frame_digests(disabled, glibc_tunables)
    assert child["still_enabled"] == []
    assert child["digests"] == digests_with_every_cpu_feature
