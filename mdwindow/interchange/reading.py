"""Reading any accepted frame into the pandas frame the engine works on."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from mdwindow.core.prepare import ADDED_COLUMNS
from mdwindow.interchange.kinds import (
    ACCEPTED_FRAMES,
    ATTRS_METADATA,
    ROW_COLUMN,
    FrameKind,
    FrameLike,
    check_output,
    frame_library,
    import_polars,
    top_module,
)

if TYPE_CHECKING:
    from mdwindow.core.options import WindowOptions

__all__ = ["arrow_to_pandas", "option_columns", "read_column", "read_frame"]

# Arrow integers and booleans with missing values would become floats and
# objects in pandas; its nullable dtypes keep them integers and booleans.
_NULLABLE = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def option_columns(options: WindowOptions) -> tuple[str | None, ...]:
    """The input columns a run with these window options reads (None: not named).

    What a front door passes to :func:`read_frame` as ``columns``.

    Examples
    --------
    >>> from mdwindow.core.options import WindowOptions
    >>> option_columns(WindowOptions.build("1s", agg="ohlcv", arrival_time="recv"))
    ('ts', 'symbol', 'recv', 'price', 'size')
    """
    return (options.time, options.key, options.arrival_time, *options.plan.columns)


def read_frame(
    data: FrameLike,
    *,
    output: str | None = None,
    name: str = "ticks",
    first_row: int = 0,
    row_column: bool = False,
    columns: Iterable[str | None] | None = None,
) -> tuple[pd.DataFrame, FrameKind]:
    """The pandas frame the engine reads, and the kind its results go back as.

    Parameters
    ----------
    data
        A frame of any accepted kind (see the module's description).
    output : {None, "pandas", "polars", "arrow"}
        The library of the results; None returns them in ``data``'s.
    name : str, default "ticks"
        The argument's name, for error messages.
    first_row : int, default 0
        The input position of ``data``'s first row (rows pushed before it).
        A frame whose results are not pandas is indexed by input position
        from here, which the ``row`` column of its results then shows.
    row_column : bool, default False
        Whether the results get a :data:`ROW_COLUMN` column (``late``,
        ``rejected``): then an input column of that name is refused unless
        the results are pandas.
    columns : iterable of str, optional
        The columns the engine reads (None entries are skipped). When given
        and the results are not pandas, only these are converted; frames of
        input rows are then written from the input itself (see
        :func:`write_frame`), so other columns are never converted at all.

    Returns
    -------
    (pandas.DataFrame, FrameKind)
        A pandas input as it is (unless results in another library are
        asked for: then its index counts positions), others read through Arrow.

    Examples
    --------
    >>> frame, kind = read_frame(pd.DataFrame({"a": [1, 2]}), output="arrow", first_row=5)
    >>> frame.index.tolist(), kind.library
    ([5, 6], 'arrow')
    >>> read_frame([1, 2])
    Traceback (most recent call last):
    TypeError: ticks: got list; give a pandas DataFrame, a polars DataFrame or LazyFrame, a \
pyarrow Table or RecordBatch, or an object with the Arrow PyCapsule stream interface \
(__arrow_c_stream__)
    """
    output = check_output(output)
    library = frame_library(data)
    if library is None:
        raise TypeError(f"{name}: got {type(data).__name__}; give {ACCEPTED_FRAMES}")
    if library == "pandas":
        kind = FrameKind(library=output or "pandas")
        frame = data
        if kind.library != "pandas":
            frame = data.set_axis(pd.RangeIndex(first_row, first_row + len(data)), axis=0)
    else:
        if library == "polars" and type(data).__name__ == "LazyFrame":
            data = data.collect()
        source = data if library == "polars" else _arrow_table(data, name)
        wanted = _engine_columns(source, columns) if (output or library) != "pandas" else None
        if library == "polars":
            table = _polars_to_arrow(data if wanted is None else data.select(wanted))
        else:
            table = source if wanted is None else source.select(wanted)
        frame = arrow_to_pandas(table, first_row)
        kind = FrameKind(
            library=output or library,
            arrow_schema=table.schema,
            polars_schema=data.schema if library == "polars" else None,
            pandas_dtypes=dict(frame.dtypes.items()),
            source=None if wanted is None else source,
            first_row=first_row,
        )
    if row_column and kind.library != "pandas" and ROW_COLUMN in frame.columns:
        raise ValueError(
            f"{name}: has a column {ROW_COLUMN!r}, which polars and Arrow results add to late "
            f"and rejected rows for their input position; rename it first, or pass "
            f"output='pandas'"
        )
    return frame, kind


def read_column(values: Any, name: str = "keys") -> Any:
    """One column of any kind as pandas reads it; anything else unchanged.

    A polars Series, a ``pyarrow.Array`` or ``ChunkedArray``, or an object
    with ``__arrow_c_stream__`` of one column becomes a pandas Series (as
    :func:`read_frame` reads columns); pandas, numpy and lists come back as they are.

    Examples
    --------
    >>> read_column(pa.array(["AAPL", None]).dictionary_encode()).dtype
    CategoricalDtype(categories=['AAPL'], ordered=False, categories_dtype=str)
    >>> read_column(pa.array([1, None])).tolist()
    [1, <NA>]
    """
    if isinstance(values, pd.Series | pd.Index | pd.DataFrame):
        return values
    if top_module(values) == "polars":
        if type(values).__name__ != "Series":
            raise TypeError(_one_column(name, values))
        values = values.to_arrow()
    elif isinstance(values, pa.Table | pa.RecordBatch):
        raise TypeError(_one_column(name, values))
    elif not isinstance(values, pa.Array | pa.ChunkedArray):
        if not hasattr(values, "__arrow_c_stream__"):
            return values
        values = pa.chunked_array(values)
        if pa.types.is_struct(values.type):
            raise TypeError(_one_column(name, values))
    mapper = _NULLABLE.get if values.null_count else None
    return values.to_pandas(types_mapper=mapper)


# -- helpers ------------------------------------------------------------------


def _one_column(name: str, values: Any) -> str:
    return (
        f"{name}: got a {type(values).__name__} of several columns; give one column, "
        "e.g. frame['symbol'] (a Series, an Arrow array, a list)"
    )


def _arrow_table(data: Any, name: str) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    try:
        table = pa.table(data)
    except (TypeError, ValueError, pa.ArrowException) as exc:
        raise TypeError(
            f"{name}: the {type(data).__name__} given has __arrow_c_stream__ but Arrow cannot "
            f"read a table from it ({exc}); give {ACCEPTED_FRAMES}"
        ) from None
    return table


def _polars_to_arrow(frame: Any) -> pa.Table:
    """A polars frame in Arrow, strings as (large) strings for pandas' ``str``."""
    compat = getattr(import_polars(), "CompatLevel", None)
    if compat is None:  # pragma: no cover - polars before CompatLevel
        return frame.to_arrow()
    # polars keeps strings as views and would copy them into large strings
    # itself; pyarrow's cast of the views does the same in about half the time.
    table = frame.to_arrow(compat_level=compat.newest())
    for position, column_field in enumerate(table.schema):
        wanted = _without_views(column_field.type)
        if wanted != column_field.type:
            column = table.column(position).cast(wanted)
            table = table.set_column(position, pa.field(column_field.name, wanted), column)
    return table


def _without_views(arrow_type: pa.DataType) -> pa.DataType:
    if getattr(pa, "string_view", None) is None:  # pragma: no cover - pyarrow without views
        return arrow_type
    if arrow_type == pa.string_view():
        return pa.large_string()
    if arrow_type == pa.binary_view():
        return pa.large_binary()
    if pa.types.is_dictionary(arrow_type):
        values = _without_views(arrow_type.value_type)
        if values != arrow_type.value_type:
            return pa.dictionary(arrow_type.index_type, values, arrow_type.ordered)
    return arrow_type


def _engine_columns(source: Any, columns: Iterable[str | None] | None) -> list[str] | None:
    """The columns to convert, in the input's order; None to convert them all."""
    if columns is None:
        return None
    names = list(source.columns if top_module(source) == "polars" else source.column_names)
    wanted = {column for column in columns if column is not None}
    if (
        not wanted <= set(names)
        or len(set(names)) != len(names)
        or set(names) & {*ADDED_COLUMNS, ROW_COLUMN}
    ):
        # All of them, so that the engine's error lists the input's columns.
        return None
    return [column for column in names if column in wanted]


def arrow_to_pandas(table: pa.Table, first_row: int) -> pd.DataFrame:
    """An Arrow table as the pandas frame :func:`read_frame` makes, indexed from ``first_row``."""
    # split_blocks: a column per block, so numbers and timestamps without
    # missing values are numpy views of the Arrow buffers, not copies into
    # one 2-D block. Arrow's types decide, not pandas metadata of whoever
    # wrote the table (it could restore an index that is no column here).
    frame = table.to_pandas(split_blocks=True, ignore_metadata=True)
    for position, column in enumerate(table.columns):
        if column.null_count and column.type in _NULLABLE:
            frame.isetitem(position, column.to_pandas(types_mapper=_NULLABLE.get))
    if first_row:
        frame = frame.set_axis(pd.RangeIndex(first_row, first_row + len(frame)), axis=0)
    attrs = (table.schema.metadata or {}).get(ATTRS_METADATA)
    if attrs is not None:
        frame.attrs.update(json.loads(attrs))
    return frame
