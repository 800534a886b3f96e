"""Authoring functions behind the CLI, callable from Python too (see ``voiceguide/__init__``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from voiceguide.errors import UsageError, VoiceguideError
from voiceguide.fileio import atomic_write_text
from voiceguide.hints import did_you_mean
from voiceguide.pipeline import build_timeline, check_file, compile_cached, load_routine
from voiceguide.routine.ambience import BEDS
from voiceguide.routine.catalogue import Point, load_catalogue
from voiceguide.routine.json_schema import json_schema
from voiceguide.routine.library import (
    local_routines,
    shipped_docs_dir,
    shipped_routines,
    shipped_sounds_dir,
    user_data_dir,
    user_routines,
    user_routines_dir,
)
from voiceguide.routine.locale import check_language, locale_code
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
    "sound_list",
    "suggest_points",
    "user_routines_dir",
    "write_text",
]


@dataclass(frozen=True)
class RoutineEntry:
    name: str
    title: str
    length: str  # "m:ss" measured, "~m:ss" while any speech is an estimate, "?" with errors
    where: str  # "here" (the current folder) | "shipped" | "yours"
    path: Path


def list_routines(language: str | None = None) -> list[RoutineEntry]:
    """Routines here, shipped and the user's own, with their length (a broken file is listed as such).

    The length is the real one when the speech cache holds every utterance (the routine was
    exported or played in this voice), else an estimate marked "~". Nothing is synthesized.
    With ``language``, only the routines written in it (a shipped routine's translation too)."""
    if language is not None:
        language = check_language(language)
    entries = []
    groups = (("here", local_routines()), ("shipped", shipped_routines(language)), ("yours", user_routines()))
    seen: set[Path] = set()
    for where, paths in groups:
        for path in paths:
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            try:
                routine = load_routine(path)
                if language is not None and locale_code(routine.language) != locale_code(language):
                    continue
                timeline, exact = compile_cached(routine)
                title, length = timeline.title, ("" if exact else "~") + format_duration(timeline.total_us)
            except VoiceguideError:
                title, length = "(has errors: run `voiceguide check`)", "?"
            entries.append(RoutineEntry(path.stem, title, length, where, path))
    return entries


def find_points(query: str | None = None) -> list[Point]:
    catalogue = load_catalogue()
    if not query:
        return list(catalogue.points.values())
    return catalogue.search(query)


def resolve_point(query: str) -> Point | None:
    """The point a code, alias or pinyin name names exactly (None for a search word)."""
    return load_catalogue().resolve(query)


def suggest_points(query: str) -> list[str]:
    return load_catalogue().suggest(query)


def caution_text(tag: str) -> str:
    return load_catalogue().caution_text(tag)


CUE_SOUNDS = {  # sounds/README.md describes how each is made
    "bell": "a singing-bowl strike that rings out: the end of a hold (the default chime)",
    "chime": "two soft notes: section changes and the end of a session",
    "tick": "a short wooden tick",
    "inhale": "a soft rising tone: breathe in (breathing cue `tones`)",
    "hold": "a soft steady tone: hold the breath",
    "exhale": "a soft falling tone: breathe out",
}


@dataclass(frozen=True)
class SoundEntry:
    kind: str  # "cue" (`sound:`, `chime:`) | "bed" (`ambience:`)
    name: str
    description: str


def sound_list() -> list[SoundEntry]:
    """The shipped cue sounds and ambience beds, each with one line saying what it is."""
    cues = sorted(p.stem for p in shipped_sounds_dir().glob("*.wav"))
    order = {name: i for i, name in enumerate(CUE_SOUNDS)}
    cues.sort(key=lambda n: (order.get(n, len(order)), n))
    out = [SoundEntry("cue", n, CUE_SOUNDS.get(n, "a cue sound")) for n in cues]
    out += [SoundEntry("bed", n, text) for n, text in BEDS.items()]
    return out


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def phrase_table() -> dict[str, str]:
    return dict(PHRASES)


def write_text(path: Path, text: str) -> None:
    atomic_write_text(path, text)


STARTER = """\
# yaml-language-server: $schema={schema}
# A voiceguide routine. Reference: `voiceguide docs routine-format` (and `voiceguide docs` for more).
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
    schema = installed_schema()
    atomic_write_text(path, STARTER.format(title=title, file=path, schema=schema.as_uri()))
    return path


def installed_schema() -> Path:
    """The JSON Schema written to the user data folder, so an editor validates routines offline
    (yaml-language-server follows a ``file://`` schema line); rewritten when voiceguide changes it."""
    path = user_data_dir() / "routine.schema.json"
    text = schema_text()
    try:
        current = path.read_text("utf-8")
    except OSError:
        current = None
    if current != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    return path


def doc_topics() -> dict[str, Path]:
    """The documentation shipped with voiceguide, by topic (``routine-format``, ``safety`` …)."""
    return {p.stem: p for p in sorted(shipped_docs_dir().glob("*.md"))}


def doc_text(topic: str) -> str:
    topics = doc_topics()
    if topic not in topics:
        hint = did_you_mean(topic, topics)
        raise UsageError(f"no documentation called {topic!r}; {hint}topics: {', '.join(topics)}")
    return topics[topic].read_text("utf-8")
