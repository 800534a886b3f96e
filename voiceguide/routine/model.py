"""A validated routine: plain immutable data, produced by :mod:`voiceguide.routine.loader`.

Everything here has already been checked; later stages never need to re-validate or re-read files.
Durations are integer microseconds. ``origin`` lets later stages name the step in a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from voiceguide.errors import Problem
from voiceguide.routine.ambience import AmbienceSetting


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


# The language's defaults, in one place (docs/routine-format.md states the same numbers).
DEFAULT_HOLD_US = 60_000_000  # a point with no hold of its own
DEFAULT_REMIND_EVERY_US = 30_000_000
DEFAULT_COUNTDOWN = 3
DEFAULT_CYCLES = 3  # breathing cycles


@dataclass(frozen=True)
class Defaults:
    hold_us: int | None = None  # None: the point's own default, else DEFAULT_HOLD_US
    remind_every_us: int = DEFAULT_REMIND_EVERY_US
    countdown: int = DEFAULT_COUNTDOWN
    chime: str = "bell"
    breathe_cue: str = "words"
    sides: str | None = None


class StepT(Protocol):
    """Any validated step; each kind's own dataclass lives in :mod:`voiceguide.routine.steps`."""

    @property
    def title(self) -> str: ...

    @property
    def origin(self) -> Origin: ...


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
    ambience: AmbienceSetting | None = None  # the bed under the session from its start
    phrases: Mapping[str, str] = field(default_factory=_frozen)
    sounds: Mapping[str, str] = field(default_factory=_frozen)  # name -> absolute WAV path
    caution_texts: Mapping[str, str] = field(default_factory=_frozen)  # tag -> spoken sentence
    avoided: tuple[str, ...] = ()  # point codes left out because of --avoid
    avoid_tags: tuple[str, ...] = ()
    tag_names: Mapping[str, str] = field(default_factory=_frozen)  # tag -> how the language says it
    # What loading noticed but let pass (an unknown key is ignored): every command that runs the
    # routine prints these first, so a typo never changes a session without a word.
    warnings: tuple[Problem, ...] = ()
