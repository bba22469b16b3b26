"""The ``mdwindow`` command: window a tick file, check partition balance, run the demo.

Three subcommands, all thin front doors onto the library:

``mdwindow window INPUT ...``
    Reads Parquet or CSV in row batches, feeds them to
    :class:`mdwindow.incremental.Windower` (so a long file never has to fit
    in memory twice), writes the windows and optionally the late drops, and
    prints a summary table.
``mdwindow partition INPUT ...``
    Prints :func:`mdwindow.partition_balance` and the max/mean ratio.
``mdwindow demo [--out DIR]``
    The main job: windows the bundled sample with sensible defaults and
    writes ``windows.parquet``, ``late.parquet``, ``summary.json`` and
    ``summary.txt`` into ``DIR``.

Errors print one line, ``mdwindow: error: ...``, and exit with status 2.
Set ``MDWINDOW_DEBUG=1`` to get the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mdwindow import __version__
from mdwindow.core.options import SCOPES, TumblingWindowSpec
from mdwindow.core.times import to_nanos
from mdwindow.hashing import HASHES, partition_balance
from mdwindow.incremental import Windower
from mdwindow.result import WindowResult
from mdwindow.windows import tumbling_windows

__all__ = ["build_parser", "main", "summary_table"]

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv",)
#: Rows per batch read from the input; big enough that per-push overhead vanishes.
DEFAULT_BATCH_ROWS = 100_000

#: The bundled sample, found next to the package in the flat repository layout.
SAMPLE_PATH = Path(__file__).resolve().parent.parent / "data" / "ticks_sample.parquet"
#: ``generate_ticks`` arguments of the bundled sample (``SAMPLES`` in data/make_samples.py).
SAMPLE_ARGS: dict[str, Any] = {
    "n": 300_000,
    "symbols": 20,
    "seed": 20240301,
    "duration": "30min",
    "bad_row_rate": 0.0005,
    "lagging_symbols": 3,
}
DEMO_OUT = Path("mdwindow-demo")
#: Options of the demo, as ``mdwindow window`` flags without the dashes.
DEMO_OPTIONS: dict[str, str] = {
    "size": "5s",
    "lag": "2s",
    "lateness": "1s",
    "scope": "key",
    "key": "symbol",
    "time": "ts",
    "arrival_time": "recv_ts",
    "agg": "ohlcv",
}


class CliError(Exception):
    """A problem to report in one line, without a traceback."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors become :class:`CliError` (one line, status 2)."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see '{self.prog} --help')")


# --------------------------------------------------------------------------
# Arguments


def _duration(text: str) -> str:
    """argparse type: a duration string the library will accept."""
    try:
        to_nanos(text, "duration")
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"cannot read {text!r} as a duration; use e.g. '5s', '250ms', '1min'"
        ) from None
    return text


def _positive_duration(text: str) -> str:
    """argparse type: a duration greater than zero."""
    if to_nanos(_duration(text), "duration") <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration > 0, got {text!r}")
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    """The input and windowing options shared by ``window`` and ``report``."""
    parser.add_argument("input", metavar="INPUT", type=Path, help=".parquet, .pq or .csv")
    parser.add_argument(
        "--size", required=True, type=_positive_duration, help="window size, e.g. 5s"
    )
    parser.add_argument("--offset", default="0s", type=_duration, help="window grid offset")
    parser.add_argument("--lag", default="0s", type=_duration, help="watermark lag (default 0s)")
    parser.add_argument(
        "--lateness", default="0s", type=_duration, help="allowed lateness (default 0s)"
    )
    parser.add_argument("--scope", choices=SCOPES, default="global", help="watermark scope")
    parser.add_argument("--key", default="symbol", help="key column (default symbol)")
    parser.add_argument("--time", default="ts", help="event-time column (default ts)")
    parser.add_argument(
        "--time-unit",
        choices=("s", "ms", "us", "ns"),
        help="unit of an integer event-time column (otherwise times are parsed as dates)",
    )
    parser.add_argument("--arrival-time", help="column giving the arrival order, e.g. recv_ts")
    parser.add_argument(
        "--agg", choices=("count", "ohlcv"), default="count", help="aggregates (default count)"
    )
    parser.add_argument("--price-column", default="price", help="price column for --agg ohlcv")
    parser.add_argument("--size-column", default="size", help="size column for --agg ohlcv")
    parser.add_argument("--emit", choices=("final", "updates"), default="final")
    parser.add_argument(
        "--partitions", type=_positive_int, help="hash partitions (needed by --scope partition)"
    )
    parser.add_argument("--hash", choices=HASHES, default="murmur3", help="partitioner")
    parser.add_argument("--idle-timeout", type=_duration, help="idle keys/partitions timeout")
    parser.add_argument(
        "--emit-partial",
        action="store_true",
        help="emit windows still open at the end (timing 'partial') instead of leaving "
        "them pending",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mdwindow`` command.

    Returns
    -------
    argparse.ArgumentParser
        With the subcommands ``window``, ``partition`` and ``demo``; each
        parsed namespace carries the handler in ``func``.

    Examples
    --------
    >>> args = build_parser().parse_args(
    ...     ["window", "ticks.parquet", "--size", "5s", "--out", "windows.parquet"]
    ... )
    >>> args.size, args.lag, args.scope, args.emit
    ('5s', '0s', 'global', 'final')
    """
    parser = _Parser(
        prog="mdwindow",
        description="Event-time tumbling windows with watermarks over tick files.",
    )
    parser.add_argument("--version", action="version", version=f"mdwindow {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    window = commands.add_parser(
        "window",
        help="window a Parquet or CSV tick file",
        description="Window a Parquet or CSV tick file; write the windows and print a summary.",
    )
    _add_engine_options(window)
    window.add_argument(
        "--out", required=True, type=Path, help="windows file (.parquet, .pq or .csv)"
    )
    window.add_argument("--late-out", type=Path, help="file for the dropped (late) rows")
    window.add_argument(
        "--progress", action="store_true", help="show a progress bar even if stderr is not a TTY"
    )
    window.add_argument(
        "--batch-rows", type=_positive_int, default=DEFAULT_BATCH_ROWS, help=argparse.SUPPRESS
    )
    window.set_defaults(func=_cmd_window)

    partition = commands.add_parser(
        "partition",
        help="show how keys spread over hash partitions",
        description="Print how rows and keys of a tick file spread over hash partitions.",
    )
    partition.add_argument("input", metavar="INPUT", type=Path, help=".parquet, .pq or .csv")
    partition.add_argument("--partitions", type=_positive_int, default=8, help="default 8")
    partition.add_argument("--hash", choices=HASHES, default="murmur3", help="partitioner")
    partition.add_argument("--key", default="symbol", help="key column (default symbol)")
    partition.set_defaults(func=_cmd_partition)

    report = commands.add_parser(
        "report",
        help="write a self-contained HTML report of a windowing run",
        description=(
            "Window a Parquet or CSV tick file and write one HTML file with the parameters, "
            "the summary, the watermark of the busiest keys, the late drops, the partition "
            "balance and the lag trade-off (figures embedded)."
        ),
    )
    _add_engine_options(report)
    report.add_argument("--out", required=True, type=Path, help="the HTML file to write")
    report.set_defaults(func=_cmd_report)

    demo = commands.add_parser(
        "demo",
        help="window the bundled sample and write the results",
        description=(
            "Window the bundled 30-minute sample (5s windows, lag 2s, lateness 1s, "
            "per-symbol watermarks, OHLCV) and write windows, late drops and a summary."
        ),
    )
    demo.add_argument("--out", type=Path, default=DEMO_OUT, help="folder (default mdwindow-demo)")
    demo.add_argument("--progress", action="store_true", help="always show the progress bar")
    demo.add_argument("--sample", type=Path, default=SAMPLE_PATH, help=argparse.SUPPRESS)
    demo.set_defaults(func=_cmd_demo)
    return parser


# --------------------------------------------------------------------------
# Reading


def _file_format(path: Path, what: str) -> str:
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise CliError(
        f"{what} {str(path)!r}: cannot tell the format from the extension {suffix or '(none)'!r}; "
        "use .parquet, .pq or .csv"
    )


def _check_input(path: Path) -> str:
    fmt = _file_format(path, "INPUT")
    if not path.exists():
        raise CliError(f"INPUT {str(path)!r} does not exist")
    if not path.is_file():
        raise CliError(f"INPUT {str(path)!r} is not a file")
    return fmt


def _unreadable(path: Path, fmt: str, exc: BaseException) -> CliError:
    kind = "Parquet" if fmt == "parquet" else "CSV"
    return CliError(f"cannot read {str(path)!r} as {kind}: {_one_line(exc)}")


def _columns(path: Path, fmt: str) -> list[str]:
    try:
        if fmt == "parquet":
            return list(pq.ParquetFile(path).schema_arrow.names)
        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise _unreadable(path, fmt, exc) from None


def _require(path: Path, available: list[str], wanted: dict[str, str | None]) -> None:
    for flag, column in wanted.items():
        if column is not None and column not in available:
            raise CliError(
                f"column {column!r} ({flag}) is not in {str(path)!r}; "
                f"its columns are: {', '.join(available)}"
            )


def _parse_times(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Text time columns (CSV) become UTC datetimes; datetime columns are left alone.

    ``columns`` maps each column to the flag that named it, for the error message.
    """
    for column, flag in columns.items():
        values = frame[column]
        if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
            continue
        try:
            frame[column] = pd.to_datetime(values, utc=True, format="ISO8601")
        except (ValueError, TypeError):
            try:
                with warnings.catch_warnings():
                    # pandas warns that it parses element by element; that is the point.
                    warnings.simplefilter("ignore", UserWarning)
                    frame[column] = pd.to_datetime(values, utc=True)
            except (ValueError, TypeError) as exc:
                raise CliError(
                    f"column {column!r} ({flag}): cannot read it as date/times ({_one_line(exc)})"
                ) from None
    return frame


def _read_batches(
    path: Path, fmt: str, batch_rows: int | None, progress: _Progress
) -> Iterator[pd.DataFrame]:
    """Frames of at most ``batch_rows`` rows (the whole file for None), in file order."""
    try:
        if fmt == "parquet":
            parquet = pq.ParquetFile(path)
            total = parquet.metadata.num_rows
            if batch_rows is None:
                yield parquet.read().to_pandas()
                progress.update(1.0, total)
                return
            done = 0
            for batch in parquet.iter_batches(batch_size=batch_rows):
                done += batch.num_rows
                yield batch.to_pandas()
                progress.update(done / total if total else 1.0, done)
            if total == 0:
                # An empty file yields no batch; one empty frame still tells the
                # engine the columns (and flushing a Windower that saw no chunk
                # at all fails with agg="ohlcv").
                yield parquet.schema_arrow.empty_table().to_pandas()
            return
        size = path.stat().st_size
        with path.open("rb") as handle:
            if batch_rows is None:
                frame = pd.read_csv(handle)
                yield frame
                progress.update(1.0, len(frame))
                return
            done, chunks = 0, 0
            for frame in pd.read_csv(handle, chunksize=batch_rows):
                done, chunks = done + len(frame), chunks + 1
                yield frame
                # The parser reads ahead, so the byte position is approximate.
                progress.update(min(handle.tell() / size, 1.0) if size else 1.0, done)
            if chunks == 0:
                yield pd.read_csv(path, nrows=0)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise _unreadable(path, fmt, exc) from None


# --------------------------------------------------------------------------
# Progress


class _Progress:
    """A one-line progress bar on stderr, redrawn in place; silent when disabled."""

    def __init__(self, label: str, enabled: bool, stream: TextIO | None = None) -> None:
        self.label = label
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self._last = 0.0
        self._drawn = False

    def update(self, fraction: float, rows: int) -> None:
        now = time.monotonic()
        if not self.enabled or (fraction < 1.0 and now - self._last < 0.1):
            return
        self._last = now
        filled = int(round(30 * fraction))
        bar = "#" * filled + "-" * (30 - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction:4.0%} {rows:,} rows")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _progress_enabled(forced: bool) -> bool:
    return forced or sys.stderr.isatty()


# --------------------------------------------------------------------------
# Windowing


def _spec(args: argparse.Namespace) -> TumblingWindowSpec:
    return TumblingWindowSpec(args.size, offset=args.offset, emit_partial=args.emit_partial)


def _engine_keywords(args: argparse.Namespace, scope: str | None = None) -> dict[str, Any]:
    """The ``window`` options as keywords of ``Windower`` / ``tumbling_windows``."""
    return {
        "time": args.time,
        "key": args.key,
        "agg": "ohlcv" if args.agg == "ohlcv" else None,
        "emit": args.emit,
        "arrival_time": args.arrival_time,
        "time_unit": args.time_unit,
        "partitions": args.partitions,
        "hash": args.hash,
        "price": args.price_column,
        "size": args.size_column,
        "lag": args.lag,
        "allowed_lateness": args.lateness,
        "scope": scope or args.scope,
        "idle_timeout": args.idle_timeout,
    }


def _time_columns(args: argparse.Namespace) -> dict[str, str]:
    """Columns to parse as date/times, by the flag that names them."""
    columns = {} if args.time_unit is not None else {args.time: "--time"}
    if args.arrival_time is not None:
        columns[args.arrival_time] = "--arrival-time"
    return columns


def _required_columns(args: argparse.Namespace) -> dict[str, str | None]:
    """Input columns the ``window`` options name, by flag."""
    wanted: dict[str, str | None] = {
        "--time": args.time,
        "--key": args.key,
        "--arrival-time": args.arrival_time,
    }
    if args.agg == "ohlcv":
        wanted |= {"--price-column": args.price_column, "--size-column": args.size_column}
    return wanted


def _new_windower(args: argparse.Namespace) -> Windower:
    """A Windower for the ``window`` options; refuses combinations the engine refuses."""
    # The engine would name its own keywords; a command-line user needs the flags.
    if args.scope == "partition" and args.partitions is None:
        raise CliError("--scope partition needs --partitions P (the number of hash partitions)")
    if args.idle_timeout is not None and args.scope == "global":
        raise CliError("--idle-timeout needs --scope key or --scope partition")
    return Windower(_spec(args), **_engine_keywords(args))


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


def _push_all(frames: Iterator[pd.DataFrame], args: argparse.Namespace) -> WindowResult:
    """Push frames one by one (numbered on as one input), then flush."""
    parts: list[WindowResult] = []
    rows = 0
    last_arrival = None
    windower = _new_windower(args)
    time_columns = _time_columns(args)
    for frame in frames:
        frame = _parse_times(frame, time_columns)
        # Continue the row labels across batches, so that late and rejected rows
        # carry their row number in the file, as a whole-file run would.
        frame.index = pd.RangeIndex(rows, rows + len(frame))
        rows += len(frame)
        if args.arrival_time is not None and len(frame):
            stamps = frame[args.arrival_time]
            if last_arrival is not None and stamps.min() < last_arrival:
                raise _OutOfArrivalOrder
            last_arrival = (
                stamps.max() if last_arrival is None else max(last_arrival, stamps.max())
            )
        parts.append(windower.push(frame))
    parts.append(windower.flush())
    return _combine(parts)


def _window_file(
    path: Path, fmt: str, args: argparse.Namespace, progress: _Progress
) -> WindowResult:
    """Window a file in batches through the incremental engine."""
    try:
        return _push_all(_read_batches(path, fmt, args.batch_rows, progress), args)
    except _OutOfArrivalOrder:
        # Windower needs batches in arrival order; a file that is not sorted by
        # the arrival column is windowed whole, which sorts it (stably) first.
        progress.close()
        print(
            f"mdwindow: note: {str(path)!r} is not sorted by {args.arrival_time!r}; "
            "reading it whole",
            file=sys.stderr,
        )
        return _push_all(_read_batches(path, fmt, None, progress), args)
    finally:
        progress.close()


def _window_frame(
    ticks: pd.DataFrame, args: argparse.Namespace, progress: _Progress
) -> WindowResult:
    """Window an in-memory frame in batches, as a file would be."""

    def batches() -> Iterator[pd.DataFrame]:
        for start in range(0, len(ticks), args.batch_rows):
            stop = min(start + args.batch_rows, len(ticks))
            yield ticks.iloc[start:stop].copy()
            progress.update(stop / len(ticks), stop)

    try:
        return _push_all(batches(), args)
    except _OutOfArrivalOrder:
        # As for a file: a frame not sorted by arrival time goes in as one chunk.
        return _push_all(iter([ticks.copy()]), args)
    finally:
        progress.close()


# --------------------------------------------------------------------------
# Writing and printing


def _check_output(path: Path, what: str) -> str:
    fmt = _file_format(path, what)
    if path.is_dir():
        raise CliError(f"{what} {str(path)!r} is a folder; give a file name")
    if not path.parent.is_dir():
        raise CliError(f"{what} {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    return fmt


def _write(frame: pd.DataFrame, path: Path, *, keep_index: bool = False) -> Path:
    """Write Parquet or CSV by extension; ``keep_index`` keeps the row labels as ``row``."""
    if keep_index:
        frame = frame.rename_axis(frame.index.name or "row")
    if _file_format(path, "output") == "parquet":
        frame.to_parquet(path, index=keep_index)
    else:
        frame.to_csv(path, index=keep_index)
    return path


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


def _rate(value: float) -> str:
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
        (label, _rate(summary[name]) if name == "drop_rate" else f"{summary[name]:,}")
        for name, label in SUMMARY_LABELS.items()
    ]
    width = max(len(value) for _, value in cells)
    return "\n".join(f"{label:<10} {value:>{width}}" for label, value in cells)


def _one_line(exc: BaseException) -> str:
    # KeyError's str() adds quotes around the message; take the message itself.
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(text.split()) or type(exc).__name__


# --------------------------------------------------------------------------
# Commands


def _cmd_window(args: argparse.Namespace) -> int:
    # Everything that can be checked without reading the data is checked first,
    # so a typo fails at once rather than after minutes of reading.
    fmt = _check_input(args.input)
    _check_output(args.out, "--out")
    if args.late_out is not None:
        _check_output(args.late_out, "--late-out")
        if args.late_out.resolve() == args.out.resolve():
            raise CliError("--out and --late-out name the same file; give two different files")
    _new_windower(args)
    _require(args.input, _columns(args.input, fmt), _required_columns(args))

    progress = _Progress("mdwindow: windowing", _progress_enabled(args.progress))
    result = _window_file(args.input, fmt, args, progress)

    _write(result.windows, args.out)
    written = [f"wrote {args.out} ({len(result.windows):,} windows)"]
    if args.late_out is not None:
        _write(result.late, args.late_out, keep_index=True)
        written.append(f"wrote {args.late_out} ({len(result.late):,} dropped rows)")
    print(summary_table(result.summary()))
    print("\n".join(written))
    return 0


def _read_whole(path: Path, fmt: str, args: argparse.Namespace) -> pd.DataFrame:
    """The whole input as one frame, time columns parsed as for ``window``."""
    try:
        frame = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise _unreadable(path, fmt, exc) from None
    return _parse_times(frame, _time_columns(args))


def _cmd_report(args: argparse.Namespace) -> int:
    from mdwindow.report import write_report

    fmt = _check_input(args.input)
    if args.out.suffix.lower() not in (".html", ".htm"):
        raise CliError(f"--out {str(args.out)!r}: the report is HTML; name a .html file")
    _new_windower(args)
    _require(args.input, _columns(args.input, fmt), _required_columns(args))
    ticks = _read_whole(args.input, fmt, args)
    options = _engine_keywords(args)
    for unused in ("agg", "emit", "price", "size"):
        options.pop(unused)
    path = write_report(ticks, _spec(args), args.out, source=str(args.input), **options)
    print(f"wrote {path} ({path.stat().st_size / 1024:,.0f} KiB, figures embedded)")
    return 0


def _cmd_partition(args: argparse.Namespace) -> int:
    fmt = _check_input(args.input)
    _require(args.input, _columns(args.input, fmt), {"--key": args.key})
    try:
        if fmt == "parquet":
            keys = pq.read_table(args.input, columns=[args.key]).to_pandas()
        else:
            keys = pd.read_csv(args.input, usecols=[args.key])
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise _unreadable(args.input, fmt, exc) from None
    balance = partition_balance(keys, args.key, args.partitions, hash=args.hash)
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


def _demo_flags() -> list[str]:
    return [
        part
        for name, value in DEMO_OPTIONS.items()
        for part in (f"--{name.replace('_', '-')}", value)
    ]


def _load_sample(path: Path) -> tuple[pd.DataFrame, str]:
    """The demo's ticks and where they came from; generated if the file is missing."""
    if path.is_file():
        return pd.read_parquet(path), str(path)
    from mdwindow.synth import generate_ticks

    arguments = ", ".join(f"{name}={value!r}" for name, value in SAMPLE_ARGS.items())
    print(
        f"mdwindow: note: {str(path)!r} not found; generating the same sample with "
        f"mdwindow.synth.generate_ticks({arguments})",
        file=sys.stderr,
    )
    return generate_ticks(**SAMPLE_ARGS), "generated by mdwindow.synth (the bundled sample)"


def _demo_extras(result: WindowResult, ticks: pd.DataFrame, out_dir: Path) -> list[Path]:
    """The demo's figures and HTML report.

    Parameters
    ----------
    result : WindowResult
        The demo's windowing result (scope "key").
    ticks : pandas.DataFrame
        The ticks it was computed from, in arrival order.
    out_dir : pathlib.Path
        The demo folder, which already exists.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order to list them.
    """
    from matplotlib.figure import Figure

    from mdwindow.plotting import plot_late_drops, plot_watermark
    from mdwindow.report import _densest_drops, write_report

    written = []
    figure = Figure(figsize=(11, 5), layout="constrained")
    busiest = ticks[DEMO_OPTIONS["key"]].value_counts().index[0]
    plot_watermark(
        result, ticks, key=busiest, arrival_time=DEMO_OPTIONS["arrival_time"],
        arrival_range=_densest_drops(result, len(ticks)), ax=figure.add_subplot(),
    )  # fmt: skip
    figure.savefig(out_dir / "watermark.png", dpi=100)
    written.append(out_dir / "watermark.png")
    figure = Figure(figsize=(11, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    plot_late_drops(result, by="key", ax=left)
    plot_late_drops(result, by="late_by", ax=right)
    figure.savefig(out_dir / "late_drops.png", dpi=100)
    written.append(out_dir / "late_drops.png")
    written.append(
        write_report(
            ticks,
            DEMO_OPTIONS["size"],
            out_dir / "report.html",
            lag=DEMO_OPTIONS["lag"],
            allowed_lateness=DEMO_OPTIONS["lateness"],
            scope=DEMO_OPTIONS["scope"],
            key=DEMO_OPTIONS["key"],
            arrival_time=DEMO_OPTIONS["arrival_time"],
            title="mdwindow demo",
            source="the bundled sample",
        )
    )
    return written


def _json_ready(summary: dict[str, Any]) -> dict[str, Any]:
    # JSON has no NaN: an undefined drop rate is written as null.
    return {
        name: None if isinstance(value, float) and math.isnan(value) else value
        for name, value in summary.items()
    }


def _scope_line(by_scope: dict[str, dict[str, Any]]) -> str:
    """One line comparing the scopes: the names, then each count in the same order."""
    scopes = list(by_scope)

    def each(name: str, fmt: Any) -> str:
        return " vs ".join(fmt(by_scope[scope][name]) for scope in scopes)

    return (
        f"scope {' vs '.join(scopes)}: dropped {each('dropped', '{:,}'.format)} rows "
        f"({each('drop_rate', _rate)}), accepted late {each('late', '{:,}'.format)}"
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    out_dir: Path = args.out
    if out_dir.exists() and not out_dir.is_dir():
        raise CliError(f"--out {str(out_dir)!r} exists and is not a folder")
    ticks, source = _load_sample(args.sample)
    # The demo is the window command with fixed options, parsed the same way.
    command = [
        *("window", str(args.sample), *_demo_flags()),
        *("--out", str(out_dir / "windows.parquet"), "--late-out", str(out_dir / "late.parquet")),
    ]
    options = build_parser().parse_args(command)
    progress = _Progress("mdwindow: windowing", _progress_enabled(args.progress))
    result = _window_frame(ticks, options, progress)
    summary = result.summary()
    # The same settings with one market-wide watermark, for comparison.
    global_summary = tumbling_windows(
        ticks, _spec(options), **_engine_keywords(options, scope="global")
    ).summary()
    by_scope = {"global": global_summary, "key": summary}

    span = ticks[options.time]
    header = (
        f"mdwindow demo: {len(ticks):,} ticks of {ticks[options.key].nunique()} symbols, "
        f"{span.min():%Y-%m-%d %H:%M:%S} to {span.max():%H:%M:%S} UTC ({source})\n"
        f"as: mdwindow {' '.join(command)}"
    )
    text = f"{header}\n\n{summary_table(summary)}\n\n{_scope_line(by_scope)}\n"

    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        (_write(result.windows, out_dir / "windows.parquet"), f"{len(result.windows):,} windows"),
        (
            _write(result.late, out_dir / "late.parquet", keep_index=True),
            f"{len(result.late):,} dropped rows",
        ),
    ]
    report = {
        "input": source,
        "options": DEMO_OPTIONS,
        "summary": _json_ready(summary),
        "by_scope": {scope: _json_ready(s) for scope, s in by_scope.items()},
    }
    json_path = out_dir / "summary.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    written.append((json_path, "the summary, machine readable"))
    text_path = out_dir / "summary.txt"
    text_path.write_text(text, encoding="utf-8")
    written.append((text_path, "this summary, as text"))
    written += [(path, "") for path in _demo_extras(result, ticks, out_dir)]

    print(text)
    print(f"wrote into {out_dir}/:")
    width = max(len(path.name) for path, _ in written)
    for path, what in written:
        print(f"  {path.name:<{width}}  {what}".rstrip())
    return 0


# --------------------------------------------------------------------------
# Entry point


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


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {str(exc.filename)!r}"
    return _one_line(exc)
