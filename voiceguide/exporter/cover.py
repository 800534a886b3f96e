"""Cover art for exported sessions: the square a phone's player shows as the session's artwork.

The routine's title is set large on a calm background. Below it, when the routine's points have
positions, the body-map view that shows most of them is painted on a light panel with those points
marked in red (:mod:`voiceguide.bodymap.raster`, the same drawing the guide shows), beside the list
of points; otherwise the list runs the full width. The word "voiceguide" sits at the foot.

Text is drawn with Pillow in DejaVu Sans when the system has it (it covers accented pinyin and most
scripts) and otherwise in Pillow's bundled font, with letters that font lacks replaced by their
unaccented forms rather than drawn as empty boxes. The PNG is reduced to a small palette: a few
flat colours compress to a few tens of kilobytes, well under the 200 KB that players and podcast
catalogues accept. The same title, points and drawing give the same bytes on a machine, and the
picture is made once per process for them (painting the drawing costs tens of milliseconds).
"""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

    from voiceguide.bodymap import Marked
    from voiceguide.timeline.model import Timeline

    Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

SIZE = 600  # pixels per side: sharp on a phone's lock screen, small as PNG
MAX_BYTES = 200_000
BACKGROUND = (28, 61, 66)
TITLE_COLOUR = (246, 241, 229)
POINT_COLOUR = (186, 214, 203)
ACCENT = (222, 170, 104)
MARGIN = 48
MAX_POINTS = 8
PALETTE = 64  # colours in the PNG
PANEL = (246, 241, 229)  # the drawing's light panel: the title's colour, so the two belong together
DRAWN_DOT = (200, 16, 46)  # the red of the points marked on the drawing, beside their names
FONTS = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf")  # title, the rest; found in the system's font dirs
_ASCII_FALLBACK = {"—": "-", "–": "-", "×": "x", "·": "-", "…": "...", "‘": "'", "’": "'", "“": '"', "”": '"'}


def timeline_cover(timeline: Timeline) -> bytes:
    """A session's cover: its title, its points in the order they are pressed, and the body-map
    view that shows most of them with those points marked."""
    from voiceguide.bodymap import Marked, busiest_view
    from voiceguide.exporter.chapters import tag_text
    from voiceguide.routine.landmarks import load_positions

    seen: dict[str, str] = {}
    marks: list[Marked] = []
    for span in timeline.spans:
        p = span.point
        if p is not None and p.code not in seen:
            names = " · ".join(n for n in (p.pinyin, p.name) if n)
            seen[p.code] = tag_text(f"{p.code} {names}".strip())
            drawn = p.drawn_at or load_positions().get(p.code, ())
            marks.extend(Marked(p.code, seen[p.code], at, p.bilateral) for at in drawn)
    return cover_png(tag_text(timeline.title), list(seen.values()), drawing=busiest_view(marks))


Drawing = tuple[str, tuple["Marked", ...]]  # a view id and the points marked on it


def cover_png(
    title: str, points: Sequence[str] = (), size: int = SIZE, drawing: Drawing | None = None
) -> bytes:
    """The cover as PNG bytes: ``title`` wrapped to fit, then up to eight ``points`` lines, beside
    ``drawing`` (a view and its marked points) when given. A point whose text is the label of a
    mark on the drawing gets a red dot before its name."""
    key = (title, tuple(points), size, drawing)
    return _remembered(key)


@functools.lru_cache(maxsize=8)
def _remembered(key: tuple[str, tuple[str, ...], int, Drawing | None]) -> bytes:
    """The cover from the cache folder, or drawn and kept there: painting the body map, then
    reducing and compressing the picture, takes 30-120 ms (see benchmarks/cover.py), more than
    everything else an export does before ffmpeg starts. A damaged entry is redrawn; a cache
    that cannot be written only costs that time again."""
    import contextlib
    import hashlib

    from voiceguide.fileio import atomic_write_bytes
    from voiceguide.speech.cache import cache_dir

    path = cache_dir() / COVERS / f"{hashlib.sha256(repr((_code_digest(), key)).encode()).hexdigest()}.png"
    with contextlib.suppress(OSError):
        data = path.read_bytes()
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(_PNG_END):
            return data
    data = _cover_png(*key)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    return data


COVERS = "covers"  # beside the speech clips; `voiceguide cache clear` removes both
_PNG_END = b"IEND\xaeB`\x82"


@functools.cache
def _code_digest() -> str:
    """What makes a kept cover stale: this module, the drawings' code, and Pillow's version."""
    import hashlib
    from importlib import resources

    from PIL import __version__ as pillow

    digest = hashlib.sha256(pillow.encode())
    digest.update(resources.files("voiceguide.exporter").joinpath("cover.py").read_bytes())
    for name in ("figures.py", "raster.py", "shapes.py"):
        digest.update(resources.files("voiceguide.bodymap").joinpath(name).read_bytes())
    digest.update(resources.files("voiceguide.routine").joinpath("landmarks.py").read_bytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=8)
def _cover_png(title: str, points: tuple[str, ...], size: int, drawing: Drawing | None) -> bytes:
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
    title_room = round((170 if drawing else 250) * scale)
    title_font, lines = _fit_title(draw, title.strip() or "Session", width, round(56 * scale), title_room)
    for line in lines:
        draw.text((margin, y), line, font=title_font, fill=TITLE_COLOUR)
        y += _line_height(title_font)
    y += round(16 * scale)
    draw.rectangle((margin, y, margin + round(80 * scale), y + max(2, round(4 * scale))), fill=ACCENT)
    y += round(28 * scale)

    bottom = footer_top - round(20 * scale)
    marked: set[str] = set()
    if drawing is not None:
        panel = _paint_panel(image, drawing, right=size - margin, top=y, bottom=bottom, scale=scale)
        width = panel - margin - round(20 * scale)
        marked = {m.label for m in drawing[1]}
    point_font = _font(FONTS[1], round((20 if drawing else 24) * scale))
    step = _line_height(point_font)
    room = max(0, (bottom - y) // step)
    shown = [str(p) for p in points[: min(MAX_POINTS, room)]]
    if len(points) > len(shown) and shown:
        shown[-1] = f"and {len(points) - len(shown) + 1} more"
    bullet = round(5 * scale) if marked else 0
    indent = 3 * bullet
    for text in shown:
        if text in marked:
            mid = y + step // 2 - round(2 * scale)
            draw.ellipse((margin, mid - bullet, margin + 2 * bullet, mid + bullet), fill=DRAWN_DOT)
        draw.text(
            (margin + indent, y),
            _fit_entry(draw, _drawable(text, point_font), point_font, width - indent),
            font=point_font,
            fill=POINT_COLOUR,
        )
        y += step

    out = io.BytesIO()
    _reduce(image).save(out, format="PNG", optimize=True)
    data = out.getvalue()
    if len(data) > MAX_BYTES and size > 300:  # cannot happen with flat colours; never ship it
        return _cover_png(title, points, size // 2, drawing)
    return data


def _paint_panel(
    image: Image.Image, drawing: Drawing, *, right: int, top: int, bottom: int, scale: float
) -> int:
    """The drawing on a light rounded panel at the right, from ``top`` to ``bottom``; returns the
    panel's left edge, where the list beside it must stop."""
    from PIL import ImageDraw

    from voiceguide.bodymap.raster import paint_view

    pad = round(12 * scale)
    view, marks = drawing
    picture = paint_view(view, marks, max(1, bottom - top - 2 * pad), background=PANEL)
    if picture.width > round(300 * scale):  # a wide view: keep room for the list
        width = round(300 * scale)
        picture = paint_view(view, marks, max(1, picture.height * width // picture.width), background=PANEL)
    left = right - picture.width - 2 * pad
    middle = top + (bottom - top - picture.height - 2 * pad) // 2
    ImageDraw.Draw(image).rounded_rectangle(
        (left, middle, right, middle + picture.height + 2 * pad), radius=round(18 * scale), fill=PANEL
    )
    image.paste(picture, (left + pad, middle + pad))
    return left


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


def _fit_entry(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> str:
    """A point's line: "BL23 Shenshu · Kidney Shu" whole if it fits, else without the English
    name after the last " · " (the code and pinyin are what a listener hears), else cut short."""
    if draw.textlength(text, font=font) > width and " · " in text:
        head = text.rsplit(" · ", 1)[0]
        if draw.textlength(head, font=font) <= width:
            return head
    return _ellipsize(draw, text, font, width)


def _ellipsize(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _reduce(image: Image.Image) -> Image.Image:
    """A small palette: the flat colours and the drawing's soft edges, at a fraction of the size."""
    from PIL import Image

    return image.quantize(colors=PALETTE, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
