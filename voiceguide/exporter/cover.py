"""Cover art for exported sessions: a plain typographic square a phone's player shows as the
session's artwork.

The routine's title is set large on a calm background, its points listed below it, and the
word "voiceguide" at the foot. Drawn with Pillow in DejaVu Sans when the system has it (it covers
accented pinyin and most scripts) and otherwise in Pillow's bundled font, with letters that font
lacks replaced by their unaccented forms rather than drawn as empty boxes. The PNG is reduced to a
small palette: a few flat colours compress to a few tens of kilobytes, well under the 200 KB that
players and podcast catalogues accept. The same title and points give the same bytes on a machine.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

    Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

SIZE = 600  # pixels per side: sharp on a phone's lock screen, small as PNG
MAX_BYTES = 200_000
BACKGROUND = (28, 61, 66)
TITLE_COLOUR = (246, 241, 229)
POINT_COLOUR = (186, 214, 203)
ACCENT = (222, 170, 104)
MARGIN = 48
MAX_POINTS = 8
FONTS = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf")  # title, the rest; found in the system's font dirs
_ASCII_FALLBACK = {"—": "-", "–": "-", "×": "x", "·": "-", "…": "...", "‘": "'", "’": "'", "“": '"', "”": '"'}


def cover_png(title: str, points: Sequence[str] = (), size: int = SIZE) -> bytes:
    """The cover as PNG bytes: ``title`` wrapped to fit, then up to eight ``points`` lines."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), BACKGROUND)
    draw = ImageDraw.Draw(image)
    scale = size / SIZE
    margin = round(MARGIN * scale)
    width = size - 2 * margin

    footer_font = _font(FONTS[1], round(24 * scale))
    footer_top = size - margin - _line_height(footer_font)
    # A thin ring by the footer: a quiet mark, not an illustration.
    r = round(26 * scale)
    cx, cy = size - margin - r, footer_top + _line_height(footer_font) // 2
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=ACCENT, width=max(2, round(3 * scale)))
    dot = max(2, round(5 * scale))
    draw.ellipse((cx - dot, cy - dot, cx + dot, cy + dot), fill=ACCENT)
    draw.text((margin, footer_top), "voiceguide", font=footer_font, fill=ACCENT)

    y = margin
    title_font, lines = _fit_title(
        draw, title.strip() or "Session", width, round(56 * scale), max_height=round(250 * scale)
    )
    for line in lines:
        draw.text((margin, y), line, font=title_font, fill=TITLE_COLOUR)
        y += _line_height(title_font)
    y += round(16 * scale)
    draw.rectangle((margin, y, margin + round(80 * scale), y + max(2, round(4 * scale))), fill=ACCENT)
    y += round(28 * scale)

    point_font = _font(FONTS[1], round(24 * scale))
    step = _line_height(point_font)
    room = max(0, (footer_top - round(20 * scale) - y) // step)
    shown = [str(p) for p in points[: min(MAX_POINTS, room)]]
    if len(points) > len(shown) and shown:
        shown[-1] = f"and {len(points) - len(shown) + 1} more"
    for text in shown:
        draw.text(
            (margin, y),
            _ellipsize(draw, _drawable(text, point_font), point_font, width),
            font=point_font,
            fill=POINT_COLOUR,
        )
        y += step

    out = io.BytesIO()
    image.quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True
    )
    data = out.getvalue()
    if len(data) > MAX_BYTES and size > 300:  # cannot happen with flat colours; never ship it
        return cover_png(title, points, size=size // 2)
    return data


@functools.lru_cache(maxsize=16)
def _font(name: str, px: int) -> Font:
    from PIL import ImageFont

    try:
        return ImageFont.truetype(name, max(px, 8))
    except OSError:  # no DejaVu on this system
        return ImageFont.load_default(size=max(px, 8))


def _line_height(font: Font) -> int:
    top, bottom = font.getbbox("Hgy")[1::2]
    return round((bottom - top) * 1.3)


def _drawable(text: str, font: Font) -> str:
    """``text`` with the characters ``font`` has no glyph for replaced by near ASCII forms."""
    missing = _signature(font, "\U0010fffd")
    out = []
    for ch in text:
        if ch.isspace() or _signature(font, ch) != missing:
            out.append(ch)
        elif ch in _ASCII_FALLBACK:
            out.append(_ASCII_FALLBACK[ch])
        else:
            base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode("ascii")
            out.append(base or "?")
    return "".join(out)


def _signature(font: Font, ch: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(ch)
    return mask.size, bytes(mask)


def _fit_title(
    draw: ImageDraw.ImageDraw, title: str, width: int, start_px: int, max_height: int
) -> tuple[Font, list[str]]:
    """The largest font (down to half size) at which the title wraps into the space given."""
    px = start_px
    while True:
        font = _font(FONTS[0], px)
        text = _drawable(title, font)
        lines = _wrap(draw, text, font, width)
        fits = len(lines) * _line_height(font) <= max_height
        if fits or px <= start_px // 2:
            limit = max(1, max_height // _line_height(font))
            if len(lines) > limit:
                rest = " ".join(lines[limit - 1 :])
                lines = [*lines[: limit - 1], _ellipsize(draw, rest + " …", font, width)]
            return font, lines
        px -= 4


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and draw.textlength(candidate, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return [_ellipsize(draw, line, font, width) for line in lines] or [""]


def _ellipsize(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"
