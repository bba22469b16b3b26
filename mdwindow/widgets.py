"""Tuning lag and allowed lateness in a notebook: ``WatermarkTuner`` and ``tune``.

Needs ipywidgets 8 (``pip install "mdwindow[notebook]"``).

An update must feel instant on a million ticks, so the tuner never reruns
the whole windowing for a slider move:

- the counts (dropped, late, windows, latency) for every (lag, lateness) on
  the sliders come from one compiled pass over all rows per window size and
  scope (:mod:`mdwindow._tuner_grid`: each scope's running maximum, each
  row's slack against it, each window's smallest and largest slack), cached
  per size and scope; they equal :func:`mdwindow.sweep.sweep`, and so
  separate ``tumbling_windows`` calls (checked in the tests), so they are
  exact;
- the watermark plot needs only the rows that share the picked symbol's
  watermark: that symbol's rows under scope "key", its hash partition's rows
  under scope "partition", every row under scope "global". They form one
  scope, whose running maximum event time and windows are sliced from that
  same pass; a slider move only judges each row against
  ``maximum - lag`` by SPEC's rules (:mod:`mdwindow._tuner_rows`, checked
  against ``tumbling_windows`` in the tests);
- the figure keeps its artists and gets new data; the trade-off plot, which
  only changes with the window size or scope, is drawn once per size and
  scope over the static labels and legends, and pasted under the rest
  (:mod:`mdwindow._tuner_figure`).

The figure is a held :class:`matplotlib.figure.Figure` (never pyplot state),
rendered to PNG into an ``ipywidgets.Image``, so it works without an
interactive matplotlib backend and can be inspected in tests.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from mdwindow._tuner_grid import ScopeScan, load_compiled, scan_rows
from mdwindow._tuner_rows import DROPPED, ScopeRows, TickColumns, judge
from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy
from mdwindow.hashing import partition_ids
from mdwindow.plotting import duration_text
from mdwindow.plotting.tuner_figure import TunerFigure, zoom
from mdwindow.result import WindowResult
from mdwindow.windows import tumbling_windows

__all__ = ["WatermarkTuner", "tune"]

DEFAULT_LAGS = ("0s", "50ms", "100ms", "250ms", "500ms", "1s", "1500ms", "2s", "3s", "5s")
DEFAULT_LATENESS = ("0s", "100ms", "250ms", "500ms", "1s", "2s", "5s")
DEFAULT_SIZES = ("1s", "5s", "10s", "30s", "1min")
SCOPES = ("global", "key", "partition")
#: Rows of the picked symbol's watermark plot: a zoom keeps a redraw fast and legible.
ZOOM_ROWS = 3_000
MAX_POINTS = 3_000
#: Scopes of rows kept between updates (a global one holds a few arrays per tick).
CACHED_SCOPES = 8
#: Scans of all rows (three arrays per tick) kept for (window size, scope) pairs:
#: one per scope, so that toggling scopes and picking symbols never rescans.
CACHED_SCANS = 3


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            'mdwindow.widgets needs ipywidgets 8: pip install "mdwindow[notebook]"'
        ) from None
    return ipywidgets


def _options(values: Any) -> list[tuple[str, pd.Timedelta]]:
    deltas = sorted({pd.Timedelta(v) for v in values})
    return [(duration_text(d), d) for d in deltas]


class WatermarkTuner:
    """Sliders for lag and allowed lateness over a frame of ticks, with live plots.

    Parameters
    ----------
    ticks : pandas.DataFrame
        The ticks to tune on (rows in arrival order, or give ``arrival_time``).
    spec : TumblingWindowSpec or duration
        The starting window size (and offset); the size can be changed in the widget.
    time, key, arrival_time, time_unit : str, optional
        As in :func:`mdwindow.tumbling_windows`.
    lags, lateness, sizes : sequences of durations, optional
        The values the sliders and the size menu offer.
    lag, allowed_lateness : duration, default "1s" and "0s"
        Where the sliders start (the nearest offered value).
    scope : {"global", "key", "partition"}, default "key"
        Starting watermark scope.
    partitions : int, default 8
        Hash partitions for scope "partition".
    symbol : optional
        The key whose watermark is plotted first (default: the busiest).

    Attributes
    ----------
    policy : WatermarkPolicy
        What the sliders say now.
    spec : TumblingWindowSpec
        The window size chosen now.
    summary : dict
        Counts of the whole frame under the current settings (as
        ``WindowResult.summary()``), plus median and p99 emission latency.
    result : WindowResult
        The full result of the current settings, computed when first read.
    figure : matplotlib.figure.Figure
        The held figure: watermark of the picked symbol, late drops, trade-off.
    message : str
        The last problem shown instead of the plots ("" when all is well).

    Examples
    --------
    >>> from mdwindow.synth import generate_ticks
    >>> ticks = generate_ticks(3_000, symbols=3, seed=1, duration="2min")
    >>> tuner = WatermarkTuner(ticks, "5s", lag="1s", scope="key")
    >>> tuner.policy.lag
    Timedelta('0 days 00:00:01')
    >>> tuner.set(allowed_lateness="500ms")
    >>> tuner.summary["rows"]
    3000
    """

    def __init__(
        self,
        ticks: pd.DataFrame,
        spec: TumblingWindowSpec | Any,
        *,
        time: str = "ts",
        key: str = "symbol",
        arrival_time: str | None = None,
        time_unit: str | None = None,
        lags: Any = DEFAULT_LAGS,
        lateness: Any = DEFAULT_LATENESS,
        sizes: Any = DEFAULT_SIZES,
        lag: Any = "1s",
        allowed_lateness: Any = "0s",
        scope: str = "key",
        partitions: int = 8,
        symbol: Any = None,
    ) -> None:
        widgets = _ipywidgets()
        from matplotlib.figure import Figure

        self._ticks = ticks
        self._base_spec = TumblingWindowSpec.coerce(spec)
        self._options = {"time": time, "key": key, "arrival_time": arrival_time,
                         "time_unit": time_unit}  # fmt: skip
        self._partitions = partitions
        self._sweeps: dict[tuple[pd.Timedelta, str], pd.DataFrame] = {}
        self._points: dict[tuple[pd.Timedelta, str], dict[tuple[int, int], Any]] = {}
        self._scans: dict[tuple[int, int, str], ScopeScan] = {}
        self._columns: TickColumns | None = None
        self._scopes: dict[tuple[Any, ...], ScopeRows] = {}
        self._holding = False
        self._result: WindowResult | None = None
        keys = ticks[key]
        counts = keys.value_counts()
        if counts.empty:
            raise ValueError(f"ticks: column {key!r} has no keys to tune on")
        self._key_partition = pd.Series(
            partition_ids(counts.index.to_numpy(dtype=object), partitions), index=counts.index
        )

        lag_options = _options(lags)
        lateness_options = _options(lateness)
        size_options = _options([*sizes, self._base_spec.size])
        self.lag_slider = widgets.SelectionSlider(
            options=lag_options, value=_nearest(lag_options, lag), description="lag",
            continuous_update=False,
        )  # fmt: skip
        self.lateness_slider = widgets.SelectionSlider(
            options=lateness_options,
            value=_nearest(lateness_options, allowed_lateness),
            description="lateness",
            continuous_update=False,
        )
        self.size_menu = widgets.Dropdown(
            options=size_options, value=self._base_spec.size, description="window"
        )
        self.scope_toggle = widgets.ToggleButtons(
            options=list(SCOPES), value=scope, description="scope"
        )
        self.symbol_menu = widgets.Dropdown(
            options=[str(k) for k in counts.index],
            value=str(symbol) if symbol is not None else str(counts.index[0]),
            description="symbol",
        )
        self._symbols = {str(k): k for k in counts.index}
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="100%"))
        self.summary_html = widgets.HTML()
        self.message_html = widgets.HTML()
        self.figure = Figure(figsize=(12, 8))
        self._view = TunerFigure(self.figure, dpi=72)
        self.message = ""
        self.summary: dict[str, Any] = {}
        controls = widgets.VBox(
            [
                widgets.HBox([self.lag_slider, self.lateness_slider]),
                widgets.HBox([self.size_menu, self.symbol_menu]),
                self.scope_toggle,
            ]
        )
        self.widget = widgets.VBox([controls, self.message_html, self.summary_html, self.image])
        for control in (
            self.lag_slider,
            self.lateness_slider,
            self.size_menu,
            self.scope_toggle,
            self.symbol_menu,
        ):
            control.observe(self._on_change, names="value")
        load_compiled()
        self.update()

    # -- what the sliders say ------------------------------------------------

    @property
    def policy(self) -> WatermarkPolicy:
        """The watermark policy the controls describe."""
        return WatermarkPolicy(
            lag=self.lag_slider.value,
            allowed_lateness=self.lateness_slider.value,
            scope=self.scope_toggle.value,
        )

    @property
    def spec(self) -> TumblingWindowSpec:
        """The window spec the controls describe."""
        return TumblingWindowSpec(
            self.size_menu.value,
            offset=self._base_spec.offset,
            emit_partial=self._base_spec.emit_partial,
        )

    @property
    def symbol(self) -> Any:
        """The key whose watermark is plotted."""
        return self._symbols[self.symbol_menu.value]

    @property
    def result(self) -> WindowResult:
        """The full windowing result of the current settings (computed on first use)."""
        if self._result is None:
            self._result = tumbling_windows(
                self._ticks, self.spec, self.policy, partitions=self._partitions, **self._options
            )
        return self._result

    def set(self, **values: Any) -> None:
        """Move controls from code: ``lag=``, ``allowed_lateness=``, ``size=``, ``scope=``,
        ``symbol=``. A value the control does not offer shows a message instead.
        Several controls moved in one call make one update."""
        controls = {
            "lag": self.lag_slider,
            "allowed_lateness": self.lateness_slider,
            "size": self.size_menu,
            "scope": self.scope_toggle,
            "symbol": self.symbol_menu,
        }
        unknown = set(values) - set(controls)
        if unknown:
            raise TypeError(f"set: unknown control(s) {sorted(unknown)}; use {sorted(controls)}")
        before = [control.value for control in controls.values()]
        self._holding = True
        try:
            for name, value in values.items():
                control = controls[name]
                if name in ("lag", "allowed_lateness", "size"):
                    value = pd.Timedelta(value)
                    offered = [v for _, v in control.options]
                elif name == "symbol":
                    value = str(value)
                    offered = list(control.options)
                else:
                    offered = list(control.options)
                if value not in offered:
                    shown = [
                        duration_text(v) if isinstance(v, pd.Timedelta) else v for v in offered
                    ]
                    raise ValueError(f"{name}: {value!r} is not offered; choose one of {shown}")
                control.value = value
        except (ValueError, TypeError) as exc:
            self._holding = False
            self._show_problem(str(exc))
            return
        self._holding = False
        if [control.value for control in controls.values()] != before or self.message:
            self.update()

    # -- updating ------------------------------------------------------------

    def _on_change(self, change: dict[str, Any]) -> None:
        if not self._holding:
            self.update()

    def update(self) -> None:
        """Recompute and redraw for the current control values."""
        self._result = None
        try:
            spec, policy = self.spec, self.policy
            grid_key = (spec.size, policy.scope)
            rows = self._scope_rows(spec, policy.scope)
            grid = self._grid(spec, policy.scope)
            point = self._sweep_point(grid_key, grid, policy)
            if not self._view.laid_out:
                self._view.lay_out(grid)
            judged = judge(rows, policy.lag_ns, policy.lateness_ns)
            self._draw_rows(spec, policy, rows, judged)
            self.image.value = self._view.finish(
                grid_key, grid, current=(policy.lag.total_seconds(), point["drop_rate"] * 100)
            )
        except (ValueError, TypeError, KeyError) as exc:
            self._show_problem(f"{type(exc).__name__}: {exc}")
            return
        self.message = ""
        self.message_html.value = ""
        self.summary = point
        self.summary_html.value = _summary_html(point)

    def _grid(self, spec: TumblingWindowSpec, scope: str) -> pd.DataFrame:
        """The sweep grid of a window size and scope (kept for every one visited)."""
        grid_key = (spec.size, scope)
        grid = self._sweeps.get(grid_key)
        if grid is None:
            grid = self._scan(spec, scope, grid=True)
            self._sweeps[grid_key] = grid
        return grid

    def _sweep_point(
        self, grid_key: Any, grid: pd.DataFrame, policy: WatermarkPolicy
    ) -> dict[str, Any]:
        # The grid's points by (lag, lateness) in ns, read once per grid: a lookup per
        # update instead of filtering the frame.
        points = self._points.get(grid_key)
        if points is None:
            columns = {name: grid[name].to_numpy() for name in grid.columns}
            lags = grid["lag"].to_numpy().view(np.int64).tolist()
            lateness = grid["lateness"].to_numpy().view(np.int64).tolist()
            points = {}
            for row, at in enumerate(zip(lags, lateness, strict=True)):
                points.setdefault(at, []).append(row)
            points = {at: (columns, rows) for at, rows in points.items()}
            self._points[grid_key] = points
        columns, rows = points.get((policy.lag_ns, policy.lateness_ns), (None, []))
        if len(rows) != 1:
            raise ValueError(
                f"lag {duration_text(policy.lag)} / lateness "
                f"{duration_text(policy.allowed_lateness)} is not on the sweep grid"
            )
        (row,) = rows
        return {
            "rows": int(columns["rows"][row]),
            "on_time": int(columns["on_time"][row]),
            "late": int(columns["late_accepted"][row]),
            "dropped": int(columns["dropped"][row]),
            "rejected": int(columns["rejected"][row]),
            "windows": int(columns["windows"][row]),
            "pending": int(columns["pending"][row]),
            "drop_rate": float(columns["drop_rate"][row]),
            "incomplete_windows": int(columns["incomplete_windows"][row]),
            "latency_median": pd.Timedelta(columns["latency_median"][row]),
            "latency_p99": pd.Timedelta(columns["latency_p99"][row]),
        }

    def _scan(self, spec: TumblingWindowSpec, scope: str, *, grid: bool = False) -> Any:
        """Every row judged once for a window size and scope (kept for a few); with
        ``grid``, the sweep grid of that size and scope read off it instead."""
        if self._columns is None:
            self._columns = TickColumns.of(self._ticks, **self._options)
        cache_key = (spec.size_ns, spec.offset_ns, scope)
        scan = self._scans.pop(cache_key, None)
        if scan is None or (grid and scan.finish is None):
            scan = scan_rows(
                self._columns,
                size=spec.size_ns,
                offset=spec.offset_ns,
                scope=scope,
                partitions=self._partitions,
                partition_of_key=self._key_partition,
                lags=[v.value for _, v in self.lag_slider.options],
                lateness=[v.value for _, v in self.lateness_slider.options],
                emit_partial=spec.emit_partial,
            )
        self._scans[cache_key] = scan  # most recently used last
        while len(self._scans) > CACHED_SCANS:
            del self._scans[next(iter(self._scans))]
        if grid:
            frame = scan.finish()
            scan.finish = None  # frees what only the grid needed
            return frame
        return scan

    def _scope_rows(self, spec: TumblingWindowSpec, scope: str) -> ScopeRows:
        """The rows whose watermark is the picked symbol's: all that its plot depends on."""
        group = {"global": None, "key": self.symbol}.get(scope)
        if scope == "partition":
            group = int(self._key_partition[self.symbol])
        cache_key = (spec.size, spec.offset, scope, group)
        rows = self._scopes.pop(cache_key, None)
        if rows is None:
            scan = self._scan(spec, scope)
            positions = self._columns.rows_sharing_watermark(
                self.symbol, scope, self._key_partition
            )
            rows = scan.rows(self._columns, positions)
        self._scopes[cache_key] = rows  # most recently used last
        while len(self._scopes) > CACHED_SCOPES:
            del self._scopes[next(iter(self._scopes))]
        return rows

    def _draw_rows(
        self, spec: TumblingWindowSpec, policy: WatermarkPolicy, rows: ScopeRows, judged: Any
    ) -> None:
        view = zoom(np.flatnonzero(judged.status == DROPPED), len(rows), ZOOM_ROWS)
        self._view.draw_rows(
            rows,
            judged,
            code=self._columns.code_of(self.symbol),
            view=view,
            size=spec.size_ns,
            offset=spec.offset_ns,
            title=(
                f"{self.symbol}: window {duration_text(spec.size)}, "
                f"lag {duration_text(policy.lag)}, "
                f"lateness {duration_text(policy.allowed_lateness)}, scope {policy.scope}"
            ),
            max_points=MAX_POINTS,
            tradeoff=(spec.size, policy.scope),
        )

    @staticmethod
    def summary_point_for(grid: pd.DataFrame, policy: WatermarkPolicy) -> float:
        """The drop rate of the grid point the controls describe."""
        row = grid[(grid["lag"] == policy.lag) & (grid["lateness"] == policy.allowed_lateness)]
        return float(row["drop_rate"].iloc[0])

    def _show_problem(self, text: str) -> None:
        # Never leave a plot that no longer matches the controls on screen.
        self.message = text
        self.message_html.value = f"<b style='color:#b00'>{html.escape(text)}</b>"
        self._view.clear()
        self.image.value = b""
        self.summary = {}
        self.summary_html.value = ""

    # -- display -------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # The widget view for the notebook, and our short repr as its text.
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle = dict(bundle)
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return (
            f"WatermarkTuner(size={duration_text(self.size_menu.value)}, "
            f"lag={duration_text(self.lag_slider.value)}, "
            f"lateness={duration_text(self.lateness_slider.value)}, "
            f"scope={self.scope_toggle.value!r}, symbol={self.symbol_menu.value!r})"
        )


def _nearest(options: list[tuple[str, pd.Timedelta]], value: Any) -> pd.Timedelta:
    target = pd.Timedelta(value)
    return min((v for _, v in options), key=lambda v: abs(v - target))


def _summary_html(point: dict[str, Any]) -> str:
    def fmt(name: str, value: Any) -> str:
        if name == "drop_rate":
            return f"{value:.3%}" if value == value else "n/a"
        if isinstance(value, pd.Timedelta):
            return "n/a" if value is pd.NaT else duration_text(value)
        if isinstance(value, (int, np.integer)):
            return f"{value:,}"
        return html.escape(str(value))

    cells = "".join(
        f"<td style='padding:0 8px'><b>{html.escape(k.replace('_', ' '))}</b><br>{fmt(k, v)}</td>"
        for k, v in point.items()
    )
    return f"<table><tr>{cells}</tr></table>"


def tune(ticks: pd.DataFrame, spec: TumblingWindowSpec | Any, **options: Any) -> WatermarkTuner:
    """Build a :class:`WatermarkTuner` (display it by leaving it last in a cell).

    Examples
    --------
    >>> from mdwindow.synth import generate_ticks
    >>> tuner = tune(generate_ticks(2_000, symbols=2, seed=3, duration="1min"), "5s")
    >>> tuner.scope_toggle.value
    'key'
    """
    return WatermarkTuner(ticks, spec, **options)
