"""Ambience and loudness in real exports: real speech (espeak-ng), the finished WAV measured by an
independent reader (ffmpeg's ebur128) where levels matter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import numpy as np
import pytest
from ffmpeg_checks import ebur128

from voiceguide.cli import main
from voiceguide.exporter.export import export, split_names
from voiceguide.units import frame_at

REPO = Path(__file__).resolve().parent.parent
SHORT = REPO / "tests" / "data" / "export" / "short.yaml"
RATE = 22050

pytestmark = pytest.mark.engine


def samples(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0


def routine(folder: Path, body: str) -> Path:
    path = folder / "r.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


SESSION = """\
    title: Ambience export
    voice: {rate: 170}
    ambience: {sound: brown-noise, volume: -18dB, duck: 9dB, fade: 2s}
    steps:
      - say: Sit comfortably and let your shoulders drop, slowly and gently.
      - pause: 6s
      - say: Breathe in through the nose, and out through the mouth, softly.
      - pause: 6s
      - ambience: {sound: pink-noise, fade: 3s}
      - say: Now the sound changes, and you go on resting.
      - pause: 6s
      - sound: chime
      - pause: 4s
      - say: Well done.
"""


@pytest.mark.parametrize(("target", "channels"), [(None, 1), ("-23", 1)])
def test_exports_meet_the_loudness_target_and_true_peak(
    tmp_path: Path, target: str | None, channels: int
) -> None:
    out = tmp_path / "s.wav"
    result = export(routine(tmp_path, SESSION), out, loudness=target, report_loudness=True)
    got = ebur128(out)
    goal = -19.0 if target is None else float(target)
    assert abs(got["I"] - goal) <= 0.5
    assert got["TP"] <= -1.0
    assert result.loudness is not None  # what --report and --json print agrees with ffmpeg
    assert abs(result.loudness.integrated_lufs - got["I"]) <= 0.3
    assert abs(result.loudness.true_peak_dbtp - got["TP"]) <= 0.5
    assert abs(result.loudness.range_lu - got["LRA"]) <= 1.5


def test_plain_routines_are_normalised_too_and_off_leaves_them(tmp_path: Path) -> None:
    export(SHORT, tmp_path / "norm.wav")
    export(SHORT, tmp_path / "raw.wav", loudness="off")
    assert abs(ebur128(tmp_path / "norm.wav")["I"] + 19.0) <= 0.5
    raw = ebur128(tmp_path / "raw.wav")["I"]
    assert abs(raw + 19.0) > 0.5, "espeak-ng's own level is not already the target"


def _bed_alone(tmp_path: Path) -> tuple[np.ndarray, object]:
    """The bed as exported: the mix minus the same export without ambience (levels untouched)."""
    path = routine(tmp_path, SESSION)
    with_bed = export(path, tmp_path / "bed.wav", loudness="off")
    export(path, tmp_path / "dry.wav", loudness="off", ambience="off")
    return samples(tmp_path / "bed.wav") - samples(tmp_path / "dry.wav"), with_bed.timeline


def _db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x**2))))


def test_the_bed_ducks_by_its_depth_under_speech_and_is_down_before_the_first_word(tmp_path: Path) -> None:
    bed, timeline = _bed_alone(tmp_path)
    speech = [e for e in timeline.events if e.kind == "speech"]  # type: ignore[attr-defined]
    first_change = timeline.ambience[1].at_us  # type: ignore[attr-defined]
    pauses = [
        e
        for e in timeline.events  # type: ignore[attr-defined]
        if e.kind == "silence" and e.duration_us >= 5_000_000 and e.end_us <= first_change
    ]
    assert pauses
    free = [
        bed[frame_at(p.start_us + 1_500_000, RATE) : frame_at(p.end_us - 1_000_000, RATE)] for p in pauses
    ]
    full = _db(np.concatenate(free))
    from voiceguide.audio.loudness import integrated_loudness

    lufs = integrated_loudness(np.concatenate(free), RATE)
    assert abs(lufs - (-18.0 - 20.0)) <= 1.5  # -18 dB under the beds' -20 LUFS (about the voice)
    for e in speech:
        if e.end_us > first_change - 2_000_000 or e.duration_us < 1_500_000:
            continue
        under = bed[frame_at(e.start_us, RATE) : frame_at(e.end_us, RATE)]
        assert abs(full - _db(under) - 9.0) <= 1.5, e.text
        onset = bed[frame_at(e.start_us, RATE) : frame_at(e.start_us + 200_000, RATE)]
        assert full - _db(onset) >= 7.5, "the first word starts over a ducked bed"


def test_no_click_at_an_ambience_change_or_a_split_boundary(tmp_path: Path) -> None:
    bed, timeline = _bed_alone(tmp_path)
    steps = np.abs(np.diff(bed))
    usual = float(np.percentile(steps, 99.99))
    change = frame_at(timeline.ambience[1].at_us, RATE)  # type: ignore[attr-defined]
    around = steps[change - 2 * RATE : change + 2 * RATE]
    assert around.max() <= 1.5 * usual
    assert np.sqrt(np.mean(bed[change - 1500 : change + 1500] ** 2)) > 0.003  # crossfaded, not a gap

    parts = tmp_path / "parts"
    result = export(tmp_path / "r.yaml", split_dir=parts, loudness="off")
    dry = samples(tmp_path / "dry.wav")
    edge = round(0.003 * RATE)
    for name, step in zip(split_names(result.timeline), result.timeline.steps, strict=True):
        x = samples(parts / name)
        a, b = frame_at(step.start_us, RATE), frame_at(step.end_us, RATE)
        assert x.shape[0] == b - a
        # Each file's stretch of the bed fades in and out: at its edges only the voice is left.
        if a > 0:
            assert np.abs(x[:edge] - dry[a : a + edge]).max() < 0.002, name
        if b < dry.shape[0]:
            assert np.abs(x[-edge:] - dry[b - edge : b]).max() < 0.002, name
        bed_part = x - dry[a:b]
        assert np.abs(np.diff(bed_part)).max() <= 1.5 * usual, name


def test_ambience_export_is_byte_identical_and_captions_do_not_change(tmp_path: Path) -> None:
    path = routine(tmp_path, SESSION)
    export(path, tmp_path / "a.wav", captions=True)
    export(path, tmp_path / "b.wav")  # the measurement now comes from the cache
    for stored in (Path(os.environ["VOICEGUIDE_CACHE_DIR"]) / "loudness").glob("*"):
        stored.unlink()
    export(path, tmp_path / "c.wav", ambience="brown-noise")  # measured again; same bed from t=0
    a = (tmp_path / "a.wav").read_bytes()
    assert a == (tmp_path / "b.wav").read_bytes()
    assert a != (tmp_path / "c.wav").read_bytes()  # the command line's bed replaced the change
    export(path, tmp_path / "dry.wav", captions=True, ambience="off")
    assert (tmp_path / "a.srt").read_text("utf-8") == (tmp_path / "dry.srt").read_text("utf-8")
    assert (tmp_path / "a.vtt").read_text("utf-8") == (tmp_path / "dry.vtt").read_text("utf-8")


@pytest.mark.parametrize("ambience", [None, "off"])
def test_exporting_again_replays_the_limiter_and_gives_the_same_bytes(
    tmp_path: Path, ambience: str | None
) -> None:
    """The first normalised export keeps where its limiter had to act; the next one (another file,
    split files) replays that instead of oversampling again, and its audio is byte-identical; a
    damaged record is only a miss."""
    path = routine(tmp_path, SESSION)
    store = Path(os.environ["VOICEGUIDE_CACHE_DIR"]) / "loudness"
    for stored in store.glob("*.need.npz"):
        stored.unlink()
    export(path, tmp_path / "a.wav", ambience=ambience)
    logs = sorted(store.glob("*.need.npz"))
    assert len(logs) == 1
    kept = logs[0].stat().st_mtime_ns
    export(path, tmp_path / "b.wav", ambience=ambience)
    assert logs[0].stat().st_mtime_ns == kept  # replayed, not recorded again
    logs[0].write_bytes(b"not a log")
    export(path, tmp_path / "c.wav", ambience=ambience)
    a = (tmp_path / "a.wav").read_bytes()
    assert a == (tmp_path / "b.wav").read_bytes() == (tmp_path / "c.wav").read_bytes()
    # A well-formed log of another stream: worked out afresh where it does not fit, then dropped
    # and recorded again by the next export.
    from voiceguide.audio.loudness import NeedLog, limited

    foreign = NeedLog()
    burst = np.sin(np.arange(50_000) * 1.7)
    list(limited([burst[i : i + 9000] for i in range(0, 50_000, 9000)], RATE, log=foreign))
    logs[0].write_bytes(foreign.to_bytes())
    export(path, tmp_path / "d.wav", ambience=ambience)
    assert (tmp_path / "d.wav").read_bytes() == a
    assert not logs[0].exists()
    export(path, tmp_path / "e.wav", ambience=ambience)
    assert logs[0].exists() and (tmp_path / "e.wav").read_bytes() == a
    export(path, split_dir=tmp_path / "parts", ambience=ambience)
    export(path, split_dir=tmp_path / "again", ambience=ambience)
    for part in sorted((tmp_path / "parts").glob("*.wav")):
        assert part.read_bytes() == (tmp_path / "again" / part.name).read_bytes(), part.name


def test_a_users_file_loops_under_the_session(tmp_path: Path) -> None:
    t = np.arange(round(2.5 * 44100)) / 44100
    tone = 0.3 * np.sin(2 * np.pi * 210 * t)
    stereo = np.stack([tone, tone * 0.8], axis=1)
    import soundfile as sf

    sf.write(str(tmp_path / "pad.flac"), stereo, 44100)
    body = SESSION.replace("sound: brown-noise", "sound: pad.flac")
    path = routine(tmp_path, body)
    export(path, tmp_path / "mine.wav", loudness="off")
    export(path, tmp_path / "dry.wav", loudness="off", ambience="off")
    bed = samples(tmp_path / "mine.wav") - samples(tmp_path / "dry.wav")
    ten = bed[4 * RATE : 9 * RATE]  # several loops of a 2.5 s clip (1.5 s + its seam)
    assert _db(ten) > -45.0
    assert np.abs(np.diff(ten)).max() < 4 * 2 * np.pi * 210 / RATE * np.abs(ten).max()  # no click


def test_command_line_errors_are_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in (
        (["--ambience", "rian"], "did you mean 'rain'?"),
        (["--ambience", "nothing.mp3"], "no such file"),
        (["--loudness", "loud"], "--loudness takes a level in LUFS"),
        (["--ambience", "rain", "--ambience-volume", "22dB"], "write -22dB"),
    ):
        code = main(["export", str(SHORT), "-o", str(tmp_path / "x.wav"), *argv])
        err = capsys.readouterr().err
        assert code != 0 and message in err and "Traceback" not in err, err
        assert not (tmp_path / "x.wav").exists()


def test_report_prints_the_levels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["export", str(SHORT), "-o", str(tmp_path / "x.wav"), "--ambience", "pink-noise", "--report"])
    err = capsys.readouterr().err
    assert code == 0, err
    found = re.search(
        r"Loudness: (-[\d.]+) LUFS integrated, range ([\d.]+) LU, true peak (-[\d.]+) dBTP", err
    )
    assert found is not None, err
    assert abs(float(found.group(1)) + 19.0) <= 0.5 and float(found.group(3)) <= -1.0


LONG = """\
title: Two hours with rain
voice: {rate: 170}
ambience: {sound: rain, volume: -22dB}
steps:
  - say: A long session for measuring memory.
  - repeat: 40
    steps:
      - say: Let your shoulders soften and breathe slowly.
      - pause: 170s
      - sound: chime
"""
# The peak of this process's own memory (VmHWM, kB): getrusage's ru_maxrss would also count the
# pytest process it was forked from, which is larger than the export late in a test run.
PROBE = """
import re, sys
from voiceguide.exporter.export import export
export(sys.argv[1], sys.argv[2])
with open("/proc/self/status") as status:
    print(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
"""


@pytest.mark.slow
def test_a_two_hour_export_with_ambience_stays_under_150_mb(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(LONG, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(path), str(tmp_path / "long.wav")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    peak_mb = int(run.stdout.strip().splitlines()[-1]) / 1024
    assert (tmp_path / "long.wav").stat().st_size > 2 * 3600 * RATE * 2 * 0.95
    assert peak_mb < 150, f"peak RSS {peak_mb:.0f} MB"
