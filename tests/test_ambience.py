"""Ambience beds, ducking and loudness, measured on real rendered audio."""

from __future__ import annotations

import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from ffmpeg_checks import ebur128

from voiceguide.audio import ambience as A
from voiceguide.audio import beds as B
from voiceguide.audio import ducking as D
from voiceguide.audio import loudness as L
from voiceguide.errors import UsageError

RATE = 22050


def _density_db(x: np.ndarray, lo: float, hi: float) -> float:
    f = np.fft.rfftfreq(x.shape[0], 1 / RATE)
    p = np.abs(np.fft.rfft(x)) ** 2
    return float(10 * np.log10(p[(f >= lo) & (f < hi)].mean()))


def test_beds_are_deterministic_and_random_access() -> None:
    first = B.generated_bed("rain", RATE).render(0, 5 * RATE)
    B.generated_bed.cache_clear()
    again = B.generated_bed("rain", RATE)
    assert again.render(0, 5 * RATE).tobytes() == first.tobytes()
    # Any block is the same frames a whole render has there (split files, seeking).
    assert np.array_equal(again.render(RATE, 777), first[RATE : RATE + 777])
    assert not np.array_equal(B.generated_bed("rain", RATE, seed=1).render(0, RATE), first[:RATE])


@pytest.mark.parametrize("name", sorted(B.BEDS))
def test_bed_loops_have_no_seam(name: str) -> None:
    bed = B.generated_bed(name, RATE)
    for loop in bed.layers:
        at = loop.shape[0]
        around = bed.render(at - RATE, 2 * RATE).astype(np.float64)
        steps = np.abs(np.diff(around))
        seam = steps[RATE - 1]  # the step from the loop's last frame to its first
        assert seam <= np.percentile(steps, 99.9), f"{name}: step {seam} at a loop seam"


@pytest.mark.parametrize("name", sorted(B.BEDS))
def test_bed_spectrum_is_gentle_and_hum_free(name: str) -> None:
    x = B.generated_bed(name, RATE).render(0, 60 * RATE).astype(np.float64)
    for hum in (50.0, 60.0):  # no narrow line at mains frequency
        line = _density_db(x, hum - 0.5, hum + 0.5)
        around = _density_db(x, hum - 12.0, hum + 12.0)
        assert line < around + 4.0, f"{name}: a peak at {hum} Hz"
    # Highs rolled off: no tiring hiss.
    assert _density_db(x, 6000, 10000) < _density_db(x, 200, 2000) - 20.0
    assert abs(L.integrated_loudness(x, RATE) - B.REFERENCE_LUFS) < 1.0


def _wav_loop(path: Path, seconds: float, rate: int, channels: int) -> None:
    t = np.arange(round(seconds * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.2 * np.sin(2 * np.pi * 0.7 * t))
    sf.write(str(path), np.stack([tone] * channels, axis=1), rate)


def test_user_file_is_resampled_mono_and_loops_without_a_click(tmp_path: Path) -> None:
    clip = tmp_path / "pad.flac"
    _wav_loop(clip, 3.3, 44100, 2)  # 220 Hz does not fit 3.3 s evenly: the raw seam would click
    bed = B.open_bed("pad.flac", RATE, base=tmp_path)
    n = bed.loop.shape[0]
    assert abs(n - round((3.3 - B.FILE_SEAM_S) * RATE)) <= 2
    around = bed.render(3 * n - RATE // 2, RATE).astype(np.float64)
    steps = np.abs(np.diff(around))
    assert steps[RATE // 2 - 1] <= steps.max() * 1.05
    assert steps.max() < 0.2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (b"", "is empty"),
        (b"just some text, not audio\n" * 40, "not an audio"),
        ("short", "at least"),
        ("silent", "silent"),
    ],
)
def test_bad_user_files_say_what_is_wrong(tmp_path: Path, content: object, message: str) -> None:
    path = tmp_path / "bed.wav"
    if content == "short":
        _wav_loop(path, 0.4, 22050, 1)
    elif content == "silent":
        sf.write(str(path), np.zeros(3 * RATE), RATE)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(UsageError, match=message) as err:
        B.file_bed(path, RATE)
    assert str(path) in str(err.value)


def _speech_like(seconds: float, utterances: list[tuple[float, float]]) -> np.ndarray:
    """Band-limited noise bursts with syllable-rate modulation, like a voice, int16."""
    rng = np.random.default_rng(7)
    x = np.zeros(round(seconds * RATE))
    for a, b in utterances:
        lo, hi = round(a * RATE), round(b * RATE)
        t = np.arange(hi - lo) / RATE
        burst = np.convolve(rng.standard_normal(hi - lo), np.hanning(9), "same")
        x[lo:hi] = 0.12 * burst * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
    return np.clip(x * 32768, -32768, 32767).astype(np.int16)


UTTERANCES = [(2.0, 3.2), (3.7, 5.0), (9.0, 11.5), (16.0, 17.0)]  # 0.5 s gap: one sentence


def _ducks() -> D.DuckEnvelope:
    return D.DuckEnvelope([D.Duck(round(a * RATE), round(b * RATE), 9.0) for a, b in UTTERANCES], RATE)


def test_ducking_dips_by_its_depth_is_down_before_the_word_and_holds_within_a_sentence() -> None:
    env = _ducks()
    bed = B.generated_bed("brown-noise", RATE)
    track = A.AmbienceTrack([A.BedSpan(0, 20 * RATE, bed, -18.0)], env)
    ducked = track.render(0, 20 * RATE).astype(np.float64)
    plain = A.AmbienceTrack([A.BedSpan(0, 20 * RATE, bed, -18.0)]).render(0, 20 * RATE)

    def level(x: np.ndarray, a: float, b: float) -> float:
        return float(20 * np.log10(np.sqrt(np.mean(x[round(a * RATE) : round(b * RATE)] ** 2))))

    for a, b in UTTERANCES:
        drop = level(plain, a, b) - level(ducked, a, b)
        assert abs(drop - 9.0) <= 1.5
    assert abs(level(plain, 12.8, 15.5) - level(ducked, 12.8, 15.5)) < 0.1  # a pause: full level
    att = env.attenuation_db(0, 20 * RATE)
    for a, _ in UTTERANCES:
        assert att[round(a * RATE)] == pytest.approx(9.0)  # the first word starts fully ducked
        assert att[round((a - 0.36) * RATE)] == 0.0 or a == 3.7
    assert np.all(att[round(3.2 * RATE) : round(3.7 * RATE)] == 9.0)  # no pump between phrases
    assert np.max(np.abs(np.diff(att))) < 0.05  # smooth: no step in the gain


def test_ducking_a_block_gives_the_envelopes_gain_to_the_bit_where_dips_overlap_or_not() -> None:
    """Blocks are ducked from each depth's curves, worked out once; a deeper dip (speech) that
    overlaps a shallower one (a chime) takes the deepest per frame. Either way every sample is
    the bed times the envelope's gain (in float32), as the live player and the export expect."""
    rng = np.random.default_rng(3)
    ducks = [D.Duck(round(a * RATE), round(b * RATE), 9.0) for a, b in UTTERANCES]
    ducks += [D.Duck(round(a * RATE), round(a * RATE) + 3000, 4.5) for a in (1.9, 7.0, 10.0, 18.5)]
    env = D.DuckEnvelope(ducks, RATE)
    bed = rng.standard_normal(20 * RATE).astype(np.float32) * np.float32(0.1)
    ducked = bed.copy()
    at = 0
    for size in rng.integers(100, 40000, 200).tolist():
        if at >= bed.shape[0]:
            break
        env.apply(ducked[at : at + size], at)
        at += size
    want = bed * env.gain(0, bed.shape[0]).astype(np.float32)
    assert ducked.tobytes() == want.tobytes()
    gain = env.gain(0, bed.shape[0])
    assert gain[round(10.0 * RATE) + 100] == pytest.approx(
        10 ** (-9 / 20)
    )  # the chime in speech: speech's depth
    assert gain[round(7.0 * RATE) + 100] == pytest.approx(10 ** (-4.5 / 20))  # a chime alone: its own
    assert np.all(gain[round(13.5 * RATE) : round(15.3 * RATE)] == 1.0)  # a long pause: full level


def test_mix_never_clips_and_keeps_the_voice() -> None:
    voice = np.linspace(25000, 32000, 1000).astype(np.int16)
    out = A.mix_under(voice, np.full(1000, 0.1, dtype=np.float32))  # sums reach 108 % of full scale
    assert out.max() < 32767  # bent into the knee, not flattened at full scale
    assert np.all(np.diff(out.astype(np.int32)) >= 0)
    quiet = np.full(10, 1000, dtype=np.int16)
    assert np.all(A.mix_under(quiet, np.zeros(10, dtype=np.float32)) == 1000)


def _session(seconds: float) -> list[np.ndarray]:
    utter = [(a, b) for a, b in UTTERANCES if b < seconds]
    voice = _speech_like(seconds, utter)
    env = D.DuckEnvelope([D.Duck(round(a * RATE), round(b * RATE), 9.0) for a, b in utter], RATE)
    spans = A.schedule([A.Change(0, B.generated_bed("rain", RATE), -18.0)], voice.shape[0], 2 * RATE)
    track = A.AmbienceTrack(spans, env)
    blocks = [voice[i : i + 4096] for i in range(0, voice.shape[0], 4096)]
    return list(A.with_ambience(blocks, track))


def test_normalised_export_meets_target_and_true_peak_by_an_independent_reader(tmp_path: Path) -> None:
    blocks = _session(20.0)
    _gain, out = L.normalised(lambda: iter(blocks), RATE, target_lufs=-19.0)
    result = list(out)
    assert [b.shape for b in result] == [b.shape for b in blocks]  # same block sizes for split files
    wav = tmp_path / "session.wav"
    sf.write(str(wav), np.concatenate(result), RATE, subtype="PCM_16")
    got = ebur128(wav)
    assert abs(got["I"] - (-19.0)) <= 0.5
    assert got["TP"] <= -1.0
    ours = L.measure(result, RATE)
    assert abs(ours.integrated_lufs - got["I"]) <= 0.3
    assert abs(ours.true_peak_dbtp - got["TP"]) <= 0.5
    assert abs(ours.range_lu - got["LRA"]) <= 1.5


def test_limiter_catches_hot_peaks_without_clipping(tmp_path: Path) -> None:
    t = np.arange(5 * RATE) / RATE
    hot = 0.99 * np.sin(2 * np.pi * RATE / 4 * t + np.pi / 4)  # intersample overs, +3 dB
    hot[: 2 * RATE] *= 0.1
    blocks = [hot[i : i + 3000] for i in range(0, hot.shape[0], 3000)]
    y = np.concatenate(list(L.limited(blocks, RATE, gain_db=2.0)))[:, 0]
    wav = tmp_path / "hot.wav"
    sf.write(str(wav), y, RATE, subtype="FLOAT")
    assert ebur128(wav)["TP"] <= -1.0
    quiet = y[:RATE]  # well under the ceiling: untouched but for the gain
    assert np.allclose(quiet, hot[:RATE] * 10 ** (2 / 20), atol=1e-9)


def test_limiter_catches_a_short_burst_inside_a_long_quiet_block(tmp_path: Path) -> None:
    """Only the chunks near the ceiling are oversampled: a 40 ms burst of intersample overs in
    the middle of a 32768-frame block (the rest 20 dB down) is still caught, the gain falls before
    it and recovers smoothly, and frames well before it and seconds after it are untouched."""
    t = np.arange(8 * RATE) / RATE
    x = 0.05 * np.sin(2 * np.pi * 220 * t)
    at, width = 2 * RATE + 12345, round(0.04 * RATE)
    x[at : at + width] = 0.99 * np.sin(2 * np.pi * RATE / 4 * t[at : at + width] + np.pi / 4)
    blocks = [x[i : i + 32768] for i in range(0, x.shape[0], 32768)]
    y = np.concatenate(list(L.limited(blocks, RATE)))[:, 0]
    again = np.concatenate(list(L.limited(blocks, RATE)))[:, 0]
    assert y.tobytes() == again.tobytes()  # deterministic
    wav = tmp_path / "burst.wav"
    sf.write(str(wav), y, RATE, subtype="FLOAT")
    assert ebur128(wav)["TP"] <= -1.0
    gain = y[:at] / np.where(x[:at] == 0, 1, x[:at])
    assert np.array_equal(y[: at - RATE // 50], x[: at - RATE // 50])  # untouched until just before
    assert gain[x[:at] != 0][-1] < 0.8  # already down when the burst starts (lookahead)
    after = slice(at + width, at + width + RATE // 2)
    g = y[after] / np.where(np.abs(x[after]) < 1e-3, np.nan, x[after])
    g = g[np.isfinite(g)]
    assert g[0] < 0.9 and g[-1] > g[0]  # still recovering, not snapped back (no click)
    assert np.all(np.diff(g) > -1e-9)  # and rising steadily: no pumping
    assert np.array_equal(y[at + width + 4 * RATE :], x[at + width + 4 * RATE :])  # settled exactly


def test_a_limited_stream_replays_its_log_with_the_same_samples_and_no_oversampling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the limiter found (the frames that must come down) is kept; limiting the same stream
    again from that log gives the very same samples without oversampling anything."""
    t = np.arange(6 * RATE) / RATE
    x = 0.05 * np.sin(2 * np.pi * 220 * t)
    for at in (RATE, 3 * RATE + 777):
        x[at : at + 900] = 0.99 * np.sin(2 * np.pi * RATE / 4 * t[at : at + 900] + np.pi / 4)
    blocks = [x[i : i + 5000] for i in range(0, x.shape[0], 5000)]
    log = L.NeedLog()
    first = np.concatenate(list(L.limited(blocks, RATE, gain_db=1.5, log=log)))
    kept = log.to_bytes()
    assert len(kept) < 64_000  # a few hundred frames, not the stream

    import soxr

    def no_oversampling(*args: object, **kwargs: object) -> None:
        raise AssertionError("a replayed limiter oversampled")

    monkeypatch.setattr(soxr, "resample", no_oversampling)
    again = np.concatenate(list(L.limited(blocks, RATE, gain_db=1.5, log=L.NeedLog.from_bytes(kept))))
    assert again.tobytes() == first.tobytes()
    assert np.max(np.abs(again)) < 0.99 * 10 ** (1.5 / 20)  # the peaks did come down

    log = L.NeedLog.from_bytes(kept)
    list(L.limited(blocks, RATE, gain_db=1.5, log=log))
    assert log.complete

    # A log from another stream (here cut into other blocks) is not misapplied: the limiter
    # works out what does not fit, and the log says it is spoiled.
    monkeypatch.undo()
    other = [x[i : i + 7000] for i in range(0, x.shape[0], 7000)]
    fresh = np.concatenate(list(L.limited(other, RATE, gain_db=1.5)))
    log = L.NeedLog.from_bytes(kept)
    mismatched = np.concatenate(list(L.limited(other, RATE, gain_db=1.5, log=log)))
    assert mismatched.tobytes() == fresh.tobytes()
    assert log.spoiled and not log.complete
    for damaged in (b"", kept[:-7], b"\x93NUMPY" + bytes(40), b"PK\x03\x04" + bytes(60)):
        with pytest.raises(ValueError):
            L.NeedLog.from_bytes(damaged)


def test_the_limiters_gain_curve_follows_its_definition_call_after_call() -> None:
    """The vectorised curve against the limiter's definition, frame by frame: the lookahead
    minimum of the need, an attenuation that jumps to it and decays by beta per frame, and a
    moving average of the release gain over the lookahead, carried from call to call."""
    rng = np.random.default_rng(11)
    lim = L.Limiter(RATE)
    look, beta = lim.look, math.exp(lim._ln_beta)
    atten, recent = 0.0, [1.0] * (look - 1)
    for _ in range(40):
        count = int(rng.integers(1, 3000))
        need = np.ones(count + look - 1)
        for at in rng.integers(0, need.shape[0], int(rng.integers(0, 4))):
            need[at : at + int(rng.integers(1, 50))] = rng.uniform(0.2, 0.999)
        got = lim._curve(need, count)
        want = []
        for k in range(count):
            m = float(np.min(need[k : k + look]))
            atten = max(-math.log(m), atten * beta)
            recent.append(math.exp(-atten))
            want.append(sum(recent[-look:]) / look)
        recent = recent[-(look - 1) :]
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", ["int16", "float"])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("gain_db", [0.0, 1.2, 9.0])
def test_the_int16_limiter_gives_the_float_limiters_samples(kind: str, channels: int, gain_db: float) -> None:
    """Exports are limited straight to int16 (a mix without a bed even from its int16 samples);
    every frame must be what the float limiter gives, through to_int16: quiet stretches (gain
    only), peaks and release tails, samples the gain drives past full scale, blocks of uneven
    sizes, and a replayed log."""
    rng = np.random.default_rng(7)
    t = np.arange(9 * RATE) / RATE
    x = 0.1 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(t.shape[0])
    for at in (RATE // 3, 2 * RATE + 777, 6 * RATE + 5):  # intersample overs, then full scale
        x[at : at + 1500] = 0.99 * np.sin(2 * np.pi * RATE / 4 * t[at : at + 1500] + np.pi / 4)
    x[4 * RATE : 4 * RATE + 400] = rng.choice([-1.0, 32767 / 32768], 400)
    x[7 * RATE :] = 0.0  # silence after the last release
    sig = np.round(np.clip(x, -1, 32767 / 32768) * 32768).astype(np.int16) if kind == "int16" else x
    if channels == 2:
        sig = np.stack([sig, sig[::-1]], axis=1)
    cuts = np.cumsum(rng.integers(300, 9000, 60))
    blocks = [b for b in np.split(sig, cuts[cuts < sig.shape[0]]) if b.shape[0]]

    want = [L.to_int16(y) for y in L.limited(blocks, RATE, channels, gain_db=gain_db)]
    log = L.NeedLog()
    got = list(L.limited_int16(blocks, RATE, channels, gain_db=gain_db, log=log))
    assert all(b.dtype == np.int16 for b in got)
    assert [b.shape for b in got] == [b.reshape(b.shape[0], -1).shape for b in blocks]
    assert np.concatenate(got).tobytes() == np.concatenate(want).tobytes()
    plain = L.to_int16(L.as_float(sig) * 10 ** (gain_db / 20))
    assert np.concatenate(got).tobytes() != plain.tobytes()  # the limiter did something
    again = L.NeedLog.from_bytes(log.to_bytes())
    replayed = list(L.limited_int16(blocks, RATE, channels, gain_db=gain_db, log=again))
    assert np.concatenate(replayed).tobytes() == np.concatenate(want).tobytes()
    assert again.complete
    if kind == "int16":  # every int16 value in a slow ramp, rounded (or limited) as floats are
        every = np.repeat(np.arange(-32768, 32768, dtype=np.int16), 3)
        ramp = [every[i : i + 32768] for i in range(0, every.shape[0], 32768)]
        want = [L.to_int16(y) for y in L.limited(ramp, RATE, gain_db=gain_db)]
        got = list(L.limited_int16(ramp, RATE, gain_db=gain_db))
        assert np.concatenate(got).tobytes() == np.concatenate(want).tobytes()


def test_streaming_meter_agrees_with_pyloudnorm() -> None:
    x = np.concatenate(_session(20.0))
    meter = L.LoudnessMeter(RATE)
    for i in range(0, x.shape[0], 1000):
        meter.add(x[i : i + 1000])
    assert abs(meter.integrated() - L.integrated_loudness(x, RATE)) < 0.1


def test_long_stream_uses_bounded_memory() -> None:
    seconds = 600
    bed = B.generated_bed("ocean", RATE)
    track = A.AmbienceTrack(A.schedule([A.Change(0, bed)], seconds * RATE, 6 * RATE))
    silence = np.zeros(32768, dtype=np.int16)
    count = seconds * RATE // 32768

    def blocks() -> list[np.ndarray] | object:
        return A.with_ambience((silence for _ in range(count)), track)

    tracemalloc.start()
    _, out = L.normalised(blocks, RATE)  # type: ignore[arg-type]
    frames = sum(b.shape[0] for b in out)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert frames == count * 32768
    assert peak < 40 << 20, f"peak {peak >> 20} MB for a {seconds} s stream"


def test_the_meter_filters_exactly_as_pyloudnorm_and_scipy_do() -> None:
    from pyloudnorm.iirfilter import IIRfilter
    from scipy.signal import sosfilt

    for rate in (22050, 44100, 48000):
        sos, gain = L._k_weighting(rate)
        stages = [
            IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, rate, "high_shelf"),
            IIRfilter(0.0, 0.5, 38.0, rate, "high_pass"),
        ]
        expected = np.array([np.concatenate([f.b, f.a]) for f in stages])
        assert np.allclose(sos, expected, rtol=1e-12, atol=1e-14) and gain == 1.0
    x = np.random.default_rng(3).standard_normal((5000, 2))
    zi = np.random.default_rng(4).standard_normal((2, 2, 2))
    y, zf = L.sos_filter(sos, x, zi)
    ry, rzf = sosfilt(sos, x, axis=0, zi=zi)
    assert np.allclose(y, ry, atol=1e-12) and np.allclose(zf, rzf, atol=1e-12)


def test_the_beds_in_place_ffts_match_numpys() -> None:
    # The beds' long FFTs run in place at half length (memory); they must equal numpy's rfft/irfft
    # to float32 precision, including the chunk boundaries of their bin pairs.
    for n in (2, 12, 1002, 2 * (1 << 16) + 6):
        x = np.random.default_rng(n).standard_normal(n)
        buf = np.zeros(n // 2 + 1, np.complex64)
        buf.view(np.float32)[:n] = x
        want = np.fft.rfft(x)
        assert np.max(np.abs(B._rfft_in_place(buf, n) - want)) < 1e-5 * np.max(np.abs(want))
        assert np.max(np.abs(B._irfft_in_place(want.astype(np.complex64), n) - x)) < 1e-5
