"""Helpers shared by the benchmark scripts: timing, peak memory, synthetic data."""

from __future__ import annotations

import gc
import os
import resource
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from mdwindow.synth import generate_ticks


def ticks(rows: int, symbols: int = 500, seed: int = 0) -> pd.DataFrame:
    """The benchmark data: one trading day of Zipf-active symbols with delays and stalls."""
    return generate_ticks(rows, symbols=symbols, seed=seed, duration="6.5h")


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


def peak_extra_memory(func: Callable[[], Any]) -> int:
    """Peak memory (bytes) that ``func`` adds on top of the process, run in a forked child.

    The child starts with the parent's memory; its peak resident size minus
    the resident size at the fork is what the call itself needed.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        gc.collect()
        before = _rss()
        func()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        os.write(write, str(max(0, peak - before)).encode())
        os._exit(0)
    os.close(write)
    data = os.read(read, 64)
    os.waitpid(pid, 0)
    return int(data or 0)


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def frame_bytes(frame: pd.DataFrame) -> int:
    return int(frame.memory_usage(deep=True).sum())
