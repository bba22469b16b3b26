"""Every evaluator against the reference, on cases drawn by one strategy.

The ``evaluator`` fixture (tests/conftest.py) runs each test once per way of
evaluating windows; see tests/evaluators.py for what each one compares and
which inputs it takes. Slow evaluators run a share of the profile's examples.

The strict xfail tests below are the known disagreements, each as a minimal
case; each names the ``supports`` restriction to remove once it passes.
"""

from __future__ import annotations

import asyncio
import math
import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mdwindow import WatermarkPolicy, sweep
from tests.conftest import EVALUATOR_NAMES
from tests.evaluators import (
    EVALUATORS,
    FIRST_WHOLE_SECOND,
    LAST_WHOLE_SECOND,
    SECOND,
    Case,
    cases,
)


def test_every_evaluator_has_a_fixture_parameter():
    assert [e.name for e in EVALUATORS] == EVALUATOR_NAMES


def test_evaluator_equals_reference(evaluator):
    for module in evaluator.requires:
        pytest.importorskip(module)

    # An evaluator whose supports() takes few of the cases filters many out.
    @settings(
        max_examples=max(1, math.ceil(settings().max_examples * evaluator.share)),
        suppress_health_check=[*settings().suppress_health_check, HealthCheck.filter_too_much],
    )
    @given(case=cases(), data=st.data())
    def check(case: Case, data: st.DataObject) -> None:
        assume(evaluator.supports(case))
        evaluator.check(case, data.draw)

    check()


@pytest.mark.xfail(strict=True, reason="sweep latencies wrap around int64", raises=AssertionError)
@pytest.mark.parametrize(
    ("seconds", "clock"),
    [
        # A window at the start of the range, emitted by a row that arrives at 10s.
        ([FIRST_WHOLE_SECOND, FIRST_WHOLE_SECOND + SECOND], {"arrival_time": "recv"}),
        # A window at the start of the range, closed by event time near its end.
        ([FIRST_WHOLE_SECOND, LAST_WHOLE_SECOND - SECOND], {}),
    ],
    ids=["arrival-clock", "event-clock"],
)
def test_sweep_latency_beyond_int64(seconds, clock):
    """The one window is closed by the second row, more than 2**63 ns after its end:
    its latency cannot be a negative timedelta (saturated or NaT would do). Once
    this passes, remove ``latencies_fit`` from the sweep's and the tuner's ``supports``."""
    ticks = pd.DataFrame(
        {
            "ts": pd.to_datetime(seconds, unit="ns", utc=True),
            "symbol": "A",
            "recv": pd.to_datetime([0, 10], unit="s", utc=True),
        }
    )
    (row,) = sweep(ticks, "1s", lags="0s", lateness="0s", **clock).to_dict("records")
    assert row["windows"] == 1 and row["pending"] == 1
    assert not row["latency_median"] < pd.Timedelta(0)


@pytest.mark.xfail(strict=True, reason="sweep quantiles overflow int64", raises=AssertionError)
def test_sweep_latency_quantiles_far_apart():
    """Latencies of +292 years (a window at the start of the range, closed by a row
    that arrives at 0s) and -3s (a window closed at once, by arrival time): each
    fits int64, their distance does not. The median is halfway between them.
    Once this passes, remove the distance from ``latencies_fit``."""
    ticks = pd.DataFrame(
        {
            "ts": pd.to_datetime(
                [FIRST_WHOLE_SECOND, 2 * SECOND, LAST_WHOLE_SECOND - SECOND], unit="ns", utc=True
            ),
            "symbol": "A",
            "recv": pd.to_datetime([0, 0, 0], unit="s", utc=True),
        }
    )
    (row,) = sweep(ticks, "1s", lags="0s", lateness="0s", arrival_time="recv").to_dict("records")
    assert row["windows"] == 2 and row["pending"] == 1
    latencies = [-(FIRST_WHOLE_SECOND + SECOND), -3 * SECOND]
    halfway = sum(latencies) // 2
    assert abs(row["latency_median"].value - halfway) < 1_000  # float rounding


@pytest.mark.xfail(strict=True, reason="the tuner's plot overflows int64", raises=RuntimeWarning)
def test_tuner_plot_of_times_beyond_int64_apart():
    """Two valid rows whose windows are more than 2**63 ns apart: the tuner shows them
    without an overflow warning. Once this passes, remove ``window_span_fits`` from
    the tuner's ``supports``."""
    pytest.importorskip("ipywidgets")
    from mdwindow.widgets import WatermarkTuner

    ticks = pd.DataFrame(
        {
            "ts": pd.to_datetime([-2 * SECOND, LAST_WHOLE_SECOND - SECOND], unit="ns", utc=True),
            "symbol": "A",
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        tuner = WatermarkTuner(ticks, "1s", lags=["0s"], lateness=["0s"], lag="0s")
    assert tuner.message == "" and tuner.summary["on_time"] == 2


@pytest.mark.xfail(strict=True, reason="the tuner's heading overflows int64", raises=OverflowError)
def test_tuner_heading_of_the_last_instant():
    """One tick at the last instant of datetime64[ns] (rejected: its window ends past
    it): the tuner shows it. Once this passes, remove ``times_round_within_int64``
    from the tuner's ``supports``."""
    pytest.importorskip("ipywidgets")
    from mdwindow.widgets import WatermarkTuner

    ticks = pd.DataFrame({"ts": [pd.Timestamp.max.tz_localize("UTC")], "symbol": "A"})
    tuner = WatermarkTuner(ticks, "1s", lags=["0s"], lateness=["0s"], lag="0s")
    assert tuner.message == "" and tuner.summary["rejected"] == 1


@pytest.mark.xfail(
    strict=True, reason="the stream mixes up items of windows far apart", raises=AssertionError
)
def test_stream_windows_beyond_int64_apart():
    """Windows whose starts are more than 2**63 ns apart keep their own items in the
    stream, as in batch. Once this passes, remove ``window_span_fits`` from the
    stream's ``supports``."""
    from mdwindow.stream import tumbling_window_event_time

    rows = [(0, "A"), (LAST_WHOLE_SECOND - 10 * SECOND, "B"), (-12 * SECOND, "C")]
    rows.append((LAST_WHOLE_SECOND - SECOND, "A"))  # closes A's first window
    items = [{"id": i, "ts": ts, "symbol": key} for i, (ts, key) in enumerate(rows)]

    async def run():
        stream = tumbling_window_event_time(
            items,
            "1s",
            get_event_time=lambda item: item["ts"],
            get_key=lambda item: item["symbol"],
            watermark_policy=WatermarkPolicy(scope="key"),
        )
        windows = [window async for window in stream]
        return windows + stream.pending

    got = [(w.key, w.start.value, [item["id"] for item in w.items]) for w in asyncio.run(run())]
    assert got == [
        ("A", 0, [0]),
        ("C", -12 * SECOND, [2]),
        ("B", LAST_WHOLE_SECOND - 10 * SECOND, [1]),
        ("A", LAST_WHOLE_SECOND - SECOND, [3]),
    ]
