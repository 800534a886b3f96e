"""Reading sounds: the direct 16-bit WAV reader gives exactly what libsndfile gives."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voiceguide.audio.codecs import AudioFormatError, decode_audio
from voiceguide.audio.dsp import to_int16

SOUNDS = sorted((Path(__file__).resolve().parent.parent / "sounds").glob("*.wav"))


def libsndfile(data: bytes) -> tuple[np.ndarray, int]:
    samples, rate = soundfile.read(io.BytesIO(data), dtype="int16", always_2d=True)
    return (samples[:, 0] if samples.shape[1] == 1 else samples), rate


def wav(samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    out = io.BytesIO()
    soundfile.write(out, samples, rate, format="WAV", subtype=subtype)
    return out.getvalue()


@pytest.mark.parametrize("path", SOUNDS, ids=lambda p: p.name)
def test_shipped_sounds_read_as_libsndfile_reads_them(path: Path) -> None:
    data = path.read_bytes()
    clip = decode_audio(data)
    expected, rate = libsndfile(data)
    assert clip.sample_rate == rate
    assert clip.samples.dtype == np.int16 and np.array_equal(clip.samples, expected)


def test_stereo_and_odd_chunks_before_the_samples() -> None:
    rng = np.random.default_rng(7)
    stereo = rng.integers(-32768, 32767, size=(1001, 2), dtype=np.int16)
    data = wav(stereo, 44100)
    clip = decode_audio(data)
    assert clip.channels == 2 and np.array_equal(clip.samples, stereo)
    # A 3-byte chunk (padded to 4) between fmt and data, as some editors write.
    at = data.index(b"data")
    padded = data[:at] + b"junk" + struct.pack("<I", 3) + b"abc\0" + data[at:]
    padded = padded[:4] + struct.pack("<I", len(padded) - 8) + padded[8:]
    assert np.array_equal(decode_audio(padded).samples, stereo)


def test_other_depths_and_damage_still_go_through_libsndfile() -> None:
    tone = (np.sin(np.arange(2205) / 7) * 0.5).astype(np.float64)
    for subtype in ("PCM_24", "FLOAT"):
        data = wav(tone, 22050, subtype)
        clip = decode_audio(data)
        floats, _ = soundfile.read(io.BytesIO(data), dtype="float64", always_2d=True)
        assert clip.sample_rate == 22050 and clip.frames == 2205
        assert np.array_equal(clip.samples, to_int16(floats)[:, 0])
    data = wav((tone * 20000).astype(np.int16), 22050)
    cut = decode_audio(data[:-100])  # the data chunk runs past the end: libsndfile reads what is there
    assert cut.frames == 2205 - 50
    with pytest.raises(AudioFormatError):
        decode_audio(b"RIFF\x04\x00\x00\x00WAVEnot audio at all")
