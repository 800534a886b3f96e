"""Start-up, side by side with a bare interpreter in the same run (not a test: no asserts).

    .venv/bin/python benchmarks/startup.py [--runs 15]

Prints the machine (cores, Python), then the median wall time of each command over fresh
processes, with the bare ``python -c pass`` start beside it and each command's time above it.
Target: ``voiceguide --help`` at most 60 ms above the bare interpreter.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _bytecode import compile_bytecode  # noqa: E402

TARGET_HELP_ABOVE_BARE_S = 0.060
COMMANDS = {
    "python -c pass (yardstick)": [sys.executable, "-c", "pass"],
    "python -c 'import typer'": [sys.executable, "-c", "import typer"],
    "voiceguide --help": [sys.executable, "-m", "voiceguide", "--help"],
    "voiceguide --version": [sys.executable, "-m", "voiceguide", "--version"],
    "voiceguide check box-breathing": [sys.executable, "-m", "voiceguide", "check",
                                       str(REPO / "scripts" / "box-breathing.yaml")],
    "voiceguide list (lengths from the speech cache)": [sys.executable, "-m", "voiceguide", "list"],
    "voiceguide show lower-back-pain --estimate": [sys.executable, "-m", "voiceguide", "show",
                                                   "lower-back-pain", "--estimate"],
}


def median_seconds(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    compile_bytecode()
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"}
    print(f"voiceguide start-up — {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}, median of {args.runs}\n")
    results = {}
    for name, cmd in COMMANDS.items():
        results[name] = median_seconds(cmd, args.runs, env)
    bare = results["python -c pass (yardstick)"]
    print(f"{'':50}{'seconds':>9}{'above bare':>12}")
    for name, seconds in results.items():
        extra = ""
        if name == "voiceguide --help":
            ok = seconds - bare <= TARGET_HELP_ABOVE_BARE_S
            extra = f"   target <= {TARGET_HELP_ABOVE_BARE_S * 1000:.0f} ms {'ok' if ok else 'MISSED'}"
        print(f"{name:50}{seconds:9.3f}{seconds - bare:12.3f}{extra}")


if __name__ == "__main__":
    main()
