"""A sound file's length and layout from its header, cheaply, as the audio stage will read it.

Validating a routine and estimating its timeline need only headers. The standard library's
``wave`` reads a plain PCM header without loading numpy (start-up of ``check`` and ``show``);
anything it refuses (float or 24-bit WAV, WAVE_FORMAT_EXTENSIBLE, FLAC, Ogg) goes to libsndfile,
the decoder the audio stage uses, so a file accepted here is a file that plays.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SoundInfo:
    channels: int
    frames: int
    sample_rate: int


def sound_info(path: str | Path) -> SoundInfo:
    """Raises ValueError or OSError (with libsndfile's reason) for a file that is not audio."""
    try:
        with wave.open(str(path), "rb") as w:
            return SoundInfo(w.getnchannels(), w.getnframes(), w.getframerate())
    except (wave.Error, EOFError):
        pass
    import soundfile  # numpy and libsndfile: only for files the standard library cannot read

    try:
        info = soundfile.info(str(path))
    except RuntimeError as exc:  # soundfile.LibsndfileError
        raise ValueError(str(exc).split(": ", 1)[-1] or "not audio") from None
    return SoundInfo(int(info.channels), int(info.frames), int(info.samplerate))
