"""A session's ambience: which bed when, at what level, crossfaded, ducked, and mixed under.

:func:`schedule` turns the timeline's ambience changes into spans of beds with equal-power fades,
:class:`AmbienceTrack` renders any block of them (random access, so split files and seeking get
the frames a full render has), ducked by a :class:`~voiceguide.audio.ducking.DuckEnvelope`, and
:func:`mix_under` puts the result under the rendered voice without clipping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voiceguide.audio.beds import Bed, open_bed
from voiceguide.audio.dsp import soft_clip_int16
from voiceguide.audio.ducking import CUE_DUCK_FRACTION, Duck, DuckEnvelope
from voiceguide.routine.ambience import DEFAULT_FADE_US, DEFAULT_VOLUME_DB
from voiceguide.timeline.model import AmbienceChange, Timeline
from voiceguide.units import frame_at

Float = npt.NDArray[np.float32]
Int16 = npt.NDArray[np.int16]


@dataclass(frozen=True)
class BedSpan:
    """One bed playing over ``[start, end)`` (frames), fading in and out at its ends."""

    start: int
    end: int
    bed: Bed
    volume_db: float = DEFAULT_VOLUME_DB
    fade_in: int = 0
    fade_out: int = 0


@dataclass(frozen=True)
class Change:
    """From frame ``at`` on, play ``bed`` (``None``: stop) at ``volume_db``, crossfading over
    ``fade`` frames centred on ``at`` (``None``: the schedule's default)."""

    at: int
    bed: Bed | None
    volume_db: float = DEFAULT_VOLUME_DB
    fade: int | None = None


def schedule(changes: Sequence[Change], total: int, fade: int) -> list[BedSpan]:
    """Spans for a list of changes: each change crossfades over its fade, centred on it; the
    session starts with a fade-in and ends with a fade-out inside it."""
    spans: list[BedSpan] = []
    ordered = sorted(changes, key=lambda c: c.at)

    def fade_of(c: Change) -> int:
        return max(0, fade if c.fade is None else c.fade)

    for i, c in enumerate(ordered):
        if c.bed is None or c.at >= total:
            continue
        after = ordered[i + 1] if i + 1 < len(ordered) else None
        nxt = after.at if after is not None else total
        if nxt <= c.at:
            continue
        fade_in = fade_of(c)
        fade_out = fade_of(after) if after is not None else fade_in
        start = c.at if c.at <= 0 else max(0, c.at - fade_in // 2)
        end = total if nxt >= total else min(total, nxt + (fade_out - fade_out // 2))
        spans.append(
            BedSpan(start, end, c.bed, c.volume_db, min(fade_in, end - start), min(fade_out, end - start))
        )
    return spans


class AmbienceTrack:
    """Renders a session's whole ambience for any block, as float32 samples (full scale = 1.0)."""

    def __init__(self, spans: Sequence[BedSpan], ducks: DuckEnvelope | None = None) -> None:
        self.spans = tuple(spans)
        self.ducks = ducks

    def render(self, start: int, n: int) -> Float:
        out = np.zeros(n, dtype=np.float32)
        alone = True  # nothing added to out yet
        for s in self.spans:
            lo, hi = max(s.start, start), min(s.end, start + n)
            if lo >= hi:
                continue
            part = s.bed.render(lo - s.start, hi - lo)
            part *= np.float32(10.0 ** (s.volume_db / 20.0))
            # Equal-power fades (sine-shaped), computed only on the frames they cover.
            for edge_lo, edge_hi, rising in (
                (s.start, s.start + s.fade_in, True),
                (s.end - s.fade_out, s.end, False),
            ):
                a, b = max(lo, edge_lo), min(hi, edge_hi)
                if a >= b:
                    continue
                f = np.arange(a, b, dtype=np.float64)
                x = (f - s.start + 0.5) / s.fade_in if rising else (s.end - f - 0.5) / s.fade_out
                part[a - lo : b - lo] *= np.sin(np.clip(x, 0.0, 1.0) * (np.pi / 2)).astype(np.float32)
            if alone and lo == start and hi == start + n:
                out = part  # the only bed here: 0 + x is x (but for the sign of a zero)
            else:
                out[lo - start : hi - start] += part
            alone = False
        if self.ducks is not None:
            self.ducks.apply(out, start)
        return out


def mix_under(block: Int16, bed: Float) -> Int16:
    """The rendered block with the bed under it, as int16 that never clips.

    A voice peak and a bed peak can coincide; rather than clip, the top 1 dB is a smooth knee.
    (Export then normalises and limits the whole session; this is only the last safety.)
    """
    mix = block.astype(np.float32) * np.float32(1.0 / 32768.0)
    mix += bed if block.ndim == 1 else bed[:, None]
    return soft_clip_int16(mix)


def with_ambience(blocks: Iterable[Int16], track: AmbienceTrack, start: int = 0) -> Iterator[Int16]:
    """Blocks of a render (starting at frame ``start``) with the ambience mixed under them."""
    pos = start
    for block in blocks:
        n = int(block.shape[0])
        yield mix_under(block, track.render(pos, n))
        pos += n


def track_for(
    timeline: Timeline,
    rate: int,
    changes: Sequence[AmbienceChange] | None = None,
    opener: Callable[[str, int], Bed] = open_bed,
) -> AmbienceTrack | None:
    """The session's ambience at ``rate``: its beds with their fades, ducked under every
    utterance by the depth in force there (cue sounds by :data:`CUE_DUCK_FRACTION` of it);
    None when nothing plays. ``changes`` replaces the timeline's own (the command line's)."""
    changes = timeline.ambience if changes is None else changes
    if not any(not c.ambience.off for c in changes):
        return None
    total = frame_at(timeline.total_us, rate)
    opened: dict[str, Bed] = {}
    plan: list[Change] = []
    for c in changes:
        a = c.ambience
        bed = None if a.off else opened.setdefault(a.sound, opener(a.sound, rate))
        plan.append(Change(frame_at(c.at_us, rate), bed, a.volume_db, frame_at(a.fade_us, rate)))
    spans = schedule(plan, total, frame_at(DEFAULT_FADE_US, rate))
    ducks: list[Duck] = []
    k = 0
    for e in timeline.events:
        if e.kind == "silence":
            continue
        while k + 1 < len(changes) and changes[k + 1].at_us <= e.start_us:
            k += 1
        now = changes[k].ambience if changes[k].at_us <= e.start_us else None
        if now is None or now.off or now.duck_db <= 0:
            continue
        depth = now.duck_db if e.kind == "speech" else now.duck_db * CUE_DUCK_FRACTION
        ducks.append(Duck(frame_at(e.start_us, rate), frame_at(e.end_us, rate), depth))
    return AmbienceTrack(spans, DuckEnvelope(ducks, rate) if ducks else None)
