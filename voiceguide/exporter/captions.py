"""Captions for an exported session: SubRip (.srt) and WebVTT (.vtt), one cue per utterance.

Cue times are the speech events' own times (rounded to the millisecond, the formats' resolution),
so captions line up with the audio exactly as the timeline placed it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass

from voiceguide.routine.locale import view_labels
from voiceguide.timeline.model import Event, Span, Timeline
from voiceguide.units import format_duration

LINE_WIDTH = 42  # the usual subtitle line length; players wrap badly on their own
HOLD_CUE_EVERY_US = 10_000_000  # during a long hold, a "Hold · 1:30" cue every ten seconds
MIN_GAP_US = 2_000_000  # shorter silences inside a hold stay blank


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str  # may contain newlines between caption lines


def _ms(us: int) -> int:
    return (us + 500) // 1000


def cues(
    timeline: Timeline, *, offset_us: int = 0, start_us: int = 0, end_us: int | None = None
) -> list[Cue]:
    """Speech events within ``[start_us, end_us)`` as cues, times shifted by ``-offset_us``.

    The silent stretches of a hold carry a "Hold · 1:30" cue (the time left), so a phone showing
    the captions tells the listener where they are instead of going blank for a minute; its words
    are the live view's, in the session's language."""
    labels = view_labels(timeline.voice.language)
    spoken = [
        e
        for e in timeline.events
        if e.kind == "speech"
        and e.text.strip()
        and e.start_us >= start_us
        and (end_us is None or e.start_us < end_us)
    ]
    out = [_cue(e, offset_us) for e in spoken]
    for span in timeline.spans:
        outside = span.start_us < start_us or (end_us is not None and span.start_us >= end_us)
        if span.kind != "hold" or outside:
            continue
        out.extend(
            _hold_cues(
                span, [e for e in spoken if span.start_us <= e.start_us < span.end_us], offset_us, labels
            )
        )
    return sorted(out, key=lambda c: c.start_ms)


def _hold_cues(span: Span, speech: list[Event], offset_us: int, labels: Mapping[str, str]) -> list[Cue]:
    side = {"left": "left_side", "right": "right_side", "both": "both_sides"}.get(span.side)
    label = labels["hold"] + (f", {labels[side]}" if side else "")
    out: list[Cue] = []
    busy = [(e.start_us, e.end_us) for e in speech]
    t = span.start_us
    for a, b in [*busy, (span.end_us, span.end_us)]:
        gap_end = min(a, span.end_us)
        while gap_end - t >= MIN_GAP_US:
            step_end = min(t + HOLD_CUE_EVERY_US, gap_end)
            if step_end - t < MIN_GAP_US // 2:
                break
            text = f"{label} · {format_duration(span.end_us - t)}"
            out.append(Cue(_ms(t - offset_us), _ms(step_end - offset_us), text))
            t = step_end
        t = max(t, b)
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
        blocks.append(f"{i}\n{_stamp(c.start_ms, '.')} --> {_stamp(c.end_ms, '.')}\n{_vtt_escape(c.text)}\n")
    return "\n".join(blocks)
