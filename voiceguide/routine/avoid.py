"""``--avoid TAG``: the session without the points that carry a tag, and without what led to them.

A point step carrying an avoided tag is left out. So is every step written with ``for:`` whose
points are all left out (a landmark, a position change, "slide your hands out"), and every step
written with ``unless_avoiding:`` one of the tags; their ``instead:`` steps play in their place.
Leaving steps out must not leave seams the author never wrote, so a breathing step or a pause
that the removal brings right after another of its kind is dropped too: two guided breaths in a
row become one.
"""

from __future__ import annotations

from dataclasses import replace

from voiceguide.routine.model import Routine, StepT
from voiceguide.routine.schema import Caution
from voiceguide.routine.steps import Breathe, Guarded, Pause, PointStep, Repeat, Section, iter_points

_MERGED_KINDS = (Breathe, Pause)  # filler that a gap may bring together; everything else stays


class _Walk:
    """One pass over the steps, remembering the last step kept and whether a gap followed it."""

    def __init__(self, tags: tuple[str, ...]) -> None:
        self.tags = frozenset(tags)
        self.last: StepT | None = None
        self.gap = False

    def steps(self, steps: tuple[StepT, ...]) -> tuple[StepT, ...]:
        return tuple(kept for step in steps for kept in self.step(step))

    def step(self, step: StepT) -> list[StepT]:
        if isinstance(step, Guarded):
            if step.left_out(self.tags):
                self.gap = True
                return list(self.steps(step.instead))
            return list(self.steps(step.steps))
        if isinstance(step, PointStep) and set(step.point.cautions) & self.tags:
            self.gap = True
            return []
        if isinstance(step, (Section, Repeat)):
            inner = self.steps(step.steps)
            if not inner:
                self.gap = True
                return []
            return [replace(step, steps=inner)]
        if self.gap and isinstance(step, _MERGED_KINDS) and type(step) is type(self.last):
            return []  # the gap stays open: the next step follows the same kept one
        self.last, self.gap = step, False
        return [step]


def avoiding(routine: Routine, cautions: tuple[str | Caution, ...], tags: tuple[str, ...]) -> Routine:
    """The routine as it plays with ``tags`` avoided (none: as written, every ``for:`` kept)."""
    steps = _Walk(tags).steps(routine.steps)
    spoken = tuple(
        c if isinstance(c, str) else c.text
        for c in cautions
        if isinstance(c, str) or not set(c.unless_avoiding) & set(tags)
    )
    if not tags:
        return replace(routine, steps=steps, cautions=spoken)
    before = {p.point.code for p in iter_points(_Walk(()).steps(routine.steps))}
    after = {p.point.code for p in iter_points(steps)}
    avoided = tuple(sorted(before - after))
    return replace(routine, steps=steps, cautions=spoken, avoided=avoided, avoid_tags=tags)
