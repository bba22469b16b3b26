"""The sections of the report, each a piece of HTML from the run and its options."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.aggregate import AggPlan
from mdwindow.core.options import WindowOptions
from mdwindow.hashing import DEFAULT_PARTITIONS
from mdwindow.plotting import (
    STATUS_COLORS,
    STATUS_LABELS,
    duration_text,
    plot_lag_tradeoff,
    plot_late_drops,
    plot_partition_balance,
    plot_watermark_panels,
)
from mdwindow.report.page import figure_png, figure_row, image_html, table_html
from mdwindow.result import WindowResult

__all__ = [
    "MIN_ZOOM_INPUT",
    "SWEEP_SAID",
    "SWEEP_SHOWN",
    "ZOOM_ROWS",
    "balance_section",
    "densest_drops",
    "drops_section",
    "parameters_section",
    "summary_section",
    "tradeoff_section",
    "watermark_section",
    "windows_section",
]

#: Rows shown by the zoomed watermark plot (at most a tenth of the input).
ZOOM_ROWS = 4_000
#: Smaller inputs get no zoomed plot.
MIN_ZOOM_INPUT = 2_000
#: Columns of the sweep table, in this order before any others.
SWEEP_SHOWN = [
    "lag", "lateness", "drop_rate", "dropped", "late_accepted", "latency_median",
    "latency_p99", "completeness", "incomplete_windows", "windows", "pending",
]  # fmt: skip
#: Columns of the sweep said under the table instead (the same in every run) or left out.
SWEEP_SAID = ["rows", "rejected", "on_time"]


def densest_drops(result: WindowResult, rows: int) -> tuple[int, int] | None:
    """An arrival range around the densest burst of dropped ticks, a tenth of the input at most.

    None when nothing was dropped or the input is small enough to read whole.
    """
    if len(result.late) == 0 or rows < MIN_ZOOM_INPUT:
        return None
    span = min(ZOOM_ROWS, rows // 10)
    arrivals = result.late["arrival"].to_numpy(np.int64)
    counts = np.bincount(arrivals // (span // 2))
    center = int(np.argmax(counts)) * (span // 2) + span // 4
    start = min(max(center - span // 2, 0), rows - span)
    return start, start + span


def _aggregate_rows(plan: AggPlan) -> list[tuple[str, str]]:
    """What the windows aggregate, and from which columns (as the plan reads them)."""
    if not plan.items:
        unread = "- (read by agg='ohlcv' only)"
        return [("aggregates", "count only"), ("price column", unread), ("size column", unread)]
    if plan.is_ohlcv:
        price, size = plan.items[-1].columns
        return [
            ("aggregates", "count, " + ", ".join(plan.names)),
            ("price column", price),
            ("size column", size),
        ]
    return [
        ("aggregates", "count, " + ", ".join(plan.names)),
        ("aggregated columns", ", ".join(plan.columns)),
    ]


def parameters_section(cfg: WindowOptions) -> str:
    """Every option of the run."""
    spec, policy = cfg.spec, cfg.policy
    rows = [
        ("window size", duration_text(spec.size)),
        ("window offset", duration_text(spec.offset)),
        ("lag", duration_text(policy.lag)),
        ("allowed lateness", duration_text(policy.allowed_lateness)),
        ("watermark scope", policy.scope),
        ("idle timeout", "-" if policy.idle_ns is None else duration_text(policy.idle_timeout)),
        ("event-time column", cfg.time + (f" ({cfg.time_unit})" if cfg.time_unit else "")),
        ("key column", cfg.key if cfg.key is not None else "- (one stream)"),
        ("arrival order", f"column {cfg.arrival_time}" if cfg.arrival_time else "row order"),
        (
            "partitions",
            "-" if cfg.partitions is None else f"{cfg.partitions} ({cfg.hash}, seed {cfg.seed})",
        ),
        *_aggregate_rows(cfg.plan),
        ("emit", cfg.emit),
        ("windows still open at the end", "emitted (partial)" if spec.emit_partial else "pending"),
    ]
    return "<h2>Parameters</h2>" + table_html(rows, "parameters")


def summary_section(summary: dict[str, Any]) -> str:
    """The counts of :meth:`WindowResult.summary`, with the status colours."""
    legend = " ".join(
        f'<span class="swatch" style="background:{STATUS_COLORS[s]}"></span>'
        f"{html.escape(STATUS_LABELS[s])}"
        for s in STATUS_COLORS
    )
    rows = [
        (name, f"{value:.4%}" if name == "drop_rate" else f"{value:,}")
        for name, value in summary.items()
    ]
    return (
        "<h2>Summary</h2>"
        + table_html(rows, "summary")
        + f"<p>Statuses are coloured the same way in every figure: {legend}</p>"
    )


def watermark_section(
    result: WindowResult, ticks: pd.DataFrame, cfg: WindowOptions, busiest: int
) -> str:
    """The watermark over the whole input, and a zoom on the densest burst of drops.

    A panel per key (the ``busiest`` keys when each has its own watermark).
    The whole input runs along arrival time when there is an arrival-time
    column; the zoom always runs along arrival rows, because a stalled feed
    releases its backlog at one arrival time, where a time axis would stack
    the whole burst on one vertical line.
    """
    options = {
        "time": cfg.time,
        "key_column": cfg.key,
        "arrival_time": cfg.arrival_time,
        "time_unit": cfg.time_unit,
        "busiest": busiest,
        "options": cfg,
    }

    def draw(arrival_range: tuple[int, int] | None, x: str) -> Callable[[Any], Any]:
        def on(figure: Any) -> Any:
            return plot_watermark_panels(
                result, ticks, figure=figure, arrival_range=arrival_range, x=x, **options
            )

        return on

    shared = cfg.key is None or cfg.scope == "global"
    panels = 1 if shared else min(busiest, max(int(ticks[cfg.key].nunique()), 1))
    size = (11, 1.5 + 2.1 * panels)
    keys = (
        "every row" if shared else f"the {panels} busiest keys, a panel each, as each has "
        "its own watermark"
    )  # fmt: skip
    whole_x = "time" if cfg.arrival_time is not None else "arrival"
    figures = [
        image_html(
            figure_png(draw(None, whole_x), size),
            "watermark over the whole input",
            f"Event time against arrival for {keys}: dots and rings on time (rings arrived out "
            "of order, below the largest event time seen before them), orange late but "
            "accepted, crosses dropped; the watermark (solid) trails the largest event time "
            "seen (dashed) by the lag.",
        )
    ]
    zoom = densest_drops(result, len(ticks))
    if zoom is not None:
        figures.append(
            image_html(
                figure_png(draw(zoom, "arrival"), size),
                "watermark around the densest burst of dropped ticks",
                f"Zoom on arrival rows {zoom[0]:,} to {zoom[1] - 1:,}, around the densest burst "
                "of dropped ticks, along arrival rows (a stall releases its backlog at one "
                "arrival time); arrows mark window emissions (emitting row, window end).",
            )
        )
    return "<h2>Watermark</h2>" + "".join(figures)


def drops_section(result: WindowResult, summary: dict[str, Any], cfg: WindowOptions) -> str:
    """The drop rate per key, how late the dropped ticks were, and the drops over time."""
    key = cfg.key

    def draw(by: str) -> Callable[[Any], Any]:
        def on(figure: Any) -> Any:
            return plot_late_drops(
                result, by=by, key_column=key, options=cfg, ax=figure.add_subplot()
            )

        return on

    keys = int(result.late[key].nunique()) if key is not None and len(result.late) else 0
    # One height for the two figures of the row: the bars of up to 20 keys set it.
    height = min(max(2.2 + 0.22 * min(keys, 20), 4.6), 7.0)
    late_by = image_html(
        figure_png(draw("late_by"), (5.4, height)),
        "how late the dropped ticks were",
        "How far past window end + allowed lateness the watermark already was when each "
        "dropped tick arrived.",
    )
    row = [late_by]
    if key is not None:
        row.insert(
            0,
            image_html(
                figure_png(draw("key"), (5.4, height)),
                "drop rate per key",
                f"Dropped ticks as a share of each {key}'s valid ticks (labels: dropped of "
                "valid): where the lag is too small for a key, whatever its volume.",
            ),
        )
    over_time = image_html(
        figure_png(draw("window"), (11, 3.6)),
        "dropped ticks over time",
        "Dropped ticks by the start of their window, in bins of whole windows.",
    )
    return (
        "<h2>Late drops</h2>"
        + f"<p>{summary['dropped']:,} dropped ticks ({summary['drop_rate']:.3%} of valid "
        + "rows).</p>"
        + figure_row(row)
        + over_time
    )


def balance_section(ticks: pd.DataFrame, cfg: WindowOptions) -> str:
    """Rows per hash partition of the key (what the default partitions would do, if none)."""
    shown = cfg.partitions if cfg.partitions is not None else DEFAULT_PARTITIONS
    note = ""
    if cfg.partitions is None:
        note = f" (not partitioned: what {shown} partitions would do)"

    def draw(figure: Any) -> Any:
        return plot_partition_balance(
            ticks, key=cfg.key, partitions=shown, hash=cfg.hash, seed=cfg.seed,
            ax=figure.add_subplot(),
        )  # fmt: skip

    caption = f"Rows per hash partition of {cfg.key}{note}."
    return "<h2>Partition balance</h2>" + image_html(
        figure_png(draw, (9, 4)), "partition balance", caption
    )


def tradeoff_section(grid: pd.DataFrame, cfg: WindowOptions) -> str:
    """Drop rate and emission latency of each (lag, lateness) of the sweep, and its table."""
    clock = "arrival time" if cfg.arrival_time is not None else "event time (market clock)"
    emission = (
        "" if cfg.emit == "final" else " With emit='updates' this is the latency of each "
        "window's last pane, when it closes; its on-time pane comes sooner."
    )  # fmt: skip
    # What a choice of lag is made on first; rows and rejected rows are the same in
    # every run (said under the table), on-time rows are what the others leave.
    columns = [*SWEEP_SHOWN, *(c for c in grid.columns if c not in SWEEP_SHOWN + SWEEP_SAID)]
    shown = grid[[c for c in columns if c in grid.columns]].copy()
    for column in ("lag", "lateness", "latency_median", "latency_p99"):
        shown[column] = [
            "-" if pd.isna(v) else duration_text(pd.Timedelta(v).round("1ms"))
            for v in shown[column]
        ]
    for column in ("drop_rate", "completeness"):
        shown[column] = [f"{v:.3%}" for v in shown[column]]
    for column in shown.columns:
        if shown[column].dtype.kind in "iu":
            shown[column] = [f"{v:,}" for v in shown[column]]
    first = grid.iloc[0] if len(grid) else None
    said = (
        ""
        if first is None
        else f" Every run has {first['rows']:,} rows, {first['rejected']:,} of them rejected."
    )
    return (
        "<h2>Lag trade-off</h2>"
        + image_html(
            figure_png(lambda figure: plot_lag_tradeoff(grid, ax=figure.add_subplot()), (10, 5)),
            "lag trade-off",
            f"Drop rate and median emission latency (window end to emission, on the {clock}) "
            f"for each lag, one colour per allowed lateness.{emission}",
        )
        + '<div class="wide">'
        + _table(shown, "sweep")
        + "</div>"
        + f'<p class="caption">One row per (lag, lateness) of the sweep.{said}</p>'
    )


def _table(frame: pd.DataFrame, table_id: str) -> str:
    """The frame as an HTML table whose headers may break after an underscore
    (``late_<wbr>count``): the column names stay those of the frames, the table narrow."""
    text = frame.to_html(index=False, border=0, table_id=table_id)
    head, body = text.split("</thead>", 1)
    head = re.sub(r"<th>([^<]*)</th>", lambda m: f"<th>{m[1].replace('_', '_<wbr>')}</th>", head)
    return head + "</thead>" + body


def _same_decimals(values: pd.Series, most: int = 4) -> list[str]:
    """Numbers with one number of decimals for the whole column, the fewest that show
    each value to ``most`` decimals (``180.00`` beside ``179.93``, not ``180``)."""
    rounded = values.round(most)
    decimals = 0
    for places in range(most + 1):
        decimals = places
        if np.allclose(rounded.dropna(), rounded.dropna().round(places), rtol=0, atol=1e-12):
            break
    return ["-" if pd.isna(v) else f"{v:.{decimals}f}" for v in values]


def _time_of_day(times: pd.Series) -> list[str]:
    """UTC times as the time of day, to the millisecond when any has a fraction."""
    known = times.dropna()
    whole = bool(((known.dt.microsecond == 0) & (known.dt.nanosecond == 0)).all())
    shown = times.dt.strftime("%H:%M:%S" if whole else "%H:%M:%S.%f")
    return ["-" if pd.isna(v) else (v if whole else v[:-3]) for v in shown]


def windows_section(result: WindowResult, cfg: WindowOptions, rows: int = 10) -> str:
    """The first emitted windows or panes with every column, the aggregates among them;
    times as the time of day in UTC (the day in the caption), prices to one number of
    decimals per column."""
    windows = result.windows.head(rows)
    shown = windows.copy()
    day = ""
    for column in windows.columns:
        kind = windows[column].dtype.kind
        if kind == "M":
            if not day and windows[column].notna().any():
                day = windows[column].dropna().iloc[0].strftime("%Y-%m-%d")
            shown[column] = _time_of_day(windows[column])
        elif kind == "f":
            shown[column] = _same_decimals(windows[column])
    aggregates = (
        "aggregates " + ", ".join(cfg.plan.names) if cfg.plan.names else "no aggregates (agg=None)"
    )
    caption = (
        f"The first {len(shown)} of {len(result.windows):,} windows in emission order, with "
        f"{aggregates}; times of day in UTC" + (f" on {day}" if day else "") + "."
    )
    return (
        "<h2>First windows</h2>"
        + f'<p class="caption">{html.escape(caption)}</p>'
        + '<div class="wide">'
        + _table(shown, "windows")
        + "</div>"
    )
