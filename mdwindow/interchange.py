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
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

import pandas as pd
import pyarrow as pa

__all__ = [
    "ACCEPTED_FRAMES",
    "ATTRS_METADATA",
    "OUTPUTS",
    "ROW_COLUMN",
    "FrameKind",
    "FrameLike",
    "check_output",
    "frame_library",
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


def read_frame(
    data: FrameLike,
    *,
    output: str | None = None,
    name: str = "ticks",
    first_row: int = 0,
    row_column: bool = False,
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
        polars_schema = None
        if library == "polars":
            if type(data).__name__ == "LazyFrame":
                data = data.collect()
            polars_schema = data.schema
            table = data.to_arrow()
        else:
            table = _arrow_table(data, name)
        frame = _arrow_to_pandas(table, first_row)
        kind = FrameKind(
            library=output or library,
            arrow_schema=table.schema,
            polars_schema=polars_schema,
            pandas_dtypes=dict(frame.dtypes.items()),
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


def write_frame(frame: pd.DataFrame, kind: FrameKind, *, index: str | None = None) -> Any:
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

    Returns
    -------
    pandas.DataFrame, polars.DataFrame or pyarrow.Table
        ``frame`` itself when ``kind`` is pandas.

    Examples
    --------
    >>> import pyarrow as pa
    >>> _, kind = read_frame(pa.table({"symbol": pa.array(["A"]).dictionary_encode()}))
    >>> late = pd.DataFrame({"symbol": pd.Categorical(["A"]), "late_by": [1]}, index=[7])
    >>> write_frame(late, kind, index="row").to_pylist()
    [{'row': 7, 'symbol': 'A', 'late_by': 1}]
    """
    if kind.library == "pandas":
        return frame
    attrs = frame.attrs
    if index is not None:
        frame = frame.reset_index(names=index)
    elif attrs:
        frame = frame.copy(deep=False)
    # pyarrow would try (and warn when it fails) to keep attrs in pandas'
    # metadata, which is dropped below: they go under ATTRS_METADATA instead.
    frame.attrs = {}
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = _restore_arrow_types(table, frame, kind)
    # pandas' own metadata would only restore what the Arrow types say already.
    metadata = {ATTRS_METADATA: json.dumps(attrs, default=str)} if attrs else None
    table = table.replace_schema_metadata(metadata)
    if kind.library == "arrow":
        return table
    polars = _polars()
    result = polars.from_arrow(table)
    return _restore_polars_types(result, frame, kind, polars)


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
