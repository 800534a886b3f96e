"""What the exported cover costs: drawn from nothing, read back from the cache folder, and the
plain typographic cover of a routine without points (not a test: no asserts).

    .venv/bin/python benchmarks/cover.py [ROUTINE ...]

Each line is the median of several runs in this process, with Pillow already imported and the
fonts loaded (what an export pays once it reaches the cover). Yardstick: a few milliseconds, the
budget the brief set before a cover must be cached; a cache hit must be well under it.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

YARDSTICK_MS = 5.0
RUNS = 7


def _median_ms(fn: object) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(names: list[str]) -> None:
    import os

    with tempfile.TemporaryDirectory() as cache:
        os.environ["VOICEGUIDE_CACHE_DIR"] = cache
        from voiceguide.exporter import cover
        from voiceguide.pipeline import build_timeline

        for name in names:
            timeline = build_timeline(name, estimate=True)
            cover.timeline_cover(timeline)  # imports, fonts

            def cold(timeline: object = timeline) -> None:
                cover._cover_png.cache_clear()
                cover._remembered.cache_clear()
                for f in Path(cache, cover.COVERS).glob("*.png"):
                    f.unlink()
                cover.timeline_cover(timeline)  # type: ignore[arg-type]

            def warm(timeline: object = timeline) -> None:
                cover._remembered.cache_clear()  # a new process: only the file is kept
                cover._cover_png.cache_clear()
                cover.timeline_cover(timeline)  # type: ignore[arg-type]

            print(f"{name:24} drawn {_median_ms(cold):7.1f} ms   from the cache {_median_ms(warm):6.2f} ms"
                  f"   (yardstick {YARDSTICK_MS:g} ms)")


if __name__ == "__main__":
    main(sys.argv[1:] or ["lower-back-pain", "tension-headache", "box-breathing"])
