"""Small, deterministic sample operations shared by speech, cue sounds and rendering.

Fades that stop clicks, trimming an engine's padding, channel layout, and resampling (soxr: a
maintained, band-limited resampler whose output depends only on its input).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]


def to_int16(x: npt.NDArray[np.floating] | npt.NDArray[np.integer]) -> Int16Array:
    """Float in [-1, 1] -> int16 with rounding and clipping (deterministic)."""
    scaled = np.rint(np.asarray(x, dtype=np.float64) * 32768.0)
    return np.clip(scaled, -32768, 32767).astype(np.int16)


SOFT_KNEE = 0.89  # about -1 dBFS: above it, sums bend smoothly towards full scale instead of clipping


def soft_clip_int16(mix: npt.NDArray[np.float32]) -> Int16Array:
    """Float samples (full scale = 1.0) as int16 that never clip: the top 1 dB is a smooth knee.

    Where a voice peak meets a bed peak, or a gain lifts a peak, this bends instead of clipping;
    it changes nothing below -1 dBFS. Works in place on ``mix``."""
    over = np.abs(mix) > SOFT_KNEE
    if np.any(over):
        room = 1.0 - SOFT_KNEE
        mag = np.abs(mix[over])
        mix[over] = np.sign(mix[over]) * (SOFT_KNEE + room * np.tanh((mag - SOFT_KNEE) / room))
    mix *= np.float32(32767.0)
    return np.asarray(np.rint(mix), dtype=np.int16)


def with_gain(samples: Int16Array, gain_db: float) -> Int16Array:
    """``samples`` raised (or lowered) by ``gain_db``, peaks bent under full scale, not clipped."""
    if gain_db == 0.0:
        return samples
    mix = samples.astype(np.float32) * np.float32(10.0 ** (gain_db / 20.0) / 32768.0)
    return soft_clip_int16(mix)


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


def resampled_length(frames: int, src: int, dst: int) -> int:
    return (frames * dst + src // 2) // src


def resample(samples: Int16Array, src: int, dst: int) -> Int16Array:
    """Band-limited resampling of int16 audio (mono or stereo) from ``src`` to ``dst`` Hz.

    The length is exactly :func:`resampled_length`, so a clip's place on the clock does not
    depend on the resampler's edge handling.
    """
    if src == dst or samples.shape[0] == 0:
        return samples
    import soxr  # only sessions mixing sample rates pay for it

    out = soxr.resample(samples.astype(np.float64) / 32768.0, src, dst, quality="HQ")
    n_out = resampled_length(samples.shape[0], src, dst)
    if out.shape[0] < n_out:
        out = np.concatenate([out, np.zeros((n_out - out.shape[0], *out.shape[1:]))])
    return to_int16(out[:n_out])


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
