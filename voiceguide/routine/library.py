"""Where routines and sounds live: the shipped ones, the user's own folder, and paths.

In a checkout the shipped files are the repository's top-level ``scripts/`` and ``sounds/``; in an
installed wheel they travel inside the package as ``voiceguide/_shipped/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from voiceguide.errors import UsageError
from voiceguide.hints import close_matches, suggestion

_PACKAGE = Path(__file__).resolve().parent.parent  # the voiceguide package
ROUTINE_SUFFIXES = (".yaml", ".yml")


def _shipped(name: str) -> Path:
    inside = _PACKAGE / "_shipped" / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def shipped_scripts_dir() -> Path:
    return _shipped("scripts")


def shipped_sounds_dir() -> Path:
    return _shipped("sounds")


def shipped_docs_dir() -> Path:
    return _shipped("docs")


def user_data_dir() -> Path:
    """voiceguide's folder in the platform's user data place (``VOICEGUIDE_DATA_DIR`` overrides)."""
    env = os.environ.get("VOICEGUIDE_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("voiceguide"))


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


def shipped_routines(language: str | None = None) -> list[Path]:
    """The shipped routines; with ``language`` (other than English), its translations."""
    folder = shipped_scripts_dir()
    if language and language.split("-")[0] != "en":
        folder = folder / language.split("-")[0]
    return _routines_in(folder)


def local_routines() -> list[Path]:
    """Routines in the current folder (what `voiceguide list` marks as "here"): YAML files with
    a top-level `steps:` key, so other YAML lying about is not listed as a broken routine."""
    found = []
    for path in _routines_in(Path.cwd()):
        try:
            head = path.read_text("utf-8", errors="replace")[:200_000]
        except OSError:
            continue
        if any(line.startswith("steps:") for line in head.splitlines()):
            found.append(path)
    return found


def user_routines() -> list[Path]:
    return _routines_in(user_routines_dir())


def resolve_routine(ref: str | Path, language: str | None = None) -> Path:
    """A routine file from a path, or a shipped or user routine's name (``lower-back-pain``).

    With ``language``, a shipped routine's translation (``scripts/es/NAME.yaml``) comes first."""
    path = Path(ref).expanduser()
    if path.suffix in ROUTINE_SUFFIXES or path.exists() or os.sep in str(ref):
        return path  # a path: the loader reports it if it does not exist
    # The current folder first: `voiceguide new my-routine` writes ./my-routine.yaml, and
    # `voiceguide show my-routine` right after must find that file.
    folders = [Path.cwd(), user_routines_dir(), shipped_scripts_dir()]
    if language:
        folders.insert(0, shipped_scripts_dir() / language)
    for folder in folders:
        for suffix in ROUTINE_SUFFIXES:
            candidate = folder / f"{ref}{suffix}"
            if candidate.is_file():
                return candidate
    # A file here is suggested as its path ("./my-routine.yaml"), so a typo of a routine just
    # written with `voiceguide new` points at that file.
    names = {p.stem: p.stem for p in shipped_routines() + user_routines()}
    for path in _routines_in(Path.cwd()):
        names.setdefault(path.stem, f".{os.sep}{path.name}")
    close = close_matches(str(ref), sorted(names))
    hint = suggestion([names[c] for c in close])
    raise UsageError(
        f"no routine named {str(ref)!r}: not a file, and not a shipped or user routine "
        f"({hint}run `voiceguide list` to see them all)"
    )
