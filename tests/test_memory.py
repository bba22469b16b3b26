"""numpy's huge-page hint is off while the engine runs, and left as it was found."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from mdwindow import tumbling_windows
from mdwindow.core import memory

pytestmark = pytest.mark.skipif(memory._SET is None, reason="numpy without the switch, or env set")

SET = memory._SET


def _hint() -> bool:
    before = SET(True)
    SET(before)
    return before


@pytest.mark.parametrize("start", [True, False])
def test_restored_after_a_call_and_after_a_failure(start):
    before = SET(start)
    try:
        seen = []

        @memory.without_hugepage_hint
        def probe(fail):
            seen.append(_hint())
            if fail:
                raise ValueError("boom")

        probe(False)
        with pytest.raises(ValueError):
            probe(True)
        assert seen == [False, False]
        assert _hint() is start
        ticks = pd.DataFrame({"ts": pd.to_datetime([1, 2], unit="s"), "symbol": ["A", "B"]})
        tumbling_windows(ticks, "1s")
        assert _hint() is start
    finally:
        SET(before)


def test_threads_leave_it_as_found():
    before = SET(True)
    try:
        inside = threading.Barrier(2)
        seen = []

        @memory.without_hugepage_hint
        def work(delay):
            inside.wait()
            seen.append(_hint())
            np.ones(1_000_000).sum()

        threads = [threading.Thread(target=work, args=(d,)) for d in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen == [False, False]
        assert _hint() is True
    finally:
        SET(before)


@pytest.mark.parametrize("key_dtype", ["str", "category"])
def test_pages_populated_ahead_change_nothing(monkeypatch, key_dtype):
    """The helper thread that populates output pages ahead of the pass (here on
    every run, a few items ahead) leaves every frame as the pass alone writes it."""
    from mdwindow.core import prefault
    from mdwindow.synth import generate_ticks

    ticks = generate_ticks(40_000, symbols=30, seed=5, duration="10min")
    ticks["symbol"] = ticks["symbol"].astype(key_dtype)
    options = {"lag": "1s", "scope": "key", "agg": "ohlcv", "arrival_time": "recv_ts"}
    monkeypatch.setattr(prefault, "MIN_BYTES", 1 << 62)
    alone = tumbling_windows(ticks, "1s", **options)
    calls = []
    original = prefault._populate
    monkeypatch.setattr(prefault, "_populate", lambda *a: calls.append(a) or original(*a))
    monkeypatch.setattr(prefault, "MIN_BYTES", 1)
    monkeypatch.setattr(prefault, "AHEAD", 64)
    helped = tumbling_windows(ticks, "1s", **options)
    if prefault._MADVISE is not None and prefault._works is not False:
        assert calls  # the helper ran (how often depends on the timing)
    for name in ("windows", "late", "rejected", "pending"):
        pd.testing.assert_frame_equal(getattr(helped, name), getattr(alone, name))
