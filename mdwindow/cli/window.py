"""``mdwindow window``: window a tick file in batches through the incremental engine."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from mdwindow.cli.arguments import (
    CliError,
    add_window_options,
    positive_int,
    required_columns,
    time_columns,
    window_keywords,
    window_options,
)
from mdwindow.cli.files import check_input, check_output, parse_times, read_batches, require, write
from mdwindow.cli.progress import Progress, progress_enabled
from mdwindow.core.options import WindowOptions
from mdwindow.incremental import Windower
from mdwindow.result import WindowResult

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "SUMMARY_LABELS",
    "add_command",
    "add_window_arguments",
    "rate_text",
    "summary_table",
    "window_frame",
]

#: Rows per batch read from the input; big enough that per-push overhead vanishes.
DEFAULT_BATCH_ROWS = 100_000

SUMMARY_LABELS = {
    "rows": "rows",
    "windows": "windows",
    "on_time": "on time",
    "late": "late",
    "dropped": "dropped",
    "rejected": "rejected",
    "pending": "pending",
    "drop_rate": "drop rate",
}


def add_window_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The arguments of ``mdwindow window``: the window options, outputs and batching."""
    add_window_options(parser)
    parser.add_argument(
        "--out", required=True, type=Path, help="windows file (.parquet, .pq or .csv)"
    )
    parser.add_argument("--late-out", type=Path, help="file for the dropped (late) rows")
    parser.add_argument(
        "--progress", action="store_true", help="show a progress bar even if stderr is not a TTY"
    )
    parser.add_argument(
        "--batch-rows", type=positive_int, default=DEFAULT_BATCH_ROWS, help=argparse.SUPPRESS
    )
    return parser


def add_command(commands: Any) -> None:
    """Register ``window`` with the subcommands of the ``mdwindow`` parser."""
    window = commands.add_parser(
        "window",
        help="window a Parquet or CSV tick file",
        description="Window a Parquet or CSV tick file; write the windows and print a summary.",
    )
    add_window_arguments(window)
    window.set_defaults(func=_cmd_window)


# --------------------------------------------------------------------------
# Windowing in batches


class _OutOfArrivalOrder(Exception):
    """A batch starts before the previous one ended in arrival time."""


def _combine(parts: list[WindowResult]) -> WindowResult:
    def concat(frames: list[pd.DataFrame], ignore_index: bool) -> pd.DataFrame:
        filled = [frame for frame in frames if len(frame)]
        if not filled:
            return frames[0]
        if len(filled) == 1:
            return filled[0].reset_index(drop=True) if ignore_index else filled[0]
        return pd.concat(filled, ignore_index=ignore_index)

    return WindowResult(
        windows=concat([p.windows for p in parts], ignore_index=True),
        pending=parts[-1].pending,
        late=concat([p.late for p in parts], ignore_index=False),
        rejected=concat([p.rejected for p in parts], ignore_index=False),
        trace=concat([p.trace for p in parts], ignore_index=False),
    )


def _push_all(
    frames: Iterator[pd.DataFrame], keywords: dict[str, Any], cfg: WindowOptions
) -> WindowResult:
    """Push frames one by one (numbered on as one input), then flush."""
    parts: list[WindowResult] = []
    rows = 0
    last_arrival = None
    windower = Windower(**keywords)
    parsed = time_columns(cfg)
    for frame in frames:
        frame = parse_times(frame, parsed)
        # Continue the row labels across batches, so that late and rejected rows
        # carry their row number in the file, as a whole-file run would.
        frame.index = pd.RangeIndex(rows, rows + len(frame))
        rows += len(frame)
        if cfg.arrival_time is not None and len(frame):
            stamps = frame[cfg.arrival_time]
            if last_arrival is not None and stamps.min() < last_arrival:
                raise _OutOfArrivalOrder
            last_arrival = (
                stamps.max() if last_arrival is None else max(last_arrival, stamps.max())
            )
        parts.append(windower.push(frame))
    parts.append(windower.flush())
    return _combine(parts)


def _window_file(
    path: Path, fmt: str, batch_rows: int, keywords: dict[str, Any], progress: Progress
) -> WindowResult:
    """Window a file in batches through the incremental engine."""
    cfg = window_options(keywords)
    try:
        return _push_all(read_batches(path, fmt, batch_rows, progress), keywords, cfg)
    except _OutOfArrivalOrder:
        # Windower needs batches in arrival order; a file that is not sorted by
        # the arrival column is windowed whole, which sorts it (stably) first.
        progress.close()
        print(
            f"mdwindow: note: {str(path)!r} is not sorted by {cfg.arrival_time!r}; "
            "reading it whole",
            file=sys.stderr,
        )
        return _push_all(read_batches(path, fmt, None, progress), keywords, cfg)
    finally:
        progress.close()


def window_frame(
    ticks: pd.DataFrame, batch_rows: int, keywords: dict[str, Any], progress: Progress
) -> WindowResult:
    """Window an in-memory frame in batches, as a file would be."""
    cfg = window_options(keywords)

    def batches() -> Iterator[pd.DataFrame]:
        for start in range(0, len(ticks), batch_rows):
            stop = min(start + batch_rows, len(ticks))
            yield ticks.iloc[start:stop].copy()
            progress.update(stop / len(ticks), stop)

    try:
        return _push_all(batches(), keywords, cfg)
    except _OutOfArrivalOrder:
        # As for a file: a frame not sorted by arrival time goes in as one chunk.
        return _push_all(iter([ticks.copy()]), keywords, cfg)
    finally:
        progress.close()


# --------------------------------------------------------------------------
# Printing


def rate_text(value: float) -> str:
    """A drop rate as a percentage, ``n/a`` when undefined (no valid rows)."""
    return "n/a" if math.isnan(value) else f"{value:.4%}"


def summary_table(summary: dict[str, Any]) -> str:
    """Format :meth:`WindowResult.summary` as an aligned two-column table.

    Parameters
    ----------
    summary : dict
        As returned by :meth:`mdwindow.WindowResult.summary`.

    Returns
    -------
    str
        One line per count, in the order rows, windows, on time, late,
        dropped, rejected, pending, drop rate.

    Examples
    --------
    >>> import pandas as pd
    >>> from mdwindow import tumbling_windows
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> print(summary_table(tumbling_windows(ticks, "2s", allowed_lateness="1s").summary()))
    rows              7
    windows           2
    on time           4
    late              2
    dropped           1
    rejected          0
    pending           1
    drop rate  14.2857%
    """
    cells = [
        (label, rate_text(summary[name]) if name == "drop_rate" else f"{summary[name]:,}")
        for name, label in SUMMARY_LABELS.items()
    ]
    width = max(len(value) for _, value in cells)
    return "\n".join(f"{label:<10} {value:>{width}}" for label, value in cells)


def _cmd_window(args: argparse.Namespace) -> int:
    # Everything that can be checked without reading the data is checked first,
    # so a typo fails at once rather than after minutes of reading.
    fmt = check_input(args.input)
    check_output(args.out, "--out", args.input)
    if args.late_out is not None:
        check_output(args.late_out, "--late-out", args.input)
        if args.late_out.resolve() == args.out.resolve():
            raise CliError("--out and --late-out name the same file; give two different files")
    keywords = window_keywords(args)
    require(args.input, fmt, required_columns(window_options(keywords), keywords))

    progress = Progress("mdwindow: windowing", progress_enabled(args.progress))
    result = _window_file(args.input, fmt, args.batch_rows, keywords, progress)

    write(result.windows, args.out)
    written = [f"wrote {args.out} ({len(result.windows):,} windows)"]
    if args.late_out is not None:
        write(result.late, args.late_out, keep_index=True)
        written.append(f"wrote {args.late_out} ({len(result.late):,} dropped rows)")
    print(summary_table(result.summary()))
    print("\n".join(written))
    return 0
