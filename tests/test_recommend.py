"""``recommend`` against ``tumbling_windows`` and ``sweep``: the point, its costs, the keys.

The recommended point, run through ``tumbling_windows``, gives exactly the
drop rate, late-accepted rate and latencies reported; no point of the grid
(``sweep`` over the same lags and latenesses) with a smaller latency meets
the target; the forcing keys are those whose own drops, in a
``tumbling_windows`` run at the forcing wait, exceed the target.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import mdwindow  # noqa: E402
from mdwindow import cli, sweep, tumbling_windows  # noqa: E402
from mdwindow.core.options import OPTION_DEFAULTS  # noqa: E402
from mdwindow.plotting import STATUS_COLORS, plot_recommendation  # noqa: E402
from mdwindow.recommend import (  # noqa: E402
    Recommendation,
    TargetNotMet,
    pareto_frontier,
    recommend,
    recommend_from_grid,
)
from tests.strategies import tick_frames  # noqa: E402
from tests.test_sweep import oracle_row  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data"
SMALL_CSV = DATA / "ticks_small.csv"
DURATIONS = ["0s", "500ms", "1s", "2s", "3s", "5s"]
NEVER = pd.Timedelta.max


def frame(times, symbols="A") -> pd.DataFrame:
    """Ticks at whole seconds, in arrival order."""
    return pd.DataFrame({"ts": pd.to_datetime(times, unit="s", utc=True), "symbol": symbols})


def latency_key(value) -> pd.Timedelta:
    """A latency to compare: NaT (no window emitted) after every other."""
    return NEVER if pd.isna(value) else pd.Timedelta(value)


def loss_of(grid_row: pd.Series, objective: str, perfect: int) -> float:
    if objective == "latency":
        return float(grid_row["drop_rate"])
    return grid_row["incomplete_windows"] / perfect if perfect else float("nan")


def per_key_losses(ticks, spec, wait, key="symbol", **opts) -> pd.DataFrame:
    """Each key's valid rows, drops, windows and incomplete windows at a wait, from one
    ``tumbling_windows`` run (drops depend on lag + lateness only)."""
    result = tumbling_windows(ticks, spec, lag=wait, allowed_lateness="0s", key=key, **opts)
    trace = result.trace
    valid = (trace["status"] != "rejected").to_numpy()
    rows = pd.DataFrame({"key": ticks[key].to_numpy(), "window": trace["window_start"].to_numpy()})
    rows = rows[valid]
    late = result.late
    out = pd.DataFrame(
        {
            "rows": rows.groupby("key").size(),
            "dropped": late.groupby(key).size() if len(late) else 0,
            "windows": rows.drop_duplicates().groupby("key").size(),
            "incomplete_windows": (
                late[[key, "window_start"]].drop_duplicates().groupby(key).size()
                if len(late)
                else 0
            ),
        }
    ).fillna(0)
    out["drop_rate"] = out["dropped"] / out["rows"]
    out["window_loss"] = out["incomplete_windows"] / out["windows"]
    return out


def check_recommendation(ticks, spec, rec: Recommendation, *, objective, target, **opts):
    """Everything ``recommend`` promises about its point, checked against the oracles."""
    # 1. The point, run through tumbling_windows, costs what was reported.
    expected = oracle_row(ticks, spec, rec.lag, rec.allowed_lateness, **opts)
    valid = expected.pop("_valid")
    assert rec.drop_rate == pytest.approx(expected["drop_rate"])
    assert rec.late_accepted_rate == pytest.approx(expected["late_accepted"] / valid)
    assert rec.completeness == pytest.approx(expected["completeness"])
    for name in ("latency_median", "latency_p99"):
        got, want = getattr(rec, name), expected[name]
        assert (pd.isna(got) and pd.isna(want)) or got == want, (name, got, want)
    # 2. It meets the target, and no point of the grid with a smaller latency does.
    lags = sorted(set(rec.grid["lag"]))
    latenesses = sorted(set(rec.grid["lateness"]))
    grid = sweep(ticks, spec, lags=lags, lateness=latenesses, **opts)
    perfect = grid.attrs["perfect_windows"]
    mine = grid[(grid["lag"] == rec.lag) & (grid["lateness"] == rec.allowed_lateness)]
    assert len(mine) == 1
    assert loss_of(mine.iloc[0], objective, perfect) <= target
    for _, point in grid.iterrows():
        if latency_key(point["latency_median"]) < latency_key(rec.latency_median):
            assert loss_of(point, objective, perfect) > target, point
    # ... and it is the first, in the documented order of preference, of those that do.
    meeting = [p for _, p in grid.iterrows() if loss_of(p, objective, perfect) <= target]
    first = min(
        meeting,
        key=lambda p: (
            latency_key(p["latency_median"]), loss_of(p, objective, perfect),
            latency_key(p["latency_p99"]), p["drop_rate"], p["lag"] + p["lateness"],
            p["lateness"],
        ),
    )  # fmt: skip
    assert (first["lag"], first["lateness"]) == (rec.lag, rec.allowed_lateness)
    # 3. The forcing keys: those whose own loss exceeds the target at the forcing wait,
    # the largest wait of the grid below the recommended one that misses the target.
    wait = grid["lag"] + grid["lateness"]
    losses = np.array([loss_of(p, objective, perfect) for _, p in grid.iterrows()])
    missing = wait[(wait < rec.lag + rec.allowed_lateness) & (losses > target)]
    assert rec.forcing_wait == (missing.max() if len(missing) else None)
    if rec.forcing_wait is None:
        assert len(rec.forcing_keys) == 0
        return
    keys = per_key_losses(ticks, spec, rec.forcing_wait, **opts)
    column = "drop_rate" if objective == "latency" else "window_loss"
    forcing = keys[keys[column] > target]
    assert len(forcing) >= 1  # the whole misses the target, so some key does
    got = rec.forcing_keys.set_index("symbol")
    assert set(got.index) == set(forcing.index)
    for name in ("rows", "dropped", "windows", "incomplete_windows"):
        assert got[name].to_dict() == forcing[name].astype(np.int64).to_dict(), name
    assert list(got[column]) == sorted(got[column], reverse=True)


@st.composite
def window_options(draw):
    """Scope, idle timeout, partitions and arrival time as recommend takes them."""
    scope = draw(st.sampled_from(["global", "key", "partition"]))
    opts = {"scope": scope}
    if scope == "partition" or draw(st.booleans()):
        opts["partitions"] = draw(st.integers(1, 3))
    if scope != "global" and draw(st.booleans()):
        opts["idle_timeout"] = draw(st.sampled_from(["0s", "1s", "3s"]))
    if draw(st.booleans()):
        opts["arrival_time"] = "recv"
    return opts


@given(
    ticks=tick_frames(),
    opts=window_options(),
    spec=st.sampled_from(["1s", "2s", "3s"]),
    target=st.sampled_from([0.0, 0.05, 0.1, 0.3]),
    objective=st.sampled_from(["latency", "completeness"]),
    lags=st.none() | st.lists(st.sampled_from(DURATIONS), min_size=1, max_size=4, unique=True),
    latenesses=st.none()
    | st.lists(st.sampled_from(DURATIONS), min_size=1, max_size=2, unique=True),
)
def test_the_recommended_point_is_what_tumbling_windows_gives(
    ticks, opts, spec, target, objective, lags, latenesses
):
    try:
        rec = recommend(
            ticks, spec, max_drop_rate=target, objective=objective, lags=lags,
            latenesses=latenesses, **opts,
        )  # fmt: skip
    except TargetNotMet:
        # Only a grid given by hand may miss the target, and then every point does.
        assert lags is not None or latenesses is not None
        grid = sweep(ticks, spec, lags=lags or ["0s"], lateness=latenesses or ["0s"], **opts)
        perfect = grid.attrs["perfect_windows"]
        if lags is not None and latenesses is not None:
            assert all(loss_of(p, objective, perfect) > target for _, p in grid.iterrows())
        return
    except ValueError as exc:
        assert "no valid rows" in str(exc)
        assert sweep(ticks, spec, lags=["0s"], lateness=["0s"], **opts)["drop_rate"].isna().all()
        return
    check_recommendation(ticks, spec, rec, objective=objective, target=target, **opts)


@settings(max_examples=60)
@given(
    ticks=tick_frames(allow_invalid=False),
    opts=window_options(),
    objective=st.sampled_from(["latency", "completeness"]),
)
def test_derived_grids_always_hold_a_point_that_drops_nothing(ticks, opts, objective):
    if len(ticks) == 0:
        return
    rec = recommend(ticks, "2s", max_drop_rate=0, objective=objective, **opts)
    assert rec.drop_rate == 0 and rec.completeness == 1
    check_recommendation(ticks, "2s", rec, objective=objective, target=0.0, **opts)


def test_zero_target_gives_the_smallest_setting_that_drops_nothing():
    # Window [0, 2) loses its row at t=1 unless the wait exceeds 4s - 2s = 2s.
    ticks = frame([0, 3, 4, 1, 6, 9])
    grid = ["0s", "1s", "2s", "3s", "5s"]
    rec = recommend(ticks, "2s", max_drop_rate=0, lags=grid, latenesses=["0s"])
    assert (rec.lag, rec.allowed_lateness, rec.drop_rate) == (
        pd.Timedelta("3s"),
        pd.Timedelta(0),
        0,
    )
    run = tumbling_windows(ticks, "2s", lag="2s")
    assert run.summary()["dropped"] == 1  # the next smaller lag drops the row
    assert rec.forcing_wait == pd.Timedelta("2s")
    assert rec.forcing_keys[["symbol", "rows", "dropped"]].values.tolist() == [["A", 6, 1]]
    # Left to the data, the grid holds the exact smallest wait that drops nothing.
    derived = recommend(ticks, "2s", max_drop_rate=0)
    assert derived.lag + derived.allowed_lateness == pd.Timedelta("2000000001ns").ceil("10ms")
    assert derived.drop_rate == 0


def test_no_point_meets_the_target_names_the_best_point_and_what_to_do():
    # t=3 (slack 0) is dropped at wait 0 only; t=1 (slack 2s) at every wait of the grid.
    ticks = frame([0, 4, 3, 1, 6, 9])
    with pytest.raises(TargetNotMet) as caught:
        recommend(ticks, "2s", max_drop_rate=0, lags=["0s", "1s"], latenesses=["0s", "500ms"])
    message = str(caught.value)
    assert message.startswith("max_drop_rate: no point of the grid has at most 0% ")
    # The best loss, 1 of 6, first reached (in the order of preference) at the
    # smallest wait that keeps t=3.
    assert "the best it reached is 16.7% at lag=0s, allowed_lateness=500ms" in message
    assert "larger lags or latenesses" in message and "higher max_drop_rate" in message
    assert isinstance(caught.value, ValueError)


def test_no_valid_rows_is_its_own_error():
    ticks = frame([0, 1]).assign(symbol=None)
    with pytest.raises(ValueError, match="no valid rows"):
        recommend(ticks, "1s")


def test_ties_go_to_the_smaller_wait_then_the_smaller_lateness():
    # t=1 (slack 1s) is kept from wait 2s on: (0s, 2s), (1s, 1s) and (2s, 0s) drop the
    # same rows and emit at the same rows; the one accepting no row late is picked.
    ticks = frame([0, 3, 1, 4, 6, 9])
    three = ["0s", "1s", "2s"]
    rec = recommend(ticks, "2s", max_drop_rate=0, lags=three, latenesses=three)
    assert (rec.lag, rec.allowed_lateness) == (pd.Timedelta("2s"), pd.Timedelta(0))
    assert rec.late_accepted_rate == 0
    grid = rec.grid
    tied = grid[
        (grid["latency_median"] == rec.latency_median)
        & (grid["latency_p99"] == rec.latency_p99)
        & (grid["drop_rate"] == rec.drop_rate)
    ]
    assert sorted(zip(tied["lag"], tied["lateness"], strict=True)) == [
        (pd.Timedelta(0), pd.Timedelta("2s")),
        (pd.Timedelta("1s"), pd.Timedelta("1s")),
        (pd.Timedelta("2s"), pd.Timedelta(0)),
    ]
    assert grid["recommended"].sum() == 1


def test_completeness_bounds_the_share_of_incomplete_windows():
    # Six rows in [0, 2), one in each of four more windows; t=3 comes after t=6 (slack
    # 2s): at waits up to 2s it is dropped, 1 of 11 rows but 1 of 5 windows.
    ticks = frame([0, 0, 0, 0, 0, 0, 2, 4, 6, 3, 8])
    grid = {"lags": ["0s", "1s", "3s"], "latenesses": ["0s"], "max_drop_rate": 0.1}
    by_rows = recommend(ticks, "2s", objective="latency", **grid)
    assert by_rows.lag == pd.Timedelta(0) and by_rows.drop_rate == pytest.approx(1 / 11)
    assert by_rows.completeness == pytest.approx(0.8)
    by_windows = recommend(ticks, "2s", objective="completeness", **grid)
    assert by_windows.lag == pd.Timedelta("3s") and by_windows.completeness == 1.0
    assert by_windows.forcing_wait == pd.Timedelta("1s")
    assert by_windows.forcing_keys[
        ["symbol", "windows", "incomplete_windows"]
    ].values.tolist() == [["A", 5, 1]]


def test_recommend_from_a_sweep_frame_gives_the_same_point():
    ticks = pd.read_csv(SMALL_CSV, parse_dates=["ts", "recv_ts"])
    lags, latenesses = ["0s", "1s", "2s", "4s", "8s"], ["0s", "1s"]
    rec = recommend(ticks, "1s", lags=lags, latenesses=latenesses, arrival_time="recv_ts")
    grid = sweep(ticks, "1s", lags=lags, lateness=latenesses, scope="key",
                 arrival_time="recv_ts")  # fmt: skip
    from_grid = recommend_from_grid(grid)
    assert from_grid == rec  # equality leaves the frames out
    assert from_grid.forcing_keys is None and rec.forcing_keys is not None
    assert rec.latency_clock == "arrival_time" and rec.scope == "key"


def test_polars_and_arrow_ticks_give_the_same_recommendation():
    pl = pytest.importorskip("polars")
    ticks = pd.read_csv(SMALL_CSV, parse_dates=["ts", "recv_ts"])
    rec = recommend(ticks, "1s", scope="partition", partitions=3, idle_timeout="2s")
    for other in (pl.from_pandas(ticks), pa.Table.from_pandas(ticks)):
        again = recommend(other, "1s", scope="partition", partitions=3, idle_timeout="2s")
        assert again == rec
        assert again.forcing_keys.equals(rec.forcing_keys)


def test_pareto_frontier_keeps_the_points_nothing_beats():
    grid = pd.DataFrame(
        {
            "latency_median": pd.to_timedelta(["1s", "2s", "2s", "3s", "3s", None]),
            "drop_rate": [0.5, 0.2, 0.1, 0.1, 0.0, 0.0],
        }
    )
    # (2s, 0.2) loses to (2s, 0.1); (3s, 0.1) to (2s, 0.1); NaT emits never.
    assert pareto_frontier(grid).tolist() == [True, False, True, False, True, False]


def test_signature_follows_the_options_record_but_for_scope():
    parameters = inspect.signature(recommend).parameters
    spelled = {name: p.default for name, p in parameters.items() if name in OPTION_DEFAULTS}
    assert spelled.pop("scope") == "key"  # the default: one watermark per key
    assert spelled == {name: OPTION_DEFAULTS[name] for name in spelled}
    assert set(spelled) == {"time", "key", "arrival_time", "partitions", "idle_timeout",
                            "time_unit", "hash", "seed"}  # fmt: skip


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"max_drop_rate": 1.5}, ValueError, "max_drop_rate: got 1.5"),
        ({"max_drop_rate": "1%"}, TypeError, "max_drop_rate: got '1%'"),
        ({"max_drop_rate": True}, TypeError, "max_drop_rate"),
        ({"objective": "speed"}, ValueError, "objective: got 'speed'"),
        ({"lags": []}, ValueError, "lags: got an empty sequence"),
        ({"latenesses": ["-1s"]}, ValueError, "latenesses: got -1 days"),
        ({"lags": [5]}, TypeError, "lags: got the bare number 5"),
        ({"scope": "sideways"}, ValueError, "scope: got 'sideways'"),
        ({"lag": "1s"}, TypeError, "lag"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        recommend(frame([0, 1]), "1s", **kwargs)


def test_text_html_and_frame():
    rec = recommend(frame([0, 3, 4, 1, 6, 9]), "2s", max_drop_rate=0, lags=["0s", "2s", "3s"])
    text = repr(rec)
    assert text.splitlines()[0] == "Recommendation for 2s windows, scope 'key', drop rate <= 0%:"
    assert "  lag               3s" in text and "  allowed_lateness  0s" in text
    assert "1 key above the target at lag + lateness = 2s (drop rate):\n" in text
    assert "A 16.7%" in text
    html = rec._repr_html_()
    assert html.startswith("<table><caption>Recommendation for 2s windows") and "3s" in html
    row = rec.to_frame()
    assert len(row) == 1
    assert row.loc[0, "lag"] == pd.Timedelta("3s") and row.loc[0, "forcing_keys"] == 1
    assert row["latency_median"].dtype == np.dtype("timedelta64[ns]")


# --- the figure ---------------------------------------------------------------


def test_plot_draws_the_frontier_the_pick_and_the_target(tmp_path):
    ticks = pd.read_csv(SMALL_CSV, parse_dates=["ts", "recv_ts"])
    rec = recommend(ticks, "1s", arrival_time="recv_ts")
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    ax = rec.plot(ax=figure.add_subplot())
    assert ax is figure.axes[0]
    assert ax.get_xlabel() == "median emission latency (s after window end, arrival-time clock)"
    assert ax.get_ylabel() == "dropped rows (% of valid rows)"
    assert "lag 6.47s" in ax.get_title() and "1s windows, scope 'key', drop rate <= 0.1%" in (
        ax.get_title()
    )
    star = next(c for c in ax.collections if c.get_gid() == "recommended")
    x, y = star.get_offsets()[0]
    assert x == pytest.approx(rec.latency_median.total_seconds())
    assert y == pytest.approx(rec.drop_rate * 100)
    target = next(line for line in ax.lines if line.get_gid() == "target")
    assert target.get_ydata()[0] == pytest.approx(0.1)
    assert matplotlib.colors.to_hex(target.get_color()) == STATUS_COLORS["dropped"].lower()
    frontier = next(line for line in ax.lines if line.get_gid() == "frontier")
    assert len(frontier.get_xdata()) == int(rec.grid["frontier"].sum())
    points = next(c for c in ax.collections if c.get_gid() == "grid")
    assert len(points.get_offsets()) == int(rec.grid["latency_median"].notna().sum())
    figure.savefig(tmp_path / "recommendation.png")
    assert (tmp_path / "recommendation.png").stat().st_size > 10_000


def test_plot_function_uses_the_current_axes_and_shows_window_loss():
    import matplotlib.pyplot as plt

    rec = recommend(frame([0, 3, 4, 1, 6, 9]), "2s", objective="completeness")
    figure = plt.figure()
    try:
        ax = plot_recommendation(rec)
        assert ax is plt.gca()
        assert ax.get_ylabel() == "incomplete windows (% of windows)"
        assert "share of incomplete windows <= 0.1%" in ax.get_title()
    finally:
        plt.close(figure)
    assert mdwindow.plot_recommendation is plot_recommendation


# --- the command line ---------------------------------------------------------


def test_cli_prints_the_recommendation(capsys):
    args = ["recommend", str(SMALL_CSV), "--size", "1s", "--arrival-time", "recv_ts"]
    assert cli.main([*args, "--max-drop-rate", "0.1%", "--frontier"]) == 0
    out = capsys.readouterr().out
    ticks = pd.read_csv(SMALL_CSV, parse_dates=["ts", "recv_ts"])
    rec = recommend(ticks, "1s", arrival_time="recv_ts")
    assert str(rec) in out
    assert "Pareto frontier" in out
    assert (
        f"mdwindow window {SMALL_CSV} --size 1s --lag 6.47s --lateness 0s --scope key "
        "--arrival-time recv_ts --out windows.parquet" in out
    )


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--lag", "1s"], "--lag: does not apply here; recommend chooses the lag"),
        (["--agg", "ohlcv"], "--agg: does not apply here"),
        (["--max-drop-rate", "2"], "--max-drop-rate: got 2.0; give a share between 0 and 1"),
        (["--max-drop-rate", "lots"], "cannot read 'lots' as a share"),
        (
            ["--max-drop-rate", "0", "--lags", "0s", "--latenesses", "0s"],
            "--max-drop-rate: no point of the grid has at most 0% of the valid rows dropped",
        ),
        (["--scope", "partition"], "--partitions: scope='partition' needs partitions=P"),
    ],
)
def test_cli_errors_name_the_flag(extra, expected, capsys):
    assert cli.main(["recommend", str(SMALL_CSV), "--size", "1s", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mdwindow: error: ") and expected in err
    assert len(err.strip().splitlines()) == 1


def test_cli_subcommand_runs_and_saves_the_figure(tmp_path):
    png = tmp_path / "frontier.png"
    done = subprocess.run(
        [sys.executable, "-m", "mdwindow", "recommend", str(SMALL_CSV), "--size", "2s",
         "--scope", "global", "--objective", "completeness", "--plot", str(png)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Recommendation for 2s windows, scope 'global', share of incomplete windows" in (
        done.stdout
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- grids read off the data --------------------------------------------------


@given(ticks=tick_frames(), opts=window_options())
def test_disorder_is_how_far_the_scope_maximum_is_past_each_row(ticks, opts):
    from mdwindow.core.grid import TickColumns
    from mdwindow.core.grid.disorder import measure_disorder
    from mdwindow.core.options import WindowOptions
    from tests.reference import partition_of

    opts.pop("arrival_time", None)
    cfg = WindowOptions.build("2s", **opts)
    got = measure_disorder(TickColumns.of(cfg, ticks), cfg).rows
    idle = opts.get("idle_timeout")
    idle_ns = None if idle is None else pd.Timedelta(idle).value
    own: dict = {}
    global_max = None
    expected = []
    for t, key in zip(ticks["ts"], ticks["symbol"], strict=True):
        if pd.isna(t) or key is None:
            continue
        t = t.value
        scope = {"global": 0, "key": key}.get(cfg.scope)
        if cfg.scope == "partition":
            scope = partition_of(key, cfg.partitions, "murmur3", 0)
        followed = own.get(scope)
        if idle_ns is not None and global_max is not None:
            floor = global_max - idle_ns
            followed = floor if followed is None else max(followed, floor)
        expected.append(0 if followed is None else max(followed - t, 0))
        own[scope] = t if scope not in own else max(own[scope], t)
        global_max = t if global_max is None else max(global_max, t)
    assert got.tolist() == expected
