"""``python -m mdwindow``: the same as the ``mdwindow`` command."""

from __future__ import annotations

from mdwindow.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
