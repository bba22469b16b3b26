"""How long one tuner update takes on a million ticks (target: under 300 ms).

Usage::

    python benchmarks/bench_tuner.py [--rows 1000000] [--symbols 20] [--moves 6]

An update is what moving one control triggers: read the cached sweep point,
judge the rows that share the picked symbol's watermark, redraw the held
figure and encode it as PNG. Each control is moved ``--moves`` times (as a
user would: the widget's value is set, which fires the update) and the
median and max of those updates are reported, per scope for the sliders and
the symbol picker. The window size and the scope are reported apart for a
first visit (which scans all rows for the grid of that size and scope,
once) and for revisits; a full garbage collection (a few hundred ms with the
objects numba, pandas and matplotlib hold) that lands in a move is counted
beside it. As a baseline in the same process, one plain ``tumbling_windows``
call on all rows.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import timed  # noqa: E402

from mdwindow import tumbling_windows  # noqa: E402
from mdwindow.synth import generate_ticks  # noqa: E402
from mdwindow.widgets import WatermarkTuner  # noqa: E402

LAGS = ("2s", "500ms", "3s", "1s", "5s", "250ms")
LATENESS = ("250ms", "1s", "0s", "2s", "500ms", "100ms")


def _full_collections() -> int:
    return gc.get_stats()[2]["collections"]


def _move(tuner: WatermarkTuner, control: Any, value: Any) -> tuple[float, float, int]:
    """Wall and CPU seconds of one move (CPU time says less about other jobs' load),
    and how many full garbage collections ran in it."""
    full = _full_collections()
    start, cpu = time.perf_counter(), time.process_time()
    control.value = value
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    assert tuner.message == "", tuner.message
    return (*elapsed, _full_collections() - full)


def _report(name: str, moves: list[tuple[float, float, int]], baseline: float) -> None:
    if not moves:
        return
    wall = [w for w, _, _ in moves]
    median = statistics.median(wall)
    cpu = statistics.median(c for _, c, _ in moves)
    full = sum(n for _, _, n in moves)
    print(
        f"  {name:30s} median {median * 1000:6.0f} ms (cpu {cpu * 1000:4.0f} ms), "
        f"max {max(wall) * 1000:6.0f} ms over {len(moves)} moves "
        f"({median / baseline:.2f}x one tumbling_windows call)"
        + (f"; {full} full GC" if full else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--moves", type=int, default=6)
    args = parser.parse_args()
    ticks = generate_ticks(args.rows, symbols=args.symbols, seed=1, duration="1h",
                           lagging_symbols=2)  # fmt: skip
    print(f"{len(ticks):,} ticks, {args.symbols} symbols; load average {os.getloadavg()}")
    baseline, _ = timed(lambda: tumbling_windows(ticks, "5s", lag="1s", scope="key"))
    print(f"baseline: one tumbling_windows call {baseline:.2f} s")
    moves = args.moves
    starts = {
        "scope=key": {"scope": "key"},
        "scope=partition": {"scope": "partition"},
        "scope=global": {"scope": "global"},
        "scope=key, idle_timeout=5s": {"scope": "key", "idle_timeout": "5s"},
    }
    for label, options in starts.items():
        start = time.perf_counter()
        tuner = WatermarkTuner(ticks, "5s", lag="1s", partitions=8, **options)
        first = time.perf_counter() - start
        print(f"{label}: first build (scan + layout + draw) {first:.2f} s")
        by_text = dict(tuner.lag_slider.options)
        lag_moves = [by_text[v] for v in itertools.islice(itertools.cycle(LAGS), moves)]
        _report(
            "lag slider",
            [_move(tuner, tuner.lag_slider, v) for v in lag_moves],
            baseline,
        )
        by_text = dict(tuner.lateness_slider.options)
        lateness_moves = [by_text[v] for v in itertools.islice(itertools.cycle(LATENESS), moves)]
        _report(
            "lateness slider",
            [_move(tuner, tuner.lateness_slider, v) for v in lateness_moves],
            baseline,
        )
        symbols = list(tuner.symbol_menu.options)
        picks = [symbols[(i + 1) % len(symbols)] for i in range(moves)]
        _report(
            "symbol picker (new symbols)",
            [_move(tuner, tuner.symbol_menu, s) for s in picks],
            baseline,
        )
        full = _full_collections()
        start, cpu = time.perf_counter(), time.process_time()
        tuner.set(lag="3s", allowed_lateness="1s")
        elapsed = time.perf_counter() - start, time.process_time() - cpu
        _report("set(lag=, allowed_lateness=)", [(*elapsed, _full_collections() - full)], baseline)

    tuner = WatermarkTuner(ticks, "5s", lag="1s", scope="key", partitions=8)
    sizes = dict(tuner.size_menu.options)
    size_moves = [sizes[v] for v in itertools.islice(itertools.cycle(["10s", "1s", "5s"]), moves)]
    seen = {tuner.size_menu.value}
    first_visits, revisits = [], []
    for value in size_moves:
        elapsed = _move(tuner, tuner.size_menu, value)
        if value in seen:
            revisits.append(elapsed)
        else:
            first_visits.append((tuner.size_menu.label, elapsed))
        seen.add(value)
    print("window size menu (scope key):")
    for label, elapsed in first_visits:
        _report(f"first visit of {label}", [elapsed], baseline)
    _report("first visit (scans all rows)", [e for _, e in first_visits], baseline)
    _report("revisit", revisits, baseline)
    scopes = list(itertools.islice(itertools.cycle(["global", "partition", "key"]), moves))
    seen = {tuner.scope_toggle.value}
    first_visits, revisits = [], []
    for value in scopes:
        elapsed = _move(tuner, tuner.scope_toggle, value)
        if value in seen:
            revisits.append(elapsed)
        else:
            first_visits.append((value, elapsed))
        seen.add(value)
    print(f"scope toggle (window {tuner.size_menu.label}):")
    for label, elapsed in first_visits:
        _report(f"first visit of {label}", [elapsed], baseline)
    _report("first visit (scans all rows)", [e for _, e in first_visits], baseline)
    _report("revisit", revisits, baseline)


if __name__ == "__main__":
    main()
