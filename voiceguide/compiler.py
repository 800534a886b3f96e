"""Routine → timeline. Pure: speech and sound lengths come from a :class:`~voiceguide.media.Durations`.

Compilation has two stages so the player can start at once: :func:`plan` turns each top-level step
into a list of operations that needs no durations; :func:`layout` places one step's operations on
the clock. :func:`compile_routine` lays out every step, one after another.

Timing rules (documented in docs/routine-format.md): sequential speech takes exactly its length;
a *block* (a hold, or a breathing phase) lasts exactly its duration and its cues sit at fixed
offsets inside it, so nothing spoken can lengthen a hold. A cue that does not fit before the next
one is a problem reported with the step's file and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import Problem, RoutineError
from .media import Durations
from .phrases import caution_sentence, merged, number_word, say, time_words
from .routine import (
    Breathe,
    Origin,
    Pause,
    PointStep,
    Repeat,
    Routine,
    Say,
    Section,
    SoundStep,
    StepT,
)
from .timeline import US, Event, PointInfo, Span, Step, Timeline, VoiceSettings

MAX_SESSION_US = 6 * 3600 * US
CHIME_SLOT_US = 700_000  # the bell rings on under "release"; this is when "release" starts
FIRST_REMINDER_US = 5 * US  # no "time left" right on top of "press now"


# ---- operations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Speak:
    text: str
    role: str


@dataclass(frozen=True)
class Play:
    sound: str
    role: str
    slot_us: int | None = None  # None: wait for the whole sound


@dataclass(frozen=True)
class Silence:
    duration_us: int


@dataclass(frozen=True)
class Block:
    """A stretch of exactly ``duration_us`` with cues at fixed offsets from its start."""

    kind: str  # hold | inhale | hold-in | exhale | hold-out
    duration_us: int
    cues: tuple[tuple[int, Speak | Play], ...]
    side: str = ""
    point: PointInfo | None = None  # the point being held, for live views


Op = Speak | Play | Silence | Block


@dataclass(frozen=True)
class StepPlan:
    title: str
    kind: str
    ops: tuple[Op, ...]
    origin: Origin
    point: PointInfo | None = None


@dataclass(frozen=True)
class StepLayout:
    step: Step
    events: tuple[Event, ...]
    spans: tuple[Span, ...]
    problems: tuple[Problem, ...] = ()


# ---- planning --------------------------------------------------------------------------------


def voice_settings(
    routine: Routine,
    *,
    engine: str | None = None,
    voice: str | None = None,
    rate: int | None = None,
    volume: float | None = None,
) -> VoiceSettings:
    """The voice for a session: command-line choices win over the routine's, then defaults."""
    return VoiceSettings(
        engine=engine or routine.engine or "pyttsx3",
        voice=voice or routine.voice.name,
        rate=rate or routine.voice.rate or 160,
        volume=volume
        if volume is not None
        else (routine.voice.volume if routine.voice.volume is not None else 1.0),
        language=routine.language,
    )


def plan(routine: Routine) -> tuple[StepPlan, ...]:
    """One plan per top-level step, preceded by the introduction (title, notices, cautions)."""
    phrases = merged(routine.phrases)
    intro: list[Op] = [Speak(say(phrases, "welcome", title=routine.title), "title")]
    if routine.avoided or routine.cautions:
        intro.append(Speak(say(phrases, "before_you_begin"), "caution"))
    if routine.avoided:
        intro.append(Speak(say(phrases, "avoided", tags=" and ".join(routine.avoid_tags)), "avoided"))
    intro.extend(Speak(say(phrases, "caution", text=c), "caution") for c in routine.cautions)
    intro.append(Silence(US))
    plans = [StepPlan("Introduction", "intro", tuple(intro), Origin(str(routine.source), 1, 1))]
    announced: set[str] = set()
    for step in routine.steps:
        ops = tuple(_ops(step, routine, phrases, announced))
        plans.append(StepPlan(_title(step), _kind(step), ops, step.origin, _point_info(step)))
    return tuple(plans)


def _kind(step: StepT) -> str:
    return {
        Say: "say",
        Pause: "pause",
        Breathe: "breathe",
        PointStep: "point",
        SoundStep: "sound",
        Section: "section",
        Repeat: "repeat",
    }[type(step)]


def _title(step: StepT) -> str:
    if isinstance(step, Section):
        return step.title
    if step.title:
        return step.title
    if isinstance(step, PointStep):
        return f"{step.point.code} {step.name}"
    if isinstance(step, Say):
        return step.text if len(step.text) <= 48 else step.text[:47].rstrip() + "…"
    if isinstance(step, Pause):
        return f"Pause {step.duration_us / US:g} s"
    if isinstance(step, Breathe):
        pattern = "-".join(f"{p / US:g}" for p in step.phases_us)
        return f"Breathe {pattern} ×{step.cycles}"
    if isinstance(step, SoundStep):
        return f"Sound: {step.sound}"
    return f"Repeat ×{step.times}"


def _point_info(step: StepT) -> PointInfo | None:
    if not isinstance(step, PointStep):
        return None
    return PointInfo(step.point.code, step.name, step.point.pinyin, step.location, step.sides)


def _ops(step: StepT, routine: Routine, phrases: Mapping[str, str], announced: set[str]) -> list[Op]:
    if isinstance(step, Say):
        return [Speak(step.text, "say")]
    if isinstance(step, Pause):
        return [Silence(step.duration_us)]
    if isinstance(step, SoundStep):
        return [Play(step.sound, "sound")]
    if isinstance(step, Breathe):
        return _breathe_ops(step, phrases)
    if isinstance(step, PointStep):
        return _point_ops(step, routine, phrases, announced)
    inner: list[Op] = []
    times = step.times if isinstance(step, Repeat) else 1
    for _ in range(times):
        for sub in step.steps:
            inner.extend(_ops(sub, routine, phrases, announced))
    return inner


_PHASES = (
    ("inhale", "breathe_in", "count_in", "inhale"),
    ("hold-in", "hold_in", "count_hold", "hold"),
    ("exhale", "breathe_out", "count_out", "exhale"),
    ("hold-out", "hold_out", "count_hold", "hold"),
)


def _breathe_ops(step: Breathe, phrases: Mapping[str, str]) -> list[Op]:
    ops: list[Op] = []
    for _ in range(step.cycles):
        for (kind, word_key, count_key, tone), length in zip(_PHASES, step.phases_us, strict=False):
            if not length:
                continue
            cues: list[tuple[int, Speak | Play]]
            if step.cue == "tones":
                cues = [(0, Play(tone, kind, slot_us=length))]
            elif step.cue == "words":
                cues = [(0, Speak(say(phrases, word_key), kind))]
            else:
                cues = [(0, Speak(say(phrases, count_key), kind))]
                n = 2
                while n * US <= length:  # only whole seconds: a count word gets its full second
                    cues.append(((n - 1) * US, Speak(number_word(n, phrases), "count")))
                    n += 1
            ops.append(Block(kind, length, tuple(cues)))
    return ops


def _hold(step: PointStep, phrases: Mapping[str, str], side: str) -> list[Op]:
    hold = step.hold_us
    cues: list[tuple[int, Speak | Play]] = [(0, Speak(say(phrases, "press_now"), "press"))]
    countdown_us = step.countdown * US
    if step.remind_every_us:
        remaining = (hold - 1) // step.remind_every_us * step.remind_every_us
        while remaining > countdown_us and remaining > 0:
            if remaining % US == 0 and hold - remaining >= FIRST_REMINDER_US:
                text = say(phrases, "time_left", time=time_words(remaining // US, phrases))
                cues.append((hold - remaining, Speak(text[:1].upper() + text[1:], "reminder")))
            remaining -= step.remind_every_us
    for n in range(min(step.countdown, hold // US - 1), 0, -1):
        cues.append((hold - n * US, Speak(number_word(n, phrases), "countdown")))
    return [
        Block("hold", hold, tuple(sorted(cues, key=lambda c: c[0])), side, _point_info(step)),
        Play(step.chime, "chime", slot_us=CHIME_SLOT_US),
        Speak(say(phrases, "release"), "release"),
    ]


def _point_ops(
    step: PointStep, routine: Routine, phrases: Mapping[str, str], announced: set[str]
) -> list[Op]:
    ops: list[Op] = []
    if step.point.code not in announced:
        announced.add(step.point.code)
        for tag in step.point.cautions:
            ops.append(Speak(caution_sentence(routine.caution_texts, tag), "caution"))
    ops.append(Speak(say(phrases, "point_intro", name=step.name), "intro"))
    ops.append(Speak(step.location, "location"))
    ops.append(Speak(step.technique, "technique"))
    if step.sides == "alternate":
        ops.append(Speak(say(phrases, "left_side"), "side"))
        ops.extend(_hold(step, phrases, "left"))
        ops.append(Speak(say(phrases, "switch_sides"), "switch"))
        ops.append(Speak(say(phrases, "right_side"), "side"))
        ops.extend(_hold(step, phrases, "right"))
    else:
        ops.extend(_hold(step, phrases, "both" if step.sides == "together" else ""))
    return ops


def op_texts(op: Op) -> list[str]:
    """The texts one operation speaks, in order."""
    if isinstance(op, Speak):
        return [op.text]
    if isinstance(op, Block):
        return [cue.text for _, cue in op.cues if isinstance(cue, Speak)]
    return []


def op_sounds(op: Op) -> list[str]:
    """The cue sounds one operation plays, in order."""
    if isinstance(op, Play):
        return [op.sound]
    if isinstance(op, Block):
        return [cue.sound for _, cue in op.cues if isinstance(cue, Play)]
    return []


def utterances(step_plan: StepPlan) -> list[str]:
    """Every text the step speaks, in order (what the player synthesizes ahead)."""
    return [text for op in step_plan.ops for text in op_texts(op)]


# ---- layout ----------------------------------------------------------------------------------


class _Cursor:
    def __init__(self, index: int, start_us: int) -> None:
        self.index = index
        self.t = start_us
        self.events: list[Event] = []
        self.spans: list[Span] = []

    def add(self, kind: str, duration_us: int, text: str = "", sound: str = "", role: str = "") -> None:
        if duration_us <= 0:
            return
        last = self.events[-1] if self.events else None
        if kind == "silence" and last is not None and last.kind == "silence":
            self.events[-1] = Event("silence", last.start_us, last.duration_us + duration_us, self.index)
        else:
            self.events.append(Event(kind, self.t, duration_us, self.index, text, sound, role))  # type: ignore[arg-type]
        self.t += duration_us


def layout(step_plan: StepPlan, durations: Durations, index: int, start_us: int) -> StepLayout:
    """Place one step's operations on the session clock, starting at ``start_us``."""
    cur = _Cursor(index, start_us)
    problems: list[Problem] = []
    for op in step_plan.ops:
        if isinstance(op, Speak):
            cur.add("speech", durations.speech_us(op.text), text=op.text, role=op.role)
        elif isinstance(op, Silence):
            cur.add("silence", op.duration_us)
        elif isinstance(op, Play):
            length = durations.sound_us(op.sound)
            cur.add(
                "sound",
                min(length, op.slot_us) if op.slot_us else length,
                sound=op.sound,
                role=op.role,
            )
        else:
            _layout_block(op, durations, cur, step_plan, problems)
    step = Step(
        index,
        step_plan.title,
        step_plan.kind,
        start_us,
        cur.t - start_us,
        step_plan.point,
        str(step_plan.origin),
    )
    return StepLayout(step, tuple(cur.events), tuple(cur.spans), tuple(problems))


def _layout_block(
    block: Block, durations: Durations, cur: _Cursor, step_plan: StepPlan, problems: list[Problem]
) -> None:
    begin = cur.t
    cur.spans.append(Span(block.kind, begin, block.duration_us, cur.index, block.side, block.point))
    for i, (offset, cue) in enumerate(block.cues):
        room = (block.cues[i + 1][0] if i + 1 < len(block.cues) else block.duration_us) - offset
        cur.add("silence", begin + offset - cur.t)
        if isinstance(cue, Speak):
            length = durations.speech_us(cue.text)
            if length > room:
                problems.append(_no_room(step_plan, cue.text, length, room, block))
                length = room
            cur.add("speech", length, text=cue.text, role=cue.role)
        else:
            length = min(durations.sound_us(cue.sound), room)
            cur.add("sound", length, sound=cue.sound, role=cue.role)
    cur.add("silence", begin + block.duration_us - cur.t)


def _no_room(step_plan: StepPlan, text: str, length: int, room: int, block: Block) -> Problem:
    what = "hold" if block.kind == "hold" else f"{block.kind} phase"
    hint = (
        "lower `countdown` or `remind_every`, or lengthen the hold"
        if block.kind == "hold"
        else "lengthen the phase, use `cue: tones`, or raise the voice rate"
    )
    o = step_plan.origin
    return Problem(
        o.file,
        o.line,
        o.column,
        f"the cue {text!r} takes {length / US:.2f} s but only {room / US:.2f} s are free in the {what}",
        path=step_plan.title,
        hint=hint,
    )


def compile_routine(
    routine: Routine, durations: Durations, settings: VoiceSettings | None = None
) -> Timeline:
    """Lay out every step; raises RoutineError naming every cue that does not fit."""
    settings = settings or voice_settings(routine)
    steps: list[Step] = []
    events: list[Event] = []
    spans: list[Span] = []
    problems: list[Problem] = []
    t = 0
    for index, step_plan in enumerate(plan(routine)):
        laid = layout(step_plan, durations, index, t)
        steps.append(laid.step)
        events.extend(laid.events)
        spans.extend(laid.spans)
        problems.extend(laid.problems)
        t = laid.step.end_us
    if t > MAX_SESSION_US:
        problems.append(
            Problem(
                str(routine.source),
                0,
                0,
                f"the session lasts {t / 3600 / US:.1f} hours; the limit is 6",
                hint="shorten holds or repeats, or split the routine",
            )
        )
    if problems:
        raise RoutineError(list(dict.fromkeys(problems)))  # a cue that never fits fails every cycle once
    return Timeline(
        title=routine.title,
        total_us=t,
        steps=tuple(steps),
        events=tuple(events),
        spans=tuple(spans),
        cautions=routine.cautions,
        avoided=routine.avoided,
        voice=settings,
        sounds=tuple(sorted(routine.sounds.items())),
        author=routine.author,
    )
