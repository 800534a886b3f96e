"""ffmpeg's EBU R128 meter, the independent reader the loudness tests measure exports with."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def ebur128(path: Path) -> dict[str, float]:
    run = subprocess.run(
        [
            "ffmpeg",
            "-nostats",
            "-hide_banner",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = run.stderr[run.stderr.rindex("Summary:") :]

    def number(pattern: str) -> float:
        found = re.search(pattern, summary)
        assert found is not None, summary
        return float(found.group(1))

    return {
        "I": number(r"I:\s+(-?[\d.]+) LUFS"),
        "LRA": number(r"LRA:\s+(-?[\d.]+) LU"),
        "TP": number(r"Peak:\s+(-?[\d.]+) dBFS"),
    }
