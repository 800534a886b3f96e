"""Background beds: the shipped soundscapes, generated at run time, and the user's own file, looped.

Every bed is *random access*: the sample at frame ``f`` is a pure function of ``f`` (and the bed's
name, seed and rate), so a split file or a player seeking into a step gets exactly the frames a
full render has there, and re-rendering is byte-identical.

Generated beds are a few exactly periodic loops of different lengths (tens of seconds each),
summed: noise shaped in the frequency domain of one FFT is circular, so a loop has no seam at all,
and loops of, say, 37 s and 43 s only line up again after 26 minutes, so nothing audibly repeats.
Memory is a few MB per bed whatever the session's length, and rendering a block is a copy and an
add per layer. A user's file loops with an equal-power crossfade from its end into its start.

Levels: every bed is scaled to :data:`REFERENCE_LUFS` (about the loudness of the voice), so a
``volume`` of -18 dB means "18 dB under the speech" whatever the bed. The names and one-line
descriptions belong to the routine language (:data:`voiceguide.routine.ambience.BEDS`).
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from voiceguide.errors import UsageError
from voiceguide.routine.ambience import BEDS

Float = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
Layer = npt.NDArray[np.floating[Any]]  # a generated loop: float32 (the long ones) or float64

REFERENCE_LUFS = -20.0  # a bed at volume 0 dB is about as loud as the voice

MIN_FILE_S = 1.0  # shorter than this cannot loop smoothly
MAX_FILE_S = 600.0  # a loop longer than 10 minutes gains nothing and costs memory
MAX_FILE_BYTES = 512 << 20
FILE_SEAM_S = 1.0


class Bed(Protocol):
    """A bed sound at one sample rate, mono, around :data:`REFERENCE_LUFS`."""

    rate: int

    def render(self, start: int, n: int) -> Float:
        """Frames ``[start, start + n)`` of the bed (``start`` >= 0, counted from the bed's start)."""
        ...


# ---------------------------------------------------------------------------------------------
# Loops: every generated layer is exactly periodic, so it repeats with no seam at all


def _rng(*parts: int | str) -> np.random.Generator:
    """A generator fixed by names and numbers (``hash()`` is salted per process, so not that)."""
    words: list[int] = []
    for p in parts:
        if isinstance(p, str):
            words.extend(p.encode())
            words.append(0x100)
        else:
            words.append(p & 0xFFFFFFFF)
    return np.random.default_rng(words)


Spectrum = Callable[[F64], F64]  # amplitude response over frequency (Hz)


def _highpass(f: F64, fc: float, order: int = 2) -> F64:
    return 1.0 / np.sqrt(1.0 + (fc / np.maximum(f, 1e-3)) ** (2 * order))


def _lowpass(f: F64, fc: float, order: int = 2) -> F64:
    return 1.0 / np.sqrt(1.0 + (f / fc) ** (2 * order))


def _band(f: F64, lo: float, hi: float, order: int = 2) -> F64:
    return _highpass(f, lo, order) * _lowpass(f, hi, order)


def _pink(f: F64) -> F64:
    return 1.0 / np.sqrt(np.maximum(f, 20.0))


def _brown(f: F64) -> F64:
    return 1.0 / np.maximum(f, 20.0)


_CHUNK = 1 << 16  # frames (or frequency bins) per step where a whole float64 array is not needed


def _noise_loop(rate: int, seconds: float, spectrum: Spectrum, *key: int | str) -> Float:
    """Unit-variance noise with ``spectrum``, exactly periodic in its length.

    Shaping white noise in the frequency domain of one FFT is a *circular* filter: the result is
    stationary all the way round, so its last sample leads into its first like any other pair.

    Memory: a two-hour export's peak is mostly the beds being made (ocean's loops are 117 s), so
    this works in float32/complex64 with scipy's FFT (the FFT's error, about -130 dB, is far under anything
    audible) and draws the noise and evaluates the spectrum a chunk at a time, never holding a
    whole-length float64 array. The random draws are the same numbers as one whole draw.
    """
    import scipy.fft  # in float32 it needs a third of numpy's working memory (numpy 2.4: +79 MB)

    n = round(seconds * rate)
    rng = _rng(*key)
    # One buffer, n/2 + 1 complex64 bins, holds the noise and then (in place) its spectrum.
    buf = np.zeros(n // 2 + 1, dtype=np.complex64)
    white = buf.view(np.float32)[:n]
    for lo in range(0, n, _CHUNK):
        white[lo : lo + _CHUNK] = rng.standard_normal(min(_CHUNK, n - lo))
    del white
    spectrum_ = _rfft_in_place(buf, n) if n % 2 == 0 else scipy.fft.rfft(buf.view(np.float32)[:n])
    del buf
    bins = spectrum_.shape[0]
    for lo in range(0, bins, _CHUNK):
        hi = min(bins, lo + _CHUNK)
        f = np.arange(lo, hi, dtype=np.float64) * (rate / n)  # what rfftfreq gives
        spectrum_[lo:hi] *= spectrum(f).astype(np.float32)
    spectrum_[0] = 0.0  # no DC
    x: Float = _irfft_in_place(spectrum_, n) if n % 2 == 0 else scipy.fft.irfft(spectrum_, n)
    del spectrum_
    x /= np.float32(_std(x))
    return x


def _pairs(m: int) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """Bins ``k`` in 1..m/2 with their mirrors ``m - k``, a chunk at a time (front, back)."""
    for lo in range(1, m // 2 + 1, _CHUNK):
        k = np.arange(lo, min(m // 2 + 1, lo + _CHUNK), dtype=np.int64)
        yield k, m - k


def _rfft_in_place(buf: npt.NDArray[np.complex64], n: int) -> npt.NDArray[np.complex64]:
    """``rfft`` of the ``n`` (even) real samples packed in ``buf`` (n/2 + 1 complex64), in place.

    The textbook half-length trick: the samples read as n/2 complex numbers (even + i*odd), one
    complex FFT of half the length (in place), then each bin pair (k, n/2 - k) untangled. No
    whole-length array besides ``buf``: scipy's own rfft takes 3-4 times the input as scratch.
    """
    m = n // 2
    scipy_fft = _scipy_fft()
    z = scipy_fft.fft(buf[:m], overwrite_x=True)
    if not np.shares_memory(z, buf):  # pragma: no cover - scipy chose to copy
        buf[:m] = z
    del z
    z0 = complex(buf[0])
    for k, j in _pairs(m):
        a, b = buf[k].astype(np.complex128), buf[j].astype(np.complex128)
        for idx, p, q in ((k, a, b), (j, b, a)):
            w = np.exp(-2j * np.pi * idx / n)
            buf[idx] = 0.5 * (p + np.conj(q)) - 0.5j * (p - np.conj(q)) * w
    buf[0] = z0.real + z0.imag
    buf[m] = z0.real - z0.imag
    return buf


def _irfft_in_place(spec: npt.NDArray[np.complex64], n: int) -> Float:
    """``irfft`` to ``n`` (even) samples of ``spec`` (n/2 + 1 complex64 bins), in place: the
    reverse of :func:`_rfft_in_place`; the samples are a float32 view of ``spec``'s memory."""
    m = n // 2
    x0, xm = complex(spec[0]), complex(spec[m])
    for k, j in _pairs(m):
        a, b = spec[k].astype(np.complex128), spec[j].astype(np.complex128)
        for idx, p, q in ((k, a, b), (j, b, a)):
            w = np.exp(2j * np.pi * idx / n)
            spec[idx] = 0.5 * (p + np.conj(q)) + 0.5j * (p - np.conj(q)) * w
    spec[0] = 0.5 * (x0 + xm.conjugate()) + 0.5j * (x0 - xm.conjugate())
    z = _scipy_fft().ifft(spec[:m], overwrite_x=True)
    if not np.shares_memory(z, spec):  # pragma: no cover - scipy chose to copy
        spec[:m] = z
    del z
    return spec[:m].view(np.float32)


def _scipy_fft() -> Any:
    import scipy.fft

    return scipy.fft


def _std(x: Float) -> float:
    """The standard deviation of ``x``, summed in float64 a chunk at a time (no full-size copy)."""
    n = x.shape[0]
    total = sum(float(np.sum(x[lo : lo + _CHUNK], dtype=np.float64)) for lo in range(0, n, _CHUNK))
    mean = total / n
    squares = 0.0
    for lo in range(0, n, _CHUNK):
        part = x[lo : lo + _CHUNK].astype(np.float64) - mean
        squares += float(np.dot(part, part))
    return math.sqrt(squares / n)


def _smooth_loop(rate: int, n: int, period_s: float, *key: int | str) -> F64:
    """Slow random motion in [0, 1] with knots every ~``period_s``, periodic over ``n`` frames.

    Evaluated a chunk at a time: the spline's dozen whole-length float64 temporaries would
    otherwise be the peak of a two-hour export's memory while the bed is made."""
    knots = max(3, round(n / rate / period_s))
    values = _rng(*key).uniform(0.0, 1.0, knots)
    out = np.empty(n, dtype=np.float64)
    for lo in range(0, n, _CHUNK):
        pos = np.arange(lo, min(lo + _CHUNK, n)) * (knots / n)
        i = np.floor(pos).astype(np.int64)
        x = pos - i
        p0, p1, p2, p3 = (values[(i + d) % knots] for d in (-1, 0, 1, 2))
        v = 0.5 * (
            2 * p1
            + (-p0 + p2) * x
            + (2 * p0 - 5 * p1 + 4 * p2 - p3) * x**2
            + (-p0 + 3 * p1 - 3 * p2 + p3) * x**3
        )  # Catmull-Rom: smooth through every knot
        out[lo : lo + pos.shape[0]] = np.clip(v, 0.0, 1.0)
    return out


def _waves_loop(rate: int, n: int, *key: int | str) -> Float:
    """Ocean swell in [0, 1]: a wave every ~9 s, each its own size, a 3.5 s build, a 6 s wash back."""
    count = max(2, round(n / rate / 9.0))
    rng = _rng(*key)
    jitter = rng.uniform(-0.25, 0.25, count)
    sizes = rng.uniform(0.55, 1.0, count)
    length = n / rate
    env = np.zeros(n, dtype=np.float32)  # ocean's is 117 s long: float32 halves it
    for j in range(count):  # each wave only over its 9.5 s (zero elsewhere): little memory
        crest = (j + 0.5 + jitter[j]) * length / count
        lo = math.floor((crest - 3.5) * rate) - 1
        frames = np.arange(lo, math.ceil((crest + 6.0) * rate) + 2) % n
        t = frames / rate
        d = (t - crest + length / 2) % length - length / 2  # seconds from the crest, round the loop
        rise = np.clip((d + 3.5) / 3.5, 0.0, 1.0)
        fall = np.clip(d / 6.0, 0.0, 1.0)
        shape = np.where(d < 0, 0.5 - 0.5 * np.cos(np.pi * rise), 0.5 + 0.5 * np.cos(np.pi * fall))
        env[frames] = np.maximum(env[frames], sizes[j] * shape)
    return env


def _drops_loop(rate: int, seconds: float, per_second: float, *key: int | str) -> F64:
    """Rain drops: short damped pings (0.9-2.7 kHz) at random moments, wrapped round the loop."""
    n = round(seconds * rate)
    rng = _rng(*key)
    count = int(rng.poisson(per_second * seconds))
    out = np.zeros(n)
    ring = round(0.06 * rate)
    t = np.arange(ring) / rate
    attack = 1.0 - np.exp(-t / 0.0008)  # no click at the onset
    onsets = rng.integers(0, n, count)
    freqs = 900.0 * 2.0 ** rng.uniform(0.0, 1.6, count)
    decays = rng.uniform(0.004, 0.012, count)
    amps = 10.0 ** (rng.uniform(-30.0, 0.0, count) / 20.0)  # mostly soft, a few near ones
    for on, fr, dc, am in zip(onsets, freqs, decays, amps, strict=True):
        idx = (on + np.arange(ring)) % n
        out[idx] += am * attack * np.exp(-t / dc) * np.sin(2 * np.pi * fr * t)
    return out


def _tone_loop(
    rate: int, seconds: float, partials: Sequence[tuple[float, float, float, float]], *key: int | str
) -> F64:
    """Sustained partials (Hz, amplitude, beat Hz, swell s), each a whole number of cycles per
    loop (at most 1/(2*seconds) Hz off), so the loop is exactly periodic."""
    n = round(seconds * rate)
    rng = _rng(*key)
    frame = np.arange(n)
    out = np.zeros(n)

    def cycles(hz: float) -> F64:
        return 2 * np.pi * round(hz * seconds) * frame / n

    for hz, amp, beat, swell_s in partials:
        ph = rng.uniform(0.0, 2 * np.pi, 3)
        swell = 0.75 + 0.25 * np.sin(cycles(1.0 / swell_s) + ph[2])
        out += amp * swell * (np.sin(cycles(hz) + ph[0]) + 0.45 * np.sin(cycles(hz + beat) + ph[1]))
    return out


class LayeredBed:
    """A generated bed: a few loops of different lengths summed, so the mix never repeats for
    hours (two loops of 37 s and 43 s only line up again after 26 minutes)."""

    def __init__(self, rate: int, layers: Sequence[npt.NDArray[np.floating[Any]]], gain: float = 1.0) -> None:
        self.rate = rate
        # No copy of a float32 layer at unit gain: a bed's loops are tens of MB at 22 kHz.
        self.layers = tuple(
            np.ascontiguousarray(x if gain == 1.0 else x * gain, dtype=np.float32) for x in layers
        )
        for x in self.layers:
            x.setflags(write=False)

    def render(self, start: int, n: int) -> Float:
        if start < 0 or n < 0:
            raise ValueError("bed frames start at 0")
        return _render_layers(self.layers, start, n)


def _render_layers(layers: Sequence[Float], start: int, n: int) -> Float:
    out = np.zeros(n, dtype=np.float32)
    for loop in layers:
        _add_wrapped(out, loop, start)
    return out


def _add_wrapped(out: Float, loop: Float, start: int) -> None:
    """``out += loop[start:start+len(out)]`` with the loop repeating: slices, not an index array."""
    size = loop.shape[0]
    pos, done = start % size, 0
    while done < out.shape[0]:
        take = min(size - pos, out.shape[0] - done)
        out[done : done + take] += loop[pos : pos + take]
        done += take
        pos = 0


_HALF = 1.0 / math.sqrt(2.0)  # two independent halves of a noise at equal power


def _rain(rate: int, seed: int) -> list[Layer]:
    def hiss(f: F64) -> F64:
        return _pink(f) * _band(f, 250.0, 3500.0) * (1.0 + 0.8 * np.exp(-(((f - 1400.0) / 900.0) ** 2)))

    a = _noise_loop(rate, 41.0, hiss, "rain", seed, 0)
    a *= 0.8 + 0.2 * _smooth_loop(rate, a.shape[0], 7.0, "rain-intensity", seed)
    b = _noise_loop(rate, 53.0, hiss, "rain", seed, 1)
    drops = _drops_loop(rate, 37.0, 30.0, "rain-drops", seed)
    return [_HALF * a, _HALF * b, 0.35 * drops]


def _ocean(rate: int, seed: int) -> list[Float]:
    seconds = 117.0  # thirteen waves
    body = _noise_loop(rate, seconds, lambda f: _brown(f) * _band(f, 45.0, 900.0), "ocean-body", seed)
    swell = _waves_loop(rate, body.shape[0], "ocean-waves", seed)
    # In place, one float32 scratch array: these loops are 10 MB each at 22 kHz, and the sums
    # below would otherwise each make a new one.
    gain = swell * np.float32(0.7)
    gain += np.float32(0.3)
    body *= gain
    np.square(swell, out=gain)
    del swell
    gain += np.float32(0.08)
    gain *= np.float32(0.6)
    wash = _noise_loop(rate, seconds, lambda f: _pink(f) * _band(f, 300.0, 2800.0), "ocean-wash", seed)
    wash *= gain
    del gain
    body += wash
    surf = body
    del wash
    distant = _noise_loop(rate, 43.0, lambda f: _brown(f) * _band(f, 45.0, 600.0), "ocean-far", seed)
    distant *= np.float32(0.25)
    return [surf, distant]


def _brown_noise(rate: int, seed: int) -> list[Layer]:
    def spectrum(f: F64) -> F64:
        return _brown(f) * _highpass(f, 30.0) * _lowpass(f, 2500.0, 1)

    return [_HALF * _noise_loop(rate, s, spectrum, "brown-noise", seed, s) for s in (37, 43)]


def _pink_noise(rate: int, seed: int) -> list[Layer]:
    def spectrum(f: F64) -> F64:
        return _pink(f) * _highpass(f, 40.0) * _lowpass(f, 3000.0, 2)

    return [_HALF * _noise_loop(rate, s, spectrum, "pink-noise", seed, s) for s in (37, 43)]


def _wind(rate: int, seed: int) -> list[Layer]:
    layers: list[Layer] = []
    bands = [(70.0, 320.0, 41.0, 9.0, 1.0), (220.0, 650.0, 53.0, 5.5, 0.7), (500.0, 1300.0, 67.0, 3.7, 0.35)]
    for lo, hi, seconds, period, gain in bands:

        def spectrum(f: F64, lo: float = lo, hi: float = hi) -> F64:
            return _pink(f) * _band(f, lo, hi, 3)

        noise = _noise_loop(rate, seconds, spectrum, "wind", seed, int(lo))
        gust = _smooth_loop(rate, noise.shape[0], 11.0, "wind-gust", seed, int(lo))
        own = _smooth_loop(rate, noise.shape[0], period, "wind-band", seed, int(lo))
        gust *= 0.85  # in place: each sum below would otherwise be one more whole-loop array
        gust += 0.15
        own *= 0.75
        own += 0.25
        own **= 2
        noise *= np.float32(gain)
        noise *= gust
        noise *= own
        layers.append(noise)
    return layers


def _drone(rate: int, seed: int) -> list[Layer]:
    f0 = 98.0  # G2: warm, and clear of mains hum (50/60 Hz) and its low harmonics
    partials = [
        (f0, 1.0, 0.17, 20.0),
        (f0 * 1.5, 0.55, 0.23, 15.0),  # the fifth
        (f0 * 2.0, 0.45, 0.28, 30.0),
        (f0 * 3.0, 0.2, 0.33, 12.0),
        (f0 * 4.0, 0.12, 0.37, 60.0),
        (f0 * 5.52, 0.05, 0.42, 20.0),  # a singing bowl's inharmonic overtone, far down
    ]
    tones = _tone_loop(rate, 60.0, partials, "drone", seed)
    air = _noise_loop(rate, 47.0, lambda f: _brown(f) * _band(f, 80.0, 500.0), "drone-air", seed)
    return [tones, 0.25 * air]


_FACTORIES: dict[str, Callable[[int, int], list[Layer]]] = {
    "rain": _rain,
    "ocean": _ocean,
    "brown-noise": _brown_noise,
    "pink-noise": _pink_noise,
    "wind": _wind,
    "drone": _drone,
}
assert set(_FACTORIES) == set(BEDS), "every bed the language names is generated here"

CALIBRATION_S = 60.0


GENERATOR_VERSION = 2  # change with any edit to the generators: stored beds are then made again


@lru_cache(maxsize=8)
def generated_bed(name: str, rate: int, seed: int = 0, store: Path | None = None) -> LayeredBed:
    """One of the shipped beds (:data:`BEDS`) at ``rate``, scaled to :data:`REFERENCE_LUFS`.

    Generating takes up to a few seconds (long FFTs); with ``store`` (a folder) the loops are kept
    there as float32 and read back in milliseconds next time. A damaged file is made again."""
    if name not in _FACTORIES:
        raise UsageError(f"unknown ambience {name!r}; choose one of {', '.join(BEDS)}, a sound file, or off")
    if store is None:
        return _generate(name, rate, seed)
    path = store / f"{name}-{rate}-{seed}-v{GENERATOR_VERSION}.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            return LayeredBed(rate, [data[k] for k in sorted(data.files)])
    except (OSError, ValueError, KeyError, EOFError):
        pass
    bed = _generate(name, rate, seed)
    try:
        import io

        from voiceguide.fileio import atomic_write_bytes

        buf = io.BytesIO()
        np.savez(buf, *bed.layers)  # the layers are summed: their order is no matter
        store.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, buf.getvalue())
    except Exception:  # a store that cannot be written costs time next run, nothing else
        pass
    return bed


def _generate(name: str, rate: int, seed: int) -> LayeredBed:
    from voiceguide.audio.loudness import LoudnessMeter

    # Scaled in place, then wrapped without a copy: one set of loops in memory, never two.
    layers = [np.ascontiguousarray(x, dtype=np.float32) for x in _FACTORIES[name](rate, seed)]
    meter = LoudnessMeter(rate, true_peak=False)
    total, step = round(CALIBRATION_S * rate), 4 * _CHUNK  # in blocks: the meter works in float64
    for lo in range(0, total, step):
        meter.add(_render_layers(layers, lo, min(step, total - lo)))
    gain = np.float32(10.0 ** ((REFERENCE_LUFS - meter.integrated()) / 20.0))
    for x in layers:
        x *= gain
    return LayeredBed(rate, layers)


# ---------------------------------------------------------------------------------------------
# The user's own file


class LoopBed:
    """A decoded clip looped forever: its tail crossfades (equal power) into its head."""

    def __init__(self, samples: Float, rate: int, seam_s: float = FILE_SEAM_S) -> None:
        n = int(samples.shape[0])
        seam = max(1, min(round(seam_s * rate), n // 3))
        theta = (np.arange(seam) + 0.5) / seam * (np.pi / 2)
        loop = samples[: n - seam].astype(np.float64)
        # The loop's first `seam` frames blend the clip's end (fading out) into its start, so the
        # frame after the loop's last (clip[n - seam - 1]) is, in effect, clip[n - seam]: no jump.
        loop[:seam] = samples[:seam] * np.sin(theta) + samples[n - seam :] * np.cos(theta)
        self.rate = rate
        self.loop = loop.astype(np.float32)
        self.loop.setflags(write=False)

    def render(self, start: int, n: int) -> Float:
        if start < 0 or n < 0:
            raise ValueError("bed frames start at 0")
        idx = (start + np.arange(n, dtype=np.int64)) % self.loop.shape[0]
        return np.asarray(self.loop[idx], dtype=np.float32)


def _problem(path: Path, what: str, fix: str) -> UsageError:
    return UsageError(f"ambience file {path}: {what}; {fix}")


def _decode(path: Path) -> tuple[F64, int]:
    """(frames, channels) float samples and their rate: soundfile first, then ffmpeg."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return _decode_ffmpeg(path)
    _check_header(path, info.samplerate, info.channels, info.frames / max(info.samplerate, 1))
    if info.frames <= 0:
        raise _problem(path, "has no audio in it", "choose a file that plays")
    data, rate = sf.read(
        str(path), dtype="float64", always_2d=True, frames=math.ceil((MAX_FILE_S + 1) * info.samplerate)
    )
    return data, int(rate)


def _decode_ffmpeg(path: Path) -> tuple[F64, int]:
    import soundfile as sf

    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise _problem(
            path,
            "is not WAV, FLAC or OGG and ffmpeg is not installed",
            "convert it to WAV or FLAC, or install ffmpeg",
        )
    with tempfile.TemporaryDirectory(prefix="voiceguide-bed-") as tmp:
        out = Path(tmp) / "bed.wav"
        cmd = [
            ffmpeg,
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(path),
            "-vn",
            "-t",
            str(MAX_FILE_S + 1),
            "-acodec",
            "pcm_f32le",
            "-f",
            "wav",
            str(out),
        ]
        try:
            run = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
        except subprocess.TimeoutExpired:
            raise _problem(path, "took too long to decode", "convert it to WAV or FLAC") from None
        if run.returncode != 0 or not out.exists():
            raise _problem(path, "is not an audio file voiceguide can read", "use WAV, FLAC, OGG or MP3")
        try:
            data, rate = sf.read(str(out), dtype="float64", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise _problem(
                path, "is not an audio file voiceguide can read", "use WAV, FLAC, OGG or MP3"
            ) from exc
    if data.shape[0] == 0:
        raise _problem(path, "has no audio in it", "choose a file that plays")
    _check_header(path, int(rate), int(data.shape[1]), data.shape[0] / rate)
    return data, int(rate)


def _check_header(path: Path, rate: int, channels: int, seconds: float) -> None:
    if rate < 1000 or rate > 768_000:
        raise _problem(path, f"claims a sample rate of {rate} Hz", "re-encode it at 44100 or 48000 Hz")
    if channels < 1 or channels > 64:
        raise _problem(path, f"claims {channels} channels", "re-encode it as mono or stereo")
    if seconds > MAX_FILE_S:
        raise _problem(
            path,
            f"is {seconds / 60:.0f} minutes long (a bed loops, so at most "
            f"{MAX_FILE_S / 60:.0f} minutes are useful)",
            f"trim it, e.g. ffmpeg -i IN -t {MAX_FILE_S:.0f} OUT.flac",
        )


def file_bed(path: str | Path, rate: int) -> LoopBed:
    """A user's sound file as a bed at ``rate``: mono, at the reference loudness, looped."""
    import soxr

    from voiceguide.audio.loudness import LoudnessMeter

    p = Path(path)
    if not p.exists():
        raise _problem(p, "does not exist", "check the name, or write a shipped bed: " + ", ".join(BEDS))
    if p.is_dir():
        raise _problem(p, "is a folder", "name a sound file inside it")
    size = p.stat().st_size
    if size == 0:
        raise _problem(p, "is empty", "choose a file that plays")
    if size > MAX_FILE_BYTES:
        raise _problem(p, f"is {size >> 20} MB", "a bed loops: trim it to a few minutes")
    data, src_rate = _decode(p)
    if not np.all(np.isfinite(data)):
        raise _problem(p, "contains invalid (NaN or infinite) samples", "re-export it from your editor")
    mono = data.mean(axis=1)
    if mono.shape[0] < MIN_FILE_S * src_rate:
        raise _problem(
            p,
            f"is only {mono.shape[0] / src_rate:.2f} s long",
            f"a bed needs at least {MIN_FILE_S:.0f} s to loop without a click",
        )
    if src_rate != rate:
        mono = soxr.resample(mono, src_rate, rate, quality="HQ")
    # Our streaming meter (pyloudnorm's filters, tested equal) rather than pyloudnorm itself, whose
    # import of scipy.signal costs ~0.6 s: the player opens this bed while the first words play.
    meter = LoudnessMeter(rate, true_peak=False)
    meter.add(mono)
    loudness = meter.integrated()
    if not math.isfinite(loudness) or np.max(np.abs(mono)) < 1e-4:
        raise _problem(p, "is silent", "choose a file you can hear")
    gain = 10.0 ** ((REFERENCE_LUFS - loudness) / 20.0)
    return LoopBed((mono * gain).astype(np.float32), rate)


def open_bed(spec: str, rate: int, base: Path | None = None, seed: int = 0, store: Path | None = None) -> Bed:
    """A shipped bed by name (kept in ``store`` once generated), or a sound file (relative paths
    from ``base``)."""
    if spec in _FACTORIES:
        return generated_bed(spec, rate, seed, store)
    path = Path(spec)
    if base is not None and not path.is_absolute():
        path = base / path
    if not path.suffix and not path.exists():
        raise UsageError(f"unknown ambience {spec!r}; choose one of {', '.join(BEDS)}, a sound file, or off")
    return file_bed(path, rate)
