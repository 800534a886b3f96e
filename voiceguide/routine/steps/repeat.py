"""``- repeat: 3`` with ``steps:`` — the same steps, several times over."""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.routine.model import NOWHERE, Origin, StepT
from voiceguide.routine.ops import Op
from voiceguide.routine.phrases import say
from voiceguide.routine.schema import Key, Number, Raw
from voiceguide.routine.steps.base import Item, Loading, Planning, StepKind, nested


@dataclass(frozen=True)
class Repeat:
    times: int
    steps: tuple[StepT, ...]
    title: str = ""
    origin: Origin = NOWHERE


def _load(item: Item, loading: Loading) -> list[StepT]:
    inner = nested(item, loading)
    if not inner:
        return []
    times = item.checked["repeat"]
    if not loading.expand(inner, times, item.ctx, item.path, item.mark):
        return []
    return [Repeat(times, inner, item.title, item.origin)]


def _plan(step: Repeat, planning: Planning) -> list[Op]:
    return [op for _ in range(step.times) for sub in step.steps for op in planning.ops(sub)]


KIND = StepKind(
    "repeat",
    Repeat,
    Number("How many times to repeat the steps.", 1, 100),
    _load,
    _plan,
    title=lambda step, phrases: step.title or say(phrases, "title_repeat", times=str(step.times)),
    keys={"steps": Key(Raw("Steps to repeat.", {"$ref": "#/$defs/steps"}), required=True)},
    children=lambda step: step.steps,
    leaves=lambda step, count: count(step.steps) * step.times,
)
