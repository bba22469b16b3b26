"""What a figure says about its run: the parameters, and a heading under each title.

A PNG saved on its own must still say how it was made. Every plot takes
``options=``, the options of the run it shows (a
:class:`~mdwindow.core.options.WindowOptions`, or the keywords given to
:func:`mdwindow.tumbling_windows`), and states them in a line under its
title (:func:`parameters_text`). Without ``options`` a figure states what
the result itself shows (the window size) and how to state the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mdwindow.core.options import WindowOptions
from mdwindow.plotting.rows import window_grid_of
from mdwindow.plotting.style import duration_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mdwindow.result import WindowResult

__all__ = [
    "HEADING_COLOR",
    "SEPARATOR",
    "interval_text",
    "options_of",
    "parameters_text",
    "set_heading",
]

SEPARATOR = " \N{MIDDLE DOT} "
HEADING_COLOR = "0.3"
#: Points between the axes' top and the heading, and between the heading and the title.
_GAP = 4.0
_LINE_SPACING = 1.2


def options_of(result: WindowResult | None, options: Any) -> WindowOptions | None:
    """The run's options as the one options record, or None when not given.

    ``options`` is a :class:`~mdwindow.core.options.WindowOptions`, or a
    mapping of the keywords of :func:`mdwindow.tumbling_windows`
    (``window_size`` may be left out: the result's window size is taken).

    Examples
    --------
    >>> options_of(None, {"window_size": "5s", "lag": "2s"}).policy.lag
    Timedelta('0 days 00:00:02')
    """
    if options is None or isinstance(options, WindowOptions):
        return options
    if not isinstance(options, Mapping):
        raise TypeError(
            f"options: got {type(options).__name__}; pass the run's options as a dict of "
            "tumbling_windows keywords, e.g. options=dict(lag='2s', scope='key')"
        )
    keywords = dict(options)
    size = keywords.pop("window_size", None)
    if size is None:
        grid = window_grid_of(result) if result is not None else None
        if grid is None:
            raise ValueError(
                "options: no window_size given and the result has no window to read it "
                "from; add window_size=... to options"
            )
        size = grid.size
        keywords.setdefault("offset", grid.offset)
    return WindowOptions.build(size, **keywords)


def parameters_text(cfg: WindowOptions | None, result: WindowResult | None = None) -> str:
    """The parameters of a run in one line: window, lag, lateness, scope (and idle
    timeout, offset, partitions, emit when they are set).

    Without ``cfg``, the window size read off ``result`` and a note on how to
    state the rest.

    Examples
    --------
    >>> cfg = WindowOptions.build("5s", lag="2s", allowed_lateness="1s", scope="key")
    >>> parameters_text(cfg)
    'window 5s · lag 2s · allowed lateness 1s · scope key'
    """
    if cfg is None:
        grid = window_grid_of(result) if result is not None else None
        known = f"window {duration_text(grid.size)}" if grid is not None else "window ?"
        return f"{known}{SEPARATOR}lag, lateness, scope: pass options="
    spec, policy = cfg.spec, cfg.policy
    parts = [f"window {duration_text(spec.size)}"]
    if spec.offset_ns:
        parts[0] += f" (offset {duration_text(spec.offset)})"
    parts += [
        f"lag {duration_text(policy.lag)}",
        f"allowed lateness {duration_text(policy.allowed_lateness)}",
        f"scope {policy.scope}",
    ]
    if policy.idle_timeout is not None:
        parts.append(f"idle timeout {duration_text(policy.idle_timeout)}")
    if cfg.partitions is not None and policy.scope == "partition":
        parts.append(f"{cfg.partitions} partitions ({cfg.hash})")
    if cfg.emit != "final":
        parts.append(f"emit {cfg.emit}")
    return SEPARATOR.join(parts)


def set_heading(
    ax: Axes,
    title: str,
    lines: Sequence[str] = (),
    *,
    fontsize: str | float = "small",
    **title_options: Any,
) -> Any:
    """``title`` on ``ax``, with ``lines`` in smaller grey text between it and the axes.

    The lines are one annotation of the axes (so layout engines make room
    for it), found again by its gid ``"heading"`` and updated in place;
    ``title_options`` go to :meth:`~matplotlib.axes.Axes.set_title`.
    Returns the annotation.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> note = set_heading(ax, "Rows per partition", ["hash murmur3", "8 partitions"])
    >>> ax.get_title(), note.get_text()
    ('Rows per partition', 'hash murmur3\\n8 partitions')
    """
    from matplotlib.font_manager import FontProperties

    shown = [line for line in lines if line]
    text = "\n".join(shown)
    found = [t for t in ax.texts if t.get_gid() == "heading"]
    if found:
        note = found[0]
        note.set_text(text)
    else:
        note = ax.annotate(
            text,
            xy=(0.5, 1.0),
            xycoords="axes fraction",
            xytext=(0, _GAP),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=fontsize,
            color=HEADING_COLOR,
            annotation_clip=False,
            gid="heading",
        )
    size = FontProperties(size=note.get_fontsize()).get_size_in_points()
    # A text's box is a little taller than its lines (descent of the last one).
    height = (len(shown) * _LINE_SPACING + 0.3) * size if shown else 0.0
    ax.set_title(title, pad=_GAP + height + (_GAP if shown else 2), **title_options)
    return note


def interval_text(begin: int, stop: int, total: int) -> str:
    """Arrival rows ``begin`` to ``stop - 1`` of ``total``, for a title.

    Examples
    --------
    >>> interval_text(0, 7, 7), interval_text(249_000, 253_000, 300_000)
    ('all 7 rows', 'arrival rows 249,000 to 252,999 of 300,000')
    """
    if begin <= 0 and stop >= total:
        return f"all {total:,} rows"
    return f"arrival rows {begin:,} to {max(stop - 1, begin):,} of {total:,}"
