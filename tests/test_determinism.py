"""Results do not depend on the process: same input, same bytes (SPEC 8).

Python salts ``hash()`` of strings per process (``PYTHONHASHSEED``); if any
step of partitioning, key ordering or grouping leaned on it, two processes
would disagree. The same synthetic frame is windowed in two interpreters
with different hash seeds and every result frame is compared as text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter; prints one digest per (run, frame).
SCRIPT = r"""
import hashlib, json, sys
import numpy as np
import pandas as pd
from mdwindow import tumbling_windows

rng = np.random.default_rng(20240607)
n = 3000
symbols = np.array([f"SYM{i:03d}" for i in range(60)] + ["BRK.B", "ÆON", "日本"], dtype=object)
seconds = np.cumsum(rng.integers(0, 3, n)) - rng.integers(0, 8, n) ** 2
ticks = pd.DataFrame(
    {
        "ts": pd.to_datetime(seconds * 250, unit="ms", utc=True),
        "symbol": symbols[rng.integers(0, len(symbols), n)],
        "price": np.round(100 + rng.normal(0, 1, n).cumsum(), 2),
        "size": rng.integers(1, 10, n) * 100,
        "recv": pd.to_datetime(np.arange(n) // 3, unit="ms", utc=True),
    },
    index=rng.integers(0, 50, n),
)
ticks.iloc[::97, ticks.columns.get_loc("symbol")] = None
ticks.iloc[::89, ticks.columns.get_loc("ts")] = pd.NaT

runs = {
    "global": dict(scope="global", partitions=4),
    "key": dict(scope="key", idle_timeout="2s"),
    "partition": dict(scope="partition", partitions=5),
    "partition-kafka": dict(scope="partition", partitions=3, hash="kafka", emit="updates"),
    "key-updates": dict(scope="key", emit="updates", arrival_time="recv"),
}
out = {}
for name, options in runs.items():
    result = tumbling_windows(
        ticks, "1s", lag="500ms", allowed_lateness="750ms",
        agg={"open": ("price", "first"), "close": ("price", "last"), "med": ("price", "median"),
             "volume": ("size", "sum")},
        **options,
    )
    for frame_name in ("windows", "pending", "late", "rejected", "trace"):
        frame = getattr(result, frame_name)
        text = frame.to_csv(index=True) + repr(frame.dtypes.to_dict())
        digest = hashlib.sha256(text.encode()).hexdigest()
        content = int(pd.util.hash_pandas_object(frame, index=True).sum())
        out[f"{name}.{frame_name}"] = [len(frame), digest, content]
json.dump(out, sys.stdout, sort_keys=True)
"""


def run_with_hash_seed(seed: str) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = seed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def digests() -> dict[str, dict]:
    # Both interpreters start at once: most of their time is importing.
    procs = {seed: run_with_hash_seed(seed) for seed in ("0", "12345")}
    out = {}
    for seed, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"PYTHONHASHSEED={seed} failed:\n{stderr}"
        out[seed] = json.loads(stdout)
    return out


@pytest.mark.parametrize("run", ["global", "key", "partition", "partition-kafka", "key-updates"])
@pytest.mark.parametrize("frame", ["windows", "pending", "late", "rejected", "trace"])
def test_same_bytes_under_different_hash_seeds(digests, run, frame):
    first, second = digests["0"][f"{run}.{frame}"], digests["12345"][f"{run}.{frame}"]
    assert first == second


def test_the_synthetic_frame_exercises_every_frame(digests):
    sizes = {name: value[0] for name, value in digests["0"].items()}
    for run in ("global", "key", "partition"):
        for frame in ("windows", "pending", "late", "rejected"):
            assert sizes[f"{run}.{frame}"] > 0, f"{run}.{frame} is empty"
        assert sizes[f"{run}.trace"] == 3000
