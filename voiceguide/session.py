"""The public one-call entry points: a routine reference in, a timed session out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .compiler import compile_routine, voice_settings
from .loader import load_routine
from .media import Durations, EstimatedDurations
from .timeline import Timeline, VoiceSettings


def durations_for(settings: VoiceSettings, sounds: dict[str, str], *, estimate: bool) -> Durations:
    """Measured durations (real synthesis, cached) unless ``estimate`` asks for word counts."""
    if estimate:
        return EstimatedDurations(settings.rate, sounds)
    from .speech import measured_durations

    return measured_durations(settings, sounds)


def build_timeline(
    ref: str | Path,
    *,
    avoid: Sequence[str] = (),
    estimate: bool = False,
    engine: str | None = None,
    voice: str | None = None,
    rate: int | None = None,
    volume: float | None = None,
) -> Timeline:
    """Load, validate and compile a routine (path or shipped name) into its timeline."""
    routine = load_routine(ref, avoid=avoid)
    settings = voice_settings(routine, engine=engine, voice=voice, rate=rate, volume=volume)
    durations = durations_for(settings, dict(routine.sounds), estimate=estimate)
    return compile_routine(routine, durations, settings)
