"""``voiceguide doctor``: each check against fakes (fast, every outcome), then the command for real on
a machine with a silent ALSA device, without a device, without espeak-ng and with a broken one."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from sitecustoms import HIDE_ESPEAK, site_folder

import voiceguide.exporter.export  # noqa: F401  (patched below, through sys.modules)
from voiceguide import doctor
from voiceguide.audio.clip import Clip
from voiceguide.doctor import (
    FAIL,
    OK,
    WARN,
    CheckResult,
    Context,
    Report,
    check_cache,
    check_ffmpeg,
    check_packages,
    check_speech,
    run_checks,
)
from voiceguide.errors import SpeechError, UsageError
from voiceguide.hints import sound_server_hint
from voiceguide.routine.voice import VoiceSettings
from voiceguide.speech.cache import SpeechCache
from voiceguide.speech.engine import VoiceInfo

REPO = Path(__file__).resolve().parent.parent



# What simpleaudio plays goes to a file (through ALSA's file plugin) and then nowhere.
ALSA_CAPTURE = '''\
pcm.!default {{
  type file
  slave.pcm "nullsink"
  file "{path}"
  format "raw"
}}
pcm.nullsink {{ type null }}
'''
ALSA_NO_DEVICE = 'pcm.!default { type hw card 99 }\n'


# ---- fakes -------------------------------------------------------------------------------------


class FakeEngine:
    name = "pyttsx3"

    def __init__(self, samples: np.ndarray | None = None, *, fail_version: bool = False,
                 voices: list[VoiceInfo] | None = None, hang: threading.Event | None = None
                 ) -> None:
        t = np.arange(22050 * 2) / 22050
        self.samples = (samples if samples is not None
                        else (8000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16))
        self.fail_version = fail_version
        self._voices = voices if voices is not None else [
            VoiceInfo("gmw/en", "English (Great Britain)", ("en-gb", "en")),
            VoiceInfo("roa/fr", "French", ("fr-fr",)),
        ]
        self.hang = hang
        self.spoken: list[tuple[str, VoiceSettings]] = []

    def version(self) -> str:
        if self.fail_version:
            raise SpeechError("the espeak-ng speech library was not found; install espeak-ng: ...")
        return "fake-1.0"

    def voices(self) -> list[VoiceInfo]:
        return list(self._voices)

    def synthesize(self, text: str, settings: VoiceSettings) -> Clip:
        self.spoken.append((text, settings))
        if self.hang is not None:
            self.hang.wait(10)
        return Clip(self.samples, 22050)

    def close(self) -> None:
        return None


def speech_rows(monkeypatch: pytest.MonkeyPatch, engine: FakeEngine, **ctx: float) -> dict[
        str, CheckResult]:
    monkeypatch.setattr("voiceguide.speech.registry.get_engine", lambda name="pyttsx3": engine)
    rows = check_speech(Context(isolate=False, **ctx))  # type: ignore[arg-type]
    return {r.name: r for r in rows}


def by_name(rows: Iterable[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in rows}


# ---- the report --------------------------------------------------------------------------------


def test_warnings_pass_and_failures_say_what_stops_working() -> None:
    fine = Report((CheckResult("python", OK, "3.11"),
                   CheckResult("ffmpeg", WARN, "not found", "install ffmpeg")))
    assert fine.ok and fine.exit_code == 0
    no_sound = Report((*fine.results,
                       CheckResult("audio output", FAIL, "no device", sound_server_hint(), ("play",))))
    assert not no_sound.ok and no_sound.exit_code == 1
    assert no_sound.broken() == {"play": ["audio output"], "export": []}
    no_speech = Report((CheckResult("speech engine", FAIL, "missing", "install", ("play", "export")),))
    assert no_speech.broken() == {"play": ["speech engine"], "export": ["speech engine"]}


def test_a_check_that_crashes_becomes_a_failed_row() -> None:
    def check_boom(ctx: Context) -> Iterable[CheckResult]:
        raise RuntimeError("kaboom")

    def check_fine(ctx: Context) -> Iterable[CheckResult]:
        yield CheckResult("fine", OK, "yes")

    seen: list[str] = []
    report = run_checks(checks=[check_boom, check_fine], on_result=lambda r: seen.append(r.name))
    rows = by_name(report.results)
    assert rows["boom"].status == FAIL and "kaboom" in rows["boom"].detail
    assert rows["boom"].fix
    assert rows["fine"].status == OK  # later checks still run
    assert seen == ["boom", "fine"]
    assert report.exit_code == 1


def test_unknown_engine_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="pyttsx3"):
        run_checks("festival")


# ---- packages ------------------------------------------------------------------------------------


def test_packages_are_listed_with_versions() -> None:
    rows = by_name(check_packages(Context()))
    for name in ("voiceguide", "pyttsx3", "simpleaudio", "numpy", "typer", "pyyaml", "piper"):
        assert name in rows
    assert rows["numpy"].status == OK and np.__version__ in rows["numpy"].detail
    assert rows["piper"].status == OK  # optional either way


def test_a_package_that_cannot_be_imported_fails_with_a_reinstall_fix(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyttsx3", None)  # import pyttsx3 -> ImportError
    rows = by_name(check_packages(Context()))
    assert rows["pyttsx3"].status == FAIL
    assert "pip install" in rows["pyttsx3"].fix and "pyttsx3" in rows["pyttsx3"].fix
    assert set(rows["pyttsx3"].affects) == {"play", "export"}


# ---- speech --------------------------------------------------------------------------------------


def test_a_working_engine_passes_and_speaks_the_test_sentence(monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    engine = FakeEngine()
    rows = speech_rows(monkeypatch, engine)
    assert rows["speech engine"].status == OK
    assert "fake-1.0" in rows["speech engine"].detail
    assert "2 voices" in rows["speech engine"].detail and "gmw/en" in rows["speech engine"].detail
    assert rows["test synthesis"].status == OK and "2.00 s" in rows["test synthesis"].detail
    assert [text for text, _ in engine.spoken] == [doctor.TEST_SENTENCE]


def test_a_missing_engine_fails_both_rows_with_an_install_fix(monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    rows = speech_rows(monkeypatch, FakeEngine(fail_version=True))
    assert rows["speech engine"].status == FAIL
    assert rows["speech engine"].detail == "the espeak-ng speech library was not found"
    assert "espeak-ng" in rows["speech engine"].fix
    assert rows["test synthesis"].status == FAIL


def test_silence_is_not_speech(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = speech_rows(monkeypatch, FakeEngine(np.zeros(22050, np.int16)))
    assert rows["speech engine"].status == OK
    assert rows["test synthesis"].status == FAIL and "silence" in rows["test synthesis"].detail


def test_an_engine_without_voices_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = speech_rows(monkeypatch, FakeEngine(voices=[]))
    assert rows["speech engine"].status == FAIL and "no voices" in rows["speech engine"].detail


def test_a_hanging_engine_times_out_instead_of_hanging_the_doctor(
        monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    try:
        rows = speech_rows(monkeypatch, FakeEngine(hang=release), speech_timeout=0.2)
    finally:
        release.set()
    assert rows["test synthesis"].status == FAIL
    assert "did not finish within" in rows["test synthesis"].detail


# ---- cache and ffmpeg ------------------------------------------------------------------------------


def test_cache_reports_its_folder_and_contents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    root = tmp_path / "cache"
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(root))
    for i in range(3):
        SpeechCache().put({"text": str(i)}, Clip(np.ones(1000, np.int16), 22050))
    (row,) = check_cache(Context())
    assert row.status == OK and str(root) in row.detail and "3 clips" in row.detail
    assert sorted(p.name for p in root.rglob(".doctor-*")) == []  # its probe file is gone


def test_a_cache_folder_not_yet_made_is_fine_and_not_created(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    root = tmp_path / "not" / "yet"
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(root))
    (row,) = check_cache(Context())
    assert row.status == OK and "first use" in row.detail
    assert not (tmp_path / "not").exists()


@pytest.mark.parametrize("where", ["file", "proc"])
def test_an_unwritable_cache_is_a_warning_not_a_failure(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        where: str) -> None:
    if where == "file":
        root = tmp_path / "cache"
        root.write_text("not a folder")
    else:  # /proc refuses new files even to root
        root = Path("/proc/voiceguide-cache")
        if not Path("/proc/self").exists():
            pytest.skip("no /proc")
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(root))
    (row,) = check_cache(Context())
    assert row.status == WARN
    assert "synthesized again" in row.detail and "VOICEGUIDE_CACHE_DIR" in row.fix
    assert Report((row,)).ok  # play and export still work


def test_missing_ffmpeg_is_a_warning_with_an_install_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules["voiceguide.exporter.export"], "ffmpeg_path", lambda: None)
    (row,) = check_ffmpeg(Context())
    assert row.status == WARN and ".mp3" in row.detail and ".wav" in row.detail
    assert "ffmpeg" in row.fix
    assert Report((row,)).ok


def test_an_ffmpeg_without_some_encoders_names_the_formats_it_cannot_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        '  *-version*) echo "ffmpeg version 9.9-test Copyright";;\n'
        '  *-encoders*) printf "Encoders:\\n A....D flac   FLAC\\n A....D aac    AAC\\n'
        ' A....D libvorbis Vorbis\\n";;\n'
        "esac\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(sys.modules["voiceguide.exporter.export"], "ffmpeg_path", lambda: str(fake))
    (row,) = check_ffmpeg(Context())
    assert row.status == WARN and "9.9-test" in row.detail
    assert ".mp3 (libmp3lame)" in row.detail and ".flac" not in row.detail


# ---- the command, for real ---------------------------------------------------------------------


def run_doctor(tmp_path: Path, *args: str, pythonpath: tuple[Path, ...] = (),
               **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in pythonpath), str(REPO)])
    env["COLUMNS"] = "250"
    env.pop("ALSA_CONFIG_PATH", None)
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "voiceguide", "doctor", *args], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL)


def table_row(output: str, name: str) -> str:
    rows = [ln for ln in output.splitlines() if ln.startswith(f"│ {name} ")]
    assert len(rows) == 1, output
    return rows[0]


@pytest.mark.engine
def test_doctor_passes_with_a_sound_device_and_makes_no_sound(tmp_path: Path) -> None:
    played = tmp_path / "played.raw"
    alsa = tmp_path / "capture.conf"
    alsa.write_text(ALSA_CAPTURE.format(path=played))
    proc = run_doctor(tmp_path, ALSA_CONFIG_PATH=str(alsa))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("python", "pyttsx3", "simpleaudio", "numpy", "typer", "pyyaml",
                 "speech engine", "test synthesis", "audio output", "speech cache", "ffmpeg"):
        assert " ok " in table_row(proc.stdout, name) or " warn " in table_row(proc.stdout, name)
    assert " ok " in table_row(proc.stdout, "audio output")
    assert "voiceguide can play and export" in proc.stdout
    assert proc.stderr == ""
    # The device really was opened, and all it got was silence.
    data = played.read_bytes()
    assert len(data) > 0
    assert not np.frombuffer(data, dtype="<i2").any()


@pytest.mark.engine
def test_doctor_without_a_sound_device_fails_and_points_to_export(tmp_path: Path) -> None:
    alsa = tmp_path / "nodevice.conf"
    alsa.write_text(ALSA_NO_DEVICE)
    proc = run_doctor(tmp_path, ALSA_CONFIG_PATH=str(alsa), XDG_RUNTIME_DIR=str(tmp_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    row = " ".join(proc.stdout.split())  # the fix column wraps
    assert " FAIL " in table_row(proc.stdout, "audio output")
    # No sound server runs in that session: the fix says how to start one, and points to export.
    assert "no sound server is running" in row and "pulseaudio --start" in row and "voiceguide export" in row
    assert " ok " in table_row(proc.stdout, "test synthesis")
    assert "play will not work: fix audio output." in proc.stdout
    assert "export works." in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "ALSA lib" not in proc.stdout + proc.stderr


@pytest.mark.engine
def test_doctor_without_espeak_says_what_to_install(tmp_path: Path) -> None:
    site = site_folder(tmp_path / "site", HIDE_ESPEAK)
    proc = run_doctor(tmp_path, "--json", pythonpath=(site,))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is False
    rows = {r["name"]: r for r in report["checks"]}
    engine = rows["speech engine"]
    assert engine["status"] == "fail" and "espeak-ng" in engine["detail"]
    assert "install espeak-ng" in engine["fix"]
    assert sorted(engine["affects"]) == ["export", "play"]
    assert rows["test synthesis"]["status"] == "fail"
    assert rows["python"]["status"] == "ok"


@pytest.mark.engine
def test_doctor_survives_espeak_exiting_the_program(tmp_path: Path) -> None:
    """espeak-ng calls exit() when its data folder is missing; the doctor must still report."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    proc = run_doctor(tmp_path, ESPEAK_DATA_PATH=str(empty))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert " FAIL " in table_row(proc.stdout, "speech engine")
    assert "export will not work" in proc.stdout
    assert "│ ffmpeg " in proc.stdout  # the checks after it still ran
    rows = {r["name"]: r for r in json.loads(
        run_doctor(tmp_path, "--json", ESPEAK_DATA_PATH=str(empty)).stdout)["checks"]}
    assert rows["speech engine"]["status"] == "fail"
    assert "phontab" in rows["speech engine"]["detail"]  # espeak's own last words
    assert "ESPEAK_DATA_PATH" in rows["speech engine"]["fix"]


@pytest.mark.engine
def test_doctor_json_matches_its_exit_code(tmp_path: Path) -> None:
    alsa = tmp_path / "capture.conf"
    alsa.write_text(ALSA_CAPTURE.format(path=tmp_path / "played.raw"))
    proc = run_doctor(tmp_path, "--json", ALSA_CONFIG_PATH=str(alsa))
    report = json.loads(proc.stdout)
    assert proc.returncode == (0 if report["ok"] else 1)
    assert all(r["status"] in ("ok", "warn", "fail") for r in report["checks"])
    assert all(r["fix"] for r in report["checks"] if r["status"] != "ok")


def test_doctor_help_and_bad_engine(tmp_path: Path) -> None:
    from voiceguide.cli import main

    assert main(["doctor", "--help"]) == 0
    proc = run_doctor(tmp_path, "--engine", "festival")
    assert proc.returncode == 2
    assert "unknown speech engine 'festival'" in proc.stderr
