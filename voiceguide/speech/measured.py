"""Measured durations: the compiler's durations protocol answered by real synthesis."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from voiceguide.audio.sounds import SoundBank
from voiceguide.routine.voice import VoiceSettings
from voiceguide.speech.clips import speech_clips
from voiceguide.speech.engine import SpeechEngine, speakable


class MeasuredDurations:
    """:class:`voiceguide.media.Durations` from real synthesis (through the cache).

    A speech event's duration is exactly :attr:`Clip.duration_us` of the clip the renderer will
    place, so compiled timelines and rendered audio agree to the sample.
    """

    def __init__(
        self,
        settings: VoiceSettings,
        sounds: Mapping[str, str],
        *,
        engine: SpeechEngine | None = None,
        cache: Any = None,
    ) -> None:

        self.settings = settings
        self.clips = speech_clips(settings, engine=engine, cache=cache)
        self.sounds = SoundBank(sounds)
        self._speech: dict[str, int] = {}

    def speech_us(self, text: str) -> int:
        key = speakable(text)
        if key not in self._speech:
            self._speech[key] = self.clips.ahead(text).duration_us
        return self._speech[key]

    def known_us(self, text: str) -> int | None:
        """The duration if ``text`` was measured already, else None (nothing is read)."""
        return self._speech.get(speakable(text))

    def sound_us(self, name: str) -> int:
        return self.sounds.length_us(name)


def measured_durations(
    settings: VoiceSettings,
    sounds: Mapping[str, str],
    *,
    engine: SpeechEngine | None = None,
    cache: Any = None,
) -> MeasuredDurations:
    """Durations measured by synthesizing each utterance (cached) and reading each sound."""
    return MeasuredDurations(settings, sounds, engine=engine, cache=cache)
