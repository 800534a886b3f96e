"""Natural voice (piper) beside pyttsx3: cold and warm synthesis of the same utterances.

Usage: python benchmarks/export_natural.py [ROUTINE] [--repeat N] [--export] [--playback]
       python benchmarks/export_natural.py [ROUTINE] [--repeat N] --playback-only

For each engine, in a fresh process per run (so the piper model load and the pyttsx3 start are
counted, as a user would meet them):
- cold: empty speech cache; every utterance of the routine is synthesized;
- warm: the same cache again; every utterance comes from disk.
Printed per engine: engine start (first clip, includes model load), total time, per-utterance
time, seconds of speech produced and the real-time factor. With --export, the whole
`voiceguide export` is timed cold and warm as well. With --playback, `voiceguide play` runs into a
private PulseAudio null sink (as tests/test_play_e2e.py does) and the time from launching the
command to the first sound is measured, cold and warm (the issue's budget is 0.5 s).
Numbers are medians over --repeat runs. Not a test: nothing asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _bytecode import compile_bytecode

REPO = Path(__file__).resolve().parent.parent
ENGINES = ("pyttsx3", "piper")


def worker(engine: str, routine: str) -> dict[str, Any]:
    """Synthesize every utterance of ``routine`` through the cache; runs in its own process."""
    t0 = time.perf_counter()
    from voiceguide.pipeline import build_timeline
    from voiceguide.speech.clips import speech_clips
    from voiceguide.speech.registry import get_engine

    timeline = build_timeline(routine, estimate=True, engine=engine)
    texts = list(dict.fromkeys(e.text for e in timeline.events if e.kind == "speech"))
    t_plan = time.perf_counter()
    clips = speech_clips(timeline.voice)
    first = None
    audio_us = 0
    for text in texts:
        clip = clips(text)
        audio_us += clip.duration_us
        if first is None:
            first = time.perf_counter() - t_plan
    total = time.perf_counter() - t_plan
    get_engine(engine).close()
    return {
        "engine": engine,
        "utterances": len(texts),
        "import_plan_s": t_plan - t0,
        "first_clip_s": first or 0.0,
        "total_s": total,
        "audio_s": audio_us / 1e6,
        "hits": clips.hits,
        "misses": clips.misses,
    }


def run_worker(engine: str, routine: str, cache: Path) -> dict[str, Any]:
    env = dict(os.environ, VOICEGUIDE_CACHE_DIR=str(cache), PYTHONPATH=str(REPO))
    out = subprocess.run(
        [sys.executable, __file__, "--worker", engine, routine],
        env=env, capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{engine} worker failed:\n{out.stderr.strip()}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def time_export(engine: str, routine: str, cache: Path, target: Path) -> float:
    env = dict(os.environ, VOICEGUIDE_CACHE_DIR=str(cache), PYTHONPATH=str(REPO))
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "voiceguide", "export", routine, "-o", str(target),
         "--engine", engine],
        env=env, capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"export with {engine} failed:\n{out.stderr.strip()}")
    return time.perf_counter() - t


def first_sound(engine: str, routine: str, cache: Path, sink: Any, capture: Path) -> tuple[float, float]:
    """Seconds from launching `voiceguide play` to the first sound reaching the sink, and the
    process's peak RSS (MB) by then (it is stopped as soon as the sound is heard)."""
    import numpy as np

    recorder = sink.record(capture)
    try:
        time.sleep(0.8)
        sink.warm_up()
        time.sleep(0.2)
        offset = capture.stat().st_size // 2 * 2
        env = dict(sink.env, VOICEGUIDE_CACHE_DIR=str(cache), PYTHONPATH=str(REPO))
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "voiceguide", "play", routine, "--engine", engine],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        found = float("nan")
        while proc.poll() is None:
            with open(capture, "rb") as f:
                f.seek(offset)
                raw = f.read()
            data = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2")
            if np.any(np.abs(data) > 300):
                found = time.monotonic() - t0
                break
            time.sleep(0.002)
        if proc.returncode is not None:  # it ended by itself (and poll() reaped it): no RSS
            return found, float("nan")
        proc.terminate()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        rss_kb = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss / 1024
        return found, rss_kb / 1024
    finally:
        recorder.terminate()
        recorder.wait(timeout=5)


def playback(routine: str, repeat: int) -> None:
    sys.path.insert(0, str(REPO / "tests"))
    from test_play_e2e import NullSink  # the harness the end-to-end test uses

    with tempfile.TemporaryDirectory(prefix="vg-bench-play-") as tmp:
        sink = NullSink(Path(tmp) / "pulse")
        sink.start()
        try:
            results: dict[str, dict[str, list[float]]] = {}
            for engine in ENGINES:
                for i in range(repeat):
                    cache = Path(tmp) / f"cache-{engine}-{i}"
                    for phase in ("cold", "warm"):
                        t, rss = first_sound(engine, routine, cache, sink, Path(tmp) / "cap.raw")
                        results.setdefault(engine, {}).setdefault(phase, []).append(t)
                        results[engine].setdefault(f"{phase} rss", []).append(rss)
        finally:
            sink.stop()
    print(f"\nvoiceguide play {routine}: launch to first sound (s) and peak RSS by then (MB), "
          f"median of {repeat}; load average {os.getloadavg()[0]:.2f}. Targets: piper <= 0.5 s "
          "and <= 300 MB; pyttsx3 <= 0.3 s.")
    print(f"{'':34}" + "".join(f"{e:>14}" for e in ENGINES))
    for phase in ("cold", "warm"):
        for key, label in ((phase, f"{phase} cache: first sound (s)"),
                           (f"{phase} rss", f"{phase} cache: peak RSS (MB)")):
            print(f"{label:34}" + "".join(
                f"{statistics.median(results[e][key]):14.3f}" for e in ENGINES))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("routine", nargs="?", default="lower-back-pain")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--export", action="store_true", help="also time `voiceguide export`")
    parser.add_argument("--playback", action="store_true",
                        help="also time `voiceguide play` to its first sound (needs pulseaudio)")
    parser.add_argument("--playback-only", action="store_true",
                        help="only time `voiceguide play` to its first sound")
    parser.add_argument("--worker", nargs=2, metavar=("ENGINE", "ROUTINE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    compile_bytecode()
    if args.playback_only:
        playback(args.routine, args.repeat)
        return

    rows: dict[str, dict[str, list[float]]] = {}
    info: dict[str, dict[str, Any]] = {}
    for engine in ENGINES:
        acc: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="vg-bench-") as tmp:
                cache = Path(tmp) / "cache"
                cold = run_worker(engine, args.routine, cache)
                warm = run_worker(engine, args.routine, cache)
                assert warm["misses"] == 0, f"{engine}: warm run synthesized again"
                for phase, r in (("cold", cold), ("warm", warm)):
                    acc.setdefault(f"{phase}_first", []).append(r["first_clip_s"])
                    acc.setdefault(f"{phase}_total", []).append(r["total_s"])
                    acc.setdefault(f"{phase}_plan", []).append(r["import_plan_s"])
                if args.export:
                    wav = Path(tmp) / "out.wav"
                    export_cache = Path(tmp) / "export-cache"
                    acc.setdefault("export_cold", []).append(
                        time_export(engine, args.routine, export_cache, wav))
                    acc.setdefault("export_warm", []).append(
                        time_export(engine, args.routine, export_cache, wav))
                info[engine] = cold
        rows[engine] = acc

    def med(engine: str, key: str) -> float:
        return statistics.median(rows[engine][key])

    n = {e: info[e]["utterances"] for e in ENGINES}
    print(f"routine: {args.routine}; {n['piper']} distinct utterances; median of {args.repeat} "
          f"runs; {os.cpu_count()} CPUs, Python {platform.python_version()}")
    header = f"{'':34}" + "".join(f"{e:>14}" for e in ENGINES)
    print(header)
    print("-" * len(header))
    lines = [
        ("import + plan (s)", lambda e: med(e, "cold_plan")),
        ("cold: first clip, incl. start (s)", lambda e: med(e, "cold_first")),
        ("cold: all utterances (s)", lambda e: med(e, "cold_total")),
        ("cold: per utterance (ms)", lambda e: 1000 * med(e, "cold_total") / n[e]),
        ("cold: real-time factor", lambda e: med(e, "cold_total") / info[e]["audio_s"]),
        ("warm: first clip (ms)", lambda e: 1000 * med(e, "warm_first")),
        ("warm: all utterances (s)", lambda e: med(e, "warm_total")),
        ("warm: per utterance (ms)", lambda e: 1000 * med(e, "warm_total") / n[e]),
        ("speech produced (s)", lambda e: info[e]["audio_s"]),
    ]
    if args.export:
        lines += [
            ("export cold, whole command (s)", lambda e: med(e, "export_cold")),
            ("export warm, whole command (s)", lambda e: med(e, "export_warm")),
        ]
    for label, value in lines:
        print(f"{label:34}" + "".join(f"{value(e):14.3f}" for e in ENGINES))
    if args.playback:
        playback(args.routine, args.repeat)


if __name__ == "__main__":
    main()
