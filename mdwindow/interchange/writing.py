"""Writing result frames in the library the input came in (or the one asked for)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from mdwindow.interchange.kinds import ATTRS_METADATA, FrameKind, import_polars, top_module
from mdwindow.interchange.reading import arrow_to_pandas

__all__ = ["write_frame"]


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
    >>> from mdwindow.interchange import read_frame
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
    polars = import_polars()
    return _restore_polars_types(_arrow_to_polars(table, polars), frame, kind, polars)


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
    from_polars = top_module(source) == "polars"
    if kind.library == "polars":
        polars = import_polars()
        parts = [polars.DataFrame({index: labels})] if index is not None else []
        parts.append(
            source.gather(positions) if from_polars else polars.from_arrow(source.take(positions))
        )
        if added.shape[1]:
            parts.append(_arrow_to_polars(_pandas_to_arrow(added), polars))
        return polars.concat(parts, how="horizontal")
    taken = source.gather(positions).to_arrow() if from_polars else source.take(positions)
    if kind.library == "pandas":
        taken = arrow_to_pandas(taken, 0).set_axis(frame.index, axis=0)
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
