"""``voiceguide export`` end to end with the real speech engine, on a short routine of every step
kind (tests/data/export/short.yaml): exact length and placement, captions, split files, stdout,
ffmpeg formats, atomic and deterministic output."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

import voiceguide
from voiceguide.audio.codecs import read_audio
from voiceguide.audio.render import Renderer
from voiceguide.cli import main
from voiceguide.errors import ExportError, UsageError
from voiceguide.exporter.export import export, split_names
from voiceguide.fileio import WRITEBACK_BYTES
from voiceguide.pipeline import build_timeline, renderer_for
from voiceguide.speech.clips import speech_clips
from voiceguide.timeline.model import Timeline
from voiceguide.units import frame_at

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parent.parent
SHORT = REPO / "tests" / "data" / "export" / "short.yaml"
HAS_FFMPEG = shutil.which("ffmpeg") is not None


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def wav_samples(path: Path) -> tuple[np.ndarray, int, int]:
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        channels, rate = w.getnchannels(), w.getframerate()
    return (data.reshape(-1, channels) if channels > 1 else data), rate, channels


def subprocess_env(cache: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "VOICEGUIDE_CACHE_DIR": str(cache)}


# ---- the single file --------------------------------------------------------------------------


def test_length_equals_show_json_to_the_sample(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", str(SHORT), "--json")
    assert code == 0
    total_seconds = json.loads(out)["total_seconds"]
    target = tmp_path / "session.wav"
    code, out, err = run(capsys, "export", str(SHORT), "-o", str(target))
    assert code == 0, err
    assert out == ""  # messages go to stderr
    samples, rate, channels = wav_samples(target)
    assert (rate, channels) == (22050, 1)
    assert samples.shape[0] == round(total_seconds * 22050)
    assert samples.shape[0] == frame_at(round(total_seconds * 1_000_000), 22050)


def test_the_wav_opens_in_other_readers(tmp_path: Path) -> None:
    target = tmp_path / "session.wav"
    result = export(SHORT, target)
    frames = result.frames
    try:
        import soundfile
    except ImportError:
        soundfile = None
    if soundfile is not None:
        data, rate = soundfile.read(str(target), dtype="int16")
        assert rate == 22050 and data.shape[0] == frames
        assert np.array_equal(data, wav_samples(target)[0])
    if shutil.which("sox"):
        proc = subprocess.run(["sox", "--i", "-s", str(target)], capture_output=True, text=True)
        assert proc.returncode == 0 and int(proc.stdout.strip()) == frames


def test_every_speech_event_starts_at_its_planned_sample(tmp_path: Path) -> None:
    timeline = build_timeline(SHORT)
    target = tmp_path / "session.wav"
    export(timeline, target, loudness="off")  # placement, sample for sample (normalising scales)
    audio, rate, _ = wav_samples(target)
    clips = speech_clips(timeline.voice)
    sound_spans = _sound_spans(timeline, rate)
    speech = [e for e in timeline.events if e.kind == "speech"]
    assert len(speech) >= 10
    exact = 0
    for e in speech:
        clip = clips(e.text).samples.astype(np.float64)
        start = frame_at(e.start_us, rate)
        pad = 300
        window = audio[max(start - pad, 0) : start + clip.shape[0] + pad].astype(np.float64)
        lead = start - max(start - pad, 0)
        corr = np.correlate(window, clip, mode="valid")
        assert int(np.argmax(corr)) == lead, e.text  # the clip is found exactly where planned
        end = frame_at(e.end_us, rate)
        if not any(s < end and start < t for s, t in sound_spans):
            assert np.array_equal(audio[start:end], clips(e.text).samples[: end - start])
            exact += 1
    assert exact >= len(speech) - 2  # only cues under a ringing bell are mixed


def _sound_spans(timeline: Timeline, rate: int) -> list[tuple[int, int]]:
    r = renderer_for(timeline, sample_rate=rate)
    spans = []
    for e in timeline.events:
        if e.kind == "sound":
            start = frame_at(e.start_us, rate)
            spans.append((start, start + r._prepared("sound", e.sound).shape[0]))
    return spans


def test_captions_parse_and_match_the_events(tmp_path: Path) -> None:
    import srt
    import webvtt

    target = tmp_path / "session.wav"
    result = export(SHORT, target, captions=True)
    speech = [e for e in result.timeline.events if e.kind == "speech"]
    srt_path, vtt_path = tmp_path / "session.srt", tmp_path / "session.vtt"
    assert srt_path in result.files and vtt_path in result.files
    all_subs = list(srt.parse(srt_path.read_text("utf-8")))
    all_cues = webvtt.read(str(vtt_path)).captions
    # The silent parts of a hold carry "Hold · 0:20" cues; every other cue is one utterance.
    holds = [s for s in all_subs if re.fullmatch(r"Hold(, [a-z ]+)? · \d+:\d\d", s.content)]
    assert holds and len([c for c in all_cues if c.text.startswith("Hold")]) == len(holds)
    subs = [s for s in all_subs if s not in holds]
    cues = [c for c in all_cues if not re.fullmatch(r"Hold(, [a-z ]+)? · \d+:\d\d", c.text)]
    assert all(a.end <= b.start for a, b in itertools.pairwise(all_subs))  # never two at once
    assert len(subs) == len(cues) == len(speech)
    for e, sub, cue in zip(speech, subs, cues, strict=True):
        for start_s, end_s, text in (
            (sub.start.total_seconds(), sub.end.total_seconds(), sub.content),
            (cue.start_time.in_milliseconds() / 1000, cue.end_time.in_milliseconds() / 1000,
             cue.text),
        ):
            assert abs(start_s - e.start) <= 0.0005 + 1e-9
            assert abs(end_s - e.end_us / 1e6) <= 0.0005 + 1e-9
            assert " ".join(text.split()) == " ".join(e.text.split())
    if HAS_FFMPEG:
        for path in (srt_path, vtt_path):  # a player's parser reads every cue back
            proc = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "srt", "-"],
                                  capture_output=True, text=True)
            assert proc.returncode == 0 and proc.stderr == "", proc.stderr
            assert len(list(srt.parse(proc.stdout))) == len(all_subs)


# ---- split files ------------------------------------------------------------------------------


def test_split_files_concatenated_equal_the_single_export(tmp_path: Path) -> None:
    single = tmp_path / "session.wav"
    parts = tmp_path / "parts"
    result = export(SHORT, single, split_dir=parts, captions=True)
    names = split_names(result.timeline)
    assert names[0] == "00-introduction.wav"  # numbered as `show` and `play --from` number steps
    assert len(names) == len(result.timeline.steps)
    joined = np.concatenate([wav_samples(parts / n)[0] for n in names])
    assert np.array_equal(joined, wav_samples(single)[0])
    playlist = parts / "export-test-routine.m3u"
    lines = playlist.read_text("utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    assert [ln for ln in lines if not ln.startswith("#")] == names
    assert all((parts / n).with_suffix(".srt").exists() for n in names)


def test_split_alone_needs_no_output_file(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "export", str(SHORT), "--split", str(tmp_path / "steps"))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "steps").glob("*.wav"))[0] == "00-introduction.wav"


# ---- determinism, stdout, atomicity -----------------------------------------------------------


def test_two_exports_are_byte_identical(tmp_path: Path) -> None:
    export(SHORT, tmp_path / "a.wav")
    export(SHORT, tmp_path / "b.wav")
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


@pytest.mark.slow
def test_cold_exports_in_fresh_processes_are_byte_identical(tmp_path: Path) -> None:
    outs = []
    for i in range(2):
        out = tmp_path / f"{i}.wav"
        proc = subprocess.run([sys.executable, "-m", "voiceguide", "export", str(SHORT), "-o",
                               str(out)], env=subprocess_env(tmp_path / f"cache{i}"),
                              capture_output=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_dash_writes_the_same_wav_to_stdout_and_nothing_else(tmp_path: Path) -> None:
    env = subprocess_env(tmp_path / "cache")
    file_out = tmp_path / "file.wav"
    subprocess.run([sys.executable, "-m", "voiceguide", "export", str(SHORT), "-o",
                    str(file_out)], env=env, check=True, capture_output=True, timeout=300)
    proc = subprocess.run([sys.executable, "-m", "voiceguide", "export", str(SHORT), "-o", "-"],
                          env=env, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == file_out.read_bytes()  # no "Audio saved to", no progress, no summary
    # and cold (synthesis during the export) stdout is just as clean
    cold = subprocess.run([sys.executable, "-m", "voiceguide", "export", str(SHORT), "-o", "-"],
                          env=subprocess_env(tmp_path / "cold"), capture_output=True, timeout=300)
    assert cold.stdout[:4] == b"RIFF" and len(cold.stdout) == len(proc.stdout)


def test_a_long_export_on_disk_equals_the_stream(tmp_path: Path) -> None:
    """Files past a few MB are written with early write-back: the bytes must not change."""
    routine = tmp_path / "long.yaml"
    routine.write_text("title: Long quiet\nsteps:\n  - say: Rest now.\n  - pause: 3m\n"
                       "  - sound: chime\n  - say: Done.\n", encoding="utf-8")
    out = tmp_path / "long.wav"
    result = export(routine, out, sample_rate=44100)
    stream = tmp_path / "stream.wav"
    with stream.open("wb") as handle:
        export(routine, "-", stdout=handle, sample_rate=44100)
    data = out.read_bytes()
    assert len(data) > 3 * WRITEBACK_BYTES  # several write-back windows
    assert data == stream.read_bytes()
    assert data[36:44] == b"data" + struct.pack("<I", 2 * result.frames)  # then markers and tags
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.wav", "long.yaml", "stream.wav"]


def test_an_interrupted_export_leaves_no_half_file(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "session.wav"
    target.write_bytes(b"previous export")
    real_blocks = Renderer.blocks

    def interrupted(self: Renderer, *args: int | None):  # type: ignore[no-untyped-def]
        for i, block in enumerate(real_blocks(self, *args)):
            if i == 3:
                raise KeyboardInterrupt
            yield block

    monkeypatch.setattr(Renderer, "blocks", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export(SHORT, target)
    assert target.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.wav"]


# ---- formats and rates --------------------------------------------------------------------------


@pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg is not installed")
def test_flac_is_lossless_and_other_formats_have_the_right_length(tmp_path: Path) -> None:
    wav = export(SHORT, tmp_path / "s.wav")
    reference, _, _ = wav_samples(tmp_path / "s.wav")
    export(SHORT, tmp_path / "s.flac")
    decoded = tmp_path / "decoded.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tmp_path / "s.flac"), str(decoded)],
                   check=True)
    assert np.array_equal(wav_samples(decoded)[0], reference)
    for suffix in (".ogg", ".mp3", ".m4a"):
        path = tmp_path / f"s{suffix}"
        export(SHORT, path)
        again = tmp_path / f"again{suffix}"
        export(SHORT, again)
        assert path.read_bytes() == again.read_bytes(), suffix
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                                "-of", "csv=p=0", str(path)], capture_output=True, text=True)
        assert abs(float(probe.stdout) - wav.seconds) < 0.15, suffix
    assert not list(tmp_path.glob(".*"))  # no temporary files left


def test_missing_ffmpeg_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, _, err = run(capsys, "export", str(SHORT), "-o", str(tmp_path / "s.mp3"))
    assert code == 1
    assert "ffmpeg" in err and "install" in err and "Traceback" not in err
    assert not (tmp_path / "s.mp3").exists()


@pytest.mark.parametrize("rate", [16000, 44100, 48000])
def test_sample_rate_option(tmp_path: Path, rate: int, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "s.wav"
    code, _, err = run(capsys, "export", str(SHORT), "-o", str(target), "--sample-rate", str(rate))
    assert code == 0, err
    samples, got_rate, _ = wav_samples(target)
    timeline = build_timeline(SHORT)
    assert got_rate == rate and samples.shape[0] == frame_at(timeline.total_us, rate)


def test_a_stereo_sound_makes_a_stereo_export(tmp_path: Path) -> None:
    frames = 4410
    t = np.arange(frames) / 22050
    left = (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    with wave.open(str(tmp_path / "gong.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(np.stack([left, -left], axis=1).tobytes())
    (tmp_path / "r.yaml").write_text(
        "title: Stereo\nsteps:\n  - say: Listen.\n  - sound: gong\n  - say: Done.\n",
        encoding="utf-8")
    result = export(tmp_path / "r.yaml", tmp_path / "out.wav")
    samples, _, channels = wav_samples(tmp_path / "out.wav")
    assert channels == 2 and result.channels == 2
    assert not np.array_equal(samples[:, 0], samples[:, 1])  # the gong is not mono
    assert read_audio(tmp_path / "out.wav").samples.shape == samples.shape


# ---- options and errors ------------------------------------------------------------------------


def test_avoid_leaves_points_out(tmp_path: Path) -> None:
    full = export(SHORT, tmp_path / "full.wav", captions=True)
    safe = export(SHORT, tmp_path / "safe.wav", captions=True, avoid=["pregnancy"])
    assert safe.frames < full.frames
    assert "Sea of Energy" in (tmp_path / "full.srt").read_text("utf-8")
    assert "Sea of Energy" not in (tmp_path / "safe.srt").read_text("utf-8")


def test_voice_options_change_the_audio(tmp_path: Path) -> None:
    slow = export(SHORT, tmp_path / "slow.wav", rate=120)
    fast = export(SHORT, tmp_path / "fast.wav", rate=240)
    assert slow.frames > fast.frames
    # Normalisation would bring both to -19 LUFS: the voice's own volume shows with it off.
    export(SHORT, tmp_path / "loud.wav", volume=1.0, loudness="off")
    quiet = export(SHORT, tmp_path / "quiet.wav", volume=0.3, loudness="off")
    first = frame_at(quiet.timeline.events[0].end_us, 22050)  # the title, spoken (no bell)
    assert np.abs(wav_samples(tmp_path / "quiet.wav")[0][:first].astype(int)).max() < 0.5 * np.abs(
        wav_samples(tmp_path / "loud.wav")[0][:first].astype(int)).max()


def test_a_timeline_compiled_from_estimates_still_exports_exactly(tmp_path: Path) -> None:
    timeline = build_timeline(SHORT, estimate=True)
    result = export(timeline, tmp_path / "est.wav")
    assert wav_samples(tmp_path / "est.wav")[0].shape[0] == frame_at(timeline.total_us, 22050)
    assert result.timeline is timeline


def test_progress_reports_every_phase_to_the_end(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    export(SHORT, tmp_path / "s.wav", split_dir=tmp_path / "p",
           progress=lambda phase, done, total: seen.append((phase, done, total)))
    phases = [p for p, _, _ in seen]
    assert "Synthesizing" in phases and "Rendering" in phases
    rendering = [(d, t) for p, d, t in seen if p == "Rendering"]
    assert [d for d, _ in rendering] == sorted(d for d, _ in rendering)
    assert rendering[-1][0] == rendering[-1][1] > 0


def test_python_api_mirrors_the_command(tmp_path: Path) -> None:
    result = voiceguide.export(str(SHORT), tmp_path / "api.wav", captions=True)
    assert result.files == [tmp_path / "api.wav", tmp_path / "api.srt", tmp_path / "api.vtt"]
    again = voiceguide.export(SHORT, tmp_path / "again.wav")  # works after the submodule import
    assert (tmp_path / "again.wav").read_bytes() == (tmp_path / "api.wav").read_bytes()
    assert again.frames == result.frames


@pytest.mark.parametrize("argv,code,message", [
    (["-o", "x.aiff"], 2, "cannot export to 'x.aiff'"),
    (["-o", "-", "--captions"], 2, "--captions needs a file"),
    (["-o", "x.wav", "--sample-rate", "12345"], 2, "unsupported sample rate"),
])
def test_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str], argv: list[str], code: int,
                      message: str) -> None:
    monkeypatch.chdir(tmp_path)
    got, _, err = run(capsys, "export", str(SHORT), *argv)
    assert got == code and message in err
    assert list(tmp_path.iterdir()) == []


def test_library_errors_are_voiceguide_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        export(SHORT, tmp_path / "x.aiff")
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(ExportError):
        export(SHORT, tmp_path / "a-file" / "x.wav")
