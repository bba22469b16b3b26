"""Checkpoints of the engine state: versioned, self-describing, no pickle.

Layout of a checkpoint blob::

    b"MDWCKPT\\x00"          magic (8 bytes)
    uint32 big-endian       length of the JSON header
    JSON header             format, version, options, scalar state,
                            sizes of the sections that follow
    sections                Parquet tables (keys, per-scope maxima, open rows)
    uint32 big-endian       CRC32 of everything before it

Parquet keeps each column's dtype without executing code on load, so a
checkpoint from an untrusted source cannot run anything. The CRC32 covers
the whole blob, header included, so truncation and bit rot are caught
before anything is read; then every header value goes through the same
validation as the options of a new ``Windower``, and any fault is a
:class:`CheckpointError` at restore, never later.
"""

from __future__ import annotations

import io
import json
import os
import stat
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.keys import n_scopes
from mdwindow.core.options import WindowOptions
from mdwindow.core.rules import INT64_MAX, NEG_INF
from mdwindow.core.state import State

MAGIC = b"MDWCKPT\x00"
FORMAT = "mdwindow-checkpoint"
VERSION = 2


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: corrupted, foreign, or of another version."""


def _table_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()


def _read_table(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data), engine="pyarrow")


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
        "config": cfg.to_header(),
        "rows_seen": state.rows_seen,
        "global_max": state.global_max,
        "last_arrival_time": state.last_arrival_time,
        "time_kind": state.time_kind,
        # Parquet would bring object strings back as pandas' "str" dtype.
        "keys_object": state.keys is not None and state.keys.dtype == object,
        "finished": finished,
        "sections": [[name, len(data)] for name, data in sections.items()],
    }
    head = json.dumps(header, sort_keys=True).encode("utf-8")
    body = MAGIC + struct.pack(">I", len(head)) + head + payload
    return body + struct.pack(">I", zlib.crc32(body))


def loads(data: bytes, *, agg: Any = None):
    """Read a checkpoint blob: ``(options, state, finished, template)``.

    Raises :class:`CheckpointError` for anything that is not an intact
    checkpoint of this version with valid contents.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data: got {type(data).__name__}; give the bytes of a checkpoint")
    data = bytes(data)
    if not data.startswith(MAGIC):
        raise CheckpointError(
            "data: not an mdwindow checkpoint (bad magic bytes); "
            "give bytes from Windower.checkpoint() or a file from Windower.save()"
        )
    body, crc = data[:-4], data[-4:]
    if len(data) < 16 or struct.unpack(">I", crc)[0] != zlib.crc32(body):
        raise CheckpointError(
            "data: the checkpoint is truncated or corrupted (checksum mismatch); "
            "use an intact copy"
        )
    try:
        (length,) = struct.unpack(">I", body[8:12])
        header = json.loads(body[12 : 12 + length].decode("utf-8"))
    except (struct.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"data: the checkpoint header is corrupted ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError("data: not an mdwindow checkpoint (unknown format)")
    if header.get("version") != VERSION:
        raise CheckpointError(
            f"data: checkpoint version {header.get('version')!r}; this mdwindow reads "
            f"version {VERSION}. Restore it with the mdwindow version that wrote it"
        )
    try:
        return _contents(header, body[12 + length :], agg)
    except CheckpointError:
        raise
    except TypeError as exc:
        if "agg" in str(exc) and "Python function" in str(exc):
            raise CheckpointError(str(exc)) from None
        raise CheckpointError(f"data: the checkpoint holds an invalid value ({exc})") from None
    except (ValueError, KeyError, IndexError, AttributeError, OSError) as exc:
        raise CheckpointError(f"data: the checkpoint holds an invalid value ({exc})") from None


def _contents(header: dict[str, Any], payload: bytes, agg: Any):
    fields = {"format", "version", "config", "rows_seen", "global_max",
              "last_arrival_time", "time_kind", "keys_object", "finished", "sections"}  # fmt: skip
    if set(header) != fields:
        raise ValueError(f"header fields {sorted(header)}")
    cfg = WindowOptions.from_header(header["config"], agg)
    sections = _sections(header["sections"], payload)
    rows_seen = _whole(header, "rows_seen", low=0)
    global_max = _whole(header, "global_max")
    last_arrival_time = _whole(header, "last_arrival_time")
    time_kind = header["time_kind"]
    if time_kind not in (None, "datetime", "integer"):
        raise ValueError(f"time_kind {time_kind!r}")
    if not isinstance(header["finished"], bool):
        raise ValueError(f"finished {header['finished']!r}")
    keys = None
    if not isinstance(header["keys_object"], bool):
        raise ValueError(f"keys_object {header['keys_object']!r}")
    if "keys" in sections:
        stored = _read_table(sections["keys"])["key"]
        keys = pd.Index(stored, dtype=object if header["keys_object"] else stored.dtype)
    if cfg.key is None and keys is not None and len(keys) > 1:
        raise ValueError("keys without a key column")
    n_keys = 0 if keys is None else len(keys)
    scope_max = _read_table(sections["scopes"])["max"].to_numpy(np.int64)
    key_partition = _read_table(sections["key_partition"])["partition"].to_numpy(np.int64)
    if len(scope_max) > max(n_scopes(cfg, keys), 1):
        raise ValueError(f"{len(scope_max)} scope maxima")
    if cfg.partitions is not None and (
        len(key_partition) != n_keys
        or (
            len(key_partition)
            and not 0 <= key_partition.min() <= key_partition.max() < cfg.partitions
        )
    ):
        raise ValueError("key partitions do not match the keys")
    rows = None
    if "open_rows" in sections:
        rows = _open_rows(_read_table(sections["open_rows"]), cfg, n_keys, rows_seen)
    state = State(
        rows_seen=rows_seen,
        global_max=global_max,
        scope_max=scope_max,
        keys=keys,
        key_partition=key_partition,
        open_rows=rows,
        last_arrival_time=last_arrival_time,
        time_kind=time_kind,
    )
    template = _read_table(sections["template"]) if "template" in sections else None
    return cfg, state, header["finished"], template


def _whole(header: dict[str, Any], name: str, *, low: int = NEG_INF) -> int:
    value = header[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= INT64_MAX:
        raise ValueError(f"{name} {value!r}")
    return value


def _sections(listing: Any, payload: bytes) -> dict[str, bytes]:
    known = ("keys", "scopes", "key_partition", "open_rows", "template")
    if not isinstance(listing, list) or not all(
        isinstance(e, list) and len(e) == 2 and e[0] in known and isinstance(e[1], int)
        and not isinstance(e[1], bool) and e[1] >= 0
        for e in listing
    ):  # fmt: skip
        raise ValueError(f"sections {listing!r}")
    if sum(size for _, size in listing) != len(payload):
        raise ValueError("section sizes")
    sections: dict[str, bytes] = {}
    at = 0
    for name, size in listing:
        sections[name] = payload[at : at + size]
        at += size
    for required in ("scopes", "key_partition"):
        if required not in sections:
            raise ValueError(f"missing section {required!r}")
    return sections


def _open_rows(table: pd.DataFrame, cfg: WindowOptions, n_keys: int, rows_seen: int):
    expected = ["key", "start", "t", "arrival", "late"] + ["col:" + c for c in cfg.plan.columns]
    if sorted(table.columns) != sorted(expected):
        raise ValueError(f"open rows columns {list(table.columns)}")
    rows: dict[str, Any] = {}
    for name in table.columns:
        column = table[name]
        if name in ("key", "start", "t", "arrival"):
            rows[name] = column.to_numpy(np.int64)
        elif name == "late":
            rows[name] = column.to_numpy(bool)
        else:
            rows[name] = column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array
    if len(table) and (
        rows["key"].min() < 0
        or rows["key"].max() >= max(n_keys, 1)
        or rows["arrival"].min() < 0
        or rows["arrival"].max() >= rows_seen
    ):
        raise ValueError("open rows out of range")
    return rows


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    The file keeps the permissions of the file it replaces; a new file gets
    the umask's (``mkstemp`` alone would make every checkpoint 0600).
    """
    target = Path(path)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent or ".")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
