"""Choosing a voice: by the name a user wrote, or by the routine's language when none is named.

Engines describe voices differently (espeak-ng says ``en-gb`` and ``gmw/en``, macOS ``en_US``), so
matching here is case-insensitive and treats ``_`` like ``-``. Kept free of engine imports so the
speech engines and the CLI can all use it without import cycles.
"""

from __future__ import annotations

import re

from voiceguide.errors import UsageError
from voiceguide.hints import close_matches, suggestion
from voiceguide.speech.engine import VoiceInfo
from voiceguide.speech.registry import get_engine

__all__ = ["language_rank", "list_voices", "pick_voice", "voices_for_language"]

_SEP = re.compile(r"[/.\\]")


def _norm(tag: str) -> str:
    """``en_US`` / ``EN-us`` / `` en-us `` -> ``en-us``."""
    return tag.strip().replace("_", "-").lower()


def _base(tag: str) -> str:
    return tag.split("-", 1)[0]


def _id_tail(voice_id: str) -> str:
    """The last part of an engine's voice id: ``gmw/en-us`` -> ``en-us`` (espeak names its
    default voice for a language after the language)."""
    return _norm(_SEP.split(voice_id)[-1])


def language_rank(voice: VoiceInfo, language: str) -> int | None:
    """How well ``voice`` fits ``language``: lower is better, ``None`` if it does not speak it.

    0 exact tag, 1 the voice's id names the language, 2 the voice speaks the base language
    (``de`` for ``de-AT``), 3 its id names the base language, 4 + n: a regional variant of the
    base language with n subtags (``en-us`` for ``en``), so plainer variants win. ``zh`` is
    matched as ``cmn``, the code engines give Mandarin voices.
    """
    want = _norm(language)
    if not want:
        return None
    # Engines name Mandarin by its ISO 639-3 code (espeak-ng: `cmn`); routines write `zh`.
    if _base(want) == "zh":
        want = "cmn" + want[2:] if want not in ("zh-cn", "zh-hans") else "cmn"
    base = _base(want)
    tags = [_norm(t) for t in voice.languages if t and t.strip()]
    tail = _id_tail(voice.id)
    if want in tags:
        return 0
    if tail == want:
        return 1
    if base != want and base in tags:
        return 2
    if base != want and tail == base:
        return 3
    variants = [t.count("-") for t in tags if _base(t) == base]
    if variants:
        return 4 + min(variants)
    return None


def voices_for_language(voices: list[VoiceInfo], language: str) -> list[VoiceInfo]:
    """The voices that speak ``language``, best match first (engine order among equals)."""
    ranked: list[tuple[int, int, VoiceInfo]] = []
    for i, v in enumerate(voices):
        rank = language_rank(v, language)
        if rank is not None:
            ranked.append((rank, i, v))
    ranked.sort(key=lambda t: (t[0], t[1]))
    return [v for _, _, v in ranked]


def _named(voices: list[VoiceInfo], requested: str) -> VoiceInfo | None:
    want = requested.strip()
    folded = want.casefold()
    for test in (
        lambda v: v.id == want,
        lambda v: v.id.casefold() == folded,
        lambda v: v.name.casefold() == folded,
        lambda v: _id_tail(v.id) == _norm(want),
    ):
        for v in voices:
            if test(v):
                return v
    return None


def pick_voice(voices: list[VoiceInfo], language: str, requested: str | None) -> str | None:
    """The id of the voice to speak with.

    A named voice (routine ``voice.name`` or ``--voice``) wins and must exist: a typo should stop
    the session before it starts, not silently fall back to another voice. With no name, the best
    voice for the routine's ``language``; ``None`` when none speaks it (use the engine default).
    """
    if requested is not None and requested.strip():
        found = _named(voices, requested)
        if found is not None:
            return found.id
        candidates = [v.id for v in voices] + [v.name for v in voices]
        close = close_matches(requested.strip(), candidates, n=3)
        hint = " " + suggestion(close, sep=", ", end="?", capital=True) if close else ""
        raise UsageError(
            f"unknown voice {requested.strip()!r}.{hint} "
            "Run `voiceguide voices` (add --engine NAME for another engine) to see the voice ids "
            "and names you can use."
        )
    best = voices_for_language(voices, language)
    return best[0].id if best else None


def list_voices(engine: str = "pyttsx3", language: str | None = None) -> list[VoiceInfo]:
    """What ``voiceguide voices`` shows: the engine's voices, or those speaking ``language``."""

    voices = get_engine(engine).voices()
    if language:
        return voices_for_language(voices, language)
    return voices
