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
