"""What kind of frame results go back as: the libraries, and the input's types to give back."""

from __future__ import annotations

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
    "import_polars",
    "top_module",
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
        import_polars()
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
    if top_module(data) == "polars" and type(data).__name__ in ("DataFrame", "LazyFrame"):
        return "polars"
    if isinstance(data, pa.Table | pa.RecordBatch) or hasattr(data, "__arrow_c_stream__"):
        return "arrow"
    return None


def top_module(value: Any) -> str:
    """The top-level package of ``value``'s type: polars is told apart without importing it."""
    return type(value).__module__.partition(".")[0]


def import_polars() -> Any:
    """polars, or an ImportError that says how to install it."""
    try:
        import polars
    except ImportError:
        raise ImportError(
            "polars results need polars, which is not installed: "
            'pip install "mdwindow[polars]" (or pip install polars)'
        ) from None
    return polars
