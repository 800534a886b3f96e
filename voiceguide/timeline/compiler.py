"""Step plans → timeline. Pure: speech and sound lengths come from a ``Durations`` object.

The routine stage plans each top-level step (:func:`voiceguide.routine.plan.plan`: what is said
and played, no times); :func:`layout` places one step's operations on the clock, so the player can
lay out a step at a time, and :func:`compile_routine` lays out every step, one after another.

Timing rules (documented in docs/routine-format.md): sequential speech takes exactly its length;
a *block* (a hold, or a breathing phase) lasts exactly its duration and its cues sit at fixed
offsets inside it, so nothing spoken can lengthen a hold. A cue that does not fit before the next
one is a problem reported with the step's file and line.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.errors import Problem, RoutineError
from voiceguide.routine.ambience import SILENT, AmbienceSetting
from voiceguide.routine.model import Routine
from voiceguide.routine.ops import Block, Play, SetAmbience, Silence, Speak, StepPlan
from voiceguide.routine.plan import plan
from voiceguide.routine.voice import VoiceSettings, voice_settings
from voiceguide.timeline.durations import Durations
from voiceguide.timeline.model import AmbienceChange, Event, Span, Step, Timeline
from voiceguide.units import US

MAX_SESSION_US = 6 * 3600 * US


@dataclass(frozen=True)
class StepLayout:
    step: Step
    events: tuple[Event, ...]
    spans: tuple[Span, ...]
    problems: tuple[Problem, ...] = ()
    ambience: tuple[tuple[int, AmbienceSetting], ...] = ()  # (when, what) the step changes the bed


# ---- layout ----------------------------------------------------------------------------------


class _Cursor:
    def __init__(self, index: int, start_us: int) -> None:
        self.index = index
        self.t = start_us
        self.events: list[Event] = []
        self.spans: list[Span] = []
        self.ambience: list[tuple[int, AmbienceSetting]] = []

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
        elif isinstance(op, SetAmbience):
            cur.ambience.append((cur.t, op.setting))
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
    return StepLayout(step, tuple(cur.events), tuple(cur.spans), tuple(problems), tuple(cur.ambience))


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
    changes: list[AmbienceChange] = []
    t = 0
    for index, step_plan in enumerate(plan(routine)):
        laid = layout(step_plan, durations, index, t)
        for at_us, setting in laid.ambience:
            now = changes[-1].ambience if changes else SILENT
            changes.append(AmbienceChange(at_us, now.then(setting), index))
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
        warnings=routine.warnings,
        author=routine.author,
        ambience=ambience_changes(changes, t),
    )


def ambience_changes(changes: list[AmbienceChange], total_us: int) -> tuple[AmbienceChange, ...]:
    """The changes that change something: at one moment only the last counts, a change to what
    is already playing is dropped, and nothing at or after the end is kept."""
    out: list[AmbienceChange] = []
    for change in changes:
        if out and out[-1].at_us == change.at_us:
            out.pop()
        before = out[-1].ambience if out else SILENT
        if change.ambience != before and change.at_us < total_us and not (before.off and change.ambience.off):
            out.append(change)
    return tuple(out)
