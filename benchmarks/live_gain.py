"""The gain `play` applies, measured again (not a test: no asserts).

    .venv/bin/python benchmarks/live_gain.py [--language en]

An export measures its whole session and normalises it (-19 LUFS mono); the player cannot
measure what it has not rendered, so it raises every session by one fixed gain,
``voiceguide.audio.loudness.LIVE_GAIN_DB``: the median of the gains the export applies to the
shipped routines. This prints each routine's export gain (in process, through the same mastering
code as ``voiceguide export --report``), their median and spread, and the constant beside them.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--language", default=None, help="the routines in this language (default: English)")
    args = parser.parse_args()

    from voiceguide.audio.loudness import LIVE_GAIN_DB, default_target
    from voiceguide.exporter.mastering import master_for
    from voiceguide.pipeline import build_timeline, renderer_for
    from voiceguide.routine.library import shipped_routines

    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    gains: list[float] = []
    for path in shipped_routines(args.language):
        timeline = build_timeline(path, language=args.language)
        gain = master_for(timeline, renderer_for(timeline)).gain_db  # as `export --report` says
        gains.append(gain)
        print(f"  {path.stem:<24} export gain {gain:+5.1f} dB")
    median = statistics.median(gains)
    spread = f"from {min(gains):+.1f} to {max(gains):+.1f}"
    print(f"median {median:+.1f} dB ({spread}); target {default_target(1):.0f} LUFS")
    print(
        f"LIVE_GAIN_DB = {LIVE_GAIN_DB:+.1f} dB: played sessions land within "
        f"{max(abs(g - LIVE_GAIN_DB) for g in gains):.1f} LU of their exports"
    )


if __name__ == "__main__":
    main()
