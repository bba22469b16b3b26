"""Any DataFrame in, the same kind out: pandas, polars and Arrow at the front doors.

The engine works on pandas frames. :func:`read_frame` turns whatever a
front door was given into one, and remembers what kind of frame the results
should go back as (a :class:`FrameKind`); :func:`write_frame` turns a result
frame into that kind. Accepted inputs:

- a pandas DataFrame, used as it is;
- a polars DataFrame, or a LazyFrame (collected);
- a ``pyarrow.Table`` or ``pyarrow.RecordBatch``;
- any object with the Arrow PyCapsule stream interface (``__arrow_c_stream__``),
  such as a DuckDB relation's Arrow reader or another library's table.

Everything that is not pandas goes through Arrow, without a copy where Arrow
allows one: numbers and timestamps without missing values become numpy
columns over the Arrow buffers, strings become pandas' Arrow-backed ``str``
columns, dictionaries become categoricals. Integer and boolean columns with
missing values become pandas' nullable dtypes (``Int64``, ``boolean``), not
floats, so that a key ``1`` stays ``1`` (and hashes to the same partition).

Results come back in the input's library: pandas in, pandas out; polars in,
polars out (a LazyFrame gives DataFrames); Arrow in, ``pyarrow.Table`` out.
``output="pandas" | "polars" | "arrow"`` asks for another. A result column
that carries an input column's values (the key in ``windows``, the input's
own columns in ``late``, ``rejected`` and the frames of ``hash_partition``)
gets the input's type back: a polars ``Enum``, ``Categorical`` or
``String``, an Arrow dictionary or ``string`` stays what it was.

polars and Arrow frames have no index. For them the ``late`` and
``rejected`` frames start with a column ``row``: the position of the row in
the input (over all pushed chunks, for ``Windower``), where a pandas result
keeps the input's index labels. Frame ``attrs`` (``sweep``,
``partition_balance``) travel in an Arrow table's schema metadata under
``mdwindow.attrs`` (as JSON) and are read back from there; polars frames
cannot hold them.

polars is imported only when a polars frame is given or asked for: pandas
users never pay for it.

Examples
--------
>>> import pyarrow as pa
>>> table = pa.table({"ts": pa.array([0, 10**9], pa.timestamp("ns", "UTC")), "symbol": ["A", "B"]})
>>> frame, kind = read_frame(table)
>>> frame.dtypes.astype(str).tolist(), kind.library
(['datetime64[ns, UTC]', 'str'], 'arrow')
>>> write_frame(frame, kind).schema.types
[TimestampType(timestamp[ns, tz=UTC]), DataType(string)]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa

from mdwindow.core.prepare import ADDED_COLUMNS

if TYPE_CHECKING:
    from mdwindow.core.options import WindowOptions

__all__ = [
    "ACCEPTED_FRAMES",
    "ATTRS_METADATA",
    "OUTPUTS",
    "ROW_COLUMN",
    "FrameKind",
    "FrameLike",
    "check_output",
    "frame_library",
    "option_columns",
    "read_column",
    "read_frame",
    "write_frame",
]

#: A frame a front door accepts: pandas, polars (eager or lazy), Arrow or an
#: object with ``__arrow_c_stream__``.
FrameLike: TypeAlias = Any
#: The libraries results can be returned in (``output=``).
OUTPUTS = ("pandas", "polars", "arrow")
#: The column that holds a row's input position in polars and Arrow ``late`` and
#: ``rejected`` frames, which have no index.
ROW_COLUMN = "row"
#: Schema metadata key under which an Arrow result keeps the frame's ``attrs`` (JSON).
ATTRS_METADATA = b"mdwindow.attrs"

#: What :func:`read_frame` accepts, in words for error messages.
ACCEPTED_FRAMES = (
    "a pandas DataFrame, a polars DataFrame or LazyFrame, a pyarrow Table or RecordBatch, "
    "or an object with the Arrow PyCapsule stream interface (__arrow_c_stream__)"
)

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


@dataclass(frozen=True)
class FrameKind:
    """The library results go back in, and the input's column types to give back.

    Attributes
    ----------
    library : {"pandas", "polars", "arrow"}
        What :func:`write_frame` returns.
    arrow_schema : pyarrow.Schema or None
        The input's Arrow schema (None for a pandas input).
    polars_schema : polars.Schema or None
        The input's polars schema (None unless the input was polars).
    pandas_dtypes : mapping
        The pandas dtype each input column was read as: a result column of
        the same name and dtype holds the input's values and gets its type back.
    source : polars.DataFrame, pyarrow.Table or None
        The input itself, when only the columns the engine reads were read:
        frames of input rows (``late``, ``rejected``, partitions) take their
        rows from it, with every column in its own type.
    first_row : int
        The input position of the source's first row.

    Examples
    --------
    >>> FrameKind().library
    'pandas'
    >>> FrameKind().to("arrow").library
    'arrow'
    """

    library: str = "pandas"
    arrow_schema: pa.Schema | None = None
    polars_schema: Any = None
    pandas_dtypes: Mapping[str, Any] = field(default_factory=dict)
    source: Any = field(default=None, compare=False, repr=False)
    first_row: int = 0

    def to(self, output: str | None) -> FrameKind:
        """This kind, returned in ``output`` instead (None keeps it)."""
        output = check_output(output)
        return self if output is None or output == self.library else replace(self, library=output)


def check_output(output: Any) -> str | None:
    """``output`` when it names a library of :data:`OUTPUTS` (or is None); raises otherwise.

    Asking for polars checks that polars can be imported.

    Examples
    --------
    >>> check_output("arrow")
    'arrow'
    >>> check_output("numpy")
    Traceback (most recent call last):
    ValueError: output: got 'numpy'; give None (the input's kind), 'pandas', 'polars' or 'arrow'
    """
    if output is None:
        return None
    if not isinstance(output, str) or output not in OUTPUTS:
        raise ValueError(
            f"output: got {output!r}; give None (the input's kind), 'pandas', 'polars' or 'arrow'"
        )
    if output == "polars":
        _polars()
    return output


def frame_library(data: Any) -> str | None:
    """``"pandas"``, ``"polars"`` or ``"arrow"`` for a frame :func:`read_frame` takes, else None.

    polars is recognised by the module of the type, so it is never imported here.

    Examples
    --------
    >>> frame_library(pd.DataFrame()), frame_library(pa.table({"a": [1]})), frame_library([1])
    ('pandas', 'arrow', None)
    """
    # pandas frames and columns have __arrow_c_stream__ too: look at them first.
    if isinstance(data, pd.DataFrame):
        return "pandas"
    if isinstance(data, pd.Series | pd.Index):
        return None
    if _top_module(data) == "polars" and type(data).__name__ in ("DataFrame", "LazyFrame"):
        return "polars"
    if isinstance(data, pa.Table | pa.RecordBatch) or hasattr(data, "__arrow_c_stream__"):
        return "arrow"
    return None


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
        frame = _arrow_to_pandas(table, first_row)
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
    if _top_module(values) == "polars":
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


def write_frame(
    frame: pd.DataFrame, kind: FrameKind, *, index: str | None = None, rows: bool = False
) -> Any:
    """A result frame in ``kind``'s library, with the input's column types given back.

    Parameters
    ----------
    frame : pandas.DataFrame
        A result frame of the engine.
    kind : FrameKind
        From :func:`read_frame`.
    index : str, optional
        For polars and Arrow, which have no index: the name of a column that
        keeps the frame's index, put first (None drops the index).
    rows : bool, default False
        Whether ``frame`` holds input rows, indexed by input position, with
        the input's columns and maybe others after them (``late``,
        ``rejected``, partitions). When ``kind`` has the input as its
        ``source``, the input's columns are taken from it, all of them.

    Returns
    -------
    pandas.DataFrame, polars.DataFrame or pyarrow.Table
        ``frame`` itself when ``kind`` is pandas (and has no source).

    Examples
    --------
    >>> import pyarrow as pa
    >>> _, kind = read_frame(pa.table({"symbol": pa.array(["A"]).dictionary_encode()}))
    >>> late = pd.DataFrame({"symbol": pd.Categorical(["A"]), "late_by": [1]}, index=[7])
    >>> write_frame(late, kind, index="row").to_pylist()
    [{'row': 7, 'symbol': 'A', 'late_by': 1}]
    """
    if rows and kind.source is not None:
        return _input_rows(frame, kind, index)
    if kind.library == "pandas":
        return frame
    if index is not None:
        frame = frame.reset_index(names=index)
    table = _restore_arrow_types(_pandas_to_arrow(frame), frame, kind)
    if frame.attrs:
        table = table.replace_schema_metadata(
            {ATTRS_METADATA: json.dumps(frame.attrs, default=str)}
        )
    if kind.library == "arrow":
        return table
    polars = _polars()
    return _restore_polars_types(_arrow_to_polars(table, polars), frame, kind, polars)


# -- reading -----------------------------------------------------------------


def _top_module(value: Any) -> str:
    return type(value).__module__.partition(".")[0]


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
    compat = getattr(_polars(), "CompatLevel", None)
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
    if _STRING_VIEW is None:  # pragma: no cover - pyarrow without views
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
    names = list(source.columns if _top_module(source) == "polars" else source.column_names)
    wanted = {column for column in columns if column is not None}
    if (
        not wanted <= set(names)
        or len(set(names)) != len(names)
        or set(names) & {*ADDED_COLUMNS, ROW_COLUMN}
    ):
        # All of them, so that the engine's error lists the input's columns.
        return None
    return [column for column in names if column in wanted]


def _arrow_to_pandas(table: pa.Table, first_row: int) -> pd.DataFrame:
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


# -- writing -----------------------------------------------------------------


def _pandas_to_arrow(frame: pd.DataFrame) -> pa.Table:
    # Column by column rather than Table.from_pandas: no pandas metadata to
    # build (nor attrs to serialise), no thread pool for a few columns.
    arrays = [_arrow_array(frame.iloc[:, i]) for i in range(frame.shape[1])]
    return pa.Table.from_arrays(arrays, names=[str(column) for column in frame.columns])


_NAT = np.iinfo(np.int64).min


def _arrow_array(column: pd.Series) -> pa.Array:
    """One column in Arrow; missing values (NaN, NaT, None) become nulls, as from_pandas does.

    Floats and UTC or naive datetimes, most of a result, are wrapped without a
    copy when nothing is missing (pyarrow's own conversion copies them).
    """
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = column.to_numpy()
        missing = np.isnan(values)
        return pa.array(values, mask=missing) if missing.any() else pa.array(values)
    utc = isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC"
    if utc or (isinstance(dtype, np.dtype) and dtype.kind == "M"):
        array = column.array
        ints = array.asi8
        arrow_type = pa.timestamp(array.unit, tz="UTC" if utc else None)
        missing = ints == _NAT
        if missing.any():
            return pa.array(ints, type=arrow_type, mask=missing)
        return pa.array(ints, type=arrow_type)
    return pa.array(column, from_pandas=True)


_STRING_VIEW = getattr(pa, "string_view", None)


def _arrow_to_polars(table: pa.Table, polars: Any) -> Any:
    if _STRING_VIEW is not None:
        # polars keeps strings as views: handing them over as views is a
        # cheap cast here instead of a copy inside polars.
        for position, column in enumerate(table.columns):
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                try:
                    view = column.cast(_STRING_VIEW())
                except pa.ArrowNotImplementedError:  # pragma: no cover - older pyarrow
                    break
                table = table.set_column(position, table.field(position).name, view)
    return polars.from_arrow(table)


def _input_rows(frame: pd.DataFrame, kind: FrameKind, index: str | None) -> Any:
    """:func:`write_frame` of input rows, their input columns taken from ``kind.source``."""
    labels = np.asarray(frame.index, dtype=np.int64)
    positions = labels - kind.first_row
    added = frame[[column for column in frame.columns if column not in kind.pandas_dtypes]]
    source = kind.source
    from_polars = _top_module(source) == "polars"
    if kind.library == "polars":
        polars = _polars()
        parts = [polars.DataFrame({index: labels})] if index is not None else []
        parts.append(
            source.gather(positions) if from_polars else polars.from_arrow(source.take(positions))
        )
        if added.shape[1]:
            parts.append(_arrow_to_polars(_pandas_to_arrow(added), polars))
        return polars.concat(parts, how="horizontal")
    taken = source.gather(positions).to_arrow() if from_polars else source.take(positions)
    if kind.library == "pandas":
        taken = _arrow_to_pandas(taken, 0).set_axis(frame.index, axis=0)
        return pd.concat([taken, added], axis=1) if added.shape[1] else taken
    names = [index] if index is not None else []
    arrays = [pa.array(labels)] if index is not None else []
    extra = _pandas_to_arrow(added)
    return pa.Table.from_arrays(
        [*arrays, *taken.columns, *extra.columns],
        names=[*names, *taken.column_names, *extra.column_names],
    )


def _same_kind_of_dtype(result: Any, read: Any) -> bool:
    if isinstance(result, pd.CategoricalDtype) and isinstance(read, pd.CategoricalDtype):
        # A key column's categories can shrink to the keys a frame holds.
        return True
    return result == read


def _input_columns(frame: pd.DataFrame, kind: FrameKind, schema_names: list[str]) -> list[str]:
    """Result columns holding an input column's values: same name, same pandas dtype."""
    counts = pd.Index(frame.columns).value_counts()
    return [
        column
        for column in schema_names
        if column in kind.pandas_dtypes
        and counts.get(column, 0) == 1
        and _same_kind_of_dtype(frame[column].dtype, kind.pandas_dtypes[column])
    ]


def _restore_arrow_types(table: pa.Table, frame: pd.DataFrame, kind: FrameKind) -> pa.Table:
    schema = kind.arrow_schema
    if schema is None:
        return table
    names = table.column_names
    for column in _input_columns(frame, kind, names):
        if schema.get_field_index(column) < 0:
            continue  # absent or not unique in the input
        wanted = schema.field(column).type
        position = names.index(column)
        if table.schema.field(position).type == wanted:
            continue
        try:
            values = table.column(position).cast(wanted)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            continue  # keep the type pandas gave: the values are right either way
        table = table.set_column(position, pa.field(column, wanted), values)
    return table


def _restore_polars_types(result: Any, frame: pd.DataFrame, kind: FrameKind, polars: Any) -> Any:
    schema = kind.polars_schema
    if schema is None:
        return result
    for column in _input_columns(frame, kind, result.columns):
        wanted = schema.get(column)
        if wanted is None or result.schema[column] == wanted:
            continue
        try:
            # Enum (and Categorical ordering) cannot travel through Arrow.
            values = result.get_column(column).cast(wanted)
        except polars.exceptions.PolarsError:
            continue  # keep the type Arrow gave: the values are right either way
        result = result.with_columns(values)
    return result


def _polars() -> Any:
    try:
        import polars
    except ImportError:
        raise ImportError(
            "polars results need polars, which is not installed: "
            'pip install "mdwindow[polars]" (or pip install polars)'
        ) from None
    return polars
