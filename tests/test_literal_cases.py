"""Literal inputs, exact outputs, read as tables (bytewax style).

Each case lists the input rows in arrival order and the expected rows of the
result frames. Times in the tables are integers in the case's unit (``ms``
or ``s``); ``None`` is NaT. Several cases are transcriptions of the test
suites of Kafka Streams and Apache Flink; the comment above each says which
test and how its parameters map onto ours.

How the other engines' parameters map onto ours (SPEC 4 and 5):

- Kafka Streams: ``grace`` is our ``lag + allowed_lateness``; its stream time
  is our ``M``; a record is dropped when ``M - grace >= window end``, and
  ``suppress(untilWindowCloses)`` emits a window at that same moment (our
  ``emit="final"``).
- Flink: its watermark ``W_f`` is inclusive ("no more data with t <= W_f"),
  ours is exclusive, so ``W = W_f + 1 tick``. Flink's timestamps tick in
  milliseconds, so ``W = W_f + 1ms`` (``W_f + 1ns`` for a nanosecond clock);
  a window fires when ``W_f >= end - 1ms`` (its ``maxTimestamp``), that is
  when ``W >= end``. ``BoundedOutOfOrderness(lag)`` gives
  ``W_f = M - lag - 1ms``, our ``W = M - lag``. ``allowedLateness(L)`` is our
  ``allowed_lateness=L``: dropped when ``maxTimestamp + L <= W_f``, that is
  ``W >= end + L``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mdwindow import tumbling_windows

UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def table(header: str, *rows: tuple) -> pd.DataFrame:
    """A frame from a header line and literal rows."""
    return pd.DataFrame(list(rows), columns=header.split())


def _plain(value: Any, unit: str) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (pd.Timestamp, pd.Timedelta)):
        assert value.value % UNIT_NS[unit] == 0, f"{value} is not a whole number of {unit}"
        return value.value // UNIT_NS[unit]
    if isinstance(value, np.generic):
        return value.item()
    return value


def view(frame: pd.DataFrame, columns: str, unit: str) -> list[tuple]:
    """Rows of ``frame`` as tuples; times and durations as integers in ``unit``."""
    names = columns.split()
    return [
        tuple(_plain(v, unit) for v in row)
        for row in frame[names].astype(object).itertuples(index=False, name=None)
    ]


def times(values, unit: str) -> pd.Series:
    return pd.Series(pd.to_datetime(np.array(values, dtype=np.int64), unit=unit, utc=True))


WINDOW = "symbol window_start window_end count late_count timing revision emit_row emit_watermark"
LATE = "arrival window_start window_end watermark late_by"


# --------------------------------------------------------------------------
# Kafka Streams: suppress(untilWindowCloses) final results


def kafka_final_results_input() -> pd.DataFrame:
    # SuppressScenarioTest.shouldSupportFinalResultsForTimeWindows:
    # TimeWindows.ofSizeAndGrace(2ms, 1ms), count(), suppress(untilWindowCloses).
    return table(
        "symbol  ts",
        ("k1",   0),
        ("k1",   1),
        ("k1",   2),
        ("k1",   1),
        ("k1",   0),
        ("k1",   5),
        ("k1",   0),  # "this last record gets dropped because it is out of the grace period"
    )  # fmt: skip


@pytest.mark.parametrize("unit", ["ms", "s"])
def test_kafka_final_results_for_time_windows(unit):
    # Kafka grace 1 = our lag 0 + allowed_lateness 1. Kafka's suppressed output
    # is [k1@0/2] -> 4 and [k1@2/4] -> 1, both released by the record at 5.
    ticks = kafka_final_results_input()
    result = tumbling_windows(
        ticks, f"2{unit}", time_unit=unit, lag=0, allowed_lateness=f"1{unit}"
    )
    assert view(result.windows, WINDOW, unit) == [
        # key  start end count late timing   rev row watermark
        ("k1", 0,    2,  4,    2,   "final", 0,  5,  5),
        ("k1", 2,    4,  1,    0,   "final", 0,  5,  5),
    ]  # fmt: skip
    assert view(result.pending, WINDOW, unit) == [
        ("k1", 4,    6,  1,    0,   "pending", 0, 7, None),
    ]  # fmt: skip
    assert view(result.late, LATE, unit) == [
        # arrival start end watermark late_by
        (6,       0,    2,  5,        2),
    ]  # fmt: skip
    assert result.late.index.tolist() == [6]
    assert view(result.trace, "arrival watermark_before watermark_after status", unit) == [
        (0, None, 0, "on_time"),
        (1, 0,    1, "on_time"),
        (2, 1,    2, "on_time"),
        (3, 2,    2, "late"),
        (4, 2,    2, "late"),
        (5, 2,    5, "on_time"),
        (6, 5,    5, "dropped"),
    ]  # fmt: skip
    assert len(result.rejected) == 0


@pytest.mark.parametrize("lag, lateness", [("0ms", "1ms"), ("1ms", "0ms")])
def test_kafka_grace_is_lag_plus_lateness(lag, lateness):
    # However grace 1ms is split between lag and lateness, the same windows
    # close after the same row and the same row is dropped by the same amount.
    result = tumbling_windows(
        kafka_final_results_input(), "2ms", time_unit="ms", lag=lag, allowed_lateness=lateness
    )
    assert view(result.windows, "window_start count emit_row", "ms") == [(0, 4, 5), (2, 1, 5)]
    assert view(result.late, "arrival late_by", "ms") == [(6, 2)]
    assert view(result.pending, "window_start count", "ms") == [(4, 1)]


def test_kafka_final_results_with_large_jump():
    # SuppressScenarioTest.shouldSupportFinalResultsForTimeWindowsWithLargeJump:
    # TimeWindows.ofSizeAndGrace(2ms, 2ms); here grace 2 = lag 1 + lateness 1.
    # Kafka's suppressed output: [k1@0/2] -> 4, [k1@2/4] -> 2, [k1@4/6] -> 1.
    ticks = table(
        "symbol  ts",
        ("k1",   0),
        ("k1",   1),
        ("k1",   2),
        ("k1",   0),
        ("k1",   3),
        ("k1",   0),
        ("k1",   4),
        ("k1",   0),  # dropped: the record at 4 closed [0, 2)
        ("k1",   30),
    )  # fmt: skip
    result = tumbling_windows(ticks, "2ms", time_unit="ms", lag="1ms", allowed_lateness="1ms")
    assert view(result.windows, WINDOW, "ms") == [
        # key  start end count late timing   rev row watermark
        ("k1", 0,    2,  4,    1,   "final", 0,  6,  3),
        ("k1", 2,    4,  2,    0,   "final", 0,  8,  29),
        ("k1", 4,    6,  1,    0,   "final", 0,  8,  29),
    ]  # fmt: skip
    assert view(result.late, LATE, "ms") == [(7, 0, 2, 3, 0)]
    assert view(result.pending, WINDOW, "ms") == [
        ("k1", 30, 32, 1, 0, "pending", 0, 9, None),
    ]  # fmt: skip


def test_updates_on_the_kafka_input():
    # The same stream with emit="updates" (Flink's EventTimeTrigger, accumulating):
    # the on-time pane of [0, 2) fires when the row at 2 makes W = 2, then each
    # of the two late rows adds a late pane; the dropped row adds none.
    result = tumbling_windows(
        kafka_final_results_input(),
        "2ms",
        time_unit="ms",
        allowed_lateness="1ms",
        emit="updates",
    )
    assert view(result.windows, WINDOW, "ms") == [
        # key  start end count late timing     rev row watermark
        ("k1", 0,    2,  2,    0,   "on_time", 0,  2,  2),
        ("k1", 0,    2,  3,    1,   "late",    1,  3,  2),
        ("k1", 0,    2,  4,    2,   "late",    2,  4,  2),
        ("k1", 2,    4,  1,    0,   "on_time", 0,  5,  5),
    ]  # fmt: skip
    assert view(result.pending, "window_start count timing revision emit_row", "ms") == [
        (4, 1, "pending", 0, 7),
    ]
    assert view(result.late, LATE, "ms") == [(6, 0, 2, 5, 2)]


# --------------------------------------------------------------------------
# Flink: WindowOperatorTest, late data for tumbling event-time windows
#
# Flink's harness pushes watermarks explicitly; ours come from rows. Each
# watermark W_f becomes a row of key "~wm" at event time W_f + 1ms + LAG, so
# that our W = W_f + 1ms right after it. The lag keeps the test's own
# elements (all far below LAG) from moving the watermark, as in the harness,
# where elements never do. The "~wm" rows sit in windows far in the future
# that never close, so they only show up in ``pending``.

LAG_MS = 60_000


def flink_harness(*steps: tuple) -> pd.DataFrame:
    """Rows from ``("key2", ts)`` elements and ``("watermark", W_f)`` steps."""
    rows = []
    for kind, value in steps:
        if kind == "watermark":
            rows.append(("~wm", value + 1 + LAG_MS))
        else:
            assert value < LAG_MS
            rows.append((kind, value))
    return table("symbol ts", *rows)


def test_flink_side_output_due_to_lateness_tumbling():
    # WindowOperatorTest.testSideOutputDueToLatenessTumbling: tumbling 2s event-time
    # windows, EventTimeTrigger, allowed lateness 0, late data to a side output.
    ticks = flink_harness(
        ("key2", 1000),
        ("watermark", 1985),
        ("key2", 1980),  # not dropped: maxTimestamp 1999 + 0 > 1985
        ("watermark", 1999),  # fires [0, 2000): (key2, 2) at 1999
        ("key2", 1998),  # side output: late
        ("key2", 2001),
        ("watermark", 2999),
        ("watermark", 3999),  # fires [2000, 4000): (key2, 1) at 3999
    )
    result = tumbling_windows(ticks, "2s", time_unit="ms", lag=f"{LAG_MS}ms")
    assert view(result.windows, WINDOW, "ms") == [
        # key    start end   count late timing   rev row watermark
        ("key2", 0,    2000, 2,    0,   "final", 0,  3,  2000),
        ("key2", 2000, 4000, 1,    0,   "final", 0,  7,  4000),
    ]  # fmt: skip
    assert view(result.late, "symbol ts " + LATE, "ms") == [
        ("key2", 1998, 4, 0, 2000, 2000, 0),
    ]
    assert set(result.pending["symbol"]) == {"~wm"}


def flink_lateness_input() -> pd.DataFrame:
    # WindowOperatorTest.testLateness: tumbling 2s windows, allowed lateness 500ms.
    return flink_harness(
        ("key2", 500),
        ("watermark", 1500),
        ("key2", 1300),
        ("watermark", 2300),  # fires [0, 2000) with 2 elements
        ("key2", 1997),  # late but kept: 1999 + 500 > 2300; fires again
        ("watermark", 6000),  # cleans the window up
        ("key2", 1998),  # side output: 1999 + 500 <= 6000
        ("watermark", 7000),
    )


def test_flink_lateness_updates():
    # Flink's test wraps the trigger in a PurgingTrigger, so its late firing holds
    # only the new element: (key2, 2) then (key2, 1). Ours accumulate (SPEC 6, as
    # a plain EventTimeTrigger does): the late pane holds 3 rows, 1 of them late.
    result = tumbling_windows(
        flink_lateness_input(),
        "2s",
        time_unit="ms",
        lag=f"{LAG_MS}ms",
        allowed_lateness="500ms",
        emit="updates",
    )
    assert view(result.windows, WINDOW, "ms") == [
        # key    start end   count late timing     rev row watermark
        ("key2", 0,    2000, 2,    0,   "on_time", 0,  3,  2301),
        ("key2", 0,    2000, 3,    1,   "late",    1,  4,  2301),
    ]  # fmt: skip
    assert view(result.late, "symbol ts " + LATE, "ms") == [
        ("key2", 1998, 6, 0, 2000, 6001, 3501),
    ]


def test_flink_lateness_final():
    # The same input with emit="final": one pane when Flink would clean the
    # window up (watermark 6000 >= maxTimestamp 1999 + lateness 500).
    result = tumbling_windows(
        flink_lateness_input(),
        "2s",
        time_unit="ms",
        lag=f"{LAG_MS}ms",
        allowed_lateness="500ms",
    )
    assert view(result.windows, WINDOW, "ms") == [
        ("key2", 0, 2000, 3, 1, "final", 0, 5, 6001),
    ]
    assert view(result.late, "ts arrival", "ms") == [(1998, 6)]


# --------------------------------------------------------------------------
# emit="updates"


def test_window_whose_first_row_is_late_has_no_on_time_pane():
    ticks = table(
        "symbol ts",
        ("A",   5),
        ("A",   3),  # [2, 4) is already behind W = 5: its first pane is late
        ("A",   2),
        ("A",   9),  # W = 9 >= 4 + 2: [2, 4) is complete; [4, 6) fires on time
    )  # fmt: skip
    kwargs = dict(time_unit="s", allowed_lateness="2s")
    updates = tumbling_windows(ticks, "2s", emit="updates", **kwargs)
    assert view(updates.windows, WINDOW, "s") == [
        # key start end count late timing     rev row watermark
        ("A", 2,    4,  1,    1,   "late",    0,  1,  5),
        ("A", 2,    4,  2,    2,   "late",    1,  2,  5),
        ("A", 4,    6,  1,    0,   "on_time", 0,  3,  9),
    ]  # fmt: skip
    assert view(updates.pending, "window_start count", "s") == [(8, 1)]
    final = tumbling_windows(ticks, "2s", **kwargs)
    assert view(final.windows, WINDOW, "s") == [
        ("A", 2, 4, 2, 2, "final", 0, 3, 9),
        ("A", 4, 6, 1, 0, "final", 0, 3, 9),
    ]
    assert view(final.pending, "window_start count", "s") == [(8, 1)]


# --------------------------------------------------------------------------
# Window grid


@pytest.mark.parametrize("offset", ["2s", "7s", "-3s", "-8s"])
def test_offset_shifts_the_grid(offset):
    from mdwindow import TumblingWindowSpec

    ticks = table(
        "symbol ts",
        ("A",  -3000),
        ("A",   1999),
        ("A",   2000),  # a time equal to a window's end starts the next window
        ("A",   6999),
        ("A",   7000),
        ("A",      0),
    )  # fmt: skip
    spec = TumblingWindowSpec("5s", offset=offset)  # every offset here is 2s mod 5s
    result = tumbling_windows(ticks, spec, time_unit="ms")
    assert view(result.windows, WINDOW, "ms") == [
        ("A", -3000, 2000, 2, 0, "final", 0, 2, 2000),
        ("A",  2000, 7000, 2, 0, "final", 0, 4, 7000),
    ]  # fmt: skip
    assert view(result.late, LATE, "ms") == [(5, -3000, 2000, 7000, 5000)]
    assert view(result.pending, "window_start window_end count", "ms") == [(7000, 12000, 1)]


def test_negative_times_use_floor_division():
    ticks = table(
        "symbol ts",
        ("A",  -3),
        ("A",  -1),
        ("A",   0),
        ("A",  -2),
        ("A",   1),
        ("A",  -5),
    )  # fmt: skip
    ticks["ts"] = times(ticks["ts"], "s")
    result = tumbling_windows(ticks, "2s")
    assert view(result.windows, WINDOW, "s") == [
        ("A", -4, -2, 1, 0, "final", 0, 1, -1),
        ("A", -2,  0, 1, 0, "final", 0, 2,  0),
    ]  # fmt: skip
    assert view(result.late, LATE, "s") == [
        (3, -2,  0, 0, 0),
        (5, -6, -4, 1, 5),
    ]  # fmt: skip
    assert view(result.pending, "window_start window_end count emit_row", "s") == [(0, 2, 2, 6)]


# --------------------------------------------------------------------------
# Watermark scopes


def idle_input() -> pd.DataFrame:
    ticks = table(
        "symbol ts",
        ("A",   0),
        ("B",   1),
        ("B",   5),
        ("B",   8),
        ("A",   1),
    )  # fmt: skip
    ticks["ts"] = times(ticks["ts"], "s")
    return ticks


def test_idle_timeout_closes_a_quiet_key():
    # A is quiet after 0s; B runs on. With idle_timeout 3s, A's watermark is
    # never more than 3s behind the market: B's row at 5s lifts it to 2s, which
    # closes A's [0, 2); by B's 8s it is 5s, and A's late row is dropped.
    result = tumbling_windows(idle_input(), "2s", scope="key", idle_timeout="3s")
    assert view(result.windows, WINDOW, "s") == [
        # key start end count late timing   rev row watermark
        ("A", 0,    2,  1,    0,   "final", 0,  2,  2),
        ("B", 0,    2,  1,    0,   "final", 0,  2,  5),
        ("B", 4,    6,  1,    0,   "final", 0,  3,  8),
    ]  # fmt: skip
    assert view(result.late, "symbol " + LATE, "s") == [("A", 4, 0, 2, 5, 3)]
    assert view(result.pending, "symbol window_start count", "s") == [("B", 8, 1)]
    assert view(result.trace, "watermark_before status", "s") == [
        (None, "on_time"),
        (-3,   "on_time"),
        (1,    "on_time"),
        (5,    "on_time"),
        (5,    "dropped"),
    ]  # fmt: skip


def test_without_idle_timeout_a_quiet_key_stays_open():
    result = tumbling_windows(idle_input(), "2s", scope="key")
    assert view(result.windows, "symbol window_start emit_row emit_watermark", "s") == [
        ("B", 0, 2, 5),
        ("B", 4, 3, 8),
    ]
    assert len(result.late) == 0
    assert view(result.pending, "symbol window_start count", "s") == [("A", 0, 2), ("B", 8, 1)]


SCOPE_INPUT = (
    "symbol ts",
    ("AAPL", 0),
    ("AAPL", 5),
    ("NVDA", 1),  # same hash partition as AAPL (SPEC 8: AAPL -> 1, NVDA -> 1)
    ("MSFT", 1),  # the other partition (MSFT -> 0)
)


@pytest.mark.parametrize(
    "scope, late, pending",
    [
        ("global", [("NVDA", 2, 5, 3), ("MSFT", 3, 5, 3)], [("AAPL", 1, 4)]),
        ("key", [], [("MSFT", 0, 0), ("NVDA", 1, 0), ("AAPL", 1, 4)]),
        ("partition", [("NVDA", 2, 5, 3)], [("MSFT", 0, 0), ("AAPL", 1, 4)]),
    ],
)
def test_scope_decides_whose_progress_counts(scope, late, pending):
    ticks = table(*SCOPE_INPUT)
    ticks["ts"] = times(ticks["ts"], "s")
    result = tumbling_windows(ticks, "2s", scope=scope, partitions=2)
    assert view(
        result.windows, "symbol partition window_start count emit_row emit_watermark", "s"
    ) == [("AAPL", 1, 0, 1, 1, 5)]
    assert view(result.late, "symbol arrival watermark late_by", "s") == late
    assert view(result.pending, "symbol partition window_start", "s") == pending


# --------------------------------------------------------------------------
# Arrival order


def test_arrival_time_orders_rows_stably():
    # recv sorts the rows into arrival order r3, r1, r0, r2: r0 and r2 tie at
    # recv 2 and keep their row order.
    ticks = table(
        "symbol ts recv price",
        ("A",   0,  2,   10.0),  # r0
        ("A",   5,  1,   11.0),  # r1
        ("A",   1,  2,   12.0),  # r2
        ("A",   3,  0,   13.0),  # r3
    )  # fmt: skip
    ticks["ts"] = times(ticks["ts"], "s")
    ticks["recv"] = times(ticks["recv"], "s")
    result = tumbling_windows(ticks, "2s", arrival_time="recv")
    assert view(result.windows, WINDOW + " emit_time", "s") == [
        ("A", 2, 4, 1, 0, "final", 0, 1, 5, 1),
    ]
    assert view(result.pending, "window_start count emit_row emit_time", "s") == [
        (4, 1, 4, None),
    ]
    assert result.late.index.tolist() == [0, 2]
    assert view(result.late, "price " + LATE, "s") == [
        (10.0, 2, 0, 2, 5, 3),
        (12.0, 3, 0, 2, 5, 3),
    ]  # fmt: skip
    assert result.trace["arrival"].tolist() == [2, 1, 3, 0]
    assert result.trace["status"].tolist() == ["dropped", "on_time", "dropped", "on_time"]


# --------------------------------------------------------------------------
# OHLCV: first and last by event time, ties by arrival


def ohlcv_input() -> pd.DataFrame:
    ticks = table(
        "symbol ts recv price size",
        ("A",   2,  3,   10.0,  100),  # r0: first in row order, not the open
        ("A",   1,  2,   11.0,  200),  # r1: ties r2 at t=1 but arrives after it
        ("A",   1,  1,   12.0,  300),  # r2: open (earliest t, earliest arrival)
        ("A",   5,  6,    9.0,  100),  # r3: close (latest t, latest arrival)
        ("A",   5,  4,   13.0,  300),  # r4: last in window rows, arrives before r3
        ("A",   20, 10,  50.0,    1),  # r5: closes [0, 10)
    )  # fmt: skip
    ticks["ts"] = times(ticks["ts"], "s")
    ticks["recv"] = times(ticks["recv"], "s")
    return ticks


OHLCV = "window_start open high low close volume vwap count emit_row"


def test_ohlcv_first_and_last_by_event_time_then_arrival():
    result = tumbling_windows(ohlcv_input(), "10s", agg="ohlcv", arrival_time="recv")
    # pandas' groupby first/last (row order) would give open 10.0, close 13.0.
    # vwap = (10*100 + 11*200 + 12*300 + 9*100 + 13*300) / 1000 = 11.6
    assert view(result.windows, OHLCV, "s") == [
        # start open  high  low  close volume vwap           count row
        (0,     12.0, 13.0, 9.0, 9.0,  1000,  pytest.approx(11.6), 5, 5),
    ]  # fmt: skip
    assert view(result.pending, OHLCV, "s") == [(20, 50.0, 50.0, 50.0, 50.0, 1, 50.0, 1, 6)]


def test_ohlcv_without_arrival_time_breaks_ties_by_row_order():
    result = tumbling_windows(ohlcv_input(), "10s", agg="ohlcv")
    assert view(result.windows, OHLCV, "s") == [
        (0, 11.0, 13.0, 9.0, 13.0, 1000, pytest.approx(11.6), 5, 5),
    ]


def test_dict_first_and_last_match_ohlcv():
    agg = {
        "first_px": ("price", "first"),
        "last_px": ("price", "last"),
        "n": ("size", "count"),
        "spread": ("price", lambda s: s.max() - s.min()),
    }
    result = tumbling_windows(ohlcv_input(), "10s", agg=agg, arrival_time="recv")
    assert view(result.windows, "window_start first_px last_px n spread", "s") == [
        (0, 12.0, 9.0, 5, 4.0),
    ]


# --------------------------------------------------------------------------
# Emission order and end of input


def test_windows_emitted_together_are_ordered_by_start_then_key():
    # The row at 10s closes four windows at once. They come out by window
    # start, then by the key's natural order (not the order keys first appeared).
    # NVDA@0 and AAPL@1 arrive after MSFT@2 made W = 2: late, still accepted.
    ticks = table(
        "symbol ts",
        ("MSFT",  2),
        ("NVDA",  0),
        ("AAPL",  1),
        ("AAPL",  3),
        ("NVDA", 10),
    )  # fmt: skip
    ticks["ts"] = times(ticks["ts"], "s")
    result = tumbling_windows(ticks, "2s", allowed_lateness="5s")
    assert view(result.windows, "symbol window_start late_count emit_row", "s") == [
        ("AAPL", 0, 1, 4),
        ("NVDA", 0, 1, 4),
        ("AAPL", 2, 0, 4),
        ("MSFT", 2, 0, 4),
    ]  # fmt: skip


@pytest.mark.parametrize("emit", ["final", "updates"])
def test_emit_partial_emits_open_windows_at_the_end(emit):
    from mdwindow import TumblingWindowSpec

    ticks = kafka_final_results_input()
    ticks["recv"] = times(range(100, 107), "ms")
    spec = TumblingWindowSpec("2ms", emit_partial=True)
    result = tumbling_windows(
        ticks, spec, time_unit="ms", allowed_lateness="1ms", emit=emit, arrival_time="recv"
    )
    assert len(result.pending) == 0
    assert view(result.windows.tail(1), WINDOW + " emit_time", "ms") == [
        ("k1", 4, 6, 1, 0, "partial", 0, 7, None, None),
    ]
    assert view(result.windows.head(1), "emit_row emit_time", "ms") == [
        (5, 105) if emit == "final" else (2, 102)
    ]
