"""A one-line progress bar on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "progress_enabled"]


class Progress:
    """A one-line progress bar on stderr, redrawn in place; silent when disabled."""

    def __init__(self, label: str, enabled: bool, stream: TextIO | None = None) -> None:
        self.label = label
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self._last = 0.0
        self._drawn = False

    def update(self, fraction: float, rows: int) -> None:
        """Show ``fraction`` done after ``rows`` rows (at most ten redraws a second)."""
        now = time.monotonic()
        if not self.enabled or (fraction < 1.0 and now - self._last < 0.1):
            return
        self._last = now
        filled = int(round(30 * fraction))
        bar = "#" * filled + "-" * (30 - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction:4.0%} {rows:,} rows")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line, if one was drawn."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def progress_enabled(forced: bool) -> bool:
    """Whether to draw the bar: when asked, or when stderr is a terminal."""
    return forced or sys.stderr.isatty()
