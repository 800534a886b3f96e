"""Start-up, side by side with a bare interpreter in the same run (not a test: no asserts).

    .venv/bin/python benchmarks/startup.py [--runs 15]

Prints the machine (cores, Python), then the median wall time of each command over fresh
processes, with the bare ``python -c pass`` start beside it and each command's time above it.
Target: ``voiceguide --help`` at most 60 ms above the bare interpreter. ``--help`` is timed twice:
the first time (typer imports and renders it; the text is then kept, see voiceguide/_helpcache.py)
and as every later run answers it (the kept text, typer not imported).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _bytecode import compile_bytecode  # noqa: E402

TARGET_HELP_ABOVE_BARE_S = 0.060
COMMANDS = {
    "python -c pass (yardstick)": [sys.executable, "-c", "pass"],
    "python -c 'import typer'": [sys.executable, "-c", "import typer"],
    "voiceguide --help, first time": [sys.executable, "-m", "voiceguide", "--help"],
    "voiceguide --help": [sys.executable, "-m", "voiceguide", "--help"],
    "voiceguide export --help": [sys.executable, "-m", "voiceguide", "export", "--help"],
    "voiceguide --version": [sys.executable, "-m", "voiceguide", "--version"],
    "voiceguide check box-breathing": [sys.executable, "-m", "voiceguide", "check",
                                       str(REPO / "scripts" / "box-breathing.yaml")],
    "voiceguide list (lengths from the speech cache)": [sys.executable, "-m", "voiceguide", "list"],
    "voiceguide show lower-back-pain --estimate": [sys.executable, "-m", "voiceguide", "show",
                                                   "lower-back-pain", "--estimate"],
}


def run_seconds(cmd: list[str], env: dict[str, str], forget: str | None = None) -> float:
    """Wall time of one fresh process; with ``forget``, the kept help files matching it go first."""
    if forget is not None:
        for kept in (Path(env["VOICEGUIDE_CACHE_DIR"]) / "help").glob(forget):
            kept.unlink()
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    compile_bytecode()
    cache = Path(tempfile.mkdtemp(prefix="vg-startup-"))
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1",
           "VOICEGUIDE_CACHE_DIR": str(cache)}
    print(f"voiceguide start-up — {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}, median of {args.runs} rounds\n")
    # Round-robin, one run of each command per round, so a burst of load from another process
    # lands on all of them alike rather than on whichever command was being timed.
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, cmd in COMMANDS.items():
            forget = "*-help.txt" if name.endswith("first time") else None  # `voiceguide --help`
            times[name].append(run_seconds(cmd, env, forget))
    shutil.rmtree(cache, ignore_errors=True)
    results = {name: statistics.median(values) for name, values in times.items()}
    bare = results["python -c pass (yardstick)"]
    print(f"{'':50}{'seconds':>9}{'above bare':>12}")
    for name, seconds in results.items():
        extra = ""
        if name in ("voiceguide --help", "voiceguide export --help"):
            ok = seconds - bare <= TARGET_HELP_ABOVE_BARE_S
            extra = f"   target <= {TARGET_HELP_ABOVE_BARE_S * 1000:.0f} ms {'ok' if ok else 'MISSED'}"
        print(f"{name:50}{seconds:9.3f}{seconds - bare:12.3f}{extra}")


if __name__ == "__main__":
    main()
