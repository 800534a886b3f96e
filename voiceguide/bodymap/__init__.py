"""Body-map drawings: the shapes of each view (:mod:`.figures`), written as SVG (:mod:`.svg`) for
the guide and ``points --svg``, or painted with Pillow (:mod:`.raster`) for the exported cover.

A stage of its own below the guide and the exporter, which both draw with it; the views' frames
and landmarks are lower still, in :mod:`voiceguide.routine.landmarks`, where ``check`` needs them.
"""

from __future__ import annotations

from collections.abc import Sequence

from .figures import WORDS
from .shapes import Marked, mark_id, slug
from .svg import render_view

__all__ = ["WORDS", "Marked", "busiest_view", "mark_id", "render_view", "slug"]


def busiest_view(marks: Sequence[Marked]) -> tuple[str, tuple[Marked, ...]] | None:
    """The view that shows the most of these points (the first such view on a tie), and the
    marks on it, one per point: what a single picture of a whole routine should show."""
    views: dict[str, dict[str, Marked]] = {}
    for m in marks:
        views.setdefault(m.position.view, {}).setdefault(m.code, m)
    if not views:
        return None
    best = max(views, key=lambda v: len(views[v]))  # max keeps the first of equals
    return best, tuple(views[best].values())
