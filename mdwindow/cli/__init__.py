"""The ``mdwindow`` command: window a tick file, check partition balance, report, run the demo.

Four subcommands, all thin front doors onto the library, one module each:

``mdwindow window INPUT ...`` (:mod:`~mdwindow.cli.window`)
    Reads Parquet or CSV in row batches, feeds them to
    :class:`mdwindow.incremental.Windower` (so a long file never has to fit
    in memory twice), writes the windows and optionally the late drops, and
    prints a summary table.
``mdwindow partition INPUT ...`` (:mod:`~mdwindow.cli.partition`)
    Prints :func:`mdwindow.partition_balance` and the max/mean ratio.
``mdwindow report INPUT ...`` (:mod:`~mdwindow.cli.report`)
    Writes :func:`mdwindow.write_report`'s self-contained HTML report.
``mdwindow demo [--out DIR]`` (:mod:`~mdwindow.cli.demo`)
    The main job: windows the bundled sample with sensible defaults and
    writes ``windows.parquet``, ``late.parquet``, ``summary.json``,
    ``summary.txt``, two figures and ``report.html`` into ``DIR``.

``window``, ``report`` and ``demo`` take the same window options, mapped
to the options record by :mod:`~mdwindow.cli.arguments`; files are read
and written by :mod:`~mdwindow.cli.files`.

Errors print one line, ``mdwindow: error: ...``, and exit with status 2.
Set ``MDWINDOW_DEBUG=1`` to get the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence

import pyarrow as pa

from mdwindow import __version__
from mdwindow.cli import demo, partition, recommend, report, window
from mdwindow.cli.arguments import CliError, Parser, one_line
from mdwindow.cli.demo import SAMPLE_ARGS, SAMPLE_PATH
from mdwindow.cli.window import SUMMARY_LABELS, summary_table

__all__ = [
    "SAMPLE_ARGS",
    "SAMPLE_PATH",
    "SUMMARY_LABELS",
    "CliError",
    "build_parser",
    "main",
    "summary_table",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mdwindow`` command.

    Returns
    -------
    argparse.ArgumentParser
        With the subcommands ``window``, ``partition``, ``report`` and
        ``demo``; each parsed namespace carries the handler in ``func``.
        Window options not given are None: the options record decides
        their defaults.

    Examples
    --------
    >>> args = build_parser().parse_args(
    ...     ["window", "ticks.parquet", "--size", "5s", "--out", "windows.parquet"]
    ... )
    >>> args.size, args.lag, args.scope, args.emit
    ('5s', None, None, None)
    """
    parser = Parser(
        prog="mdwindow",
        description="Event-time tumbling windows with watermarks over tick files.",
    )
    parser.add_argument("--version", action="version", version=f"mdwindow {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in (window, partition, report, recommend, demo):
        command.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mdwindow`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        The exit status: 0 on success, 2 on any error (reported in one line
        ``mdwindow: error: ...`` on stderr).

    Examples
    --------
    >>> main(["window", "ticks.txt", "--size", "5s", "--out", "w.parquet"])
    2
    """
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing more can be said on stdout.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("\nmdwindow: interrupted", file=sys.stderr)
        return 130
    except (CliError, OSError, ValueError, TypeError, KeyError, pa.ArrowException) as exc:
        if os.environ.get("MDWINDOW_DEBUG"):
            raise
        print(f"mdwindow: error: {_describe(exc)}", file=sys.stderr)
        return 2


#: Python advice in the engine's messages, and what a command-line user can do instead.
_PYTHON_ADVICE = (
    (
        re.compile(r"(column '[^']*' holds .*? values, not datetimes); convert it first.*"),
        r"\1; name a date/time column with --time (or integers with --time-unit)",
    ),
    (
        re.compile(r"(column '[^']*' holds integers .*?) but no time_unit was given.*"),
        r"\1; say what they count with --time-unit s, ms, us or ns",
    ),
    (
        re.compile(r"(agg: column '[^']*' holds .*? values, but 'ohlcv' needs numbers); .*"),
        r"\1; name numeric columns with --price-column and --size-column",
    ),
    (
        re.compile(r"(key: column '[^']*' holds keys of .*?); .*"),
        r"\1; give the key column keys of one type (e.g. all text)",
    ),
)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {str(exc.filename)!r}"
    return command_line_words(one_line(exc))


def command_line_words(message: str) -> str:
    """An error message with Python advice replaced by what to do on the command line.

    Examples
    --------
    >>> print(command_line_words(
    ...     "agg: column 'size' holds str values, but 'ohlcv' needs numbers; "
    ...     "convert it first, e.g. pd.to_numeric(ticks['size'])"
    ... ))
    agg: column 'size' holds str values, but 'ohlcv' needs numbers; name numeric columns \
with --price-column and --size-column
    """
    for pattern, advice in _PYTHON_ADVICE:
        if pattern.fullmatch(message):
            return pattern.sub(advice, message)
    return message
