"""Warning class of the package (tests turn it into an error)."""

from __future__ import annotations


class MdwindowWarning(UserWarning):
    """A warning raised by mdwindow itself."""
