"""Windowing polars and Arrow ticks against the same ticks in pandas, in one process.

Usage::

    python benchmarks/bench_dataframes.py [--rows 3000000] [--symbols 500] [--repeat 5]

The same synthetic day (``generate_ticks(rows, symbols=500, duration="6.5h")``)
as a pandas frame, a polars frame and an Arrow table, windowed by
``tumbling_windows(ticks, "1s", lag="2s", scope="key", agg="ohlcv")``; each
timing includes reading ``result.windows`` and ``result.late``, so a polars
or Arrow run pays for converting its input and its results. Ratios are the
pandas time over the other's (1.0 or more: at least as fast as pandas), for
wall time and for the process's CPU time (steadier on a busy machine). The
runs alternate, best of ``--repeat``, so machine noise hits all alike.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyarrow as pa  # noqa: E402
from _common import ticks, timed  # noqa: E402

from mdwindow import tumbling_windows  # noqa: E402
from mdwindow.core.options import WindowOptions  # noqa: E402
from mdwindow.interchange import option_columns, read_frame  # noqa: E402

OPTIONS = dict(lag="2s", scope="key", agg="ohlcv")


def window(frame):
    result = tumbling_windows(frame, "1s", **OPTIONS)
    # Reading the frames is part of the cost: non-pandas ones are converted then.
    return len(result.windows) + len(result.late)


def wall_and_cpu(func) -> tuple[float, float]:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    func()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    try:
        import polars as pl
    except ImportError:
        sys.exit('bench_dataframes needs polars: pip install "mdwindow[polars]"')

    frame = ticks(args.rows, args.symbols)
    inputs = {
        "pandas": frame,
        "polars": pl.from_pandas(frame),
        "arrow": pa.Table.from_pandas(frame, preserve_index=False),
    }
    # Compile the kernels outside the timings.
    for data in inputs.values():
        window(data[:2000])

    wall = dict.fromkeys(inputs, float("inf"))
    cpu = dict.fromkeys(inputs, float("inf"))
    for _ in range(args.repeat):
        for name, data in inputs.items():
            seconds, cpu_seconds = wall_and_cpu(lambda data=data: window(data))
            wall[name] = min(wall[name], seconds)
            cpu[name] = min(cpu[name], cpu_seconds)
    # What a run converts of its input: the columns it reads.
    columns = option_columns(WindowOptions.build("1s", **OPTIONS))
    reading = {
        name: timed(lambda d=d: read_frame(d, columns=columns), 3)[0] for name, d in inputs.items()
    }

    print(f"rows={args.rows:,} symbols={args.symbols}")
    print(f'tumbling_windows(ticks, "1s", {OPTIONS}), best of {args.repeat}')
    header = ("input", "wall s", "pandas/this", "cpu s", "pandas/this", "read_frame ms")
    print("{:8} {:>8} {:>12} {:>8} {:>12} {:>14}".format(*header))
    for name in inputs:
        print(
            f"{name:8} {wall[name]:8.3f} {wall['pandas'] / wall[name]:12.2f} "
            f"{cpu[name]:8.3f} {cpu['pandas'] / cpu[name]:12.2f} {reading[name] * 1000:14.1f}"
        )


if __name__ == "__main__":
    main()
