"""``- sound: bell`` — a cue sound, shipped or beside the routine."""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.routine.model import NOWHERE, Origin, StepT
from voiceguide.routine.ops import Op, Play
from voiceguide.routine.phrases import say
from voiceguide.routine.schema import Text
from voiceguide.routine.steps.base import Item, Loading, Planning, StepKind


@dataclass(frozen=True)
class SoundStep:
    sound: str
    title: str = ""
    origin: Origin = NOWHERE


def _load(item: Item, loading: Loading) -> list[StepT]:
    name = item.checked["sound"]
    if not loading.check_sound(name, item.ctx, f"{item.path}.sound", item.where):
        return []
    return [SoundStep(name, item.title, item.origin)]


def _plan(step: SoundStep, planning: Planning) -> list[Op]:
    return [Play(step.sound, "sound")]


KIND = StepKind(
    "sound",
    SoundStep,
    Text("A cue sound: bell, chime, tick, inhale, hold, exhale, or a WAV file.", 200),
    _load,
    _plan,
    title=lambda step, phrases: step.title or say(phrases, "title_sound", sound=step.sound),
)
