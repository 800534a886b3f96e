"""The practice history: one JSON line per played session, in the user data folder.

It lets ``play`` pick up where the listener stopped (``--resume``), know whether this machine has
spoken a routine's cautions before (``--skip-intro`` is honoured only then) and lets
``voiceguide history`` show the practice. Each session is appended as one ``write`` on a file
opened for appending, so two sessions ending together never mix their lines, and a line cut
short by a crash is skipped when reading instead of losing the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from voiceguide.routine.library import shipped_scripts_dir, user_data_dir, user_routines_dir

HISTORY_FILE = "history.jsonl"


@dataclass(frozen=True)
class Practice:
    """One played session."""

    routine: str  # how to name it to ``play`` again: a shipped or user name, else a full path
    title: str
    started: str  # local time, ISO 8601 to the second
    minutes: float  # time spent playing (pauses left out)
    completed: bool
    step: int  # the step it stopped at (the one to resume from); the last step when completed
    intro: bool = False  # the introduction, with its spoken cautions, was heard to its end

    @property
    def result(self) -> str:
        if self.completed:
            return "completed"
        return f"stopped at step {self.step}" if self.step else "stopped in the introduction"


def history_path() -> Path:
    return user_data_dir() / HISTORY_FILE


def routine_ref(source: Path) -> str:
    """The shortest name ``play`` finds the routine by again from any folder."""
    resolved = source.resolve()
    for folder in (shipped_scripts_dir(), user_routines_dir()):
        with contextlib.suppress(OSError, ValueError):
            if resolved.parent == folder.resolve():
                return resolved.stem
    return str(resolved)


def now_stamp() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def record(practice: Practice, path: Path | None = None) -> None:
    """Append one session (raises OSError when the folder cannot be written)."""
    path = path if path is not None else history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(practice), ensure_ascii=False, sort_keys=True) + "\n"
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = "\n" + line  # the last session was cut short: keep this one on its own line
        data = line.encode("utf-8")
        written = os.write(fd, data)
        while written < len(data):  # a single write is the rule; a short one is finished here
            written += os.write(fd, data[written:])
        os.fsync(fd)
    finally:
        os.close(fd)


def read_history(path: Path | None = None) -> list[Practice]:
    """Every readable session, oldest first; damaged lines are skipped."""
    path = path if path is not None else history_path()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    sessions: list[Practice] = []
    for line in text.splitlines():
        practice = _parse(line)
        if practice is not None:
            sessions.append(practice)
    return sessions


_TYPES: dict[str, tuple[type, ...]] = {
    "routine": (str,),
    "title": (str,),
    "started": (str,),
    "minutes": (int, float),
    "completed": (bool,),
    "step": (int,),
    "intro": (bool,),
}


def _parse(line: str) -> Practice | None:
    try:
        raw: Any = json.loads(line)
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    values: dict[str, Any] = {}
    for f in fields(Practice):
        if f.name not in raw:
            if f.name == "intro":
                continue
            return None
        value = raw[f.name]
        kinds = _TYPES[f.name]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            return None
        values[f.name] = value
    return Practice(**values)


def last_stopped(routine: str | None = None, path: Path | None = None) -> Practice | None:
    """The most recent session that ended early (of ``routine``, if given), unless that routine
    was played to its end since."""
    finished: set[str] = set()
    for practice in reversed(read_history(path)):
        if routine is not None and practice.routine != routine:
            continue
        if practice.completed:
            finished.add(practice.routine)
        elif practice.routine not in finished:
            return practice
    return None


def cautions_heard(routine: str, path: Path | None = None) -> bool:
    """True once this machine has played the routine's introduction to its end."""
    return any(p.intro and p.routine == routine for p in read_history(path))
