"""voiceguide: a written routine in, a spoken, precisely timed session out.

The Python API mirrors the command line::

    import voiceguide
    routine = voiceguide.load_routine("lower-back-pain")       # validated Routine
    timeline = voiceguide.build_timeline("lower-back-pain")    # timed events
    problems = voiceguide.check_file("my-routine.yaml")        # every problem, with line/col
"""

from __future__ import annotations

from typing import Any

from .catalogue import Catalogue, Point, load_catalogue
from .compiler import compile_routine, plan, voice_settings
from .errors import (
    AudioDeviceError,
    ExportError,
    Problem,
    RoutineError,
    SpeechError,
    UsageError,
    VoiceguideError,
)
from .loader import check_file, load_routine
from .routine import Routine
from .session import build_timeline
from .timeline import Event, Step, Timeline, VoiceSettings

__version__ = "0.1.0"

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
    """Render a routine to audio files; see :func:`voiceguide.export.export`."""
    from .export import export as _export

    return _export(*args, **kwargs)


def play(*args: Any, **kwargs: Any) -> Any:
    """Play a routine aloud in real time; see :func:`voiceguide.player.play`."""
    from .player import play as _play

    return _play(*args, **kwargs)
