"""``mdwindow report``: window a tick file and write a self-contained HTML report."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import Any

from mdwindow.cli.arguments import (
    CliError,
    add_window_options,
    one_line,
    required_columns,
    time_columns,
    window_keywords,
    window_options,
)
from mdwindow.cli.files import check_input, read_whole, require
from mdwindow.cli.recommend import share
from mdwindow.recommend import recommend
from mdwindow.recommend.choice import check_target

__all__ = ["add_command"]

#: The recommendation's default target: ``recommend``'s (``render_report``'s too).
DEFAULT_MAX_DROP_RATE: float = inspect.signature(recommend).parameters["max_drop_rate"].default


def add_command(commands: Any) -> None:
    """Register ``report`` with the subcommands of the ``mdwindow`` parser."""
    report = commands.add_parser(
        "report",
        help="write a self-contained HTML report of a windowing run",
        description=(
            "Window a Parquet or CSV tick file and write one HTML file with the parameters, "
            "the summary, the recommended lag and allowed lateness, the watermark of the "
            "busiest keys, the late drops, the partition balance, the lag trade-off and the "
            "first windows (figures embedded)."
        ),
    )
    add_window_options(report)
    report.add_argument("--out", required=True, type=Path, help="the HTML file to write")
    report.add_argument(
        "--max-drop-rate",
        type=share,
        default=DEFAULT_MAX_DROP_RATE,
        help="the recommendation's target: the largest share of valid rows it may drop, e.g. "
        f"0.001 or 0.1%% (default {DEFAULT_MAX_DROP_RATE:g}, as for 'mdwindow recommend')",
    )
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
    try:
        check_target(args.max_drop_rate, "latency")
    except ValueError as exc:
        raise CliError(f"--max-drop-rate: {one_line(exc).partition(': ')[2]}") from None
    keywords = window_keywords(args)
    cfg = window_options(keywords)
    require(args.input, fmt, required_columns(cfg, keywords))
    ticks = read_whole(args.input, fmt, time_columns(cfg))
    path = write_report(
        ticks, out_path=args.out, source=str(args.input), max_drop_rate=args.max_drop_rate,
        **keywords,
    )  # fmt: skip
    print(f"wrote {path} ({path.stat().st_size / 1024:,.0f} KiB, figures embedded)")
    return 0
