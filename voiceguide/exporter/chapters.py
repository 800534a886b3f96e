"""Chapters of an exported session, and titles made safe for tags and file names.

A chapter is a top-level step as the listener navigates it: the same steps, in the same
``[start, end)`` ranges, as the player's skip and the files of ``export --split``. The ranges tile
the session, so the first chapter starts at 0 and the last ends at the session's end. Each
chapter also carries the exact frame it starts on at a sample rate, computed with the renderer's
own rounding, so a marker lands on the sample where the step's audio begins.

Pure: a Timeline (or anything with the same few attributes) in, plain data out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from voiceguide.units import US, frame_at

MAX_TITLE = 200  # characters; players truncate long chapter names anyway
MAX_STEM_BYTES = 120  # UTF-8 bytes: far below the 255 of common file systems, leaves room for a suffix

# Names Windows refuses whatever the extension; a phone's SD card or a shared folder may be FAT.
_RESERVED_STEMS = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}
_FORBIDDEN_IN_NAMES = set('<>:"/\\|?*')


class StepLike(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def start_us(self) -> int: ...


class TimelineLike(Protocol):
    @property
    def total_us(self) -> int: ...
    @property
    def steps(self) -> Sequence[StepLike]: ...


@dataclass(frozen=True)
class Chapter:
    """One navigable stretch of the session; times in microseconds, frames at ``sample_rate``."""

    number: int  # 1-based, as players and track numbers count
    title: str  # already safe for any tag format
    start_us: int
    end_us: int
    start_frame: int
    end_frame: int
    sample_rate: int

    @property
    def start_ms(self) -> int:
        """Millisecond formats (ID3 CHAP, Vorbis comments) round to the nearest millisecond."""
        return (self.start_us + 500) // 1000

    @property
    def end_ms(self) -> int:
        return (self.end_us + 500) // 1000

    def to_json(self) -> dict[str, object]:
        return {
            "number": self.number,
            "title": self.title,
            "start": self.start_us / US,
            "end": self.end_us / US,
            "start_frame": self.start_frame,
        }


def step_ranges(timeline: TimelineLike) -> list[tuple[int, int]]:
    """``[start_us, end_us)`` per top-level step; they tile the session, so split files together
    are exactly the single export, and chapters cover every instant once."""
    steps = timeline.steps
    bounds = [0] + [s.start_us for s in steps[1:]] + [timeline.total_us]
    return [(bounds[i], bounds[i + 1]) for i in range(len(steps))]


def chapters(timeline: TimelineLike, sample_rate: int) -> list[Chapter]:
    """One chapter per top-level step, named by its title (or its kind when it has none)."""
    return [
        Chapter(
            n,
            tag_text(step.title) or tag_text(step.kind.capitalize()) or f"Part {n}",
            start,
            end,
            frame_at(start, sample_rate),
            frame_at(end, sample_rate),
            sample_rate,
        )
        for n, ((start, end), step) in enumerate(zip(step_ranges(timeline), timeline.steps, strict=True), 1)
    ]


def tag_text(text: str, limit: int = MAX_TITLE) -> str:
    """Text every tag format can hold: valid Unicode, no control characters or line breaks,
    runs of white space as one space, at most ``limit`` characters (cut with an ellipsis).

    Never refuses: a title a routine can hold is always exported, at worst shortened."""
    text = _valid_unicode(text)
    text = "".join(" " if _is_control(ch) else ch for ch in unicodedata.normalize("NFC", text))
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def comment_text(lines: Sequence[str], limit: int = 2000) -> str:
    """Several sentences (the cautions) as one comment: each cleaned, one per line."""
    text = "\n".join(t for t in (tag_text(line, limit) for line in lines) if t)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def file_stem(title: str, fallback: str = "session") -> str:
    """A file name (without suffix) that reads like the title and is valid on Linux, macOS,
    Windows and FAT-formatted cards: letters of any script are kept; path separators, the
    characters Windows forbids, control characters, trailing dots and spaces and reserved device
    names are not; the result fits in ``MAX_STEM_BYTES`` bytes of UTF-8."""
    text = tag_text(title, limit=MAX_TITLE)
    text = "".join("-" if ch in _FORBIDDEN_IN_NAMES else ch for ch in text)
    text = re.sub(r"-{2,}", "-", text).strip(" .-")
    encoded = text.encode("utf-8")
    if len(encoded) > MAX_STEM_BYTES:
        text = encoded[:MAX_STEM_BYTES].decode("utf-8", "ignore")
        if " " in text:  # cut at a word boundary when there is one
            text = text.rsplit(" ", 1)[0]
        text = text.rstrip(" .-")
    if not text or text.split(".")[0].lower() in _RESERVED_STEMS:
        return fallback if text == "" else f"{text}-{fallback}"
    return text


def _valid_unicode(text: str) -> str:
    """Lone surrogates (which a YAML escape can produce) cannot be encoded; replace them."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _is_control(ch: str) -> bool:
    # Cc: C0/C1 controls incl. tab and newline; Zl/Zp: line and paragraph separators;
    # Cf is kept (zero-width joiners are part of some scripts' spelling) except the BOM.
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs") or ch == "\ufeff"
