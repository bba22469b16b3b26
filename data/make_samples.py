"""Regenerate the sample tick files in ``data/`` from fixed seeds.

Run from the repository root (the output is the same on every run)::

    python data/make_samples.py

``SAMPLES`` maps each file name to the exact :func:`mdwindow.synth.generate_ticks`
arguments that produce it; the tests regenerate from it and compare.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd

DATA_DIR = Path(__file__).resolve().parent

SAMPLES: dict[str, dict[str, Any]] = {
    # About 30 minutes of 20 symbols: six or so stalls, a lagging venue,
    # duplicates and a handful of bad rows for the rejected path.
    "ticks_sample.parquet": {
        "n": 300_000,
        "symbols": 20,
        "seed": 20240301,
        "duration": "30min",
        "bad_row_rate": 0.0005,
        "lagging_symbols": 3,
    },
    # Two minutes of 8 symbols, small enough to read by eye; stalls are made
    # frequent so that even this short stretch contains a few.
    "ticks_small.csv": {
        "n": 5_000,
        "symbols": 8,
        "seed": 7,
        "duration": "2min",
        "stall_rate": 1 / 20,
        "bad_row_rate": 0.002,
    },
}


def sample_frame(name: str) -> pd.DataFrame:
    """Generate the frame stored as ``data/<name>``.

    Parameters
    ----------
    name : str
        A key of ``SAMPLES``.

    Returns
    -------
    pandas.DataFrame
        The ticks, exactly as written to the file.
    """
    try:
        from mdwindow.synth import generate_ticks
    except ModuleNotFoundError:
        # Run as a script from a source tree that is not installed.
        sys.path.insert(0, str(DATA_DIR.parent))
        from mdwindow.synth import generate_ticks
    return generate_ticks(**SAMPLES[name])


def iso_timestamps(stamps: pd.Series) -> pd.Series:
    """Format UTC timestamps as ISO 8601 with nanoseconds and a ``+00:00`` offset.

    Parameters
    ----------
    stamps : pandas.Series
        datetime64[ns, UTC] values; NaT becomes a missing value.

    Returns
    -------
    pandas.Series
        Strings such as ``2024-03-01T14:30:00.046884843+00:00``.
    """
    # strftime stops at microseconds, so the nanoseconds are appended by hand.
    nanoseconds = stamps.dt.microsecond * 1_000 + stamps.dt.nanosecond
    fraction = nanoseconds.astype("Int64").astype("str").str.zfill(9)
    return stamps.dt.strftime("%Y-%m-%dT%H:%M:%S") + "." + fraction + "+00:00"


def main() -> None:
    """Write every file in ``SAMPLES`` and print its row count and size."""
    parquet_path = DATA_DIR / "ticks_sample.parquet"
    sample_frame(parquet_path.name).to_parquet(
        parquet_path,
        engine="pyarrow",
        compression="zstd",
        index=False,
        # Delta-encoding the nearly sorted timestamps takes the file from
        # about 4.7 MB to under 3 MB; the other columns repeat, so dictionaries.
        use_dictionary=["symbol", "price", "size", "venue"],
        column_encoding={"ts": "DELTA_BINARY_PACKED", "recv_ts": "DELTA_BINARY_PACKED"},
    )
    csv_path = DATA_DIR / "ticks_small.csv"
    small = sample_frame(csv_path.name)
    small.assign(ts=iso_timestamps(small["ts"]), recv_ts=iso_timestamps(small["recv_ts"])).to_csv(
        csv_path, index=False, lineterminator="\n"
    )
    for path in (parquet_path, csv_path):
        rows = len(pd.read_parquet(path)) if path.suffix == ".parquet" else len(pd.read_csv(path))
        print(f"{path.name}: {rows:,} rows, {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
