"""``Windower``: the incremental front door, one engine call per pushed chunk."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mdwindow import checkpoint as _checkpoint
from mdwindow.core.engine import finish, open_windows, process_chunk, scope_watermarks
from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy, WindowOptions
from mdwindow.core.state import ChunkOutput, Deferred, State
from mdwindow.core.times import to_utc
from mdwindow.interchange import (
    FrameKind,
    FrameLike,
    check_output,
    option_columns,
    read_frame,
    write_frame,
)
from mdwindow.result import WindowResult


class Windower:
    """Event-time tumbling windows over a stream of chunks.

    Takes the same options as :func:`mdwindow.tumbling_windows`. Pushing any
    split of a frame into chunks, then flushing, gives exactly the batch
    result: both run the same engine, and only open windows and one maximum
    event time per scope are kept between chunks.

    Chunks may be pandas, polars or Arrow frames (see
    :mod:`mdwindow.interchange`); each push returns frames of its chunk's
    library, and ``flush`` those of the last chunk's, unless ``output``
    names another. The ``row`` column of polars and Arrow ``late`` and
    ``rejected`` frames counts over all pushed rows.

    Parameters
    ----------
    spec, policy, time, key, agg, emit, arrival_time, time_unit, partitions, hash, seed, \
price, size, output, **policy_keywords
        As for :func:`mdwindow.tumbling_windows`.

    Examples
    --------
    >>> import pandas as pd
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> w = Windower("2s", allowed_lateness="1s")
    >>> w.push(ticks.iloc[:5]).windows.empty
    True
    >>> w.push(ticks.iloc[5:]).windows["count"].tolist()
    [4, 1]
    >>> w.watermark
    Timestamp('1970-01-01 00:00:05+0000', tz='UTC')
    >>> w.flush().pending["count"].tolist()
    [1]
    """

    def __init__(
        self,
        spec: TumblingWindowSpec | Any,
        policy: WatermarkPolicy | None = None,
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
        output: str | None = None,
        **policy_keywords: Any,
    ) -> None:
        self._config = WindowOptions.build(
            spec,
            policy,
            time=time,
            key=key,
            agg=agg,
            emit=emit,
            arrival_time=arrival_time,
            time_unit=time_unit,
            partitions=partitions,
            hash=hash,
            seed=seed,
            price=price,
            size=size,
            **policy_keywords,
        )
        self._state = State()
        self._finished = False
        self._template: pd.DataFrame | None = None
        self._empty: ChunkOutput | None = None
        self._output = check_output(output)
        self._kind = FrameKind(library=self._output or "pandas")

    # -- the stream -------------------------------------------------------

    def push(self, chunk: FrameLike) -> WindowResult:
        """Feed the next chunk (rows in arrival order).

        Returns the panes emitted because of this chunk and this chunk's
        late, rejected and trace rows; ``emit_row`` and ``arrival`` count over
        all pushed rows. A chunk that fails its checks raises before anything
        changes, so the next good chunk continues as if it never came.
        """
        if self._finished:
            raise RuntimeError("push: this Windower was flushed; start a new Windower to go on")
        chunk, kind = read_frame(
            chunk,
            output=self._output,
            name="chunk",
            first_row=self.rows_seen,
            row_column=True,
            columns=option_columns(self._config),
        )
        output, state = process_chunk(self._config, self._state, chunk)
        self._state = state
        self._kind = kind
        if self._template is None:
            self._template = chunk.iloc[:0]
            self._empty = output if len(chunk) == 0 else None
        windows = output.windows
        return WindowResult(
            windows=windows,
            pending=Deferred(lambda: windows.iloc[:0].copy()),
            late=output.late,
            rejected=output.rejected,
            trace=output.trace,
            kind=kind,
        )

    def flush(self) -> WindowResult:
        """End of input: pending windows (or ``timing="partial"`` panes).

        After ``flush`` the Windower accepts no more chunks.
        """
        if self._finished:
            raise RuntimeError("flush: this Windower was already flushed")
        at_end, pending = finish(self._config, self._state)
        empty = self._empty_output()
        self._finished = True
        return WindowResult(
            windows=at_end,
            pending=pending,
            late=empty.late,
            rejected=empty.rejected,
            trace=empty.trace,
            kind=self._kind,
        )

    def _empty_output(self) -> ChunkOutput:
        template = self._template
        if template is None:
            columns = {self._config.time: pd.Series([], dtype="datetime64[ns, UTC]")}
            if self._config.key is not None:
                columns[self._config.key] = pd.Series([], dtype=object)
            for column in self._config.plan.columns:
                columns[column] = pd.Series([], dtype=np.float64)
            if self._config.arrival_time is not None:
                columns[self._config.arrival_time] = pd.Series([], dtype="datetime64[ns, UTC]")
            template = pd.DataFrame(columns)
        output, _ = process_chunk(self._config, self._state, template.iloc[:0])
        return output

    # -- looking at the state ---------------------------------------------

    @property
    def config(self):
        """The validated options (read only)."""
        return self._config

    @property
    def rows_seen(self) -> int:
        """How many rows have been pushed."""
        return self._state.rows_seen

    @property
    def watermark(self) -> pd.Timestamp | pd.Series:
        """The current watermark.

        A Timestamp for scope "global" (NaT before the first row); otherwise a
        Series indexed by key or by partition.
        """
        cfg, state = self._config, self._state
        stamps = to_utc(scope_watermarks(cfg, state))
        n = len(stamps)
        if cfg.scope == "global":
            return stamps[0] if n else pd.NaT
        if cfg.scope == "key":
            index = state.keys if state.keys is not None else pd.Index([], dtype=object)
            return pd.Series(stamps, index=pd.Index(index, name=cfg.key), name="watermark")
        return pd.Series(stamps, index=pd.RangeIndex(n, name="partition"), name="watermark")

    @property
    def open_windows(self) -> int:
        """How many windows are open (not yet closed)."""
        rows = self._state.open_rows
        if rows is None or len(rows["key"]) == 0:
            return 0
        pairs = pd.DataFrame({"k": rows["key"], "s": rows["start"]})
        return int(len(pairs.drop_duplicates()))

    def pending(self) -> FrameLike:
        """Windows that would be pending if input ended now (nothing is closed).

        In the library of the last chunk's results.
        """
        return write_frame(open_windows(self._config, self._state, closing=False), self._kind)

    @property
    def state_nbytes(self) -> int:
        """Bytes held by the state's arrays (open rows, maxima, key dictionary)."""
        state = self._state
        total = state.scope_max.nbytes + state.key_partition.nbytes
        for values in (state.open_rows or {}).values():
            if values is not None:
                total += int(getattr(values, "nbytes", 0))
        if state.keys is not None:
            total += int(state.keys.memory_usage(deep=True))
        return total

    # -- checkpoints --------------------------------------------------------

    def checkpoint(self) -> bytes:
        """The whole state as versioned, self-describing bytes (no pickle)."""
        return _checkpoint.dumps(
            self._config, self._state, finished=self._finished, template=self._template
        )

    @classmethod
    def restore(cls, data: bytes, *, agg: Any = None, output: str | None = None) -> Windower:
        """A Windower continuing from ``checkpoint()`` bytes.

        ``agg`` is needed only when the checkpointed aggregations include Python
        functions, which a checkpoint cannot hold: pass the same dict again.
        ``output`` is as for the constructor (a checkpoint holds no frame library).
        """
        cfg, state, finished, template = _checkpoint.loads(data, agg=agg)
        windower = cls.__new__(cls)
        windower._config = cfg
        windower._state = state
        windower._finished = finished
        windower._template = template
        windower._empty = None
        windower._output = check_output(output)
        windower._kind = FrameKind(library=windower._output or "pandas")
        return windower

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``checkpoint()`` to ``path`` atomically (temporary file, then rename)."""
        _checkpoint.write_atomic(path, self.checkpoint())
        return Path(path)

    @classmethod
    def load(
        cls, path: str | os.PathLike, *, agg: Any = None, output: str | None = None
    ) -> Windower:
        """Restore a Windower from a file written by :meth:`save`."""
        return cls.restore(Path(path).read_bytes(), agg=agg, output=output)

    def __repr__(self) -> str:
        cfg = self._config
        return (
            f"Windower(size={cfg.spec.size}, scope={cfg.scope!r}, emit={cfg.emit!r}, "
            f"rows_seen={self.rows_seen}, open_windows={self.open_windows}, "
            f"finished={self._finished})"
        )
