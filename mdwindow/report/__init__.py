"""A single self-contained HTML report of one windowing run.

:func:`write_report` windows the ticks, sweeps lag and lateness around the
chosen policy, and writes one HTML file with every figure embedded as a
base64 PNG: open it anywhere, mail it, attach it to a ticket.

:mod:`~mdwindow.report.render` runs the windowing and the sweep and puts
the page together from :mod:`~mdwindow.report.sections` (one function per
section), in the HTML of :mod:`~mdwindow.report.page`.
"""

from __future__ import annotations

from mdwindow.report.render import render_report, write_report

__all__ = ["render_report", "write_report"]
