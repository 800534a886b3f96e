"""Playback benchmark: time to first sound, and how exactly cues land, through a real sound stack.

Runs `voiceguide play` as a user would (a subprocess, no terminal) into a private PulseAudio null
sink and records the sink with ``parec`` (the recipe of tests/test_play_e2e.py). Prints:

- first-sound latency, from starting the command to the first sound reaching the sink, for a short
  routine, the same over the rain bed (issue #13) and a two-hour one, with a cold speech cache
  and a warm one; and how long after Ctrl-C the sound stops;
- onset error (median, max, and the trend from the first cues to the last) for a five-minute
  routine with every kind of cue, against the timeline `voiceguide show --json` prints.

Needs pulseaudio, pulseaudio-utils and libasound2-plugins.  Usage::

    .venv/bin/python benchmarks/playback.py [--skip-long-session]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from _bytecode import compile_bytecode  # noqa: E402
from test_play_e2e import RATE, NullSink, match_onsets, onsets  # noqa: E402


def bare_start_ms(env: dict[str, str], runs: int = 9) -> float:
    """The yardstick: a bare interpreter's start and exit, median of ``runs``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


POINTS = ["BL23", "BL52", "GV3", "CV6", "LI4", "LI11", "GB20", "GB21", "TE3", "PC6", "HT7", "SP6"]


class TimedRecorder:
    """parec into memory, noting when each chunk arrives, so a sample maps to a wall-clock time."""

    def __init__(self, sink: NullSink) -> None:
        self.proc = subprocess.Popen(
            ["parec", "-d", "testsink.monitor", "--format=s16le", f"--rate={RATE}",
             "--channels=1", "--latency-msec=20", "--raw"],
            env=sink.env, stdout=subprocess.PIPE,
        )
        self.chunks: list[bytes] = []
        self.marks: list[tuple[int, float]] = []  # (frames so far, arrival time)
        self._frames = 0
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            data = self.proc.stdout.read1(4096)  # type: ignore[attr-defined]
            if not data:
                return
            self.chunks.append(data)
            self._frames += len(data) // 2
            self.marks.append((self._frames, time.monotonic()))

    def frames(self) -> int:
        return self._frames

    def audio(self) -> np.ndarray:
        data = b"".join(self.chunks)
        return np.frombuffer(data[: len(data) // 2 * 2], dtype=np.int16)

    def stop(self) -> np.ndarray:
        self.proc.terminate()
        self.proc.wait()
        self._thread.join(timeout=2)
        return self.audio()

    def fit(self) -> tuple[float, float]:
        """(seconds per frame, offset): arrival time of a frame, by a line through all chunks."""
        frames = np.array([m[0] for m in self.marks], dtype=np.float64)
        times = np.array([m[1] for m in self.marks])
        keep = frames > RATE  # skip the recorder's start-up
        slope, intercept = np.polyfit(frames[keep], times[keep], 1)
        return float(slope), float(intercept)

    def time_of(self, frame: int) -> float:
        """Monotonic time at which ``frame`` reached the recorder (the sink a few ms earlier)."""
        slope, intercept = self.fit()
        return slope * frame + intercept


EVERY_CUE_STEPS = """\
  - say: Sit comfortably.
  - pause: 2s
  - point: LI4
    hold: 45s
  - pause: 1s
  - point: BL23
    sides: alternate
    hold: 30s
  - breathe: {pattern: 4-2-6, cycles: 3, cue: words}
  - breathe: {pattern: 4-0-4, cycles: 2, cue: count}
  - breathe: {pattern: 3-1-3-1, cycles: 3, cue: tones}
  - sound: chime
  - pause: 1s
  - section: Closing
    steps:
      - say: Rest your hands.
      - pause: 3s
      - repeat: 2
        steps:
          - say: Breathe slowly.
          - pause: 5s
  - point: GB20
    hold: 60s
"""


def write_routines(folder: Path, minutes: float = 5.0) -> dict[str, Path]:
    short = folder / "short.yaml"
    short.write_text(
        "title: Short\nsteps:\n  - say: Hello, let us begin.\n  - pause: 2s\n"
        "  - say: That is all.\n"
    )
    # Two hours: 76 points held 90 s, with breathing between them.
    lines = ["title: Two hour session", "cautions:",
             "  - This long session is a benchmark, not advice.", "steps:"]
    for i in range(76):
        lines += [f"  - point: {POINTS[i % len(POINTS)]}", "    hold: 90s",
                  "  - breathe: {pattern: 4-0-6, cycles: 1}"]
    rain = folder / "rain.yaml"  # the same, over a bed: the bed must not delay the first word
    rain.write_text(short.read_text().replace("title: Short\n", "title: Short\nambience: rain\n"))
    long = folder / "long.yaml"
    long.write_text("\n".join(lines) + "\n")
    # About five minutes (or ``minutes``) with every kind of cue: speech, pause, point
    # (reminders, countdown, chime, both sides), breath by words, count and tones, a sound, a
    # section and a repeat.
    rounds = max(round(minutes / 5.4), 1)
    five = folder / "five.yaml"
    five.write_text(
        "title: Every cue\ndefaults: {remind_every: 20s, countdown: 3, chime: bell}\nsteps:\n"
        + EVERY_CUE_STEPS * rounds
        + "  - say: That is the end of the session.\n"
    )
    return {"short": short, "rain": rain, "long": long, "five": five}


def first_sound(sink: NullSink, recorder: TimedRecorder, routine: Path, cache: Path, *,
                interrupt_after: float = 3.0) -> tuple[float, float]:
    """(seconds from launch to first sound, seconds from Ctrl-C to silence)."""
    env = dict(sink.env, VOICEGUIDE_CACHE_DIR=str(cache))
    before = recorder.frames()
    launched = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "voiceguide", "play", str(routine)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    time.sleep(interrupt_after)
    interrupted = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    time.sleep(1.0)
    if proc.returncode != 130 or b"Traceback" in err:
        raise RuntimeError(f"play exited {proc.returncode}: {err.decode(errors='replace')}")
    audio = recorder.audio()[before:]
    loud = np.nonzero(np.abs(audio.astype(np.int32)) > 300)[0]
    if not len(loud):
        raise RuntimeError("no sound recorded")
    first = recorder.time_of(before + int(loud[0])) - launched
    last = recorder.time_of(before + int(loud[-1])) - interrupted
    return first, last


def _errors(expected: list[float], captured: list[float]) -> list[tuple[float, float]]:
    """(planned time, error) per expected onset, the fixed output delay removed (as the test)."""
    return list(zip(expected, match_onsets(expected, captured), strict=True))


def onset_errors(sink: NullSink, recorder: TimedRecorder, routine: Path, cache: Path
                 ) -> tuple[list[tuple[float, float]], list[tuple[float, float]], float, int]:
    """Errors of every cue that follows a moment of silence, measured on the monotonic clock
    (what the listener lives by) and in the sink's samples; the sink's clock error in ppm;
    ALSA underruns reported by the player."""
    env = dict(sink.env, VOICEGUIDE_CACHE_DIR=str(cache))
    os.environ["VOICEGUIDE_CACHE_DIR"] = str(cache)
    from voiceguide.pipeline import build_timeline, renderer_for

    timeline = build_timeline(routine)  # warms the cache too: the run below measures timing
    shown = subprocess.run([sys.executable, "-m", "voiceguide", "show", "--json", str(routine)],
                           env=env, capture_output=True, text=True, check=True)
    assert json.loads(shown.stdout) == timeline.to_json()
    reference = renderer_for(timeline, sample_rate=RATE).render()
    expected = onsets(reference)
    before = recorder.frames()
    played = subprocess.run([sys.executable, "-m", "voiceguide", "play", str(routine)], env=env,
                            stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, check=True)
    time.sleep(1.0)
    captured = onsets(recorder.audio()[before:])
    if len(captured) != len(expected):
        print(f"  warning: {len(captured)} onsets recorded, {len(expected)} expected")
    slope, intercept = recorder.fit()
    wall = [slope * (before + c * RATE) + intercept for c in captured]
    ppm = (slope * RATE - 1.0) * 1e6
    return (_errors(expected, wall), _errors(expected, captured), ppm,
            played.stderr.count("underrun"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-long-session", action="store_true",
                        help="skip the five-minute onset measurement")
    parser.add_argument("--repeat", type=int, default=3, help="runs per latency figure")
    parser.add_argument("--minutes", type=float, default=5.0,
                        help="length of the every-cue session (e.g. 20 for the drift check)")
    parser.add_argument("--skip-latency", action="store_true",
                        help="skip the first-sound measurements")
    args = parser.parse_args()
    compile_bytecode()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        routines = write_routines(root, args.minutes)
        sink = NullSink(root / "pulse")
        sink.start()
        # One recorder for the whole run, started before the warm-up: a recorder that has just
        # connected makes the null sink swallow the start of the next stream.
        recorder = TimedRecorder(sink)
        try:
            time.sleep(1.0)
            sink.warm_up()
            # Python's own first start (reading .pyc files from disk) is not what we measure.
            subprocess.run([sys.executable, "-m", "voiceguide", "--help"], env=sink.env,
                           capture_output=True, check=True)
            print(f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average "
                  f"{os.getloadavg()[0]:.2f}; yardstick: a bare `python -c pass` starts in "
                  f"{bare_start_ms(sink.env):.0f} ms here. Target: first sound <= 300 ms.")
            if not args.skip_latency:
                print(f"First sound after `voiceguide play` (through the null sink; median of "
                      f"{args.repeat}, worst in brackets):")
                stops: list[float] = []
                for name in ("short", "rain", "long"):
                    colds, warms = [], []
                    for i in range(args.repeat):
                        cache = root / f"cache-{name}-{i}"
                        cold, stop_cold = first_sound(sink, recorder, routines[name], cache)
                        warm, stop_warm = first_sound(sink, recorder, routines[name], cache)
                        colds.append(cold)
                        warms.append(warm)
                        stops += [stop_cold, stop_warm]
                    label = {"short": "short routine", "rain": "short, with rain",
                             "long": "2-hour routine"}[name]
                    print(f"  {label:17s} cold cache {np.median(colds) * 1000:4.0f} ms "
                          f"({max(colds) * 1000:4.0f})   warm cache {np.median(warms) * 1000:4.0f} ms "
                          f"({max(warms) * 1000:4.0f})")
                print(f"Sound stopped {np.median(stops) * 1000:.0f} ms after Ctrl-C "
                      f"(worst {max(stops) * 1000:.0f} ms)")
            if not args.skip_long_session:
                print(f"Onset error, {args.minutes:g}-minute routine with every kind of cue:")
                wall, samples, ppm, underruns = onset_errors(sink, recorder, routines["five"],
                                                             root / "cache-five")
                for label, errors in (("monotonic clock", wall), ("sink samples", samples)):
                    values = np.array([abs(e) for _, e in errors]) * 1000
                    n = max(len(errors) // 5, 1)
                    first = np.mean([e for _, e in errors[:n]]) * 1000
                    last = np.mean([e for _, e in errors[-n:]]) * 1000
                    span = (errors[-1][0] - errors[0][0]) / 60
                    print(f"  by the {label}: {len(errors)} cues over {span:.1f} min, median "
                          f"|error| {np.median(values):.1f} ms, max {values.max():.1f} ms; "
                          f"first fifth {first:+.1f} ms, last fifth {last:+.1f} ms "
                          f"(trend {last - first:+.1f} ms)")
                    worst = sorted(errors, key=lambda p: -abs(p[1]))[:3]
                    print("    worst: " + ", ".join(f"{e * 1000:+.1f} ms at {t:.1f} s"
                                                 for t, e in worst))
                print(f"  the null sink's sample clock runs {ppm:+.1f} ppm against the monotonic "
                      f"clock; ALSA underruns reported: {underruns}")
        finally:
            recorder.stop()
            sink.stop()


if __name__ == "__main__":
    main()
