"""Checks that a drawn figure reads: no overlapping tick labels or texts, nothing cut off,
every axes labelled.

Measured with matplotlib's own renderer: each text's extent in display pixels
(``get_window_extent(renderer)``) after a draw on the Agg canvas, as it will be
saved. :func:`figure_problems` lists what is wrong, in words; :func:`assert_readable`
fails a test with that list.

What counts:

- **tick labels** of one axis must not overlap one another;
- **texts** (titles, axis labels, tick labels, annotations, bar labels, figure
  titles, legends as whole boxes) must not overlap one another, but a tick label
  may touch its own axis' label and a legend's own texts are inside it;
- every text must lie **inside the figure** (a pixel of slack);
- every visible axes with visible tick labels on an axis must have a **label** on
  that axis (a twin's hidden x axis needs none; shared axes whose tick labels are
  hidden need none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Pixels two boxes may share before they count as overlapping (antialiased edges).
SLACK = 1.0


@dataclass(frozen=True)
class Box:
    """A text (or legend) drawn on the figure, where it is and what it is."""

    what: str
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    owner: Any = None  # the axis a tick label or axis label belongs to

    def overlaps(self, other: Box) -> bool:
        return (
            min(self.x1, other.x1) - max(self.x0, other.x0) > SLACK
            and min(self.y1, other.y1) - max(self.y0, other.y0) > SLACK
        )

    def __str__(self) -> str:
        where = f"({self.x0:.0f}, {self.y0:.0f})-({self.x1:.0f}, {self.y1:.0f})"
        return f"{self.what} {self.text!r} at {where}"


def _box(what: str, artist: Any, renderer: Any, owner: Any = None) -> Box | None:
    if not artist.get_visible():
        return None
    text = artist.get_text() if hasattr(artist, "get_text") else ""
    if hasattr(artist, "get_text") and not text.strip():
        return None
    extent = artist.get_window_extent(renderer)
    if extent.width <= 0 or extent.height <= 0:
        return None
    return Box(what, text, extent.x0, extent.y0, extent.x1, extent.y1, owner)


def _axis_name(axes: Any, axis: Any) -> str:
    title = (
        axes.get_title() or axes.get_title(loc="left") or f"axes at {axes.get_position().bounds}"
    )
    return f"{axis.axis_name} axis of {title!r}"


def _ticklabel_boxes(axes: Any, axis: Any, renderer: Any) -> list[Box]:
    """The visible tick labels of ``axis`` (those inside its view interval)."""
    lo, hi = sorted(axis.get_view_interval())
    slack = 1e-9 * abs(hi - lo)
    boxes = []
    for tick in axis.get_major_ticks() + axis.get_minor_ticks():
        location = tick.get_loc()
        if location is None or not lo - slack <= location <= hi + slack:
            continue
        for label in (tick.label1, tick.label2):
            box = _box(f"tick label of the {_axis_name(axes, axis)}", label, renderer, axis)
            if box is not None:
                boxes.append(box)
    return boxes


def _collect(figure: Any, renderer: Any) -> tuple[list[Box], list[str]]:
    """Every text box of the figure, and the problems found axes by axes on the way."""
    problems: list[str] = []
    boxes: list[Box] = []
    legends = []
    headings = []
    for name in ("_suptitle", "_supxlabel", "_supylabel"):
        text = getattr(figure, name, None)
        if text is not None:
            headings.append(text)
            box = _box(f"figure {name.strip('_')}", text, renderer)
            if box is not None:
                boxes.append(box)
    legends += list(figure.legends)
    for text in figure.texts:
        if any(text is heading for heading in headings):
            continue
        box = _box("figure text", text, renderer)
        if box is not None:
            boxes.append(box)
    for sub in getattr(figure, "subfigs", []):
        sub_boxes, sub_problems = _collect(sub, renderer)
        boxes += sub_boxes
        problems += sub_problems
    for axes in figure.axes:
        if not axes.get_visible():
            continue
        for axis in (axes.xaxis, axes.yaxis):
            if not axis.get_visible():
                continue
            ticks = _ticklabel_boxes(axes, axis, renderer)
            for i, one in enumerate(ticks):
                for other in ticks[i + 1 :]:
                    if one.overlaps(other):
                        problems.append(f"tick labels overlap: {one} and {other}")
            boxes += ticks
            label = _box(f"label of the {_axis_name(axes, axis)}", axis.label, renderer, axis)
            if label is not None:
                boxes.append(label)
            elif ticks:
                problems.append(f"the {_axis_name(axes, axis)} shows values but has no label")
            offset = _box(
                f"offset of the {_axis_name(axes, axis)}", axis.offsetText, renderer, axis
            )
            if offset is not None:
                boxes.append(offset)
        for title in (axes.title, axes._left_title, axes._right_title):
            box = _box("axes title", title, renderer)
            if box is not None:
                boxes.append(box)
        for text in axes.texts:
            box = _box("text", text, renderer)
            if box is not None:
                boxes.append(box)
        if axes.get_legend() is not None:
            legends.append(axes.get_legend())
    for legend in legends:
        if legend.get_visible():
            extent = legend.get_window_extent(renderer)
            labels = ", ".join(t.get_text() for t in legend.get_texts())
            boxes.append(Box("legend", labels[:60], extent.x0, extent.y0, extent.x1, extent.y1))
    return boxes, problems


def figure_problems(figure: Any) -> list[str]:
    """What keeps ``figure`` from reading well, drawn as it would be saved; empty if nothing."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = figure.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes, problems = _collect(figure, renderer)
    width, height = canvas.get_width_height()
    for box in boxes:
        if box.x0 < -SLACK or box.y0 < -SLACK or box.x1 > width + SLACK or box.y1 > height + SLACK:
            problems.append(f"outside the {width}x{height} figure: {box}")
    for i, one in enumerate(boxes):
        for other in boxes[i + 1 :]:
            same_axis = one.owner is not None and one.owner is other.owner
            if not same_axis and one.overlaps(other):
                problems.append(f"texts overlap: {one} and {other}")
    return problems


def assert_readable(figure: Any) -> None:
    """Fail with every problem :func:`figure_problems` finds in ``figure``."""
    problems = figure_problems(figure)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


# -- the figures of ``mdwindow demo``, kept once per session ----------------------------------

_DEMO_RUNS: dict[str, tuple[Any, list[Any]]] = {}


def demo_run(base: Any) -> tuple[Any, list[Any]]:
    """Run ``mdwindow demo`` into ``base / "mdwindow-demo"`` once per session (per ``base``):
    the output folder, and every figure it saved (its PNGs and the report's), in order."""
    from pathlib import Path

    from matplotlib.figure import Figure

    from mdwindow.cli import main

    key = str(base)
    if key not in _DEMO_RUNS:
        out = Path(base) / "mdwindow-demo"
        saved: list[Any] = []
        original = Figure.savefig

        def keep(figure: Any, *args: Any, **kwargs: Any) -> Any:
            saved.append(figure)
            return original(figure, *args, **kwargs)

        Figure.savefig = keep
        try:
            status = main(["demo", "--out", str(out)])
        finally:
            Figure.savefig = original
        assert status == 0, f"mdwindow demo exited with {status}"
        _DEMO_RUNS[key] = (out, saved)
    return _DEMO_RUNS[key]
