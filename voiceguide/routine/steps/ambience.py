"""``- ambience: ocean`` — change the background bed from here on (``off`` stops it), crossfading.

Takes no time: the change sits between what comes before and after. Written at the top level it
joins the next step (or the last one), so it never makes a step, a chapter or a split file of
its own (:func:`voiceguide.routine.plan.plan`).
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.routine.ambience import AmbienceSetting
from voiceguide.routine.model import NOWHERE, Origin, StepT
from voiceguide.routine.ops import Op, SetAmbience
from voiceguide.routine.schema import AmbienceNode
from voiceguide.routine.source import LocatedDict
from voiceguide.routine.steps.base import Item, Loading, Planning, StepKind


@dataclass(frozen=True)
class AmbienceStep:
    setting: AmbienceSetting
    title: str = ""
    origin: Origin = NOWHERE


def _load(item: Item, loading: Loading) -> list[StepT]:
    value = item.raw["ambience"]
    mark = value.where("sound") if isinstance(value, LocatedDict) and "sound" in value else item.where
    setting = loading.check_ambience(item.checked["ambience"], item.ctx, f"{item.path}.ambience", mark)
    return [] if setting is None else [AmbienceStep(setting, item.title, item.origin)]


def _plan(step: AmbienceStep, planning: Planning) -> list[Op]:
    return [SetAmbience(step.setting)]


def _title(step: AmbienceStep) -> str:
    return step.title or f"ambience: {step.setting.sound or 'level'}"


KIND = StepKind(
    "ambience",
    AmbienceStep,
    AmbienceNode(
        "Change the background bed from here on: a bed, a file, off, or "
        "{sound, volume, duck, fade} (what is left out stays as it was).",
        need_sound=False,
    ),
    _load,
    _plan,
    title=lambda step, phrases: _title(step),
)
