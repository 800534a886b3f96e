"""``- pause: 5s`` — silence of exactly that long."""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.routine.model import NOWHERE, Origin, StepT
from voiceguide.routine.ops import Op, Silence
from voiceguide.routine.phrases import say
from voiceguide.routine.schema import Duration
from voiceguide.routine.steps.base import Item, Loading, Planning, StepKind
from voiceguide.units import US


@dataclass(frozen=True)
class Pause:
    duration_us: int
    title: str = ""
    origin: Origin = NOWHERE


def _load(item: Item, loading: Loading) -> list[StepT]:
    return [Pause(item.checked["pause"], item.title, item.origin)]


def _plan(step: Pause, planning: Planning) -> list[Op]:
    return [Silence(step.duration_us)]


KIND = StepKind(
    "pause",
    Pause,
    Duration("Silence of exactly this long."),
    _load,
    _plan,
    title=lambda step, phrases: (
        step.title or say(phrases, "title_pause", seconds=f"{step.duration_us / US:g}")
    ),
)
