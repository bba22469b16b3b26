"""A single self-contained HTML report of one windowing run.

:func:`write_report` windows the ticks, sweeps lag and lateness around the
chosen policy, and writes one HTML file with every figure embedded as a
base64 PNG: open it anywhere, mail it, attach it to a ticket.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy
from mdwindow.plotting import (
    STATUS_COLORS,
    STATUS_LABELS,
    duration_text,
    plot_lag_tradeoff,
    plot_late_drops,
    plot_partition_balance,
    plot_watermark,
)
from mdwindow.result import WindowResult
from mdwindow.sweep import sweep
from mdwindow.windows import tumbling_windows

__all__ = ["render_report", "write_report"]

#: Lags tried by the trade-off section, as multiples of the chosen lag.
LAG_FACTORS = (0, 0.25, 0.5, 1, 2, 4)
#: Lags tried when the chosen lag is 0.
DEFAULT_LAGS = ("0s", "10ms", "50ms", "100ms", "250ms", "500ms", "1s", "2s", "5s")
#: Rows shown by the zoomed watermark plot (at most a tenth of the input).
ZOOM_ROWS = 4_000
#: Smaller inputs get no zoomed plot.
MIN_ZOOM_INPUT = 2_000

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1200px; color: #222; line-height: 1.4; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; }
.meta { color: #666; margin-top: 0; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.92rem; }
th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #eee; text-align: right; }
th { background: #f6f6f6; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; }
.wide { overflow-x: auto; max-width: 100%; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.3em;
          vertical-align: baseline; border-radius: 2px; }
"""


def _figure_png(draw: Callable[[Any], Any], size: tuple[float, float]) -> str:
    """Draw on a fresh figure (no pyplot state) and return it as base64 PNG."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=100, layout="constrained")
    draw(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(png: str, alt: str, caption: str) -> str:
    return (
        f'<figure><img src="data:image/png;base64,{png}" alt="{html.escape(alt)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _table(rows: Sequence[tuple[str, Any]], table_id: str) -> str:
    body = "".join(
        f"<tr><th>{html.escape(str(name))}</th><td>{html.escape(str(value))}</td></tr>"
        for name, value in rows
    )
    return f'<table id="{table_id}">{body}</table>'


def _densest_drops(result: WindowResult, rows: int) -> tuple[int, int] | None:
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


def _lag_grid(lag: pd.Timedelta) -> list[pd.Timedelta]:
    if lag <= pd.Timedelta(0):
        return [pd.Timedelta(v) for v in DEFAULT_LAGS]
    return sorted({pd.Timedelta(int(lag.value * factor)) for factor in LAG_FACTORS})


def _lateness_grid(lateness: pd.Timedelta, lag_grid: list[pd.Timedelta]) -> list[pd.Timedelta]:
    chosen = {pd.Timedelta(0), lateness}
    if lateness > pd.Timedelta(0):
        chosen.add(lateness * 4)
    else:
        chosen.add(lag_grid[len(lag_grid) // 2])
    return sorted(chosen)


def render_report(
    ticks: pd.DataFrame,
    spec: TumblingWindowSpec | Any,
    *,
    lag: Any = "0s",
    allowed_lateness: Any = "0s",
    scope: str = "global",
    idle_timeout: Any = None,
    time: str = "ts",
    key: str | None = "symbol",
    arrival_time: str | None = None,
    time_unit: str | None = None,
    partitions: int | None = None,
    hash: str = "murmur3",
    seed: int = 0,
    lags: Sequence[Any] | None = None,
    lateness_grid: Sequence[Any] | None = None,
    title: str = "mdwindow report",
    source: str | None = None,
    busiest: int = 3,
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
    (True, 4)
    """
    spec = TumblingWindowSpec.coerce(spec)
    policy = WatermarkPolicy(
        lag=lag, allowed_lateness=allowed_lateness, scope=scope, idle_timeout=idle_timeout
    )
    options = {
        "time": time,
        "key": key,
        "arrival_time": arrival_time,
        "time_unit": time_unit,
        "partitions": partitions,
        "hash": hash,
        "seed": seed,
    }
    result = tumbling_windows(ticks, spec, policy, **options)
    lag_values = [pd.Timedelta(v) for v in lags] if lags is not None else _lag_grid(policy.lag)
    lateness_values = (
        [pd.Timedelta(v) for v in lateness_grid]
        if lateness_grid is not None
        else _lateness_grid(policy.allowed_lateness, lag_values)
    )
    grid = sweep(
        ticks,
        spec,
        lags=lag_values,
        lateness=lateness_values,
        scope=scope,
        idle_timeout=idle_timeout,
        **options,
    )
    summary = result.summary()
    x = "time" if arrival_time is not None else "arrival"
    watermark_options = {
        "time": time,
        "key_column": key,
        "arrival_time": arrival_time,
        "time_unit": time_unit,
        "busiest": busiest,
        "x": x,
    }

    sections: list[str] = []
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    from mdwindow import __version__

    meta = f"{len(ticks):,} rows" + (f" from {source}" if source else "")
    sections.append(
        f"<h1>{html.escape(title)}</h1>"
        f'<p class="meta">{html.escape(meta)} &middot; generated {generated} '
        f"by mdwindow {html.escape(__version__)}</p>"
    )

    parameters = [
        ("window size", duration_text(spec.size)),
        ("window offset", duration_text(spec.offset)),
        ("lag", duration_text(policy.lag)),
        ("allowed lateness", duration_text(policy.allowed_lateness)),
        ("watermark scope", policy.scope),
        (
            "idle timeout",
            "-" if policy.idle_timeout is None else duration_text(policy.idle_timeout),
        ),
        ("event-time column", time),
        ("key column", key if key is not None else "- (one stream)"),
        ("arrival order", f"column {arrival_time}" if arrival_time else "row order"),
        ("partitions", "-" if partitions is None else f"{partitions} ({hash})"),
    ]
    sections.append("<h2>Parameters</h2>" + _table(parameters, "parameters"))

    legend = " ".join(
        f'<span class="swatch" style="background:{STATUS_COLORS[s]}"></span>'
        f"{html.escape(STATUS_LABELS[s])}"
        for s in STATUS_COLORS
    )
    summary_rows = [
        (name, f"{value:.4%}" if name == "drop_rate" else f"{value:,}")
        for name, value in summary.items()
    ]
    sections.append(
        "<h2>Summary</h2>"
        + _table(summary_rows, "summary")
        + f"<p>Statuses are coloured the same way in every figure: {legend}</p>"
    )

    def draw_watermark(arrival_range: tuple[int, int] | None) -> Callable[[Any], Any]:
        def draw(figure: Any) -> Any:
            return plot_watermark(
                result,
                ticks,
                ax=figure.add_subplot(),
                arrival_range=arrival_range,
                **watermark_options,
            )

        return draw

    figures = [
        _img(
            _figure_png(draw_watermark(None), (11, 5.5)),
            "watermark over the whole input",
            "Event time against arrival, coloured by status, with the watermark (solid) and "
            "the largest event time seen (dashed). When each key has its own watermark the "
            f"{busiest} busiest keys are shown.",
        )
    ]
    zoom = _densest_drops(result, len(ticks))
    if zoom is not None:
        figures.append(
            _img(
                _figure_png(draw_watermark(zoom), (11, 5.5)),
                "watermark around the densest burst of dropped ticks",
                f"Zoom on arrivals {zoom[0]:,} to {zoom[1]:,}, around the densest burst of "
                "dropped ticks; arrows mark window emissions (emitting row, window end).",
            )
        )
    sections.append("<h2>Watermark</h2>" + "".join(figures))

    def draw_drops(figure: Any) -> None:
        panels = ["key", "window", "late_by"] if key is not None else ["window", "late_by"]
        axes = figure.subplots(1, len(panels))
        for ax, by in zip(np.atleast_1d(axes), panels, strict=True):
            plot_late_drops(result, by=by, ax=ax, key_column=key)

    sections.append(
        "<h2>Late drops</h2>"
        + _img(
            _figure_png(draw_drops, (13, 4)),
            "dropped ticks",
            f"{summary['dropped']:,} dropped ticks ({summary['drop_rate']:.3%} of valid rows): "
            "per key, per window, and how far past window end + allowed lateness the "
            "watermark already was.",
        )
    )

    if key is not None:
        shown_partitions = partitions if partitions is not None else 8
        note = "" if partitions is not None else " (not partitioned: what 8 partitions would do)"
        sections.append(
            "<h2>Partition balance</h2>"
            + _img(
                _figure_png(
                    lambda figure: plot_partition_balance(
                        ticks,
                        key=key,
                        partitions=shown_partitions,
                        hash=hash,
                        seed=seed,
                        ax=figure.add_subplot(),
                    ),
                    (9, 4),
                ),
                "partition balance",
                f"Rows per hash partition of {key}{note}.",
            )
        )

    clock = "arrival time" if arrival_time is not None else "event time (market clock)"
    shown_grid = grid.copy()
    for column in ("lag", "lateness", "latency_median", "latency_p99"):
        shown_grid[column] = [
            "-" if pd.isna(v) else duration_text(pd.Timedelta(v).round("1us"))
            for v in shown_grid[column]
        ]
    shown_grid["drop_rate"] = [f"{v:.3%}" for v in shown_grid["drop_rate"]]
    shown_grid["completeness"] = [f"{v:.3%}" for v in shown_grid["completeness"]]
    sections.append(
        "<h2>Lag trade-off</h2>"
        + _img(
            _figure_png(lambda figure: plot_lag_tradeoff(grid, ax=figure.add_subplot()), (10, 5)),
            "lag trade-off",
            f"Drop rate and median emission latency (window end to emission, on the {clock}) "
            "for each lag, one colour per allowed lateness.",
        )
        + '<div class="wide">'
        + shown_grid.to_html(index=False, border=0, table_id="sweep")
        + "</div>"
    )

    windows = result.windows.head(10)
    sections.append(
        "<h2>First windows</h2>"
        + '<div class="wide">'
        + windows.to_html(index=False, border=0, table_id="windows")
        + "</div>"
    )

    body = "\n".join(sections)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def write_report(
    ticks: pd.DataFrame,
    spec: TumblingWindowSpec | Any,
    out_path: str | Path,
    **options: Any,
) -> Path:
    """Window the ticks and write a self-contained HTML report of the run.

    The file holds the parameters, the summary table, the watermark plot
    (the busiest keys when keys have their own watermark, plus a zoom on the
    densest burst of dropped ticks), the late drops, the partition balance
    and the lag trade-off with its table. Figures are embedded PNGs: the
    file needs nothing else to open.

    Parameters
    ----------
    ticks : pandas.DataFrame
        The tick frame, rows in arrival order (or give ``arrival_time``).
    spec : TumblingWindowSpec or duration
        Window size (and offset).
    out_path : str or pathlib.Path
        Where to write the HTML; parent folders are created.
    **options
        ``lag``, ``allowed_lateness``, ``scope``, ``idle_timeout``, ``time``,
        ``key``, ``arrival_time``, ``time_unit``, ``partitions``, ``hash``,
        ``seed``: as in :func:`mdwindow.tumbling_windows`.
        ``lags``, ``lateness_grid``: the trade-off grid (by default lags
        around the chosen one, and latenesses 0, the chosen one and four
        times it). ``title``, ``source`` (shown under the title, e.g. the
        input file name) and ``busiest`` (keys in the watermark plot).

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
    4
    """
    page = render_report(ticks, spec, **options)
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
