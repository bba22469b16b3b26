"""Turn result frames into plain records and compare them with the oracle's."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mdwindow.result import WindowResult


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return int(value.value)
    if isinstance(value, pd.Timedelta):
        return int(value.value)
    if value is pd.NaT or value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return math.nan
    return value


def frame_records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict]:
    columns = list(frame.columns) if columns is None else columns
    out = []
    for row in frame[columns].itertuples(index=False, name=None):
        out.append({c: _plain(v) for c, v in zip(columns, row, strict=True)})
    return out


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        a, b = float(a), float(b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def assert_records(actual: list[dict], expected: list[dict], what: str) -> None:
    assert len(actual) == len(expected), f"{what}: {len(actual)} rows, expected {len(expected)}"
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        assert set(a) == set(e), f"{what}[{i}] columns {sorted(a)} != {sorted(e)}"
        for column in e:
            assert same_value(a[column], e[column]), (
                f"{what}[{i}].{column}: got {a[column]!r}, expected {e[column]!r}\n"
                f"row: {a}\nexpected: {e}"
            )


def assert_matches_reference(result: WindowResult, expected: dict, ticks: pd.DataFrame) -> None:
    """Every frame of ``result`` equals the oracle's records."""
    assert_records(frame_records(result.windows), expected["windows"], "windows")
    assert_records(frame_records(result.pending), expected["pending"], "pending")
    late_cols = ["arrival", "window_start", "window_end", "watermark", "late_by"]
    late = frame_records(result.late, late_cols)
    for rec, label in zip(late, result.late.index, strict=True):
        rec["index"] = _plain(label)
    assert_records(late, expected["late"], "late")
    rejected = frame_records(result.rejected, ["arrival", "reason"])
    for rec, label in zip(rejected, result.rejected.index, strict=True):
        rec["index"] = _plain(label)
    assert_records(rejected, expected["rejected"], "rejected")
    assert result.trace.index.equals(ticks.index)
    assert_records(frame_records(result.trace), expected["trace"], "trace")
    # The original columns ride along unchanged on late and rejected rows.
    for name in ("late", "rejected"):
        frame = getattr(result, name)
        positions = [r["arrival"] for r in expected[name]]
        del positions
        assert list(frame.columns[: len(ticks.columns)]) == list(ticks.columns)
