"""The pipeline, assembled once: script → validated routine → timeline → audio.

Every front end (the Python API, ``check``, ``show``, ``export``, ``play``) goes through these
functions, so the stages are wired in one place and each stage stays ignorant of the ones above.

The speech and audio stages (numpy, the engines) are imported by the functions that need them, so
``check`` and ``show --estimate`` start without loading them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.errors import Problem, RoutineError, UsageError, in_file_order
from voiceguide.routine.library import resolve_routine
from voiceguide.routine.loader import load_problems, load_routine
from voiceguide.routine.model import Routine
from voiceguide.routine.ops import utterances
from voiceguide.routine.plan import plan
from voiceguide.routine.voice import VoiceSettings, voice_settings
from voiceguide.timeline.compiler import compile_routine
from voiceguide.timeline.durations import Durations, EstimatedDurations
from voiceguide.timeline.model import Timeline

if TYPE_CHECKING:
    from voiceguide.audio.beds import Bed
    from voiceguide.audio.render import Renderer
    from voiceguide.speech.measured import MeasuredDurations

__all__ = [
    "build_timeline",
    "check_file",
    "compile_cached",
    "compile_loaded",
    "compile_measured",
    "durations_for",
    "load_routine",
    "renderer_for",
    "voice_settings",
]

Report = Callable[[str, int, int], None]


def durations_for(settings: VoiceSettings, sounds: Mapping[str, str], *, estimate: bool) -> Durations:
    """Measured durations (real synthesis, cached) unless ``estimate`` asks for word counts."""
    if estimate:
        return EstimatedDurations(settings.rate, dict(sounds))
    from voiceguide.speech.measured import measured_durations

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
    language: str | None = None,
    strict: bool = False,
) -> Timeline:
    """Load, validate and compile a routine (path or shipped name) into its timeline.

    Warnings travel on ``Timeline.warnings``; ``strict`` makes them errors instead."""
    routine = load_routine(ref, avoid=avoid, language=language, strict=strict)
    return compile_loaded(routine, estimate=estimate, engine=engine, voice=voice, rate=rate, volume=volume)


def compile_loaded(
    routine: Routine,
    *,
    estimate: bool = False,
    engine: str | None = None,
    voice: str | None = None,
    rate: int | None = None,
    volume: float | None = None,
) -> Timeline:
    """The timeline of a routine already loaded (a caller that needs both loads it once)."""
    settings = voice_settings(routine, engine=engine, voice=voice, rate=rate, volume=volume)
    durations = durations_for(settings, routine.sounds, estimate=estimate)
    return compile_routine(routine, durations, settings)


def compile_cached(routine: Routine) -> tuple[Timeline, bool]:
    """The timeline with the speech lengths the cache already holds (estimates for the rest),
    without the engine; True when nothing was estimated, so the total is the session's length."""
    from voiceguide.speech.lengths import CachedLengths

    settings = voice_settings(routine)
    durations = CachedLengths(settings, routine.sounds)
    timeline = compile_routine(routine, durations, settings)
    return timeline, durations.exact


def check_file(ref: str | Path, *, strict: bool = False) -> list[Problem]:
    """Every problem in a routine file (errors and warnings), without raising.

    Beyond loading, this lays the routine out with estimated speech lengths, so a cue that cannot
    fit its phase is reported now rather than discovered while playing.
    """
    try:
        path = resolve_routine(ref)
    except UsageError as exc:
        return [Problem(str(ref), 0, 0, str(exc))]
    routine, problems = load_problems(path)
    if routine is not None and not any(p.severity == "error" for p in problems):
        settings = voice_settings(routine)
        try:
            compile_routine(routine, EstimatedDurations(settings.rate, dict(routine.sounds)), settings)
        except RoutineError as exc:
            problems.extend(exc.problems)
    return in_file_order([p.as_error() for p in problems] if strict else problems)


def compile_measured(
    routine: Routine, settings: VoiceSettings, report: Report
) -> tuple[Timeline, MeasuredDurations]:
    """Compile with measured durations, synthesizing every utterance first so the slow part
    (a cold cache) can show progress."""
    from voiceguide.speech.engine import speakable
    from voiceguide.speech.measured import measured_durations

    durations = measured_durations(settings, routine.sounds)
    texts: list[str] = []
    seen: set[str] = set()
    for step_plan in plan(routine):
        for text in utterances(step_plan):
            key = speakable(text)
            if key and key not in seen:
                seen.add(key)
                texts.append(text)
    for i, text in enumerate(texts):
        report("Synthesizing", i, len(texts))
        durations.speech_us(text)
    report("Synthesizing", len(texts), len(texts))
    return compile_routine(routine, durations, settings), durations


def bed_opener() -> Callable[[str, int], Bed]:
    """How every front end opens a bed (``open_bed(spec, rate)``): a shipped one generated once
    and kept beside the speech cache (``beds/``), so export, play and previews share it."""
    from voiceguide.audio.beds import open_bed
    from voiceguide.speech.lengths import cache_dir

    store = cache_dir() / "beds"
    return lambda spec, rate: open_bed(spec, rate, store=store)


def renderer_for(
    timeline: Timeline,
    durations: MeasuredDurations | None = None,
    *,
    sample_rate: int = 22050,
    channels: int | None = None,
) -> Renderer:
    """A renderer for a compiled timeline, speaking in the timeline's own voice.

    With ``durations`` (what measured the timeline), the very clips and sounds that were measured
    are the ones placed, each read once.
    """
    from voiceguide.audio.render import Renderer
    from voiceguide.audio.sounds import SoundBank
    from voiceguide.speech.clips import speech_clips

    if durations is not None:
        return Renderer(
            timeline, durations.clips, durations.sounds.clip, sample_rate=sample_rate, channels=channels
        )
    return Renderer(
        timeline,
        speech_clips(timeline.voice),
        SoundBank(timeline.sound_paths()).clip,
        sample_rate=sample_rate,
        channels=channels,
    )
