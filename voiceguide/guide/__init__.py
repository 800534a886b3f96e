"""Pictures of where the points are: body-map drawings and the printable session guide."""

from __future__ import annotations

from .bodymap import VIEWS, Marked, Position, PositionError, load_positions, render_view, resolve_position
from .html import build_guide, guide_html

__all__ = [
    "VIEWS",
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
    from ..routine.catalogue import load_catalogue

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
