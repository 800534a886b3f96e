"""The command line's say over a session's ambience, shared by ``export`` and ``play``.

``--ambience NAME|FILE|off`` replaces the routine's beds for the whole session (keeping the
routine's duck and fade), ``--ambience-volume -22dB`` sets every bed's level. Export applies an
:class:`Override` to the timeline's list of changes; the player, which meets the changes one
step at a time, applies it to each ambience as it comes: both hear the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from voiceguide.errors import UsageError
from voiceguide.hints import did_you_mean
from voiceguide.routine.ambience import (
    BEDS,
    DEFAULT_DUCK_DB,
    DEFAULT_FADE_US,
    MAX_VOLUME_DB,
    MIN_VOLUME_DB,
    OFF,
    Ambience,
)
from voiceguide.routine.files import BED_FILE_HINT, bed_file_problem
from voiceguide.timeline.model import AmbienceChange

LEVEL_PATTERN = re.compile(r"^\s*([+-]?(\d+(\.\d*)?|\.\d+))\s*(db|lufs|lu)?\s*$", re.IGNORECASE)


def parse_volume(value: str) -> float:
    """``--ambience-volume``: a level in dB (``-22dB``, ``-22 dB``, ``-22``), in range."""
    found = LEVEL_PATTERN.match(value)
    if found is None or (found.group(4) or "db").lower() != "db":
        raise UsageError(f"--ambience-volume takes a level in dB such as -22dB, not {value!r}")
    db = float(found.group(1))
    if not (MIN_VOLUME_DB <= db <= MAX_VOLUME_DB):
        hint = f"; a bed sits under the voice: write -{db:g}dB" if db > 0 else ""
        raise UsageError(
            f"--ambience-volume {db:g} dB is out of range: "
            f"use {MIN_VOLUME_DB:g} to {MAX_VOLUME_DB:g} dB{hint}"
        )
    return db


def resolve_sound(spec: str) -> str:
    """``--ambience``'s bed: a shipped name, ``off``, or an existing file's absolute path."""
    spec = spec.strip()
    if spec.lower() in (OFF, "none", "no"):
        return OFF
    if spec.lower() in BEDS:
        return spec.lower()
    path = Path(spec).expanduser()
    if path.is_file():
        problem = bed_file_problem(path)  # what `ambience:` in a routine is checked with
        if problem:
            raise UsageError(f"--ambience {spec}: {problem}; {BED_FILE_HINT}")
        return str(path.resolve())
    if path.suffix or "/" in spec:
        raise UsageError(f"--ambience {spec}: no such file; name a sound file or one of {', '.join(BEDS)}")
    raise UsageError(
        f"unknown ambience {spec!r}; {did_you_mean(spec.lower(), BEDS)}choose one of {', '.join(BEDS)}, "
        "a sound file, or off (`voiceguide sounds` lists them)"
    )


@dataclass(frozen=True)
class Override:
    """What the command line asked for: ``sound`` (None: the routine's beds) and ``volume_db``."""

    sound: str | None = None
    volume_db: float | None = None

    @property
    def silent(self) -> bool:
        return self.sound == OFF

    def plays(self, routine_has_bed: bool) -> bool:
        """Whether the session has a bed at all; ``--ambience-volume`` with none is a mistake."""
        plays = not self.silent and (self.sound is not None or routine_has_bed)
        if self.volume_db is not None and not plays:
            raise UsageError(
                "--ambience-volume needs an ambience: add --ambience NAME or `ambience:` to the routine"
            )
        return plays

    def fixed(self, first: Ambience | None) -> Ambience | None:
        """The one bed of the whole session when ``--ambience`` names one: the routine's first
        bed's duck and fade (else the defaults), at ``--ambience-volume`` or the first's level."""
        if self.sound is None or self.sound == OFF:
            return None
        volume = Ambience(OFF).volume_db if first is None else first.volume_db
        return Ambience(
            self.sound,
            volume if self.volume_db is None else self.volume_db,
            DEFAULT_DUCK_DB if first is None else first.duck_db,
            DEFAULT_FADE_US if first is None else first.fade_us,
        )

    def apply(self, ambience: Ambience, first: Ambience | None) -> Ambience:
        """One ambience of the routine's (``first``: its first bed) as the session plays it."""
        if self.silent:
            return Ambience(OFF)
        fixed = self.fixed(first)
        if fixed is not None:
            return fixed
        if self.volume_db is not None and not ambience.off:
            return replace(ambience, volume_db=self.volume_db)
        return ambience

    def changes(self, changes: Sequence[AmbienceChange]) -> tuple[AmbienceChange, ...]:
        """The timeline's list of changes as the session plays it."""
        if self.silent:
            return ()
        first = next((c.ambience for c in changes if not c.ambience.off), None)
        fixed = self.fixed(first)
        if fixed is not None:
            return (AmbienceChange(0, fixed, 0),)
        return tuple(replace(c, ambience=self.apply(c.ambience, first)) for c in changes)


def parse_override(ambience: str | None, volume: str | None) -> Override:
    """The command line's ``--ambience`` and ``--ambience-volume``, checked (UsageError)."""
    return Override(
        None if ambience is None else resolve_sound(ambience),
        None if volume is None else parse_volume(volume),
    )
