"""Incremental throughput against one batch call, in one process.

Usage::

    python benchmarks/bench_incremental.py [--rows 10000000] [--symbols 500]
        [--chunks 100000 10000 1000] [--small-rows 2000000]

The same synthetic frame is windowed once by ``tumbling_windows`` and then
pushed through :class:`mdwindow.incremental.Windower` in chunks of each size
(then flushed). Ratios are incremental throughput (rows per second) over
batch throughput on the same rows, measured back to back so that machine
noise hits both; higher is better, 1.0 means no per-chunk cost at all.

Pushing 10 million rows 1,000 at a time takes long, so chunk sizes below
``--small-below`` (default 10,000) run on the first ``--small-rows`` rows
(default 2 million) and are compared with a batch call on those same rows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ticks, timed  # noqa: E402

from mdwindow import tumbling_windows  # noqa: E402
from mdwindow.incremental import Windower  # noqa: E402

OPTIONS = {"lag": "2s", "scope": "key", "agg": "ohlcv"}


def batch(frame):
    return tumbling_windows(frame, "1s", **OPTIONS)


def chunked(frame, chunk_rows: int):
    windower = Windower("1s", **OPTIONS)
    emitted = 0
    for start in range(0, len(frame), chunk_rows):
        emitted += len(windower.push(frame.iloc[start : start + chunk_rows]).windows)
    windower.flush()
    return emitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--chunks", type=int, nargs="+", default=[100_000, 10_000, 1_000])
    parser.add_argument(
        "--small-rows",
        type=int,
        default=2_000_000,
        help="rows used for chunk sizes below --small-below",
    )
    parser.add_argument("--small-below", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    frame = ticks(args.rows, args.symbols)
    # Compile the kernels outside the timings.
    batch(frame.iloc[:2000])
    chunked(frame.iloc[:2000], 500)

    print(f"rows={len(frame):,} symbols={args.symbols} options={OPTIONS}")
    batch_times: dict[int, float] = {}
    for chunk_rows in args.chunks:
        rows = len(frame) if chunk_rows >= args.small_below else min(args.small_rows, len(frame))
        part = frame.iloc[:rows]
        if rows not in batch_times:
            batch_times[rows], result = timed(lambda part=part: batch(part), args.repeat)
            print(
                f"batch on {rows:>12,} rows: {batch_times[rows]:7.2f} s  "
                f"{rows / batch_times[rows] / 1e6:6.2f} M rows/s  windows={len(result.windows):,}"
            )
        seconds, _ = timed(lambda part=part, c=chunk_rows: chunked(part, c), args.repeat)
        note = "" if rows == len(frame) else f"  (first {rows:,} rows only)"
        ratio = batch_times[rows] / seconds
        print(
            f"chunks of {chunk_rows:>9,} rows: {seconds:7.2f} s  "
            f"{rows / seconds / 1e6:6.2f} M rows/s  ratio to batch x{ratio:5.2f}{note}"
        )


if __name__ == "__main__":
    main()
