"""Time and size for the whole program: microseconds, sample frames, and their human forms.

Every stage measures time in integer microseconds so that "contiguous" and "total = sum of parts"
hold exactly over a two-hour session. Durations as people write them (``90s``, ``1m30s``,
``1.5m``, ``500ms``, ``90``) are parsed here, and every clock a person reads is formatted here.
"""

from __future__ import annotations

import math
import re
from typing import Any

US = 1_000_000  # microseconds per second
MAX_DURATION_US = 3600 * US  # no single pause, hold or phase is longer than an hour

_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*(h|ms|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


class DurationError(ValueError):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


_FORMS = "write it like 90s, 1m30s, 2m, 1.5m, 500ms or a number of seconds"


def parse_duration(value: Any, *, allow_zero: bool = False) -> int:
    """Parse and range-check a duration; the error says how to write one."""
    if value is False and allow_zero:
        return 0  # YAML reads a bare `off` as false
    if isinstance(value, bool) or value is None:
        raise DurationError(f"expected a duration, got {value!r}", _FORMS)
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if text in ("off", "0") and allow_zero:
            return 0
        if text.startswith("-"):
            raise DurationError(f"{value!r} is negative", "durations must be positive")
        try:
            seconds = float(text)
        except ValueError:
            parts = _PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise DurationError(f"{value!r} is not a duration", _FORMS) from None
            units = [u for _, u in parts]
            if len(set(units)) != len(units):
                raise DurationError(f"{value!r} repeats a unit", _FORMS) from None
            seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    else:
        kind = (
            "a mapping"
            if isinstance(value, dict)
            else "a list"
            if isinstance(value, list)
            else "something else"
        )
        raise DurationError(f"expected a duration, got {kind}", _FORMS)
    if math.isnan(seconds) or math.isinf(seconds):
        raise DurationError(f"{value!r} is not a finite duration", _FORMS)
    if seconds < 0:
        raise DurationError(f"{value!r} is negative", "durations must be positive")
    if seconds == 0 and not allow_zero:
        raise DurationError(f"{value!r} is zero", "use a positive duration, or remove the step")
    us = round(seconds * US)
    if us > MAX_DURATION_US:
        raise DurationError(
            f"{value!r} is longer than the limit of one hour",
            "split it into several steps if you really mean it",
        )
    if seconds > 0 and us == 0:
        raise DurationError(f"{value!r} is shorter than a microsecond", _FORMS)
    return us


def format_duration(us: int) -> str:
    """Short human form for tables: ``1:30``, ``12:05``, ``1:02:03``."""
    total = round(us / US)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_stamp(us: int) -> str:
    """``m:ss.s``, right-aligned minutes: where a cue falls in a session (``show``, plain logs)."""
    seconds = max(us, 0) / US
    m, s = divmod(seconds, 60)
    return f"{int(m):2d}:{s:04.1f}"


def us_to_s(us: int) -> float:
    return us / US


def frame_at(us: int, rate: int) -> int:
    """The frame an instant falls on: round(us * rate / 1e6), exact, halves up."""
    return (us * rate + US // 2) // US


def format_size(n: int) -> str:
    """``512 bytes``, ``3.4 MB``: how much the cache holds, for people."""
    if n < 1024:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value:.1f} TB"
