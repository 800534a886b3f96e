"""A step written with ``for:``, ``unless_avoiding:`` or ``instead:``: kept, or replaced, by ``--avoid``.

Not a kind of its own (no YAML key names it): the loader wraps the step it loaded, and
:func:`voiceguide.routine.avoid.avoiding` resolves every wrapper before the routine leaves the
loader, so the planner and everything after it only ever see plain steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.routine.catalogue import Point
from voiceguide.routine.model import NOWHERE, Origin, StepT
from voiceguide.routine.ops import Op
from voiceguide.routine.schema import Raw
from voiceguide.routine.steps.base import Item, Loading, Planning, StepKind


@dataclass(frozen=True)
class Guarded:
    """``steps`` belong to ``for_points`` (left out with the last of them) and are left out with
    any tag of ``unless``; ``instead`` then plays in their place."""

    steps: tuple[StepT, ...]
    for_points: tuple[Point, ...] = ()
    unless: tuple[str, ...] = ()
    instead: tuple[StepT, ...] = ()
    title: str = ""
    origin: Origin = NOWHERE

    def left_out(self, tags: frozenset[str]) -> bool:
        if set(self.unless) & tags:
            return True
        return bool(self.for_points) and all(set(p.cautions) & tags for p in self.for_points)


def _load(item: Item, loading: Loading) -> list[StepT]:
    raise AssertionError("the loader builds Guarded steps itself")  # pragma: no cover


def _plan(step: Guarded, planning: Planning) -> list[Op]:
    return [op for sub in step.steps for op in planning.ops(sub)]


KIND = StepKind(
    "guarded",
    Guarded,
    Raw("Not written in YAML."),
    _load,
    _plan,
    title=lambda step, phrases: step.title,
    children=lambda step: step.steps + step.instead,  # either may play: both are checked
    leaves=lambda step, count: count(step.steps) + count(step.instead),
)
