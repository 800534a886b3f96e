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

_UNIT_WORDS = {
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "ms": 0.001,
    "msec": 0.001,
    "millisecond": 0.001,
    "milliseconds": 0.001,
}
_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)\s*")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):([0-5]\d)(\.\d+)?$")  # m:ss or h:mm:ss


class DurationError(ValueError):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


_FORMS = "write it like 90s, 1m30s, 2 min, 1:30 (m:ss), 1.5m, 500ms or a number of seconds"


def parse_duration(value: Any, *, allow_zero: bool = False) -> int:
    """Parse and range-check a duration; the error says how to write one."""
    if value is False and allow_zero:
        return 0  # YAML reads a bare `off` as false
    if isinstance(value, bool) or value is None:
        raise DurationError(f"expected a duration, got {value!r}", _FORMS)
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _seconds_in(value, allow_zero)
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


def _seconds_in(value: str, allow_zero: bool) -> float:
    """Seconds in a written duration: ``90``, ``90 s``, ``1m30s``, ``1 min 30 s``, ``1:30``."""
    text = value.strip().lower()
    if text in ("off", "0") and allow_zero:
        return 0.0
    if text.startswith("-"):
        raise DurationError(f"{value!r} is negative", "durations must be positive")
    try:
        return float(text)
    except ValueError:
        pass
    clock = _CLOCK.match(text.replace(" ", ""))
    if clock:
        hours, minutes, secs, frac = clock.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + int(secs) + float(frac or 0)
    parts = [(m.group(1), m.group(2), m.group(0)) for m in _PART.finditer(text)]
    if not parts or "".join(p[2] for p in parts).strip() != text:
        trailing = re.fullmatch(r"(.*[a-z])\s*(\d+(?:\.\d+)?)", text)
        if trailing and parts:
            raise DurationError(
                f"{value!r} ends in a number without a unit",
                f"say which: {trailing.group(1)} {trailing.group(2)}s, or write m:ss like 1:30",
            ) from None
        raise DurationError(f"{value!r} is not a duration", _FORMS) from None
    units = []
    for _, unit, _ in parts:
        if unit not in _UNIT_WORDS:
            raise DurationError(f"{value!r} is not a duration", f"{unit!r} is not a unit; {_FORMS}")
        units.append(_UNIT_WORDS[unit])
    if len(set(units)) != len(units):
        raise DurationError(f"{value!r} repeats a unit", _FORMS) from None
    return sum(float(n) * _UNIT_WORDS[u] for n, u, _ in parts)


def format_duration(us: int) -> str:
    """Short human form for tables: ``1:30``, ``12:05``, ``1:02:03``."""
    total = round(us / US)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_stamp(us: int) -> str:
    """``m:ss.s``, right-aligned minutes: where a cue falls in a session (``show``, plain logs)."""
    tenths = round(max(us, 0) / (US // 10))  # round first, so 179.96 s is 3:00.0, never 2:60.0
    m, t = divmod(tenths, 600)
    return f"{m:2d}:{t // 10:02d}.{t % 10}"


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
