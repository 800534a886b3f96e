"""Cue sounds and the small audio toolkit shared by speech, rendering and export.

Reads WAV (PCM 8/16/24/32-bit, float, WAVE_FORMAT_EXTENSIBLE) and AIFF/AIFF-C without the stdlib
``aifc`` (gone in Python 3.13; macOS speech engines write AIFF whatever the file is called),
converts to int16, resamples deterministically and applies the short fades that stop clicks.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .errors import Problem, RoutineError
from .speech import Clip

Int16Array = npt.NDArray[np.int16]

_WAVE_FORMAT_PCM = 0x0001
_WAVE_FORMAT_IEEE_FLOAT = 0x0003
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE


class AudioFormatError(ValueError):
    """A file is not audio we can read; the message says why."""


# ---------------------------------------------------------------------------------------------
# Reading


def read_audio(path: str | Path) -> Clip:
    """Read a WAV or AIFF file (detected by content, not name) as int16 samples."""
    data = Path(path).read_bytes()
    return decode_audio(data)


def decode_audio(data: bytes) -> Clip:
    if len(data) >= 12 and data[:4] in (b"RIFF", b"RIFX") and data[8:12] == b"WAVE":
        return _decode_wav(data)
    if len(data) >= 12 and data[:4] == b"FORM" and data[8:12] in (b"AIFF", b"AIFC"):
        return _decode_aiff(data)
    raise AudioFormatError("not a WAV or AIFF file")


def _chunks(data: bytes, start: int, big_endian: bool) -> dict[bytes, bytes]:
    fmt = ">I" if big_endian else "<I"
    out: dict[bytes, bytes] = {}
    pos = start
    while pos + 8 <= len(data):
        cid = data[pos : pos + 4]
        (size,) = struct.unpack(fmt, data[pos + 4 : pos + 8])
        body = data[pos + 8 : pos + 8 + size]
        out.setdefault(cid, body)
        pos += 8 + size + (size & 1)
    return out


def _decode_wav(data: bytes) -> Clip:
    big = data[:4] == b"RIFX"
    chunks = _chunks(data, 12, big)
    if b"fmt " not in chunks or b"data" not in chunks:
        raise AudioFormatError("WAV file without a fmt or data chunk")
    fmt = chunks[b"fmt "]
    if len(fmt) < 16:
        raise AudioFormatError("WAV fmt chunk too short")
    e = ">" if big else "<"
    tag, channels, rate, _, block, bits = struct.unpack(e + "HHIIHH", fmt[:16])
    if tag == _WAVE_FORMAT_EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack(e + "H", fmt[24:26])[0]
    if channels < 1 or rate < 1:
        raise AudioFormatError("WAV header has no channels or no sample rate")
    width = block // channels if block else bits // 8
    raw = chunks[b"data"]
    raw = raw[: len(raw) - len(raw) % (width * channels)]
    samples = _to_float(raw, tag, width, big)
    return _finish(samples, channels, rate)


def _to_float(raw: bytes, tag: int, width: int, big: bool) -> npt.NDArray[np.float64]:
    e = ">" if big else "<"
    if tag == _WAVE_FORMAT_IEEE_FLOAT:
        if width not in (4, 8):
            raise AudioFormatError(f"unsupported float sample width {width * 8} bits")
        return np.frombuffer(raw, dtype=f"{e}f{width}").astype(np.float64)
    if tag != _WAVE_FORMAT_PCM:
        raise AudioFormatError(f"unsupported WAV encoding (format tag {tag:#x}); use PCM")
    if width == 1:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if width == 2:
        return np.frombuffer(raw, dtype=f"{e}i2").astype(np.float64) / 32768.0
    if width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        lo, hi = (2, 0) if big else (0, 2)
        v = b[:, lo] | (b[:, 1] << 8) | (b[:, hi] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        return v.astype(np.float64) / float(1 << 23)
    if width == 4:
        return np.frombuffer(raw, dtype=f"{e}i4").astype(np.float64) / float(1 << 31)
    raise AudioFormatError(f"unsupported sample width {width * 8} bits")


def _decode_aiff(data: bytes) -> Clip:
    chunks = _chunks(data, 12, big_endian=True)
    comm, ssnd = chunks.get(b"COMM"), chunks.get(b"SSND")
    if comm is None or ssnd is None or len(comm) < 18:
        raise AudioFormatError("AIFF file without COMM or SSND chunk")
    channels, _frames, bits = struct.unpack(">hIh", comm[:8])
    rate = _extended_to_float(comm[8:18])
    compression = comm[18:22] if data[8:12] == b"AIFC" and len(comm) >= 22 else b"NONE"
    offset = struct.unpack(">I", ssnd[:4])[0]
    raw = ssnd[8 + offset :]
    width = (bits + 7) // 8
    raw = raw[: len(raw) - len(raw) % (width * max(channels, 1))]
    if compression in (b"NONE", b"twos"):
        samples = _to_float(raw, _WAVE_FORMAT_PCM, width, big=True) if width > 1 else (
            np.frombuffer(raw, dtype=np.int8).astype(np.float64) / 128.0
        )
    elif compression == b"sowt":
        samples = _to_float(raw, _WAVE_FORMAT_PCM, width, big=False)
    elif compression in (b"fl32", b"FL32", b"fl64", b"FL64"):
        samples = _to_float(raw, _WAVE_FORMAT_IEEE_FLOAT, width, big=True)
    else:
        raise AudioFormatError(f"unsupported AIFF-C compression {compression!r}")
    if channels < 1 or rate <= 0:
        raise AudioFormatError("AIFF header has no channels or no sample rate")
    return _finish(samples, channels, round(rate))


def _extended_to_float(b: bytes) -> float:
    """IEEE 754 80-bit extended (AIFF's sample rate field)."""
    exp, mant = struct.unpack(">HQ", b)
    sign = -1.0 if exp & 0x8000 else 1.0
    exp &= 0x7FFF
    if exp == 0 and mant == 0:
        return 0.0
    return sign * math.ldexp(float(mant), exp - 16383 - 63)


def _finish(samples: npt.NDArray[np.float64], channels: int, rate: int) -> Clip:
    frames = samples.reshape(-1, channels)
    if channels > 2:  # keep it simple and predictable: fold surround down to stereo
        left = frames[:, 0::2].mean(axis=1)
        right = frames[:, 1::2].mean(axis=1)
        frames = np.stack([left, right], axis=1)
    pcm = to_int16(frames)
    return Clip(pcm[:, 0].copy() if pcm.shape[1] == 1 else pcm, rate)


def to_int16(x: npt.NDArray[np.floating] | npt.NDArray[np.integer]) -> Int16Array:
    """Float in [-1, 1] -> int16 with rounding and clipping (deterministic)."""
    scaled = np.rint(np.asarray(x, dtype=np.float64) * 32768.0)
    return np.clip(scaled, -32768, 32767).astype(np.int16)


# ---------------------------------------------------------------------------------------------
# Shaping


def fade(samples: Int16Array, rate: int, fade_in_s: float, fade_out_s: float) -> Int16Array:
    """Raised-cosine fades at both ends (a copy); lengths are clamped to half the clip."""
    n = samples.shape[0]
    out = samples.astype(np.float64)
    for seconds, at_start in ((fade_in_s, True), (fade_out_s, False)):
        k = min(round(seconds * rate), n // 2)
        if k <= 0:
            continue
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(k) + 0.5) / k)
        if out.ndim == 2:
            ramp = ramp[:, None]
        if at_start:
            out[:k] *= ramp
        else:
            out[n - k :] *= ramp[::-1]
    return np.rint(out).astype(np.int16)


def trim_silence(samples: Int16Array, threshold: int = 16) -> Int16Array:
    """Drop leading and trailing samples quieter than ``threshold`` (engine padding)."""
    level = np.abs(samples.astype(np.int32))
    if level.ndim == 2:
        level = level.max(axis=1)
    loud = np.flatnonzero(level > threshold)
    if loud.size == 0:
        return samples[:0]
    return samples[loud[0] : loud[-1] + 1]


# ---------------------------------------------------------------------------------------------
# Resampling: windowed sinc with a phase table, exact integer positions (no drift, deterministic)

_HALF_TAPS = 16


def resampled_length(frames: int, src: int, dst: int) -> int:
    return (frames * dst + src // 2) // src


@lru_cache(maxsize=16)
def _phase_table(src: int, dst: int) -> tuple[npt.NDArray[np.float64], int, int, int]:
    g = math.gcd(src, dst)
    up, down = dst // g, src // g  # output j sits at input position j*down/up
    cutoff = min(1.0, up / down) * 0.97
    half = math.ceil(_HALF_TAPS / min(1.0, up / down))
    taps = np.arange(-half + 1, half + 1, dtype=np.float64)  # offsets from floor(position)
    phases = (np.arange(up, dtype=np.float64) / up)[:, None]
    x = phases - taps[None, :]  # distance from each input tap to the output position
    window = np.i0(8.0 * np.sqrt(np.clip(1.0 - (x / half) ** 2, 0.0, 1.0))) / np.i0(8.0)
    table = cutoff * np.sinc(cutoff * x) * window
    table /= table.sum(axis=1, keepdims=True)  # unity DC gain for every phase
    return table, up, down, half


def resample(samples: Int16Array, src: int, dst: int) -> Int16Array:
    """Band-limited resampling of int16 audio (mono or stereo) from ``src`` to ``dst`` Hz."""
    if src == dst or samples.shape[0] == 0:
        return samples
    if max(src, dst) // math.gcd(src, dst) > 20000:
        raise ValueError(f"cannot resample {src} Hz to {dst} Hz (use a common rate)")
    table, up, down, half = _phase_table(src, dst)
    n = samples.shape[0]
    n_out = resampled_length(n, src, dst)
    x = samples.astype(np.float64)
    pad = np.zeros((half + 1, *x.shape[1:]))
    padded = np.concatenate([pad, x, pad, pad])
    taps = np.arange(-half + 1, half + 1)
    out = np.empty((n_out, *x.shape[1:]), dtype=np.float64)
    chunk = 4096
    for j0 in range(0, n_out, chunk):
        j = np.arange(j0, min(j0 + chunk, n_out), dtype=np.int64)
        base = (j * down) // up
        phase = (j * down) % up
        idx = base[:, None] + taps[None, :] + half + 1
        w = table[phase]
        if x.ndim == 1:
            out[j0 : j0 + len(j)] = np.einsum("ij,ij->i", padded[idx], w)
        else:
            out[j0 : j0 + len(j)] = np.einsum("ijc,ij->ic", padded[idx], w)
    return np.clip(np.rint(out), -32768, 32767).astype(np.int16)


def as_channels(samples: Int16Array, channels: int) -> Int16Array:
    """Mono <-> stereo so every clip matches the output layout."""
    if channels == 1:
        if samples.ndim == 1:
            return samples
        mono: Int16Array = np.rint(samples.astype(np.float64).mean(axis=1)).astype(np.int16)
        return mono
    if samples.ndim == 1:
        stereo: Int16Array = np.repeat(samples[:, None], 2, axis=1)
        return stereo
    return samples


# ---------------------------------------------------------------------------------------------
# Cue sounds

SOUND_FADE_IN_S = 0.001
SOUND_FADE_OUT_S = 0.005


def load_sound(name: str, path: str | Path) -> Clip:
    """One cue sound, faded a hair at both ends so a file that starts or stops abruptly can't click.

    A broken file is the routine's problem, reported against the file with how to fix it.
    """
    try:
        clip = read_audio(path)
    except FileNotFoundError:
        raise RoutineError([Problem(str(path), 0, 0, f"sound {name!r}: file not found",
                                    hint="check the name, or put the WAV beside the routine")]
                           ) from None
    except (OSError, AudioFormatError, ValueError, struct.error) as exc:
        raise RoutineError([Problem(str(path), 0, 0, f"sound {name!r}: cannot read it ({exc})",
                                    hint="save it as a 16-bit PCM WAV file")]) from None
    return Clip(fade(clip.samples, clip.sample_rate, SOUND_FADE_IN_S, SOUND_FADE_OUT_S),
                clip.sample_rate)


class SoundBank:
    """Cue sounds by name, loaded once on first use (they are short, so they are kept)."""

    def __init__(self, paths: Mapping[str, str]) -> None:
        self.paths = dict(paths)
        self._clips: dict[str, Clip] = {}

    def clip(self, name: str) -> Clip:
        if name not in self._clips:
            if name not in self.paths:
                raise RoutineError([Problem("", 0, 0, f"unknown sound {name!r}",
                                            hint="known: " + ", ".join(sorted(self.paths)))])
            self._clips[name] = load_sound(name, self.paths[name])
        return self._clips[name]

    def length_us(self, name: str) -> int:
        return self.clip(name).duration_us

    def channels(self) -> int:
        """2 when any sound is stereo (the whole session is then stereo), else 1."""
        return 2 if any(self.clip(n).samples.ndim == 2 for n in self.paths) else 1
