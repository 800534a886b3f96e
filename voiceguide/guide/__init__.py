"""The printable session guide: one HTML page with a picture of every point (:mod:`.html`).

The drawings are :mod:`voiceguide.bodymap`'s; the views' frames and the point positions are
:mod:`voiceguide.routine.landmarks`'.
"""

from __future__ import annotations

from voiceguide.bodymap import Marked, render_view
from voiceguide.routine.landmarks import FRAMES, Position, PositionError, load_positions, resolve_position

from .html import build_guide, guide_html

__all__ = [
    "FRAMES",
    "Marked",
    "Position",
    "PositionError",
    "build_guide",
    "guide_html",
    "load_positions",
    "point_svg",
    "render_view",
    "resolve_position",
]


def point_svg(code: str) -> str | None:
    """The diagram of one catalogue point (code, alias or name), or None if it has no position."""
    from voiceguide.routine.catalogue import load_catalogue

    point = load_catalogue().resolve(code)
    if point is None:
        return None
    positions = load_positions().get(point.code)
    if not positions:
        return None
    label = f"{point.name} ({point.code})"
    return render_view(
        positions[0].view, [Marked(point.code, label, positions[0], point.sides == "bilateral")]
    )
