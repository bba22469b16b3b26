"""The report's grid pass and its recommendation section.

The report needs two grids of ``(lag, allowed lateness)``: the trade-off
grid around the run's own lag, and the grid a recommendation is read off
(by default derived from the data, as :func:`mdwindow.recommend` derives
it). :func:`grid_pass` scans the rows once for both (every grid point is
read off the same scan) and splits the result: the trade-off frame equals
what :func:`mdwindow.sweep` returns for its grid, and the recommendation
equals what :func:`mdwindow.recommend` returns for the same ticks, window,
scope, target and grid.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.grid import TickColumns, read_grid, scan_rows
from mdwindow.core.options import WindowOptions
from mdwindow.plotting import duration_text, plot_recommendation
from mdwindow.recommend import Recommendation, TargetNotMet
from mdwindow.recommend.choice import annotate_grid, check_target, percent_text
from mdwindow.recommend.front import derived_grids, recommend_from_scan
from mdwindow.recommend.result import latency_text
from mdwindow.report.page import figure_png, image_html, table_html

__all__ = [
    "FORCING_ROWS",
    "ReportGrids",
    "grid_pass",
    "grid_points",
    "recommendation_section",
]

#: Forcing keys listed in the section's table (the sentence above it counts them all).
FORCING_ROWS = 10
#: What the recommendation bounds: the report recommends for the drop rate.
OBJECTIVE = "latency"


@dataclass(frozen=True)
class ReportGrids:
    """What the report's one grid pass gives.

    Attributes
    ----------
    tradeoff : pandas.DataFrame
        The trade-off grid, as :func:`mdwindow.sweep` returns it.
    recommendation : Recommendation or None
        The recommended point; None when no point of its grid meets the target.
    annotated : pandas.DataFrame
        The recommendation's grid with the columns of
        :func:`mdwindow.recommend.choice.annotate_grid` (what the no-point
        sentence reads).
    derived_lags, derived_latenesses : bool
        Whether the recommendation's lags, latenesses were read off the data.
    max_drop_rate : float
        The target.
    """

    tradeoff: pd.DataFrame
    recommendation: Recommendation | None
    annotated: pd.DataFrame
    derived_lags: bool
    derived_latenesses: bool
    max_drop_rate: float


def grid_points(
    grid: pd.DataFrame, lags: Sequence[int], latenesses: Sequence[int]
) -> pd.DataFrame:
    """The rows of a grid frame for ``lags`` x ``latenesses`` (ns), lags outer, attrs kept.

    Examples
    --------
    >>> grid = pd.DataFrame({"lag": pd.to_timedelta([0, 0, 1, 1], unit="s"),
    ...                      "lateness": pd.to_timedelta([0, 1, 0, 1], unit="s"),
    ...                      "x": [1, 2, 3, 4]})
    >>> grid_points(grid, [10**9, 0], [10**9])["x"].tolist()
    [4, 2]
    """
    lag = grid["lag"].to_numpy("timedelta64[ns]").view(np.int64)
    lateness = grid["lateness"].to_numpy("timedelta64[ns]").view(np.int64)
    position = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(lag, lateness, strict=True))}
    rows = [position[(int(a), int(b))] for a in lags for b in latenesses]
    out = grid.iloc[rows].reset_index(drop=True)
    out.attrs = dict(grid.attrs)
    return out


def grid_pass(
    ticks: pd.DataFrame,
    cfg: WindowOptions,
    tradeoff_lags: Sequence[int],
    tradeoff_latenesses: Sequence[int],
    *,
    max_drop_rate: float,
    lags: Sequence[int] | None = None,
    latenesses: Sequence[int] | None = None,
) -> ReportGrids:
    """One scan of the rows for the trade-off grid and the recommendation's grid.

    ``lags``, ``latenesses`` (ns) are the recommendation's grid; None reads
    it off the data as :func:`mdwindow.recommend` does.
    """
    target = check_target(max_drop_rate, OBJECTIVE)
    columns = TickColumns.of(cfg, ticks)
    if lags is None or latenesses is None:
        derived = derived_grids(columns, cfg, target, OBJECTIVE)
    rec_lags = sorted(set(lags)) if lags is not None else derived[0]
    rec_latenesses = sorted(set(latenesses)) if latenesses is not None else derived[1]
    scan = scan_rows(
        columns,
        cfg,
        sorted({*tradeoff_lags, *rec_lags}),
        sorted({*tradeoff_latenesses, *rec_latenesses}),
    )
    every = read_grid(scan)
    grid = grid_points(every, rec_lags, rec_latenesses)
    annotated = annotate_grid(grid, target, OBJECTIVE)
    rec: Recommendation | None = None
    if annotated["drop_rate"].notna().any():  # else no valid rows: nothing to recommend
        try:
            rec = recommend_from_scan(
                scan, columns, cfg, grid, max_drop_rate=target, objective=OBJECTIVE
            )
        except TargetNotMet:
            pass
    return ReportGrids(
        tradeoff=grid_points(every, tradeoff_lags, tradeoff_latenesses),
        recommendation=rec,
        annotated=rec.grid if rec is not None else annotated,
        derived_lags=lags is None,
        derived_latenesses=latenesses is None,
        max_drop_rate=target,
    )


def _grid_words(grids: ReportGrids) -> str:
    """Which grid the recommendation was read off, in words (HTML)."""
    lags = sorted(set(grids.annotated["lag"]))
    latenesses = sorted(set(grids.annotated["lateness"]))
    size = f"{len(lags)} lags x {len(latenesses)} latenesses"
    if grids.derived_lags and grids.derived_latenesses:
        return (
            f"Read off a grid derived from the data ({size}: 0, quantiles of the observed "
            "disorder and the smallest waits meeting multiples of the target), not the trade-off "
            "grid below; it is the point <code>mdwindow.recommend</code> and <code>mdwindow "
            "recommend</code> give for these ticks and options. One pass over the rows judged "
            "both grids."
        )
    if not grids.derived_lags and not grids.derived_latenesses:
        return f"Read off the lags and latenesses given for this report ({size})."
    given, derived = ("latenesses", "lags") if grids.derived_lags else ("lags", "latenesses")
    return (
        f"Read off the {given} given for this report and {derived} derived from the data ({size})."
    )


def _point_rows(rec: Recommendation, run: pd.Series | None, clock: str) -> str:
    """The recommended point beside this run's own, as a table."""

    def of_run(text: Any) -> str:
        return "-" if run is None else text(run)

    valid = None if run is None else int(run["on_time"] + run["late_accepted"] + run["dropped"])
    rows = [
        ("lag", duration_text(rec.lag), of_run(lambda r: duration_text(r["lag"]))),
        ("allowed lateness", duration_text(rec.allowed_lateness),
         of_run(lambda r: duration_text(r["lateness"]))),
        ("drop rate", percent_text(rec.drop_rate), of_run(lambda r: percent_text(r["drop_rate"]))),
        ("late accepted", percent_text(rec.late_accepted_rate),
         of_run(lambda r: percent_text(int(r["late_accepted"]) / valid if valid else np.nan))),
        ("complete windows", percent_text(rec.completeness),
         of_run(lambda r: percent_text(r["completeness"]))),
        (f"latency median ({clock})", latency_text(rec.latency_median),
         of_run(lambda r: latency_text(r["latency_median"]))),
        ("latency p99", latency_text(rec.latency_p99),
         of_run(lambda r: latency_text(r["latency_p99"]))),
    ]  # fmt: skip
    head = "<tr><th></th><th>recommended</th><th>this run</th></tr>"
    body = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(chosen)}</td>"
        f"<td>{html.escape(own)}</td></tr>"
        for name, chosen, own in rows
    )
    return f'<table id="recommendation">{head}{body}</table>'


def _forcing_html(rec: Recommendation, key: str | None) -> str:
    """Which keys force the choice: a sentence, and a table of the most losing."""
    keys = rec.forcing_keys
    if rec.forcing_wait is None:
        return (
            "<p>Nothing forces it: no smaller lag + lateness of the grid drops more than the "
            "target.</p>"
        )
    wait = duration_text(rec.forcing_wait)
    if key is None or keys is None or len(keys) == 0:
        return (
            f"<p>At the next smaller lag + lateness of the grid, {html.escape(wait)}, more than "
            "the target is dropped (no key column to say by which keys).</p>"
        )
    noun = "key drops" if len(keys) == 1 else "keys drop"
    shown = keys.head(FORCING_ROWS)
    rows = [
        (k, f"{percent_text(float(rate))} ({dropped:,} of {rows:,} rows)")
        for k, rate, dropped, rows in zip(
            shown[key], shown["drop_rate"], shown["dropped"], shown["rows"], strict=True
        )
    ]
    more = f" The {len(shown)} dropping most:" if len(keys) > len(shown) else ""
    return (
        f"<p>The keys that force the choice: at the next smaller lag + lateness of the grid, "
        f"{html.escape(wait)}, {len(keys):,} {noun} more than the target "
        f"({html.escape(percent_text(rec.max_drop_rate))} of its rows).{more}</p>"
        + table_html([(key, "drop rate there"), *rows], "forcing_keys")
    )


def _missed_html(grids: ReportGrids) -> str:
    """The sentence when no point of the grid meets the target."""
    annotated = grids.annotated
    loss = annotated["drop_rate"].to_numpy(np.float64)
    target = percent_text(grids.max_drop_rate)
    if np.isnan(loss).all():
        return (
            '<p class="missed"><strong>No recommendation:</strong> no valid rows to judge '
            "(every row was rejected).</p>"
        )
    best = annotated.iloc[int(np.nanargmin(loss))]
    advice = (
        "give larger lags or latenesses (or leave lags and lateness_grid out: a grid derived "
        "from the data always holds a point that drops nothing)"
        if not (grids.derived_lags and grids.derived_latenesses)
        else "give larger lags or latenesses"
    )
    return (
        '<p class="missed"><strong>No point of the grid meets the target:</strong> none drops at '
        f"most {html.escape(target)} of the valid rows. The least it drops is "
        f"{html.escape(percent_text(float(best['drop_rate'])))}, at lag "
        f"{html.escape(duration_text(best['lag']))} and allowed lateness "
        f"{html.escape(duration_text(best['lateness']))}. To get a recommendation, "
        f"{html.escape(advice)}, or raise max_drop_rate.</p>"
    )


def recommendation_section(grids: ReportGrids, cfg: WindowOptions) -> str:
    """The recommended lag and lateness for the run's window and scope, or why there is none."""
    clock = "arrival-time clock" if cfg.arrival_time is not None else "event-time clock"
    idle = (
        "" if cfg.policy.idle_ns is None
        else f", idle timeout {duration_text(cfg.policy.idle_timeout)}"
    )  # fmt: skip
    intro = (
        f"The lag and allowed lateness with the smallest median emission latency (window end "
        f"to emission, {clock}) among those dropping at most "
        f"{percent_text(grids.max_drop_rate)} of the valid rows (max_drop_rate = "
        f"{grids.max_drop_rate:g}), for {duration_text(cfg.spec.size)} windows and watermark "
        f"scope '{cfg.scope}'{idle}. Latencies as emit='final' closes the windows."
    )
    head = (
        "<h2>Recommended lag and lateness</h2>"
        + f"<p>{html.escape(intro)} {_grid_words(grids)}</p>"
    )
    rec = grids.recommendation
    if rec is None:
        return head + _missed_html(grids)
    run = grids.tradeoff
    own = run[(run["lag"] == cfg.policy.lag) & (run["lateness"] == cfg.policy.allowed_lateness)]
    figure = image_html(
        figure_png(lambda f: plot_recommendation(rec, ax=f.add_subplot()), (10, 5.5)),
        "recommendation frontier",
        "Every point of the recommendation's grid at its median emission latency and drop "
        "rate; the line joins the Pareto frontier (no other point both emits sooner and drops "
        "less), the star is the recommendation, the dashed line the target.",
    )
    return (
        head
        + _point_rows(rec, own.iloc[0] if len(own) else None, clock.split()[0])
        + _forcing_html(rec, cfg.key)
        + figure
    )
