"""How far out of order the rows arrive, per watermark scope: grids read off the data.

A row's *disorder* is how far the maximum its scope's watermark trails
(:func:`~mdwindow.core.rules.effective_max`: the scope's largest valid
event time before it, raised by an idle timeout to the global one less the
timeout) is past its own event time, or 0 when the row is the newest of its
scope. A lag of at least a row's disorder keeps it on time whatever its
window: the slack that the rules judge (:func:`~mdwindow.core.rules.slack`,
that maximum less the *window end*) is always smaller than the disorder
(the maximum less the *event time*). So the quantile of the disorder at
level ``1 - r`` is a lag that drops at most a share ``r`` of the valid
rows, and the largest disorder one that drops none.

The same pass gives the slacks themselves, from which the smallest wait
``lag + lateness`` that drops at most a share of the rows (or leaves at most
a share of the windows incomplete) is read exactly
(:func:`~mdwindow.core.rules.kept_slack`): :func:`share_wait`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from mdwindow.core.grid.columns import TickColumns
from mdwindow.core.grid.scan import scan_pass
from mdwindow.core.grid.windows import scan_windows
from mdwindow.core.keys import n_scopes
from mdwindow.core.options import WindowOptions
from mdwindow.core.rules import NEG_INF, sat_add, sat_diff, slack

__all__ = [
    "GRID_DIGITS",
    "LAG_LEVELS",
    "LATENESS_LEVELS",
    "Disorder",
    "disorder_grid",
    "measure_disorder",
    "readable_ceil",
    "share_wait",
]

#: Quantile levels of the disorder that a derived grid of lags holds (with lag 0).
LAG_LEVELS = (0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0)
#: Quantile levels of the disorder that a derived grid of allowed latenesses holds
#: (with 0): fewer, since the sum ``lag + lateness`` is what drops rows.
LATENESS_LEVELS = (0.5, 0.9, 0.99)
#: Significant digits that a derived grid duration is rounded up to, so it reads well.
GRID_DIGITS = 3


@njit(cache=True, nogil=True)
def _measure(valid, t, end, max_before):  # pragma: no cover - compiled
    """Disorder and slack of every valid row, in arrival order."""
    n = int(valid.sum())
    disorder = np.zeros(n, np.int64)
    row_slack = np.empty(n, np.int64)
    j = 0
    for i in range(valid.shape[0]):
        if valid[i]:
            behind = sat_diff(max_before[i], t[i])
            if behind != NEG_INF and behind > 0:
                disorder[j] = behind
            row_slack[j] = slack(max_before[i], end[i])
            j += 1
    return disorder, row_slack


@dataclass(frozen=True)
class Disorder:
    """The disorder and slacks of a frame's valid rows under one window grid and scope."""

    rows: np.ndarray  # disorder of each valid row, ns, >= 0
    row_slack: np.ndarray  # slack of each valid row
    window_slack: np.ndarray  # largest slack of each window of the perfect result


def measure_disorder(columns: TickColumns, cfg: WindowOptions) -> Disorder:
    """The :class:`Disorder` of ``columns`` under the window grid, scope and idle
    timeout of ``cfg`` (one pass of the grid scan, without a grid to count)."""
    size = cfg.spec.size_ns
    n_keys = len(columns.keys)
    valid, end, max_before, _, histogram, key_first, key_last, _, _ = scan_pass(
        columns.t, columns.bad_time, columns.codes, columns.scopes(cfg),
        n_scopes(cfg, columns.keys), n_keys, size, cfg.spec.offset_ns, cfg.idle_arg,
        np.zeros(1, np.int64),
    )  # fmt: skip
    rows, row_slack = _measure(valid, columns.t, end, max_before)
    _, _, _, window_slack = scan_windows(
        valid, end, max_before, columns.codes, key_first[:n_keys], key_last[:n_keys],
        size, int(histogram.sum()),
    )  # fmt: skip
    return Disorder(rows, row_slack, np.asarray(window_slack, np.int64))


def readable_ceil(nanos: int, digits: int = GRID_DIGITS) -> int:
    """``nanos`` (>= 0) rounded up to ``digits`` significant digits.

    A derived grid rounds up: a larger lag or wait never drops more rows.

    Examples
    --------
    >>> readable_ceil(1_234_567_891), readable_ceil(1_200_000_000), readable_ceil(7)
    (1240000000, 1200000000, 7)
    """
    unit = 10 ** max(len(str(int(nanos))) - digits, 0)
    return -(-int(nanos) // unit) * unit


def disorder_grid(disorder: np.ndarray, levels: tuple[float, ...]) -> list[int]:
    """0 and the quantiles of ``disorder`` at ``levels`` (observed values, rounded up by
    :func:`readable_ceil`), distinct and ascending, ns.

    Examples
    --------
    >>> import numpy as np
    >>> disorder = np.array([0, 0, 0, 120, 5_000, 1_234_567], np.int64)
    >>> disorder_grid(disorder, (0.5, 0.9, 1.0))
    [0, 120, 1240000]
    """
    values = {0}
    if len(disorder):
        found = np.quantile(disorder, np.clip(levels, 0.0, 1.0), method="higher")
        values.update(readable_ceil(int(v)) for v in found)
    return sorted(values)


def _allowed(count: int, share: float) -> int:
    """The most of ``count`` items that may be lost with ``lost / count <= share``."""
    allowed = min(int(np.floor(share * count)), count)
    while allowed < count and (allowed + 1) / count <= share:
        allowed += 1
    while allowed > 0 and allowed / count > share:
        allowed -= 1
    return allowed


def share_wait(slacks: np.ndarray, share: float) -> int:
    """The smallest wait ``lag + lateness`` (ns, >= 0, rounded up by :func:`readable_ceil`)
    that loses at most ``share`` of the items of these slacks (rows, or windows by their
    largest slack); 0 without items.

    Examples
    --------
    >>> import numpy as np
    >>> slacks = np.array([-5, 0, 3, 40, 1_234_000], np.int64)
    >>> share_wait(slacks, 0.2), share_wait(slacks, 0.0), share_wait(slacks, 0.5)
    (41, 1240000, 4)
    """
    if len(slacks) == 0:
        return 0
    allowed = _allowed(len(slacks), share)
    if allowed >= len(slacks):
        return 0
    # The wait must keep every slack but the `allowed` largest; kept_slack keeps a
    # slack below the wait, so the smallest such wait is one past the highest kept.
    highest_kept = int(np.partition(slacks, len(slacks) - 1 - allowed)[len(slacks) - 1 - allowed])
    return readable_ceil(max(int(sat_add(highest_kept, 1)), 0))
