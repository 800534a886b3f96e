"""voiceguide: a written routine in, a spoken, precisely timed session out.

The Python API mirrors the command line::

    import voiceguide
    routine = voiceguide.load_routine("lower-back-pain")       # validated Routine
    timeline = voiceguide.build_timeline("lower-back-pain")    # timed events
    problems = voiceguide.check_file("my-routine.yaml")        # every problem, with line/col
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: `import voiceguide` must not cost typing's (and re's) import
if TYPE_CHECKING:
    from typing import Any

    from voiceguide.errors import (
        AudioDeviceError,
        ExportError,
        Problem,
        RoutineError,
        SpeechError,
        UsageError,
        VoiceguideError,
    )
    from voiceguide.pipeline import build_timeline, check_file, load_routine
    from voiceguide.routine.catalogue import Catalogue, Point, load_catalogue
    from voiceguide.routine.model import Routine
    from voiceguide.routine.plan import plan
    from voiceguide.routine.voice import VoiceSettings, voice_settings
    from voiceguide.timeline.compiler import compile_routine
    from voiceguide.timeline.model import Event, Step, Timeline

__version__ = "0.1.0"

# Names are imported on first use (PEP 562): `import voiceguide` stays instant, and the command
# line can start (and be interrupted) before any heavy module loads.
_LAZY = {
    "Catalogue": "routine.catalogue",
    "Point": "routine.catalogue",
    "load_catalogue": "routine.catalogue",
    "compile_routine": "timeline.compiler",
    "plan": "routine.plan",
    "voice_settings": "routine.voice",
    "AudioDeviceError": "errors",
    "ExportError": "errors",
    "Problem": "errors",
    "RoutineError": "errors",
    "SpeechError": "errors",
    "UsageError": "errors",
    "VoiceguideError": "errors",
    "check_file": "pipeline",
    "load_routine": "pipeline",
    "Routine": "routine.model",
    "build_timeline": "pipeline",
    "Event": "timeline.model",
    "Step": "timeline.model",
    "Timeline": "timeline.model",
    "VoiceSettings": "routine.voice",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'voiceguide' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = [
    "AudioDeviceError",
    "Catalogue",
    "Event",
    "ExportError",
    "Point",
    "Problem",
    "Routine",
    "RoutineError",
    "SpeechError",
    "Step",
    "Timeline",
    "UsageError",
    "VoiceSettings",
    "VoiceguideError",
    "build_timeline",
    "check_file",
    "compile_routine",
    "export",
    "load_catalogue",
    "load_routine",
    "plan",
    "play",
    "voice_settings",
]


def export(*args: Any, **kwargs: Any) -> Any:
    """Render a routine to audio files; see :func:`voiceguide.exporter.export.export`."""
    from voiceguide.exporter.export import export as _export

    return _export(*args, **kwargs)


def play(*args: Any, **kwargs: Any) -> Any:
    """Play a routine aloud in real time; see :func:`voiceguide.player.session.play`."""
    from voiceguide.player.session import play as _play

    return _play(*args, **kwargs)
