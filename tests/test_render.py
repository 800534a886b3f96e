"""Rendering a timeline to PCM: exact placement, exact length, fades, mixing, streaming, formats.

These use synthetic clips (no speech engine) so every expectation is exact.
"""

from __future__ import annotations

import itertools
import math
import struct
import tracemalloc
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceguide.audio.clip import Clip
from voiceguide.audio.codecs import decode_audio, read_audio
from voiceguide.audio.dsp import resample
from voiceguide.audio.render import Renderer
from voiceguide.audio.sounds import SoundBank
from voiceguide.errors import RoutineError
from voiceguide.routine.voice import VoiceSettings
from voiceguide.timeline.model import Event, Step, Timeline
from voiceguide.units import frame_at

RATE = 22050


def tone(frames: int, level: int = 10000, freq: float = 440.0, rate: int = RATE) -> Clip:
    """A non-silent clip whose every sample is distinct enough to find by correlation."""
    t = np.arange(frames) / rate
    x = level * np.sin(2 * math.pi * freq * t) + 0.3 * level * np.sin(2 * math.pi * 97 * t)
    x[0] = x[0] or 1  # never silent at the very start
    return Clip(np.rint(x).astype(np.int16), rate)


def us_of(frames: int, rate: int = RATE) -> int:
    return Clip(np.zeros(frames, np.int16), rate).duration_us


def make_timeline(items: list[tuple[str, str, int]], sounds: tuple[tuple[str, str], ...] = ()
                  ) -> Timeline:
    """items: (kind, text-or-sound, duration_us) laid end to end."""
    events = []
    t = 0
    for kind, what, dur in items:
        events.append(Event(kind, t, dur, 0, text=what if kind == "speech" else "",  # type: ignore[arg-type]
                            sound=what if kind == "sound" else ""))
        t += dur
    return Timeline("t", t, (Step(0, "all", "say", 0, t),), tuple(events), voice=VoiceSettings(),
                    sounds=sounds)


class FakeSpeech:
    def __init__(self, clips: dict[str, Clip]) -> None:
        self.clips = clips
        self.calls: list[str] = []

    def __call__(self, text: str) -> Clip:
        self.calls.append(text)
        return self.clips[text]


def test_speech_lands_on_its_exact_frame_and_silences_are_exact() -> None:
    a, b = tone(5000), tone(7001, freq=300)
    items = [("silence", "", 123_457), ("speech", "a", us_of(5000)), ("silence", "", 1_000_001),
             ("speech", "b", us_of(7001)), ("silence", "", 333)]
    tl = make_timeline(items)
    out = Renderer(tl, FakeSpeech({"a": a, "b": b}), lambda n: a).render()
    assert out.shape == (frame_at(tl.total_us, RATE),)
    ev_a, ev_b = tl.events[1], tl.events[3]
    sa, sb = frame_at(ev_a.start_us, RATE), frame_at(ev_b.start_us, RATE)
    assert sa == round(123_457 * RATE / 1e6)
    assert np.array_equal(out[sa : sa + 5000], a.samples)
    assert np.array_equal(out[sb : sb + 7001], b.samples)
    assert not out[:sa].any()
    assert not out[sa + 5000 : sb].any()
    assert not out[sb + 7001 :].any()


def test_frame_at_is_integer_rounding_of_microseconds() -> None:
    for us in (0, 1, 22, 23, 45_351, 10**10 + 7, 7_200_000_000):
        for rate in (8000, 22050, 44100, 48000):
            exact = us * rate / 1_000_000
            assert abs(frame_at(us, rate) - exact) <= 0.5
    # two hours at 22050 Hz: no drift at all
    assert frame_at(7_200_000_000, 22050) == 7200 * 22050


def test_total_length_is_exact_for_any_rate() -> None:
    tl = make_timeline([("silence", "", 1_234_567), ("silence", "", 7)])
    for rate in (8000, 16000, 22050, 44100, 48000):
        r = Renderer(tl, FakeSpeech({}), lambda n: tone(1), sample_rate=rate)
        assert r.render().shape[0] == frame_at(1_234_574, rate)


def test_speech_longer_than_its_event_is_cut_with_a_fade_not_shifted() -> None:
    long = tone(20000, level=20000)
    tl = make_timeline([("speech", "x", us_of(10000)), ("silence", "", us_of(5000))])
    out = Renderer(tl, FakeSpeech({"x": long}), lambda n: long).render()
    assert out.shape[0] == 15000
    assert not out[10000:].any()  # the next event starts silent, exactly on time
    assert np.array_equal(out[:9000], long.samples[:9000])  # body untouched
    assert np.abs(out[9990:10000].astype(int)).max() < 2000  # faded out, no click


def test_sounds_ring_past_their_event_and_mix_under_speech() -> None:
    bell = Clip(np.full(8000, 1000, np.int16), RATE)
    voice = Clip(np.full(3000, 2000, np.int16), RATE)
    tl = make_timeline([("sound", "bell", us_of(2000)), ("speech", "v", us_of(3000)),
                        ("silence", "", us_of(6000))])
    out = Renderer(tl, FakeSpeech({"v": voice}), {"bell": bell}.__getitem__).render()
    assert out[100] == 1000
    assert out[2500] == 3000  # bell tail + voice
    assert out[6000] == 1000  # tail into the silence
    assert out[8500] == 0


def test_mixing_clips_instead_of_wrapping() -> None:
    loud = Clip(np.full(100, 30000, np.int16), RATE)
    tl = make_timeline([("sound", "a", us_of(50)), ("sound", "a", us_of(200))])
    out = Renderer(tl, FakeSpeech({}), {"a": loud}.__getitem__).render()
    assert out[60] == 32767


def test_a_stereo_sound_makes_the_session_stereo() -> None:
    stereo = Clip(np.stack([np.full(100, 100, np.int16), np.full(100, -100, np.int16)], axis=1),
                  RATE)
    speech = Clip(np.full(50, 7, np.int16), RATE)
    tl = make_timeline([("speech", "s", us_of(50)), ("sound", "st", us_of(100))])
    r = Renderer(tl, FakeSpeech({"s": speech}), {"st": stereo}.__getitem__)
    out = r.render()
    assert r.channels == 2 and out.shape == (150, 2)
    assert (out[:50] == 7).all()  # mono speech in both channels
    assert (out[50:, 0] == 100).all() and (out[50:, 1] == -100).all()


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=3_000_000), max_size=6),
       rate=st.sampled_from([8000, 22050, 44100, 48000]))
def test_sub_ranges_join_into_exactly_the_full_render(cuts: list[int], rate: int) -> None:
    bell = tone(30000, freq=800)
    tl = make_timeline([("speech", "a", us_of(9000)), ("sound", "bell", 200_000),
                        ("silence", "", 500_001), ("speech", "b", us_of(11000)),
                        ("silence", "", 777_777)])
    speech = FakeSpeech({"a": tone(9000), "b": tone(11000, freq=200)})
    r = Renderer(tl, speech, {"bell": bell}.__getitem__, sample_rate=rate, block_frames=1024)
    full = r.render()
    bounds = sorted({0, tl.total_us, *(c for c in cuts if c < tl.total_us)})
    parts = [r.render(a, b) for a, b in itertools.pairwise(bounds)]
    assert np.array_equal(np.concatenate(parts), full)


def test_memory_does_not_grow_with_session_length() -> None:
    """Two hours of speech and sounds, streamed: peak Python/numpy allocation stays small."""
    clips = {f"t{i}": tone(20000 + i) for i in range(20)}
    items: list[tuple[str, str, int]] = []
    total = 0
    i = 0
    while total < 7200 * 10**6:
        text = f"t{i % 20}"
        items += [("speech", text, us_of(clips[text].frames)), ("silence", "", 4_000_000)]
        total += us_of(clips[text].frames) + 4_000_000
        i += 1
    tl = make_timeline(items)
    r = Renderer(tl, FakeSpeech(clips), lambda n: tone(1), sample_rate=8000)
    tracemalloc.start()
    frames = 0
    for block in r.blocks():
        frames += block.shape[0]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert frames == r.total_frames
    assert peak < 20 * 2**20


def test_clips_are_fetched_lazily_and_reused() -> None:
    speech = FakeSpeech({"a": tone(100)})
    tl = make_timeline([("speech", "a", us_of(100))] * 5)
    r = Renderer(tl, speech, lambda n: tone(1))
    assert speech.calls == []
    r.render()
    assert speech.calls == ["a"]


# ---- resampling ---------------------------------------------------------------------------


@pytest.mark.parametrize("dst", [8000, 16000, 44100, 48000])
def test_resampling_keeps_pitch_and_length(dst: int) -> None:
    src = Clip(np.rint(12000 * np.sin(2 * np.pi * 1000 * np.arange(22050) / RATE)).astype(np.int16),
               RATE)
    out = resample(src.samples, RATE, dst)
    assert out.shape[0] == round(22050 * dst / RATE)
    spectrum = np.abs(np.fft.rfft(out[dst // 10 : -dst // 10].astype(float)))
    peak_hz = np.argmax(spectrum) * dst / (out.shape[0] - 2 * (dst // 10))
    assert abs(peak_hz - 1000) < 5
    assert 0.95 < np.abs(out[dst // 10 : -dst // 10]).max() / 12000 < 1.05


def test_resampling_is_deterministic() -> None:
    x = tone(5000).samples
    assert np.array_equal(resample(x, 22050, 48000), resample(x.copy(), 22050, 48000))


# ---- reading audio files ------------------------------------------------------------------


def _wav_bytes(samples: bytes, channels: int, rate: int, bits: int, tag: int = 1) -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    return (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(samples)) + b"WAVE"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"LIST" + struct.pack("<I", 4) + b"INFO"  # an extra chunk readers must skip
            + b"data" + struct.pack("<I", len(samples)) + samples)


def _extended(rate: float) -> bytes:
    exp = math.frexp(rate)[1]
    mant = int(rate * 2 ** (64 - exp))
    return struct.pack(">HQ", exp + 16382, mant)


def _aiff_bytes(samples_be: bytes, channels: int, rate: int, frames: int,
                compression: bytes = b"") -> bytes:
    comm = struct.pack(">hIh", channels, frames, 16) + _extended(rate) + compression
    ssnd = struct.pack(">II", 0, 0) + samples_be
    form = b"AIFC" if compression else b"AIFF"
    body = form + b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(
        ">I", len(ssnd)) + ssnd
    return b"FORM" + struct.pack(">I", len(body)) + body


def test_reads_every_common_wav_flavour() -> None:
    ref = np.array([0, 16384, -16384, 32767, -32768], dtype=np.int16)
    f = ref.astype(np.float64) / 32768.0
    cases = {
        "pcm16": _wav_bytes(ref.astype("<i2").tobytes(), 1, 16000, 16),
        "pcm24": _wav_bytes(b"".join((int(v) * 256).to_bytes(3, "little", signed=True)
                                     for v in ref), 1, 16000, 24),
        "pcm32": _wav_bytes((ref.astype("<i4") * 65536).tobytes(), 1, 16000, 32),
        "float": _wav_bytes(f.astype("<f4").tobytes(), 1, 16000, 32, tag=3),
        "pcm8": _wav_bytes((ref // 256 + 128).astype(np.uint8).tobytes(), 1, 16000, 8),
    }
    for name, data in cases.items():
        clip = decode_audio(data)
        assert clip.sample_rate == 16000, name
        tolerance = 256 if name == "pcm8" else 0
        assert np.abs(clip.samples.astype(int) - ref).max() <= tolerance, name


def test_reads_aiff_even_when_named_wav(tmp_path: Path) -> None:
    """macOS speech writes AIFF whatever the file is called (and aifc left Python in 3.13)."""
    ref = np.array([1, -2, 300, -400, 5000, -6000], dtype=np.int16)
    path = tmp_path / "speech.wav"
    path.write_bytes(_aiff_bytes(ref.astype(">i2").tobytes(), 1, 22050, 6))
    clip = read_audio(path)
    assert clip.sample_rate == 22050 and np.array_equal(clip.samples, ref)
    sowt = _aiff_bytes(ref.reshape(3, 2).astype("<i2").tobytes(), 2, 44100, 3, b"sowt")
    clip = decode_audio(sowt)
    assert clip.sample_rate == 44100 and np.array_equal(clip.samples, ref.reshape(3, 2))


def test_reads_a_stdlib_wave_file(tmp_path: Path) -> None:
    path = tmp_path / "s.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(np.arange(20, dtype="<i2").tobytes())
    clip = read_audio(path)
    assert clip.samples.shape == (10, 2) and clip.sample_rate == 44100


def test_a_broken_sound_file_is_a_routine_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "gong.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(RoutineError) as err:
        SoundBank({"gong": str(bad)}).clip("gong")
    assert "gong.wav" in str(err.value) and "gong" in str(err.value)
    with pytest.raises(RoutineError, match="not found"):
        SoundBank({"gone": str(tmp_path / "gone.wav")}).clip("gone")


def test_sounds_get_tiny_fades_so_abrupt_files_do_not_click(tmp_path: Path) -> None:
    path = tmp_path / "square.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.full(RATE, 20000, dtype="<i2").tobytes())
    clip = SoundBank({"sq": str(path)}).clip("sq")
    assert abs(int(clip.samples[0])) < 2000 and abs(int(clip.samples[-1])) < 2000
    assert clip.samples[RATE // 2] == 20000
    assert clip.duration_us == 1_000_000
