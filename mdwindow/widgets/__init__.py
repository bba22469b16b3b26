"""Tuning lag and allowed lateness in a notebook: ``WatermarkTuner`` and ``tune``.

Needs ipywidgets 8 (``pip install "mdwindow[notebook]"``). The tuner is in
:mod:`mdwindow.widgets.tuner`, its controls and their layout in
:mod:`mdwindow.widgets.controls`, the text beside its figure in
:mod:`mdwindow.widgets.summary`; the figure in
:mod:`mdwindow.plotting.tuner_figure`.
"""

from __future__ import annotations

from mdwindow.widgets.summary import readable_duration
from mdwindow.widgets.tuner import MAX_POINTS, ZOOM_ROWS, WatermarkTuner, tune

__all__ = ["MAX_POINTS", "ZOOM_ROWS", "WatermarkTuner", "readable_duration", "tune"]
