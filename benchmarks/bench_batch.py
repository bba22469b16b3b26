"""Batch windowing throughput against a plain pandas OHLCV and polars, in one process.

Usage::

    python benchmarks/bench_batch.py [--rows 3000000 10000000] [--shapes day dense]
        [--keys str category arrow] [--repeat 3] [--no-memory]

For every data shape, size and key dtype, each contender runs ``--repeat``
rounds back to back with the baseline (baseline first in each round), and
the table shows the median wall time, rows per second, and the median of
the rounds' ratios of baseline time to the contender's (higher is better).

Data shapes (``benchmarks/_common.py``): ``day``, a 6.5-hour session of 500
Zipf-active symbols (most 1 s windows hold one or two ticks: output-heavy),
and ``dense``, half an hour of 20 symbols (tens of ticks per window). Key
dtypes: ``str`` (pandas' default, Arrow-backed, as read from Parquet),
``category``, ``arrow`` (``pd.ArrowDtype(pa.large_string())``, as from
``dtype_backend="pyarrow"``) and ``object``.

Contenders, all with 1 s windows and OHLCV:

- baseline: ``sort_values([symbol, ts])`` then ``groupby([symbol, floored ts])``
  with first/max/min/last/sum, no watermark logic at all;
- polars: ``sort([symbol, ts])`` then ``group_by_dynamic`` on ``ts`` every
  1 s by ``symbol`` with the same aggregations (from a polars frame made
  beforehand; polars uses every core);
- mdwindow ``tumbling_windows``: scope key / scope global / scope partition
  (8 partitions), lag 2 s, emit="final"; and scope key, emit="updates" with
  1 s of allowed lateness.

Every contender runs without numpy's huge-page hint (``_common`` turns it
off for the process), which on this kernel stalls page faults of big arrays
now and then: the pandas baseline is then up to twice as slow.

Peak extra memory of the mdwindow scope-key run is measured in a forked
child and compared with the input frame's size.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    KEY_DTYPES,
    SHAPES,
    frame_bytes,
    median,
    paired_ratios,
    peak_extra_memory,
    shaped_ticks,
    with_key_dtype,
)

from mdwindow import tumbling_windows  # noqa: E402

MODES = {
    "mdwindow scope=key": {"lag": "2s", "scope": "key"},
    "mdwindow scope=global": {"lag": "2s", "scope": "global"},
    "mdwindow scope=partition": {"lag": "2s", "scope": "partition", "partitions": 8},
    "mdwindow scope=key updates": {
        "lag": "2s",
        "scope": "key",
        "allowed_lateness": "1s",
        "emit": "updates",
    },
}


def baseline(frame):
    ordered = frame.sort_values(["symbol", "ts"])
    return ordered.groupby([ordered["symbol"], ordered["ts"].dt.floor("1s")], observed=True).agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
        volume=("size", "sum"),
    )


def polars_run(table):
    import polars as pl

    return (
        table.sort(["symbol", "ts"])
        .group_by_dynamic("ts", every="1s", group_by="symbol")
        .agg(
            pl.col("price").first().alias("open"),
            pl.col("price").max().alias("high"),
            pl.col("price").min().alias("low"),
            pl.col("price").last().alias("close"),
            pl.col("size").sum().alias("volume"),
        )
    )


def polars_table(frame):
    """The frame as polars takes it (keys as polars strings or categoricals)."""
    try:
        import polars as pl
    except ImportError:
        return None
    columns = frame[["ts", "symbol", "price", "size"]]
    if str(columns["symbol"].dtype) not in ("category",):
        columns = columns.assign(symbol=columns["symbol"].astype(object))
    return pl.from_pandas(columns)


def contenders(frame, modes):
    runs = {}
    table = polars_table(frame)
    if table is not None:
        runs["polars group_by_dynamic"] = lambda: polars_run(table)
    for name in modes:
        options = MODES[name]
        runs[name] = lambda o=options: tumbling_windows(frame, "1s", agg="ohlcv", **o)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[3_000_000, 10_000_000])
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES))
    parser.add_argument(
        "--keys", nargs="+", choices=KEY_DTYPES, default=["str", "category", "arrow"]
    )
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory check")
    args = parser.parse_args()

    print(
        f"{'shape':6s} {'rows':>11s} {'keys':9s} {'contender':28s} "
        f"{'median s':>9s} {'M rows/s':>9s} {'x baseline':>10s}"
    )
    for shape in args.shapes:
        for rows in args.rows:
            raw = shaped_ticks(rows, shape)
            for dtype in args.keys:
                frame = with_key_dtype(raw, dtype)
                # Compile the kernels for this dtype outside the timings.
                for options in MODES.values():
                    tumbling_windows(frame.iloc[:2000], "1s", agg="ohlcv", **options)
                runs = contenders(frame, args.modes)
                base_times, times = paired_ratios(lambda f=frame: baseline(f), runs, args.repeat)
                base = median(base_times)
                line = f"{shape:6s} {rows:>11,} {dtype:9s}"
                label = "pandas sort+groupby"
                print(f"{line} {label:28s} {base:9.3f} {rows / base / 1e6:9.2f} {1:10.2f}")
                for name, seconds in times.items():
                    ratio = median([b / s for b, s in zip(base_times, seconds, strict=True)])
                    mid = median(seconds)
                    print(f"{line} {name:28s} {mid:9.3f} {rows / mid / 1e6:9.2f} {ratio:10.2f}")
                if not args.no_memory:
                    peak = peak_extra_memory(
                        lambda f=frame: tumbling_windows(
                            f, "1s", agg="ohlcv", **MODES["mdwindow scope=key"]
                        )
                    )
                    size = frame_bytes(frame)
                    print(
                        f"{line} peak extra memory of scope=key: {peak / 2**20:,.0f} MiB = "
                        f"{peak / size:.2f}x the input frame ({size / 2**20:,.0f} MiB)"
                    )
                sys.stdout.flush()


if __name__ == "__main__":
    main()
