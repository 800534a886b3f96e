"""Faults a user's machine throws at voiceguide, each reproduced for real.

Every test runs the command as a separate process (``python -m voiceguide ...``) so exit codes,
signals and stray tracebacks are what a user would see: no speech library (hidden from pyttsx3),
no sound device (an ALSA configuration without a usable default), a missing folder, an
unwritable path, a full disk (a tiny tmpfs, or a file size limit), SIGKILL and Ctrl-C in the
middle of writing or synthesizing, damaged cache entries and two exports sharing one cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import resource
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from sitecustoms import HIDE_ESPEAK, SIGINT_ON_IMPORT, site_folder

from voiceguide.audio.clip import Clip
from voiceguide.routine.voice import VoiceSettings
from voiceguide.speech.cache import SUFFIX, SpeechCache, decode_entry
from voiceguide.speech.clips import speech_clips
from voiceguide.speech.engine import VoiceInfo
from voiceguide.speech.measured import measured_durations

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parent.parent

SHORT = """\
title: Fault test
steps:
  - say: Sit comfortably and let your shoulders drop.
  - pause: 1s
  - say: Breathe in slowly through your nose.
  - say: And out through your mouth.
  - sound: bell
  - say: Well done.
"""

# Half an hour of silence between two words: a big file, written in well under a second.
LONG = """\
title: Long fault test
steps:
  - say: Hello.
  - pause: 30m
  - say: Goodbye.
"""

# A speaking pause long enough to interrupt the player in the middle of it.
PLAYABLE = """\
title: Play fault test
steps:
  - say: Hello there.
  - pause: 30s
  - say: Goodbye.
"""



# Sitecustomize that presses Ctrl-C the instant a file whose name contains a pattern is created:
# the moment between a temporary file appearing and the code that will clean it up taking over.
SIGINT_AFTER_CREATE = '''\
import os
import signal

_PATTERN = os.environ.get("VOICEGUIDE_TEST_SIGINT_AFTER_CREATE")

if _PATTERN:
    _real_open = os.open
    _fired = []

    def _open(path, flags, mode=0o777, *, dir_fd=None):
        fd = _real_open(path, flags, mode, dir_fd=dir_fd)
        if not _fired and flags & os.O_CREAT and _PATTERN in os.path.basename(os.fspath(path)):
            _fired.append(path)
            os.kill(os.getpid(), signal.SIGINT)  # delivered before this function returns
        return fd

    os.open = _open
'''

# Sitecustomize for a slow exit: Ctrl-C arrives just as the speech thread starts an utterance, and
# the interpreter takes a moment to exit after voiceguide's own exit handlers have run (as other
# libraries' handlers or a busy machine make it). The speech thread must not be caught mid-way.
SIGINT_AS_SPEECH_STARTS = '''\
import atexit
import os
import signal
import threading
import time

if os.environ.get("VOICEGUIDE_TEST_SIGINT_AS_SPEECH_STARTS"):
    import pyttsx3.engine

    _real_save = pyttsx3.engine.Engine.save_to_file
    _count = []

    def _save_to_file(self, *args, **kwargs):
        _count.append(1)
        if len(_count) == 3 and threading.current_thread() is not threading.main_thread():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.3)  # the main thread is on its way out now
        return _real_save(self, *args, **kwargs)

    pyttsx3.engine.Engine.save_to_file = _save_to_file
    atexit.register(time.sleep, 1.0)  # registered first, so it runs after voiceguide's handlers
'''

ALSA_NULL = 'pcm.!default { type null }\n'
ALSA_NO_DEVICE = 'pcm.!default { type hw card 99 }\n'


# ---- helpers ----------------------------------------------------------------------------------


def cli_env(tmp_path: Path, *, pythonpath: tuple[Path, ...] = (), **extra: str) -> dict[str, str]:
    """The test's environment (its own speech cache) plus the repository on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in pythonpath), str(REPO)])
    env["COLUMNS"] = "200"
    env.pop("ALSA_CONFIG_PATH", None)
    env.update(extra)
    return env


def voiceguide(*args: str | Path, env: dict[str, str], cwd: Path, timeout: float = 120,
               preexec_fn: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voiceguide", *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec_fn,
                          stdin=subprocess.DEVNULL)


def spawn(*args: str | Path, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "voiceguide", *map(str, args)], env=env,
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)


def assert_one_clear_error(proc: subprocess.CompletedProcess[str], code: int,
                           *needles: str) -> str:
    """Exit ``code``, exactly one ``error:`` line naming the ``needles``, and no traceback."""
    output = proc.stdout + proc.stderr
    assert proc.returncode == code, output
    assert "Traceback" not in output, output
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    for needle in needles:
        assert needle.lower() in errors[0].lower(), errors[0]
    return errors[0]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def wav_is_complete(data: bytes) -> bool:
    """A canonical PCM WAV whose header sizes match the bytes that follow: the samples, then
    whole chunks (markers and tags) to the end of the file."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return False
    riff = struct.unpack("<I", data[4:8])[0]
    pos = 44 + struct.unpack("<I", data[40:44])[0]
    while pos + 8 <= len(data):
        size = struct.unpack("<I", data[pos + 4:pos + 8])[0]
        pos += 8 + size + size % 2
    return riff == len(data) - 8 and pos == len(data)


def part_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".part"))


def wait_until(condition: Callable[[], bool], proc: subprocess.Popen[bytes],
               timeout: float = 60.0) -> bool:
    """Poll ``condition`` every 2 ms while ``proc`` runs; False if it ended (or time ran out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return condition()
        time.sleep(0.002)
    return False


def cache_files(root: Path, *, hidden: bool = True) -> list[Path]:
    """Entry files (and, unless ``hidden`` is False, temporary ``.tmp-*`` ones) in a cache."""
    return sorted(p for p in root.glob(f"*/*{SUFFIX}") if hidden or not p.name.startswith("."))


def cache_dir() -> Path:
    return Path(os.environ["VOICEGUIDE_CACHE_DIR"])


def assert_cache_sound(root: Path) -> None:
    """Every entry decodes (magic, header, checksum) and no temporary file is left behind."""
    files = cache_files(root)
    assert files, "the cache is empty"
    stray = [p.name for p in files if p.name.startswith(".")]
    assert not stray, stray
    for path in cache_files(root, hidden=False):
        assert decode_entry(path.read_bytes()) is not None, f"damaged cache entry {path.name}"


@contextlib.contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A small tmpfs mounted at ``folder`` (root only); skipped where mounting is impossible,
    except on CI, where the full-disk test must really run."""
    folder.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        reason = f"cannot mount a tmpfs here ({proc.stderr.strip() or 'not root'})"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must be able to run the full-disk test")
        pytest.skip(reason)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


# ---- no speech engine ----------------------------------------------------------------------------


@pytest.fixture
def no_espeak(tmp_path: Path) -> Path:
    site = site_folder(tmp_path / "hide-espeak", HIDE_ESPEAK)
    return site


@pytest.mark.parametrize("command", ["export", "show", "play"])
def test_missing_speech_library_says_what_to_install(tmp_path: Path, no_espeak: Path,
                                                     command: str) -> None:
    routine = write(tmp_path / "r.yaml", SHORT)
    alsa = write(tmp_path / "null.conf", ALSA_NULL)
    env = cli_env(tmp_path, pythonpath=(no_espeak,), ALSA_CONFIG_PATH=str(alsa))
    args: list[str | Path] = [command, routine]
    if command == "export":
        args += ["-o", tmp_path / "out.wav"]
    proc = voiceguide(*args, env=env, cwd=tmp_path)
    assert_one_clear_error(proc, 1, "espeak-ng", "install", "apt-get install espeak-ng")
    assert not (tmp_path / "out.wav").exists()
    assert part_files(tmp_path) == []


def test_missing_speech_data_is_a_clear_error(tmp_path: Path) -> None:
    """espeak-ng's library is there but its data folder is not (a broken or partial install)."""
    routine = write(tmp_path / "r.yaml", SHORT)
    empty = tmp_path / "no-espeak-data"
    empty.mkdir()
    proc = voiceguide("export", routine, "-o", tmp_path / "out.wav",
                      env=cli_env(tmp_path, ESPEAK_DATA_PATH=str(empty)), cwd=tmp_path)
    assert_one_clear_error(proc, 1, "espeak-ng")
    assert not (tmp_path / "out.wav").exists()


# ---- no sound device -----------------------------------------------------------------------------


def test_play_without_a_sound_device_suggests_export(tmp_path: Path) -> None:
    routine = write(tmp_path / "r.yaml", PLAYABLE)
    alsa = write(tmp_path / "nodevice.conf", ALSA_NO_DEVICE)
    proc = voiceguide("play", routine, env=cli_env(tmp_path, ALSA_CONFIG_PATH=str(alsa)),
                      cwd=tmp_path)
    error = assert_one_clear_error(proc, 1, "sound", "voiceguide export")
    assert "ALSA lib" not in proc.stderr  # ALSA's own chatter is folded into the one message
    assert "device" in error


# ---- export destinations -----------------------------------------------------------------------


def test_export_to_a_missing_folder_makes_it(tmp_path: Path) -> None:
    """`-o newdir/x.wav` makes the folder (a file in its way is the next test's clear error)."""
    routine = write(tmp_path / "r.yaml", SHORT)
    target = tmp_path / "no" / "such" / "folder" / "out.wav"
    proc = voiceguide("export", routine, "-o", target, env=cli_env(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert wav_is_complete(target.read_bytes())


def test_export_into_a_system_folder_nobody_may_write(tmp_path: Path) -> None:
    """/sys refuses new files even to root: the write fails for real, not by a permission bit."""
    routine = write(tmp_path / "r.yaml", SHORT)
    target = Path("/sys/voiceguide-test-export.wav")
    if not Path("/sys").is_dir():
        pytest.skip("no /sys on this system")
    proc = voiceguide("export", routine, "-o", target, env=cli_env(tmp_path), cwd=tmp_path)
    assert_one_clear_error(proc, 1, str(target), "cannot write")
    assert not target.exists()


def test_export_onto_a_read_only_filesystem(tmp_path: Path) -> None:
    routine = write(tmp_path / "r.yaml", SHORT)
    with tmpfs(tmp_path / "ro", "ro,size=64k") as folder:
        proc = voiceguide("export", routine, "-o", folder / "out.wav", env=cli_env(tmp_path),
                          cwd=tmp_path)
        assert_one_clear_error(proc, 1, str(folder / "out.wav"), "cannot write")
        assert list(folder.iterdir()) == []


def test_export_where_a_file_stands_in_for_the_folder(tmp_path: Path) -> None:
    routine = write(tmp_path / "r.yaml", SHORT)
    blocker = write(tmp_path / "notes.txt", "a file, not a folder")
    proc = voiceguide("export", routine, "-o", blocker / "out.wav", env=cli_env(tmp_path),
                      cwd=tmp_path)
    error = assert_one_clear_error(proc, 1, str(blocker))
    assert "not a folder" in error or "is a file" in error
    assert blocker.read_text(encoding="utf-8") == "a file, not a folder"


def test_full_disk_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    routine = write(tmp_path / "r.yaml", SHORT)
    with tmpfs(tmp_path / "small", "size=64k") as folder:
        target = folder / "session.wav"
        target.write_bytes(b"the previous export")
        proc = voiceguide("export", routine, "-o", target, env=cli_env(tmp_path), cwd=tmp_path)
        assert_one_clear_error(proc, 1, "disk is full", str(target))
        assert target.read_bytes() == b"the previous export"
        assert sorted(p.name for p in folder.iterdir()) == ["session.wav"]


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:  # in the child, before exec: writes past `limit` bytes fail with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # ignored dispositions survive exec
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_file_size_limit_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    """The other way a disk runs out under a process (quota, ulimit -f): EFBIG, not ENOSPC."""
    routine = write(tmp_path / "r.yaml", SHORT)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "session.wav"
    env = cli_env(tmp_path)
    warm = voiceguide("export", routine, "-o", target, env=env, cwd=tmp_path)  # fills the cache
    assert warm.returncode == 0, warm.stderr
    before = target.read_bytes()
    assert len(before) > 200_000
    proc = voiceguide("export", routine, "--sample-rate", "44100", "-o", target, env=env,
                      cwd=tmp_path, preexec_fn=_file_size_limit(100_000))
    assert_one_clear_error(proc, 1, str(target), "too large")
    assert target.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["session.wav"]


# ---- SIGKILL and Ctrl-C while writing ----------------------------------------------------------


def _start_long_export(tmp_path: Path, target: Path) -> subprocess.Popen[bytes]:
    routine = write(tmp_path / "long.yaml", LONG)
    return spawn("export", routine, "--sample-rate", "48000", "-o", target,
                 env=cli_env(tmp_path), cwd=tmp_path)


def _writing(folder: Path) -> Callable[[], bool]:
    def started() -> bool:  # the temporary file exists and has real audio in it
        return any(p.stat().st_size > 1_000_000 for p in part_files(folder)
                   if p.exists())

    return started


def test_sigkill_mid_export_leaves_the_destination_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "session.wav"
    env = cli_env(tmp_path)
    short = write(tmp_path / "short.yaml", SHORT)
    first = voiceguide("export", short, "-o", target, env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = target.read_bytes()

    proc = _start_long_export(tmp_path, target)
    try:
        assert wait_until(_writing(out), proc), "the export finished before it could be killed"
    finally:
        proc.kill()  # SIGKILL
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == before  # byte for byte the earlier export
    leftovers = [p.name for p in out.iterdir() if p.name != "session.wav"]
    # A killed process cannot clean up: at most its hidden temporary file remains.
    assert all(name.startswith(".session.wav.") and name.endswith(".part") for name in leftovers)

    # The next export is not confused by the stale temporary file.
    again = voiceguide("export", short, "-o", target, env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert target.read_bytes() == before
    assert wav_is_complete(target.read_bytes())
    stale = [p.name for p in out.iterdir() if p.name != "session.wav"]
    assert set(stale) <= set(leftovers)  # cleaned up, or ignored; never a new one


def test_ctrl_c_mid_export_exits_130_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "session.wav"
    target.write_bytes(b"the previous export")
    proc = _start_long_export(tmp_path, target)
    try:
        assert wait_until(_writing(out), proc), "the export finished before Ctrl-C"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert b"Traceback" not in stdout + stderr, stderr.decode()
    assert b"Exception ignored" not in stderr, stderr.decode()
    assert target.read_bytes() == b"the previous export"
    assert sorted(p.name for p in out.iterdir()) == ["session.wav"]


def test_ctrl_c_during_synthesis_exits_130_without_traceback(tmp_path: Path) -> None:
    """`show` synthesizes every utterance: Ctrl-C at several moments of that (after 1, 3, 10...
    clips), each in a fresh process with a cold cache."""
    lines = [f"  - say: Sentence number {i} is here to keep the speech engine busy."
             for i in range(200)]
    routine = write(tmp_path / "many.yaml", "title: Many sentences\nsteps:\n" + "\n".join(lines))
    for i, after in enumerate((1, 2, 3, 5, 8, 13, 21, 34)):
        cache = tmp_path / f"cache{i}"
        # PYTHONFAULTHANDLER: if it ever hangs, SIGABRT below makes it print every thread's stack.
        env = cli_env(tmp_path, VOICEGUIDE_CACHE_DIR=str(cache), PYTHONFAULTHANDLER="1")
        proc = spawn("show", routine, env=env, cwd=tmp_path)
        try:
            assert wait_until(lambda c=cache, n=after: len(cache_files(c, hidden=False)) >= n,
                              proc)
            proc.send_signal(signal.SIGINT)
            try:
                stdout, stderr = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGABRT)
                stacks = proc.communicate(timeout=30)[1].decode("utf-8", "replace")
                pytest.fail(f"still running 60 s after Ctrl-C (after {after} clips):\n{stacks}")
        finally:
            proc.kill()
        text = (stdout + stderr).decode("utf-8", "replace")
        assert proc.returncode == 130, text
        assert "Traceback" not in text and "Exception ignored" not in text, text
        assert_cache_sound(cache)


def test_ctrl_c_as_an_utterance_starts_leaves_no_traceback_at_exit(tmp_path: Path) -> None:
    site = site_folder(tmp_path / "slow-exit", SIGINT_AS_SPEECH_STARTS)
    routine = write(tmp_path / "r.yaml", SHORT)
    env = cli_env(tmp_path, pythonpath=(site,), VOICEGUIDE_TEST_SIGINT_AS_SPEECH_STARTS="1")
    proc = voiceguide("show", routine, env=env, cwd=tmp_path)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr


def _read_some(proc: subprocess.Popen[bytes], timeout: float = 60) -> bytes:
    """Wait until the process has printed its first line (without blocking past ``timeout``)."""
    assert proc.stdout is not None
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            data += chunk
    return data


@pytest.mark.parametrize(("sent", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_while_playing_ends_the_session(tmp_path: Path, sent: int,
                                                          code: int) -> None:
    routine = write(tmp_path / "r.yaml", PLAYABLE)
    alsa = write(tmp_path / "null.conf", ALSA_NULL)
    proc = spawn("play", routine, env=cli_env(tmp_path, ALSA_CONFIG_PATH=str(alsa)), cwd=tmp_path)
    try:
        first = _read_some(proc)
        assert first, "the player printed nothing"
        time.sleep(0.3)  # inside the session now
        proc.send_signal(sent)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, stderr
    assert b"Traceback" not in first + stdout + stderr, stderr.decode()
    assert b"Exception ignored" not in stderr, stderr.decode()


def test_ctrl_c_typed_in_a_terminal_while_playing_restores_the_terminal(tmp_path: Path) -> None:
    """A real Ctrl-C: the player runs on a pseudo-terminal (live view, keys in cbreak mode) and
    ^C is typed into it; afterwards the terminal has exactly its old settings back."""
    routine = write(tmp_path / "r.yaml", PLAYABLE)
    alsa = write(tmp_path / "null.conf", ALSA_NULL)
    env = cli_env(tmp_path, ALSA_CONFIG_PATH=str(alsa), TERM="xterm-256color", LINES="30",
                  COLUMNS="100")
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([sys.executable, "-m", "voiceguide", "play", str(routine)],
                            stdin=slave, stdout=slave, stderr=slave, env=env, cwd=tmp_path,
                            preexec_fn=controlling_terminal)
    screen = b""

    def drain(seconds: float) -> None:  # read what the player draws, for about `seconds`
        nonlocal screen
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0 and select.select([master], [], [], left)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            screen += chunk

    try:
        deadline = time.monotonic() + 60
        while termios.tcgetattr(slave)[3] & termios.ICANON and time.monotonic() < deadline:
            assert proc.poll() is None, screen.decode("utf-8", "replace")
            drain(0.02)  # the player switches the terminal to cbreak once it is playing
        drain(0.3)
        os.write(master, b"\x03")  # Ctrl-C, turned into SIGINT by the terminal
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            drain(0.05)
        drain(0.1)
    finally:
        proc.kill()
        proc.wait()
        after = termios.tcgetattr(slave)
        os.close(master)
        os.close(slave)
    text = screen.decode("utf-8", "replace")
    assert proc.returncode == 130, text
    assert "Traceback" not in text
    assert after == before
    assert text.rstrip().endswith("\x1b[?25h")  # the cursor is shown again


def test_ctrl_c_during_start_up_exits_130_without_traceback(tmp_path: Path) -> None:
    site = site_folder(tmp_path / "interrupt", SIGINT_ON_IMPORT)
    routine = write(tmp_path / "r.yaml", SHORT)
    for module in ("voiceguide.routine.loader", "voiceguide.exporter.export"):
        env = cli_env(tmp_path, pythonpath=(site,), VOICEGUIDE_TEST_SIGINT_ON_IMPORT=module)
        proc = voiceguide("export", routine, "-o", tmp_path / "out.wav", env=env, cwd=tmp_path)
        assert proc.returncode == 130, (module, proc.stderr)
        assert "Traceback" not in proc.stderr, (module, proc.stderr)


@pytest.fixture
def interrupt_on_create(tmp_path: Path) -> Path:
    site = site_folder(tmp_path / "interrupt-on-create", SIGINT_AFTER_CREATE)
    return site


def test_ctrl_c_the_instant_the_export_file_is_created(tmp_path: Path,
                                                       interrupt_on_create: Path) -> None:
    routine = write(tmp_path / "r.yaml", SHORT)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "session.wav"
    target.write_bytes(b"the previous export")
    env = cli_env(tmp_path, pythonpath=(interrupt_on_create,),
                  VOICEGUIDE_TEST_SIGINT_AFTER_CREATE=".part")
    proc = voiceguide("export", routine, "-o", target, env=env, cwd=tmp_path)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    assert target.read_bytes() == b"the previous export"
    assert sorted(p.name for p in out.iterdir()) == ["session.wav"]


def test_ctrl_c_the_instant_a_cache_entry_is_created(tmp_path: Path,
                                                     interrupt_on_create: Path) -> None:
    routine = write(tmp_path / "r.yaml", SHORT)
    env = cli_env(tmp_path, pythonpath=(interrupt_on_create,),
                  VOICEGUIDE_TEST_SIGINT_AFTER_CREATE=".tmp-")
    proc = voiceguide("show", routine, env=env, cwd=tmp_path)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    assert [p.name for p in cache_files(cache_dir()) if p.name.startswith(".")] == []


# ---- the speech cache ---------------------------------------------------------------------------


def _header_text(data: bytes) -> str:
    """The text a cache entry was made for, read from its header."""
    (length,) = struct.unpack("<I", data[10:14])
    return str(json.loads(data[14 : 14 + length])["key"]["text"])


def test_damaged_cache_entries_are_detected_and_synthesized_again(tmp_path: Path) -> None:
    routine = write(tmp_path / "r.yaml", SHORT)
    env = cli_env(tmp_path)
    root = cache_dir()
    first = voiceguide("export", routine, "-o", tmp_path / "1.wav", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    entries = sorted(cache_files(root), key=lambda p: p.stat().st_mtime_ns)
    assert len(entries) >= 4
    originals = {p: p.read_bytes() for p in entries}

    # The entry synthesized first (by a fresh engine, like its repair will be): truncated.
    earliest = entries[0]
    earliest.write_bytes(originals[earliest][: len(originals[earliest]) // 2])
    second = voiceguide("export", routine, "-o", tmp_path / "2.wav", env=env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stderr.count("error") == 0
    assert (tmp_path / "2.wav").read_bytes() == (tmp_path / "1.wav").read_bytes()
    assert earliest.read_bytes() == originals[earliest]  # repaired, to the byte

    # Others: a flipped sample, garbage, an empty file. espeak-ng's output depends a little on
    # what it said before, so these may come back a few samples different: what matters is that
    # they are detected, replaced by sound entries, and the session is stable from then on.
    flipped, garbage, empty = entries[1], entries[2], entries[3]
    data = bytearray(originals[flipped])
    data[-100] ^= 0xFF
    flipped.write_bytes(bytes(data))
    garbage.write_bytes(os.urandom(len(originals[garbage])))
    empty.write_bytes(b"")
    third = voiceguide("export", routine, "-o", tmp_path / "3.wav", env=env, cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    assert_cache_sound(root)
    for path in (flipped, garbage, empty):
        clip = decode_entry(path.read_bytes())
        assert clip is not None and clip.frames > 1000
        assert _header_text(path.read_bytes()) == _header_text(originals[path])
    fourth = voiceguide("export", routine, "-o", tmp_path / "4.wav", env=env, cwd=tmp_path)
    assert fourth.returncode == 0, fourth.stderr
    assert (tmp_path / "4.wav").read_bytes() == (tmp_path / "3.wav").read_bytes()
    assert wav_is_complete((tmp_path / "3.wav").read_bytes())


def test_two_exports_at_once_share_the_cache_without_damage(tmp_path: Path) -> None:
    routine = write(tmp_path / "r.yaml", SHORT)
    env = cli_env(tmp_path)
    procs = [spawn("export", routine, "-o", tmp_path / f"{i}.wav", env=env, cwd=tmp_path)
             for i in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (stdout, stderr) in zip(procs, results, strict=True):
        assert p.returncode == 0, stderr.decode()
        assert b"Traceback" not in stdout + stderr
    assert_cache_sound(cache_dir())
    together = [(tmp_path / f"{i}.wav").read_bytes() for i in range(2)]
    assert wav_is_complete(together[0])
    # The first clip stored for a text is the one both use: the two exports are identical, and
    # identical to a later export from the same cache.
    later = voiceguide("export", routine, "-o", tmp_path / "later.wav", env=env, cwd=tmp_path)
    assert later.returncode == 0, later.stderr
    assert together[0] == together[1] == (tmp_path / "later.wav").read_bytes()


class _Engine:
    """A speech engine whose clip for a text depends on the process that made it, as espeak-ng's
    does (its output varies a little with what it said before)."""

    name = "pyttsx3"

    def __init__(self, frames: int, value: int, before: Callable[[str], None] | None = None
                 ) -> None:
        self.frames, self.value, self.before = frames, value, before

    def version(self) -> str:
        return "fake-1"

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("en", "English", ("en",))]

    def synthesize(self, text: str, settings: VoiceSettings) -> Clip:
        if self.before is not None:
            self.before(text)
        return Clip(np.full(self.frames, self.value, np.int16), 22050)

    def close(self) -> None:
        return None


def test_a_racing_export_cannot_swap_the_clip_another_one_measured(tmp_path: Path) -> None:
    """Export A measures a clip while export B, which missed the cache just before, synthesizes
    its own version of the same text and stores it. Once A's memory of the clip is gone (long
    sessions keep only the last 16 MB), A reads it back from the cache to render it: it must
    get the clip it measured, or the timeline and the audio disagree."""
    cache = SpeechCache(tmp_path / "cache")
    settings = VoiceSettings()
    text, other = "Breathe in slowly.", "A long instruction that fills the memory."
    big = 5_000_000  # 10 MB clips: two of them overflow the 16 MB of recent clips
    a = measured_durations(settings, {}, engine=_Engine(big, 1), cache=cache)
    b = speech_clips(settings, engine=_Engine(big + 2205, 2, before=a.speech_us), cache=cache)

    b(text)  # B misses; while B synthesizes, A measures (and stores) its own clip
    measured_us = a.speech_us(text)
    a.speech_us(other)  # A moves on; its memory of `text` is evicted
    rendered = a.clips(text)  # what A's renderer gets
    assert rendered.duration_us == measured_us
