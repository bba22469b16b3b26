"""What the engine keeps between chunks, and what one step of it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.options import WindowOptions
from mdwindow.core.rules import NEG_INF


@dataclass
class State:
    """Everything the engine remembers between chunks.

    Only open windows' rows and one maximum per scope are kept, so the state
    stays small however long the replay.
    """

    rows_seen: int = 0
    global_max: int = NEG_INF
    scope_max: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    keys: pd.Index | None = None
    key_partition: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    open_rows: dict[str, Any] | None = None
    last_arrival_time: int = NEG_INF
    time_kind: str | None = None
    _key_rank: np.ndarray | None = field(default=None, repr=False, compare=False)
    _key_table: Any = field(default=None, repr=False, compare=False)
    # The compiled window table of emit="final", valid for this state only
    # while ``_live.owner is _token`` (see LiveWindows).
    _live: Any = field(default=None, repr=False, compare=False)
    _token: object = field(default_factory=object, repr=False, compare=False)


@dataclass(eq=False)
class LiveWindows:
    """The open windows of ``emit="final"`` in compiled form, carried to the next chunk.

    Rebuilding the window table from the open rows costs a pass over them
    on every chunk, however small (with long windows, more rows than the
    chunk itself). The table is kept
    instead, for the state that the chunk produced: ``owner`` is that
    state's token, and a chunk that starts from any other state (an older
    one, a restored checkpoint) rebuilds the table from its ``open_rows``.
    A chunk that takes the table over clears ``owner`` before changing it,
    so a chunk failing half way leaves nothing usable behind.
    """

    work: Any  # the working state of the pass that made it (RingWork or FinalWork)
    window: np.ndarray  # window id (slot numbering) of each of the owner's open rows
    fused: bool  # whether the slots fold OHLCV (then of these dtypes)
    dtypes: tuple | None
    owner: object
    kind: tuple  # ("ring", ring size) or ("heap", None): the pass that made it


class Deferred:
    """A result frame that is built the first time somebody reads it.

    A pushed chunk of a thousand rows costs more in DataFrame construction
    than in windowing, and a replay often reads only ``windows``: the other
    frames wait as their ready arrays. :class:`~mdwindow.WindowResult`
    builds them on first access (once).
    """

    __slots__ = ("build",)

    def __init__(self, build: Callable[[], pd.DataFrame]) -> None:
        self.build = build


def resolve(value: pd.DataFrame | Deferred) -> pd.DataFrame:
    """The frame itself, or the frame a :class:`Deferred` builds."""
    return value.build() if isinstance(value, Deferred) else value


@dataclass
class ChunkOutput:
    """Frames produced by one step of the engine (``late``, ``rejected`` and
    ``trace`` may be :class:`Deferred`)."""

    windows: pd.DataFrame
    late: pd.DataFrame | Deferred
    rejected: pd.DataFrame | Deferred
    trace: pd.DataFrame | Deferred
    pending: pd.DataFrame | None = None


def empty_rows(cfg: WindowOptions) -> dict[str, Any]:
    rows: dict[str, Any] = {
        "key": np.empty(0, np.int64),
        "start": np.empty(0, np.int64),
        "t": np.empty(0, np.int64),
        "arrival": np.empty(0, np.int64),
        "late": np.empty(0, bool),
    }
    for column in cfg.plan.columns:
        rows["col:" + column] = np.empty(0, np.float64)
    return rows


def concat_rows(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, values in new.items():
        before = old.get(name)
        if before is None or len(before) == 0:
            out[name] = values
        elif len(values) == 0:
            out[name] = before
        elif isinstance(values, np.ndarray) and isinstance(before, np.ndarray):
            out[name] = np.concatenate([before, values])
        else:
            out[name] = pd.concat([pd.Series(before), pd.Series(values)], ignore_index=True).array
    return out


def take_rows(rows: dict[str, Any], index: np.ndarray) -> dict[str, Any]:
    return {name: (None if v is None else v[index]) for name, v in rows.items()}


def concat_arrays(before: Any, values: Any) -> Any:
    """``before`` followed by ``values`` (numpy or extension arrays); no copy when one is empty."""
    if before is None or len(before) == 0:
        return values
    if len(values) == 0:
        return before
    if isinstance(values, np.ndarray) and isinstance(before, np.ndarray):
        return np.concatenate([before, values])
    return pd.concat([pd.Series(before), pd.Series(values)], ignore_index=True).array


def next_state(cfg, state, prepared, *, global_max, scope_max, keys, key_partition, open_rows):
    n = prepared.n
    return State(
        rows_seen=state.rows_seen + n,
        global_max=int(global_max),
        scope_max=scope_max,
        keys=keys if cfg.key is not None else state.keys,
        key_partition=key_partition,
        open_rows=open_rows,
        last_arrival_time=(
            int(prepared.arrival_stamp[-1])
            if prepared.arrival_stamp is not None and n
            else state.last_arrival_time
        ),
        time_kind=state.time_kind
        if (state.time_kind is not None or n == 0)
        else prepared.time_kind,
        _key_rank=state._key_rank,
    )
