"""Aggregations of window panes: the ``agg=`` argument and its evaluation."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.kernels import ohlcv, reduce_groups, vwap_parts

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

    @functools.cached_property
    def columns(self) -> tuple[str, ...]:
        """Input columns the aggregates read, each once, in first-use order."""
        seen: dict[str, None] = {}
        for item in self.items:
            for column in item.columns:
                seen.setdefault(column, None)
        return tuple(seen)

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(item.name for item in self.items)

    @functools.cached_property
    def is_ohlcv(self) -> bool:
        """Whether this is exactly the plan ``agg="ohlcv"`` builds (for the fused kernel)."""
        if len(self.items) != 6 or self.items[-1].func != VWAP:
            return False
        price, size = self.items[-1].columns
        return self == make_plan("ohlcv", price=price, size=size, key=None)


def make_plan(agg: Any, *, price: str, size: str, key: str | None) -> AggPlan:
    """Validate ``agg`` (None, ``"ohlcv"`` or a dict of named aggregations)."""
    if agg is None:
        return AggPlan(())
    if isinstance(agg, AggPlan):
        return agg
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


def plan_entries(plan: AggPlan) -> list[dict[str, Any]]:
    """The plan as plain data (a checkpoint header); callables are stored as ``None``."""
    return [
        {
            "name": item.name,
            "columns": list(item.columns),
            "func": item.func if isinstance(item.func, str) else None,
        }
        for item in plan.items
    ]


def plan_from_entries(entries: Any, agg: Any, *, key: str | None) -> AggPlan:
    """Rebuild a plan from :func:`plan_entries`, checked like ``agg=`` itself.

    ``agg`` (the ``agg=`` of a restore) supplies the Python functions a
    header cannot hold; when given, it must describe the same aggregation.
    """
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and set(e) == {"name", "columns", "func"} for e in entries
    ):
        raise ValueError(f"agg: malformed aggregation entries {entries!r}")
    last = entries[-1] if entries else None
    if last is not None and last["func"] == VWAP and len(last["columns"]) == 2:
        price, size = last["columns"]
        stored = make_plan("ohlcv", price=price, size=size, key=key)
    else:
        spec = {}
        for entry in entries:
            columns, func = entry["columns"], entry["func"]
            if not (isinstance(columns, list) and len(columns) == 1):
                raise ValueError(f"agg: malformed aggregation entry {entry!r}")
            spec[entry["name"]] = (columns[0], func if func is not None else _placeholder)
        stored = make_plan(spec, price="price", size="size", key=key)
    if plan_entries(stored) != entries:
        raise ValueError(f"agg: malformed aggregation entries {entries!r}")
    if agg is None:
        missing = [item.name for item in stored.items if item.func is _placeholder]
        if missing:
            raise TypeError(
                f"agg: the aggregate {missing[0]!r} is a Python function, which a checkpoint "
                "cannot hold; pass the same agg= again, e.g. "
                f"Windower.restore(data, agg={{{missing[0]!r}: (column, func)}})"
            )
        return stored
    price, size = "price", "size"
    if isinstance(agg, str) and last is not None and last["func"] == VWAP:
        price, size = last["columns"]  # "ohlcv" over the stored columns
    given = make_plan(agg, price=price, size=size, key=key)
    if plan_entries(given) != plan_entries(stored):
        raise ValueError(
            f"agg: {agg!r} is not the aggregation the checkpoint was made with "
            f"({[e['name'] for e in entries]}); pass the same agg= as when it was made"
        )
    return given


def _placeholder(values: pd.Series) -> Any:  # pragma: no cover - never called
    """Stands for a Python function that a checkpoint header could not hold."""
    raise RuntimeError("a stored aggregation function was not supplied")


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


def is_ohlcv(plan: AggPlan) -> bool:
    """Whether ``plan`` is exactly what ``agg="ohlcv"`` builds (for the fused kernel)."""
    return plan.is_ohlcv


def fused_ohlcv(plan: AggPlan, columns: Mapping[str, Any]):
    """``(price, size)`` as compiled inputs when the windowing pass can fold ``plan`` itself.

    That is the plan of ``agg="ohlcv"`` over numeric numpy columns; otherwise None.
    """
    if not is_ohlcv(plan):
        return None
    price, size = (_compiled_input(columns[c]) for c in plan.items[-1].columns)
    if price is None or size is None:
        return None
    return price, size


def aggregate(
    plan: AggPlan,
    columns: Mapping[str, Any],
    group: np.ndarray,
    pane_of_group: np.ndarray,
    n_panes: int,
    t: np.ndarray,
    arrival: np.ndarray,
) -> dict[str, Any]:
    """Evaluate ``plan`` for every pane.

    Row ``r`` belongs to pane ``pane_of_group[group[r]]``, or to none when
    either is -1 (``0 .. n_panes-1`` otherwise). Within a pane, rows must be
    in arrival order, which is what makes the compiled first/last ties go
    to the earlier arrival.
    """
    if is_ohlcv(plan):
        price, size = (_compiled_input(columns[c]) for c in plan.items[-1].columns)
        if price is not None and size is not None:
            return _ohlcv(plan, group, pane_of_group, n_panes, price, size, t)
    out: dict[str, Any] = {}
    rows_pane = None
    for item in plan.items:
        if item.func == VWAP:
            out[item.name] = _vwap(columns, item.columns, group, pane_of_group, n_panes)
            continue
        values = columns[item.columns[0]]
        numeric = _compiled_input(values)
        func = item.func
        if numeric is not None and isinstance(func, str) and func in ("mean", "count"):
            total, _ = reduce_groups(
                group, pane_of_group, n_panes, numeric.astype(np.float64), t, 0
            )
            counted, _ = reduce_groups(
                group, pane_of_group, n_panes, numeric.astype(np.float64), t, 5
            )
            counted = counted.astype(np.int64)
            if func == "count":
                out[item.name] = counted
            else:
                mean = np.full(n_panes, np.nan)
                np.divide(total, counted, out=mean, where=counted > 0)
                out[item.name] = mean
        elif numeric is not None and isinstance(func, str) and func in _COMPILED:
            result, seen = reduce_groups(
                group, pane_of_group, n_panes, numeric, t, _COMPILED[func]
            )
            if not seen.all() and func != "sum":
                result = result.astype(np.float64)
                result[~seen] = np.nan
            out[item.name] = result
        else:
            if rows_pane is None:
                rows_pane = _row_panes(group, pane_of_group)
            out[item.name] = _pandas_path(values, func, rows_pane, n_panes, t, arrival)
    return out


def _row_panes(group: np.ndarray, pane_of_group: np.ndarray):
    """``(positions, pane)`` of the rows that belong to a pane."""
    pane = np.full(len(group), -1, np.int64)
    inside = group >= 0
    pane[inside] = pane_of_group[group[inside]]
    positions = np.flatnonzero(pane >= 0)
    return positions, pane[positions]


def _ohlcv(plan, group, pane_of_group, n_panes, price, size, t) -> dict[str, Any]:
    # Outputs allocated by numpy (huge pages), filled by one compiled pass.
    prices = np.zeros((4, n_panes), price.dtype)
    seen = np.zeros(n_panes, bool)
    volume = np.zeros(n_panes, size.dtype)
    vwap_sums = np.zeros((2, n_panes), np.float64)
    ohlcv(group, pane_of_group, price, size, t, prices, seen, volume, vwap_sums)
    first, high, low, last = prices
    if not seen.all():
        first, high, low, last = (v.astype(np.float64) for v in prices)
        for values in (first, high, low, last):
            values[~seen] = np.nan
    notional, vwap_volume = vwap_sums
    vwap = np.full(n_panes, np.nan)
    np.divide(notional, vwap_volume, out=vwap, where=vwap_volume != 0)
    return dict(zip(plan.names, (first, high, low, last, volume, vwap), strict=True))


def _vwap(columns, names, group, pane_of_group, n_panes) -> np.ndarray:
    price = np.asarray(columns[names[0]], dtype=np.float64)
    size = np.asarray(columns[names[1]], dtype=np.float64)
    notional, volume = vwap_parts(group, pane_of_group, n_panes, price, size)
    vwap = np.full(n_panes, np.nan)
    np.divide(notional, volume, out=vwap, where=volume != 0)
    return vwap


def _pandas_path(values, func, rows_pane, n_panes, t, arrival) -> Any:
    """General aggregations through pandas, rows ordered by (event time, arrival)."""
    positions, pane = rows_pane
    values = pd.Series(values).reset_index(drop=True)
    if len(positions) != len(values):
        values = values.take(positions).reset_index(drop=True)
    t = t[positions]
    arrival = arrival[positions]
    frame = pd.DataFrame({"pane": pane, "value": values})
    if callable(func) or func in ("first", "last"):
        frame = frame.iloc[np.lexsort((arrival, t, pane))]
    grouped = frame.groupby("pane", sort=True)["value"]
    if callable(func):
        result = grouped.agg(func)
    else:
        result = getattr(grouped, func)()
    result = result.reindex(pd.RangeIndex(n_panes))
    return result.array
