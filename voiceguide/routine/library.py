"""Where routines and sounds live: the shipped ones, the user's own folder, and paths.

In a checkout the shipped files are the repository's top-level ``scripts/`` and ``sounds/``; in an
installed wheel they travel inside the package as ``voiceguide/_shipped/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from voiceguide.errors import UsageError
from voiceguide.hints import did_you_mean

_PACKAGE = Path(__file__).resolve().parent.parent  # the voiceguide package
ROUTINE_SUFFIXES = (".yaml", ".yml")


def _shipped(name: str) -> Path:
    inside = _PACKAGE / "_shipped" / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def shipped_scripts_dir() -> Path:
    return _shipped("scripts")


def shipped_sounds_dir() -> Path:
    return _shipped("sounds")


def user_routines_dir() -> Path:
    """The user's own routines; ``VOICEGUIDE_ROUTINES`` overrides the platform's data folder."""
    env = os.environ.get("VOICEGUIDE_ROUTINES")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("voiceguide")) / "routines"


def _routines_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix in ROUTINE_SUFFIXES and not p.name.startswith(("_", ".")) and p.is_file()
    )


def shipped_routines() -> list[Path]:
    return _routines_in(shipped_scripts_dir())


def user_routines() -> list[Path]:
    return _routines_in(user_routines_dir())


def resolve_routine(ref: str | Path) -> Path:
    """A routine file from a path, or a shipped or user routine's name (``lower-back-pain``)."""
    path = Path(ref).expanduser()
    if path.suffix in ROUTINE_SUFFIXES or path.exists() or os.sep in str(ref):
        return path  # a path: the loader reports it if it does not exist
    for folder in (user_routines_dir(), shipped_scripts_dir()):
        for suffix in ROUTINE_SUFFIXES:
            candidate = folder / f"{ref}{suffix}"
            if candidate.is_file():
                return candidate
    names = sorted(p.stem for p in shipped_routines() + user_routines())

    hint = did_you_mean(str(ref), names)
    raise UsageError(
        f"no routine named {str(ref)!r}: not a file, and not a shipped or user routine "
        f"({hint}run `voiceguide list` to see them all)"
    )
