"""What a routine may read, and how its files are named in messages.

A routine may include routine files and use sounds only inside its own folder tree or the
shipped scripts and sounds: nothing in a routine can reach the rest of the disk.
"""

from __future__ import annotations

from pathlib import Path

from voiceguide.routine.library import shipped_scripts_dir, shipped_sounds_dir
from voiceguide.routine.schema import Ctx
from voiceguide.routine.source import Mark
from voiceguide.soundinfo import sound_info


def display_path(path: Path) -> str:
    """Paths in messages: relative to the working folder when that is shorter."""
    try:
        rel = path.resolve().relative_to(Path.cwd().resolve())
        return str(rel)
    except ValueError:
        return str(path)


def allowed(path: Path, root: Path) -> bool:
    """True for a file inside ``root`` (the routine's folder) or the shipped scripts and sounds."""
    roots = (root, shipped_scripts_dir().resolve(), shipped_sounds_dir().resolve())
    resolved = path.resolve()
    return any(resolved == r or r in resolved.parents for r in roots)


def find_sound(name: str, here: Path, root: Path, ctx: Ctx, path: str, mark: Mark) -> str | None:
    """The absolute path of the sound ``name`` for a file in folder ``here``; None (after one
    clear problem) when it is missing, outside the routine's tree, or not usable audio."""
    candidates: list[Path] = []
    if name.lower().endswith(".wav"):
        candidates.append(here / name)
    else:
        for folder in (here, here / "sounds", shipped_sounds_dir()):
            candidates.append(folder / f"{name}.wav")
    for candidate in candidates:
        if not candidate.is_file():
            continue
        if not allowed(candidate, root):
            ctx.error(
                mark,
                path,
                f"the sound {name!r} is outside the routine's folder",
                "copy the WAV file next to the routine",
            )
            return None
        try:
            info = sound_info(candidate)
            if info.channels not in (1, 2) or info.frames <= 0:
                raise ValueError("not mono or stereo audio with samples")
        except Exception as exc:  # libsndfile raises assorted errors on malformed files
            ctx.error(
                mark,
                path,
                f"the sound file {display_path(candidate)} is not usable audio "
                f"({str(exc) or type(exc).__name__})",
                "use a WAV file (e.g. `sox in.mp3 -b 16 out.wav`)",
            )
            return None
        return str(candidate.resolve())
    shipped = sorted(p.stem for p in shipped_sounds_dir().glob("*.wav"))
    ctx.error(
        mark,
        path,
        f"unknown sound {name!r}",
        f"shipped sounds: {', '.join(shipped) or 'none'}; or put {name}.wav beside the routine",
    )
    return None


BED_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".aiff", ".aif", ".wma")
_HEADER_READABLE = (".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif")  # libsndfile reads these


def find_bed_file(name: str, here: Path, root: Path, ctx: Ctx, path: str, mark: Mark) -> str | None:
    """The absolute path of an ambience file written ``name`` in a file in folder ``here``; None
    (after one clear problem) when it is missing, outside the routine's tree, empty or not audio.
    Formats libsndfile cannot read (MP3, AAC...) are decoded by ffmpeg when the session is made."""
    candidate = here / name
    if not candidate.exists() and (here / "sounds" / name).exists():
        candidate = here / "sounds" / name
    if not candidate.exists():
        ctx.error(
            mark,
            path,
            f"the ambience file {display_path(candidate)} does not exist",
            "check the name (relative to the routine's folder), or use a shipped bed: rain, ocean, "
            "brown-noise, pink-noise, wind, drone",
        )
        return None
    if not allowed(candidate, root):
        ctx.error(
            mark,
            path,
            f"the ambience file {name!r} is outside the routine's folder",
            "copy the sound file next to the routine",
        )
        return None
    if candidate.is_dir():
        ctx.error(mark, path, f"the ambience {name!r} is a folder", "name a sound file inside it")
        return None
    problem = bed_file_problem(candidate)
    if problem:
        ctx.error(mark, path, f"the ambience file {display_path(candidate)} {problem}", BED_FILE_HINT)
        return None
    return str(candidate.resolve())


BED_FILE_HINT = "use a WAV, FLAC, OGG or MP3 file of at least a second"


def bed_file_problem(path: Path) -> str:
    """What is wrong with an existing file as a bed ("is empty", ...), or "" for nothing found.

    Cheap, before anything is played: the header of what libsndfile reads, the suffix of the rest
    (ffmpeg decodes those when the bed is opened). A header libsndfile refuses is still accepted
    when ffprobe hears audio in the file (Opus in Ogg with an older libsndfile)."""
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        return "is empty"
    if suffix not in BED_SUFFIXES:
        return f"is not a sound file voiceguide knows ({suffix or 'no suffix'})"
    if suffix not in _HEADER_READABLE:
        return ""
    try:
        if sound_info(path).frames <= 0:
            return "has no audio in it"
    except Exception as exc:  # libsndfile raises assorted errors on malformed files
        if not _ffprobe_hears_audio(path):
            return f"is not usable audio ({str(exc) or type(exc).__name__})"
    return ""


def _ffprobe_hears_audio(path: Path) -> bool:
    """Whether ffprobe (if installed) finds an audio stream in ``path``."""
    import shutil
    import subprocess

    probe = shutil.which("ffprobe")
    if probe is None:
        return False
    try:
        found = subprocess.run(
            [probe, "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", str(path)],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return found.returncode == 0 and "audio" in found.stdout.split()
