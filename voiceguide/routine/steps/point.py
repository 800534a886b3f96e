"""``- point: BL23`` — find a point, press it for exactly ``hold``, on one side or both.

The hold is a block of exactly its length from "press now" to the chime; reminders and the final
countdown sit at fixed offsets inside it, so nothing spoken can lengthen a hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.hints import suggestion
from voiceguide.routine.catalogue import Point
from voiceguide.routine.model import DEFAULT_HOLD_US, NOWHERE, Origin, StepT
from voiceguide.routine.ops import Block, Op, Play, PointInfo, Speak
from voiceguide.routine.phrases import caution_sentences, number_word, say, time_left_words
from voiceguide.routine.schema import SIDES, SIDES_MEANT, Choice, Duration, Key, Number, Text
from voiceguide.routine.steps.base import Item, Loading, Planning, StepKind
from voiceguide.units import US

MAX_HOLD_US = 600_000_000
LONG_HOLD_US = 300_000_000
CHIME_SLOT_US = 700_000  # the bell rings on under "release"; this is when "release" starts
FIRST_REMINDER_US = 5 * US  # no "time left" right on top of "press now"


@dataclass(frozen=True)
class PointStep:
    point: Point
    hold_us: int
    sides: str  # together | alternate | single
    name: str
    location: str
    technique: str
    remind_every_us: int
    countdown: int
    chime: str
    title: str = ""
    origin: Origin = NOWHERE

    @property
    def info(self) -> PointInfo:
        return PointInfo(
            self.point.code,
            self.name,
            self.point.pinyin,
            self.location,
            self.sides,
            self.point.sides == "bilateral",
            tuple(d.position for d in self.point.positions),
        )


def _load(item: Item, loading: Loading) -> list[StepT]:
    checked, ctx, path, mark = item.checked, item.ctx, item.path, item.where
    code = checked["point"]
    point = loading.catalogue.resolve(code)
    if point is None:
        close = loading.catalogue.suggest(code)
        hint = suggestion(close, quote=False)
        ctx.error(
            mark,
            f"{path}.point",
            f"unknown point {code!r}",
            hint + "`voiceguide points` lists the catalogue; a routine can add points under `points:`",
        )
        return []
    d = loading.defaults
    chime = checked.get("chime", d.chime)
    if not loading.check_sound(chime, ctx, f"{path}.chime", mark):
        return []
    default_sides = "single" if point.sides == "midline" else (d.sides or "together")
    sides = checked.get("sides", default_sides)
    if point.sides == "midline" and sides == "alternate":
        ctx.error(
            mark,
            f"{path}.sides",
            f"{point.code} is a single point on the midline; it has no sides",
            "remove `sides: alternate`",
        )
        return []
    hold = checked.get("hold") or d.hold_us or point.hold_us or DEFAULT_HOLD_US
    if hold > MAX_HOLD_US:
        ctx.error(
            mark,
            f"{path}.hold",
            "a hold longer than ten minutes is not safe to guide",
            "sources advise one to three minutes per point",
        )
        return []
    if hold > LONG_HOLD_US:
        ctx.warn(
            mark,
            f"{path}.hold",
            "holds longer than five minutes are unusual",
            "sources advise one to three minutes per point",
        )
    return [
        PointStep(
            point=point,
            hold_us=hold,
            sides=sides,
            name=checked.get("name", point.name),
            location=checked.get("location", point.location),
            technique=checked.get("technique", point.technique),
            remind_every_us=checked.get("remind_every", d.remind_every_us),
            countdown=checked.get("countdown", d.countdown),
            chime=chime,
            title=item.title,
            origin=item.origin,
        )
    ]


def _hold(step: PointStep, planning: Planning, side: str) -> list[Op]:
    phrases = planning.phrases
    hold = step.hold_us
    cues: list[tuple[int, Speak | Play]] = [(0, Speak(say(phrases, "press_now"), "press"))]
    countdown_us = step.countdown * US
    if step.remind_every_us:
        remaining = (hold - 1) // step.remind_every_us * step.remind_every_us
        while remaining > countdown_us and remaining > 0:
            if remaining % US == 0 and hold - remaining >= FIRST_REMINDER_US:
                text = time_left_words(remaining // US, phrases)
                cues.append((hold - remaining, Speak(text, "reminder")))
            remaining -= step.remind_every_us
    for n in range(min(step.countdown, hold // US - 1), 0, -1):
        cues.append((hold - n * US, Speak(number_word(n, phrases), "countdown")))
    return [
        Block("hold", hold, tuple(sorted(cues, key=lambda c: c[0])), side, step.info),
        Play(step.chime, "chime", slot_us=CHIME_SLOT_US),
        Speak(say(phrases, "release"), "release"),
    ]


def _plan(step: PointStep, planning: Planning) -> list[Op]:
    phrases = planning.phrases
    ops: list[Op] = []
    if planning.first_time(step.point.code):
        for text in caution_sentences(planning.caution_texts, step.point.cautions):
            ops.append(Speak(text, "caution"))
    ops.append(Speak(say(phrases, "point_intro", name=step.name), "intro"))
    ops.append(Speak(step.location, "location"))
    ops.append(Speak(step.technique, "technique"))
    if step.sides == "alternate":
        ops.append(Speak(say(phrases, "left_side"), "side"))
        ops.extend(_hold(step, planning, "left"))
        ops.append(Speak(say(phrases, "switch_sides"), "switch"))
        ops.append(Speak(say(phrases, "right_side"), "side"))
        ops.extend(_hold(step, planning, "right"))
    else:
        ops.extend(_hold(step, planning, "both" if step.sides == "together" else ""))
    return ops


KIND = StepKind(
    "point",
    PointStep,
    Text("The point's code, alias or pinyin name (see `voiceguide points`).", 40),
    _load,
    _plan,
    title=lambda step, phrases: step.title or f"{step.point.code} {step.name}",
    keys={
        "hold": Key(Duration("How long to hold (per side when alternating).")),
        "sides": Key(Choice(SIDES, "together, alternate (left then right) or single.", SIDES_MEANT)),
        "name": Key(Text("The spoken name, instead of the catalogue's.")),
        "location": Key(Text("How to find the point, instead of the catalogue's.")),
        "technique": Key(Text("How to press, instead of the catalogue's.")),
        "remind_every": Key(Duration("Say the time left this often; 0 or off: never.", allow_zero=True)),
        "countdown": Key(Number("Count down the last N seconds (0: none).", 0, 10)),
        "chime": Key(Text("Sound that ends the hold.")),
    },
)
