"""A body-map view painted with Pillow: the same shapes as the SVG, for the exported cover art.

No SVG rasteriser and no browser at export time: the curves are flattened to polylines and
painted at three times the size, then scaled down, which gives smooth anti-aliased edges. Labels
are left out (a cover is looked at, not read, and its words would not follow the session's
language). The output depends only on its inputs, so a re-export gives the same pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

from voiceguide.routine.landmarks import FRAMES

from .figures import DRAWINGS
from .shapes import LINE, MARK, Curve, Marked, Oval, Pt, Style, flatten, marker_radius

if TYPE_CHECKING:
    from PIL import Image, ImageDraw

SUPERSAMPLE = 3


def _rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _dashes(points: Sequence[Pt], pattern: Sequence[float]) -> list[list[Pt]]:
    """The drawn pieces of a dashed polyline (``pattern`` alternates on and off lengths)."""
    pieces: list[list[Pt]] = []
    index, left, on = 0, pattern[0], True
    current: list[Pt] = [points[0]]
    for a, b in pairwise(points):
        length = math.dist(a, b)
        done = 0.0
        while length - done > left:
            done += left
            t = done / length
            p = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
            if on:
                current.append(p)
                pieces.append(current)
            current = [p]
            on = not on
            index = (index + 1) % len(pattern)
            left = pattern[index]
        left -= length - done
        if on:
            current.append(b)
        else:
            current = [b]
    if on and len(current) > 1:
        pieces.append(current)
    return pieces


def _stroke(draw: ImageDraw.ImageDraw, pts: Sequence[Pt], style: Style, k: float) -> None:
    width = max(1, round(style.width * k))
    colour = _rgb(style.stroke)
    pieces = _dashes(pts, [d * k for d in style.dash]) if style.dash else [list(pts)]
    r = width / 2
    for piece in pieces:
        draw.line(piece, fill=colour, width=width, joint="curve")
        for x, y in (piece[0], piece[-1]):  # round caps
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)


def paint_view(
    view_id: str,
    points: Sequence[Marked],
    height: int,
    *,
    dot_scale: float = 1.35,
    background: tuple[int, int, int] = (255, 255, 255),
) -> Image.Image:
    """The view ``height`` pixels high (width to scale) on ``background``, ``points`` in red.

    ``dot_scale`` enlarges the marks over the printed size: on a small cover they must still read.
    """
    from PIL import Image, ImageDraw

    frame = FRAMES[view_id]
    scale = height / frame.height
    k = scale * SUPERSAMPLE
    size = (round(frame.width * k), round(frame.height * k))
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)

    def at(p: Pt) -> Pt:
        return (p[0] * k, p[1] * k)

    for shape in DRAWINGS[view_id]():
        if isinstance(shape, Curve):
            pts = [at(p) for p in flatten(shape)]
            if shape.style.fill:
                draw.polygon(pts, fill=_rgb(shape.style.fill))
            _stroke(draw, pts, shape.style, k)
        elif isinstance(shape, Oval):
            box = (
                (shape.cx - shape.rx) * k,
                (shape.cy - shape.ry) * k,
                (shape.cx + shape.rx) * k,
                (shape.cy + shape.ry) * k,
            )
            fill = _rgb(shape.style.fill) if shape.style.fill else None
            draw.ellipse(
                box, fill=fill, outline=_rgb(shape.style.stroke), width=max(1, round(shape.style.width * k))
            )
    r = marker_radius(frame.width) * dot_scale
    for p in points:
        if p.position.view != view_id:
            continue
        xs = [p.position.x]
        if p.bilateral and abs(frame.width - 2 * p.position.x) > r:
            xs.append(frame.width - p.position.x)
        for x in xs:
            cx, cy = at((x, p.position.y))
            ring, dot = (r + 3) * k, r * k
            ring_box = (cx - ring, cy - ring, cx + ring, cy + ring)
            draw.ellipse(ring_box, fill=(255, 255, 255), outline=_rgb(LINE), width=max(1, round(1.5 * k)))
            draw.ellipse((cx - dot, cy - dot, cx + dot, cy + dot), fill=_rgb(MARK))
    out = (round(frame.width * scale), height)
    return image.resize(out, Image.Resampling.LANCZOS)
