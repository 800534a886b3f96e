"""``- include: other.yaml`` — another routine file's steps, cautions, phrases and points."""

from __future__ import annotations

from voiceguide.routine.model import StepT
from voiceguide.routine.ops import Op
from voiceguide.routine.schema import Text
from voiceguide.routine.steps.base import Item, Loading, Planning, StepKind


def _load(item: Item, loading: Loading) -> list[StepT]:
    return loading.include(item.checked["include"], item.ctx, f"{item.path}.include", item.where)


def _plan(step: StepT, planning: Planning) -> list[Op]:
    raise AssertionError("an include is replaced by its steps while loading")


KIND = StepKind(
    "include",
    type(None),
    Text("Another routine file, relative to this one.", 500),
    _load,
    _plan,
    title=lambda step, phrases: "",
    expands=True,
)
