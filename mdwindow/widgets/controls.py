"""The tuner's controls: named for screen readers, laid out in a grid that fits
narrow output areas."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mdwindow.plotting import duration_text

__all__ = ["LABEL_WIDTH", "TunerControls", "duration_options", "import_ipywidgets", "nearest"]

#: Every control's label has this width, so the labels and the controls line up.
LABEL_WIDTH = "64px"
#: The grid's columns: as many of at least this width as fit (two in a 500 px output
#: area, four in a 1000 px one). Under them, in a row that wraps: the scope buttons
#: and the recommendation.
COLUMN_WIDTH = "230px"
SCOPE_TOOLTIPS = {
    "global": "one watermark over all rows",
    "key": "one watermark per key, from that key's rows",
    "partition": "one watermark per hash partition of the key",
}


def import_ipywidgets() -> Any:
    """ipywidgets, or an error that names the extra to install."""
    try:
        import ipywidgets
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            'mdwindow.widgets needs ipywidgets 8: pip install "mdwindow[notebook]"'
        ) from None
    return ipywidgets


def duration_options(values: Any) -> list[tuple[str, pd.Timedelta]]:
    """(label, value) options of distinct durations, ascending.

    Examples
    --------
    >>> duration_options(["1s", "250ms", "1000ms"])
    [('250ms', Timedelta('0 days 00:00:00.250000')), ('1s', Timedelta('0 days 00:00:01'))]
    """
    deltas = sorted({pd.Timedelta(v) for v in values})
    return [(duration_text(d), d) for d in deltas]


def nearest(options: list[tuple[str, pd.Timedelta]], value: Any) -> pd.Timedelta:
    """The offered duration nearest ``value``."""
    target = pd.Timedelta(value)
    return min((v for _, v in options), key=lambda v: abs(v - target))


def offered_value(control: Any, name: str, value: Any) -> Any:
    """``value`` as ``control`` (named ``name`` in :meth:`WatermarkTuner.set`) holds it;
    a ValueError naming what it offers when it does not offer ``value``."""
    typed = value
    if name in ("lag", "allowed_lateness", "size"):
        value, offered = pd.Timedelta(value), [v for _, v in control.options]
    else:
        value, offered = str(value), list(control.options)
    if value not in offered:
        shown = [duration_text(v) if isinstance(v, pd.Timedelta) else v for v in offered]
        hint = ""
        if value == "partition":
            hint = " (scope 'partition' needs a tuner built with partitions=P)"
        raise ValueError(f"{name}: {typed!r} is not offered; choose one of {shown}{hint}")
    return value


class TunerControls:
    """The sliders and menus in a grid; below them the scope buttons and the
    recommendation's button.

    Every control has a visible label of the same width (its ``description``,
    which also names it for screen readers) and a tooltip saying what it sets.
    """

    def __init__(
        self,
        *,
        lags: list[tuple[str, pd.Timedelta]],
        lag: Any,
        latenesses: list[tuple[str, pd.Timedelta]],
        lateness: Any,
        sizes: list[tuple[str, pd.Timedelta]],
        size: Any,
        scopes: list[str],
        scope: str,
        symbols: list[str],
        symbol: str,
    ) -> None:
        widgets = import_ipywidgets()
        style = {"description_width": LABEL_WIDTH}
        cell = {"width": "auto", "margin": "2px 0"}
        self.lag_slider = widgets.SelectionSlider(
            options=lags, value=nearest(lags, lag), description="lag",
            tooltip="lag: how far the watermark trails the largest event time seen",
            continuous_update=False, style=style, layout=widgets.Layout(**cell),
        )  # fmt: skip
        self.lateness_slider = widgets.SelectionSlider(
            options=latenesses, value=nearest(latenesses, lateness), description="lateness",
            tooltip="allowed lateness: how long a window takes late ticks after the watermark",
            continuous_update=False, style=style, layout=widgets.Layout(**cell),
        )  # fmt: skip
        self.size_menu = widgets.Dropdown(
            options=sizes, value=size, description="window", tooltip="window size",
            style=style, layout=widgets.Layout(**cell),
        )  # fmt: skip
        self.symbol_menu = widgets.Dropdown(
            options=symbols, value=symbol, description="symbol",
            tooltip="the key whose watermark is plotted", style=style,
            layout=widgets.Layout(**cell),
        )  # fmt: skip
        self.scope_toggle = widgets.ToggleButtons(
            options=scopes, value=scope, description="scope",
            tooltip="watermark scope: global, per key or per partition",
            tooltips=[SCOPE_TOOLTIPS[s] for s in scopes],
            style={**style, "button_width": "76px"},
            # A row, as the other controls are: its label is beside its buttons.
            layout=widgets.Layout(
                width="auto", margin="2px 16px 2px 0", display="flex", flex_flow="row",
                align_items="center",
            ),
        )  # fmt: skip
        self.recommend_button = widgets.Button(
            description="jump to recommended", icon="crosshairs",
            tooltip="move lag and lateness to the recommended point",
            layout=widgets.Layout(width="auto", margin="2px 12px 2px 0"),
        )  # fmt: skip
        self.recommend_html = widgets.HTML(layout=widgets.Layout(margin="0 0 2px 0", width="100%"))
        grid = widgets.GridBox(
            [self.lag_slider, self.lateness_slider, self.size_menu, self.symbol_menu],
            layout=widgets.Layout(
                width="100%",
                margin="0",
                grid_template_columns=f"repeat(auto-fill, minmax({COLUMN_WIDTH}, 1fr))",
                grid_gap="0 16px",
            ),
        )
        # The scope buttons take more room than a column: a row of their own, with
        # the recommendation's button beside them (below them when it does not fit),
        # then the recommendation in words, wrapping.
        second = widgets.HBox(
            [self.scope_toggle, self.recommend_button],
            layout=widgets.Layout(
                width="100%", margin="0", flex_flow="row wrap", align_items="center"
            ),
        )
        self.box = widgets.VBox(
            [grid, second, self.recommend_html], layout=widgets.Layout(width="100%", margin="0")
        )

    def by_name(self) -> dict[str, Any]:
        """The controls, by the names :meth:`WatermarkTuner.set` takes."""
        return {
            "lag": self.lag_slider,
            "allowed_lateness": self.lateness_slider,
            "size": self.size_menu,
            "scope": self.scope_toggle,
            "symbol": self.symbol_menu,
        }
