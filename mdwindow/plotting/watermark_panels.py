"""Several keys' watermarks: one small panel per key, one shared arrival axis."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mdwindow.plotting.captions import HEADING_COLOR, SEPARATOR, set_heading
from mdwindow.plotting.style import plain_text
from mdwindow.plotting.watermark import WatermarkRows
from mdwindow.plotting.watermark_view import WatermarkArtists, counts_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure, SubFigure

    from mdwindow.interchange import FrameLike
    from mdwindow.result import WindowResult

__all__ = ["plot_watermark_panels"]


@plain_text
def plot_watermark_panels(
    result: WindowResult,
    ticks: FrameLike | None = None,
    *,
    keys: Any = None,
    busiest: int = 3,
    x: str = "arrival",
    time: str = "ts",
    key_column: str | None = None,
    arrival_time: str | None = None,
    time_unit: str | None = None,
    arrival_range: tuple[int, int] | None = None,
    options: Any = None,
    max_points: int = 20_000,
    max_boundaries: int = 40,
    figure: Figure | SubFigure | None = None,
) -> np.ndarray:
    """The watermark view of several keys: a panel each, stacked, sharing the arrival axis.

    Each panel is the panel of :func:`plot_watermark` for one key (its
    ticks, its watermark, its emissions), headed by the key and its counts;
    the figure's title names the keys and the arrival rows shown, one
    legend serves every panel, and the caption at the bottom states the
    run's parameters. Keys never share an axes, so their lines cannot merge.

    Parameters
    ----------
    result, ticks, x, time, key_column, arrival_time, time_unit, arrival_range, options, \
max_points, max_boundaries
        As for :func:`plot_watermark` (``max_points`` per panel).
    keys : sequence, optional
        The keys to show, top to bottom. By default the ``busiest`` keys
        (most valid rows) when each key has its own watermark, or one panel
        of every row when all rows share one.
    busiest : int, default 3
        How many keys to show when ``keys`` is not given.
    figure : matplotlib.figure.Figure or SubFigure, optional
        Where to draw (its existing axes are kept); a new pyplot figure, 11
        inches wide, with constrained layout, by default.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        One axes per panel, top to bottom.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> import pandas as pd
    >>> from mdwindow import tumbling_windows
    >>> ticks = pd.DataFrame({
    ...     "ts": pd.to_datetime([0, 9, 1, 3, 8, 5, 2, 1, 6], unit="s", utc=True),
    ...     "symbol": list("ABACBAABA"),
    ... })
    >>> result = tumbling_windows(ticks, "2s", scope="key")
    >>> axes = plot_watermark_panels(result, ticks, busiest=2, options={"scope": "key"},
    ...                              figure=Figure(layout="constrained"))
    >>> [ax.get_title() for ax in axes]
    ['A', 'B']
    >>> axes[0].figure.get_suptitle()
    'Watermark of the 2 busiest symbols (of 3) on 1970-01-01, all 9 rows'
    """
    view = WatermarkRows(
        result, ticks, x=x, time=time, key_column=key_column, arrival_time=arrival_time,
        time_unit=time_unit, arrival_range=arrival_range, options=options,
    )  # fmt: skip
    shown = view.keys(keys=keys, busiest=busiest)
    if figure is None:
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=(11, 1.4 + 2.1 * len(shown)), layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0])
    panels = []
    for ax, key in zip(axes, shown, strict=True):
        artists = WatermarkArtists(ax, x_is_time=view.x_is_time)
        data = view.panel(key, max_points=max_points, max_boundaries=max_boundaries)
        artists.show(data)
        set_heading(
            ax, "every row" if key is None else str(key), [counts_text(data)],
            fontsize="small",
        )  # fmt: skip
        ax.title.set_fontsize("medium")
        panels.append((artists, data))
    for ax in axes[:-1]:
        ax.set_xlabel("")
        ax.tick_params(axis="x", labelbottom=False)
    if view.x_is_time:
        axes[-1].set_xlabel(f"arrival time, {arrival_time} (UTC)")
    # One legend for every panel, beside the top one: the kinds any panel has.
    artists, _ = panels[0]
    artists.legend(set().union(*(data.present() for _, data in panels)))
    figure.suptitle(_title(view, shown, panels), fontsize="large")
    lines = [view.parameters(), view.arrived()]
    figure.supxlabel(
        SEPARATOR.join(line for line in lines if line), fontsize="small", color=HEADING_COLOR
    )
    return axes


def _title(view: WatermarkRows, shown: list[Any], panels: list[Any]) -> str:
    """Which keys, which day, which arrival rows."""
    name = view.key_column or "key"
    if shown == [None]:
        subject = ""
    elif len(shown) == 1:
        subject = f" of {shown[0]}"
    else:
        total = view.key_count()
        plural = f"{name}s" if not name.endswith("s") else name
        subject = f" of {len(shown)} {plural}"
        if total > len(shown):
            subject = f" of the {len(shown)} busiest {plural} (of {total})"
    days = [view.day_of(data) for _, data in panels if data.y_range() is not None]
    return f"Watermark{subject}{days[0] if days else ''}, {view.interval()}"
