"""The step kinds of the routine language, one module each; this table is the language.

Adding a kind: write ``steps/NAME.py`` with its dataclass, schema, ``_load`` and ``_plan`` (see
:mod:`voiceguide.routine.steps.base`), and add one line below. The loader, the planner, the JSON
Schema and ``voiceguide schema`` all read this table.
"""

from __future__ import annotations

from voiceguide.routine.ambience import AmbienceSetting
from voiceguide.routine.model import StepT
from voiceguide.routine.steps import (
    ambience,
    breathe,
    guarded,
    include,
    pause,
    point,
    repeat,
    say,
    section,
    sound,
)
from voiceguide.routine.steps.ambience import AmbienceStep
from voiceguide.routine.steps.base import StepKind
from voiceguide.routine.steps.breathe import Breathe
from voiceguide.routine.steps.guarded import Guarded
from voiceguide.routine.steps.pause import Pause
from voiceguide.routine.steps.point import PointStep
from voiceguide.routine.steps.repeat import Repeat
from voiceguide.routine.steps.say import Say
from voiceguide.routine.steps.section import Section
from voiceguide.routine.steps.sound import SoundStep

KINDS: dict[str, StepKind] = {
    kind.name: kind
    for kind in (
        say.KIND,
        pause.KIND,
        breathe.KIND,
        point.KIND,
        sound.KIND,
        ambience.KIND,
        section.KIND,
        repeat.KIND,
        include.KIND,
    )
}
_BY_MODEL = {kind.model: kind for kind in KINDS.values() if not kind.expands}
_BY_MODEL[Guarded] = guarded.KIND  # written as keys on another step, never as a kind of its own

__all__ = [
    "KINDS",
    "AmbienceStep",
    "Breathe",
    "Guarded",
    "Pause",
    "PointStep",
    "Repeat",
    "Say",
    "Section",
    "SoundStep",
    "iter_points",
    "kind_of",
]


def kind_of(step: StepT) -> StepKind:
    return _BY_MODEL[type(step)]


def count_leaves(steps: tuple[StepT, ...]) -> int:
    """How many plain steps these expand to (repeats multiplied out)."""
    return sum(kind_of(s).leaves(s, count_leaves) for s in steps)


def iter_points(steps: tuple[StepT, ...]) -> list[PointStep]:
    """Every point step, depth first (sections and repeats included once)."""
    found: list[PointStep] = []
    for step in steps:
        if isinstance(step, PointStep):
            found.append(step)
        else:
            found.extend(iter_points(kind_of(step).children(step)))
    return found


def asks_for_ambience(top: AmbienceSetting | None, steps: tuple[StepT, ...]) -> bool:
    """Whether a background bed plays anywhere in the session (a top-level one, or a step's)."""
    if top is not None and not top.off:
        return True
    return any(
        (isinstance(step, AmbienceStep) and not step.setting.off)
        or asks_for_ambience(None, kind_of(step).children(step))
        for step in steps
    )
