"""A validated routine: plain immutable data, produced by :mod:`voiceguide.loader`.

Everything here has already been checked; later stages never need to re-validate or re-read files.
Durations are integer microseconds. ``origin`` lets later stages name the step in a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .catalogue import Point


@dataclass(frozen=True)
class Origin:
    """Where a step was written, so later stages can point at it."""

    file: str = ""
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


NOWHERE = Origin()


@dataclass(frozen=True)
class Voice:
    name: str | None = None
    rate: int | None = None  # words per minute
    volume: float | None = None


@dataclass(frozen=True)
class Defaults:
    hold_us: int | None = None  # None: the point's own default, else 60 s
    remind_every_us: int = 30_000_000
    countdown: int = 3
    chime: str = "bell"
    breathe_cue: str = "words"
    sides: str | None = None


@dataclass(frozen=True)
class Say:
    text: str
    title: str = ""
    origin: Origin = NOWHERE


@dataclass(frozen=True)
class Pause:
    duration_us: int
    title: str = ""
    origin: Origin = NOWHERE


@dataclass(frozen=True)
class Breathe:
    phases_us: tuple[int, ...]  # inhale, hold, exhale[, hold]; 0 = skipped
    cycles: int
    cue: str  # words | count | tones
    title: str = ""
    origin: Origin = NOWHERE


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


@dataclass(frozen=True)
class SoundStep:
    sound: str
    title: str = ""
    origin: Origin = NOWHERE


@dataclass(frozen=True)
class Section:
    title: str
    steps: tuple[StepT, ...]
    origin: Origin = NOWHERE


@dataclass(frozen=True)
class Repeat:
    times: int
    steps: tuple[StepT, ...]
    title: str = ""
    origin: Origin = NOWHERE


StepT = Say | Pause | Breathe | PointStep | SoundStep | Section | Repeat


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Routine:
    title: str
    steps: tuple[StepT, ...]
    source: Path
    summary: str = ""
    author: str = ""
    language: str = "en"
    engine: str | None = None
    voice: Voice = field(default_factory=Voice)
    defaults: Defaults = field(default_factory=Defaults)
    cautions: tuple[str, ...] = ()
    phrases: Mapping[str, str] = field(default_factory=_frozen)
    sounds: Mapping[str, str] = field(default_factory=_frozen)  # name -> absolute WAV path
    caution_texts: Mapping[str, str] = field(default_factory=_frozen)  # tag -> spoken sentence
    avoided: tuple[str, ...] = ()  # point codes left out because of --avoid
    avoid_tags: tuple[str, ...] = ()


def iter_points(steps: tuple[StepT, ...]) -> list[PointStep]:
    """Every point step, depth first (sections and repeats included once)."""
    found: list[PointStep] = []
    for step in steps:
        if isinstance(step, PointStep):
            found.append(step)
        elif isinstance(step, (Section, Repeat)):
            found.extend(iter_points(step.steps))
    return found
