"""`voiceguide play --preview-sound NAME` through the real ALSA/PulseAudio stack, headless.

The private PulseAudio null sink of tests/test_play_e2e.py records what came out: about ten
seconds of the rain bed (faded at both ends, at the default ambience level), or the chime's own
samples. The error cases run the CLI without a sink.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_play_e2e import RATE, NullSink, run_in_terminal, sink, stop_recording

REPO = Path(__file__).resolve().parent.parent

__all__ = ["sink"]  # the fixture, imported for the tests below


def _play(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", "play", *args],
        env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def _record(
    sink: NullSink, tmp_path: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], np.ndarray]:
    capture = tmp_path / "capture.raw"
    recorder = sink.record(capture)
    try:
        time.sleep(1.0)
        sink.warm_up()
        played = _play(sink.env, *args)
        time.sleep(0.8)
    finally:
        stop_recording(recorder)
    return played, np.fromfile(capture, dtype=np.int16).astype(np.float64)


def _audible(samples: np.ndarray, threshold: float = 20.0, window_s: float = 0.05) -> np.ndarray:
    """Per 50 ms window, whether its RMS is above ``threshold`` (int16 units)."""
    n = int(RATE * window_s)
    frames = len(samples) // n
    rms = np.sqrt((samples[: frames * n].reshape(frames, n) ** 2).mean(axis=1))
    return rms > threshold


def _best_match(haystack: np.ndarray, needle: np.ndarray) -> int:
    """Where ``needle`` fits ``haystack`` best in the least-squares sense (not just correlation,
    which a louder stretch wins)."""
    corr = np.correlate(haystack, needle, mode="valid")
    energy = np.convolve(haystack**2, np.ones(len(needle)), mode="valid")
    return int(np.argmin(energy - 2 * corr))


pytestmark = [pytest.mark.audio, pytest.mark.slow]


def test_rain_plays_about_ten_seconds_of_bed(sink: NullSink, tmp_path: Path) -> None:
    played, recorded = _record(sink, tmp_path, "--preview-sound", "rain")
    assert played.returncode == 0, played.stderr
    assert "Traceback" not in played.stderr
    assert "Playing rain" in played.stdout
    loud = _audible(recorded)
    assert loud.any(), "nothing came out"
    first, last = np.nonzero(loud)[0][[0, -1]]
    heard_s = (last - first + 1) * 0.05
    assert 9.0 <= heard_s <= 10.5, heard_s  # 10 s, less the quietest edges of the fades
    assert loud[first : last + 1].mean() > 0.98, "the bed drops out in the middle"
    # At the default ambience level: well under full scale, far over the sink's silence.
    middle = recorded[int((first * 0.05 + 3) * RATE) : int((first * 0.05 + 7) * RATE)]
    rms_db = 20 * np.log10(np.sqrt(np.mean(middle**2)) / 32768)
    assert -50 < rms_db < -25, rms_db


def test_a_cue_sound_plays_whole(sink: NullSink, tmp_path: Path) -> None:
    import soundfile as sf

    played, recorded = _record(sink, tmp_path, "--preview-sound", "chime")
    assert played.returncode == 0, played.stderr
    from voiceguide.audio.loudness import LIVE_GAIN_DB

    chime, rate = sf.read(str(REPO / "sounds" / "chime.wav"), dtype="int16")
    assert rate == RATE
    # As loud as in a played session: the player's gain, and the chime stays under the soft knee.
    chime = chime.astype(np.float64) * 10 ** (LIVE_GAIN_DB / 20)
    assert np.max(np.abs(chime)) < 0.89 * 32768
    # Every 50 ms of the chime (past its 1 ms fade-in) is in the recording sample for sample, in
    # order. Each piece is looked for on its own: a device underrun on a busy machine may slip a
    # few milliseconds of silence in between, which moves the later pieces but changes none.
    piece = RATE // 20
    at, end = 0, 0
    for k in range(1, len(chime) // piece - 1):  # the last piece holds load_sound's 5 ms fade-out
        want = chime[k * piece : (k + 1) * piece]
        if np.max(np.abs(want)) < 100:
            continue  # the chime's silent tail matches anywhere
        at = end + _best_match(recorded[end : None if end == 0 else end + piece + RATE // 10], want)
        got = recorded[at : at + piece]
        assert np.max(np.abs(got - want)) <= 0.01 * np.max(np.abs(chime)) + 2, (k, at)
        end = at + piece
    assert not _audible(recorded[end + 2 * piece + RATE // 5 :]).any(), "sound after the chime"


def test_ctrl_c_stops_the_preview(sink: NullSink) -> None:
    code, screen, restored = run_in_terminal(
        sink.env, ["play", "--preview-sound", "rain"], [("Playing rain", b""), (1.0, b"\x03")]
    )
    assert code == 130, screen
    assert restored
    assert "Traceback" not in screen


def test_unknown_name_suggests_the_closest_and_exits_2() -> None:
    played = _play(dict(os.environ), "--preview-sound", "rian")
    assert played.returncode == 2
    assert "unknown sound 'rian'; did you mean 'rain'?" in played.stderr
    assert "voiceguide sounds" in played.stderr
    assert "Traceback" not in played.stderr


def test_a_routine_and_a_preview_together_is_a_usage_error(tmp_path: Path) -> None:
    played = _play(dict(os.environ), "lower-back-pain", "--preview-sound", "rain")
    assert played.returncode == 2
    assert "--preview-sound plays one sound on its own" in played.stderr


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    played = _play(dict(os.environ), "--preview-sound", str(tmp_path / "nothing.wav"))
    assert played.returncode == 2
    assert "does not exist" in played.stderr
    assert "Traceback" not in played.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses ALSA's configuration")
def test_no_sound_device_gives_plays_message(tmp_path: Path) -> None:
    empty = tmp_path / "alsa.conf"
    empty.write_text("")  # ALSA with no devices at all
    env = dict(os.environ, ALSA_CONFIG_PATH=str(empty))
    played = _play(env, "--preview-sound", "chime")
    assert played.returncode == 1
    assert "no sound output device" in played.stderr
    assert "Traceback" not in played.stderr and "ALSA lib" not in played.stderr


def test_play_help_mentions_it() -> None:
    shown = _play(dict(os.environ), "--help")
    assert shown.returncode == 0
    assert "--preview-sound" in shown.stdout


def test_sounds_names_the_preview() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "voiceguide", "sounds"], capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0
    assert "voiceguide play --preview-sound NAME" in " ".join(listed.stdout.split())


def test_a_file_of_ones_own_previews_as_its_looped_bed(tmp_path: Path) -> None:
    import soundfile as sf

    from voiceguide.player.preview import sound_preview

    t = np.arange(3 * 44100) / 44100
    sf.write(str(tmp_path / "hum.wav"), 0.3 * np.sin(2 * np.pi * 220 * t), 44100)
    got = sound_preview(str(tmp_path / "hum.wav"))
    assert got.kind == "bed" and got.rate == RATE
    assert got.seconds == pytest.approx(10.0)  # the 3 s file looped
    samples = got.samples.astype(np.float64)
    assert abs(samples[0]) < 5  # faded in
    assert np.sqrt(np.mean(samples[3 * RATE : 9 * RATE] ** 2)) > 30  # and heard all through
