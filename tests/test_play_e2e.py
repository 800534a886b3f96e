"""End to end: `voiceguide play` through the real stack, headless, recorded and timed.

A private PulseAudio daemon (temporary HOME and XDG_RUNTIME_DIR) gets a null sink; ALSA's
``default`` device is routed to it with an ``.asoundrc`` using the pulse plugin, so simpleaudio
plays into it exactly as on a desktop; ``parec`` records the sink's monitor. The cue onsets in
the recording must match the timeline (`voiceguide show --json`) within ±60 ms, first cue to last.

Needs: pulseaudio, pulseaudio-utils (pactl, parec), libasound2-plugins. Skips only when
pulseaudio is absent and the CI variable is not set; under CI it always runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
ROUTINE = REPO / "tests" / "data" / "play" / "short.yaml"
RATE = 22050
TOLERANCE_S = 0.060

pytestmark = [pytest.mark.audio, pytest.mark.engine, pytest.mark.slow]


def require_pulseaudio() -> None:
    missing = [tool for tool in ("pulseaudio", "pactl", "parec") if shutil.which(tool) is None]
    if missing:
        message = f"PulseAudio tools not installed: {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must install pulseaudio and pulseaudio-utils)")
        pytest.skip(message)


class NullSink:
    """A throw-away PulseAudio daemon with one null sink, and ALSA's default routed to it."""

    def __init__(self, root: Path, rate: int = RATE) -> None:
        self.root = root
        self.rate = rate
        home = root / "home"
        runtime = root / "run"
        (home / ".config" / "pulse").mkdir(parents=True, exist_ok=True)
        runtime.mkdir(mode=0o700, exist_ok=True)
        asoundrc = home / ".asoundrc"
        asoundrc.write_text("pcm.!default { type pulse }\nctl.!default { type pulse }\n")
        (home / ".config" / "pulse" / "client.conf").write_text("autospawn = no\n")
        self.env = dict(os.environ)
        self.env.update(
            HOME=str(home),
            XDG_RUNTIME_DIR=str(runtime),
            PULSE_SERVER=f"unix:{runtime}/pulse/native",
            PULSE_RUNTIME_PATH=str(runtime / "pulse"),
        )
        self.env.pop("ALSA_CONFIG_PATH", None)  # the system's alsa.conf, which reads ~/.asoundrc
        self.daemon: subprocess.Popen[bytes] | None = None
        self.log = root / "pulseaudio.log"

    def start(self) -> None:
        with open(self.log, "wb") as log:
            self.daemon = subprocess.Popen(
                [
                    "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
                    "--disallow-exit", "--use-pid-file=no",
                    "-L", "module-native-protocol-unix auth-anonymous=1",
                    "-L", f"module-null-sink sink_name=testsink rate={self.rate} channels=1 "
                          "format=s16le",
                ],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                raise RuntimeError("pulseaudio exited: " + self.log.read_text(errors="replace"))
            ok = subprocess.run(["pactl", "info"], env=self.env, capture_output=True).returncode
            if ok == 0:
                subprocess.run(["pactl", "set-default-sink", "testsink"], env=self.env,
                               capture_output=True)
                return
            time.sleep(0.1)
        raise RuntimeError("pulseaudio did not come up: " + self.log.read_text(errors="replace"))

    def record(self, path: Path) -> subprocess.Popen[bytes]:
        """Start recording the sink; the low-latency recorder is also what paces the null sink."""
        with open(path, "wb") as out:  # the recorder keeps its own copy of the descriptor
            return subprocess.Popen(
                ["parec", "-d", "testsink.monitor", "--format=s16le", f"--rate={self.rate}",
                 "--channels=1", "--latency-msec=20", "--raw"],
                env=self.env, stdout=out,
            )

    def warm_up(self) -> None:
        """The first stream after the daemon starts costs ~0.85 s once: pay it before timing."""
        code = ("import simpleaudio; "
                "p = simpleaudio.play_buffer(bytes(8820), 1, 2, 22050); p.wait_done()")
        subprocess.run([sys.executable, "-c", code], env=self.env, check=True, timeout=30)

    def stop(self) -> None:
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                self.daemon.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[NullSink]:
    require_pulseaudio()
    sink = NullSink(tmp_path / "pulse")
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


def stop_recording(recorder: subprocess.Popen[bytes]) -> None:
    recorder.terminate()
    try:
        recorder.wait(timeout=5)
    except subprocess.TimeoutExpired:
        recorder.kill()
        recorder.wait()


# ---- onsets ----------------------------------------------------------------------------------


def onsets(samples: np.ndarray, rate: int = RATE, *, threshold: int = 300,
           quiet_s: float = 0.25, window_s: float = 0.002) -> list[float]:
    """Times (s) where sound starts after at least ``quiet_s`` of (near) silence."""
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    n = max(int(rate * window_s), 1)
    frames = len(samples) // n
    env = np.abs(samples[: frames * n].astype(np.float64)).reshape(frames, n).max(axis=1)
    found: list[float] = []
    last = -1e9
    for i in np.nonzero(env > threshold)[0]:
        t = i * n / rate
        if t - last > quiet_s:
            found.append(t)
        last = t
    return found


def match_onsets(expected: list[float], captured: list[float]) -> list[float]:
    """Per expected onset, the captured one's error (s) after removing the fixed device delay."""
    assert expected and captured, "no sound found"
    shift = captured[0] - expected[0]
    pairs = []
    for t in expected:
        nearest = min(captured, key=lambda c: abs(c - (t + shift)))
        pairs.append(nearest - t)
    delay = float(np.median(pairs))
    return [p - delay for p in pairs]


# ---- the test --------------------------------------------------------------------------------


@contextlib.contextmanager
def recording(sink: NullSink, capture: Path) -> Iterator[None]:
    """Record the sink into ``capture`` around the block (warmed up first, with a tail after)."""
    recorder = sink.record(capture)
    try:
        time.sleep(1.0)
        sink.warm_up()
        yield
        time.sleep(0.8)
    finally:
        stop_recording(recorder)


def play_recorded(sink: NullSink, routine: Path, tmp_path: Path
                  ) -> tuple[subprocess.CompletedProcess[str], np.ndarray]:
    """``voiceguide play ROUTINE`` without a terminal, and what the sink heard meanwhile."""
    capture = tmp_path / "capture.raw"
    with recording(sink, capture):
        played = subprocess.run(
            [sys.executable, "-m", "voiceguide", "play", str(routine)],
            env=sink.env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
        )
    return played, np.fromfile(capture, dtype=np.int16)


def test_play_through_pulseaudio_keeps_every_cue_on_time(sink: NullSink, tmp_path: Path) -> None:
    env = sink.env
    played, recorded = play_recorded(sink, ROUTINE, tmp_path)
    assert played.returncode == 0, played.stderr
    assert "Traceback" not in played.stderr
    # Without a terminal the view is plain timestamped lines, one per step and cue.
    assert "[ 0:00.0] Introduction" in played.stdout
    assert "Step 9 of 9: Done." in played.stdout
    assert "“Press now.”" in played.stdout

    shown = subprocess.run(
        [sys.executable, "-m", "voiceguide", "show", "--json", str(ROUTINE)],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )
    plan = json.loads(shown.stdout)

    # The reference is what `export` writes for the same timeline: the player must sound like it.
    from voiceguide.pipeline import build_timeline, renderer_for

    timeline = build_timeline(ROUTINE)
    assert timeline.to_json() == plan
    reference = renderer_for(timeline, sample_rate=RATE).render()

    expected = onsets(reference)
    starts = [e["start"] for e in plan["events"] if e["kind"] != "silence"]
    for t in expected:  # each detectable onset is a planned cue from `show --json`
        assert min(abs(t - s) for s in starts) < 0.030, t  # (a tone fades in)
    assert len(expected) >= 10, "the test routine should have many separable cues"

    captured = onsets(recorded)
    assert len(captured) == len(expected), (captured, expected)
    errors = match_onsets(expected, captured)
    worst = max(abs(e) for e in errors)
    print("onset errors (ms):", [round(float(e) * 1000, 1) for e in errors])
    assert worst <= TOLERANCE_S, [round(e * 1000, 1) for e in errors]


# ---- in a terminal: keys, Ctrl-C ---------------------------------------------------------------


def run_in_terminal(env: dict[str, str], args: list[str],
                    keys: list[tuple[float | str, bytes]]) -> tuple[int, str, bool]:
    """Run voiceguide on a pseudo-terminal, typing ``keys``, each after a delay (seconds) or
    once a text is on screen; returns the exit code, the screen output and whether the terminal
    settings were restored."""
    import pty
    import select
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execvpe(sys.executable, [sys.executable, "-m", "voiceguide", *args], env)
    before = termios.tcgetattr(fd)
    out = bytearray()

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    out.extend(os.read(fd, 65536))
                except OSError:
                    return

    def pump_until(text: str) -> None:
        deadline = time.monotonic() + 30
        while text.encode() not in out and time.monotonic() < deadline:
            pump(0.05)

    try:
        for when, key in keys:
            if isinstance(when, str):
                pump_until(when)
            else:
                pump(when)
            os.write(fd, key)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pump(0.2)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        else:
            os.kill(pid, 9)
            _, status = os.waitpid(pid, 0)
        restored = termios.tcgetattr(fd) == before
        pump(0.2)
    finally:
        os.close(fd)
    import re

    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode("utf-8", "replace"))
    return os.waitstatus_to_exitcode(status), screen, restored


def test_keys_and_ctrl_c_in_a_terminal(sink: NullSink) -> None:
    # Skip the introduction with "n", pause and resume, then Ctrl-C: exit 130, the terminal
    # back as it was, no traceback, and the live view said where the session stopped.
    code, screen, restored = run_in_terminal(
        sink.env, ["play", str(ROUTINE)],
        [("Introduction", b""), (0.5, b"n"), (1.0, b" "), (1.0, b" "), (1.0, b"\x03")],
    )
    assert code == 130, screen
    assert restored
    assert "Traceback" not in screen
    assert "skipped to step" in screen
    assert "PAUSED" in screen
    assert "Stopped." in screen
    assert "space pause/resume" in screen


def test_from_a_step_in_a_terminal_then_quit(sink: NullSink) -> None:
    # --from still starts with the introduction (title and cautions), then goes to the step.
    code, screen, restored = run_in_terminal(
        sink.env, ["play", str(ROUTINE), "--from", "sea of qi"],
        [("Introduction", b""), ("Sea of Qi", b""), (0.5, b"q")],
    )
    assert code == 0, screen
    assert restored
    assert "Step 3 of 9 · Sea of Qi" in screen
    assert "Stopped." in screen


# ---- without a sound device ---------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses ALSA's configuration")
def test_no_sound_device_says_so_and_suggests_export(tmp_path: Path) -> None:
    empty = tmp_path / "alsa.conf"
    empty.write_text("")  # ALSA with no devices at all
    env = dict(os.environ, ALSA_CONFIG_PATH=str(empty))
    played = subprocess.run(
        [sys.executable, "-m", "voiceguide", "play", str(ROUTINE)],
        env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert played.returncode == 1
    message = played.stderr
    assert "no sound output device" in message
    # It says what to do about the sound server: start one (how), or check the one running.
    assert "pulseaudio --start" in message or "sound server is running" in message
    assert f"voiceguide export {ROUTINE} -o session.wav" in " ".join(message.split())
    assert "Traceback" not in message and "ALSA lib" not in message


# ---- the ambience bed, live --------------------------------------------------------------------

BED_HZ = 80.0  # under the voice's lowest partials, so the bed's level can be read beside speech
BED_ROUTINE = (
    "title: Bed test\n"
    "voice: {rate: 170}\n"
    "ambience: {sound: hum.wav, volume: -12dB, duck: 9dB, fade: 1s}\n"
    "steps:\n"
    "  - pause: 4s\n"
    "  - say: This sentence is spoken over the bed, which comes down while it sounds and goes back "
    "up after it, as long as it takes to say.\n"
    "  - pause: 4s\n"
    "  - say: Done.\n"
    "  - pause: 2s\n"
)


def bed_level_db(samples: np.ndarray, rate: int = RATE, window_s: float = 0.1) -> np.ndarray:
    """The level (dB) of the BED_HZ tone in each window: its projection on a sine and a cosine."""
    n = int(rate * window_s)
    frames = len(samples) // n
    x = samples[: frames * n].astype(np.float64).reshape(frames, n) / 32768.0
    t = np.arange(n) / rate
    c, s = np.cos(2 * np.pi * BED_HZ * t), np.sin(2 * np.pi * BED_HZ * t)
    amp = 2 * np.hypot(x @ c, x @ s) / n
    return 20 * np.log10(np.maximum(amp, 1e-9))


def speech_level_db(samples: np.ndarray, rate: int = RATE, window_s: float = 0.1) -> np.ndarray:
    """The level (dB) of everything but the bed's tone in each window: the voice."""
    n = int(rate * window_s)
    frames = len(samples) // n
    x = samples[: frames * n].astype(np.float64).reshape(frames, n) / 32768.0
    tone = 10 ** (bed_level_db(samples, rate, window_s) / 20)
    rest = np.maximum(np.mean(x**2, axis=1) - tone**2 / 2, 0.0)
    return 10 * np.log10(np.maximum(rest, 1e-12))


def bed_routine(tmp_path: Path) -> Path:
    import soundfile

    folder = tmp_path / "routine"
    folder.mkdir()
    t = np.arange(RATE * 2) / RATE  # a 2 s loop: the seam is crossfaded by the player
    soundfile.write(folder / "hum.wav", (0.5 * np.sin(2 * np.pi * BED_HZ * t)).astype(np.float32), RATE)
    routine = folder / "bed.yaml"
    routine.write_text(BED_ROUTINE)
    return routine


def exported_bed_level(routine: Path, tmp_path: Path) -> float:
    """The bed's level in the pauses of ``export --loudness off``, raised by the player's gain:
    what the player must sound like."""
    import soundfile

    from voiceguide.audio.loudness import LIVE_GAIN_DB

    out = tmp_path / "reference.wav"
    subprocess.run(
        [sys.executable, "-m", "voiceguide", "export", str(routine), "-o", str(out), "--loudness", "off",
         "--sample-rate", str(RATE)],
        check=True, capture_output=True, timeout=180,
    )
    samples, rate = soundfile.read(out, dtype="int16")
    assert rate == RATE
    level = bed_level_db(samples)
    return float(np.median(level[level > level.max() - 1.0])) + LIVE_GAIN_DB


def runs_of(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of true windows."""
    edges = np.flatnonzero(np.diff(np.r_[0, flags.astype(int), 0]))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def longest_run(flags: np.ndarray) -> int:
    return max((b - a for a, b in runs_of(flags)), default=0)


def speaking(voice: np.ndarray) -> np.ndarray:
    """The windows where the voice is heard (within 25 dB of its loudest)."""
    return voice > voice.max() - 25


def ducked_at_every_onset(level: np.ndarray, voice: np.ndarray, full: float, first: int) -> list[int]:
    """Check that the bed is down (6 dB or more) at every utterance's first window; the onsets."""
    said = speaking(voice)
    onsets = [i for i in range(first + 5, len(voice)) if said[i] and not said[i - 3 : i].any()]
    for i in onsets:
        assert level[i] < full - 6, (i, np.round(level[i - 5 : i + 5] - full, 1).tolist())
    return onsets


def bed_never_drops_out(level: np.ndarray, full: float) -> tuple[int, int]:
    """Where the bed is heard, checked to sound throughout: (first, last) window."""
    audible = np.nonzero(level > full - 30)[0]
    first, last = audible[0], audible[-1]
    # A gap shows as windows far under even the ducked level. (The voice's own 80 Hz can cancel
    # the tone in a window or two of a sentence, by up to about 11 dB under the ducked level.)
    gone = level[first + 10 : last - 10] < full - 9 - 12
    assert longest_run(gone) < 2, ("the bed dropped out", runs_of(gone), np.round(level - full, 1).tolist())
    return first, last


def test_play_mixes_the_ambience_live_and_ducks_it_under_speech(sink: NullSink, tmp_path: Path) -> None:
    routine = bed_routine(tmp_path)
    played, recorded = play_recorded(sink, routine, tmp_path)
    assert played.returncode == 0, played.stderr
    assert "Traceback" not in played.stderr
    assert "warning" not in played.stdout + played.stderr  # the bed did not fail
    level, voice = bed_level_db(recorded), speech_level_db(recorded)
    expected = exported_bed_level(routine, tmp_path)
    print("bed level (dB):", np.round(level, 1).tolist())
    full = float(np.median(level[level > level.max() - 1.0]))  # the pauses
    assert abs(full - expected) < 1.0, (full, expected)  # as loud as in the export
    # No gap anywhere from the first fade-in to the last fade-out: one continuous stream.
    first, last = bed_never_drops_out(level, full)
    assert (last - first) * 0.1 > 12, "the bed should sound through the whole session"
    # The long sentence (the longest run of speech): held 9 dB down throughout, without pumping
    # between its words. (The voice's own 80 Hz makes single windows read a few dB off, so the
    # median and a high percentile are read.)
    # Words are a few windows apart: join speech separated by less than 0.4 s.
    joined: list[list[int]] = []
    for a, b in runs_of(speaking(voice)):
        if joined and a - joined[-1][1] < 4:
            joined[-1][1] = b
        else:
            joined.append([a, b])
    a, b = max(joined, key=lambda r: r[1] - r[0])
    assert b - a >= 40, (a, b)  # the sentence takes over four seconds to say
    inside = level[a + 5 : b - 5] - full
    assert abs(np.median(inside) - -9.0) < 1.0, np.round(inside, 1).tolist()
    assert np.percentile(inside, 90) < -9.0 + 2.5, np.round(inside, 1).tolist()
    assert ducked_at_every_onset(level, voice, full, first), "no utterance found over the bed"
    # After the sentence the bed is back at its full level, before "Done." ducks it again.
    assert np.any(level[b : b + 40] > full - 1.0), "the bed should come back up between utterances"


def bed_session_in_terminal(sink: NullSink, tmp_path: Path, keys: list[tuple[float | str, bytes]],
                            shown: str) -> tuple[np.ndarray, np.ndarray, float, int, int]:
    """Play the bed routine in a terminal, typing ``keys``: it ends well, ``shown`` is on the
    screen and the bed never drops out. The bed's and the voice's levels, the bed's full level
    and the first and last window it is heard in."""
    routine = bed_routine(tmp_path)
    capture = tmp_path / "capture.raw"
    with recording(sink, capture):
        code, screen, restored = run_in_terminal(sink.env, ["play", str(routine)], keys)
    assert code == 0, screen
    assert restored and "Traceback" not in screen and shown in screen
    recorded = np.fromfile(capture, dtype=np.int16)
    level, voice = bed_level_db(recorded), speech_level_db(recorded)
    full = exported_bed_level(routine, tmp_path)
    first, last = bed_never_drops_out(level, full)
    return level, voice, full, first, last


def test_pausing_keeps_the_bed_playing_at_full_level_and_resuming_ducks_it_first(
    sink: NullSink, tmp_path: Path
) -> None:
    # Pause 1.5 s into the long sentence, for 3 s; then resume and let it play to the end.
    level, voice, full, first, last = bed_session_in_terminal(
        sink, tmp_path, [("spoken over the bed", b""), (1.5, b" "), (3.0, b" ")], "PAUSED"
    )
    # The pause: the one silence of the voice inside the long sentence lasts about 3 s (plus the
    # moment the bed takes to come down again before the sentence starts over).
    silences = [(first + a, first + b) for a, b in runs_of(~speaking(voice[first:last]))]
    paused = [(a, b) for a, b in silences if 28 <= b - a <= 40]
    assert len(paused) == 1, (silences, np.round(voice, 0).tolist())
    a, b = paused[0]
    # During the pause the bed comes back up to its full level ...
    assert np.max(level[a:b]) > full - 1.0, np.round(level[a:b] - full, 1).tolist()
    # ... and is down again when the voice comes back.
    assert level[b] < full - 6, np.round(level[b - 8 : b + 3] - full, 1).tolist()


def test_skipping_and_going_back_keep_the_bed_and_duck_it_before_every_word(
    sink: NullSink, tmp_path: Path
) -> None:
    # Skip ahead 1.5 s into the long sentence, then straight back to it: each jump cuts what was
    # planned for the bed, and the voice starts again over a bed that is already down.
    level, voice, full, first, _ = bed_session_in_terminal(
        sink, tmp_path, [("spoken over the bed", b""), (1.5, b"n"), (1.0, b"p")], "skipped to step"
    )
    onsets = ducked_at_every_onset(level, voice, full, first)
    assert len(onsets) >= 3, onsets  # the sentence, the sentence again, "Done."
