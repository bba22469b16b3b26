"""Incremental throughput against one batch call, in one process.

Usage::

    python benchmarks/bench_incremental.py [--rows 10000000] [--symbols 500]
        [--chunks 100000 10000 1000] [--repeat 3] [--keys str]

The same synthetic frame is windowed once by ``tumbling_windows`` and then
pushed through :class:`mdwindow.incremental.Windower` in chunks of each size
(then flushed); every emitted window frame is read. The ratio is incremental
throughput (rows per second) over batch throughput on the same rows. Each
chunk size runs ``--repeat`` pairs, a batch call right before the chunked
replay, and reports the median of the pairs' ratios, so that load on a shared
machine hits both sides of a ratio alike. Higher is better; 1.0 means no
per-chunk cost at all.

Targets: chunks of 100,000 rows at least 1x, of 10,000 rows at least 0.9x,
of 1,000 rows at least 0.5x.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import KEY_DTYPES, ticks, timed, with_key_dtype  # noqa: E402

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
    return emitted + len(windower.flush().windows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--chunks", type=int, nargs="+", default=[100_000, 10_000, 1_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keys", choices=KEY_DTYPES, default="str", help="key column dtype")
    args = parser.parse_args()

    frame = with_key_dtype(ticks(args.rows, args.symbols), args.keys)
    # Compile the kernels outside the timings.
    batch(frame.iloc[:2000])
    chunked(frame.iloc[:2000], 500)

    print(f"rows={len(frame):,} symbols={args.symbols} keys={args.keys} options={OPTIONS}")
    for chunk_rows in args.chunks:
        ratios, cpu_ratios, batch_times, chunk_times = [], [], [], []
        for _ in range(args.repeat):
            cpu = time.process_time()
            batch_seconds, result = timed(lambda: batch(frame))
            batch_cpu = time.process_time() - cpu
            cpu = time.process_time()
            seconds, emitted = timed(lambda c=chunk_rows: chunked(frame, c))
            chunk_cpu = time.process_time() - cpu
            assert emitted == len(result.windows)
            batch_times.append(batch_seconds)
            chunk_times.append(seconds)
            ratios.append(batch_seconds / seconds)
            cpu_ratios.append(batch_cpu / chunk_cpu)
        median = statistics.median(ratios)
        print(
            f"chunks of {chunk_rows:>9,} rows: median ratio to batch x{median:5.2f}"
            f"  (pairs: {', '.join(f'{r:.2f}' for r in ratios)}; "
            f"CPU-time ratio x{statistics.median(cpu_ratios):.2f}; "
            f"batch {min(batch_times):.2f} s, chunked {min(chunk_times):.2f} s best; "
            f"{len(frame) / min(chunk_times) / 1e6:.2f} M rows/s)"
        )


if __name__ == "__main__":
    main()
