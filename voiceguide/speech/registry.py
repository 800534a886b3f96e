"""The speech engines voiceguide knows, by name, and the process's one instance of each.

A table rather than an if-chain: an engine is a module and a class, imported only when chosen
(the natural voice pulls in onnxruntime, which costs start-up for everyone else).
"""

from __future__ import annotations

import importlib
import threading

from voiceguide.errors import SpeechError, UsageError
from voiceguide.hints import NATURAL_INSTALL
from voiceguide.speech.engine import SpeechEngine

ENGINES: dict[str, tuple[str, str]] = {
    "pyttsx3": ("voiceguide.speech.pyttsx3_engine", "Pyttsx3Engine"),
    "piper": ("voiceguide.speech.piper_engine", "PiperEngine"),
}

_INSTANCES: dict[str, SpeechEngine] = {}
_LOCK = threading.Lock()


def get_engine(name: str = "pyttsx3") -> SpeechEngine:
    """The process's one engine of that name (created on first use)."""
    with _LOCK:
        if name in _INSTANCES:
            return _INSTANCES[name]
        if name not in ENGINES:
            raise UsageError(f"unknown speech engine {name!r} (choose from {', '.join(ENGINES)})")
        module_name, class_name = ENGINES[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise SpeechError(
                f"the {name} engine is not available: install it with `{NATURAL_INSTALL}`"
            ) from exc
        engine: SpeechEngine = getattr(module, class_name)()
        _INSTANCES[name] = engine
        return engine
