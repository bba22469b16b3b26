"""The HTML of the report: style sheet, tables, and figures embedded as base64 PNG."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from typing import Any

from mdwindow.plotting.style import plain_text

__all__ = ["document", "figure_png", "figure_row", "image_html", "table_html"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1320px; color: #222; line-height: 1.4; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; }
.meta { color: #666; margin-top: 0; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.92rem; }
th, td { padding: 0.25rem 0.55rem; border-bottom: 1px solid #eee; text-align: right; }
td { white-space: nowrap; }
th { background: #f6f6f6; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption, .caption { color: #555; font-size: 0.9rem; max-width: 1100px; }
.row { display: flex; flex-wrap: wrap; gap: 0 1.5rem; align-items: flex-start; }
.row figure { flex: 1 1 520px; max-width: 560px; }
.wide { overflow-x: auto; max-width: 100%; }
.wide table { font-size: 0.85rem; }
.missed { background: #fff4e5; border-left: 4px solid #e8590c; padding: 0.5rem 0.8rem;
          max-width: 1100px; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.3em;
          vertical-align: baseline; border-radius: 2px; }
"""


@plain_text  # tick labels are made as the figure is saved: key names stay literal then too
def figure_png(draw: Callable[[Any], Any], size: tuple[float, float]) -> str:
    """Draw on a fresh figure (no pyplot state) and return it as base64 PNG."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=100, layout="constrained")
    draw(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def image_html(png: str, alt: str, caption: str) -> str:
    """A figure element holding a base64 PNG and its caption.

    Examples
    --------
    >>> image_html("AAAA", "a <plot>", "caption").count("&lt;plot&gt;")
    1
    """
    return (
        f'<figure><img src="data:image/png;base64,{png}" alt="{html.escape(alt)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def figure_row(figures: Sequence[str]) -> str:
    """Figure elements side by side (wrapping onto more lines on a narrow page).

    Examples
    --------
    >>> figure_row(["<figure>a</figure>", "<figure>b</figure>"])
    '<div class="row"><figure>a</figure><figure>b</figure></div>'
    """
    return '<div class="row">' + "".join(figures) + "</div>"


def table_html(rows: Sequence[tuple[str, Any]], table_id: str) -> str:
    """A two-column table, one ``(name, value)`` pair per row, text escaped.

    Examples
    --------
    >>> table_html([("lag", "1s")], "parameters")
    '<table id="parameters"><tr><th>lag</th><td>1s</td></tr></table>'
    """
    body = "".join(
        f"<tr><th>{html.escape(str(name))}</th><td>{html.escape(str(value))}</td></tr>"
        for name, value in rows
    )
    return f'<table id="{table_id}">{body}</table>'


def document(title: str, sections: Sequence[str]) -> str:
    """The whole page: head with the style sheet, then the sections in order."""
    body = "\n".join(sections)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )
