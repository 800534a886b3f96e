"""A body-map view as SVG text, with points marked: what the guide and ``points --svg`` show.

Pure: shapes in, text out. Every text (labels, a user point's name) is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from voiceguide.routine.landmarks import FRAMES

from .figures import DRAWINGS, WORDS
from .shapes import LABEL, LINE, MARK, Curve, Label, Marked, Oval, Shape, Style, mark_id, marker_radius, slug


def _style(style: Style) -> str:
    dash = f' stroke-dasharray="{" ".join(f"{d:g}" for d in style.dash)}"' if style.dash else ""
    return (
        f'fill="{style.fill or "none"}" stroke="{style.stroke}" stroke-width="{style.width:g}"'
        f' stroke-linecap="round" stroke-linejoin="round"{dash}'
    )


def _d(curve: Curve) -> str:
    out = [f"M{curve.start[0]:.1f},{curve.start[1]:.1f}"]
    for seg in curve.segments:
        if len(seg) == 1:
            out.append(f"L{seg[0][0]:.1f},{seg[0][1]:.1f}")
        else:
            out.append("C" + " ".join(f"{x:.1f},{y:.1f}" for x, y in seg))
    if curve.closed:
        out.append("Z")
    return " ".join(out)


def text(x: float, y: float, words: str, *, anchor: str = "middle", size: float = 11) -> str:
    """One or more lines of ``words`` (split at newlines), the first on the baseline ``y``, with a
    white halo so a label stays readable where it crosses an outline."""
    lines = words.split("\n")
    head = (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size:g}" fill="{LABEL}" '
        'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke">'
    )
    if len(lines) == 1:
        return head + escape(words) + "</text>"
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if i == 0 else size * 1.2:g}">{escape(t)}</tspan>'
        for i, t in enumerate(lines)
    )
    return head + spans + "</text>"


def shape_svg(shape: Shape, words: Mapping[str, str]) -> str:
    if isinstance(shape, Curve):
        return f'<path d="{_d(shape)}" {_style(shape.style)}/>'
    if isinstance(shape, Oval):
        return (
            f'<ellipse cx="{shape.cx:.1f}" cy="{shape.cy:.1f}" rx="{shape.rx:.1f}" ry="{shape.ry:.1f}" '
            f"{_style(shape.style)}/>"
        )
    assert isinstance(shape, Label)
    return text(
        shape.x, shape.y, words.get(shape.key, WORDS[shape.key]), anchor=shape.anchor, size=shape.size
    )


def _marker(x: float, y: float, r: float, ident: str) -> str:
    return (
        f'<g id="{ident}"><circle cx="{x:.1f}" cy="{y:.1f}" r="{r + 3:.1f}" fill="#ffffff" '
        f'stroke="{LINE}" stroke-width="1.5"/>'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{MARK}"/></g>'
    )


def render_view(
    view_id: str,
    points: Sequence[Marked] = (),
    *,
    id_prefix: str = "",
    title: str | None = None,
    words: Mapping[str, str] | None = None,
) -> str:
    """The SVG text of one view with ``points`` marked (a bilateral point on both figures).

    ``id_prefix`` keeps ids unique when one page holds several drawings; ``words`` translates the
    labels and the text alternative (English where a word is missing). All text is escaped.
    """
    frame = FRAMES[view_id]
    w = {**WORDS, **(words or {})}
    marked = [p for p in points if p.position.view == view_id]
    view_title = w[f"view_{view_id}"]
    if title is None:
        names = "; ".join(p.label for p in marked)
        title = w["marking"].format(view=view_title, points=names) if names else view_title
    r = marker_radius(frame.width)
    body = "\n".join(shape_svg(s, w) for s in DRAWINGS[view_id]())
    marks = []
    for p in marked:
        x, y = p.position.x, p.position.y
        ident = mark_id(p.code, id_prefix)
        mirrored = frame.width - x
        two = p.bilateral and abs(mirrored - x) > r
        where = w["on_both_sides"].format(point=p.label) if two else p.label
        inner = [_marker(x, y, r, f"{ident}-{'a' if two else 'only'}")]
        if two:
            inner.append(_marker(mirrored, y, r, f"{ident}-b"))
        marks.append(
            f'<g id="{ident}" class="point" data-point="{escape(slug(p.code))}" role="img" '
            f'aria-label="{escape(where)}"><title>{escape(where)}</title>{"".join(inner)}</g>'
        )
    left, right = (w[s] for s in frame.sides)
    pad = 18
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bodymap" data-view="{frame.id}" '
        f'viewBox="0 {-pad} {frame.width:g} {frame.height + pad:g}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>\n'
        f'<rect x="0" y="{-pad}" width="{frame.width:g}" height="{frame.height + pad:g}" fill="#ffffff"/>\n'
        f"{body}\n"
        f"{text(4, -5, left, anchor='start', size=10)}"
        f"{text(frame.width - 4, -5, right, anchor='end', size=10)}\n" + "\n".join(marks) + "\n</svg>\n"
    )
