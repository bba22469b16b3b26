"""Tick files in and result files out: Parquet or CSV, told apart by extension."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mdwindow.cli.arguments import CliError, one_line
from mdwindow.cli.progress import Progress

__all__ = [
    "check_input",
    "check_output",
    "columns_of",
    "file_format",
    "parse_times",
    "read_batches",
    "read_whole",
    "require",
    "unreadable",
    "write",
]

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv",)


def file_format(path: Path, what: str) -> str:
    """``"parquet"`` or ``"csv"`` by the extension of ``path`` (named ``what`` in errors)."""
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise CliError(
        f"{what} {str(path)!r}: cannot tell the format from the extension {suffix or '(none)'!r}; "
        "use .parquet, .pq or .csv"
    )


def check_input(path: Path) -> str:
    """The format of the input file, once it is known to exist and be a file."""
    fmt = file_format(path, "INPUT")
    if not path.exists():
        raise CliError(f"INPUT {str(path)!r} does not exist")
    if not path.is_file():
        raise CliError(f"INPUT {str(path)!r} is not a file")
    return fmt


def unreadable(path: Path, fmt: str, exc: BaseException) -> CliError:
    """The one-line error for a file that its reader refused."""
    kind = "Parquet" if fmt == "parquet" else "CSV"
    return CliError(f"cannot read {str(path)!r} as {kind}: {one_line(exc)}")


def columns_of(path: Path, fmt: str) -> list[str]:
    """The column names of a file, without reading its rows."""
    try:
        if fmt == "parquet":
            return list(pq.ParquetFile(path).schema_arrow.names)
        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise unreadable(path, fmt, exc) from None


def require(path: Path, fmt: str, wanted: dict[str, str | None]) -> None:
    """Refuse a file that lacks a column the options name (``wanted``: flag -> column).

    Checked before any row is read, so that a typo fails at once.
    """
    available = columns_of(path, fmt)
    for flag, column in wanted.items():
        if column is not None and column not in available:
            raise CliError(
                f"column {column!r} ({flag}) is not in {str(path)!r}; "
                f"its columns are: {', '.join(available)}"
            )


def parse_times(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
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
                    f"column {column!r} ({flag}): cannot read it as date/times ({one_line(exc)})"
                ) from None
    return frame


def read_batches(
    path: Path, fmt: str, batch_rows: int | None, progress: Progress
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
        raise unreadable(path, fmt, exc) from None


def check_output(path: Path, what: str, source: Path | None = None) -> str:
    """The format of an output file, once its folder is known to exist.

    ``source`` is the input file: an output that names it (by any path, or
    through a link) is refused, so a run never overwrites its own input.
    """
    fmt = file_format(path, what)
    if source is not None and _same_file(path, source):
        raise CliError(
            f"{what} {str(path)!r} is the input file; give another file name "
            "(the input would be overwritten)"
        )
    if path.is_dir():
        raise CliError(f"{what} {str(path)!r} is a folder; give a file name")
    if not path.parent.is_dir():
        raise CliError(f"{what} {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    return fmt


def _same_file(path: Path, other: Path) -> bool:
    try:
        return path.exists() and other.exists() and path.samefile(other)
    except OSError:
        return path.resolve() == other.resolve()


def write(frame: pd.DataFrame, path: Path, *, keep_index: bool = False) -> Path:
    """Write Parquet or CSV by extension; ``keep_index`` keeps the row labels as ``row``."""
    if keep_index:
        frame = frame.rename_axis(frame.index.name or "row")
    if file_format(path, "output") == "parquet":
        frame.to_parquet(path, index=keep_index)
    else:
        frame.to_csv(path, index=keep_index)
    return path


def read_whole(path: Path, fmt: str, time_columns: dict[str, str]) -> pd.DataFrame:
    """The whole input as one frame, ``time_columns`` parsed as for ``window``."""
    try:
        frame = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise unreadable(path, fmt, exc) from None
    return parse_times(frame, time_columns)
