"""What the tuner writes beside its figure: the counts of the current point, the
recommended point, durations as people write them."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mdwindow.plotting.style import duration_text

if TYPE_CHECKING:
    from mdwindow.recommend import Recommendation

__all__ = ["readable_duration", "recommendation_html", "summary_html"]

#: One summary entry: a header above its value, never broken inside; the entries
#: wrap as whole blocks, so a narrow output area gets more lines, not a scrollbar.
_ENTRY = (
    "<div style='white-space:nowrap;line-height:1.25'>"
    "<span class='mdwindow-summary-name' "
    "style='color:var(--jp-ui-font-color2,#555);font-size:90%'>{name}</span>"
    "<br><b>{value}</b></div>"
)


def readable_duration(value: Any) -> str:
    """A measured duration to three significant digits: ``"3.24 s"``, ``"250 ms"``.

    Examples
    --------
    >>> [readable_duration(v) for v in ("3236256348ns", "250ms", "0s", "95s", "4ms 1us")]
    ['3.24 s', '250 ms', '0 s', '1.58 min', '4 ms']
    """
    nanos = abs(int(pd.Timedelta(value).value))
    sign = "-" if pd.Timedelta(value).value < 0 else ""
    for unit, size in (("h", 3_600 * 10**9), ("min", 60 * 10**9), ("s", 10**9),
                       ("ms", 10**6), ("us", 10**3)):  # fmt: skip
        if nanos >= size:
            return f"{sign}{nanos / size:.3g} {unit}"
    return f"{sign}{nanos} ns" if nanos else "0 s"


def _value_text(name: str, value: Any) -> str:
    if name == "drop_rate":
        return f"{value:.3%}" if value == value else "n/a"
    if isinstance(value, pd.Timedelta):
        return "n/a" if value is pd.NaT else readable_duration(value)
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    return html.escape(str(value))


def summary_html(point: dict[str, Any]) -> str:
    """The counts and latencies of one grid point, as blocks that wrap.

    Examples
    --------
    >>> text = summary_html({"dropped": 1234, "latency_median": pd.Timedelta("3236ms")})
    >>> "1,234" in text and "3.24 s" in text and "latency median" in text
    True
    """
    entries = "".join(
        _ENTRY.format(name=html.escape(k.replace("_", " ")), value=_value_text(k, v))
        for k, v in point.items()
    )
    return f"<div style='display:flex;flex-wrap:wrap;gap:4px 18px'>{entries}</div>"


def recommendation_html(rec: Recommendation | None, max_drop_rate: float, problem: str) -> str:
    """One line: the recommended point of the grid shown, or why there is none.

    Examples
    --------
    >>> text = recommendation_html(None, 0.001, "the least is 2%")
    >>> text.endswith(">recommended for drop rate &le; 0.1%: none (the least is 2%)</div>")
    True
    """
    target = f"recommended for drop rate &le; {max_drop_rate * 100:.3g}%"
    if rec is None:
        text = f"{target}: none ({html.escape(problem)})"
    else:
        text = (
            f"{target}: <b>lag {duration_text(rec.lag)}, lateness "
            f"{duration_text(rec.allowed_lateness)}</b> (drop rate {rec.drop_rate:.3%}, "
            f"latency median {readable_duration(rec.latency_median)})"
        )
    # The widget's own line height is a control's: too loose for wrapped text.
    return f"<div style='line-height:1.4'>{text}</div>"
