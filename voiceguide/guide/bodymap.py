"""Body-map line drawings, drawn by code, with acupressure points marked on them.

A beginner finds a point faster after one look at a picture. Each view is a calm outline built
from a few smooth curves, in its own coordinate frame, with named landmarks (spine, waistline,
knee crease…) that point positions are measured from. A view draws one figure on the left of the
picture and its mirror image on the right, so a bilateral point is marked on both sides.

Everything here is pure: plain data in, SVG text out, no file or network access.

Long on purpose: it is drawing data (ten views, each a few paths and its landmarks) more than
logic, and each view reads best next to the others it must match in style.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from importlib import resources
from typing import Any

from ..routine.source import parse

Pt = tuple[float, float]

SKIN = "#fbe3cf"
LINE = "#1f1f1f"
GUIDE = "#6b6b6b"
MARK = "#c8102e"
LABEL = "#2b2b2b"
HAIR = "#cdb497"


# ---- geometry helpers ------------------------------------------------------------------------


def smooth(points: Sequence[Pt], *, closed: bool = False) -> str:
    """A smooth path through ``points`` (Catmull-Rom turned into cubic Béziers)."""
    pts = list(points)
    if len(pts) < 2:
        return ""
    out = [f"M{pts[0][0]:.1f},{pts[0][1]:.1f}"]
    n = len(pts)
    last = n if closed else n - 1
    for i in range(last):
        p0 = pts[(i - 1) % n] if (closed or i > 0) else pts[i]
        p1 = pts[i]
        p2 = pts[(i + 1) % n]
        p3 = pts[(i + 2) % n] if (closed or i + 2 < n) else p2
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        out.append(f"C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {p2[0]:.1f},{p2[1]:.1f}")
    if closed:
        out.append("Z")
    return " ".join(out)


def mirror(points: Sequence[Pt], width: float) -> list[Pt]:
    return [(width - x, y) for x, y in points]


def symmetric(left_half: Sequence[Pt], width: float) -> list[Pt]:
    """A closed outline from its left half, drawn top-centre → bottom-centre."""
    right = mirror(left_half, width)[::-1]
    return [*left_half, *right[1:-1]]


def _path(d: str, *, fill: str = "none", stroke: str = LINE, width: float = 2.0, dash: str = "") -> str:
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<path d="{d}" fill="{fill}" stroke="{stroke}" stroke-width="{width}" '
        f'stroke-linecap="round" stroke-linejoin="round"{extra}/>'
    )


def _body(d: str) -> str:
    return _path(d, fill=SKIN, stroke=LINE, width=2.2)


def _fine(d: str) -> str:
    return _path(d, stroke=LINE, width=1.3)


def _guide(d: str) -> str:
    return _path(d, stroke=GUIDE, width=1.2, dash="4 3")


def _line(a: Pt, b: Pt, *, guide: bool = True) -> str:
    d = f"M{a[0]:.1f},{a[1]:.1f} L{b[0]:.1f},{b[1]:.1f}"
    return _guide(d) if guide else _fine(d)


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: float = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{LABEL}">{escape(text)}</text>'
    )


def _ellipse(cx: float, cy: float, rx: float, ry: float, *, fill: str = "none", width: float = 1.3) -> str:
    return (
        f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{rx:.1f}" ry="{ry:.1f}" fill="{fill}" '
        f'stroke="{LINE}" stroke-width="{width}"/>'
    )


def _both(draw: Callable[[Callable[[Sequence[Pt]], list[Pt]]], list[str]], width: float) -> list[str]:
    """Draw a figure once as given and once mirrored (the body's other side)."""
    return [*draw(list), *draw(lambda pts: mirror(pts, width))]


# ---- views -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """One drawing: its frame, scale, landmarks (left figure's coordinates) and side names."""

    id: str
    title: str
    width: float
    height: float
    cun: float  # frame units per cun (about one thumb-width)
    landmarks: Mapping[str, Pt]
    sides: tuple[str, str]  # what the left and the right figure are, as a viewer sees them
    draw: Callable[[], list[str]] = field(repr=False, compare=False)

    @property
    def centre(self) -> float:
        return self.width / 2


def _draw_back() -> list[str]:
    w = 240.0
    half = [
        (120, 0), (48, 0), (44, 40), (50, 80), (54, 108), (48, 135), (36, 165), (30, 200),
        (31, 240), (36, 280), (40, 300), (108, 300), (115, 274), (120, 264),
    ]  # fmt: skip
    parts = [_body(smooth(symmetric(half, w), closed=False) + " Z")]
    # Arms hanging at the sides, elbows near the waist.
    parts += _both(
        lambda f: [
            _body(
                smooth(f([(40, 0), (28, 0), (16, 60), (12, 110), (18, 150), (28, 150), (34, 112), (42, 60)]))
            )
        ],
        w,
    )
    # Spine: the bumps of the vertebrae down to the sacrum.
    for i, y in enumerate(range(10, 170, 19)):
        parts.append(_ellipse(120, y, 4.5 if i < 8 else 4, 3.2, width=1.1))
    # Sacrum (the flat bone at the base of the spine) and the cleft of the buttocks.
    parts.append(_fine(smooth([(102, 180), (108, 210), (120, 240), (132, 210), (138, 180)])))
    parts.append(_fine("M102,180 Q120,174 138,180"))
    parts.append(_fine("M120,240 L120,262"))
    # Gluteal folds.
    parts += _both(lambda f: [_fine(smooth(f([(117, 262), (95, 268), (70, 266), (52, 258)])))], w)
    # Iliac crests (tops of the hip bones), arching out from the sacrum.
    parts += _both(lambda f: [_guide(smooth(f([(103, 182), (80, 158), (58, 150), (40, 160)])))], w)
    # Waistline and the level of the hip-bone tops.
    parts.append(_line((54, 110), (186, 110)))
    parts.append(_text(150, 106, "waist", anchor="start", size=10))
    parts.append(_line((40, 150), (200, 150)))
    parts.append(_text(150, 146, "hip-bone tops", anchor="start", size=10))
    return parts


def _draw_front() -> list[str]:
    w = 240.0
    half = [
        (120, 0), (50, 0), (48, 40), (54, 90), (56, 118), (48, 150), (38, 185), (36, 225), (40, 262),
        (44, 300), (104, 300), (113, 262), (120, 250),
    ]  # fmt: skip
    parts = [_body(smooth(symmetric(half, w)) + " Z")]
    parts += _both(
        lambda f: [
            _body(
                smooth(f([(50, 0), (36, 0), (22, 60), (16, 112), (22, 150), (32, 150), (40, 112), (50, 60)]))
            )
        ],
        w,
    )
    # Lower edge of the rib cage, meeting at the breastbone.
    parts += _both(lambda f: [_fine(smooth(f([(120, 30), (100, 48), (78, 64), (56, 72)])))], w)
    # Navel.
    parts.append(_ellipse(120, 130, 4.5, 5.5, width=1.6))
    parts.append(_text(132, 128, "navel", anchor="start", size=10))
    # Centre line of the belly, down to the pubic bone.
    parts.append(_guide("M120,52 L120,122 M120,138 L120,200"))
    # Front points of the hip bones and the creases of the groin.
    parts += _both(lambda f: [_fine(smooth(f([(60, 168), (84, 205), (112, 232)])))], w)
    parts += _both(lambda f: [_ellipse(f([(62, 164)])[0][0], 164, 3.5, 3.5, width=1.2)], w)
    return parts


def _draw_leg_back() -> list[str]:
    w = 240.0

    def leg(f: Callable[[Sequence[Pt]], list[Pt]]) -> list[str]:
        outline = [
            (40, 0), (44, 60), (47, 110), (44, 150), (46, 190), (56, 250), (60, 285), (58, 300),
            (100, 300), (96, 270), (100, 235), (106, 180), (104, 135), (102, 110), (106, 60), (110, 0),
        ]  # fmt: skip
        return [
            _body(smooth(f(outline))),
            # Knee crease, and the two cords of tendon above it.
            _fine(smooth(f([(52, 120), (62, 123), (75, 124), (88, 123), (98, 120)]))),
            _fine(smooth(f([(56, 60), (56, 92), (58, 114)]))),
            _fine(smooth(f([(95, 60), (94, 92), (92, 114)]))),
            # Calf muscles and the heel cord.
            _fine(smooth(f([(60, 140), (62, 180), (72, 214)]))),
            _fine(smooth(f([(90, 140), (88, 180), (78, 214)]))),
            _fine(smooth(f([(72, 214), (75, 260), (78, 296)]))),
        ]

    parts = _both(leg, w)
    parts.append(_text(120, 128, "knee", size=10))
    parts.append(_text(120, 140, "crease", size=10))
    return parts


def _draw_leg_front() -> list[str]:
    w = 240.0

    def leg(f: Callable[[Sequence[Pt]], list[Pt]]) -> list[str]:
        outline = [
            (44, 0), (44, 40), (50, 70), (46, 110), (50, 160), (58, 210), (60, 240), (54, 262),
            (48, 290), (56, 300), (108, 300), (110, 282), (104, 262), (101, 248), (107, 237), (100, 224),
            (96, 200), (100, 150), (104, 100), (102, 70), (106, 40), (106, 0),
        ]  # fmt: skip
        return [
            _body(smooth(f(outline))),
            # Knee cap.
            _ellipse(f([(76, 40)])[0][0], 40, 15, 18, width=1.4),
            # Front edge of the shin bone.
            _fine(smooth(f([(82, 66), (84, 140), (86, 210), (90, 236)]))),
            # The bony bump of the inner ankle (inner side faces the other leg).
            _fine(smooth(f([(100, 228), (96, 237), (101, 246)]))),
            # Toes, the big toe on the inner side.
            *(
                _ellipse(f([(cx, cy)])[0][0], cy, rx, rx, fill=SKIN, width=1.4)
                for cx, cy, rx in (
                    (58, 291, 4),
                    (67, 293, 4.5),
                    (77, 294, 5),
                    (88, 294, 5.5),
                    (100, 292, 7.5),
                )
            ),
        ]

    parts = _both(leg, w)
    parts.append(_text(120, 236, "inner", size=10))
    parts.append(_text(120, 248, "ankles", size=10))
    parts.append(_text(120, 60, "knees", size=10))
    return parts


def _draw_hand_back() -> list[str]:
    w = 280.0

    def hand(f: Callable[[Sequence[Pt]], list[Pt]]) -> list[str]:
        # Fingers first, palm drawn over their bases; the thumb toward the picture's centre.
        parts = []
        fingers = [(42, 70, 11), (60, 48, 12), (80, 44, 12), (99, 58, 11)]  # little → index
        for cx, top, r in fingers:
            d = f([(cx - r, 160), (cx - r, top + r), (cx, top), (cx + r, top + r), (cx + r, 160)])
            parts.append(_body(smooth(d)))
        palm = [(30, 150), (29, 200), (36, 250), (44, 300), (100, 300), (104, 252), (112, 228),
                (111, 190), (110, 150), (70, 146)]  # fmt: skip
        parts.append(_body(smooth(f(palm), closed=True)))
        thumb = [(104, 252), (122, 222), (136, 196), (144, 178), (136, 170), (124, 184), (111, 200)]
        parts.append(_body(smooth(f(thumb))))
        # Knuckles.
        for cx, _top, _r in fingers:
            parts.append(_fine(smooth(f([(cx - 6, 160), (cx, 157), (cx + 6, 160)]))))
        # Finger bones (metacarpals) on the back of the hand, faint.
        for cx, _top, _r in fingers:
            parts.append(_guide(smooth(f([(cx, 166), (cx + (68 - cx) * 0.35, 240)]))))
        parts.append(_line(f([(42, 262)])[0], f([(102, 262)])[0]))
        return parts

    parts = _both(hand, w)
    parts.append(_text(140, 268, "wrists", size=10))
    return parts


def _draw_forearm_outer() -> list[str]:
    w = 320.0

    def arm(f: Callable[[Sequence[Pt]], list[Pt]]) -> list[str]:
        # Upper arm down to a bent elbow, forearm toward the centre, a loose fist with thumb on top.
        outline = [
            (14, 0), (12, 70), (10, 130), (18, 168), (40, 180), (80, 174), (118, 168), (128, 168),
            (128, 122), (116, 122), (84, 126), (60, 130), (56, 112), (60, 60), (62, 0),
        ]  # fmt: skip
        fist = [(124, 118), (146, 114), (154, 132), (152, 168), (136, 176), (124, 170)]
        thumb = [(126, 120), (138, 104), (152, 106), (148, 118)]
        return [
            _body(smooth(f(outline))),
            _body(smooth(f(fist), closed=True)),
            _body(smooth(f(thumb))),
            # Elbow crease at the inside of the bend.
            _fine(smooth(f([(56, 126), (62, 134), (64, 144)]))),
            # Folded fingers.
            _fine(smooth(f([(136, 140), (152, 138)]))),
            _fine(smooth(f([(136, 156), (152, 154)]))),
            # The wrist.
            _line(f([(122, 122)])[0], f([(122, 168)])[0]),
        ]

    parts = _both(arm, w)
    parts.append(_text(160, 200, "elbows bent, thumbs up", size=10))
    return parts


def _draw_forearm_inner() -> list[str]:
    w = 280.0

    def arm(f: Callable[[Sequence[Pt]], list[Pt]]) -> list[str]:
        # Palm up, fingers to the top; the thumb points away from the centre.
        parts = []
        fingers = [(38, 40, 10), (56, 22, 11), (76, 20, 11), (94, 34, 10)]  # index → little
        for cx, top, r in fingers:
            d = f([(cx - r, 110), (cx - r, top + r), (cx, top), (cx + r, top + r), (cx + r, 110)])
            parts.append(_body(smooth(d)))
        hand = [(28, 100), (26, 130), (40, 156), (48, 170), (98, 170), (106, 140), (104, 100), (66, 96)]
        parts.append(_body(smooth(f(hand), closed=True)))
        thumb = [(32, 150), (18, 124), (10, 100), (18, 94), (28, 110), (38, 128)]
        parts.append(_body(smooth(f(thumb))))
        forearm = [(48, 164), (44, 220), (36, 290), (30, 360), (112, 360), (108, 290), (102, 220), (98, 164)]
        parts.append(_body(smooth(f(forearm))))
        # Wrist crease, the two tendons in the middle, the elbow crease.
        parts.append(_fine(smooth(f([(50, 172), (73, 175), (96, 172)]))))
        parts.append(_guide(smooth(f([(66, 176), (64, 240), (60, 300)]))))
        parts.append(_guide(smooth(f([(80, 176), (82, 240), (84, 300)]))))
        parts.append(_fine(smooth(f([(40, 336), (70, 342), (102, 336)]))))
        return parts

    parts = _both(arm, w)
    parts.append(_text(140, 178, "wrist", size=10))
    parts.append(_text(140, 190, "creases", size=10))
    parts.append(_text(140, 344, "elbows", size=10))
    return parts


def _draw_head_back() -> list[str]:
    w = 300.0
    half = [
        (150, 214),
        (110, 200),
        (60, 214),
        (30, 232),
        (18, 260),
        (14, 300),
        (150, 300),
    ]  # shoulders, left half
    parts = [_body(smooth(symmetric([(150, 300), *half[::-1][1:]], w)) + " Z")]
    parts.append(_body(smooth([(124, 140), (122, 176), (116, 204), (184, 204), (178, 176), (176, 140)])))
    parts += _both(lambda f: [_body(smooth(f([(96, 90), (86, 84), (82, 104), (88, 124), (98, 124)])))], w)
    head = smooth([(150, 18), (200, 32), (208, 90), (196, 140), (150, 162), (104, 140), (92, 90),
                   (100, 32)], closed=True)  # fmt: skip
    parts.append(_path(head, fill=HAIR, stroke=LINE, width=2.2))
    # Base of the skull and the two neck muscles either side of the centre.
    parts.append(_fine(smooth([(112, 144), (130, 152), (150, 156), (170, 152), (188, 144)])))
    parts += _both(lambda f: [_fine(smooth(f([(136, 160), (134, 184), (130, 204)])))], w)
    # Neck to the shoulder tips, and the bump at the base of the neck.
    parts.append(_ellipse(150, 208, 5, 3.5, width=1.2))
    parts.append(_text(150, 290, "back of the head, neck and shoulders", size=9))
    parts.append(_text(150, 236, "base of neck", size=9))
    parts += _both(lambda f: [_ellipse(f([(34, 238)])[0][0], 238, 5, 4, width=1.2)], w)
    return parts


def _draw_face() -> list[str]:
    w = 240.0
    parts = [_body(smooth([(98, 236), (96, 290), (144, 290), (142, 236)]))]  # neck
    parts += _both(lambda f: [_body(smooth(f([(58, 112), (46, 106), (44, 130), (52, 156), (62, 158)])))], w)
    parts.append(_body(smooth([(120, 24), (170, 34), (184, 100), (176, 178), (150, 226), (120, 238),
                               (90, 226), (64, 178), (56, 100), (70, 34)], closed=True)))  # fmt: skip
    # Hair above the forehead: this is the front of the head.
    hair = [(58, 96), (60, 54), (84, 28), (120, 20), (156, 28), (180, 54), (182, 96), (170, 62), (120, 50),
            (70, 62)]  # fmt: skip
    parts.append(_path(smooth(hair, closed=True), fill=HAIR, stroke=LINE, width=1.8))
    # Eyebrows, eyes, nose, mouth.
    parts += _both(lambda f: [_path(smooth(f([(76, 102), (92, 95), (110, 99)])), width=3)], w)
    parts += _both(
        lambda f: [_fine(smooth(f([(80, 118), (94, 112), (108, 118), (94, 123)]), closed=True))], w
    )
    parts.append(_fine(smooth([(114, 104), (112, 140), (106, 158), (120, 164), (134, 158), (128, 140)])))
    parts.append(_fine(smooth([(100, 190), (120, 196), (140, 190)])))
    parts.append(_text(120, 280, "face", size=9))
    return parts


def _draw_foot_sole() -> list[str]:
    w = 240.0

    def foot(f: Callable[[Sequence[Pt]], list[Pt]]) -> list[str]:
        sole = [(70, 20), (102, 30), (108, 90), (100, 160), (98, 230), (84, 284), (60, 290), (44, 262),
                (44, 200), (36, 120), (34, 60), (48, 26)]  # fmt: skip
        parts = [_body(smooth(f(sole), closed=True))]
        for cx, cy, r in [(92, 22, 11), (72, 14, 8), (58, 18, 7), (46, 26, 6), (36, 38, 5)]:
            parts.append(_ellipse(f([(cx, cy)])[0][0], cy, r, r + 2, fill=SKIN, width=1.6))
        parts.append(_fine(smooth(f([(42, 64), (70, 56), (102, 64)]))))
        return parts

    parts = _both(foot, w)
    parts.append(_text(120, 160, "soles", size=10))
    return parts


def _l(**points: Pt) -> dict[str, Pt]:
    return {k.replace("_", "-"): v for k, v in points.items()}


VIEWS: dict[str, View] = {
    v.id: v
    for v in (
        View(
            "back", "Lower back and buttocks, from behind", 240, 300, 11,
            _l(spine_L2=(120, 110), spine_L4=(120, 153), waist=(120, 110), iliac_crest=(58, 150),
               sacrum_S2=(120, 200), sacrum_S4=(120, 222), sacral_base=(120, 238),
               hip_bump=(32, 214), hip_top=(58, 150), buttock_fold=(80, 266)),
            ("left", "right"), _draw_back,
        ),
        View(
            "front", "Belly, from the front", 240, 300, 12,
            _l(navel=(120, 130), pubic_bone=(120, 200), breastbone_tip=(120, 34)),
            ("right", "left"), _draw_front,
        ),
        View(
            "leg-back", "Backs of the knees", 240, 300, 10,
            _l(knee_crease=(75, 124), heel=(78, 296)),
            ("left", "right"), _draw_leg_back,
        ),
        View(
            "leg-front", "Lower legs from the front, with the inner ankles", 240, 300, 12.5,
            _l(inner_ankle=(98, 238), knee_cap=(76, 58), shin_edge_top=(82, 66), fibula_head=(48, 74),
               tibia_inner_condyle=(101, 76),
               big_toe_gap=(96, 270)),
            ("right", "left"), _draw_leg_front,
        ),
        View(
            "hand-back", "Backs of the hands", 280, 300, 17,
            _l(index_knuckle=(99, 160), ring_knuckle=(60, 160), little_knuckle=(42, 160),
               index_bone_middle=(99, 200), wrist=(72, 262)),
            ("left hand", "right hand"), _draw_hand_back,
        ),
        View(
            "forearm-outer", "Elbows and forearms, thumb side", 320, 220, 8.5,
            _l(elbow_crease_outer=(62, 136), wrist_thumb_side=(122, 124)),
            ("right arm", "left arm"), _draw_forearm_outer,
        ),
        View(
            "forearm-inner", "Inner forearms and wrists, palms up", 280, 360, 14,
            _l(wrist_crease_middle=(73, 175), wrist_crease_little_finger=(92, 173),
               elbow_crease_middle=(70, 342)),
            ("left arm", "right arm"), _draw_forearm_inner,
        ),
        View(
            "head-back", "Back of the head, neck and shoulders", 300, 300, 9,
            _l(skull_base=(150, 156), neck_base=(150, 208), shoulder_tip=(34, 238), crown=(150, 30)),
            ("left", "right"), _draw_head_back,
        ),
        View(
            "face", "The face", 240, 300, 9,
            _l(brow_inner=(110, 99), brow_centre=(120, 101), ear_front=(58, 118), jaw_angle=(66, 182)),
            ("right", "left"), _draw_face,
        ),
        View(
            "foot-sole", "Soles of the feet", 240, 300, 12,
            _l(toe_web=(66, 32), heel=(70, 288)),
            ("left foot", "right foot"), _draw_foot_sole,
        ),
    )
}  # fmt: skip


# ---- positions -------------------------------------------------------------------------------


class PositionError(ValueError):
    """A position names a view or landmark that does not exist, or has the wrong shape."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Position:
    """Where a point is drawn: a view and the left figure's coordinates in that view's frame."""

    view: str
    x: float
    y: float


POSITION_KEYS = ("view", "at", "between", "t", "dx", "dy")


def resolve_position(spec: Mapping[str, Any]) -> Position:
    """Turn ``{view, at | between+t, dx, dy}`` (offsets in cun) into frame coordinates.

    ``dx`` is toward the picture's right for the left figure (so a negative ``dx`` from the spine
    is out toward the left side); ``dy`` is downward. The right figure is the mirror image.
    """
    if not isinstance(spec, Mapping):
        raise PositionError(
            "a position must be a mapping", "for example {view: back, at: spine-L2, dx: -1.5}"
        )
    unknown = [k for k in spec if k not in POSITION_KEYS]
    if unknown:
        raise PositionError(f"unknown position key {unknown[0]!r}", "keys: " + ", ".join(POSITION_KEYS))
    view = VIEWS.get(str(spec.get("view", "")))
    if view is None:
        raise PositionError(f"unknown view {spec.get('view')!r}", "views: " + ", ".join(VIEWS))

    def landmark(name: Any) -> Pt:
        if name not in view.landmarks:
            raise PositionError(
                f"view {view.id!r} has no landmark {name!r}", "landmarks: " + ", ".join(view.landmarks)
            )
        return view.landmarks[name]

    def number(key: str, default: float) -> float:
        value = spec.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise PositionError(f"{key} must be a number", f"{key} is measured in thumb-widths (cun)")
        return float(value)

    if "between" in spec:
        ends = spec["between"]
        if not isinstance(ends, Sequence) or isinstance(ends, str) or len(ends) != 2:
            raise PositionError("between must list two landmarks")
        a, b = landmark(ends[0]), landmark(ends[1])
        t = number("t", 0.5)
        base = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
    elif "at" in spec:
        base = landmark(spec["at"])
    else:
        raise PositionError("a position needs `at: LANDMARK` or `between: [A, B]`")
    x = base[0] + number("dx", 0) * view.cun
    y = base[1] + number("dy", 0) * view.cun
    if not (0 <= x <= view.width and 0 <= y <= view.height):
        raise PositionError(f"the position falls outside the {view.id!r} drawing", "check dx and dy")
    return Position(view.id, x, y)


def positions_from_data(data: Mapping[str, Any]) -> dict[str, tuple[Position, ...]]:
    """Parse the positions file's mapping: code → one position or a list of them."""
    out: dict[str, tuple[Position, ...]] = {}
    for code, value in data.items():
        specs = value if isinstance(value, list) else [value]
        try:
            out[str(code)] = tuple(resolve_position(s) for s in specs)
        except PositionError as exc:
            raise PositionError(f"{code}: {exc}", exc.hint) from None
    return out


def load_positions() -> dict[str, tuple[Position, ...]]:
    """The shipped point positions (``data/point_positions.yaml``), read with the safe loader."""
    name = "data/point_positions.yaml"
    text = resources.files("voiceguide.guide").joinpath(name).read_text("utf-8")
    data = parse(text, f"voiceguide/guide/{name}")
    if not isinstance(data, Mapping):
        raise PositionError(f"voiceguide/guide/{name} must be a mapping of point codes")
    return positions_from_data(data)


# ---- rendering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marked:
    """A point to mark: its code, what to call it, where, and whether it has two sides."""

    code: str
    label: str
    position: Position
    bilateral: bool = True


def slug(code: str) -> str:
    """An id-safe form of a point code (codes in user routines are not trusted)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", code).strip("-") or "point"


def mark_id(code: str, prefix: str = "") -> str:
    return f"{prefix}point-{slug(code)}"


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
) -> str:
    """The SVG text of one view with ``points`` marked (a bilateral point on both figures).

    ``id_prefix`` keeps ids unique when one page holds several drawings. All text is escaped.
    """
    view = VIEWS[view_id]
    marked = [p for p in points if p.position.view == view_id]
    if title is None:
        names = "; ".join(p.label for p in marked)
        title = f"{view.title}" + (f", marking {names}" if names else "")
    r = max(4.5, view.width / 48)
    body = "\n".join(view.draw())
    marks = []
    for p in marked:
        x, y = p.position.x, p.position.y
        ident = mark_id(p.code, id_prefix)
        mirrored = view.width - x
        two = p.bilateral and abs(mirrored - x) > r
        where = f"{p.label}, on both sides" if two else p.label
        inner = [_marker(x, y, r, f"{ident}-{'a' if two else 'only'}")]
        if two:
            inner.append(_marker(mirrored, y, r, f"{ident}-b"))
        marks.append(
            f'<g id="{ident}" class="point" data-point="{escape(slug(p.code))}" role="img" '
            f'aria-label="{escape(where)}"><title>{escape(where)}</title>{"".join(inner)}</g>'
        )
    left, right = view.sides
    pad = 18
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bodymap" data-view="{view.id}" '
        f'viewBox="0 {-pad} {view.width:g} {view.height + pad:g}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>\n'
        f'<rect x="0" y="{-pad}" width="{view.width:g}" height="{view.height + pad:g}" fill="#ffffff"/>\n'
        f"{body}\n"
        f"{_text(4, -5, left, anchor='start', size=10)}"
        f"{_text(view.width - 4, -5, right, anchor='end', size=10)}\n" + "\n".join(marks) + "\n</svg>\n"
    )
