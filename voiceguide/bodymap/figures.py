"""The ten body-map drawings: calm outlines built from a few smooth curves, drawn by code.

Each view draws one figure on the left of its frame (:data:`voiceguide.routine.landmarks.FRAMES`)
and its mirror image on the right, so a bilateral point is marked on both sides. Words on the
drawings are :class:`~.shapes.Label` keys of :data:`WORDS`, so a guide in another language can
translate them.

Long on purpose: it is drawing data (ten views, each a few curves) more than logic, and each view
reads best next to the others it must match in style.
"""

from __future__ import annotations

from collections.abc import Callable

from voiceguide.routine.landmarks import FRAMES

from .shapes import (
    BODY,
    DASHED,
    HAIR,
    SKIN,
    Figure,
    Label,
    Shape,
    Style,
    arc,
    both,
    line,
    oval,
    smooth,
    symmetric,
)

# The English words on and about the drawings; a locale's `guide:` section may translate each.
WORDS: dict[str, str] = {
    **{f"view_{f.id}": f.title for f in FRAMES.values()},
    "left": "left",
    "right": "right",
    "left_hand": "left hand",
    "right_hand": "right hand",
    "left_arm": "left arm",
    "right_arm": "right arm",
    "left_foot": "left foot",
    "right_foot": "right foot",
    "label_waist": "waist",
    "label_hip_tops": "hip-bone tops",
    "label_navel": "navel",
    "label_knee_creases": "knee\ncrease",
    "label_inner_ankles": "inner\nankles",
    "label_knees": "knees",
    "label_wrists": "wrists",
    "label_thumbs_up": "elbows bent, thumbs up",
    "label_wrist_creases": "wrist\ncreases",
    "label_elbows": "elbows",
    "label_head_back": "back of the head, neck and shoulders",
    "label_neck_base": "base of neck",
    "label_face": "face",
    "label_soles": "soles",
    "marking": "{view}, marking {points}",
    "on_both_sides": "{point}, on both sides",
}


def _draw_back() -> list[Shape]:
    w = 240.0
    half = [
        (120, 0), (48, 0), (44, 40), (50, 80), (54, 108), (48, 135), (36, 165), (30, 200),
        (31, 240), (36, 280), (40, 300), (108, 300), (115, 274), (120, 264),
    ]  # fmt: skip
    parts: list[Shape] = [smooth(symmetric(half, w), BODY, join=True)]
    # Arms hanging at the sides, elbows near the waist.
    parts += both(
        lambda f: [
            smooth(
                f([(40, 0), (28, 0), (16, 60), (12, 110), (18, 150), (28, 150), (34, 112), (42, 60)]), BODY
            )
        ],
        w,
    )
    # Spine: the bumps of the vertebrae down to the sacrum.
    for i, y in enumerate(range(10, 170, 19)):
        parts.append(oval(120, y, 4.5 if i < 8 else 4, 3.2, width=1.1))
    # Sacrum (the flat bone at the base of the spine) and the cleft of the buttocks.
    parts.append(smooth([(102, 180), (108, 210), (120, 240), (132, 210), (138, 180)]))
    parts.append(arc((102, 180), (120, 174), (138, 180)))
    parts.append(line((120, 240), (120, 262), Style(width=1.3)))
    # Gluteal folds.
    parts += both(lambda f: [smooth(f([(117, 262), (95, 268), (70, 266), (52, 258)]))], w)
    # Iliac crests (tops of the hip bones), arching out from the sacrum.
    parts += both(lambda f: [smooth(f([(103, 182), (80, 158), (58, 150), (40, 160)]), DASHED)], w)
    # Waistline and the level of the hip-bone tops.
    parts.append(line((54, 110), (186, 110)))
    # Labels to the right of the outer points (BL52 is 3 cun out, at x 153), clear of every mark.
    parts.append(Label(164, 106, "label_waist", "start", 9))
    parts.append(line((40, 150), (200, 150)))
    parts.append(Label(164, 146, "label_hip_tops", "start", 9))
    return parts


def _draw_front() -> list[Shape]:
    w = 240.0
    half = [
        (120, 0), (50, 0), (48, 40), (54, 90), (56, 118), (48, 150), (38, 185), (36, 225), (40, 262),
        (44, 300), (104, 300), (113, 262), (120, 250),
    ]  # fmt: skip
    parts: list[Shape] = [smooth(symmetric(half, w), BODY, join=True)]
    parts += both(
        lambda f: [
            smooth(
                f([(50, 0), (36, 0), (22, 60), (16, 112), (22, 150), (32, 150), (40, 112), (50, 60)]), BODY
            )
        ],
        w,
    )
    # Lower edge of the rib cage, meeting at the breastbone.
    parts += both(lambda f: [smooth(f([(120, 30), (100, 48), (78, 64), (56, 72)]))], w)
    # Navel.
    parts.append(oval(120, 130, 4.5, 5.5, width=1.6))
    parts.append(Label(132, 128, "label_navel", "start", 10))
    # Centre line of the belly, down to the pubic bone.
    parts.append(line((120, 52), (120, 122)))
    parts.append(line((120, 138), (120, 200)))
    # Front points of the hip bones and the creases of the groin.
    parts += both(lambda f: [smooth(f([(60, 168), (84, 205), (112, 232)]))], w)
    parts += both(lambda f: [oval(f([(62, 164)])[0][0], 164, 3.5, 3.5, width=1.2)], w)
    return parts


def _draw_leg_back() -> list[Shape]:
    w = 240.0

    def leg(f: Figure) -> list[Shape]:
        outline = [
            (40, 0), (44, 60), (47, 110), (44, 150), (46, 190), (56, 250), (60, 285), (58, 300),
            (100, 300), (96, 270), (100, 235), (106, 180), (104, 135), (102, 110), (106, 60), (110, 0),
        ]  # fmt: skip
        return [
            smooth(f(outline), BODY),
            # Knee crease, and the two cords of tendon above it.
            smooth(f([(52, 120), (62, 123), (75, 124), (88, 123), (98, 120)])),
            smooth(f([(56, 60), (56, 92), (58, 114)])),
            smooth(f([(95, 60), (94, 92), (92, 114)])),
            # Calf muscles and the heel cord.
            smooth(f([(60, 140), (62, 180), (72, 214)])),
            smooth(f([(90, 140), (88, 180), (78, 214)])),
            smooth(f([(72, 214), (75, 260), (78, 296)])),
        ]

    parts = both(leg, w)
    parts.append(Label(120, 128, "label_knee_creases", size=10))
    return parts


def _draw_leg_front() -> list[Shape]:
    w = 240.0

    def leg(f: Figure) -> list[Shape]:
        outline = [
            (44, 0), (44, 40), (50, 70), (46, 110), (50, 160), (58, 210), (60, 240), (54, 262),
            (48, 290), (56, 300), (108, 300), (110, 282), (104, 262), (101, 248), (107, 237), (100, 224),
            (96, 200), (100, 150), (104, 100), (102, 70), (106, 40), (106, 0),
        ]  # fmt: skip
        return [
            smooth(f(outline), BODY),
            # Knee cap.
            oval(f([(76, 40)])[0][0], 40, 15, 18, width=1.4),
            # Front edge of the shin bone.
            smooth(f([(82, 66), (84, 140), (86, 210), (90, 236)])),
            # The bony bump of the inner ankle (inner side faces the other leg).
            smooth(f([(100, 228), (96, 237), (101, 246)])),
            # Toes, the big toe on the inner side.
            *(
                oval(f([(cx, cy)])[0][0], cy, rx, rx, fill=SKIN, width=1.4)
                for cx, cy, rx in (
                    (58, 291, 4),
                    (67, 293, 4.5),
                    (77, 294, 5),
                    (88, 294, 5.5),
                    (100, 292, 7.5),
                )
            ),
        ]

    parts = both(leg, w)
    # Between the legs above the ankle points (KI3 sits right beside the inner ankles, at y 240).
    parts.append(Label(120, 216, "label_inner_ankles", size=9))
    parts.append(Label(120, 60, "label_knees", size=10))
    return parts


def _draw_hand_back() -> list[Shape]:
    w = 280.0

    def hand(f: Figure) -> list[Shape]:
        # Fingers first, palm drawn over their bases; the thumb toward the picture's centre.
        parts: list[Shape] = []
        fingers = [(42, 70, 11), (60, 48, 12), (80, 44, 12), (99, 58, 11)]  # little → index
        for cx, top, r in fingers:
            d = f([(cx - r, 160), (cx - r, top + r), (cx, top), (cx + r, top + r), (cx + r, 160)])
            parts.append(smooth(d, BODY))
        palm = [(30, 150), (29, 200), (36, 250), (44, 300), (100, 300), (104, 252), (112, 228),
                (111, 190), (110, 150), (70, 146)]  # fmt: skip
        parts.append(smooth(f(palm), BODY, closed=True))
        thumb = [(104, 252), (122, 222), (136, 196), (144, 178), (136, 170), (124, 184), (111, 200)]
        parts.append(smooth(f(thumb), BODY))
        # Knuckles.
        for cx, _top, _r in fingers:
            parts.append(smooth(f([(cx - 6, 160), (cx, 157), (cx + 6, 160)])))
        # Finger bones (metacarpals) on the back of the hand, faint.
        for cx, _top, _r in fingers:
            parts.append(smooth(f([(cx, 166), (cx + (68 - cx) * 0.35, 240)]), DASHED))
        parts.append(line(f([(42, 262)])[0], f([(102, 262)])[0]))
        return parts

    parts = both(hand, w)
    parts.append(Label(140, 268, "label_wrists", size=10))
    return parts


def _draw_forearm_outer() -> list[Shape]:
    w = 320.0

    def arm(f: Figure) -> list[Shape]:
        # Upper arm down to a bent elbow, forearm toward the centre, a loose fist with thumb on top.
        outline = [
            (14, 0), (12, 70), (10, 130), (18, 168), (40, 180), (80, 174), (118, 168), (128, 168),
            (128, 122), (116, 122), (84, 126), (60, 130), (56, 112), (60, 60), (62, 0),
        ]  # fmt: skip
        fist = [(124, 118), (146, 114), (154, 132), (152, 168), (136, 176), (124, 170)]
        thumb = [(126, 120), (138, 104), (152, 106), (148, 118)]
        return [
            smooth(f(outline), BODY),
            smooth(f(fist), BODY, closed=True),
            smooth(f(thumb), BODY),
            # Elbow crease at the inside of the bend.
            smooth(f([(56, 126), (62, 134), (64, 144)])),
            # Folded fingers.
            smooth(f([(136, 140), (152, 138)])),
            smooth(f([(136, 156), (152, 154)])),
            # The wrist.
            line(f([(122, 122)])[0], f([(122, 168)])[0]),
        ]

    parts = both(arm, w)
    parts.append(Label(160, 200, "label_thumbs_up", size=10))
    return parts


def _draw_forearm_inner() -> list[Shape]:
    w = 280.0

    def arm(f: Figure) -> list[Shape]:
        # Palm up, fingers to the top; the thumb points away from the centre.
        parts: list[Shape] = []
        fingers = [(38, 40, 10), (56, 22, 11), (76, 20, 11), (94, 34, 10)]  # index → little
        for cx, top, r in fingers:
            d = f([(cx - r, 110), (cx - r, top + r), (cx, top), (cx + r, top + r), (cx + r, 110)])
            parts.append(smooth(d, BODY))
        hand = [(28, 100), (26, 130), (40, 156), (48, 170), (98, 170), (106, 140), (104, 100), (66, 96)]
        parts.append(smooth(f(hand), BODY, closed=True))
        thumb = [(32, 150), (18, 124), (10, 100), (18, 94), (28, 110), (38, 128)]
        parts.append(smooth(f(thumb), BODY))
        forearm = [(48, 164), (44, 220), (36, 290), (30, 360), (112, 360), (108, 290), (102, 220), (98, 164)]
        parts.append(smooth(f(forearm), BODY))
        # Wrist crease, the two tendons in the middle, the elbow crease.
        parts.append(smooth(f([(50, 172), (73, 175), (96, 172)])))
        parts.append(smooth(f([(66, 176), (64, 240), (60, 300)]), DASHED))
        parts.append(smooth(f([(80, 176), (82, 240), (84, 300)]), DASHED))
        parts.append(smooth(f([(40, 336), (70, 342), (102, 336)])))
        return parts

    parts = both(arm, w)
    parts.append(Label(140, 178, "label_wrist_creases", size=10))
    parts.append(Label(140, 344, "label_elbows", size=10))
    return parts


def _draw_head_back() -> list[Shape]:
    w = 300.0
    half = [(150, 214), (110, 200), (60, 214), (30, 232), (18, 260), (14, 300), (150, 300)]  # shoulders
    parts: list[Shape] = [smooth(symmetric([(150, 300), *half[::-1][1:]], w), BODY, join=True)]
    parts.append(smooth([(124, 140), (122, 176), (116, 204), (184, 204), (178, 176), (176, 140)], BODY))
    parts += both(lambda f: [smooth(f([(96, 90), (86, 84), (82, 104), (88, 124), (98, 124)]), BODY)], w)
    head = [(150, 18), (200, 32), (208, 90), (196, 140), (150, 162), (104, 140), (92, 90), (100, 32)]
    parts.append(smooth(head, Style(fill=HAIR, width=2.2), closed=True))
    # Base of the skull and the two neck muscles either side of the centre.
    parts.append(smooth([(112, 144), (130, 152), (150, 156), (170, 152), (188, 144)]))
    parts += both(lambda f: [smooth(f([(136, 160), (134, 184), (130, 204)]))], w)
    # Neck to the shoulder tips, and the bump at the base of the neck.
    parts.append(oval(150, 208, 5, 3.5, width=1.2))
    parts.append(Label(150, 290, "label_head_back", size=9))
    parts.append(Label(150, 236, "label_neck_base", size=9))
    parts += both(lambda f: [oval(f([(34, 238)])[0][0], 238, 5, 4, width=1.2)], w)
    return parts


def _draw_face() -> list[Shape]:
    w = 240.0
    parts: list[Shape] = [smooth([(98, 236), (96, 290), (144, 290), (142, 236)], BODY)]  # neck
    parts += both(lambda f: [smooth(f([(58, 112), (46, 106), (44, 130), (52, 156), (62, 158)]), BODY)], w)
    face = [(120, 24), (170, 34), (184, 100), (176, 178), (150, 226), (120, 238), (90, 226), (64, 178),
            (56, 100), (70, 34)]  # fmt: skip
    parts.append(smooth(face, BODY, closed=True))
    # Hair above the forehead: this is the front of the head.
    hair = [(58, 96), (60, 54), (84, 28), (120, 20), (156, 28), (180, 54), (182, 96), (170, 62), (120, 50),
            (70, 62)]  # fmt: skip
    parts.append(smooth(hair, Style(fill=HAIR, width=1.8), closed=True))
    # Eyebrows, eyes, nose, mouth.
    parts += both(lambda f: [smooth(f([(76, 102), (92, 95), (110, 99)]), Style(width=3))], w)
    parts += both(lambda f: [smooth(f([(80, 118), (94, 112), (108, 118), (94, 123)]), closed=True)], w)
    parts.append(smooth([(114, 104), (112, 140), (106, 158), (120, 164), (134, 158), (128, 140)]))
    parts.append(smooth([(100, 190), (120, 196), (140, 190)]))
    parts.append(Label(120, 280, "label_face", size=9))
    return parts


def _draw_foot_sole() -> list[Shape]:
    w = 240.0

    def foot(f: Figure) -> list[Shape]:
        sole = [(70, 20), (102, 30), (108, 90), (100, 160), (98, 230), (84, 284), (60, 290), (44, 262),
                (44, 200), (36, 120), (34, 60), (48, 26)]  # fmt: skip
        parts: list[Shape] = [smooth(f(sole), BODY, closed=True)]
        for cx, cy, r in [(92, 22, 11), (72, 14, 8), (58, 18, 7), (46, 26, 6), (36, 38, 5)]:
            parts.append(oval(f([(cx, cy)])[0][0], cy, r, r + 2, fill=SKIN, width=1.6))
        parts.append(smooth(f([(42, 64), (70, 56), (102, 64)])))
        return parts

    parts = both(foot, w)
    parts.append(Label(120, 160, "label_soles", size=10))
    return parts


DRAWINGS: dict[str, Callable[[], list[Shape]]] = {
    "back": _draw_back,
    "front": _draw_front,
    "leg-back": _draw_leg_back,
    "leg-front": _draw_leg_front,
    "hand-back": _draw_hand_back,
    "forearm-outer": _draw_forearm_outer,
    "forearm-inner": _draw_forearm_inner,
    "head-back": _draw_head_back,
    "face": _draw_face,
    "foot-sole": _draw_foot_sole,
}
