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

from mdwindow.interchange.kinds import (
    ACCEPTED_FRAMES,
    ATTRS_METADATA,
    OUTPUTS,
    ROW_COLUMN,
    FrameKind,
    FrameLike,
    check_output,
    frame_library,
)
from mdwindow.interchange.reading import option_columns, read_column, read_frame
from mdwindow.interchange.writing import write_frame

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
