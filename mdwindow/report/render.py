"""``render_report`` and ``write_report``: window the ticks, sweep, and lay out the page."""

from __future__ import annotations

import html
import inspect
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy, WindowOptions
from mdwindow.core.times import to_nanos_list
from mdwindow.interchange import FrameLike, option_columns, read_frame
from mdwindow.recommend import recommend
from mdwindow.report.page import document
from mdwindow.report.recommendation import grid_pass, recommendation_section
from mdwindow.report.sections import (
    balance_section,
    drops_section,
    parameters_section,
    summary_section,
    tradeoff_section,
    watermark_section,
    windows_section,
)
from mdwindow.windows import tumbling_windows

__all__ = ["DEFAULT_LAGS", "DEFAULT_MAX_DROP_RATE", "LAG_FACTORS", "render_report", "write_report"]

#: The target of the recommendation section: ``recommend``'s default.
DEFAULT_MAX_DROP_RATE: float = inspect.signature(recommend).parameters["max_drop_rate"].default

#: Lags tried by the trade-off section, as multiples of the chosen lag.
LAG_FACTORS = (0, 0.25, 0.5, 1, 2, 4)
#: Lags tried when the chosen lag is 0.
DEFAULT_LAGS = ("0s", "10ms", "50ms", "100ms", "250ms", "500ms", "1s", "2s", "5s")


def _lag_grid(lag: pd.Timedelta) -> list[int]:
    if lag <= pd.Timedelta(0):
        return [pd.Timedelta(v).value for v in DEFAULT_LAGS]
    return sorted({int(lag.value * factor) for factor in LAG_FACTORS})


def _lateness_grid(lateness: pd.Timedelta, lag_grid: list[int]) -> list[int]:
    chosen = {0, lateness.value}
    if lateness > pd.Timedelta(0):
        chosen.add(lateness.value * 4)
    else:
        chosen.add(lag_grid[len(lag_grid) // 2])
    return sorted(chosen)


def render_report(
    ticks: FrameLike,
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
    lags: Sequence[Any] | None = None,
    lateness_grid: Sequence[Any] | None = None,
    max_drop_rate: float = DEFAULT_MAX_DROP_RATE,
    title: str = "mdwindow report",
    source: str | None = None,
    busiest: int = 3,
    **policy_keywords: Any,
) -> str:
    """The HTML text of the report; :func:`write_report` writes it to a file.

    Parameters are those of :func:`write_report`.

    Examples
    --------
    >>> import pandas as pd
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> page = render_report(ticks, "2s", allowed_lateness="1s")
    >>> page.startswith("<!DOCTYPE html>"), page.count("<img ")
    (True, 7)
    """
    cfg = WindowOptions.build(
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
    # Any DataFrame in: the report reads pandas, converted once here.
    ticks, _ = read_frame(ticks, output="pandas", columns=option_columns(cfg))
    keywords = cfg.keywords()
    result = tumbling_windows(ticks, keywords.pop("window_size"), **keywords)
    given_lags = None if lags is None else to_nanos_list(list(lags), "lags")
    given_latenesses = (
        None if lateness_grid is None else to_nanos_list(list(lateness_grid), "lateness_grid")
    )
    lag_values = given_lags if given_lags is not None else _lag_grid(cfg.policy.lag)
    lateness_values = (
        given_latenesses
        if given_latenesses is not None
        else _lateness_grid(cfg.policy.allowed_lateness, lag_values)
    )
    # One pass over the rows for the trade-off grid and the recommendation's.
    grids = grid_pass(
        ticks, cfg, lag_values, lateness_values, max_drop_rate=max_drop_rate,
        lags=given_lags, latenesses=given_latenesses,
    )  # fmt: skip
    summary = result.summary()

    from mdwindow import __version__

    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = f"{len(ticks):,} rows" + (f" from {source}" if source else "")
    sections = [
        f"<h1>{html.escape(title)}</h1>"
        f'<p class="meta">{html.escape(meta)} &middot; generated {generated} '
        f"by mdwindow {html.escape(__version__)}</p>",
        parameters_section(cfg),
        summary_section(summary),
        recommendation_section(grids, cfg),
        watermark_section(result, ticks, cfg, busiest),
        drops_section(result, summary, cfg),
    ]
    if cfg.key is not None:
        sections.append(balance_section(ticks, cfg))
    sections += [tradeoff_section(grids.tradeoff, cfg), windows_section(result, cfg)]
    return document(title, sections)


def write_report(
    ticks: FrameLike,
    spec: TumblingWindowSpec | Any,
    out_path: str | Path,
    policy: WatermarkPolicy | None = None,
    **options: Any,
) -> Path:
    """Window the ticks and write a self-contained HTML report of the run.

    The file holds the parameters, the summary table, the recommended lag
    and allowed lateness (what :func:`mdwindow.recommend` gives for the
    window size and scope of the run), the watermark plot
    (the busiest keys when keys have their own watermark, plus a zoom on the
    densest burst of dropped ticks), the late drops, the partition balance,
    the lag trade-off with its table and the first windows. Figures are
    embedded PNGs: the file needs nothing else to open.

    Parameters
    ----------
    ticks : pandas, polars or Arrow frame
        The tick frame, rows in arrival order (or give ``arrival_time``); any
        kind :func:`mdwindow.tumbling_windows` takes.
    spec : TumblingWindowSpec or duration
        Window size (and offset).
    out_path : str or pathlib.Path
        Where to write the HTML; parent folders are created.
    policy : WatermarkPolicy, optional
        Lag, allowed lateness, scope and idle timeout, or give them as keywords.
    **options
        Every option of :func:`mdwindow.tumbling_windows` (``lag``,
        ``allowed_lateness``, ``scope``, ``idle_timeout``, ``time``, ``key``,
        ``agg``, ``emit``, ``arrival_time``, ``time_unit``, ``partitions``,
        ``hash``, ``seed``, ``price``, ``size``), checked as there.
        ``lags``, ``lateness_grid``: the trade-off grid (by default lags
        around the chosen one, and latenesses 0, the chosen one and four
        times it); when given, the recommendation is read off them too (by
        default its grid is derived from the data, as :func:`mdwindow.recommend`
        derives it; one pass over the rows serves both grids).
        ``max_drop_rate`` (default 1e-3, as :func:`mdwindow.recommend`): the
        recommendation's target, the largest share of valid rows it may drop.
        ``title``, ``source`` (shown under the title, e.g. the input file
        name) and ``busiest`` (keys in the watermark plot).

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True),
    ...     "symbol": "A",
    ... })
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_report(ticks, "2s", pathlib.Path(folder) / "report.html", lag="1s")
    ...     path.read_text().count('src="data:image/png;base64,')
    7
    """
    page = render_report(ticks, spec, policy, **options)
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
