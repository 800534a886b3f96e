"""The compiled session: immutable timed events that renderers, exporters and the player consume.

Times are integer microseconds so that "contiguous" and "total = sum of parts" hold exactly,
with no floating-point drift over a two-hour session; seconds are derived for display and JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from voiceguide.errors import Problem
from voiceguide.routine.ambience import Ambience
from voiceguide.routine.ops import PointInfo
from voiceguide.routine.voice import VoiceSettings
from voiceguide.units import us_to_s

EventKind = Literal["speech", "silence", "sound"]


@dataclass(frozen=True)
class Event:
    """One thing heard (or the silence between), placed exactly on the session clock.

    Events tile the session: each starts where the previous one ends. A sound's audio may ring
    on past its event (a bell's decay) and is then mixed under what follows.
    """

    kind: EventKind
    start_us: int
    duration_us: int
    step: int  # index into Timeline.steps
    text: str = ""  # what is said (speech only)
    sound: str = ""  # sound name (sound only)
    role: str = ""  # what the cue means: intro, press, reminder, countdown, release, inhale, ...

    @property
    def end_us(self) -> int:
        return self.start_us + self.duration_us

    @property
    def start(self) -> float:
        return us_to_s(self.start_us)

    @property
    def duration(self) -> float:
        return us_to_s(self.duration_us)


@dataclass(frozen=True)
class Span:
    """A stretch the listener times with their body: a hold on a point, or one breath phase."""

    kind: str  # "hold" | "inhale" | "hold-in" | "exhale" | "hold-out"
    start_us: int
    duration_us: int
    step: int
    side: str = ""  # "left" | "right" | "both" | "" for points; "" for breath
    point: PointInfo | None = None  # for holds: the point pressed (also inside sections and repeats)

    @property
    def end_us(self) -> int:
        return self.start_us + self.duration_us


@dataclass(frozen=True)
class Step:
    """A top-level step of the routine as the listener navigates it (skip, back, split files)."""

    index: int
    title: str
    kind: str  # say | pause | breathe | point | sound | section | repeat | intro
    start_us: int
    duration_us: int
    point: PointInfo | None = None
    source: str = ""  # "file:line" of the step in the routine, for messages

    @property
    def end_us(self) -> int:
        return self.start_us + self.duration_us


@dataclass(frozen=True)
class AmbienceChange:
    """From ``at_us`` on, the background bed is ``ambience`` (crossfading over its ``fade_us``,
    centred on the moment; ``off`` fades it out)."""

    at_us: int
    ambience: Ambience
    step: int  # the top-level step it happens in

    def to_json(self) -> dict[str, Any]:
        a = self.ambience
        out: dict[str, Any] = {"start": us_to_s(self.at_us), "step": self.step, "sound": a.sound}
        if not a.off:
            out.update(volume_db=a.volume_db, duck_db=a.duck_db, fade=us_to_s(a.fade_us))
        return out


@dataclass(frozen=True)
class Timeline:
    title: str
    total_us: int
    steps: tuple[Step, ...]
    events: tuple[Event, ...]
    spans: tuple[Span, ...] = ()
    cautions: tuple[str, ...] = ()
    avoided: tuple[str, ...] = ()  # codes of points left out by --avoid
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    sounds: tuple[tuple[str, str], ...] = ()  # (name, absolute path) of every sound used
    warnings: tuple[Problem, ...] = ()  # what loading the routine let pass (unknown keys…)
    author: str = ""  # the routine's author, named as the artist in exported files
    ambience: tuple[AmbienceChange, ...] = ()  # the background bed's changes, in time order

    @property
    def total_seconds(self) -> float:
        return us_to_s(self.total_us)

    def sound_paths(self) -> dict[str, str]:
        return dict(self.sounds)

    def step_events(self, index: int) -> tuple[Event, ...]:
        return self._events_by_step.get(index, ())

    @cached_property
    def _events_by_step(self) -> dict[int, tuple[Event, ...]]:
        grouped: dict[int, list[Event]] = {}
        for event in self.events:
            grouped.setdefault(event.step, []).append(event)
        return {step: tuple(events) for step, events in grouped.items()}

    def to_json(self) -> dict[str, Any]:
        """The documented ``show --json`` shape (seconds as floats, rounded to the microsecond)."""
        return {
            "title": self.title,
            "total_seconds": self.total_seconds,
            "cautions": list(self.cautions),
            "avoided": list(self.avoided),
            "steps": [
                {
                    "index": s.index,
                    "title": s.title,
                    "kind": s.kind,
                    "start": us_to_s(s.start_us),
                    "duration": us_to_s(s.duration_us),
                    **({"point": s.point.code} if s.point else {}),
                }
                for s in self.steps
            ],
            "events": [_event_json(e) for e in self.events],
            **({"ambience": [c.to_json() for c in self.ambience]} if self.ambience else {}),
        }


def _event_json(e: Event) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": e.kind,
        "start": e.start,
        "duration": e.duration,
        "step": e.step,
    }
    if e.kind == "speech":
        out["text"] = e.text
    elif e.kind == "sound":
        out["sound"] = e.sound
    if e.role:
        out["role"] = e.role
    return out
