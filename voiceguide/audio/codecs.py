"""Reading audio files into clips, by content rather than by name.

libsndfile (through ``soundfile``) decodes WAV in every flavour (8 to 32-bit PCM, float,
extensible, RIFX), AIFF and AIFF-C (macOS speech engines write AIFF whatever the file is called),
FLAC and Ogg. Samples are read as float and converted to int16 here, with rounding, so 16-bit
input comes back bit for bit and every other depth is converted the same way on every machine.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile

from voiceguide.audio.clip import Clip
from voiceguide.audio.dsp import to_int16


class AudioFormatError(ValueError):
    """A file is not audio we can read; the message says why."""


def read_audio(path: str | Path) -> Clip:
    """Read an audio file (WAV, AIFF, FLAC, Ogg) as int16 samples."""
    return decode_audio(Path(path).read_bytes())


def decode_audio(data: bytes) -> Clip:
    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float64", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioFormatError(f"not an audio file libsndfile can read ({_reason(exc)})") from None
    if rate < 1:
        raise AudioFormatError("the file has no sample rate")
    return _finish(samples, int(rate))


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text.split(": ", 1)[-1] if text else type(exc).__name__


def _finish(frames: npt.NDArray[np.float64], rate: int) -> Clip:
    channels = frames.shape[1]
    if channels > 2:  # keep it simple and predictable: fold surround down to stereo
        left = frames[:, 0::2].mean(axis=1)
        right = frames[:, 1::2].mean(axis=1)
        frames = np.stack([left, right], axis=1)
    pcm = to_int16(frames)
    return Clip(pcm[:, 0].copy() if pcm.shape[1] == 1 else pcm, rate)
