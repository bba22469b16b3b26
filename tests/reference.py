"""A deliberately plain, row-by-row implementation of SPEC.md: the oracle.

Loops and dicts, no vectorisation, Python integers for time (no overflow).
Input normalisation (durations, time columns) reuses the package helpers;
everything the spec says about windows, watermarks, status and emission is
written here again, independently of the engine.

Outputs are lists of plain records (times as int nanoseconds, ``None`` for
NaT / minus infinity) so tests can compare them with the engine's frames.
"""

from __future__ import annotations

import math
from typing import Any

import mmh3
import numpy as np
import pandas as pd

from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy
from mdwindow.core.rules import NEG_INF
from mdwindow.core.times import event_times

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def _kafka_murmur2(data: bytes) -> int:
    from mdwindow.hashing import murmur2

    return murmur2(data)


def partition_of(key: Any, partitions: int, hash: str, seed: int) -> int:
    data = key if isinstance(key, bytes) else str(key).encode("utf-8")
    if hash == "kafka":
        return (_kafka_murmur2(data) & 0x7FFFFFFF) % partitions
    return mmh3.hash(data, seed, signed=False) % partitions


def _first(values: list) -> Any:
    present = [v for v in values if not _missing(v)]
    return present[0] if present else math.nan


def _last(values: list) -> Any:
    present = [v for v in values if not _missing(v)]
    return present[-1] if present else math.nan


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def aggregate(rows: list[dict], aggs: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    """Aggregates of one pane; ``rows`` carry ``t``, ``arrival`` and the columns."""
    ordered = sorted(rows, key=lambda r: (r["t"], r["arrival"]))
    out: dict[str, Any] = {}
    for name, (column, func) in aggs.items():
        if func == "__vwap__":
            price_col, size_col = column
            num = 0.0
            den = 0
            for r in ordered:
                p, s = r["values"][price_col], r["values"][size_col]
                if _missing(p) or _missing(s):
                    continue
                num += p * s
                den += s
            out[name] = num / den if den != 0 else math.nan
            continue
        values = [r["values"][column] for r in ordered]
        if func == "first":
            out[name] = _first(values)
        elif func == "last":
            out[name] = _last(values)
        else:
            series = pd.Series(values, dtype=None if values else "float64")
            if callable(func):
                out[name] = func(series)
            else:
                out[name] = getattr(series, func)()
    return out


def ohlcv_aggs(price: str, size: str) -> dict[str, tuple[Any, Any]]:
    return {
        "open": (price, "first"),
        "high": (price, "max"),
        "low": (price, "min"),
        "close": (price, "last"),
        "volume": (size, "sum"),
        "vwap": ((price, size), "__vwap__"),
    }


def reference(
    ticks: pd.DataFrame,
    spec: Any,
    *,
    time: str = "ts",
    key: str | None = "symbol",
    agg: Any = None,
    emit: str = "final",
    arrival_time: str | None = None,
    time_unit: str | None = None,
    partitions: int | None = None,
    hash: str = "murmur3",
    seed: int = 0,
    price: str = "price",
    size: str = "size",
    lag: Any = 0,
    allowed_lateness: Any = 0,
    scope: str = "global",
    idle_timeout: Any = None,
) -> dict[str, list]:
    spec = TumblingWindowSpec.coerce(spec)
    policy = WatermarkPolicy(lag, allowed_lateness, scope, idle_timeout)
    S, OFFSET = spec.size_ns, spec.offset_ns
    LAG, L = policy.lag_ns, policy.lateness_ns
    IDLE = policy.idle_ns
    if agg is None:
        aggs: dict = {}
    elif agg == "ohlcv":
        aggs = ohlcv_aggs(price, size)
    else:
        aggs = dict(agg)

    nanos, out_of_range = event_times(ticks, time, time_unit)
    n = len(ticks)
    times: list[int | None] = [None if v == NEG_INF else int(v) for v in nanos]
    keys = list(ticks[key]) if key is not None else [None] * n
    value_columns = sorted(
        {c for _, (col, _f) in aggs.items() for c in (col if isinstance(col, tuple) else (col,))}
    )
    columns = {c: list(ticks[c]) for c in value_columns}

    if arrival_time is not None:
        arr, _ = event_times(ticks, arrival_time, None)
        order = sorted(range(n), key=lambda i: int(arr[i]))  # sorted() is stable
        arrival_stamp = [int(a) for a in arr]
    else:
        order = list(range(n))
        arrival_stamp = None

    max_by_scope: dict[Any, int] = {}
    max_global: int | None = None

    def scope_of(k: Any) -> Any:
        if scope == "global":
            return "*"
        if scope == "key":
            return ("k", k)
        return ("p", partition_of(k, partitions, hash, seed))

    def watermark(scope_id: Any) -> int | None:
        """Effective watermark of a scope now (None is minus infinity)."""
        candidates = []
        if scope_id in max_by_scope:
            candidates.append(max_by_scope[scope_id] - LAG)
        if IDLE is not None and max_global is not None:
            candidates.append(max_global - LAG - IDLE)
        return max(candidates) if candidates else None

    def shown(w: int | None) -> int | None:
        return None if w is None or w < INT64_MIN + 1 else w

    def lt(w: int | None, bound: int) -> bool:
        return w is None or w < bound

    windows: dict[tuple, dict] = {}  # (start, key) -> window state
    emitted: list[dict] = []
    late: list[dict] = []
    rejected: list[dict] = []
    trace: list[dict | None] = [None] * n

    def pane(w: dict, timing: str, emit_row: int, emit_wm: int | None) -> dict:
        rec: dict[str, Any] = {}
        if key is not None:
            rec[key] = w["key"]
        if partitions is not None:
            rec["partition"] = partition_of(w["key"], partitions, hash, seed)
        rec["window_start"] = w["start"]
        rec["window_end"] = w["start"] + S
        rec.update(aggregate(w["rows"], aggs))
        rec["count"] = len(w["rows"])
        rec["late_count"] = sum(1 for r in w["rows"] if r["late"])
        rec["timing"] = timing
        rec["revision"] = w["panes"]
        rec["emit_row"] = emit_row
        rec["emit_watermark"] = emit_wm
        if arrival_time is not None:
            rec["emit_time"] = arrival_stamp[order[emit_row]] if emit_row < n else None
        w["panes"] += 1
        return rec

    def sort_key(w: dict) -> tuple:
        return (w["start"], w["key"]) if key is not None else (w["start"],)

    for a, i in enumerate(order):
        t, k = times[i], keys[i]
        reason = None
        if t is None:
            reason = "time_out_of_range" if out_of_range[i] else "missing_time"
        elif key is not None and _missing(k):
            reason = "missing_key"
        else:
            start = OFFSET + ((t - OFFSET) // S) * S
            if start < INT64_MIN + 1 or start + S > INT64_MAX:
                reason = "time_out_of_range"
        # A missing key has no key or partition scope, but the global one exists.
        scope_id = None
        if scope == "global" or key is None or not _missing(k):
            scope_id = scope_of(k)
        if reason is not None:
            wm = shown(watermark(scope_id)) if scope_id is not None else None
            rejected.append({"index": ticks.index[i], "arrival": a, "reason": reason})
            trace[i] = {
                "arrival": a,
                "window_start": None,
                "watermark_before": wm,
                "watermark_after": wm,
                "status": "rejected",
            }
            continue

        end = start + S
        w_before = watermark(scope_id)
        if lt(w_before, end):
            status = "on_time"
        elif lt(w_before, end + L):
            status = "late"
        else:
            status = "dropped"

        panes_now: list[tuple[tuple, dict]] = []
        late_window = None
        if status == "dropped":
            late.append(
                {
                    "index": ticks.index[i],
                    "arrival": a,
                    "window_start": start,
                    "window_end": end,
                    "watermark": w_before,
                    "late_by": min(w_before - (end + L), INT64_MAX),
                }
            )
        else:
            wid = (start, k)
            if wid not in windows:
                windows[wid] = {
                    "start": start,
                    "key": k,
                    "scope": scope_id,
                    "rows": [],
                    "panes": 0,
                    "on_time_fired": False,
                }
            w = windows[wid]
            w["rows"].append(
                {
                    "t": t,
                    "arrival": a,
                    "late": status == "late",
                    "values": {c: columns[c][i] for c in value_columns},
                }
            )
            late_window = w if (emit == "updates" and status == "late") else None

        # The row moves the watermark of its scope (and the global maximum).
        max_by_scope[scope_id] = max(max_by_scope.get(scope_id, t), t)
        max_global = t if max_global is None else max(max_global, t)
        w_after = watermark(scope_id)
        trace[i] = {
            "arrival": a,
            "window_start": start,
            "watermark_before": shown(w_before),
            "watermark_after": shown(w_after),
            "status": status,
        }
        if late_window is not None:
            panes_now.append((sort_key(late_window), pane(late_window, "late", a, shown(w_after))))

        for wid in list(windows):
            w = windows[wid]
            wm = watermark(w["scope"])
            w_end = w["start"] + S
            if emit == "final":
                if not lt(wm, w_end + L):
                    panes_now.append((sort_key(w), pane(w, "final", a, shown(wm))))
                    del windows[wid]
            else:
                if not w["on_time_fired"] and not lt(wm, w_end):
                    w["on_time_fired"] = True
                    if any(not r["late"] for r in w["rows"]):
                        panes_now.append((sort_key(w), pane(w, "on_time", a, shown(wm))))
                if not lt(wm, w_end + L):
                    del windows[wid]
        panes_now.sort(key=lambda p: p[0])
        emitted.extend(p for _, p in panes_now)

    # End of input: windows that have emitted nothing yet are pending.
    pending: list[dict] = []
    for w in sorted(windows.values(), key=sort_key):
        if w["panes"] > 0:
            continue
        if spec.emit_partial:
            emitted.append(pane(w, "partial", n, None))
        else:
            rec = pane(w, "pending", n, None)
            pending.append(rec)

    return {
        "windows": emitted,
        "pending": pending,
        "late": late,
        "rejected": rejected,
        "trace": trace,
    }


__all__ = ["reference", "aggregate", "partition_of", "np"]
