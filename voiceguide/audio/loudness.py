"""Loudness to ITU-R BS.1770 / EBU R 128, measured and set block by block.

A two-hour session does not fit in memory as floats, so the meter streams: pyloudnorm's K-weighting
filters run with carried state, and only one number per 100 ms is kept (72 000 for two hours),
from which the BS.1770 gated integrated loudness (400 ms blocks, 75 % overlap) and the EBU Tech
3342 loudness range (3 s windows every 100 ms) are computed exactly as on the whole signal.
:func:`integrated_loudness` (pyloudnorm itself) stays for short in-memory signals; the tests hold
the two to the same numbers and both to ffmpeg's ``ebur128``.

True peak is read on a 4x oversampled signal (soxr), and the limiter uses the same reading with a
short lookahead, so it turns the gain down *before* a peak and lets it back up slowly.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
Int16 = npt.NDArray[np.int16]

DEFAULT_TARGET_MONO = -19.0  # LUFS: spoken-word streaming practice for mono
DEFAULT_TARGET_STEREO = -16.0
DEFAULT_CEILING_DBTP = -1.0
#: What a played session is raised by, so that it sounds as loud as its export. The export
#: measures each session and normalises it; the player cannot measure what it has not rendered
#: yet, so it uses the median of the gains the export applies to the nine shipped routines with
#: the default voice (+1.2 to +3.0 dB; `python benchmarks/live_gain.py` measures them again).
LIVE_GAIN_DB = 1.3
MAX_GAIN_DB = 30.0  # a nearly silent session is not raised into a roar of its noise floor

_ABS_GATE = -70.0
_REL_GATE_I = -10.0
_REL_GATE_LRA = -20.0


def default_target(channels: int) -> float:
    return DEFAULT_TARGET_STEREO if channels == 2 else DEFAULT_TARGET_MONO


def as_float(block: npt.NDArray[np.generic]) -> F64:
    """int16 (or float) samples as float64, full scale = 1.0, shape (n, channels)."""
    x = block.astype(np.float64)
    if block.dtype == np.int16:
        x /= 32768.0
    return x.reshape(x.shape[0], -1)


def integrated_loudness(samples: npt.NDArray[np.generic], rate: int) -> float:
    """BS.1770-4 integrated loudness of a short in-memory signal (pyloudnorm); -inf for silence."""
    import pyloudnorm

    x = as_float(samples)
    if x.shape[0] < round(0.4 * rate):
        return -math.inf
    meter = pyloudnorm.Meter(rate)
    return float(meter.integrated_loudness(x[:, 0] if x.shape[1] == 1 else x))


def _k_weighting(rate: int) -> tuple[F64, float]:
    """BS.1770's two K-weighting biquads at ``rate`` as SOS rows: pyloudnorm's design (its
    ``IIRfilter`` high shelf, +4 dB at 1.5 kHz, and high pass at 38 Hz; RBJ cookbook formulas),
    written out so that the export does not import pyloudnorm, which imports all of scipy.signal
    (about 75 MB of memory); tests hold the two to the same coefficients."""
    rows = []
    for gain_db, q, fc, kind in (
        (4.0, 1 / math.sqrt(2), 1500.0, "high_shelf"),
        (0.0, 0.5, 38.0, "high_pass"),
    ):
        a = 10 ** (gain_db / 40.0)
        w0 = 2.0 * math.pi * (fc / rate)
        alpha = math.sin(w0) / (2.0 * q)
        c, r = math.cos(w0), 2 * math.sqrt(a) * alpha
        if kind == "high_shelf":
            b = [
                a * ((a + 1) + (a - 1) * c + r),
                -2 * a * ((a - 1) + (a + 1) * c),
                a * ((a + 1) + (a - 1) * c - r),
            ]
            den = [(a + 1) - (a - 1) * c + r, 2 * ((a - 1) - (a + 1) * c), (a + 1) - (a - 1) * c - r]
        else:
            b = [(1 + c) / 2, -(1 + c), (1 + c) / 2]
            den = [1 + alpha, -2 * c, 1 - alpha]
        rows.append([v / den[0] for v in b] + [v / den[0] for v in den])
    return np.array(rows, dtype=np.float64), 1.0


def _sos_kernel() -> Callable[[F64, F64, F64], None] | None:
    """scipy's compiled second-order-sections loop, loaded on its own: importing it the usual way
    (``scipy.signal``) costs about 75 MB of memory, a two-hour export's whole margin. None when this
    scipy lays it out differently (the meter then uses ``scipy.signal.sosfilt``)."""
    if _KERNEL:
        return _KERNEL[0]
    _KERNEL.append(None)
    try:
        import importlib.machinery
        import importlib.util
        import os

        import scipy

        folder = os.path.join(os.path.dirname(scipy.__file__), "signal")
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, "_sosfilt" + suffix)
            if os.path.exists(path):
                spec = importlib.util.spec_from_file_location(
                    "scipy.signal._sosfilt", path
                )  # its init names it
                if spec is None or spec.loader is None:
                    break
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                kernel = module._sosfilt
                probe = np.ones((1, 8))  # check it behaves as scipy calls it: sos, x (rows), zi
                kernel(np.array([[1.0, 0, 0, 1.0, 0, 0]]), probe, np.zeros((1, 1, 2)))
                if np.allclose(probe, 1.0):
                    _KERNEL[0] = kernel
                break
    except Exception:  # any surprise: the public function
        _KERNEL[0] = None
    return _KERNEL[0]


_KERNEL: list[Callable[[F64, F64, F64], None] | None] = []  # loaded once


def sos_filter(sos: F64, x: F64, zi: F64) -> tuple[F64, F64]:
    """``scipy.signal.sosfilt(sos, x, axis=0, zi=zi)`` for x (n, channels), zi (sections, 2, channels)."""
    kernel = _sos_kernel()
    if kernel is None:
        from scipy.signal import sosfilt

        y, zf = sosfilt(sos, x, axis=0, zi=zi)
        return np.asarray(y, dtype=np.float64), np.asarray(zf, dtype=np.float64)
    rows = np.array(x.T, dtype=np.float64, order="C")  # (channels, n), filtered in place
    state = np.ascontiguousarray(zi.transpose(2, 0, 1), dtype=np.float64)  # (channels, sections, 2)
    kernel(sos, rows, state)
    return rows.T, np.ascontiguousarray(state.transpose(1, 2, 0))


class LoudnessMeter:
    """Integrated loudness, loudness range and true peak of a stream of blocks."""

    def __init__(self, rate: int, channels: int = 1, *, true_peak: bool = True) -> None:
        self.rate = rate
        self.channels = channels
        self._sos, self._gain = _k_weighting(rate)
        self._zi = np.zeros((self._sos.shape[0], 2, channels))
        self._hop = round(rate / 10)
        self._left = np.zeros(0)
        self._subs: list[F64] = []  # sums of K-weighted power, one per 100 ms
        self._peak = TruePeak(rate, channels) if true_peak else None
        self.frames = 0

    def add(self, block: npt.NDArray[np.generic]) -> None:
        x = as_float(block)
        if x.shape[1] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {x.shape[1]}")
        self.frames += x.shape[0]
        if self._peak is not None:
            self._peak.add(x)
        y, self._zi = sos_filter(self._sos, x, self._zi)
        power = np.concatenate([self._left, np.sum((y * self._gain) ** 2, axis=1)])
        whole = power.shape[0] // self._hop * self._hop
        if whole:
            self._subs.append(power[:whole].reshape(-1, self._hop).sum(axis=1))
        self._left = power[whole:]

    def _windows(self, subs_per_window: int) -> F64:
        """Loudness of each window of ``subs_per_window`` 100 ms parts, hopping by one part."""
        subs = np.concatenate(self._subs) if self._subs else np.zeros(0)
        if subs.shape[0] < subs_per_window:
            return np.zeros(0)
        c = np.concatenate([[0.0], np.cumsum(subs)])
        z = (c[subs_per_window:] - c[:-subs_per_window]) / (subs_per_window * self._hop)
        with np.errstate(divide="ignore"):
            return np.asarray(-0.691 + 10.0 * np.log10(z), dtype=np.float64)

    def integrated(self) -> float:
        """BS.1770-4 gated loudness in LUFS (-inf when everything is below the absolute gate)."""
        lj = self._windows(4)
        lj = lj[lj > _ABS_GATE]
        if lj.size == 0:
            return -math.inf
        rel = _power_mean(lj) + _REL_GATE_I
        gated = lj[lj > rel]
        return _power_mean(gated) if gated.size else -math.inf

    def loudness_range(self) -> float:
        """EBU Tech 3342 loudness range in LU (0 when the stream is shorter than 3 s)."""
        st = self._windows(30)
        st = st[st > _ABS_GATE]
        if st.size == 0:
            return 0.0
        st = st[st > _power_mean(st) + _REL_GATE_LRA]
        if st.size == 0:
            return 0.0
        return float(np.percentile(st, 95) - np.percentile(st, 10))

    def true_peak_db(self) -> float:
        if self._peak is None:
            raise ValueError("this meter was made without true peak")
        return self._peak.db()


def _power_mean(levels: F64) -> float:
    return float(10.0 * np.log10(np.mean(np.power(10.0, (levels + 0.691) / 10.0))) - 0.691)


class TruePeak:
    """The highest magnitude of the signal oversampled 4x (BS.1770 Annex 2's method)."""

    def __init__(self, rate: int, channels: int = 1) -> None:
        import soxr

        self._stream = soxr.ResampleStream(rate, 4 * rate, channels, dtype="float64", quality="HQ")
        self.channels = channels
        self.peak = 0.0
        self._closed = False

    def add(self, x: F64) -> None:
        up = self._stream.resample_chunk(np.ascontiguousarray(x))
        if up.size:
            self.peak = max(self.peak, float(np.max(np.abs(up))))
        self.peak = max(self.peak, float(np.max(np.abs(x))) if x.size else 0.0)

    def db(self) -> float:
        if not self._closed:
            self._closed = True
            tail = self._stream.resample_chunk(np.zeros((0, self.channels)), last=True)
            if tail.size:
                self.peak = max(self.peak, float(np.max(np.abs(tail))))
        return 20.0 * math.log10(self.peak) if self.peak > 0 else -math.inf


@dataclass(frozen=True)
class LoudnessReport:
    integrated_lufs: float
    range_lu: float
    true_peak_dbtp: float
    gain_db: float = 0.0  # what normalisation applied (0 when it was off)

    def as_dict(self) -> dict[str, float | None]:
        def num(v: float) -> float | None:
            return round(v, 2) if math.isfinite(v) else None

        return {
            "integrated_lufs": num(self.integrated_lufs),
            "loudness_range_lu": num(self.range_lu),
            "true_peak_dbtp": num(self.true_peak_dbtp),
            "gain_db": num(self.gain_db),
        }


def measure(blocks: Iterable[npt.NDArray[np.generic]], rate: int, channels: int = 1) -> LoudnessReport:
    meter = LoudnessMeter(rate, channels)
    for b in blocks:
        meter.add(b)
    return LoudnessReport(meter.integrated(), meter.loudness_range(), meter.true_peak_db())


# ---------------------------------------------------------------------------------------------
# Limiting


def _sliding_min(a: F64, width: int) -> F64:
    """``out[i] = min(a[i : i + width])`` for every full window: minima over doubling spans, then
    two overlapping spans per window (about log2(width) vectorised minimums, exact)."""
    n = a.shape[0]
    if n < width:
        return np.zeros(0)
    m, span = a, 1
    while 2 * span <= width:  # m[i] = min(a[i : i + 2 * span])
        m = np.minimum(m[: m.shape[0] - span], m[span:])
        span *= 2
    shift = width - span
    return np.asarray(np.minimum(m[: n - width + 1], m[shift : shift + n - width + 1]), dtype=np.float64)


class NeedLog:
    """What a limiter's detector found, call by call: the frames whose gain must drop below 1,
    and how far. Finding them oversamples every loud stretch (most of a limiter's time); the same
    input always gives the same log, so a stream limited once is limited again by replaying the
    log instead, with the very same gain curve. A 20-minute session's log is a few thousand entries.

    A new log records; one made from :meth:`from_bytes` replays. Each call's length is kept too:
    a call that does not match (another stream) is not replayed but worked out afresh, and the
    log is then :attr:`spoiled`.
    """

    DTYPE = np.dtype([("call", "<i4"), ("pos", "<i4"), ("need", "<f8")])

    def __init__(
        self, entries: npt.NDArray[np.void] | None = None, sizes: npt.NDArray[np.int64] | None = None
    ) -> None:
        self.replaying = entries is not None
        self.spoiled = False
        self._entries = entries if entries is not None else np.zeros(0, dtype=self.DTYPE)
        self._sizes = sizes if sizes is not None else np.zeros(0, dtype=np.int64)
        self._parts: list[npt.NDArray[np.void]] = []
        self._lengths: list[int] = []
        self._call = 0

    @property
    def complete(self) -> bool:
        """Replaying: every call was replayed, and nothing else was asked."""
        return not self.spoiled and self._call == self._sizes.shape[0]

    def record(self, need: F64) -> None:
        below = np.flatnonzero(need < 1.0)
        if below.size:
            part = np.zeros(below.size, dtype=self.DTYPE)
            part["call"], part["pos"], part["need"] = self._call, below, need[below]
            self._parts.append(part)
        self._lengths.append(need.shape[0])
        self._call += 1

    def replay(self, n: int) -> F64 | None:
        """The need of the next call's ``n`` frames; None (and spoiled) when the log does not
        fit this call."""
        call = self._call
        self._call += 1
        if self.spoiled or call >= self._sizes.shape[0] or int(self._sizes[call]) != n:
            self.spoiled = True
            return None
        lo, hi = np.searchsorted(self._entries["call"], [call, call + 1])
        need = np.ones(max(n, 0))
        mine = self._entries[lo:hi]
        if mine.size:
            need[mine["pos"]] = mine["need"]
        return need

    def to_bytes(self) -> bytes:
        import io

        if self.replaying:
            entries, sizes = self._entries, self._sizes
        else:
            entries = np.concatenate(self._parts) if self._parts else self._entries
            sizes = np.array(self._lengths, dtype=np.int64)
        out = io.BytesIO()
        np.savez(out, entries=entries, sizes=sizes)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> NeedLog:
        """A log to replay; ValueError when ``data`` is not a well-formed log."""
        import io
        import zipfile

        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as kept:
                entries, sizes = kept["entries"], kept["sizes"]
        except (EOFError, OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise ValueError(f"not a need log: {exc}") from None
        if entries.dtype != cls.DTYPE or entries.ndim != 1 or sizes.dtype != np.int64 or sizes.ndim != 1:
            raise ValueError("not a need log")
        if entries.size and (
            bool(np.any(np.diff(entries["call"]) < 0))
            or int(entries["call"].min()) < 0
            or int(entries["call"].max()) >= sizes.shape[0]
            or int(entries["pos"].min()) < 0
            or bool(np.any(entries["pos"] >= sizes[entries["call"]]))
            or not bool(np.all((entries["need"] > 0) & (entries["need"] < 1)))
        ):
            raise ValueError("not a need log")
        return cls(entries, sizes)


class Limiter:
    """A true-peak limiter with lookahead: no sample, nor any peak between samples, above the ceiling.

    The gain needed at each sample (ceiling / its 4x-oversampled peak) is turned into a gain curve
    that starts falling ``lookahead_s`` *before* the peak (a sliding minimum, then a moving average
    of the same length, which provably never rises above the need) and recovers exponentially in
    dB over ``release_s``, so short peaks are caught without clicks and the level does not pump.
    Output is delayed internally; :meth:`flush` returns the rest.

    It is cheap where it has nothing to do: only 1024-frame chunks whose sample peak comes within
    6 dB of the ceiling are oversampled (with ``CONTEXT`` frames either side), and the gain curve is
    computed only from just before the first sample that needs gain until the release has decayed
    below ``SETTLE`` (outside that the gain is exactly 1).

    It applies ``gain_db`` itself, as late as it can: it keeps its input as fed (float at full
    scale 1.0, or int16 with ``pcm``), so :meth:`process_int16` turns a frame outside the gain
    curve into ``rint(x * gain * scale)`` at once. Scaling by 32768, or by 1/32768 and back, is
    exact (a power of two), so that is the very number ``to_int16`` rounds on the float path:
    both ways out give the same bits. Only the detector needs the whole buffer as floats, and
    only when it runs (not when a :class:`NeedLog` is replayed).
    """

    CONTEXT = 256  # frames either side for the oversampling filter to settle
    CHUNK = 1024  # the granularity at which hot (near-ceiling) regions are found
    # Attenuation (natural log) below which the gain is taken as exactly 1: at most a third of an
    # LSB at 16-bit full scale (1e-9 cost release tails twice as long for no audible difference).
    SETTLE = 1e-5

    def __init__(
        self,
        rate: int,
        channels: int = 1,
        ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
        *,
        gain_db: float = 0.0,
        pcm: bool = False,
        lookahead_s: float = 0.005,
        release_s: float = 0.15,
        margin_db: float = 0.3,
        log: NeedLog | None = None,
    ) -> None:
        self.rate = rate
        self.log = log
        self.gain = 10.0 ** (gain_db / 20.0)
        self.channels = channels
        self.ceiling = 10.0 ** ((ceiling_dbtp - margin_db) / 20.0)
        self.look = max(2, round(lookahead_s * rate))
        self._ln_beta = -1.0 / max(1.0, release_s * rate)
        # CONTEXT frames of already-sent input, then the input not yet sent, as fed (before the
        # gain): one array, so a block costs one concatenation.
        self._buf: npt.NDArray[Any] = np.zeros(
            (self.CONTEXT, channels), dtype=np.int16 if pcm else np.float64
        )
        self._atten = 0.0  # release state: natural-log attenuation of the last sample
        self._recent = np.ones(self.look - 1)  # the last look-1 release-gain values
        self._settled = True  # _atten == 0 and _recent all exactly 1
        self._ramp_cache = np.zeros(0)

    def _need(self, ctx: F64, lo: int, hi: int) -> F64:
        """The gain each frame of ``ctx[lo:hi]`` needs (<= 1), from its true peak; ``ctx`` holds
        at least CONTEXT frames either side. Only hot chunks (sample peak within 6 dB of the
        ceiling) are oversampled: elsewhere the true peak cannot reach the ceiling."""
        x = ctx[lo:hi]
        n = hi - lo
        need = np.ones(n)
        if n <= 0:
            return need
        mag = np.abs(x[:, 0]) if x.shape[1] == 1 else np.max(np.abs(x), axis=1)  # (a mono axis-1 max is slow)
        hot = np.maximum.reduceat(mag, np.arange(0, n, self.CHUNK)) >= self.ceiling * 0.5
        if not bool(hot.any()):
            return need
        import soxr

        edges = np.diff(np.concatenate([[0], hot.astype(np.int8), [0]]))
        starts = np.flatnonzero(edges == 1) * self.CHUNK
        ends = np.minimum(np.flatnonzero(edges == -1) * self.CHUNK, n)
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            s, e = max(0, lo + a - self.CONTEXT), min(ctx.shape[0], lo + b + self.CONTEXT)
            up = soxr.resample(ctx[s:e], self.rate, 4 * self.rate, quality="HQ")
            up = up.reshape(up.shape[0], -1)
            k = min(up.shape[0] // 4, e - s)
            if up.shape[1] == 1:  # four strided maxima: the same numbers as an axis-1 max, far faster
                u = np.abs(up[: 4 * k, 0])
                tp = np.maximum(np.maximum(u[0::4], u[1::4]), np.maximum(u[2::4], u[3::4]))
            else:
                tp = np.max(np.abs(up[: 4 * k]).reshape(k, 4 * up.shape[1]), axis=1)
            peak = mag[a:b].copy()
            off = lo + a - s
            t = tp[off : off + (b - a)]
            peak[: t.shape[0]] = np.maximum(peak[: t.shape[0]], t)
            need[a:b] = np.minimum(1.0, self.ceiling / np.maximum(peak, 1e-12))
        return need

    def _gain(self, need: F64, ready: int) -> tuple[int, F64] | None:
        """The gain of the next ``ready`` frames (``need`` runs look-1 frames further) as
        ``(first frame, gains)``, exactly 1 outside them; None when it is 1 throughout."""
        below = np.flatnonzero(need < 1.0)
        if self._settled and below.size == 0:
            return None
        # Before the first need < 1 (less the lookahead) a settled limiter's gain is exactly 1.
        s0 = max(0, int(below[0]) - (self.look - 1)) if self._settled and below.size else 0
        s0 = min(s0, ready)
        # After the last need < 1 the attenuation only decays; past the frame where it is below
        # SETTLE however deep it was (plus the moving average's length), the gain is 1 again.
        if below.size:
            deepest = -math.log(max(float(np.min(need)), 1e-300))
            start = max(deepest, self._atten)
        else:
            start = self._atten
        last = int(below[-1]) if below.size else 0
        decay = math.ceil(math.log(max(start, self.SETTLE) / self.SETTLE) / -self._ln_beta)
        s1 = min(ready, last + decay + 2 * self.look)
        if s1 <= s0:
            s1 = s0
        gain = self._curve(need[s0 : s1 + self.look - 1], s1 - s0) if s1 > s0 else np.ones(0)
        if s1 < ready or (self._atten < self.SETTLE and float(np.min(self._recent)) > 1.0 - self.SETTLE):
            self._atten = 0.0  # decayed: settle exactly (the rest of the gain is 1)
            self._recent = np.ones(self.look - 1)
            self._settled = True
        return s0, gain

    def _curve(self, need: F64, count: int) -> F64:
        """The gain curve of ``count`` frames from the carried state (``need`` is look-1 longer).

        Most of a curve is release tail, so its passes over every frame are done in place, in
        one buffer (the same operations in the same order as out of place: the same bits)."""
        self._settled = False
        look = self.look
        # The lookahead minimum m: 1 wherever a window holds no need below 1, which is all but the
        # frames just before and at the peaks (lo to hi), so it is only worked out there.
        below = np.flatnonzero(need < 1.0)
        lo, hi = (max(0, int(below[0]) - look + 1), min(count, int(below[-1]) + 1)) if below.size else (0, 0)
        m = _sliding_min(need[lo : hi + look - 1], look) if hi > lo else np.ones(0)
        # Release: attenuation decays by beta per frame unless the need is deeper (vectorised via
        # a running maximum in the log domain: a[n] = max_k a_m[k] * beta**(n-k)).
        # Only frames with m < 1 (and the carried state) start a new maximum, so the running
        # maximum is taken over those alone and held between them.
        deep = np.flatnonzero(m < 1.0)
        starts = np.log(-np.log(m[deep])) - (deep + lo) * self._ln_beta
        deep += lo
        if self._atten > 0:
            carried = math.log(self._atten) + self._ln_beta
            if deep.size and deep[0] == 0:
                starts[0] = max(starts[0], carried)
            else:
                deep, starts = np.append(0, deep), np.append(carried, starts)
        # hist: the last look-1 release gains, then this curve's; the curve is worked out in place
        hist = np.empty(look - 1 + count)
        hist[: look - 1] = self._recent
        a = hist[look - 1 :]
        first = int(deep[0]) if deep.size else count
        a[:first] = -np.inf
        if deep.size:
            a[first:] = np.repeat(np.maximum.accumulate(starts), np.diff(np.append(deep, count)))
        a += self._ramp(count)  # log attenuation
        np.exp(a, out=a)  # attenuation
        self._atten = float(a[-1])
        np.negative(a, out=a)
        np.exp(a, out=a)  # release gain
        cs = np.empty(hist.shape[0] + 1)
        cs[0] = 0.0
        np.cumsum(hist, out=cs[1:])
        self._recent = hist[-(look - 1) :].copy()
        out = cs[look:] - cs[:-look]
        out /= look
        return out

    def _ramp(self, count: int) -> F64:
        """``arange(count) * ln(beta)``, kept between calls (each curve adds it)."""
        if self._ramp_cache.shape[0] < count:
            t = np.arange(max(count, 2 * self._ramp_cache.shape[0]), dtype=np.float64)
            t *= self._ln_beta
            self._ramp_cache = t
        return self._ramp_cache[:count]

    def _curve_of(
        self, buf: npt.NDArray[np.generic], floats: Callable[[], F64]
    ) -> tuple[int, tuple[int, F64] | None]:
        """How many frames of ``buf`` (CONTEXT frames already sent, then new ones) are ready, and
        their gain curve. ``floats`` gives ``buf`` as the detector's floats, only if it runs."""
        c = self.CONTEXT
        ready = buf.shape[0] - c - self.look - c
        if ready <= 0:
            return ready, None
        n = ready + self.look - 1
        need = self.log.replay(n) if self.log is not None and self.log.replaying else None
        if need is None:
            need = self._need(floats(), c, c + n)
            if self.log is not None and not self.log.replaying:
                self.log.record(need)
        return ready, self._gain(need, ready)

    def _ready(self, final: bool) -> tuple[npt.NDArray[np.generic], tuple[int, F64] | None] | None:
        """The frames ready to go out, as kept (before the gain curve), and their curve; None
        when none are. The buffer moves on past them."""
        buf = self._buf
        if final:
            buf = np.concatenate([buf, np.zeros((self.look + self.CONTEXT, self.channels), dtype=buf.dtype)])
        c = self.CONTEXT
        ready, gain = self._curve_of(buf, lambda: self._floats(buf))
        if ready <= 0:
            return None
        self._buf = buf[ready:] if not final else np.zeros((c, self.channels), dtype=buf.dtype)
        return buf[c : c + ready], gain

    def _floats(self, kept: npt.NDArray[np.generic]) -> F64:
        """Kept frames at the gain, as new floats at full scale 1.0 (what the detector reads)."""
        x = as_float(kept)
        if self.gain != 1.0:
            x *= self.gain
        return x

    def _int16_scale(self, kept: npt.NDArray[np.generic]) -> F64:
        """Kept frames at the gain, as new floats at 16-bit scale: one multiplication, exactly
        ``_floats(kept) * 32768`` (see the class)."""
        scale = self.gain if kept.dtype == np.int16 else self.gain * 32768.0
        y: F64 = np.multiply(kept, scale, dtype=np.float64)
        return y

    def _run(self, final: bool, *, int16: bool = False) -> npt.NDArray[Any]:
        got = self._ready(final)
        if got is None:
            return np.zeros((0, self.channels), dtype=np.int16 if int16 else np.float64)
        kept, gain = got
        y = self._int16_scale(kept) if int16 else self._floats(kept)
        if gain is not None:
            s0, curve = gain
            y[s0 : s0 + curve.shape[0]] *= curve[:, None]
        if not int16:
            return y
        np.rint(y, out=y)
        np.clip(y, -32768, 32767, out=y)
        return y.astype(np.int16)

    def _feed(self, x: npt.NDArray[np.generic]) -> None:
        x = x.reshape(x.shape[0], -1)
        if x.dtype != self._buf.dtype:
            if self._buf.dtype == np.int16:
                raise TypeError("a limiter made with pcm=True takes int16 samples")
            x = as_float(x)
        self._buf = np.concatenate([self._buf, x])

    def process(self, x: npt.NDArray[np.generic]) -> F64:
        """Feed samples (n, channels); returns the limited samples ready so far, as floats."""
        self._feed(x)
        return self._run(final=False)

    def flush(self) -> F64:
        return self._run(final=True)

    def process_int16(self, x: npt.NDArray[np.generic]) -> Int16:
        """:meth:`process`, returning finished int16 samples: ``to_int16`` of what it would."""
        self._feed(x)
        return self._run(final=False, int16=True)

    def flush_int16(self) -> Int16:
        return self._run(final=True, int16=True)


def to_int16(x: F64) -> Int16:
    y = x * 32768.0
    np.round(y, out=y)
    np.clip(y, -32768, 32767, out=y)
    return y.astype(np.int16)


def limited(
    blocks: Iterable[npt.NDArray[np.generic]],
    rate: int,
    channels: int = 1,
    ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
    gain_db: float = 0.0,
    log: NeedLog | None = None,
) -> Iterator[F64]:
    """The blocks times ``gain_db``, through the limiter, re-cut to the input's block sizes
    (split files need exact frame counts). ``log`` records or replays the limiter's detector."""
    limiter = Limiter(rate, channels, ceiling_dbtp, gain_db=gain_db, log=log)
    sizes: deque[int] = deque()
    return _recut(_fed(blocks, limiter.process, limiter.flush, sizes), sizes)


def limited_int16(
    blocks: Iterable[npt.NDArray[np.generic]],
    rate: int,
    channels: int = 1,
    ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
    gain_db: float = 0.0,
    log: NeedLog | None = None,
) -> Iterator[Int16]:
    """``to_int16`` of :func:`limited`, the same samples (shape (n, channels)) at a fraction of
    the cost. int16 blocks (a mix without a bed) never go through floats at full length."""
    it = iter(blocks)
    first = next(it, None)
    if first is None:
        return iter(())
    pcm = first.dtype == np.int16
    limiter = Limiter(rate, channels, ceiling_dbtp, gain_db=gain_db, pcm=pcm, log=log)
    sizes: deque[int] = deque()
    chunks = _fed(itertools.chain([first], it), limiter.process_int16, limiter.flush_int16, sizes)
    return _recut(chunks, sizes)


_A = TypeVar("_A", F64, Int16)


def _fed(
    blocks: Iterable[npt.NDArray[np.generic]],
    process: Callable[[npt.NDArray[Any]], _A],
    flush: Callable[[], _A],
    sizes: deque[int],
) -> Iterator[_A]:
    """What a limiter gives for each block, then its flush; each block's size is noted in
    ``sizes`` for :func:`_recut`."""
    for b in blocks:
        sizes.append(b.shape[0])
        yield process(b)
    yield flush()


def _recut(chunks: Iterable[_A], sizes: deque[int]) -> Iterator[_A]:
    """``chunks`` cut again into the sizes the input came in (``sizes`` fills as they are made)."""
    out: deque[_A] = deque()
    have = 0
    for chunk in chunks:
        out.append(chunk)
        have += chunk.shape[0]
        while sizes and have >= sizes[0]:
            size = sizes.popleft()
            joined = np.concatenate(list(out)) if len(out) > 1 else out[0]
            out.clear()
            yield joined[:size]
            rest = joined[size:]
            have = rest.shape[0]
            if have:
                out.append(rest)


def normalised(
    make_blocks: Callable[[], Iterable[npt.NDArray[np.generic]]],
    rate: int,
    channels: int = 1,
    target_lufs: float | None = None,
    ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
) -> tuple[float, Iterator[Int16]]:
    """Two passes: measure the whole stream, then replay it at the gain that meets the target,
    through the true-peak limiter. Returns (gain in dB, the int16 blocks in their own sizes).

    ``make_blocks`` must render the same stream each time (voiceguide's renders are deterministic).
    """
    target = default_target(channels) if target_lufs is None else target_lufs
    meter = LoudnessMeter(rate, channels, true_peak=False)
    for b in make_blocks():
        meter.add(b)
    level = meter.integrated()
    gain_db = 0.0 if not math.isfinite(level) else max(-MAX_GAIN_DB, min(MAX_GAIN_DB, target - level))

    def second() -> Iterator[Int16]:
        for y in limited_int16(make_blocks(), rate, channels, ceiling_dbtp, gain_db):
            yield y[:, 0] if channels == 1 else y

    return gain_db, second()
