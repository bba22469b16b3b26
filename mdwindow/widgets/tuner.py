"""The tuner: ``WatermarkTuner`` and ``tune``.

The widget front door onto the grid pass of :mod:`mdwindow.core.grid`. An
update must feel instant on a million ticks, so a control move never reruns
the windowing: the counts of every (lag, lateness) on the sliders are the
grid of the window size and scope, read once off one compiled pass over all
rows (:class:`~mdwindow.core.grid.TunerGrids`; they equal
:func:`mdwindow.sweep.sweep`, and so ``tumbling_windows``); the watermark plot
needs only the rows sharing the picked symbol's watermark, sliced from that
pass and judged again on a slider move (:func:`~mdwindow.core.grid.judge_rows`).
The recommended point of each grid is :func:`~mdwindow.recommend.recommend_from_grid`'s.
The figure (:mod:`mdwindow.plotting.tuner_figure`) is a held matplotlib
``Figure`` rendered to PNG into an ``ipywidgets.Image``, at twice the pixels
of its size on the page, so that it is crisp on high-density screens: no
interactive backend needed, and tests can inspect it.
"""

from __future__ import annotations

import base64
import html
from typing import Any

import numpy as np

from mdwindow.core.grid import TunerGrids, judge_rows, load_compiled
from mdwindow.core.options import TumblingWindowSpec, WatermarkPolicy, WindowOptions
from mdwindow.core.rules import DROPPED
from mdwindow.interchange import FrameLike, option_columns, read_frame
from mdwindow.plotting import duration_text
from mdwindow.plotting.style import plain_text
from mdwindow.plotting.tuner_figure import CSS_SIZE, PIXEL_RATIO, TunerFigure, zoom
from mdwindow.recommend import Recommendation
from mdwindow.recommend.choice import check_target
from mdwindow.result import WindowResult
from mdwindow.widgets.controls import (
    TunerControls,
    duration_options,
    import_ipywidgets,
    offered_value,
)
from mdwindow.widgets.recommended import RecommendedPoints, show_recommendation
from mdwindow.widgets.summary import summary_html
from mdwindow.windows import tumbling_windows

__all__ = ["MAX_POINTS", "ZOOM_ROWS", "WatermarkTuner", "tune"]

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
#: The saved output of a tuner cell, for a reader of the notebook before it runs.
NOT_RUNNING = "run the cell to move the controls; the picture is of the saved settings"


class WatermarkTuner:
    """Sliders for lag and allowed lateness over a frame of ticks, with live plots.

    Parameters
    ----------
    ticks : pandas, polars or Arrow frame
        The ticks to tune on (rows in arrival order, or give ``arrival_time``):
        a pandas or polars DataFrame, a polars LazyFrame (collected), a
        pyarrow Table or RecordBatch, or an object with ``__arrow_c_stream__``.
        Read into pandas once, when the tuner is made; :attr:`result` is pandas.
    spec : TumblingWindowSpec or duration
        The starting window size (and offset); the size can be changed in the widget.
    lags, lateness, sizes : sequences of durations, optional
        The values the sliders and the size menu offer.
    symbol : optional
        The key whose watermark is plotted first (default: the busiest).
    max_drop_rate : float, default 1e-3
        The target of the recommended point (as in :func:`mdwindow.recommend`):
        the (lag, lateness) of the sliders with the smallest median latency
        that drops at most this share of the valid rows. It is marked on the
        trade-off plot; the button "jump to recommended" moves the sliders there.
    pixel_ratio : float, default PIXEL_RATIO
        Bitmap pixels per CSS pixel of the figure, which the page shows at most
        880 x 560 CSS pixels (smaller in a narrower output area). 2 is sharp on
        a high-density screen, but each update then encodes 4 times the pixels
        of 1: slower (see :data:`~mdwindow.plotting.tuner_figure.PIXEL_RATIO`).
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
    recommendation : Recommendation or None
        The recommended point of the current window size and scope (None when
        no point of the sliders meets ``max_drop_rate``).
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
    >>> tuner.jump_to_recommended()
    >>> tuner.policy.lag == tuner.recommendation.lag
    True
    """

    @plain_text
    def __init__(
        self,
        ticks: FrameLike,
        spec: TumblingWindowSpec | Any,
        *,
        lags: Any = DEFAULT_LAGS,
        lateness: Any = DEFAULT_LATENESS,
        sizes: Any = DEFAULT_SIZES,
        symbol: Any = None,
        max_drop_rate: float = 1e-3,
        pixel_ratio: float = PIXEL_RATIO,
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
        widgets = import_ipywidgets()
        from matplotlib.figure import Figure

        # Other libraries' frames are read into pandas once, here: every update reads it.
        ticks, _ = read_frame(ticks, columns=option_columns(cfg))
        self._ticks = ticks
        self._cfg = cfg
        self._idle_timeout = cfg.policy.idle_timeout
        self._holding = False
        self._result: WindowResult | None = None
        # Checked as recommend() checks it, before any work.
        self.max_drop_rate = check_target(max_drop_rate, "latency")
        if not isinstance(pixel_ratio, (int, float)) or not 0.5 <= pixel_ratio <= 4:
            raise ValueError(
                f"pixel_ratio: got {pixel_ratio!r}; give a number from 0.5 to 4 (bitmap "
                "pixels per CSS pixel of the figure, e.g. 2 for a high-density screen)"
            )
        counts = ticks[cfg.key].value_counts()
        if counts.empty:
            raise ValueError(f"ticks: column {cfg.key!r} has no keys to tune on")

        lag_options = duration_options(lags)
        lateness_options = duration_options(lateness)
        self._grids = TunerGrids(
            ticks,
            cfg,
            [v.value for _, v in lag_options],
            [v.value for _, v in lateness_options],
        )
        self._recommended = RecommendedPoints(self._grids, self.max_drop_rate)
        # Scope "partition" needs partitions: offered only when they were given.
        scopes = [scope for scope in SCOPES if scope != "partition" or cfg.partitions]
        self.controls = TunerControls(
            lags=lag_options,
            lag=cfg.policy.lag,
            latenesses=lateness_options,
            lateness=cfg.policy.allowed_lateness,
            sizes=duration_options([*sizes, cfg.spec.size]),
            size=cfg.spec.size,
            scopes=scopes,
            scope=cfg.scope,
            symbols=[str(k) for k in counts.index],
            symbol=str(symbol) if symbol is not None else str(counts.index[0]),
        )
        self._symbols = {str(k): k for k in counts.index}
        width, height = CSS_SIZE
        # At its size on the page (never stretched past it; narrower in a narrow
        # output area), from a bitmap of pixel_ratio times its pixels.
        self.image = widgets.Image(
            format="png",
            layout=widgets.Layout(
                width=f"{width}px", max_width="100%", height="auto", margin="2px 0"
            ),
        )
        self.summary_html = widgets.HTML(layout=widgets.Layout(margin="4px 0"))
        self.message_html = widgets.HTML()
        self.figure = Figure(figsize=(width / TunerFigure.CSS_PER_INCH,
                                      height / TunerFigure.CSS_PER_INCH))  # fmt: skip
        self._view = TunerFigure(self.figure, dpi=TunerFigure.CSS_PER_INCH * pixel_ratio)
        self.message = ""
        self.summary: dict[str, Any] = {}
        self.recommendation: Recommendation | None = None
        self.widget = widgets.VBox(
            [self.controls.box, self.message_html, self.summary_html, self.image],
            layout=widgets.Layout(width="100%"),
        )
        for control in self._controls().values():
            control.observe(self._on_change, names="value")
        self.controls.recommend_button.on_click(lambda _: self.jump_to_recommended())
        load_compiled()
        self.update()

    # -- the controls, by name ---------------------------------------------------

    @property
    def lag_slider(self) -> Any:
        return self.controls.lag_slider

    @property
    def lateness_slider(self) -> Any:
        return self.controls.lateness_slider

    @property
    def size_menu(self) -> Any:
        return self.controls.size_menu

    @property
    def scope_toggle(self) -> Any:
        return self.controls.scope_toggle

    @property
    def symbol_menu(self) -> Any:
        return self.controls.symbol_menu

    @property
    def recommend_button(self) -> Any:
        return self.controls.recommend_button

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
                controls[name].value = offered_value(controls[name], name, value)
        except (ValueError, TypeError) as exc:
            self._holding = False
            self._show_problem(str(exc))
            return
        self._holding = False
        if [control.value for control in controls.values()] != before or self.message:
            self.update()

    def _controls(self) -> dict[str, Any]:
        """The controls, by the names :meth:`set` takes."""
        return self.controls.by_name()

    def jump_to_recommended(self) -> None:
        """Move lag and lateness to the recommended point (one update); a message
        when there is none."""
        if self.recommendation is None:
            _, problem = self._recommended.of(self._state())
            self._show_problem(f"no recommended point: {problem}")
            return
        rec = self.recommendation
        self.set(lag=rec.lag, allowed_lateness=rec.allowed_lateness)

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
            rec, problem = self._recommended.of(cfg)
            judged = judge_rows(rows, cfg.policy.lag_ns, cfg.policy.lateness_ns)
            self._draw_rows(cfg, rows, judged)
            self.image.value = self._view.finish(
                (cfg.spec.size, cfg.scope),
                grid,
                current=(cfg.policy.lag.total_seconds(), point["drop_rate"] * 100),
                recommended=None
                if rec is None
                else (rec.lag.total_seconds(), rec.drop_rate * 100),
            )
        except (ValueError, TypeError, KeyError) as exc:
            self._show_problem(f"{type(exc).__name__}: {exc}")
            return
        self.message = ""
        self.message_html.value = ""
        self.image.layout.opacity = "1"
        self.summary = point
        self.summary_html.value = summary_html(point)
        self.recommendation = rec
        show_recommendation(self.controls, rec, self.max_drop_rate, problem)

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
        # The widget view for a running notebook; for a saved one read before it runs
        # (or where widgets do not render), the picture of the settings it was saved
        # with and what to do to move them.
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = f"{self!r}\n({NOT_RUNNING})"
        if self.image.value and not self.message:
            bundle["image/png"] = base64.b64encode(self._view.page_picture()).decode("ascii")
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


def tune(ticks: FrameLike, spec: TumblingWindowSpec | Any, **options: Any) -> WatermarkTuner:
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
