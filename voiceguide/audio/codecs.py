"""Reading audio files into clips, by content rather than by name.

libsndfile (through ``soundfile``) decodes WAV in every flavour (8 to 32-bit PCM, float,
extensible, RIFX), AIFF and AIFF-C (macOS speech engines write AIFF whatever the file is called),
FLAC and Ogg. Samples are read as float and converted to int16 here, with rounding, so 16-bit
input comes back bit for bit and every other depth is converted the same way on every machine.

Plain 16-bit PCM WAV (the shipped cue sounds, espeak's output) is read directly instead, to the
same samples: importing soundfile and its cffi binding costs ~8 ms of every export's start-up,
and decoding through float64 is slower than taking the bytes as they are.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voiceguide.audio.clip import Clip
from voiceguide.audio.dsp import to_int16


class AudioFormatError(ValueError):
    """A file is not audio we can read; the message says why."""


def read_audio(path: str | Path) -> Clip:
    """Read an audio file (WAV, AIFF, FLAC, Ogg) as int16 samples."""
    return decode_audio(Path(path).read_bytes())


def decode_audio(data: bytes) -> Clip:
    plain = _plain_wav(data)
    if plain is not None:
        return plain
    import soundfile

    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float64", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioFormatError(f"not an audio file libsndfile can read ({_reason(exc)})") from None
    if rate < 1:
        raise AudioFormatError("the file has no sample rate")
    return _finish(samples, int(rate))


def _plain_wav(data: bytes) -> Clip | None:
    """A little-endian 16-bit PCM WAV with one or two channels, or None for anything else
    (extensible headers, other depths, a data chunk that runs past the end: libsndfile's)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if chunk == b"fmt ":
            if size < 16 or body + size > len(data):
                return None
            fmt = struct.unpack_from("<HHIIHH", data, body)
        elif chunk == b"data":
            if fmt is None:
                return None
            tag, channels, rate, _, align, bits = fmt
            if tag != 1 or bits != 16 or channels not in (1, 2) or align != 2 * channels or rate < 1:
                return None
            if body + size > len(data) or size % align:
                return None
            samples = np.frombuffer(data, dtype="<i2", count=size // 2, offset=body).astype(np.int16)
            return Clip(samples.reshape(-1, 2) if channels == 2 else samples, rate)
        pos = body + size + (size & 1)  # chunks are padded to an even length
    return None


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
