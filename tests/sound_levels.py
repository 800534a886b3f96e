"""Loudness of each layer of a session as rendered (before an export normalises the whole).

Shared by tests/test_levels.py (the rules the balance follows) and benchmarks/levels.py (the
figures the docs quote). Measured with pyloudnorm (ITU-R BS.1770), independent of our own meter.
"""

from __future__ import annotations

import numpy as np

from voiceguide.routine.ambience import BEDS

RATE = 22050


def loudness(samples: np.ndarray, rate: int = RATE) -> float:
    """LUFS of ``samples`` (int16 or float, mono or stereo) while they sound: leading and trailing
    silence left out; a sound shorter than BS.1770's 400 ms block is measured in one block."""
    import pyloudnorm

    x = samples.astype(np.float64) / 32768.0 if samples.dtype == np.int16 else samples.astype(np.float64)
    mono = np.abs(x if x.ndim == 1 else x.max(axis=1))
    loud = np.nonzero(mono > 10 ** (-50 / 20))[0]
    x = x[loud[0] : loud[-1] + 1]
    block = min(0.4, x.shape[0] / rate)
    return float(pyloudnorm.Meter(rate, block_size=block).integrated_loudness(x))


def peak_dbfs(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.max(np.abs(samples.astype(np.float64))) / 32768.0))


def voice_loudness(routine: str = "lower-back-pain") -> float:
    """Every sentence of ``routine`` in its own voice, end to end (the pauses are not the voice)."""
    from voiceguide.pipeline import build_timeline
    from voiceguide.speech.clips import speech_clips

    timeline = build_timeline(routine)
    clips = speech_clips(timeline.voice)
    texts = dict.fromkeys(e.text for e in timeline.events if e.kind == "speech")
    said = [clips(text).samples for text in texts]
    return loudness(np.concatenate(said), clips(next(iter(texts))).sample_rate)


def cue_loudness() -> dict[str, tuple[float, float]]:
    """Each shipped cue sound: (LUFS while it sounds, peak dBFS)."""
    from voiceguide.audio.sounds import load_sound
    from voiceguide.routine.library import shipped_sounds_dir

    out: dict[str, tuple[float, float]] = {}
    for path in sorted(shipped_sounds_dir().glob("*.wav")):
        clip = load_sound(path.stem, path)
        out[path.stem] = (loudness(clip.samples, clip.sample_rate), peak_dbfs(clip.samples))
    return out


def bed_loudness(name: str, seconds: float = 30.0) -> float:
    """A shipped bed at volume 0 dB (it is played at ``volume`` under that)."""
    from voiceguide.audio.beds import generated_bed

    return loudness(generated_bed(name, RATE).render(0, round(seconds * RATE)))


__all__ = ["BEDS", "bed_loudness", "cue_loudness", "loudness", "peak_dbfs", "voice_loudness"]
