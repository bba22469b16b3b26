"""``DaskWindowResult``: the frames of a Dask windowing run, lazy until computed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dask
import dask.dataframe as dd

from mdwindow.dask.gather import concat_frames
from mdwindow.result import WindowResult, summarise

#: The frames of a result, in the order of :class:`~mdwindow.WindowResult`'s fields.
FRAMES = ("windows", "pending", "late", "rejected", "trace")


@dataclass(frozen=True)
class DaskWindowResult:
    """What a Dask windowing run will produce, as lazy Dask DataFrames.

    Attributes
    ----------
    windows : dask.dataframe.DataFrame
        Emitted windows or panes in emission order: partition ``i`` holds
        those emitted at rows of input partition ``i``, and one last partition
        those emitted at the end of input. The index is per partition;
        :meth:`compute` gives the RangeIndex of the pandas result.
    pending : dask.dataframe.DataFrame
        Windows still open at the end, in one partition.
    late, rejected : dask.dataframe.DataFrame
        Dropped and invalid rows in arrival order, one partition per input
        partition, original columns and index.
    trace : dask.dataframe.DataFrame
        One row per input row, partitioned like the input (same divisions).

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> from mdwindow.dask import tumbling_windows
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "AAPL",
    ... })
    >>> result = tumbling_windows(dd.from_pandas(ticks, npartitions=2), "2s")
    >>> result.summary()["dropped"]
    3
    """

    windows: dd.DataFrame
    pending: dd.DataFrame
    late: dd.DataFrame
    rejected: dd.DataFrame
    trace: dd.DataFrame

    def compute(self, **kwargs: Any) -> WindowResult:
        """Run the graph once for all frames and return the pandas :class:`WindowResult`.

        The partitions are concatenated here, on the client, not on a worker
        as ``dask.compute`` would do. Keyword arguments go to
        :func:`dask.compute` (``scheduler=`` ...).
        """
        delayed_parts = {name: getattr(self, name).to_delayed() for name in FRAMES}
        (parts,) = dask.compute(delayed_parts, **kwargs)
        frames = {name: concat_frames(parts[name]) for name in FRAMES}
        return WindowResult(
            windows=frames["windows"].reset_index(drop=True),
            pending=frames["pending"].reset_index(drop=True),
            late=frames["late"],
            rejected=frames["rejected"],
            trace=frames["trace"],
        )

    def persist(self, **kwargs: Any) -> DaskWindowResult:
        """Compute all frames into (cluster) memory once; later reads are cheap."""
        return DaskWindowResult(*dask.persist(*(getattr(self, n) for n in FRAMES), **kwargs))

    def summary(self, **kwargs: Any) -> dict[str, Any]:
        """Counts as in :meth:`WindowResult.summary`, computed without collecting frames."""
        status, n_windows, n_pending = dask.compute(
            self.trace["status"].value_counts(),
            self.windows.shape[0],
            self.pending.shape[0],
            **kwargs,
        )
        return summarise(status, n_windows, n_pending)

    def __repr__(self) -> str:
        parts = ", ".join(f"{name}={getattr(self, name).npartitions}" for name in FRAMES)
        return f"DaskWindowResult(partitions: {parts})"
