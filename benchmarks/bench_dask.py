"""Dask backend against pandas in memory: time, peak memory per worker, identical results.

Usage::

    python benchmarks/bench_dask.py [--rows 20000000] [--files 40] [--symbols 500]
                                    [--scopes key,global] [--workers 2] [--buckets B]
                                    [--data DIR]

Writes ``--rows`` synthetic ticks (``generate_ticks``, one 6.5-hour session)
as ``--files`` Parquet files in arrival order, then for each scope:

- **pandas**, in a fresh process: read every file, ``pd.concat``, then
  :func:`mdwindow.tumbling_windows`; peak resident memory of that process.
- **Dask**, on ``LocalCluster(n_workers=--workers, threads_per_worker=1)``
  with worker processes: ``dd.read_parquet`` of the files (keeping pandas'
  string dtype, so both runs see the same frame), then
  :func:`mdwindow.dask.tumbling_windows` and ``.compute()`` (every frame,
  the trace included, to the client); peak resident memory of each worker
  process, and of the client. ``--buckets`` sets the number of parallel
  chains (default: the backend's, twice the cluster's threads); scope
  "global" runs in those chains too (carrier rows, see
  ``mdwindow/dask/carriers.py``).

Peaks are the kernel's high-water mark (``VmHWM``), reset after a warm-up
that loads the compiled kernels, so they include each process's baseline
(Python, pandas, numba, and Dask for the workers), which is printed apart.
Both runs use ``1s`` windows, lag 2s, allowed lateness 1s, OHLCV. The
results must be identical frame by frame (``assert_frame_equal``,
``check_exact``); the script exits non-zero otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ticks  # noqa: E402

FRAMES = ("windows", "pending", "late", "rejected", "trace")
OPTIONS = {"lag": "2s", "allowed_lateness": "1s", "agg": "ohlcv"}
GiB = 1024**3


def options(scope: str) -> dict:
    return {**OPTIONS, "scope": scope}


# -- peak memory of the current process (Linux) ------------------------------


def reset_peak() -> None:
    """Reset the high-water mark of resident memory to the current size."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def memory() -> dict[str, int]:
    """Current and peak resident memory of this process, in bytes."""
    fields = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) * 1024
    return {"rss": fields["VmRSS"], "peak": fields["VmHWM"]}


def warm_up() -> None:
    """Load the compiled kernels (numba cache) so neither timing pays for it."""
    from mdwindow import tumbling_windows
    from mdwindow.synth import generate_ticks  # not _common: workers cannot import it

    sample = generate_ticks(5_000, 10, seed=1)
    for scope in ("key", "global"):
        for emit in ("final", "updates"):
            tumbling_windows(sample, "1s", emit=emit, **options(scope))


# -- data ------------------------------------------------------------------------


def write_files(directory: Path, rows: int, files: int, symbols: int) -> list[Path]:
    frame = ticks(rows, symbols=symbols)
    paths = []
    bounds = [rows * i // files for i in range(files + 1)]
    for i, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        path = directory / f"ticks-{i:04d}.parquet"
        frame.iloc[start:stop].to_parquet(path, index=False)
        paths.append(path)
    return paths


# -- pandas run (in its own process) ---------------------------------------------


def pandas_run(files: list[str], scope: str, out: str) -> None:
    from mdwindow import tumbling_windows

    warm_up()
    reset_peak()
    baseline = memory()["rss"]
    start = time.perf_counter()
    # Each file keeps its own RangeIndex, as in the Dask frame's partitions.
    frame = pd.concat([pd.read_parquet(f) for f in files])
    read = time.perf_counter() - start
    result = tumbling_windows(frame, "1s", **options(scope))
    total = time.perf_counter() - start
    peak = memory()["peak"]
    with open(out, "wb") as handle:
        pickle.dump({name: getattr(result, name) for name in FRAMES}, handle, protocol=5)
    json.dump(
        {"seconds": total, "read_seconds": read, "peak": peak, "baseline": baseline},
        sys.stdout,
    )


def run_pandas(files: list[Path], scope: str, out: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--pandas-run", scope, str(out), *map(str, files)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- Dask run --------------------------------------------------------------------


def run_dask(client, files: list[Path], scope: str, buckets: int | None) -> tuple[dict, object]:
    import dask
    import dask.dataframe as dd

    from mdwindow import dask as mdd

    client.run(warm_up)
    client.run(reset_peak)
    reset_peak()
    baselines = client.run(lambda: memory()["rss"])
    start = time.perf_counter()
    # Keep pandas' own string dtype, so both runs see the same frame.
    with dask.config.set({"dataframe.convert-string": False}):
        ddf = dd.read_parquet([str(f) for f in files])
        assert ddf.npartitions == len(files), ddf.npartitions
        result = mdd.tumbling_windows(ddf, "1s", buckets=buckets, **options(scope)).compute()
    seconds = time.perf_counter() - start
    peaks = client.run(lambda: memory()["peak"])
    figures = {
        "seconds": seconds,
        "worker_peaks": [peaks[w] for w in sorted(peaks)],
        "worker_baselines": [baselines[w] for w in sorted(baselines)],
        "client_peak": memory()["peak"],
    }
    return figures, result


def same(expected: dict, result) -> list[str]:
    problems = []
    for name in FRAMES:
        try:
            pd.testing.assert_frame_equal(
                getattr(result, name), expected[name], check_exact=True, obj=name
            )
        except AssertionError as error:
            problems.append(f"{name}: {error}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--scopes", default="key,global")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--buckets", type=int, help="parallel chains (default: the backend's)")
    parser.add_argument("--data", type=Path, help="directory for the Parquet files (temporary)")
    parser.add_argument("--pandas-run", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pandas_run:
        scope, out, *files = args.pandas_run
        pandas_run(files, scope, out)
        return

    from distributed import Client, LocalCluster

    with tempfile.TemporaryDirectory(dir=args.data) as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        files = write_files(tmp, args.rows, args.files, args.symbols)
        size = sum(f.stat().st_size for f in files)
        print(
            f"{args.rows:,} ticks, {args.symbols} symbols, {len(files)} Parquet files "
            f"({size / 2**20:.0f} MiB) written in {time.perf_counter() - start:.0f} s"
        )
        failed = False
        with (
            LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
            ) as cluster,
            Client(cluster) as client,
        ):
            for scope in args.scopes.split(","):
                out = tmp / f"pandas-{scope}.pickle"
                pandas_figures = run_pandas(files, scope, out)
                dask_figures, result = run_dask(client, files, scope, args.buckets)
                with open(out, "rb") as handle:
                    expected = pickle.load(handle)
                problems = same(expected, result)
                failed |= bool(problems)
                del expected, result
                report(scope, args, pandas_figures, dask_figures, problems)
    sys.exit(1 if failed else 0)


def report(scope: str, args, pandas_figures: dict, dask_figures: dict, problems) -> None:
    p, d = pandas_figures, dask_figures
    worker_peak = max(d["worker_peaks"])
    print(f"\nscope={scope!r}, 1s windows, lag 2s, lateness 1s, ohlcv")
    print(
        f"  pandas   {p['seconds']:7.1f} s (read {p['read_seconds']:.1f} s)   "
        f"peak {p['peak'] / GiB:5.2f} GiB (baseline {p['baseline'] / GiB:.2f} GiB)"
    )
    peaks = ", ".join(f"{v / GiB:.2f}" for v in d["worker_peaks"])
    bases = ", ".join(f"{v / GiB:.2f}" for v in d["worker_baselines"])
    print(
        f"  dask     {d['seconds']:7.1f} s ({args.workers} workers x 1 thread, "
        f"buckets {args.buckets or 'default'})   "
        f"peak per worker {peaks} GiB (baselines {bases} GiB); "
        f"client peak {d['client_peak'] / GiB:.2f} GiB (holds the computed result)"
    )
    verdict = "identical" if not problems else "DIFFERENT:\n    " + "\n    ".join(problems)
    ratio = worker_peak / p["peak"]
    print(f"  results  {verdict}; largest worker peak / pandas peak = {ratio:.2f}")


if __name__ == "__main__":
    os.environ.setdefault("MALLOC_TRIM_THRESHOLD_", "65536")
    main()
