"""The few shapes the body maps are made of, as plain data that both renderers read.

A drawing is a list of :class:`Curve`, :class:`Oval` and :class:`Label`: the guide writes them as
SVG (:mod:`.svg`), the exported cover paints them with Pillow (:mod:`.raster`). Keeping the
geometry as data, not as SVG text, is what lets the two pictures be the same drawing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from voiceguide.routine.landmarks import Position

Pt = tuple[float, float]
# One piece of a curve: a straight line to a point, or a cubic Bézier (two controls, then the end).
Segment = tuple[Pt] | tuple[Pt, Pt, Pt]

SKIN = "#fbe3cf"
LINE = "#1f1f1f"
GUIDE = "#6b6b6b"
MARK = "#c8102e"
LABEL = "#2b2b2b"
HAIR = "#cdb497"


@dataclass(frozen=True)
class Style:
    fill: str | None = None
    stroke: str = LINE
    width: float = 2.0
    dash: tuple[float, ...] = ()


BODY = Style(fill=SKIN, width=2.2)
FINE = Style(width=1.3)
DASHED = Style(stroke=GUIDE, width=1.2, dash=(4, 3))


@dataclass(frozen=True)
class Curve:
    """A path from ``start`` through ``segments``; ``closed`` joins the end back to the start."""

    start: Pt
    segments: tuple[Segment, ...]
    style: Style
    closed: bool = False


@dataclass(frozen=True)
class Oval:
    cx: float
    cy: float
    rx: float
    ry: float
    style: Style


@dataclass(frozen=True)
class Label:
    """A word on the drawing; ``key`` names it in the drawing words, so a guide can translate it."""

    x: float
    y: float
    key: str
    anchor: str = "middle"  # start | middle | end
    size: float = 11


Shape = Curve | Oval | Label
Figure = Callable[[Sequence[Pt]], list[Pt]]  # as drawn, or mirrored to the body's other side


def smooth(points: Sequence[Pt], style: Style = FINE, *, closed: bool = False, join: bool = False) -> Curve:
    """A smooth curve through ``points`` (Catmull-Rom turned into cubic Béziers).

    ``closed`` runs the curve on round to its start; ``join`` closes an open curve with a straight
    line instead (a figure's outline cut off by the edge of the picture).
    """
    pts = list(points)
    n = len(pts)
    segments: list[Segment] = []
    last = n if closed else n - 1
    for i in range(last):
        p0 = pts[(i - 1) % n] if (closed or i > 0) else pts[i]
        p1 = pts[i]
        p2 = pts[(i + 1) % n]
        p3 = pts[(i + 2) % n] if (closed or i + 2 < n) else p2
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        segments.append((c1, c2, p2))
    return Curve(pts[0], tuple(segments), style, closed or join)


def line(a: Pt, b: Pt, style: Style = DASHED) -> Curve:
    return Curve(a, ((b,),), style)


def arc(a: Pt, control: Pt, b: Pt, style: Style = FINE) -> Curve:
    """A quadratic curve from ``a`` to ``b`` bending toward ``control``, as a cubic."""
    c1 = (a[0] + 2 / 3 * (control[0] - a[0]), a[1] + 2 / 3 * (control[1] - a[1]))
    c2 = (b[0] + 2 / 3 * (control[0] - b[0]), b[1] + 2 / 3 * (control[1] - b[1]))
    return Curve(a, ((c1, c2, b),), style)


def oval(cx: float, cy: float, rx: float, ry: float, *, fill: str | None = None, width: float = 1.3) -> Oval:
    return Oval(cx, cy, rx, ry, Style(fill=fill, width=width))


def mirror(points: Sequence[Pt], width: float) -> list[Pt]:
    return [(width - x, y) for x, y in points]


def symmetric(left_half: Sequence[Pt], width: float) -> list[Pt]:
    """A closed outline from its left half, drawn top-centre → bottom-centre."""
    right = mirror(left_half, width)[::-1]
    return [*left_half, *right[1:-1]]


def both(draw: Callable[[Figure], list[Shape]], width: float) -> list[Shape]:
    """Draw a figure once as given and once mirrored (the body's other side)."""
    return [*draw(list), *draw(lambda pts: mirror(pts, width))]


def flatten(curve: Curve, steps: int = 12) -> list[Pt]:
    """The curve as a polyline, ``steps`` straight pieces per Bézier (for painting with Pillow)."""
    out = [curve.start]
    for seg in curve.segments:
        if len(seg) == 1:
            out.append(seg[0])
            continue
        p0 = out[-1]
        c1, c2, p3 = seg
        for i in range(1, steps + 1):
            t = i / steps
            u = 1 - t
            out.append((
                u * u * u * p0[0] + 3 * u * u * t * c1[0] + 3 * u * t * t * c2[0] + t * t * t * p3[0],
                u * u * u * p0[1] + 3 * u * u * t * c1[1] + 3 * u * t * t * c2[1] + t * t * t * p3[1],
            ))  # fmt: skip
    if curve.closed and out[-1] != curve.start:
        out.append(curve.start)
    return out


@dataclass(frozen=True)
class Marked:
    """A point to mark: its code, what to call it, where, and whether it has two sides."""

    code: str
    label: str
    position: Position
    bilateral: bool = True


def marker_radius(frame_width: float) -> float:
    """The red dot's radius in frame units: the same size on every view as printed."""
    return max(4.5, frame_width / 48)


def slug(code: str) -> str:
    """An id-safe form of a point code (codes in user routines are not trusted)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", code).strip("-") or "point"


def mark_id(code: str, prefix: str = "") -> str:
    return f"{prefix}point-{slug(code)}"
