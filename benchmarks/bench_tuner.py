"""How long one tuner update takes on a million ticks (target: under 300 ms).

Usage::

    python benchmarks/bench_tuner.py [--rows 1000000] [--symbols 20]

An update is what a slider move triggers: read the cached sweep point, window
the rows that share the picked symbol's watermark, redraw the held figure and
render it to PNG. The first update of a window size and scope also runs the
sweep; it is reported apart. As a baseline in the same process, one plain
``tumbling_windows`` call on all rows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import timed  # noqa: E402

from mdwindow import tumbling_windows  # noqa: E402
from mdwindow.synth import generate_ticks  # noqa: E402
from mdwindow.widgets import WatermarkTuner  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--symbols", type=int, default=20)
    args = parser.parse_args()
    ticks = generate_ticks(args.rows, symbols=args.symbols, seed=1, duration="1h",
                           lagging_symbols=2)  # fmt: skip
    baseline, _ = timed(lambda: tumbling_windows(ticks, "5s", lag="1s", scope="key"))
    for scope in ("key", "partition", "global"):
        start = time.perf_counter()
        tuner = WatermarkTuner(ticks, "5s", lag="1s", scope=scope)
        first = time.perf_counter() - start
        updates = []
        for lag, lateness in [("2s", "0s"), ("500ms", "250ms"), ("3s", "1s"), ("1s", "0s")]:
            start = time.perf_counter()
            tuner.set(lag=lag, allowed_lateness=lateness)
            updates.append(time.perf_counter() - start)
            assert tuner.message == "", tuner.message
        median = statistics.median(updates)
        print(
            f"scope={scope:9s} first build (sweep + draw) {first:6.2f} s; slider update median "
            f"{median * 1000:6.0f} ms, max {max(updates) * 1000:6.0f} ms "
            f"({median / baseline:.2f}x one tumbling_windows call of {baseline:.2f} s)"
        )


if __name__ == "__main__":
    main()
