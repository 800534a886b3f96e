"""The voice a session speaks in: the routine's choices, overridden from the command line.

Resolved once, here, so that the compiler, the speech cache key and the player all agree on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.routine.model import Routine

DEFAULT_RATE_WPM = 160
DEFAULT_ENGINE = "pyttsx3"


@dataclass(frozen=True)
class VoiceSettings:
    """How speech should sound; part of the speech cache key."""

    engine: str = DEFAULT_ENGINE
    voice: str | None = None
    rate: int = DEFAULT_RATE_WPM
    volume: float = 1.0
    language: str = "en"


def voice_settings(
    routine: Routine,
    *,
    engine: str | None = None,
    voice: str | None = None,
    rate: int | None = None,
    volume: float | None = None,
) -> VoiceSettings:
    """The voice for a session: command-line choices win over the routine's, then defaults."""
    return VoiceSettings(
        engine=engine or routine.engine or DEFAULT_ENGINE,
        voice=voice or routine.voice.name,
        rate=rate or routine.voice.rate or DEFAULT_RATE_WPM,
        volume=volume
        if volume is not None
        else (routine.voice.volume if routine.voice.volume is not None else 1.0),
        language=routine.language,
    )
