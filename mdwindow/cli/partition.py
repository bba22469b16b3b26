"""``mdwindow partition``: how the rows and keys of a tick file spread over hash partitions."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mdwindow.cli.files import check_input, require, unreadable
from mdwindow.core.hashing import HASHES
from mdwindow.core.options import OPTION_DEFAULTS
from mdwindow.hashing import DEFAULT_PARTITIONS, partition_balance

__all__ = ["add_command"]


def add_command(commands: Any) -> None:
    """Register ``partition`` with the subcommands of the ``mdwindow`` parser."""
    partition = commands.add_parser(
        "partition",
        help="show how keys spread over hash partitions",
        description="Print how rows and keys of a tick file spread over hash partitions.",
    )
    partition.add_argument("input", metavar="INPUT", type=Path, help=".parquet, .pq or .csv")
    partition.add_argument(
        "--partitions",
        type=int,
        default=DEFAULT_PARTITIONS,
        help=f"number of partitions (default {DEFAULT_PARTITIONS})",
    )
    partition.add_argument(
        "--hash",
        choices=HASHES,
        default=OPTION_DEFAULTS["hash"],
        help=f"partitioner (default {OPTION_DEFAULTS['hash']})",
    )
    partition.add_argument(
        "--seed",
        type=int,
        default=OPTION_DEFAULTS["seed"],
        help=f"murmur3 seed (default {OPTION_DEFAULTS['seed']})",
    )
    partition.add_argument(
        "--key",
        default=OPTION_DEFAULTS["key"],
        help=f"key column (default {OPTION_DEFAULTS['key']})",
    )
    partition.set_defaults(func=_cmd_partition)


def _cmd_partition(args: argparse.Namespace) -> int:
    fmt = check_input(args.input)
    require(args.input, fmt, {"--key": args.key})
    try:
        if fmt == "parquet":
            keys = pq.read_table(args.input, columns=[args.key]).to_pandas()
        else:
            keys = pd.read_csv(args.input, usecols=[args.key])
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise unreadable(args.input, fmt, exc) from None
    balance = partition_balance(keys, args.key, args.partitions, hash=args.hash, seed=args.seed)
    table = balance.to_string(
        index=False,
        formatters={
            "rows": "{:,}".format,
            "keys": "{:,}".format,
            "share": "{:.2%}".format,
        },
    )
    print(
        f"{len(keys):,} rows of {str(args.input)!r} over {args.partitions} {args.hash} partitions"
    )
    print(table)
    ratio = balance.attrs["max_mean_ratio"]
    print(f"max/mean ratio: {ratio:.3f} (1.000 is perfect balance)")
    missing = balance.attrs["missing_keys"]
    if missing:
        print(f"rows with a missing key (in no partition): {missing:,}")
    return 0
