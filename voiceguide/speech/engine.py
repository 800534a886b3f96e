"""What a speech engine is: the protocol every engine implements, and the text it is given.

Engines turn text into a trimmed :class:`~voiceguide.audio.clip.Clip`; everything above them
(cache, durations, rendering) sees only this protocol, so adding an engine touches one module and
one line of :mod:`voiceguide.speech.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from voiceguide.audio.clip import Clip, empty_clip
from voiceguide.audio.dsp import as_channels, fade, trim_silence
from voiceguide.routine.voice import VoiceSettings
from voiceguide.speech.lengths import speakable

__all__ = ["SpeechEngine", "VoiceInfo", "finish_clip", "speakable"]

SPEECH_FADE_IN_S = 0.002
SPEECH_FADE_OUT_S = 0.005


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    name: str
    languages: tuple[str, ...]


class SpeechEngine(Protocol):
    name: str  # its key in the registry

    def version(self) -> str:
        """Part of the cache key: a new engine version must not reuse old clips."""
        ...

    def voices(self) -> list[VoiceInfo]: ...

    def synthesize(self, text: str, settings: VoiceSettings) -> Clip:
        """The text spoken, with the engine's leading and trailing silence trimmed."""
        ...

    def preload(self) -> None:
        """Start whatever is slow (a model, a worker) so the first utterance is quick."""
        ...

    def close(self) -> None: ...


def finish_clip(clip: Clip) -> Clip:
    """Trim the engine's silence and soften both ends (what every engine returns)."""
    samples = trim_silence(as_channels(clip.samples, 1))
    if samples.shape[0] == 0:
        return empty_clip(clip.sample_rate)
    return Clip(fade(samples, clip.sample_rate, SPEECH_FADE_IN_S, SPEECH_FADE_OUT_S), clip.sample_rate)
