"""``- repeat: 3`` with ``steps:`` — the same steps, several times over."""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.routine.model import NOWHERE, Origin, StepT
from voiceguide.routine.ops import Op
from voiceguide.routine.schema import Key, Number, Raw
from voiceguide.routine.steps.base import Item, Loading, Planning, StepKind


@dataclass(frozen=True)
class Repeat:
    times: int
    steps: tuple[StepT, ...]
    title: str = ""
    origin: Origin = NOWHERE


def _load(item: Item, loading: Loading) -> list[StepT]:
    if "steps" not in item.raw:
        return []  # the missing `steps:` was reported by the schema check
    inner = loading.steps(item.raw["steps"], item.ctx, f"{item.path}.steps", item.raw.where("steps"))
    if not inner:
        return []
    times = item.checked["repeat"]
    if not loading.expand(inner, times, item.ctx, item.path, item.mark):
        return []
    return [Repeat(times, inner, item.title, item.origin)]


def _plan(step: Repeat, planning: Planning) -> list[Op]:
    return [op for _ in range(step.times) for sub in step.steps for op in planning.ops(sub)]


KIND = StepKind(
    "repeat", Repeat, Number("How many times to repeat the steps.", 1, 100), _load, _plan,
    title=lambda step: step.title or f"Repeat ×{step.times}",
    keys={"steps": Key(Raw("Steps to repeat.", {"$ref": "#/$defs/steps"}), required=True)},
    children=lambda step: step.steps,
    leaves=lambda step, count: count(step.steps) * step.times,
)
