"""Helpers shared by the benchmark scripts: timing, peak memory, synthetic data.

Importing this module turns numpy's huge-page hint off for the whole process
(``NUMPY_MADVISE_HUGEPAGE=0``, unless the variable is already set), so that
both sides of every ratio run alike: with the hint, page faults of big arrays
may stall on memory compaction (see ``mdwindow/core/memory.py``), which makes
the pandas baseline up to twice as slow, and noisy. mdwindow turns the hint off
by itself while its engine runs; ``NUMPY_MADVISE_HUGEPAGE=1 python
benchmarks/...`` measures with numpy's default for everyone else.
"""

from __future__ import annotations

import gc
import os

os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
import statistics
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from mdwindow.synth import generate_ticks

#: Data shapes: a trading day of many symbols (many windows of few ticks), and
#: half an hour of a few symbols (many ticks in each 1 s window).
SHAPES = {
    "day": {"symbols": 500, "duration": "6.5h"},
    "dense": {"symbols": 20, "duration": "30min"},
}
#: Key column dtypes: pandas' default string dtype (Arrow-backed, as read from
#: Parquet), categorical, pd.ArrowDtype strings (dtype_backend="pyarrow"), and
#: Python strings in an object column.
KEY_DTYPES = ("str", "category", "arrow", "object")


def ticks(rows: int, symbols: int = 500, seed: int = 0, duration: str = "6.5h") -> pd.DataFrame:
    """The benchmark data: one session of Zipf-active symbols with delays and stalls."""
    return generate_ticks(rows, symbols=symbols, seed=seed, duration=duration)


def shaped_ticks(rows: int, shape: str, seed: int = 0) -> pd.DataFrame:
    """:func:`ticks` of one of the :data:`SHAPES`."""
    return ticks(rows, seed=seed, **SHAPES[shape])


def with_key_dtype(frame: pd.DataFrame, dtype: str, column: str = "symbol") -> pd.DataFrame:
    """``frame`` with its key column converted to one of the :data:`KEY_DTYPES`."""
    values = frame[column]
    if dtype == "arrow":
        import pyarrow as pa

        converted = values.astype(pd.ArrowDtype(pa.large_string()))
    elif dtype == "object":
        converted = values.astype(object)
    else:
        converted = values.astype(dtype)
    return frame.assign(**{column: converted})


def timed(func: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs, and the last result."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def paired_ratios(
    baseline: Callable[[], Any], candidates: dict[str, Callable[[], Any]], repeat: int
) -> tuple[list[float], dict[str, list[float]]]:
    """Wall times of ``baseline`` and of each candidate, run back to back ``repeat``
    times (baseline first in each round), so load on a shared machine hits all alike.

    One untimed round goes first: the first big allocations of a process come
    fresh from the kernel (glibc then raises its mmap threshold and reuses freed
    memory), which would otherwise weigh on whichever ran first.
    """
    baseline()
    for run in candidates.values():
        run()
    base_times: list[float] = []
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeat):
        base_times.append(timed(baseline)[0])
        for name, run in candidates.items():
            times[name].append(timed(run)[0])
    return base_times, times


def median(values: list[float]) -> float:
    return statistics.median(values)


def peak_extra_memory(func: Callable[[], Any]) -> int:
    """Peak memory (bytes) that ``func`` adds on top of the process, run in a forked child.

    The child starts with the parent's memory; Linux's high-water mark of
    its resident size is reset at the start (``/proc/self/clear_refs``), so
    the peak minus the resident size then is what the call itself needed.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        gc.collect()
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
        except OSError:
            pass
        before = _status("VmRSS")
        func()
        peak = _status("VmHWM")
        os.write(write, str(max(0, peak - before)).encode())
        os._exit(0)
    os.close(write)
    data = os.read(read, 64)
    os.waitpid(pid, 0)
    return int(data or 0)


def _status(field: str) -> int:
    """A size (bytes) from /proc/self/status."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def frame_bytes(frame: pd.DataFrame) -> int:
    return int(frame.memory_usage(deep=True).sum())
