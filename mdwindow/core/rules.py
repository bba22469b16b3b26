"""The row rules of mdwindow: every decision the semantics make about one row.

This module is the only place where the rules of ``docs/semantics.md``
(sections "Windows", "Watermarks", "Row status" and "Emission") are written
down. Every pass of the package — the ``emit="final"`` and ``emit="updates"``
passes, the end-of-input step, the many-lags grid behind ``sweep`` and the
tuner, the Dask carriers, the stream — calls these functions; a faster
variant may loop differently, but it does not restate them.

Times are int64 nanoseconds. :data:`NEG_INF` (the NaT bit pattern) is a
watermark of minus infinity; arithmetic on watermarks saturates instead of
wrapping, so times near the int64 limits stay exact. The scalar rules are
compiled (numba) and callable from compiled loops and from Python alike; the
``*_array`` variants apply them to numpy arrays.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: A watermark of minus infinity ("no row seen yet"); also NaT's bit pattern.
NEG_INF = np.iinfo(np.int64).min
#: The largest int64: "never" for a close level that saturates.
INT64_MAX = np.iinfo(np.int64).max

#: Row status codes, in the order of the ``status`` categories.
ON_TIME, LATE, DROPPED, REJECTED = 0, 1, 2, 3
STATUS_NAMES = ("on_time", "late", "dropped", "rejected")

#: Why a row is invalid (-1: valid), in the order of the ``reason`` categories.
VALID, MISSING_TIME, MISSING_KEY, OUT_OF_RANGE = -1, 0, 1, 2
REASON_NAMES = ("missing_time", "missing_key", "time_out_of_range")

#: The ``idle`` argument of the rules when no idle timeout is set.
NO_IDLE = -1

_rule = njit(cache=True, nogil=True)


# --------------------------------------------------------------------------
# Saturating arithmetic


@_rule
def sat_sub(a, b):  # pragma: no cover - compiled
    """``a - b`` for ``b >= 0``; anything at or below the int64 minimum is NEG_INF."""
    if a <= NEG_INF + b:
        return NEG_INF
    return a - b


@_rule
def sat_add(a, b):  # pragma: no cover - compiled
    """``a + b`` for ``b >= 0``, saturating at the int64 maximum."""
    if a > INT64_MAX - b:
        return INT64_MAX
    return a + b


@_rule
def sat_diff(a, b):  # pragma: no cover - compiled
    """``a - b`` for any ``b``, clamped into ``(NEG_INF, INT64_MAX]``; NEG_INF stays NEG_INF.

    The distance of a watermark (or a scope maximum) past a time: minus
    infinity, before any row, stays below every other distance.
    """
    if a == NEG_INF:
        return NEG_INF
    if b < 0 and a > INT64_MAX + b:
        return INT64_MAX
    if b > 0 and a < NEG_INF + 1 + b:
        return NEG_INF + 1
    return a - b


# --------------------------------------------------------------------------
# Windows


@_rule
def window_start(t, bad_time, key_missing, size, offset):  # pragma: no cover - compiled
    """Window start of a row and why it is invalid.

    ``start = offset + floor((t - offset) / size) * size``. Returns
    ``(start, reason)``: reason :data:`VALID`, :data:`MISSING_TIME`,
    :data:`MISSING_KEY` or :data:`OUT_OF_RANGE` (a time, or a window end,
    that int64 nanoseconds cannot hold); start is NEG_INF when no window
    could be computed.
    """
    if bad_time:
        return NEG_INF, OUT_OF_RANGE
    if t == NEG_INF:
        return NEG_INF, MISSING_TIME
    if key_missing:
        return NEG_INF, MISSING_KEY
    r = t % size
    if 0 <= offset < size:
        # A spec's offset (always): one division, not two.
        r -= offset
        if r < 0:
            r += size
    else:
        r = (r - offset) % size
    if t < NEG_INF + 1 + r:
        return NEG_INF, OUT_OF_RANGE
    start = t - r
    if start > INT64_MAX - size:
        return start, OUT_OF_RANGE
    return start, VALID


@_rule
def in_window(t, start, size):  # pragma: no cover - compiled
    """Whether event time ``t`` falls in the (valid) window ``[start, start + size)``."""
    return start <= t and t < start + size


@_rule
def fire_level(start, size):  # pragma: no cover - compiled
    """The watermark that fires a window's on-time pane (``emit="updates"``): its end."""
    return start + size


@_rule
def close_level(start, size, lateness):  # pragma: no cover - compiled
    """The watermark that closes a window: ``end + allowed_lateness`` (saturating).

    A window is emitted (``emit="final"``) right after the first row whose
    arrival makes its scope's watermark reach this level; from then on its
    rows are dropped.
    """
    return sat_add(start + size, lateness)


# --------------------------------------------------------------------------
# Watermarks


@_rule
def has_reached(watermark, level):  # pragma: no cover - compiled
    """Whether a watermark has reached a level (fire or close level).

    ``W`` means "no more data with event time < W is expected" (Beam, Kafka
    and Spark; Flink's inclusive watermark is ``W - 1ns``), so a window
    ending at ``E`` is complete once ``W >= E``.
    """
    return watermark >= level


@_rule
def effective_watermark(own_max, global_max, lag, idle):  # pragma: no cover - compiled
    """Watermark of a scope: ``max(M_scope - lag, M_global - lag - idle)``.

    ``idle`` is :data:`NO_IDLE` when no idle timeout is set. NEG_INF maxima
    (nothing seen) give a NEG_INF watermark.
    """
    w = sat_sub(own_max, lag)
    if idle >= 0:
        g = sat_sub(sat_sub(global_max, lag), idle)
        if g > w:
            w = g
    return w


@_rule
def global_floor(global_max, lag, idle):  # pragma: no cover - compiled
    """The watermark that the global maximum alone holds every scope to (idle timeout).

    NEG_INF without an idle timeout.
    """
    return effective_watermark(NEG_INF, global_max, lag, idle)


@_rule
def effective_max(own_max, global_max, idle):  # pragma: no cover - compiled
    """The scope maximum that the watermark trails by ``lag``.

    ``effective_watermark(own, glob, lag, idle) == sat_sub(effective_max(own,
    glob, idle), lag)``: the grid pass reads every lag off this one value.
    """
    return effective_watermark(own_max, global_max, 0, idle)


# --------------------------------------------------------------------------
# The judgement


@_rule
def judge(w_before, start, size, lateness):  # pragma: no cover - compiled
    """Status of a valid row and, when dropped, how late it was.

    ``w_before`` is the watermark of the row's scope just before it arrived:
    on time while ``W < end``, late (accepted) while ``W < end + lateness``,
    dropped after, with ``late_by = W - (end + lateness)`` (saturating).
    """
    end = start + size
    level = sat_add(end, lateness)
    if not has_reached(w_before, end):
        return ON_TIME, 0
    if not has_reached(w_before, level):
        return LATE, 0
    return DROPPED, sat_diff(w_before, level)


@_rule
def judge_slack(slack, lag, lateness):  # pragma: no cover - compiled
    """:func:`judge` read off a row's slack ``M - end`` (see :func:`slack`), for any lag.

    With ``W = M - lag``: ``W < end`` is ``slack < lag`` and ``W < end +
    lateness`` is ``slack < lag + lateness``. The grid pass sorts the slacks
    once and answers every ``(lag, lateness)`` with this rule.
    """
    if slack < lag:
        return ON_TIME
    if slack < sat_add(lag, lateness):
        return LATE
    return DROPPED


@_rule
def slack(max_before, end):  # pragma: no cover - compiled
    """How far a row's scope maximum (before it) is past its window end."""
    return sat_diff(max_before, end)


# --------------------------------------------------------------------------
# Array variants (each element by the scalar rule above)


@_rule
def sat_sub_array(values, amount):  # pragma: no cover - compiled
    """:func:`sat_sub` of every element."""
    out = np.empty(values.shape[0], np.int64)
    for i in range(values.shape[0]):
        out[i] = sat_sub(values[i], amount)
    return out


@_rule
def sat_add_array(values, amount):  # pragma: no cover - compiled
    """:func:`sat_add` of every element."""
    out = np.empty(values.shape[0], np.int64)
    for i in range(values.shape[0]):
        out[i] = sat_add(values[i], amount)
    return out


@_rule
def close_level_array(starts, size, lateness):  # pragma: no cover - compiled
    """:func:`close_level` of every window start."""
    out = np.empty(starts.shape[0], np.int64)
    for i in range(starts.shape[0]):
        out[i] = close_level(starts[i], size, lateness)
    return out


@_rule
def effective_watermark_array(own_max, global_max, lag, idle):  # pragma: no cover - compiled
    """:func:`effective_watermark` of every (scope maximum, global maximum) pair."""
    out = np.empty(own_max.shape[0], np.int64)
    for i in range(own_max.shape[0]):
        out[i] = effective_watermark(own_max[i], global_max[i], lag, idle)
    return out


@_rule
def slack_array(max_before, ends):  # pragma: no cover - compiled
    """:func:`slack` of every row."""
    out = np.empty(max_before.shape[0], np.int64)
    for i in range(max_before.shape[0]):
        out[i] = slack(max_before[i], ends[i])
    return out


@_rule
def global_floor_array(global_max, lag, idle):  # pragma: no cover - compiled
    """:func:`global_floor` of every global maximum."""
    out = np.empty(global_max.shape[0], np.int64)
    for i in range(global_max.shape[0]):
        out[i] = global_floor(global_max[i], lag, idle)
    return out


@_rule
def has_reached_array(watermarks, levels):  # pragma: no cover - compiled
    """:func:`has_reached` of every (watermark, level) pair."""
    out = np.empty(watermarks.shape[0], np.bool_)
    for i in range(watermarks.shape[0]):
        out[i] = has_reached(watermarks[i], levels[i])
    return out


@_rule
def fire_level_array(starts, size):  # pragma: no cover - compiled
    """:func:`fire_level` of every window start."""
    out = np.empty(starts.shape[0], np.int64)
    for i in range(starts.shape[0]):
        out[i] = fire_level(starts[i], size)
    return out


def window_starts(t: np.ndarray, size: int, offset: int) -> np.ndarray:
    """Window start of every valid event time (NEG_INF where none could be computed)."""
    return _window_starts(np.ascontiguousarray(t, dtype=np.int64), size, offset)


@_rule
def _window_starts(t, size, offset):  # pragma: no cover - compiled
    out = np.empty(t.shape[0], np.int64)
    for i in range(t.shape[0]):
        out[i] = window_start(t[i], False, False, size, offset)[0]
    return out


def idle_or_none(idle_ns: int | None) -> int:
    """The ``idle`` argument of the rules for an optional idle timeout."""
    return NO_IDLE if idle_ns is None else idle_ns


@_rule
def crosses_level(w_before, w_after, size, offset, lateness):  # pragma: no cover - compiled
    """Whether a watermark rising from ``w_before`` to ``w_after`` reaches a new level.

    The levels are the fire levels (window ends, :func:`fire_level`) and the
    close levels (:func:`close_level`) of every window on the grid of
    ``size`` and ``offset``: the only points that a row's status and every
    emission compare the watermark with. Between two watermarks that no
    level separates, every judgement gives the same answer. Window ends lie
    on the grid of window starts, so the highest end at or below a watermark
    is :func:`window_start` of it, and the highest close level at or below it
    that of the watermark less ``lateness``. Near the int64 limits it may
    answer True for a level no representable window has; it never answers
    False when a level is crossed.
    """
    end, _ = window_start(w_after, False, False, size, offset)
    if end != NEG_INF and not has_reached(w_before, end):
        return True
    shifted = sat_sub(w_after, lateness)
    end, _ = window_start(shifted, False, False, size, offset)
    return end != NEG_INF and not has_reached(w_before, sat_add(end, lateness))


@_rule
def kept_slack(row_slack, wait):  # pragma: no cover - compiled
    """Whether a row of this slack is kept (on time or late) when ``lag + lateness == wait``.

    :func:`judge_slack` drops a row once its slack reaches the sum of lag and
    lateness, so every pair with the same sum keeps the same rows: those
    that :func:`judge_slack` keeps under ``(wait, 0)``. The same test with
    ``wait = lag`` says whether a row is on time. The grid pass counts kept
    rows, and windows that hold one, per sum.
    """
    return judge_slack(row_slack, wait, 0) != DROPPED
