"""Batch windowing speed and memory against a plain pandas OHLCV, in one process.

Usage::

    python benchmarks/bench_batch.py [--rows 10000000] [--symbols 500]

Baseline: ``sort_values([symbol, ts])`` then ``groupby([symbol, floored ts])``
with first/max/min/last/sum — OHLCV with no watermark logic at all. Ratios
are baseline time over mdwindow time (higher is better), measured back to
back on the same frame so machine noise hits both.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import frame_bytes, peak_extra_memory, ticks, timed  # noqa: E402

from mdwindow import partition_ids, tumbling_windows  # noqa: E402


def baseline(frame):
    ordered = frame.sort_values(["symbol", "ts"])
    return ordered.groupby([ordered["symbol"], ordered["ts"].dt.floor("1s")]).agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
        volume=("size", "sum"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    frame = ticks(args.rows, args.symbols)
    # Compile the kernels outside the timings.
    tumbling_windows(frame.iloc[:2000], "1s", lag="2s", scope="key", agg="ohlcv")
    tumbling_windows(frame.iloc[:2000], "1s", lag="2s", agg="ohlcv", emit="updates")

    runs = {
        "scope=key, lag 2s, ohlcv (target)": lambda: tumbling_windows(
            frame, "1s", lag="2s", scope="key", agg="ohlcv"
        ),
        "scope=global, lag 2s, ohlcv": lambda: tumbling_windows(
            frame, "1s", lag="2s", agg="ohlcv"
        ),
        'scope=key, emit="updates", lateness 1s, ohlcv': lambda: tumbling_windows(
            frame, "1s", lag="2s", allowed_lateness="1s", scope="key", agg="ohlcv", emit="updates"
        ),
    }
    base_time, base_result = timed(lambda: baseline(frame), args.repeat)
    input_bytes = frame_bytes(frame)
    print(f"rows={len(frame):,} symbols={args.symbols} input frame {input_bytes / 2**20:,.0f} MiB")
    print(f"baseline pandas sort+groupby OHLCV: {base_time:7.2f} s  ({len(base_result):,} bars)")
    for name, run in runs.items():
        seconds, result = timed(run, args.repeat)
        print(
            f"{name:48s} {seconds:7.2f} s  speed-up x{base_time / seconds:5.2f}  "
            f"windows={len(result.windows):,} dropped={len(result.late):,}"
        )
    base_peak = peak_extra_memory(lambda: baseline(frame))
    ours_peak = peak_extra_memory(runs["scope=key, lag 2s, ohlcv (target)"])
    print(
        f"peak extra memory: mdwindow {ours_peak / 2**20:,.0f} MiB = "
        f"{ours_peak / input_bytes:.2f}x the input frame; baseline {base_peak / 2**20:,.0f} MiB"
    )
    factorize_time, _ = timed(lambda: frame["symbol"].factorize(), args.repeat)
    pid_time, _ = timed(lambda: partition_ids(frame["symbol"], 8), args.repeat)
    print(
        f"partition_ids on {len(frame):,} rows: {pid_time:.3f} s "
        f"(x{pid_time / factorize_time:.2f} of a bare factorize)"
    )


if __name__ == "__main__":
    main()
