"""The balance of voice, cue sounds and beds, measured (not a test: no asserts).

    .venv/bin/python benchmarks/levels.py [--routine lower-back-pain]

Prints the loudness (ITU-R BS.1770, LUFS) of each layer of a session as it is rendered, before
an export normalises the whole: the voice (every sentence of the routine, in its own voice,
pauses left out), each shipped cue sound while it sounds, and the ambience beds at the default
``volume``, each beside its difference from the voice. docs/routine-format.md's "Sound design"
table quotes these figures; tests/test_levels.py holds the rules they follow.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routine", default="lower-back-pain")
    args = parser.parse_args()

    from sound_levels import bed_loudness, cue_loudness, voice_loudness

    from voiceguide.routine.ambience import BEDS, DEFAULT_VOLUME_DB

    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    voice = voice_loudness(args.routine)
    print(f"voice ({args.routine}, sentences end to end): {voice:6.1f} LUFS")
    for name, (lufs, peak) in cue_loudness().items():
        relative = f"({lufs - voice:+5.1f} LU), peak {peak:5.1f} dBFS"
        print(f"  {name:<12} {lufs:6.1f} LUFS while it sounds {relative}")
    for name in BEDS:
        lufs = bed_loudness(name) + DEFAULT_VOLUME_DB
        print(f"  bed {name:<8} {lufs:6.1f} LUFS at {DEFAULT_VOLUME_DB:g} dB ({lufs - voice:+5.1f} LU)")


if __name__ == "__main__":
    main()
