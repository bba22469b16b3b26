"""Result frames of the engine, built from ready arrays.

A pushed chunk of a thousand rows costs more in DataFrame construction than
in windowing, so frames are assembled block by block
(``pandas.api.internals.create_dataframe_from_blocks``) without pandas'
per-column checks, and a layout used again and again (:class:`BlockLayout`)
makes its placements once. The per-row frames are in
:mod:`~mdwindow.core.row_frames`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute

from mdwindow.core.kernels import gather_strings
from mdwindow.core.rules import STATUS_NAMES as STATUSES
from mdwindow.core.threads import at_once

TIMINGS = ("on_time", "late", "final", "partial", "pending")
REASONS = ("missing_time", "missing_key", "time_out_of_range")

_CATEGORIES = {names: pd.CategoricalDtype(list(names)) for names in (STATUSES, TIMINGS, REASONS)}


def categorical(codes: np.ndarray, categories: tuple[str, ...]) -> pd.Categorical:
    # The codes come from this module and are always in range: skip the check.
    codes = codes.astype(np.int8, copy=False)
    dtype = _CATEGORIES[categories]
    if _SIMPLE_CATEGORICAL:
        return pd.Categorical._simple_new(codes, dtype)
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)  # pragma: no cover


def _simple_categorical() -> bool:
    """Whether ``Categorical._simple_new`` builds what ``from_codes`` builds (pandas 2+)."""
    try:
        codes = np.array([1, 0, -1], np.int8)
        dtype = pd.CategoricalDtype(["a", "b"])
        made = pd.Categorical._simple_new(codes, dtype)
        expected = pd.Categorical.from_codes(codes, dtype=dtype)
        return bool(made.equals(expected) and list(made[:2]) == ["b", "a"] and pd.isna(made[2]))
    except Exception:  # pragma: no cover - other pandas
        return False


_SIMPLE_CATEGORICAL = _simple_categorical()


# --------------------------------------------------------------------------
# Result frames, built without pandas' per-column checks (a chunk of a
# thousand rows costs more in DataFrame construction than in windowing)

#: Frames up to this many rows get their same-dtype columns stacked into blocks.
CONSOLIDATE_ROWS = 1 << 16


def plain_values(values: Any) -> Any:
    """numpy values of a pandas array as a numpy array; other arrays unchanged."""
    return values.to_numpy() if isinstance(values, pd.arrays.NumpyExtensionArray) else values


def take_values(values: Any, positions: np.ndarray, strings: Any = None) -> Any:
    """``values.take(positions)``; Arrow strings through pyarrow (pandas checks cost more).

    ``strings`` may hold the same Arrow strings as ``(offsets, data)`` (the
    engine's compiled key dictionary, see ``KeyTable``): they are gathered
    into new Arrow buffers directly, cheaper still for a few hundred keys.
    """
    if strings is not None and isinstance(values, pd.arrays.ArrowStringArray):
        taken = _gathered(values, positions, *strings)
        if taken is not None:
            return taken
    if isinstance(values, pd.arrays.ArrowStringArray):
        try:
            chunked = values._pa_array
            if chunked.num_chunks == 1:
                # One chunk (the key dictionary is kept so): the plain kernel.
                taken = pyarrow.compute.array_take(chunked.chunk(0), positions)
            else:
                taken = chunked.take(positions)
            return type(values)(taken, dtype=values.dtype)
        except (AttributeError, TypeError, ImportError):  # pragma: no cover - other versions
            pass
    return plain_values(values.take(positions))


#: Key columns of at least this many rows are gathered in two halves at once.
SPLIT_GATHER = 1 << 18


def _gathered(values: Any, positions: np.ndarray, offsets: np.ndarray, data: np.ndarray):
    """``values.take(positions)`` built from the strings' own buffers, or None."""
    import pyarrow as pa

    chunked = values._pa_array
    kind = chunked.type
    if chunked.null_count or not (pa.types.is_large_string(kind) or pa.types.is_string(kind)):
        return None
    positions = positions.astype(np.int64, copy=False)
    if len(positions) >= SPLIT_GATHER:
        # Two halves at once (the kernel releases the GIL): two Arrow chunks.
        half = len(positions) // 2
        pieces = at_once(
            lambda: gather_strings(offsets, data, positions[:half]),
            lambda: gather_strings(offsets, data, positions[half:]),
            "mdwindow-gather",
        )
    else:
        pieces = [gather_strings(offsets, data, positions)]
    arrays = []
    for out_offsets, out_data in pieces:
        if pa.types.is_string(kind):
            if len(out_data) > np.iinfo(np.int32).max:
                return None
            out_offsets = out_offsets.astype(np.int32)
        arrays.append(
            pa.Array.from_buffers(
                kind,
                len(out_offsets) - 1,
                [None, pa.py_buffer(out_offsets), pa.py_buffer(out_data)],
            )
        )
    chunked = pa.chunked_array(arrays, kind)
    if isinstance(values, pd.arrays.ArrowStringArray) and pa.types.is_large_string(kind):
        try:
            # The array is of the values' own type: skip the constructor's checks.
            return values._from_pyarrow_array(chunked)
        except AttributeError:  # pragma: no cover - other pandas versions
            pass
    return type(values)(chunked, dtype=values.dtype)


_LABELS: dict[tuple, pd.Index] = {}


def column_labels(names: tuple) -> pd.Index:
    """The column index a frame built from a dict with these keys would have."""
    found = _LABELS.get(names)
    if found is None:
        found = _LABELS[names] = pd.DataFrame(dict.fromkeys(names, ())).columns
    return found


def make_frame(columns: pd.Index, arrays: list, index: pd.Index) -> pd.DataFrame:
    """A frame of ready arrays (numpy or pandas arrays, each as long as ``index``).

    Small frames have their same-dtype columns stacked into blocks (a cheap
    copy then, and later copies and slices of the frame cost per block);
    large ones keep each array as it is.
    """
    return frame_of_blocks(columns, _blocks(arrays, stack=len(index) <= CONSOLIDATE_ROWS), index)


def frame_of_blocks(columns: pd.Index, blocks: list, index: pd.Index) -> pd.DataFrame:
    """A frame of ready blocks ``(values, column positions)``: 2-D numpy arrays or
    nanosecond datetime arrays (one row per position), or 1-D pandas arrays."""
    if _FAST_BLOCKS is not None:
        try:
            return _FAST_BLOCKS(blocks, index, columns)
        except (AttributeError, TypeError, ValueError):  # pragma: no cover - other pandas
            pass
    try:
        from pandas.api.internals import create_dataframe_from_blocks

        return create_dataframe_from_blocks(blocks, index, columns)
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - other pandas
        arrays: dict[int, Any] = {}
        for values, where in blocks:
            rows = values if getattr(values, "ndim", 1) == 2 else [values]
            arrays.update((int(j), row) for j, row in zip(where, rows, strict=True))
        frame = pd.DataFrame({j: arrays[j] for j in range(len(columns))}, index, copy=False)
        frame.columns = columns
        return frame


def _fast_blocks():
    """``create_dataframe_from_blocks`` without its per-block checks, from pandas'
    internals (their blocks are exactly what ``_blocks`` makes: 2-D numpy or
    datetime values, 1-D other arrays); None when this pandas lacks them."""
    try:
        from pandas._libs.internals import BlockPlacement
        from pandas.core.internals.api import _make_block
        from pandas.core.internals.blocks import new_block
        from pandas.core.internals.managers import BlockManager
    except ImportError:  # pragma: no cover - other pandas
        return None

    def build(blocks: list, index: pd.Index, columns: pd.Index) -> pd.DataFrame:
        made = []
        for values, where in blocks:
            if isinstance(values, np.ndarray) and values.dtype.kind not in "mM":
                made.append(new_block(values, BlockPlacement(where), ndim=2))
            else:  # shaped and typed as pandas wants
                made.append(_make_block(values, where))
        manager = BlockManager(tuple(made), [columns, index], verify_integrity=False)
        return pd.DataFrame._from_mgr(manager, manager.axes)

    # Checked once against the public builder: same frame, or no shortcut.
    probe = [
        (np.zeros((2, 1)), np.array([0, 2])),
        (pd.array(["a"], dtype="str"), np.array([1])),
        (pd.to_datetime([0], utc=True).array, np.array([3])),
        (pd.to_timedelta([1]).array, np.array([4])),
    ]
    labels, rows = pd.Index(list("abcde")), pd.RangeIndex(1)
    try:
        from pandas.api.internals import create_dataframe_from_blocks

        made = build(probe, rows, labels)
        made._mgr._verify_integrity()
        if not made.equals(create_dataframe_from_blocks(probe, rows, labels)):
            return None  # pragma: no cover - other pandas
    except Exception:  # pragma: no cover - other pandas
        return None
    return build


_FAST_BLOCKS = _fast_blocks()


class BlockLayout:
    """Frames of one layout, built again and again (a ``windows`` frame per push).

    ``groups[b]`` are the column positions of block ``b``; :meth:`frame`
    takes one value per block: a 2-D numpy array (one row per position), a
    nanosecond datetime array (2-D, or 1-D for one position) or another
    1-D pandas array. The placements are made once, and each block is made
    by its class directly (its class is looked up once per dtype).
    """

    def __init__(self, labels: pd.Index, groups: list[list[int]]) -> None:
        self.labels = labels
        self.groups = [np.array(g, dtype=np.intp) for g in groups]
        self._internals = _INTERNALS
        self._placements = (
            [self._internals[0](g) for g in self.groups] if self._internals else None
        )
        self._classes: dict[Any, Any] = {}

    def frame(self, values: list, n: int) -> pd.DataFrame:
        """The frame of ``n`` rows whose blocks hold ``values`` (as :attr:`groups`)."""
        index = _range_index(n)
        if self._internals is None:  # pragma: no cover - other pandas
            blocks = list(zip(values, self.groups, strict=True))
            return frame_of_blocks(self.labels, blocks, index)
        _, block_type, manager_type = self._internals
        blocks = []
        for block_values, placement in zip(values, self._placements, strict=True):
            if isinstance(block_values, pd.arrays.DatetimeArray) and block_values.ndim == 1:
                block_values = block_values.reshape(1, -1)
            dtype = block_values.dtype
            klass = self._classes.get(dtype)
            if klass is None:
                klass = self._classes[dtype] = block_type(dtype)
            blocks.append(klass(block_values, ndim=2, placement=placement, refs=None))
        manager = manager_type(tuple(blocks), [self.labels, index], verify_integrity=False)
        return pd.DataFrame._from_mgr(manager, manager.axes)


def _internals():
    """``(BlockPlacement, get_block_type, BlockManager)`` from pandas' internals, when
    they build what the public ``create_dataframe_from_blocks`` builds; else None."""
    try:
        from pandas._libs.internals import BlockPlacement
        from pandas.core.internals.blocks import get_block_type
        from pandas.core.internals.managers import BlockManager

        layout = BlockLayout.__new__(BlockLayout)
        layout.labels = pd.Index(list("abcd"))
        layout.groups = [np.array([0, 2]), np.array([1]), np.array([3])]
        layout._internals = (BlockPlacement, get_block_type, BlockManager)
        layout._placements = [BlockPlacement(g) for g in layout.groups]
        layout._classes = {}
        probe = [
            np.zeros((2, 1)),
            pd.array(["a"], dtype="str"),
            pd.to_datetime([0], utc=True).array,
        ]
        made = layout.frame(probe, 1)
        made._mgr._verify_integrity()
        blocks = list(zip(probe, layout.groups, strict=True))
        expected = frame_of_blocks(layout.labels, blocks, pd.RangeIndex(1))
        if made.equals(expected):
            return layout._internals
    except Exception:  # pragma: no cover - other pandas
        pass
    return None  # pragma: no cover - other pandas


def _range_index(n: int) -> pd.RangeIndex:
    try:
        return pd.RangeIndex._simple_new(range(n))
    except AttributeError:  # pragma: no cover - other pandas
        return pd.RangeIndex(n)


def _kind(values: Any) -> Any:
    """What decides a column's block: its numpy dtype, nanosecond datetimes by
    zone, anything else a block of its own (None)."""
    if isinstance(values, np.ndarray):
        return values.dtype
    if isinstance(values, pd.arrays.DatetimeArray) and values.unit == "ns":
        return values.dtype
    return None


#: Block plans by (stack?, kind of each column): ``[(kind, positions)]``.
_PLANS: dict[tuple, list[tuple[Any, np.ndarray]]] = {}


def _blocks(arrays: list, *, stack: bool) -> list[tuple[Any, np.ndarray]]:
    """``(block values, column positions)`` for ``create_dataframe_from_blocks``."""
    kinds = tuple(_kind(values) for values in arrays)
    plan = _PLANS.get((stack, kinds))
    if plan is None:
        plan = _PLANS[stack, kinds] = _block_plan(kinds, stack)
    blocks = []
    for kind, where in plan:
        if kind is None or len(where) == 1:
            values = arrays[where[0]]
            blocks.append(
                (values.reshape(1, -1) if isinstance(values, np.ndarray) else values, where)
            )
        elif isinstance(kind, np.dtype):
            block = np.empty((len(where), len(arrays[where[0]])), kind)
            for row, j in enumerate(where):
                block[row] = arrays[j]
            blocks.append((block, where))
        else:  # nanosecond datetimes of one zone, stacked as int64
            block = np.empty((len(where), len(arrays[where[0]])), np.int64)
            for row, j in enumerate(where):
                block[row] = arrays[j]._ndarray.view(np.int64)
            nanos = block.view("datetime64[ns]")
            blocks.append((pd.arrays.DatetimeArray._simple_new(nanos, dtype=kind), where))
    return blocks


def _block_plan(kinds: tuple, stack: bool) -> list[tuple[Any, np.ndarray]]:
    plan: list[tuple[Any, np.ndarray]] = []
    groups: dict[Any, list[int]] = {}
    for j, kind in enumerate(kinds):
        if kind is None or not stack:
            plan.append((kind, np.array([j])))
        else:
            groups.setdefault(kind, []).append(j)
    plan.extend((kind, np.array(where)) for kind, where in groups.items())
    return plan


#: pandas' internals as :func:`_internals` found them (looked for once, all defined).
_INTERNALS = _internals()
