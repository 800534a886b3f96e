"""Routine → step plans: what each top-level step says and plays, in order, with no times yet.

Planning needs no durations, so the player can start at once; the timeline stage lays the plans
out on the clock (:func:`voiceguide.timeline.compiler.layout`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from voiceguide.routine.model import Origin, Routine, StepT
from voiceguide.routine.ops import Op, SetAmbience, Silence, Speak, StepPlan
from voiceguide.routine.phrases import merged, say
from voiceguide.routine.steps import AmbienceStep, PointStep, kind_of
from voiceguide.units import US


class _Planner:
    """The :class:`~voiceguide.routine.steps.base.Planning` a kind is given."""

    def __init__(self, routine: Routine) -> None:
        self.phrases: Mapping[str, str] = merged(routine.phrases)
        self.caution_texts: Mapping[str, str] = routine.caution_texts
        self._announced: set[str] = set()

    def first_time(self, code: str) -> bool:
        if code in self._announced:
            return False
        self._announced.add(code)
        return True

    def ops(self, step: StepT) -> list[Op]:
        return kind_of(step).plan(step, self)


def plan(routine: Routine) -> tuple[StepPlan, ...]:
    """One plan per top-level step, preceded by the introduction (title, notices, cautions)."""
    planner = _Planner(routine)
    phrases = planner.phrases
    intro: list[Op] = [SetAmbience(routine.ambience)] if routine.ambience is not None else []
    intro.append(Speak(say(phrases, "welcome", title=routine.title), "title"))
    if routine.avoided or routine.cautions:
        intro.append(Speak(say(phrases, "before_you_begin"), "caution"))
    if routine.avoided:
        names = [routine.tag_names.get(t, t) for t in routine.avoid_tags]
        tags = functools.reduce(lambda a, b: say(phrases, "and", a=a, b=b), names)
        intro.append(Speak(say(phrases, "avoided", tags=tags), "avoided"))
    intro.extend(Speak(say(phrases, "caution", text=c), "caution") for c in routine.cautions)
    intro.append(Silence(US))
    title = say(phrases, "title_introduction")
    plans = [StepPlan(title, "intro", tuple(intro), Origin(str(routine.source), 1, 1))]
    waiting: list[Op] = []  # a top-level `ambience:` step joins the step after it
    for step in routine.steps:
        kind = kind_of(step)
        if isinstance(step, AmbienceStep):
            waiting.extend(planner.ops(step))
            continue
        info = step.info if isinstance(step, PointStep) else None
        ops = (*waiting, *planner.ops(step))
        waiting = []
        plans.append(StepPlan(kind.title(step, phrases), kind.name, ops, step.origin, info))
    if waiting:  # after the last step: the bed changes as the session ends
        last = plans[-1]
        plans[-1] = StepPlan(last.title, last.kind, (*last.ops, *waiting), last.origin, last.point)
    return tuple(plans)
