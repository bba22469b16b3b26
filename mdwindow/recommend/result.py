"""The recommendation: a lag and an allowed lateness, what they cost, and why."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from mdwindow.plotting.style import duration_text
from mdwindow.recommend.choice import LOSS_COLUMNS, percent_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["FORCING_KEYS_SHOWN", "Recommendation", "latency_text"]

#: Forcing keys named in the text of a recommendation (all are in ``forcing_keys``).
FORCING_KEYS_SHOWN = 5
#: What the target of each objective bounds, in the text of a recommendation.
TARGET_WORDS = {"latency": "drop rate", "completeness": "share of incomplete windows"}


def _duration(value: Any) -> str:
    return "n/a (no window closed before the end)" if pd.isna(value) else duration_text(value)


def latency_text(value: Any) -> str:
    """A measured duration with three significant digits in a fitting unit.

    Examples
    --------
    >>> [latency_text(pd.Timedelta(v)) for v in ("8315254363ns", "0s", "-2ms", "90s")]
    ['8.32s', '0s', '-2ms', '1.5min']
    """
    if pd.isna(value):
        return "n/a (no window closed before the end)"
    nanos = int(pd.Timedelta(value).value)
    if nanos == 0:
        return "0s"
    for unit, size in (("h", 3_600 * 10**9), ("min", 60 * 10**9), ("s", 10**9), ("ms", 10**6),
                       ("us", 10**3)):  # fmt: skip
        if abs(nanos) >= size:
            return f"{nanos / size:.3g}{unit}"
    return f"{nanos}ns"


@dataclass(frozen=True, repr=False)
class Recommendation:
    """The lag and allowed lateness to pick, with the drops and latencies they give.

    Made by :func:`mdwindow.recommend`. Frames are left out of equality.

    Attributes
    ----------
    lag, allowed_lateness : pandas.Timedelta
        The recommended point of the grid.
    drop_rate, late_accepted_rate : float
        Dropped and late-accepted rows over the valid rows at that point
        (``tumbling_windows`` with ``emit="final"`` gives the same counts).
    completeness : float
        Share of the windows of the perfect-watermark result that lose no row.
    latency_median, latency_p99 : pandas.Timedelta
        Median and 99th percentile, over the windows emitted before the end
        of input, of the time from a window's end to its emission, on the
        clock ``latency_clock`` (as :func:`mdwindow.sweep` defines them);
        NaT when no window closed before the end.
    latency_clock : str
        ``"arrival_time"`` or ``"event_time"``.
    max_drop_rate : float
        The target.
    objective : str
        ``"latency"`` (the target bounds the drop rate) or
        ``"completeness"`` (it bounds the share of incomplete windows).
    window : pandas.Timedelta
        The window size.
    scope : str
        The watermark scope.
    idle_timeout : pandas.Timedelta or None
        The idle timeout, when one was set.
    forcing_keys : pandas.DataFrame or None
        The keys that force the choice: those whose own loss exceeds the
        target at ``forcing_wait``, most losing first, with their valid
        ``rows``, ``dropped``, ``drop_rate``, ``windows``,
        ``incomplete_windows`` and ``window_loss`` there. None when it was
        not computed (a recommendation read off a grid frame alone).
    forcing_wait : pandas.Timedelta or None
        The largest wait ``lag + allowed_lateness`` of the grid below the
        recommended one at which the grid misses the target (the next
        smaller setting, drops depending on the sum only); None when every
        smaller wait meets it.
    grid : pandas.DataFrame
        The grid frame with ``window_loss``, ``meets_target``, ``frontier``
        and ``recommended`` columns, which :meth:`plot` draws.
    """

    lag: pd.Timedelta
    allowed_lateness: pd.Timedelta
    drop_rate: float
    late_accepted_rate: float
    completeness: float
    latency_median: pd.Timedelta
    latency_p99: pd.Timedelta
    latency_clock: str
    max_drop_rate: float
    objective: str
    window: pd.Timedelta
    scope: str
    idle_timeout: pd.Timedelta | None = None
    forcing_keys: pd.DataFrame | None = field(default=None, compare=False)
    forcing_wait: pd.Timedelta | None = None
    grid: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False)

    @property
    def parameters(self) -> str:
        """The settings the recommendation was made for, in words."""
        idle = (
            "" if self.idle_timeout is None else f", idle timeout {_duration(self.idle_timeout)}"
        )
        return (
            f"{_duration(self.window)} windows, scope {self.scope!r}{idle}, "
            f"{TARGET_WORDS[self.objective]} <= {percent_text(self.max_drop_rate)}"
        )

    def _lines(self) -> list[tuple[str, str]]:
        clock = self.latency_clock.replace("_", "-")
        lines = [
            ("lag", _duration(self.lag)),
            ("allowed_lateness", _duration(self.allowed_lateness)),
            ("drop rate", percent_text(self.drop_rate)),
            ("late accepted", percent_text(self.late_accepted_rate)),
            ("complete windows", percent_text(self.completeness)),
            ("latency median", f"{latency_text(self.latency_median)} (window end to "
                               f"emission, {clock} clock)"),
            ("latency p99", latency_text(self.latency_p99)),
        ]  # fmt: skip
        lines.append(("forcing keys", self._forcing_text()))
        return lines

    def _forcing_text(self) -> str:
        keys = self.forcing_keys
        if keys is None:
            return "not computed"
        if self.forcing_wait is None:
            return "none (no smaller lag + lateness of the grid misses the target)"
        if len(keys) == 0:
            return "none (no key column)"
        loss = LOSS_COLUMNS[self.objective]
        shown = [
            f"{key} {percent_text(float(rate))}"
            for key, rate in zip(keys.iloc[:FORCING_KEYS_SHOWN, 0], keys[loss], strict=False)
        ]
        more = len(keys) - len(shown)
        noun = "key" if len(keys) == 1 else "keys"
        return (
            f"{len(keys)} {noun} above the target at lag + lateness = "
            f"{_duration(self.forcing_wait)} ({TARGET_WORDS[self.objective]}):\n"
            + ", ".join(shown)
            + (f" and {more} more" if more > 0 else "")
        )

    def __repr__(self) -> str:
        lines = self._lines()
        width = max(len(name) for name, _ in lines)
        body = []
        for name, value in lines:
            first, *rest = value.split("\n")
            body.append(f"  {name:<{width}}  {first}")
            body.extend(f"  {'':<{width}}  {more}" for more in rest)
        return f"Recommendation for {self.parameters}:\n" + "\n".join(body)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
            f"<td style='text-align:left'>{html.escape(value).replace(chr(10), '<br>')}</td></tr>"
            for name, value in self._lines()
        )
        caption = html.escape(f"Recommendation for {self.parameters}")
        return f"<table><caption>{caption}</caption>{rows}</table>"

    def to_frame(self) -> pd.DataFrame:
        """The recommendation as one row (``pd.concat`` them to compare settings).

        Columns: ``window``, ``scope``, ``idle_timeout``, ``objective``,
        ``max_drop_rate``, ``lag``, ``allowed_lateness``, ``drop_rate``,
        ``late_accepted_rate``, ``completeness``, ``latency_median``,
        ``latency_p99``, ``latency_clock`` and ``forcing_keys`` (their
        number; None when not computed).
        """
        forcing = None if self.forcing_keys is None else len(self.forcing_keys)
        return pd.DataFrame(
            {
                "window": [self.window],
                "scope": [self.scope],
                "idle_timeout": pd.Series([self.idle_timeout], dtype="timedelta64[ns]"),
                "objective": [self.objective],
                "max_drop_rate": [self.max_drop_rate],
                "lag": [self.lag],
                "allowed_lateness": [self.allowed_lateness],
                "drop_rate": [self.drop_rate],
                "late_accepted_rate": [self.late_accepted_rate],
                "completeness": [self.completeness],
                "latency_median": pd.Series([self.latency_median], dtype="timedelta64[ns]"),
                "latency_p99": pd.Series([self.latency_p99], dtype="timedelta64[ns]"),
                "latency_clock": [self.latency_clock],
                "forcing_keys": pd.Series([forcing], dtype="Int64"),
            }
        )

    def plot(self, ax: Axes | None = None) -> Axes:
        """:func:`mdwindow.plotting.plot_recommendation` of this recommendation."""
        from mdwindow.plotting.recommendation import plot_recommendation

        return plot_recommendation(self, ax=ax)
