"""Which grid point to recommend: the target, the frontier and the order of preference.

Everything here reads a grid frame (what :func:`mdwindow.sweep` returns, or
a tuner's grid) and nothing else, so any front door that holds such a
frame can rank it the same way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mdwindow.plotting.style import duration_text

__all__ = [
    "LOSS_COLUMNS",
    "OBJECTIVES",
    "TargetNotMet",
    "annotate_grid",
    "check_target",
    "choose",
    "pareto_frontier",
    "percent_text",
]

#: What each objective bounds by ``max_drop_rate``: a column of :func:`annotate_grid`.
LOSS_COLUMNS = {"latency": "drop_rate", "completeness": "window_loss"}
OBJECTIVES = tuple(LOSS_COLUMNS)
#: What the loss of each objective is, in words.
LOSS_WORDS = {
    "latency": "of the valid rows dropped",
    "completeness": "of the windows incomplete",
}
#: The latency of a point that emitted no window before the end of input: ranked last.
NEVER = np.iinfo(np.int64).max


class TargetNotMet(ValueError):
    """No point of the grid meets ``max_drop_rate``."""


def percent_text(rate: float) -> str:
    """A rate as a percentage with three significant digits.

    Examples
    --------
    >>> percent_text(0.000823), percent_text(0.0), percent_text(0.25)
    ('0.0823%', '0%', '25%')
    """
    if math.isnan(rate):
        return "n/a"
    return "0%" if rate == 0 else f"{rate * 100:.3g}%"


def check_target(max_drop_rate: Any, objective: Any) -> float:
    """``max_drop_rate`` as a float in ``[0, 1]``; a clear error for it or ``objective``."""
    if objective not in OBJECTIVES:
        raise ValueError(
            f"objective: got {objective!r}; choose one of {', '.join(map(repr, OBJECTIVES))}"
        )
    if isinstance(max_drop_rate, bool) or not isinstance(
        max_drop_rate, (int, float, np.integer, np.floating)
    ):
        raise TypeError(
            f"max_drop_rate: got {max_drop_rate!r}; give a share between 0 and 1, e.g. 1e-3"
        )
    rate = float(max_drop_rate)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(
            f"max_drop_rate: got {max_drop_rate!r}; give a share between 0 and 1 "
            "(1e-3 is 0.1% of the rows)"
        )
    return rate


def _nanos(column: pd.Series) -> np.ndarray:
    """Durations as int64 ns, NaT (no window emitted) as :data:`NEVER`."""
    values = column.to_numpy("timedelta64[ns]").view(np.int64).copy()
    values[column.isna().to_numpy()] = NEVER
    return values


def annotate_grid(grid: pd.DataFrame, max_drop_rate: float, objective: str) -> pd.DataFrame:
    """A copy of ``grid`` with the columns the choice reads.

    ``window_loss`` (incomplete windows over the windows of the
    perfect-watermark result), ``meets_target`` (the objective's loss is at
    most ``max_drop_rate``) and ``frontier`` (:func:`pareto_frontier`).
    """
    missing = [
        c
        for c in ("lag", "lateness", "drop_rate", "incomplete_windows", "completeness",
                  "late_accepted", "latency_median", "latency_p99")
        if c not in grid.columns
    ]  # fmt: skip
    if missing:
        raise KeyError(f"grid: columns {missing} are missing; pass the frame that sweep() returns")
    out = grid.copy()
    perfect = grid.attrs.get("perfect_windows")
    if perfect is None:
        out["window_loss"] = 1.0 - grid["completeness"].to_numpy(np.float64)
    else:
        out["window_loss"] = grid["incomplete_windows"].to_numpy(np.float64) / (
            perfect if perfect else np.nan
        )
    loss = out[LOSS_COLUMNS[objective]].to_numpy(np.float64)
    out["meets_target"] = loss <= max_drop_rate  # NaN (no valid rows) never meets it
    out["frontier"] = pareto_frontier(out, objective)
    return out


def pareto_frontier(grid: pd.DataFrame, objective: str = "latency") -> np.ndarray:
    """Which points no other point beats on median latency and loss at once.

    A point is on the frontier unless another has a median latency and a
    loss (``drop_rate``, or ``window_loss`` for ``objective="completeness"``)
    each at most its own, one of them smaller. A point that emitted no
    window before the end of input has an infinite latency.

    Examples
    --------
    >>> import pandas as pd
    >>> grid = pd.DataFrame({
    ...     "latency_median": pd.to_timedelta(["1s", "2s", "2s", "3s"]),
    ...     "drop_rate": [0.5, 0.1, 0.2, 0.1],
    ... })
    >>> pareto_frontier(grid).tolist()
    [True, True, False, False]
    """
    median = _nanos(grid["latency_median"])
    loss = grid[LOSS_COLUMNS[objective]].to_numpy(np.float64)
    loss = np.where(np.isnan(loss), np.inf, loss)
    order = np.lexsort((loss, median))
    on = np.zeros(len(grid), bool)
    best_before = np.inf  # the least loss among strictly smaller latencies
    i = 0
    while i < len(order):
        j = i
        while j < len(order) and median[order[j]] == median[order[i]]:
            j += 1
        least = loss[order[i]]  # sorted by loss within a latency
        if least < best_before:
            group = order[i:j]
            on[group[loss[group] == least]] = True
            best_before = least
        i = j
    return on


def _preference(grid: pd.DataFrame, objective: str) -> list[tuple[Any, ...]]:
    """Each point's place in the order of preference (smaller is preferred)."""
    median = _nanos(grid["latency_median"])
    p99 = _nanos(grid["latency_p99"])
    loss = grid[LOSS_COLUMNS[objective]].to_numpy(np.float64)
    drop = grid["drop_rate"].to_numpy(np.float64)
    lag = grid["lag"].to_numpy("timedelta64[ns]").view(np.int64)
    lateness = grid["lateness"].to_numpy("timedelta64[ns]").view(np.int64)
    return [
        (int(median[i]), float(loss[i]), int(p99[i]), float(drop[i]),
         int(lag[i]) + int(lateness[i]), int(lateness[i]))
        for i in range(len(grid))
    ]  # fmt: skip


def choose(annotated: pd.DataFrame, max_drop_rate: float, objective: str) -> int:
    """The position of the recommended point of an :func:`annotate_grid` frame.

    Among the points that meet the target, the preferred by, in turn: the
    smallest median latency; the smallest loss (so the pick lies on the
    frontier); the smallest p99 latency; the smallest drop rate; the
    smallest wait ``lag + lateness``; the smallest lateness (of pairs with
    the same wait, which drop the same rows and emit at the same rows, the
    one that accepts the fewest rows late). Raises :class:`TargetNotMet`
    when no point meets the target.
    """
    loss = annotated[LOSS_COLUMNS[objective]].to_numpy(np.float64)
    if len(annotated) == 0 or np.isnan(loss).all():
        raise ValueError(
            "ticks: no valid rows to judge (the frame is empty or every row was rejected); "
            "there is nothing to recommend from"
        )
    preference = _preference(annotated, objective)
    meets = np.flatnonzero(annotated["meets_target"].to_numpy(bool))
    if len(meets):
        return int(min(meets, key=lambda i: preference[i]))
    best = min(np.flatnonzero(~np.isnan(loss)), key=lambda i: (loss[i], preference[i]))
    at = annotated.iloc[best]
    raise TargetNotMet(
        f"max_drop_rate: no point of the grid has at most {percent_text(max_drop_rate)} "
        f"{LOSS_WORDS[objective]}; the best it reached is {percent_text(float(loss[best]))} "
        f"at lag={duration_text(at['lag'])}, allowed_lateness={duration_text(at['lateness'])}. "
        "Give larger lags or latenesses (grids derived from the data, the default, always "
        "hold a point that drops nothing) or a higher max_drop_rate"
    )
