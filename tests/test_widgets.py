"""The tuner without a browser: move the controls, check what it holds and drew."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ipywidgets")

from mdwindow import tumbling_windows  # noqa: E402
from mdwindow.synth import generate_ticks  # noqa: E402
from mdwindow.widgets import WatermarkTuner, tune  # noqa: E402


@pytest.fixture(scope="module")
def ticks() -> pd.DataFrame:
    return generate_ticks(
        20_000, symbols=6, seed=11, duration="10min", lagging_symbols=1, stall_rate=1 / 60
    )


@pytest.fixture()
def tuner(ticks) -> WatermarkTuner:
    return WatermarkTuner(ticks, "5s", lag="1s", allowed_lateness="0s", scope="key")


def _summary_of(result) -> dict:
    s = result.summary()
    return {
        k: s[k] for k in ("rows", "on_time", "late", "dropped", "rejected", "windows", "pending")
    }


def test_summary_and_result_match_tumbling_windows(tuner, ticks):
    expected = tumbling_windows(ticks, "5s", lag="1s", scope="key", partitions=8)
    assert {k: tuner.summary[k] for k in _summary_of(expected)} == _summary_of(expected)
    pd.testing.assert_frame_equal(tuner.result.windows, expected.windows)
    assert tuner.policy.lag == pd.Timedelta("1s")
    assert tuner.spec.size == pd.Timedelta("5s")


def test_moving_a_slider_recomputes_and_redraws(tuner, ticks):
    before_png = tuner.image.value
    before_lines = [line.get_ydata().copy() for line in tuner.figure.axes[0].get_lines()]
    tuner.set(lag="3s")
    assert tuner.policy.lag == pd.Timedelta("3s")
    expected = tumbling_windows(ticks, "5s", lag="3s", scope="key", partitions=8)
    assert tuner.summary["dropped"] == expected.summary()["dropped"]
    assert tuner.image.value != before_png
    after_lines = [line.get_ydata() for line in tuner.figure.axes[0].get_lines()]
    assert any(
        len(a) != len(b) or not np.array_equal(a, b)
        for a, b in zip(before_lines, after_lines, strict=False)
    )
    assert tuner.message == ""


def test_raising_lateness_never_increases_drops(tuner):
    drops = []
    for lateness in ["0s", "100ms", "250ms", "500ms", "1s", "2s", "5s"]:
        tuner.set(allowed_lateness=lateness)
        drops.append(tuner.summary["dropped"])
    assert drops == sorted(drops, reverse=True)
    assert drops[0] > drops[-1]


def test_scope_and_symbol_change_the_plot(tuner, ticks):
    tuner.set(scope="global")
    expected = tumbling_windows(ticks, "5s", lag="1s", partitions=8)
    assert tuner.summary["dropped"] == expected.summary()["dropped"]
    quiet = ticks["symbol"].value_counts().index[-1]
    tuner.set(symbol=quiet)
    assert quiet in tuner.figure.axes[0].get_title()
    tuner.set(size="10s")
    assert tuner.spec.size == pd.Timedelta("10s")
    assert "window 10s" in tuner.figure.axes[0].get_title()


def test_a_bad_value_shows_a_message_and_clears_the_plot(tuner):
    assert tuner.image.value
    tuner.set(lag="7s")  # not offered by the slider
    assert "lag" in tuner.message and "not offered" in tuner.message
    assert tuner.image.value == b"" and not tuner.figure.axes
    assert tuner.summary == {}
    tuner.set(lag="2s")  # a good value brings everything back
    assert tuner.message == "" and tuner.image.value and tuner.summary


def test_an_engine_error_shows_a_message_not_a_stale_plot(tuner, monkeypatch):
    import mdwindow.widgets as widgets

    def broken(*args, **kwargs):
        raise ValueError("lag: boom")

    monkeypatch.setattr(widgets, "tumbling_windows", broken)
    tuner.set(lag="2s")
    assert "boom" in tuner.message
    assert tuner.image.value == b""


def test_repr_is_short_and_stable(tuner):
    text = repr(tuner)
    assert text == (
        "WatermarkTuner(size=5s, lag=1s, lateness=0s, scope='key', symbol="
        f"{tuner.symbol_menu.value!r})"
    )
    assert "0x" not in text


def test_tune_shortcut_and_unknown_control(ticks):
    tuner = tune(ticks, "5s", scope="partition", partitions=4)
    assert tuner.policy.scope == "partition"
    with pytest.raises(TypeError, match="unknown control"):
        tuner.set(speed="fast")
