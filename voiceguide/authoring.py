"""Authoring functions behind the CLI, callable from Python too (see ``voiceguide/__init__``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from voiceguide.errors import UsageError, VoiceguideError
from voiceguide.fileio import atomic_write_text
from voiceguide.pipeline import build_timeline, check_file
from voiceguide.routine.catalogue import Point, load_catalogue
from voiceguide.routine.json_schema import json_schema
from voiceguide.routine.library import shipped_routines, user_routines, user_routines_dir
from voiceguide.routine.phrases import PHRASES
from voiceguide.units import format_duration

__all__ = [
    "RoutineEntry",
    "build_timeline",
    "caution_text",
    "check_file",
    "find_points",
    "list_routines",
    "new_routine",
    "phrase_table",
    "schema_text",
    "suggest_points",
    "user_routines_dir",
    "write_text",
]


@dataclass(frozen=True)
class RoutineEntry:
    name: str
    title: str
    length: str  # estimated, "m:ss"; or why it cannot be known
    where: str  # "shipped" | "yours"
    path: Path


def list_routines() -> list[RoutineEntry]:
    """Shipped and user routines with their estimated length (a broken file is listed as such)."""
    entries = []
    for where, paths in (("shipped", shipped_routines()), ("yours", user_routines())):
        for path in paths:
            try:
                timeline = build_timeline(path, estimate=True)
                title, length = timeline.title, "~" + format_duration(timeline.total_us)
            except VoiceguideError:
                title, length = "(has errors: run `voiceguide check`)", "?"
            entries.append(RoutineEntry(path.stem, title, length, where, path))
    return entries


def find_points(query: str | None = None) -> list[Point]:
    catalogue = load_catalogue()
    if not query:
        return list(catalogue.points.values())
    return catalogue.search(query)


def suggest_points(query: str) -> list[str]:
    return load_catalogue().suggest(query)


def caution_text(tag: str) -> str:
    return load_catalogue().caution_text(tag)


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def phrase_table() -> dict[str, str]:
    return dict(PHRASES)


def write_text(path: Path, text: str) -> None:
    atomic_write_text(path, text)


STARTER = """\
# yaml-language-server: $schema=https://voiceguide.invalid/routine.schema.json
# A voiceguide routine. Reference: docs/routine-format.md, or `voiceguide schema`.
# Check it with `voiceguide check {file}`, time it with `voiceguide show --estimate {file}`.
title: {title}
summary: A short routine to adapt.
language: en
voice: {{rate: 150}}              # words per minute; `voiceguide voices` lists voices
defaults:
  hold: 60s                      # how long each point is held (90s, 1m30s, 2m…)
  remind_every: 30s              # "thirty seconds left" during a hold (0 = never)
  countdown: 3                   # "three, two, one" before the hold ends
cautions:                        # printed and spoken before the session starts
  - This routine is not medical advice. Stop if anything hurts.
steps:
  - say: Sit comfortably with your feet flat on the floor, and close your eyes.
  - breathe: {{pattern: 4-4-6, cycles: 3, cue: words}}   # in-hold-out seconds
  - point: LI4                   # `voiceguide points` lists codes, aliases and names
    sides: alternate             # left hand, then right hand, each a full hold
  - pause: 3s
  - say: Let your hands rest. Notice how you feel.
"""


def new_routine(name: str, directory: Path, *, force: bool = False) -> Path:
    """Write a starter routine; refuses to overwrite unless ``force``."""
    stem = name[:-5] if name.endswith(".yaml") else name
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", stem):
        raise UsageError(f"{name!r} is not a good file name; use letters, digits, '-' and '_'")
    if not directory.is_dir():
        raise UsageError(f"the folder {directory} does not exist")
    path = directory / f"{stem}.yaml"
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; pass --force to overwrite it")
    title = stem.replace("-", " ").replace("_", " ").strip().capitalize()
    atomic_write_text(path, STARTER.format(title=title, file=path))
    return path
