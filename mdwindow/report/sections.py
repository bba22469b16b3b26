"""The sections of the report, each a piece of HTML from the run and its options."""

from __future__ import annotations

import html
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
    plot_watermark,
)
from mdwindow.report.page import figure_png, image_html, table_html
from mdwindow.result import WindowResult

__all__ = [
    "MIN_ZOOM_INPUT",
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
    """The watermark over the whole input, and a zoom on the densest burst of drops."""
    options = {
        "time": cfg.time,
        "key_column": cfg.key,
        "arrival_time": cfg.arrival_time,
        "time_unit": cfg.time_unit,
        "busiest": busiest,
        "x": "time" if cfg.arrival_time is not None else "arrival",
    }

    def draw(arrival_range: tuple[int, int] | None) -> Callable[[Any], Any]:
        def on(figure: Any) -> Any:
            return plot_watermark(
                result, ticks, ax=figure.add_subplot(), arrival_range=arrival_range, **options
            )

        return on

    figures = [
        image_html(
            figure_png(draw(None), (11, 5.5)),
            "watermark over the whole input",
            "Event time against arrival, coloured by status, with the watermark (solid) and "
            "the largest event time seen (dashed). When each key has its own watermark the "
            f"{busiest} busiest keys are shown.",
        )
    ]
    zoom = densest_drops(result, len(ticks))
    if zoom is not None:
        figures.append(
            image_html(
                figure_png(draw(zoom), (11, 5.5)),
                "watermark around the densest burst of dropped ticks",
                f"Zoom on arrivals {zoom[0]:,} to {zoom[1]:,}, around the densest burst of "
                "dropped ticks; arrows mark window emissions (emitting row, window end).",
            )
        )
    return "<h2>Watermark</h2>" + "".join(figures)


def drops_section(result: WindowResult, summary: dict[str, Any], key: str | None) -> str:
    """Dropped ticks per key, per window, and how late they were."""

    def draw(figure: Any) -> None:
        panels = ["key", "window", "late_by"] if key is not None else ["window", "late_by"]
        axes = figure.subplots(1, len(panels))
        for ax, by in zip(np.atleast_1d(axes), panels, strict=True):
            plot_late_drops(result, by=by, ax=ax, key_column=key)

    return "<h2>Late drops</h2>" + image_html(
        figure_png(draw, (13, 4)),
        "dropped ticks",
        f"{summary['dropped']:,} dropped ticks ({summary['drop_rate']:.3%} of valid rows): "
        "per key, per window, and how far past window end + allowed lateness the "
        "watermark already was.",
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
    shown = grid.copy()
    for column in ("lag", "lateness", "latency_median", "latency_p99"):
        shown[column] = [
            "-" if pd.isna(v) else duration_text(pd.Timedelta(v).round("1us"))
            for v in shown[column]
        ]
    shown["drop_rate"] = [f"{v:.3%}" for v in shown["drop_rate"]]
    shown["completeness"] = [f"{v:.3%}" for v in shown["completeness"]]
    return (
        "<h2>Lag trade-off</h2>"
        + image_html(
            figure_png(lambda figure: plot_lag_tradeoff(grid, ax=figure.add_subplot()), (10, 5)),
            "lag trade-off",
            f"Drop rate and median emission latency (window end to emission, on the {clock}) "
            f"for each lag, one colour per allowed lateness.{emission}",
        )
        + '<div class="wide">'
        + shown.to_html(index=False, border=0, table_id="sweep")
        + "</div>"
    )


def windows_section(result: WindowResult, rows: int = 10) -> str:
    """The first emitted windows or panes, with every column (aggregates included)."""
    return (
        "<h2>First windows</h2>"
        + '<div class="wide">'
        + result.windows.head(rows).to_html(index=False, border=0, table_id="windows")
        + "</div>"
    )
