"""What a step does, in order, before anything is timed: the vocabulary of a step plan.

Each step kind turns its validated step into these operations (see :mod:`voiceguide.routine.steps`);
the timeline stage then places them on the clock with real or estimated durations.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.routine.ambience import AmbienceSetting
from voiceguide.routine.landmarks import Position
from voiceguide.routine.model import Origin


@dataclass(frozen=True)
class PointInfo:
    """What the live view shows about the point being pressed."""

    code: str
    name: str
    pinyin: str
    location: str
    sides: str  # how the step does it: "together" | "alternate" | "single"
    bilateral: bool = True  # the point itself: one on each side, or one on the centre line
    drawn_at: tuple[Position, ...] = ()  # a routine's own `position:` for it (the catalogue's are shipped)


@dataclass(frozen=True)
class Speak:
    text: str
    role: str


@dataclass(frozen=True)
class Play:
    sound: str
    role: str
    slot_us: int | None = None  # None: wait for the whole sound


@dataclass(frozen=True)
class Silence:
    duration_us: int


@dataclass(frozen=True)
class Block:
    """A stretch of exactly ``duration_us`` with cues at fixed offsets from its start."""

    kind: str  # hold | inhale | hold-in | exhale | hold-out
    duration_us: int
    cues: tuple[tuple[int, Speak | Play], ...]
    side: str = ""
    point: PointInfo | None = None  # the point being held, for live views


@dataclass(frozen=True)
class SetAmbience:
    """From here on, the background bed changes (or stops); takes no time of its own."""

    setting: AmbienceSetting


Op = Speak | Play | Silence | Block | SetAmbience


@dataclass(frozen=True)
class StepPlan:
    title: str
    kind: str
    ops: tuple[Op, ...]
    origin: Origin
    point: PointInfo | None = None


def op_texts(op: Op) -> list[str]:
    """The texts one operation speaks, in order."""
    if isinstance(op, Speak):
        return [op.text]
    if isinstance(op, Block):
        return [cue.text for _, cue in op.cues if isinstance(cue, Speak)]
    return []


def op_sounds(op: Op) -> list[str]:
    """The cue sounds one operation plays, in order."""
    if isinstance(op, Play):
        return [op.sound]
    if isinstance(op, Block):
        return [cue.sound for _, cue in op.cues if isinstance(cue, Play)]
    return []


def utterances(step_plan: StepPlan) -> list[str]:
    """Every text the step speaks, in order (what the player synthesizes ahead)."""
    return [text for op in step_plan.ops for text in op_texts(op)]
