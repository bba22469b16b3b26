"""Speed of ``sweep``: a lag x lateness grid over one frame, against its target.

Usage::

    python benchmarks/bench_sweep.py [--rows 1000000] [--symbols 500] [--grid 10]

Target (issue 5): a 10 x 10 grid on 1 million ticks in under 10 seconds, so
the sweep can drive a widget. For scale, one full ``tumbling_windows`` call
on the same frame is timed too: the naive grid would cost ``grid**2`` of them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ticks, timed  # noqa: E402

from mdwindow import tumbling_windows  # noqa: E402
from mdwindow.sweep import sweep  # noqa: E402

TARGET_SECONDS = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--grid", type=int, default=10, help="lags and latenesses per axis")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    frame = ticks(args.rows, args.symbols)
    # Lags from 0 to 4.5 s (the lagging venue runs 1.5 s behind), lateness 0 to 2.25 s:
    # distinct lag + lateness sums, so grid points share as little work as possible.
    lags = [pd.Timedelta(milliseconds=500 * i) for i in range(args.grid)]
    latenesses = [pd.Timedelta(milliseconds=250 * i + 7) for i in range(args.grid)]
    # Compile the kernels outside the timings.
    sweep(frame.iloc[:2000], "1s", lags=lags[:2], lateness=latenesses[:2])
    sweep(frame.iloc[:2000], "1s", lags=lags[:2], lateness=latenesses[:2], scope="key",
          idle_timeout="5s")  # fmt: skip

    print(f"{len(frame):,} ticks, {args.symbols} symbols, 1s windows, "
          f"{args.grid} x {args.grid} grid")  # fmt: skip
    one, _ = timed(lambda: tumbling_windows(frame, "1s", lag="2s", scope="key"))
    print(f"  one tumbling_windows call (scope=key): {one:6.2f} s "
          f"(x{args.grid**2} = {one * args.grid**2:.0f} s naive)")  # fmt: skip
    runs = {
        "scope=global": {},
        "scope=global, arrival_time=recv_ts": {"arrival_time": "recv_ts"},
        "scope=key (target)": {"scope": "key"},
        "scope=key, idle_timeout=5s, arrival_time": {
            "scope": "key",
            "idle_timeout": "5s",
            "arrival_time": "recv_ts",
        },
        "scope=partition (16)": {"scope": "partition", "partitions": 16},
    }
    worst = 0.0
    for label, options in runs.items():
        seconds, grid = timed(
            lambda options=options: sweep(frame, "1s", lags=lags, lateness=latenesses, **options),
            repeat=args.repeat,
        )
        worst = max(worst, seconds)
        drop = grid["drop_rate"].to_numpy()
        print(f"  sweep, {label:42s} {seconds:6.2f} s  "
              f"(drop rate {np.nanmax(drop):.3%} .. {np.nanmin(drop):.3%})")  # fmt: skip
    verdict = "OK" if worst < TARGET_SECONDS else "OVER TARGET"
    print(f"slowest sweep {worst:.2f} s; target < {TARGET_SECONDS:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
