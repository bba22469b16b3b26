"""Checkpoints of the engine state: versioned, self-describing, no pickle.

Layout of a checkpoint blob::

    b"MDWCKPT\\x00"          magic (8 bytes)
    uint32 big-endian       length of the JSON header
    JSON header             format, version, configuration, scalar state,
                            sizes of the sections that follow, CRC32 of them
    sections                Parquet tables (keys, per-scope maxima, open rows)

Parquet keeps each column's dtype without executing code on load, so a
checkpoint from an untrusted source cannot run anything; the CRC32 catches
truncation and bit rot.
"""

from __future__ import annotations

import io
import json
import os
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.aggregate import VWAP, AggItem, AggPlan
from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy, WindowOptions
from mdwindow.core.rules import NEG_INF
from mdwindow.core.state import State

MAGIC = b"MDWCKPT\x00"
FORMAT = "mdwindow-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: corrupted, foreign, or of another version."""


def _table_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()


def _read_table(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data), engine="pyarrow")


def _config_header(cfg: WindowOptions) -> dict[str, Any]:
    items = []
    for item in cfg.plan.items:
        func = item.func if isinstance(item.func, str) else None
        items.append({"name": item.name, "columns": list(item.columns), "func": func})
    return {
        "size_ns": cfg.spec.size_ns,
        "offset_ns": cfg.spec.offset_ns,
        "emit_partial": cfg.spec.emit_partial,
        "lag_ns": cfg.policy.lag_ns,
        "lateness_ns": cfg.policy.lateness_ns,
        "scope": cfg.policy.scope,
        "idle_ns": cfg.policy.idle_ns,
        "time": cfg.time,
        "key": cfg.key,
        "agg": items,
        "emit": cfg.emit,
        "arrival_time": cfg.arrival_time,
        "time_unit": cfg.time_unit,
        "partitions": cfg.partitions,
        "hash": cfg.hash,
        "seed": cfg.seed,
    }


def _config_from_header(head: dict[str, Any], agg_override: Any) -> WindowOptions:
    items = []
    callables = dict(agg_override.items()) if isinstance(agg_override, dict) else {}
    for entry in head["agg"]:
        func = entry["func"]
        if func is None:
            given = callables.get(entry["name"])
            if given is None or not callable(given[1] if isinstance(given, tuple) else None):
                raise CheckpointError(
                    f"agg: the checkpoint's aggregate {entry['name']!r} is a Python function, "
                    "which a checkpoint cannot hold; pass it again: "
                    f"Windower.restore(data, agg={{{entry['name']!r}: (column, func)}})"
                )
            func = given[1]
        columns = tuple(entry["columns"])
        items.append(AggItem(entry["name"], columns, VWAP if func == VWAP else func))
    return WindowOptions(
        spec=TumblingWindowSpec(
            pd.Timedelta(head["size_ns"]), pd.Timedelta(head["offset_ns"]), head["emit_partial"]
        ),
        policy=WatermarkPolicy(
            pd.Timedelta(head["lag_ns"]),
            pd.Timedelta(head["lateness_ns"]),
            head["scope"],
            None if head["idle_ns"] is None else pd.Timedelta(head["idle_ns"]),
        ),
        time=head["time"],
        key=head["key"],
        plan=AggPlan(tuple(items)),
        emit=head["emit"],
        arrival_time=head["arrival_time"],
        time_unit=head["time_unit"],
        partitions=head["partitions"],
        hash=head["hash"],
        seed=head["seed"],
    )


def dumps(
    cfg: WindowOptions, state: State, *, finished: bool, template: pd.DataFrame | None
) -> bytes:
    """Serialise a configuration and state into a checkpoint blob."""
    sections: dict[str, bytes] = {}
    if state.keys is not None:
        sections["keys"] = _table_bytes(pd.DataFrame({"key": state.keys}))
    sections["scopes"] = _table_bytes(pd.DataFrame({"max": state.scope_max.astype(np.int64)}))
    sections["key_partition"] = _table_bytes(
        pd.DataFrame({"partition": state.key_partition.astype(np.int64)})
    )
    rows = state.open_rows
    if rows is not None:
        sections["open_rows"] = _table_bytes(
            pd.DataFrame(
                {name: pd.Series(values) for name, values in rows.items() if values is not None}
            )
        )
    if template is not None:
        sections["template"] = _table_bytes(template.iloc[:0].reset_index(drop=True))
    payload = b"".join(sections.values())
    header = {
        "format": FORMAT,
        "version": VERSION,
        "config": _config_header(cfg),
        "rows_seen": state.rows_seen,
        "global_max": state.global_max,
        "last_arrival_time": state.last_arrival_time,
        "time_kind": state.time_kind,
        "finished": finished,
        "sections": [[name, len(data)] for name, data in sections.items()],
        "crc32": zlib.crc32(payload),
    }
    head = json.dumps(header, sort_keys=True).encode("utf-8")
    return MAGIC + struct.pack(">I", len(head)) + head + payload


def loads(data: bytes, *, agg: Any = None):
    """Read a checkpoint blob: ``(config, state, finished, template)``."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data: got {type(data).__name__}; give the bytes of a checkpoint")
    data = bytes(data)
    if not data.startswith(MAGIC):
        raise CheckpointError(
            "data: not an mdwindow checkpoint (bad magic bytes); "
            "give bytes from Windower.checkpoint() or a file from Windower.save()"
        )
    try:
        (length,) = struct.unpack(">I", data[8:12])
        header = json.loads(data[12 : 12 + length].decode("utf-8"))
    except (struct.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"data: the checkpoint header is corrupted ({exc})") from None
    if header.get("format") != FORMAT:
        raise CheckpointError(f"data: unknown format {header.get('format')!r}")
    if header.get("version") != VERSION:
        raise CheckpointError(
            f"data: checkpoint version {header.get('version')!r}; this mdwindow reads "
            f"version {VERSION}. Restore it with the mdwindow version that wrote it"
        )
    payload = data[12 + length :]
    expected = sum(size for _, size in header["sections"])
    if len(payload) != expected or zlib.crc32(payload) != header["crc32"]:
        raise CheckpointError(
            "data: the checkpoint is truncated or corrupted (checksum mismatch); "
            "use an intact copy"
        )
    sections: dict[str, bytes] = {}
    at = 0
    for name, size in header["sections"]:
        sections[name] = payload[at : at + size]
        at += size
    cfg = _config_from_header(header["config"], agg)
    keys = None
    if "keys" in sections:
        keys = pd.Index(_read_table(sections["keys"])["key"])
    rows = None
    if "open_rows" in sections:
        table = _read_table(sections["open_rows"])
        rows = {}
        for name in table.columns:
            column = table[name]
            if name in ("key", "start", "t", "arrival"):
                rows[name] = column.to_numpy(np.int64)
            elif name == "late":
                rows[name] = column.to_numpy(bool)
            else:
                rows[name] = (
                    column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array
                )
        for column in cfg.plan.columns:
            rows.setdefault("col:" + column, None)
    state = State(
        rows_seen=int(header["rows_seen"]),
        global_max=int(header["global_max"]),
        scope_max=_read_table(sections["scopes"])["max"].to_numpy(np.int64),
        keys=keys,
        key_partition=_read_table(sections["key_partition"])["partition"].to_numpy(np.int64),
        open_rows=rows,
        last_arrival_time=int(header.get("last_arrival_time", NEG_INF)),
        time_kind=header["time_kind"],
    )
    template = _read_table(sections["template"]) if "template" in sections else None
    return cfg, state, bool(header["finished"]), template


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
