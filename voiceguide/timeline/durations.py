"""How long things take to hear: the one question the compiler asks of the outside world.

The compiler stays pure by asking a :class:`Durations` object. Estimates need no engine (``check``,
``show --estimate``); the speech module supplies measured durations from real synthesis.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from voiceguide.soundinfo import sound_info
from voiceguide.units import US

_WORD = re.compile(r"[\w']+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
CJK_WORDS_PER_CHARACTER = 0.6  # a character is a syllable; an English word is about 1.5


class Durations(Protocol):
    def speech_us(self, text: str) -> int:
        """Exact (or estimated) length of ``text`` spoken in the session's voice."""
        ...

    def sound_us(self, name: str) -> int:
        """Length of the named cue sound."""
        ...


def estimate_speech_us(text: str, rate_wpm: int) -> int:
    """A deliberately slightly generous estimate: words at the voice rate, plus pauses at commas
    and sentence ends, so cues that fit the estimate usually fit the real voice too."""
    cjk = len(_CJK.findall(text))
    words = len(_WORD.findall(_CJK.sub(" ", text))) + cjk * CJK_WORDS_PER_CHARACTER
    pauses = sum(text.count(c) for c in ",，、") * 0.12 + sum(text.count(c) for c in ".;:!?。；：！？") * 0.25
    seconds = 0.12 + words * 60.0 / max(rate_wpm, 1) + pauses
    return round(seconds * US)


def wav_length_us(path: Path) -> int:
    """Length of a sound file from its header (cheap: no samples are read). Any format the
    audio stage decodes (float or 24-bit WAV, FLAC, Ogg) is measured the same way."""
    info = sound_info(path)
    return round(info.frames * US / info.sample_rate)


class EstimatedDurations:
    """Word-count estimates for speech; sound lengths from the files' headers."""

    def __init__(self, rate_wpm: int, sounds: dict[str, str]) -> None:
        self.rate_wpm = rate_wpm
        self._sounds = sounds
        self._lengths: dict[str, int] = {}

    def speech_us(self, text: str) -> int:
        return estimate_speech_us(text, self.rate_wpm)

    def sound_us(self, name: str) -> int:
        if name not in self._lengths:
            self._lengths[name] = wav_length_us(Path(self._sounds[name]))
        return self._lengths[name]
