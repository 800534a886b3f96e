#!/usr/bin/env python3
"""Generate voiceguide's cue sounds: bell, chime, tick and the three breathing tones.

The sounds are synthesised from tuned partials with natural (exponential) decay, so anyone can
remake or tweak them here instead of hunting for a sample library and its license. Output is
deterministic: the same script always writes byte-identical files.

    python sounds/make_sounds.py                    # rewrite the WAV files beside this script
    python sounds/make_sounds.py --out /tmp/cues    # write them somewhere else
    python sounds/make_sounds.py --measure-speech   # re-measure espeak-ng's loudness (needs sox)

Every file is 22050 Hz, 16-bit, mono, starts and ends in silence (short raised-cosine fades, so
nothing clicks), peaks below -3 dBFS and has about the loudness of espeak-ng speech.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

RATE = 22050
Signal = NDArray[np.float64]

# Active-speech RMS of espeak-ng's default English voice at 145-160 words per minute, with the
# pauses between phrases cut out (sox `silence 1 0.02 1% -1 0.05 1%`, then `stats`). Measured on
# espeak-ng 1.51; `--measure-speech` prints it again for the installed version.
SPEECH_RMS_DB = -19.7
PEAK_LIMIT_DB = -3.0  # no sample may come closer to full scale than this
GATE_DB = -40.0  # loudness is measured over the part of a sound louder than this (like sox's 1%)


@dataclass(frozen=True)
class Partial:
    ratio: float  # frequency relative to the sound's fundamental
    amp: float  # starting amplitude relative to the others
    t60: float  # seconds until this partial has decayed by 60 dB
    detune: float = 0.0  # Hz; a slightly detuned twin makes a slow, natural shimmer


def fade(n: int, length: int, rising: bool) -> Signal:
    """A raised-cosine ramp of ``length`` samples inside an envelope of ``n`` samples."""
    env = np.ones(n)
    length = max(1, min(length, n))
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, length))
    if rising:
        env[:length] = ramp
    else:
        env[n - length:] = ramp[::-1]
    return env


def struck(f0: float, partials: Sequence[Partial], seconds: float, attack: float = 0.004) -> Signal:
    """A struck, freely ringing body (bell, bowl, wood): each partial decays on its own."""
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    out = np.zeros(n)
    for p in partials:
        decay = np.exp(-t * np.log(1000.0) / p.t60)  # -60 dB after t60
        tone = np.sin(2 * np.pi * f0 * p.ratio * t)
        if p.detune:
            twin = np.sin(2 * np.pi * (f0 * p.ratio + p.detune) * t + 0.7)
            tone = (tone + 0.3 * twin) / 1.3  # a gentle beat, never a full cancellation
        out += p.amp * decay * tone
    out *= fade(n, round(attack * RATE), rising=True)
    out *= fade(n, round(0.08 * RATE), rising=False)
    return out


def glide(f_start: float, f_end: float, seconds: float, harmonics: Sequence[float]) -> Signal:
    """A soft tone whose pitch moves smoothly (on a musical, logarithmic scale) from start to end."""
    n = round(seconds * RATE)
    x = np.linspace(0.0, 1.0, n)
    shaped = 0.5 - 0.5 * np.cos(np.pi * x)  # ease in and out of the pitch change
    freq = f_start * (f_end / f_start) ** shaped
    phase = 2 * np.pi * np.cumsum(freq) / RATE
    out = np.zeros(n)
    for k, amp in enumerate(harmonics, start=1):
        out += amp * np.sin(k * phase)
    # A breath-like swell: rise over the first third, settle, then fade to nothing.
    env = np.sin(np.pi * np.clip(x, 0.0, 1.0)) ** 0.6
    out *= env
    out *= fade(n, round(0.03 * RATE), rising=True)
    out *= fade(n, round(0.12 * RATE), rising=False)
    return out


def bell() -> Signal:
    """End of a hold: a warm singing-bowl strike in G4 that rings out in about two and a half seconds."""
    partials = [
        Partial(1.0, 1.0, 2.4, detune=0.9),
        Partial(2.0, 0.12, 1.4),
        Partial(2.76, 0.42, 1.3, detune=1.6),
        Partial(5.40, 0.16, 0.7),
        Partial(8.93, 0.05, 0.35),
    ]
    return struck(392.0, partials, 2.5)


def chime() -> Signal:
    """Section change: two soft, higher notes (G5 then D6), lighter and shorter than the bell."""
    partials = [Partial(1.0, 1.0, 1.25, detune=1.2), Partial(2.76, 0.22, 0.6), Partial(5.40, 0.06, 0.3)]
    first = struck(783.99, partials, 1.8)
    second = struck(1174.66, partials, 1.8 - 0.18)
    out = np.zeros(round(1.8 * RATE))
    out += first
    offset = round(0.18 * RATE)
    out[offset:] += 0.8 * second
    return out


def tick() -> Signal:
    """A gentle wooden tick, like a soft clock: short, low enough not to be shrill."""
    partials = [Partial(1.0, 1.0, 0.09), Partial(2.32, 0.45, 0.05), Partial(4.25, 0.15, 0.03)]
    n = round(0.14 * RATE)
    out = struck(1050.0, partials, 0.14, attack=0.0015)
    out *= fade(n, round(0.02 * RATE), rising=False)
    return out


WARM = (1.0, 0.28, 0.10, 0.04)  # harmonic amplitudes of the breathing tones: soft, flute-like


def inhale() -> Signal:
    """Breathe in: a tone rising a perfect fourth (E4 to A4) over one and a half seconds."""
    return glide(329.63, 440.0, 1.5, WARM)


def hold() -> Signal:
    """Hold: a steady A4, one second."""
    return glide(440.0, 440.0, 1.0, WARM)


def exhale() -> Signal:
    """Breathe out: the rising tone reversed, A4 falling to E4."""
    return glide(440.0, 329.63, 1.5, WARM)


# name -> (maker, loudness relative to speech in dB). Cues sit at or a little under the voice.
SOUNDS: dict[str, tuple[Callable[[], Signal], float]] = {
    "bell": (bell, 0.0),
    "chime": (chime, -2.0),
    "tick": (tick, -2.0),
    "inhale": (inhale, -2.0),
    "hold": (hold, -2.0),
    "exhale": (exhale, -2.0),
}


def db(x: float) -> float:
    return 20.0 * float(np.log10(max(x, 1e-12)))


def gated_rms_db(samples: NDArray[np.floating] | NDArray[np.integer]) -> float:
    """RMS over the audible part only (samples above the gate), in dBFS: a sound's loudness
    while it sounds, comparable to the RMS of speech with its pauses removed."""
    x = np.asarray(samples, dtype=np.float64)
    if np.issubdtype(np.asarray(samples).dtype, np.integer):
        x = x / 32768.0
    # A 10 ms moving envelope so zero crossings inside a tone are not mistaken for silence.
    win = max(1, round(0.01 * RATE))
    env = np.sqrt(np.convolve(x * x, np.ones(win) / win, mode="same"))
    loud = x[env > 10 ** (GATE_DB / 20.0)]
    return db(float(np.sqrt(np.mean(loud * loud)))) if loud.size else -120.0


def peak_db(samples: NDArray[np.integer]) -> float:
    return db(float(np.max(np.abs(samples.astype(np.float64)))) / 32768.0)


def level(signal: Signal, target_rms_db: float) -> NDArray[np.int16]:
    """Scale to the target loudness, but never above the peak limit; quantise to 16 bits."""
    scaled = signal / np.max(np.abs(signal))
    for _ in range(4):  # the gate depends on the level, so settle the gain in a few rounds
        scaled *= 10 ** ((target_rms_db - gated_rms_db(scaled)) / 20.0)
    ceiling = 10 ** ((PEAK_LIMIT_DB - 0.5) / 20.0)  # half a dB of headroom for rounding
    if np.max(np.abs(scaled)) > ceiling:
        scaled *= ceiling / np.max(np.abs(scaled))
    out: NDArray[np.int16] = np.round(scaled * 32767.0).astype(np.int16)
    return out


def write_wav(path: Path, samples: NDArray[np.int16]) -> None:
    """Write atomically: a temporary file in the same folder, renamed into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".wav", dir=path.parent)
    os.close(fd)
    try:
        with wave.open(tmp, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(samples.astype("<i2").tobytes())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render(name: str) -> NDArray[np.int16]:
    maker, relative_db = SOUNDS[name]
    return level(maker(), SPEECH_RMS_DB + relative_db)


def measure_speech() -> float:
    """Active-speech RMS of espeak-ng, measured with sox the same way SPEECH_RMS_DB was."""
    text = ("Sit on a firm chair with your feet flat on the floor. Rest your hands on your thighs. "
            "Breathe in slowly, and let the breath go. Press now. Thirty seconds left. Release.")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), text], check=True)
        stats = subprocess.run(
            ["sox", str(wav), "-n", "silence", "1", "0.02", "1%", "-1", "0.05", "1%", "stats"],
            check=True, capture_output=True, text=True,
        ).stderr
    found = re.search(r"RMS lev dB\s+(-?[\d.]+)", stats)
    if not found:
        raise RuntimeError(f"could not read sox stats output:\n{stats}")
    return float(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="folder to write the WAV files into (default: beside this script)")
    parser.add_argument("--measure-speech", action="store_true",
                        help="print espeak-ng's active-speech RMS (needs espeak-ng and sox) and exit")
    args = parser.parse_args(argv)
    if args.measure_speech:
        print(f"espeak-ng active speech RMS: {measure_speech():.1f} dBFS "
              f"(this script targets {SPEECH_RMS_DB:.1f})")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for name in SOUNDS:
        samples = render(name)
        path = args.out / f"{name}.wav"
        write_wav(path, samples)
        size = path.stat().st_size
        total += size
        print(f"{path.name:11} {len(samples) / RATE:5.2f} s  peak {peak_db(samples):6.1f} dBFS  "
              f"loudness {gated_rms_db(samples):6.1f} dBFS  {size / 1024:6.1f} KiB")
    print(f"total {total / 1024:.1f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
