"""``- say: Words to speak.``"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.routine.model import NOWHERE, Origin, StepT
from voiceguide.routine.ops import Op, Speak
from voiceguide.routine.schema import Text
from voiceguide.routine.steps.base import Item, Loading, Planning, StepKind, short


@dataclass(frozen=True)
class Say:
    text: str
    title: str = ""
    origin: Origin = NOWHERE


def _load(item: Item, loading: Loading) -> list[StepT]:
    return [Say(item.checked["say"], item.title, item.origin)]


def _plan(step: Say, planning: Planning) -> list[Op]:
    return [Speak(step.text, "say")]


KIND = StepKind(
    "say",
    Say,
    Text("Words to speak."),
    _load,
    _plan,
    title=lambda step, phrases: step.title or short(step.text),
)
