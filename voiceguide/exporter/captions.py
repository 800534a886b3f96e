"""Captions for an exported session: SubRip (.srt) and WebVTT (.vtt), one cue per utterance.

Cue times are the speech events' own times (rounded to the millisecond, the formats' resolution),
so captions line up with the audio exactly as the timeline placed it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from voiceguide.timeline.model import Event, Timeline

LINE_WIDTH = 42  # the usual subtitle line length; players wrap badly on their own


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str  # may contain newlines between caption lines


def _ms(us: int) -> int:
    return (us + 500) // 1000


def cues(timeline: Timeline, *, offset_us: int = 0, start_us: int = 0,
         end_us: int | None = None) -> list[Cue]:
    """Speech events within ``[start_us, end_us)`` as cues, times shifted by ``-offset_us``."""
    out: list[Cue] = []
    for e in timeline.events:
        if e.kind != "speech" or not e.text.strip():
            continue
        if e.start_us < start_us or (end_us is not None and e.start_us >= end_us):
            continue
        out.append(_cue(e, offset_us))
    return out


def _cue(e: Event, offset_us: int) -> Cue:
    start = _ms(e.start_us - offset_us)
    end = max(_ms(e.end_us - offset_us), start + 1)  # a cue must have a positive length
    lines = textwrap.wrap(" ".join(e.text.split()), LINE_WIDTH, break_on_hyphens=False) or [""]
    return Cue(start, end, "\n".join(lines))


def _stamp(ms: int, sep: str) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{milli:03d}"


def to_srt(items: list[Cue]) -> str:
    blocks = []
    for i, c in enumerate(items, 1):
        text = c.text.replace("-->", "->")
        blocks.append(f"{i}\n{_stamp(c.start_ms, ',')} --> {_stamp(c.end_ms, ',')}\n{text}\n")
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(items: list[Cue], title: str = "") -> str:
    header = "WEBVTT" + (f" - {' '.join(title.split())}" if title.strip() else "")
    header = header.replace("-->", "->")
    blocks = [header + "\n"]
    for i, c in enumerate(items, 1):
        blocks.append(
            f"{i}\n{_stamp(c.start_ms, '.')} --> {_stamp(c.end_ms, '.')}\n{_vtt_escape(c.text)}\n"
        )
    return "\n".join(blocks)
