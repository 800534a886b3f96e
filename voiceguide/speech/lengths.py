"""Speech lengths the cache already knows, read without the speech engine or numpy.

`voiceguide list` shows each routine's length. An estimate from word counts is off by a minute or
more on a 20-minute session, while the cache holds the real clips of every session exported or
played. Reading a clip's header (its frame count and sample rate) gives the exact length the
compiler would measure, at the cost of a small file read, so `list` stays fast and says "~" only
when something is still a guess.

The cache key includes the engine's version, which takes the engine module to compute. The
version last used is therefore noted beside the cache (one small file per engine) whenever clips
are keyed; until then, lengths are estimates.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voiceguide.routine.voice import VoiceSettings
from voiceguide.soundinfo import sound_info
from voiceguide.timeline.durations import EstimatedDurations
from voiceguide.units import US

MAGIC = b"VGSPEECH2\n"  # 2: CRC-32 instead of SHA-256 (as fit to catch damage, 3x faster)
SUFFIX = ".clip"
ENV = "VOICEGUIDE_CACHE_DIR"
_HEADER_MAX = 64 << 10  # a header is a few hundred bytes; anything longer is not ours

_MARKUP = re.compile(r"<[^<>]*>")
_SPACE = re.compile(r"\s+")


def speakable(text: str) -> str:
    """The text as the engine should get it: no markup (engines read ``<break/>`` aloud), one
    space between words. Pauses belong in the routine, not in the text."""
    return _SPACE.sub(" ", _MARKUP.sub(" ", text)).strip()


def cache_dir() -> Path:
    """Where clips are kept: ``$VOICEGUIDE_CACHE_DIR`` or ``<user cache>/voiceguide/speech``."""
    override = os.environ.get(ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("voiceguide", appauthor=False)) / "speech"


def canonical(key: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(key), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def key_digest(key: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(key)).hexdigest()


def clip_path(root: Path, key: Mapping[str, Any]) -> Path:
    digest = key_digest(key)
    return root / digest[:2] / (digest + SUFFIX)


def speech_key(engine: str, version: str, settings: VoiceSettings, text: str) -> dict[str, Any]:
    """Everything that changes the audio. The voice is keyed as asked (or by language when
    unset), so a warm cache never needs to start the engine."""
    return {
        "engine": engine,
        "version": version,
        "voice": settings.voice or f"lang:{settings.language}",
        "rate": int(settings.rate),
        "volume": round(float(settings.volume), 4),
        "text": speakable(text),
    }


def _version_file(root: Path, engine: str) -> Path:
    return root / f"engine-{re.sub(r'[^A-Za-z0-9_-]', '_', engine)}.version"


def note_engine_version(root: Path, engine: str, version: str) -> None:
    """Remember the version clips are keyed with, for :func:`known_engine_version`.

    Rewritten only when it changed; a cache that cannot be written only loses the exact lengths."""
    path = _version_file(root, engine)
    with contextlib.suppress(OSError):
        if path.read_text("utf-8") == version:
            return
    with contextlib.suppress(OSError):
        root.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
        tmp.write_text(version, "utf-8")
        os.replace(tmp, path)


def known_engine_version(root: Path, engine: str) -> str | None:
    try:
        return _version_file(root, engine).read_text("utf-8") or None
    except OSError:
        return None


def clip_length_us(path: Path, key: Mapping[str, Any]) -> int | None:
    """The length of the cached clip at ``path`` from its header, or None when it is missing,
    damaged, cut short or another key's (the samples are not read, so their checksum is not
    checked: for lengths shown and estimated, never for what is placed)."""
    try:
        with path.open("rb") as f:
            head = f.read(len(MAGIC) + 4)
            if len(head) != len(MAGIC) + 4 or not head.startswith(MAGIC):
                return None
            (size,) = struct.unpack("<I", head[len(MAGIC) :])
            if size > _HEADER_MAX:
                return None
            header = json.loads(f.read(size).decode("utf-8"))
            file_size = os.fstat(f.fileno()).st_size
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    try:
        if header.get("key") != json.loads(canonical(key)):
            return None
        rate, channels, frames = int(header["rate"]), int(header["channels"]), int(header["frames"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    if rate <= 0 or channels not in (1, 2) or frames < 0:
        return None
    if file_size != len(MAGIC) + 4 + size + frames * channels * 2:  # cut short (or too long)
        return None
    return (frames * US + rate // 2) // rate  # exactly Clip.duration_us


class CachedLengths:
    """The compiler's durations from the speech cache where it holds a clip, estimates elsewhere.

    ``exact`` stays True while every utterance asked for was found, so the caller knows whether the
    total it compiled is the session's real length or an estimate."""

    def __init__(self, settings: VoiceSettings, sounds: Mapping[str, str], root: Path | None = None) -> None:
        self.settings = settings
        self.root = root if root is not None else cache_dir()
        self.version = known_engine_version(self.root, settings.engine)
        self._guess = EstimatedDurations(settings.rate, dict(sounds))
        self._sounds = dict(sounds)
        self.exact = self.version is not None

    def speech_us(self, text: str) -> int:
        if not speakable(text):
            return 0  # nothing is spoken (an empty clip)
        if self.version is not None:
            key = speech_key(self.settings.engine, self.version, self.settings, text)
            length = clip_length_us(clip_path(self.root, key), key)
            if length is not None:
                return length
        self.exact = False
        return self._guess.speech_us(text)

    def sound_us(self, name: str) -> int:
        info = sound_info(Path(self._sounds[name]))
        return (info.frames * US + info.sample_rate // 2) // info.sample_rate  # as Clip.duration_us
