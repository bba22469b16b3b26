"""Tuning lag and allowed lateness in a notebook: ``WatermarkTuner`` and ``tune``.

Needs ipywidgets 8 (``pip install "mdwindow[notebook]"``).

The widget front door onto the grid pass of :mod:`mdwindow.core.grid`. An
update must feel instant on a million ticks, so a control move never reruns
the windowing: the counts of every (lag, lateness) on the sliders are the
grid of the window size and scope, read once off one compiled pass over all
rows (:class:`~mdwindow.core.grid.TunerGrids`; they equal
:func:`mdwindow.sweep.sweep`, and so ``tumbling_windows``); the watermark plot
needs only the rows sharing the picked symbol's watermark, sliced from that
pass and judged again on a slider move (:func:`~mdwindow.core.grid.judge_rows`).
The figure (:mod:`mdwindow.plotting.tuner_figure`) is a held matplotlib
``Figure`` rendered to PNG into an ``ipywidgets.Image``: no interactive
backend needed, and tests can inspect it.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from mdwindow.core.grid import TunerGrids, judge_rows, load_compiled
from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy, WindowOptions
from mdwindow.core.rules import DROPPED
from mdwindow.plotting import duration_text
from mdwindow.plotting.style import plain_text
from mdwindow.plotting.tuner_figure import TunerFigure, zoom
from mdwindow.result import WindowResult
from mdwindow.windows import tumbling_windows

__all__ = ["WatermarkTuner", "tune"]

DEFAULT_LAGS = ("0s", "50ms", "100ms", "250ms", "500ms", "1s", "1500ms", "2s", "3s", "5s")
DEFAULT_LATENESS = ("0s", "100ms", "250ms", "500ms", "1s", "2s", "5s")
DEFAULT_SIZES = ("1s", "5s", "10s", "30s", "1min")
SCOPES = ("global", "key", "partition")
#: Options of ``tumbling_windows`` that the tuner has no use for: it counts the rows
#: and windows of ``emit="final"``, without aggregates.
NOT_TUNED = ("agg", "emit", "price", "size")
#: Rows of the picked symbol's watermark plot: a zoom keeps a redraw fast and legible.
ZOOM_ROWS = 3_000
MAX_POINTS = 3_000


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
    lags, lateness, sizes : sequences of durations, optional
        The values the sliders and the size menu offer.
    symbol : optional
        The key whose watermark is plotted first (default: the busiest).
    **options
        The options of :func:`mdwindow.tumbling_windows` (but ``agg``,
        ``emit``, ``price`` and ``size``), with its defaults: ``lag`` and
        ``allowed_lateness`` (where the sliders start: the nearest offered
        value), ``scope`` (where the scope buttons start; ``"partition"``
        is offered when ``partitions`` is given), ``idle_timeout`` (applied while the scope is
        ``"key"`` or ``"partition"``: a global watermark has no idle keys),
        ``offset``, ``emit_partial``, ``time``, ``key``, ``arrival_time``,
        ``time_unit``, ``partitions``, ``hash`` and ``seed``.

    Attributes
    ----------
    policy : WatermarkPolicy
        What the controls say now.
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
    >>> tuner = WatermarkTuner(ticks, "5s", lag="1s", scope="key", idle_timeout="10s")
    >>> tuner.policy.lag, tuner.policy.idle_timeout
    (Timedelta('0 days 00:00:01'), Timedelta('0 days 00:00:10'))
    >>> tuner.set(allowed_lateness="500ms")
    >>> tuner.summary["rows"]
    3000
    """

    @plain_text
    def __init__(
        self,
        ticks: pd.DataFrame,
        spec: TumblingWindowSpec | Any,
        *,
        lags: Any = DEFAULT_LAGS,
        lateness: Any = DEFAULT_LATENESS,
        sizes: Any = DEFAULT_SIZES,
        symbol: Any = None,
        **options: Any,
    ) -> None:
        refused = sorted(set(options) & set(NOT_TUNED))
        if refused:
            raise TypeError(
                f"unexpected keyword argument(s) {refused}: the tuner counts the rows and "
                "windows of emit='final', without aggregates"
            )
        cfg = WindowOptions.build(spec, **options)
        if cfg.key is None:
            raise ValueError("key: the tuner plots one key's watermark; name the key column")
        widgets = _ipywidgets()
        from matplotlib.figure import Figure

        self._ticks = ticks
        self._cfg = cfg
        self._idle_timeout = cfg.policy.idle_timeout
        self._holding = False
        self._result: WindowResult | None = None
        counts = ticks[cfg.key].value_counts()
        if counts.empty:
            raise ValueError(f"ticks: column {cfg.key!r} has no keys to tune on")

        lag_options = _options(lags)
        lateness_options = _options(lateness)
        size_options = _options([*sizes, cfg.spec.size])
        self._grids = TunerGrids(
            ticks,
            cfg,
            [v.value for _, v in lag_options],
            [v.value for _, v in lateness_options],
        )
        self.lag_slider = widgets.SelectionSlider(
            options=lag_options, value=_nearest(lag_options, cfg.policy.lag),
            description="lag", continuous_update=False,
        )  # fmt: skip
        self.lateness_slider = widgets.SelectionSlider(
            options=lateness_options,
            value=_nearest(lateness_options, cfg.policy.allowed_lateness),
            description="lateness",
            continuous_update=False,
        )
        self.size_menu = widgets.Dropdown(
            options=size_options, value=cfg.spec.size, description="window"
        )
        # Scope "partition" needs partitions: offered only when they were given.
        scopes = [scope for scope in SCOPES if scope != "partition" or cfg.partitions]
        self.scope_toggle = widgets.ToggleButtons(
            options=scopes, value=cfg.scope, description="scope"
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
        for control in self._controls().values():
            control.observe(self._on_change, names="value")
        load_compiled()
        self.update()

    # -- what the controls say -----------------------------------------------

    @property
    def policy(self) -> WatermarkPolicy:
        """The watermark policy the controls describe."""
        scope = self.scope_toggle.value
        return WatermarkPolicy(
            lag=self.lag_slider.value,
            allowed_lateness=self.lateness_slider.value,
            scope=scope,
            idle_timeout=None if scope == "global" else self._idle_timeout,
        )

    @property
    def spec(self) -> TumblingWindowSpec:
        """The window spec the controls describe."""
        return TumblingWindowSpec(
            self.size_menu.value,
            offset=self._cfg.spec.offset,
            emit_partial=self._cfg.spec.emit_partial,
        )

    @property
    def symbol(self) -> Any:
        """The key whose watermark is plotted."""
        return self._symbols[self.symbol_menu.value]

    def _state(self) -> WindowOptions:
        """Every option of the current settings, checked by the options record."""
        policy = self.policy
        return self._cfg.replace(
            window_size=self.size_menu.value,
            lag=policy.lag,
            allowed_lateness=policy.allowed_lateness,
            scope=policy.scope,
            idle_timeout=policy.idle_timeout,
        )

    @property
    def result(self) -> WindowResult:
        """The full windowing result of the current settings (computed on first use)."""
        if self._result is None:
            keywords = self._state().keywords()
            self._result = tumbling_windows(self._ticks, keywords.pop("window_size"), **keywords)
        return self._result

    def set(self, **values: Any) -> None:
        """Move controls from code: ``lag=``, ``allowed_lateness=``, ``size=``, ``scope=``,
        ``symbol=``. A value the control does not offer shows a message instead.
        Several controls moved in one call make one update."""
        controls = self._controls()
        unknown = set(values) - set(controls)
        if unknown:
            raise TypeError(f"set: unknown control(s) {sorted(unknown)}; use {sorted(controls)}")
        before = [control.value for control in controls.values()]
        self._holding = True
        try:
            for name, value in values.items():
                control = controls[name]
                typed = value
                if name in ("lag", "allowed_lateness", "size"):
                    value, offered = pd.Timedelta(value), [v for _, v in control.options]
                else:
                    value, offered = str(value), list(control.options)
                if value not in offered:
                    shown = [
                        duration_text(v) if isinstance(v, pd.Timedelta) else v for v in offered
                    ]
                    hint = ""
                    if value == "partition":
                        hint = " (scope 'partition' needs a tuner built with partitions=P)"
                    raise ValueError(
                        f"{name}: {typed!r} is not offered; choose one of {shown}{hint}"
                    )
                control.value = value
        except (ValueError, TypeError) as exc:
            self._holding = False
            self._show_problem(str(exc))
            return
        self._holding = False
        if [control.value for control in controls.values()] != before or self.message:
            self.update()

    def _controls(self) -> dict[str, Any]:
        """The controls, by the names :meth:`set` takes."""
        return {
            "lag": self.lag_slider,
            "allowed_lateness": self.lateness_slider,
            "size": self.size_menu,
            "scope": self.scope_toggle,
            "symbol": self.symbol_menu,
        }

    # -- updating ------------------------------------------------------------

    def _on_change(self, change: dict[str, Any]) -> None:
        if not self._holding:
            self.update()

    @plain_text
    def update(self) -> None:
        """Recompute and redraw for the current control values."""
        self._result = None
        try:
            cfg = self._state()
            rows = self._grids.rows(cfg, self.symbol)
            grid = self._grids.grid(cfg)
            point = self._grids.point(cfg)
            if point is None:
                raise ValueError(
                    f"lag {duration_text(cfg.policy.lag)} / lateness "
                    f"{duration_text(cfg.policy.allowed_lateness)} is not on the sweep grid"
                )
            if not self._view.laid_out:
                self._view.lay_out(grid)
            judged = judge_rows(rows, cfg.policy.lag_ns, cfg.policy.lateness_ns)
            self._draw_rows(cfg, rows, judged)
            self.image.value = self._view.finish(
                (cfg.spec.size, cfg.scope),
                grid,
                current=(cfg.policy.lag.total_seconds(), point["drop_rate"] * 100),
            )
        except (ValueError, TypeError, KeyError) as exc:
            self._show_problem(f"{type(exc).__name__}: {exc}")
            return
        self.message = ""
        self.message_html.value = ""
        self.image.layout.opacity = "1"
        self.summary = point
        self.summary_html.value = _summary_html(point)

    def _draw_rows(self, cfg: WindowOptions, rows: Any, judged: Any) -> None:
        spec, policy = cfg.spec, cfg.policy
        view = zoom(np.flatnonzero(judged.status == DROPPED), len(rows), ZOOM_ROWS)
        idle = (
            "" if policy.idle_timeout is None else f", idle {duration_text(policy.idle_timeout)}"
        )
        self._view.draw_rows(
            rows,
            judged,
            code=self._grids.columns.code_of(self.symbol),
            view=view,
            size=spec.size_ns,
            offset=spec.offset_ns,
            title=(
                f"{self.symbol}: window {duration_text(spec.size)}, "
                f"lag {duration_text(policy.lag)}, "
                f"lateness {duration_text(policy.allowed_lateness)}, scope {policy.scope}{idle}"
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
        # The previous picture stays (an empty image shows a broken-image box),
        # but greyed out, so it is not taken for the refused setting's.
        self.message = text
        self.message_html.value = f"<b style='color:#b00'>{html.escape(text)}</b>"
        self.image.layout.opacity = "0.35"
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
        idle = self.policy.idle_timeout
        return (
            f"WatermarkTuner(size={duration_text(self.size_menu.value)}, "
            f"lag={duration_text(self.lag_slider.value)}, "
            f"lateness={duration_text(self.lateness_slider.value)}, "
            f"scope={self.scope_toggle.value!r}, "
            + ("" if idle is None else f"idle_timeout={duration_text(idle)}, ")
            + f"symbol={self.symbol_menu.value!r})"
        )


def _nearest(options: list[tuple[str, pd.Timedelta]], value: Any) -> pd.Timedelta:
    target = pd.Timedelta(value)
    return min((v for _, v in options), key=lambda v: abs(v - target))


def _summary_html(point: dict[str, Any]) -> str:
    def fmt(name: str, value: Any) -> str:
        if name == "drop_rate":
            return f"{value:.3%}" if value == value else "n/a"
        if isinstance(value, pd.Timedelta):
            return "n/a" if value is pd.NaT else readable_duration(value)
        if isinstance(value, (int, np.integer)):
            return f"{value:,}"
        return html.escape(str(value))

    cells = "".join(
        f"<td style='padding:0 8px'><b>{html.escape(k.replace('_', ' '))}</b><br>{fmt(k, v)}</td>"
        for k, v in point.items()
    )
    return f"<table><tr>{cells}</tr></table>"


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


def tune(ticks: pd.DataFrame, spec: TumblingWindowSpec | Any, **options: Any) -> WatermarkTuner:
    """Build a :class:`WatermarkTuner` (display it by leaving it last in a cell).

    Takes the keywords of :class:`WatermarkTuner`, options with the defaults
    of :func:`mdwindow.tumbling_windows`.

    Examples
    --------
    >>> from mdwindow.synth import generate_ticks
    >>> ticks = generate_ticks(2_000, symbols=2, seed=3, duration="1min")
    >>> tuner = tune(ticks, "5s", scope="key", idle_timeout="5s")
    >>> tuner.scope_toggle.value, tuner.policy.idle_timeout
    ('key', Timedelta('0 days 00:00:05'))
    """
    return WatermarkTuner(ticks, spec, **options)
