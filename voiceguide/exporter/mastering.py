"""What an export sounds like beyond the voice: the ambience (the routine's, or the command
line's, which wins), and loudness normalisation with its measurements kept beside the speech cache.

The measurement of a mix is stored under the mix's digest (:meth:`voiceguide.audio.master.Master.digest`),
so re-exporting a routine whose speech is cached renders once, not twice; a damaged or missing
entry is only a miss.
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voiceguide.errors import UsageError
from voiceguide.fileio import atomic_write_bytes
from voiceguide.routine.ambience import BEDS
from voiceguide.timeline.ambience import LEVEL_PATTERN, parse_override
from voiceguide.timeline.model import AmbienceChange, Timeline

if TYPE_CHECKING:
    from voiceguide.audio.loudness import LoudnessReport, NeedLog
    from voiceguide.audio.master import Master, Measured
    from voiceguide.audio.render import Renderer

MIN_TARGET, MAX_TARGET = -40.0, -6.0


def parse_loudness(value: str | float | None) -> float | bool | None:
    """``--loudness``: a target in LUFS (-19, -16LUFS), ``off`` (False), or None: the default."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in ("off", "none", "no"):
        return False
    found = LEVEL_PATTERN.match(str(value))
    if found is None:
        raise UsageError(f"--loudness takes a level in LUFS such as -19 or -16LUFS, or off; not {value!r}")
    target = float(found.group(1))
    if not (MIN_TARGET <= target <= MAX_TARGET):
        raise UsageError(
            f"--loudness {target:g} LUFS is out of range; use {MIN_TARGET:g} to {MAX_TARGET:g} "
            "(-19 is usual for spoken word in mono, -16 in stereo), or off"
        )
    return target


def ambience_changes(
    timeline: Timeline, ambience: str | None, volume: str | None
) -> tuple[AmbienceChange, ...]:
    """The session's ambience with the command line's ``--ambience`` and ``--ambience-volume``
    applied (see :class:`~voiceguide.timeline.ambience.Override`)."""
    override = parse_override(ambience, volume)
    override.plays(bool(timeline.ambience))  # --ambience-volume without a bed is a UsageError
    return override.changes(timeline.ambience)


def _track_key(changes: tuple[AmbienceChange, ...]) -> str:
    parts = []
    for c in changes:
        a = c.ambience
        stamp = ""
        if a.sound not in BEDS and not a.off:
            with contextlib.suppress(OSError):
                st = Path(a.sound).stat()
                stamp = f"@{st.st_size}:{st.st_mtime_ns}"
        parts.append(f"{c.at_us}:{a.sound}{stamp}:{a.volume_db}:{a.duck_db}:{a.fade_us}")
    return ";".join(parts)


def master_for(
    timeline: Timeline,
    renderer: Renderer,
    *,
    ambience: str | None = None,
    ambience_volume: str | None = None,
    loudness: str | float | None = None,
) -> Master:
    """The export's finished sound: the ambience under the voice, normalised unless ``off``."""
    from voiceguide.audio.ambience import track_for
    from voiceguide.audio.loudness import default_target
    from voiceguide.audio.master import Master

    target = parse_loudness(loudness)
    changes = ambience_changes(timeline, ambience, ambience_volume)
    from voiceguide.pipeline import bed_opener

    track = track_for(timeline, renderer.sample_rate, changes, bed_opener())
    master = Master(
        renderer, track, track_key=_track_key(changes) if track is not None else "", needs=_NeedFiles()
    )
    if target is False:
        return master
    goal = default_target(renderer.channels) if target is None else float(target)
    master.gain_db = _measured(master).gain_db(goal)
    master.limit = True
    return master


def _store() -> Path:
    from voiceguide.speech.cache import cache_dir

    return cache_dir() / "loudness"


def _kept(name: str) -> bytes | None:
    try:
        return (_store() / name).read_bytes()
    except OSError:
        return None


def _keep(name: str, data: bytes) -> None:
    with contextlib.suppress(Exception):  # a cache that cannot be written is no error
        _store().mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(_store() / name, data)


def _read(name: str) -> dict[str, Any] | None:
    raw = _kept(name)
    try:
        data = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _write(name: str, data: dict[str, Any]) -> None:
    _keep(name, json.dumps(data).encode("utf-8"))


class _NeedFiles:
    """The limiter's findings per stream (:class:`~voiceguide.audio.loudness.NeedLog`), beside the
    measurements: exporting a routine again (another format, split files, a report) replays them
    instead of oversampling the session again. A damaged or missing file is only a miss."""

    def load(self, key: str) -> NeedLog | None:
        from voiceguide.audio.loudness import NeedLog

        raw = _kept(f"{key}.need.npz")
        try:
            return NeedLog.from_bytes(raw) if raw is not None else None
        except ValueError:
            return None

    def save(self, key: str, log: NeedLog) -> None:
        _keep(f"{key}.need.npz", log.to_bytes())

    def drop(self, key: str) -> None:
        with contextlib.suppress(OSError):
            (_store() / f"{key}.need.npz").unlink()


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) else -math.inf


def _measured(master: Master) -> Measured:
    from voiceguide.audio.master import Measured

    digest = master.digest()
    got = _read(f"{digest}.json")
    if got is not None and "integrated" in got:
        return Measured(_num(got["integrated"]), _num(got.get("range", 0.0)))
    measured = master.measure()
    finite = math.isfinite(measured.integrated_lufs)
    _write(
        f"{digest}.json",
        {"integrated": measured.integrated_lufs if finite else None, "range": measured.range_lu},
    )
    return measured


def report_for(master: Master) -> LoudnessReport:
    """The finished session's integrated loudness, range and true peak (measured once, then kept)."""
    from voiceguide.audio.loudness import LoudnessReport

    name = f"{master.digest()}-{master.gain_db:.6f}-{int(master.limit)}-{master.ceiling_dbtp:g}.report.json"
    got = _read(name)
    if got is not None and {"integrated", "range", "true_peak"} <= set(got):
        return LoudnessReport(
            _num(got["integrated"]), _num(got["range"]), _num(got["true_peak"]), master.gain_db
        )
    report = master.report()
    _write(
        name,
        {
            "integrated": report.integrated_lufs if math.isfinite(report.integrated_lufs) else None,
            "range": report.range_lu,
            "true_peak": report.true_peak_dbtp if math.isfinite(report.true_peak_dbtp) else None,
        },
    )
    return report
