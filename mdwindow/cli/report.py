"""``mdwindow report``: window a tick file and write a self-contained HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mdwindow.cli.arguments import (
    CliError,
    add_window_options,
    required_columns,
    time_columns,
    window_keywords,
    window_options,
)
from mdwindow.cli.files import check_input, read_whole, require

__all__ = ["add_command"]


def add_command(commands: Any) -> None:
    """Register ``report`` with the subcommands of the ``mdwindow`` parser."""
    report = commands.add_parser(
        "report",
        help="write a self-contained HTML report of a windowing run",
        description=(
            "Window a Parquet or CSV tick file and write one HTML file with the parameters, "
            "the summary, the watermark of the busiest keys, the late drops, the partition "
            "balance, the lag trade-off and the first windows (figures embedded)."
        ),
    )
    add_window_options(report)
    report.add_argument("--out", required=True, type=Path, help="the HTML file to write")
    report.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from mdwindow.report import write_report

    fmt = check_input(args.input)
    if args.out.suffix.lower() not in (".html", ".htm"):
        raise CliError(f"--out {str(args.out)!r}: the report is HTML; name a .html file")
    # Checked before any work: the report takes long, its output place does not.
    if args.out.is_dir():
        raise CliError(f"--out {str(args.out)!r} is a folder; give a file name")
    if not args.out.parent.is_dir():
        raise CliError(
            f"--out {str(args.out)!r}: the folder {str(args.out.parent)!r} does not exist"
        )
    if args.out.exists() and args.out.samefile(args.input):
        raise CliError(f"--out {str(args.out)!r} is the input file; give another file name")
    keywords = window_keywords(args)
    cfg = window_options(keywords)
    require(args.input, fmt, required_columns(cfg, keywords))
    ticks = read_whole(args.input, fmt, time_columns(cfg))
    path = write_report(ticks, out_path=args.out, source=str(args.input), **keywords)
    print(f"wrote {path} ({path.stat().st_size / 1024:,.0f} KiB, figures embedded)")
    return 0
