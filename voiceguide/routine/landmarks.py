"""Where a point is drawn: each body-map view's frame and landmarks, and positions measured from them.

This is the part of the drawings a routine needs to be checked: ``voiceguide check`` reports a
user point's unknown view or landmark here, with its line and column, long before any picture is
drawn. The shapes themselves live in :mod:`voiceguide.bodymap`, which draws on these frames.

Pure data and arithmetic: no drawing, nothing heavy to import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from voiceguide.hints import did_you_mean
from voiceguide.routine.source import parse

Pt = tuple[float, float]


@dataclass(frozen=True)
class Frame:
    """One view's frame: its size, scale, landmarks (left figure's coordinates) and side names.

    ``sides`` are keys of the drawing words (``left``, ``right hand``…): what the left and the
    right figure are, as a viewer sees them.
    """

    id: str
    title: str
    width: float
    height: float
    cun: float  # frame units per cun (about one thumb-width)
    landmarks: Mapping[str, Pt]
    sides: tuple[str, str]

    @property
    def centre(self) -> float:
        return self.width / 2


def _l(**points: Pt) -> dict[str, Pt]:
    return {k.replace("_", "-"): v for k, v in points.items()}


FRAMES: dict[str, Frame] = {
    f.id: f
    for f in (
        Frame(
            "back", "Lower back and buttocks, from behind", 240, 300, 11,
            _l(spine_L2=(120, 110), spine_L4=(120, 153), waist=(120, 110), iliac_crest=(58, 150),
               sacrum_S2=(120, 200), sacrum_S4=(120, 222), sacral_base=(120, 238),
               hip_bump=(32, 214), hip_top=(58, 150), buttock_fold=(80, 266)),
            ("left", "right"),
        ),
        Frame(
            "front", "Belly, from the front", 240, 300, 12,
            _l(navel=(120, 130), pubic_bone=(120, 200), breastbone_tip=(120, 34)),
            ("right", "left"),
        ),
        Frame(
            "leg-back", "Backs of the knees", 240, 300, 10,
            _l(knee_crease=(75, 124), heel=(78, 296)),
            ("left", "right"),
        ),
        Frame(
            "leg-front", "Lower legs from the front, with the inner ankles", 240, 300, 12.5,
            _l(inner_ankle=(98, 238), knee_cap=(76, 58), shin_edge_top=(82, 66), fibula_head=(48, 74),
               tibia_inner_condyle=(101, 76),
               big_toe_gap=(96, 270)),
            ("right", "left"),
        ),
        Frame(
            "hand-back", "Backs of the hands", 280, 300, 17,
            _l(index_knuckle=(99, 160), ring_knuckle=(60, 160), little_knuckle=(42, 160),
               index_bone_middle=(99, 200), wrist=(72, 262)),
            ("left_hand", "right_hand"),
        ),
        Frame(
            "forearm-outer", "Elbows and forearms, thumb side", 320, 220, 8.5,
            _l(elbow_crease_outer=(62, 136), wrist_thumb_side=(122, 124)),
            ("right_arm", "left_arm"),
        ),
        Frame(
            "forearm-inner", "Inner forearms and wrists, palms up", 280, 360, 14,
            _l(wrist_crease_middle=(73, 175), wrist_crease_little_finger=(92, 173),
               elbow_crease_middle=(70, 342)),
            ("left_arm", "right_arm"),
        ),
        Frame(
            "head-back", "Back of the head, neck and shoulders", 300, 300, 9,
            _l(skull_base=(150, 156), neck_base=(150, 208), shoulder_tip=(34, 238), crown=(150, 30)),
            ("left", "right"),
        ),
        Frame(
            "face", "The face", 240, 300, 9,
            _l(brow_inner=(110, 99), brow_centre=(120, 101), ear_front=(58, 118), jaw_angle=(66, 182)),
            ("right", "left"),
        ),
        Frame(
            "foot-sole", "Soles of the feet", 240, 300, 12,
            _l(toe_web=(66, 32), heel=(70, 288)),
            ("left_foot", "right_foot"),
        ),
    )
}  # fmt: skip


class PositionError(ValueError):
    """A position names a view or landmark that does not exist, or has the wrong shape.

    ``key`` is the position's key at fault (``view``, ``at``…), so a routine's problem can point
    at the very value; "" when it is the position as a whole.
    """

    def __init__(self, message: str, hint: str = "", key: str = "") -> None:
        super().__init__(message)
        self.hint = hint
        self.key = key


@dataclass(frozen=True)
class Position:
    """Where a point is drawn: a view and the left figure's coordinates in that view's frame."""

    view: str
    x: float
    y: float


POSITION_KEYS = ("view", "at", "between", "t", "dx", "dy")
EXAMPLE = "for example {view: back, at: spine-L2, dx: -1.5}"


def _choices(word: Any, names: Sequence[str], what: str) -> str:
    close = did_you_mean(str(word), names, end="? ") if isinstance(word, str) else ""
    return f"{close}{what}: {', '.join(names)}"


def resolve_position(spec: Mapping[str, Any]) -> Position:
    """Turn ``{view, at | between+t, dx, dy}`` (offsets in cun) into frame coordinates.

    ``dx`` is toward the picture's right for the left figure (so a negative ``dx`` from the spine
    is out toward the left side); ``dy`` is downward. The right figure is the mirror image.
    """
    if not isinstance(spec, Mapping):
        raise PositionError("a position must be a mapping", EXAMPLE)
    unknown = [k for k in spec if k not in POSITION_KEYS]
    if unknown:
        raise PositionError(
            f"unknown position key {unknown[0]!r}", _choices(unknown[0], POSITION_KEYS, "keys"), unknown[0]
        )
    if "view" not in spec:
        raise PositionError("a position needs `view:`", _choices(None, list(FRAMES), "views"))
    frame = FRAMES.get(spec["view"]) if isinstance(spec["view"], str) else None
    if frame is None:
        raise PositionError(
            f"unknown view {spec['view']!r}", _choices(spec["view"], list(FRAMES), "views"), "view"
        )

    def landmark(name: Any, key: str) -> Pt:
        if not isinstance(name, str) or name not in frame.landmarks:
            raise PositionError(
                f"view {frame.id!r} has no landmark {name!r}",
                _choices(name, list(frame.landmarks), "landmarks"),
                key,
            )
        return frame.landmarks[name]

    def number(key: str, default: float) -> float:
        value = spec.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise PositionError(f"{key} must be a number", f"{key} is measured in thumb-widths (cun)", key)
        return float(value)

    if "between" in spec:
        ends = spec["between"]
        if not isinstance(ends, Sequence) or isinstance(ends, str) or len(ends) != 2:
            raise PositionError(
                "between must list two landmarks", "for example between: [waist, hip-top]", "between"
            )
        a, b = landmark(ends[0], "between"), landmark(ends[1], "between")
        t = number("t", 0.5)
        base = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
    elif "at" in spec:
        base = landmark(spec["at"], "at")
    else:
        raise PositionError(
            "a position needs `at: LANDMARK` or `between: [A, B]`",
            _choices(None, list(frame.landmarks), f"landmarks of {frame.id!r}"),
        )
    x = base[0] + number("dx", 0) * frame.cun
    y = base[1] + number("dy", 0) * frame.cun
    if not (0 <= x <= frame.width and 0 <= y <= frame.height):
        across = frame.width / frame.cun
        down = frame.height / frame.cun
        raise PositionError(
            f"the position falls outside the {frame.id!r} drawing",
            f"the drawing is about {across:.0f} cun across and {down:.0f} cun high: check dx and dy",
            "dx" if not 0 <= x <= frame.width else "dy",
        )
    return Position(frame.id, x, y)


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


@cache
def load_positions() -> Mapping[str, tuple[Position, ...]]:
    """The shipped point positions (``data/point_positions.yaml``), read once with the safe loader."""
    name = "data/point_positions.yaml"
    text = resources.files("voiceguide.routine").joinpath(name).read_text("utf-8")
    data = parse(text, f"voiceguide/routine/{name}")
    if not isinstance(data, Mapping):
        raise PositionError(f"voiceguide/routine/{name} must be a mapping of point codes")
    return positions_from_data(data)
