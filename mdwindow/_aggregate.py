"""Aggregations of window panes: the ``agg=`` argument and its evaluation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mdwindow._kernels import reduce_groups, vwap_parts

#: Aggregation names accepted in ``agg={"out": (column, name)}``.
AGG_FUNCS = (
    "first", "last", "min", "max", "sum", "mean", "count",
    "median", "std", "var", "nunique",
)  # fmt: skip
_COMPILED = {"sum": 0, "min": 1, "max": 2, "first": 3, "last": 4}
#: Column names of the result frames that an aggregate may not take.
RESERVED = (
    "partition", "window_start", "window_end", "count", "late_count", "timing",
    "revision", "emit_row", "emit_watermark", "emit_time",
)  # fmt: skip
VWAP = "vwap"


@dataclass(frozen=True)
class AggItem:
    """One output column: ``name`` computed by ``func`` over ``columns``."""

    name: str
    columns: tuple[str, ...]
    func: str | Callable[[pd.Series], Any]


@dataclass(frozen=True)
class AggPlan:
    """The validated ``agg=`` argument."""

    items: tuple[AggItem, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """Input columns the aggregates read, each once, in first-use order."""
        seen: dict[str, None] = {}
        for item in self.items:
            for column in item.columns:
                seen.setdefault(column, None)
        return tuple(seen)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(item.name for item in self.items)


def make_plan(agg: Any, *, price: str, size: str, key: str | None) -> AggPlan:
    """Validate ``agg`` (None, ``"ohlcv"`` or a dict of named aggregations)."""
    if agg is None:
        return AggPlan(())
    if isinstance(agg, str):
        if agg != "ohlcv":
            raise ValueError(
                f"agg: got {agg!r}; give None, 'ohlcv' or a dict such as "
                "{'high': ('price', 'max')}"
            )
        for arg, column in (("price", price), ("size", size)):
            if not isinstance(column, str):
                raise TypeError(f"{arg}: got {column!r}; give the name of the {arg} column")
        return AggPlan(
            (
                AggItem("open", (price,), "first"),
                AggItem("high", (price,), "max"),
                AggItem("low", (price,), "min"),
                AggItem("close", (price,), "last"),
                AggItem("volume", (size,), "sum"),
                AggItem("vwap", (price, size), VWAP),
            )
        )
    if not isinstance(agg, Mapping):
        raise TypeError(
            f"agg: got {type(agg).__name__}; give None, 'ohlcv' or a dict such as "
            "{'high': ('price', 'max')}"
        )
    items = []
    for name, spec in agg.items():
        if not isinstance(name, str):
            raise TypeError(f"agg: output name {name!r} must be a string")
        if name in RESERVED or name == key:
            raise ValueError(
                f"agg: output name {name!r} clashes with a column of the result; "
                "choose another name"
            )
        if not (isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str)):
            raise TypeError(
                f"agg[{name!r}]: got {spec!r}; give a pair (column, func), e.g. ('price', 'max')"
            )
        column, func = spec
        if isinstance(func, str):
            if func not in AGG_FUNCS:
                raise ValueError(
                    f"agg[{name!r}]: unknown function {func!r}; choose one of "
                    f"{', '.join(AGG_FUNCS)} or pass a callable taking a Series"
                )
        elif not callable(func):
            raise TypeError(f"agg[{name!r}]: function {func!r} is neither a name nor callable")
        items.append(AggItem(name, (column,), func))
    return AggPlan(tuple(items))


def _compiled_input(values: Any) -> np.ndarray | None:
    """The values as int64/float64 numpy for the compiled path, else None."""
    dtype = getattr(values, "dtype", None)
    if not isinstance(dtype, np.dtype):
        return None
    if dtype.kind in "iu":
        return np.asarray(values, dtype=np.int64)
    if dtype.kind == "f":
        return np.asarray(values, dtype=np.float64)
    return None


def aggregate(
    plan: AggPlan,
    columns: Mapping[str, Any],
    pane: np.ndarray,
    n_panes: int,
    t: np.ndarray,
    arrival: np.ndarray,
) -> dict[str, Any]:
    """Evaluate ``plan`` for every pane.

    ``pane`` gives the dense pane id (``0 .. n_panes-1``) of each row; within
    a pane, rows must be in arrival order, which is what makes the compiled
    first/last ties go to the earlier arrival.
    """
    out: dict[str, Any] = {}
    for item in plan.items:
        if item.func == VWAP:
            out[item.name] = _vwap(columns, item.columns, pane, n_panes)
            continue
        values = columns[item.columns[0]]
        numeric = _compiled_input(values)
        func = item.func
        if numeric is not None and isinstance(func, str) and func in ("mean", "count"):
            total, _ = reduce_groups(pane, n_panes, numeric.astype(np.float64), t, 0)
            counted = np.bincount(
                pane[~np.isnan(numeric.astype(np.float64))], minlength=n_panes
            ).astype(np.int64)
            if func == "count":
                out[item.name] = counted
            else:
                mean = np.full(n_panes, np.nan)
                np.divide(total, counted, out=mean, where=counted > 0)
                out[item.name] = mean
        elif numeric is not None and isinstance(func, str) and func in _COMPILED:
            result, seen = reduce_groups(pane, n_panes, numeric, t, _COMPILED[func])
            if not seen.all() and func != "sum":
                result = result.astype(np.float64)
                result[~seen] = np.nan
            out[item.name] = result
        else:
            out[item.name] = _pandas_path(values, func, pane, n_panes, t, arrival)
    return out


def _vwap(columns, names, pane, n_panes) -> np.ndarray:
    price = np.asarray(columns[names[0]], dtype=np.float64)
    size = np.asarray(columns[names[1]], dtype=np.float64)
    notional, volume = vwap_parts(pane, n_panes, price, size)
    vwap = np.full(n_panes, np.nan)
    np.divide(notional, volume, out=vwap, where=volume != 0)
    return vwap


def _pandas_path(values, func, pane, n_panes, t, arrival) -> Any:
    """General aggregations through pandas, rows ordered by (event time, arrival)."""
    frame = pd.DataFrame({"pane": pane, "value": pd.Series(values).reset_index(drop=True)})
    if callable(func) or func in ("first", "last"):
        frame = frame.iloc[np.lexsort((arrival, t, pane))]
    grouped = frame.groupby("pane", sort=True)["value"]
    if callable(func):
        result = grouped.agg(func)
    else:
        result = getattr(grouped, func)()
    result = result.reindex(pd.RangeIndex(n_panes))
    return result.array
