"""``- section: Name`` with ``steps:`` — a named group, one step in `show`, the player and splits."""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.routine.model import NOWHERE, Origin, StepT
from voiceguide.routine.ops import Op
from voiceguide.routine.schema import Key, Raw, Text
from voiceguide.routine.steps.base import Item, Loading, Planning, StepKind, nested


@dataclass(frozen=True)
class Section:
    title: str
    steps: tuple[StepT, ...]
    origin: Origin = NOWHERE


def _load(item: Item, loading: Loading) -> list[StepT]:
    inner = nested(item, loading)
    if not inner:
        return []
    return [Section(item.checked["section"], inner, item.origin)]


def _plan(step: Section, planning: Planning) -> list[Op]:
    return [op for sub in step.steps for op in planning.ops(sub)]


KIND = StepKind(
    "section",
    Section,
    Text("The section's name.", 200),
    _load,
    _plan,
    title=lambda step, phrases: step.title,
    keys={"steps": Key(Raw("Steps of the section.", {"$ref": "#/$defs/steps"}), required=True)},
    children=lambda step: step.steps,
    leaves=lambda step, count: count(step.steps),
)
