"""Fast raster output of held figures: an Agg canvas that keeps glyph bitmaps, and PNG.

The tuner redraws the same figure on every move of a slider; these two
pieces take what does not change out of that loop (rasterizing text) and
encode the pixels more cheaply than Pillow would.
"""

from __future__ import annotations

import math
import struct
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["png_bytes", "text_caching_canvas"]

#: Text bitmaps kept by the figure's renderer (see :func:`text_caching_canvas`).
MAX_CACHED_GLYPHS = 20_000
MAX_CACHED_LAYOUTS = 4_000


def text_caching_canvas(figure: Figure) -> Any:
    """An Agg canvas whose renderer keeps the bitmap of every glyph it rendered.

    Most of an update's drawing time went into text: laying out each string
    and rasterizing each glyph anew, although the tick labels and titles
    hold the same few characters from one update to the next. FreeType
    rasterizes a glyph at a 1/64 pixel position; moving it by whole pixels
    moves its bitmap by whole pixels, so a bitmap kept per glyph, size and
    sub-pixel position gives the very pixels a fresh rendering would
    (``tests/test_widgets.py`` compares them). Matplotlib versions without the
    glyph-by-glyph text path (before 3.11) get a plain canvas.
    """
    from matplotlib.backends import backend_agg
    from matplotlib.ft2font import FT2Font

    plain = backend_agg.FigureCanvasAgg
    renderer_base = backend_agg.RendererAgg
    if not (
        hasattr(renderer_base, "_draw_text_glyphs_and_boxes")
        and hasattr(FT2Font, "_layout")
        and hasattr(FT2Font, "_render_glyph")
        and hasattr(FT2Font, "_set_transform")
    ):  # pragma: no cover - older matplotlib
        return plain(figure)

    import matplotlib as mpl

    class Renderer(renderer_base):
        def __init__(self, width: float, height: float, dpi: float) -> None:
            super().__init__(width, height, dpi)
            self._layouts: dict[Any, list[tuple[Any, int, float, float]]] = {}
            self._glyphs: dict[Any, tuple[np.ndarray, int, int]] = {}

        def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):  # noqa: ANN001
            if ismath:
                return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            flags = backend_agg.get_hinting_flag()
            features = mtext.get_fontfeatures() if mtext is not None else None
            language = mtext.get_language() if mtext is not None else None
            params = mpl.rcParams
            layout_key = (
                tuple(prop.__dict__.values()), s, features, language, flags,
                params["text.hinting_factor"], params["text.kerning_factor"],
            )  # fmt: skip
            items = self._layouts.get(layout_key)
            if items is None:
                font = self._prepare_font(prop)
                items = [
                    (item.ft_object, item.glyph_index, item.x, item.y)
                    for item in font._layout(s, flags=flags, features=features, language=language)
                ]
                if len(self._layouts) >= MAX_CACHED_LAYOUTS:
                    self._layouts.clear()
                self._layouts[layout_key] = items
            self._draw_cached_glyphs(gc, x, y, angle, prop.get_size_in_points(), flags, items)

        def _draw_cached_glyphs(self, gc, x, y, angle, size, flags, items):  # noqa: ANN001
            # As RendererAgg._draw_text_glyphs_and_boxes, each glyph rasterized once.
            cos = math.cos(math.radians(angle))
            sin = math.sin(math.radians(angle))
            antialiased = gc.get_antialiased()
            height = self.height
            glyphs = self._glyphs
            matrix = None
            for font, glyph_index, dx, dy in items:
                tx = round(0x40 * (x + dx * cos - dy * sin))
                ty = round(0x40 * (height - y + dx * sin + dy * cos))
                key = (font, size, self.dpi, glyph_index, angle, tx & 63, ty & 63,
                       antialiased, flags)  # fmt: skip
                glyph = glyphs.get(key)
                if glyph is None:
                    if matrix is None:
                        matrix = (
                            (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
                        )
                    font.set_size(size, self.dpi)
                    font._set_transform(matrix, [tx & 63, ty & 63])
                    bitmap = font._render_glyph(
                        glyph_index,
                        flags,
                        backend_agg.RenderMode.NORMAL
                        if antialiased
                        else backend_agg.RenderMode.MONO,
                    )
                    buffer = np.array(bitmap.buffer)
                    if not antialiased:
                        buffer *= 0xFF
                    glyph = (buffer, bitmap.left, bitmap.top)
                    if len(glyphs) >= MAX_CACHED_GLYPHS:
                        glyphs.clear()
                    glyphs[key] = glyph
                buffer, left, top = glyph
                self._renderer.draw_text_image(
                    buffer,
                    left + (tx >> 6),
                    int(height) - (top + (ty >> 6)) + buffer.shape[0],
                    0,
                    gc,
                )

    class Canvas(plain):
        def get_renderer(self) -> Any:
            w, h = self.get_width_height(physical=True)
            key = w, h, self.figure.dpi
            if self._lastKey != key:
                self.renderer = Renderer(w, h, self.figure.dpi)
                self._lastKey = key
            return self.renderer

    return Canvas(figure)


#: A pixel's colour (its first three bytes) as one item.
_RGB_OF_RGBA = np.dtype([("rgb", "V3"), ("alpha", "u1")])


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def png_bytes(rgba: np.ndarray) -> bytes:
    """A lossless RGB PNG of an ``(height, width, 4)`` uint8 image (alpha dropped).

    Rows are stored unfiltered and deflated at level 1: half the time of
    Pillow's adaptive filtering for an image of flat areas and thin lines,
    and about as small. Pixels are copied as 3-byte items, not channel by
    channel (half the time).

    Examples
    --------
    >>> rgba = np.random.default_rng(0).integers(0, 256, (30, 20, 4), dtype=np.uint8)
    >>> png = png_bytes(rgba)
    >>> rows = np.frombuffer(zlib.decompress(png[41:-12]), np.uint8).reshape(30, 61)
    >>> bool((rows[:, 1:].reshape(30, 20, 3) == rgba[:, :, :3]).all())
    True
    """
    height, width, _ = rgba.shape
    rows = np.empty((height, 1 + 3 * width), np.uint8)
    rows[:, 0] = 0  # filter type "none"
    pixels = np.ascontiguousarray(rgba).view(_RGB_OF_RGBA).reshape(height, width)["rgb"]
    rows[:, 1:].view("V3").reshape(height, width)[...] = pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows, 1)),
            _png_chunk(b"IEND", b""),
        )
    )
