"""Timeline -> PCM, streamed in blocks, every event at its exact sample.

The timeline decides timing; this module only obeys it:

- an event starting at ``start_us`` begins at frame ``frame_at(start_us)``
  (``round(start_us * rate / 10**6)`` in integer arithmetic, halves rounded up), and the session
  is ``frame_at(total_us)`` frames long, so silences are exact and nothing drifts;
- speech longer than its event (a timeline compiled from estimates) is cut with a short fade
  rather than pushing anything later; sounds ring on past their event and are mixed under
  whatever follows;
- memory is bounded: clips are fetched when their event comes up and kept in a small LRU, and
  output goes out block by block, so a two-hour session costs no more than a two-minute one.

Any sub-range ``[start_us, end_us)`` renders exactly the frames the full render would have there,
so split files, or a player seeking into a step, join seamlessly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voiceguide.audio.clip import Clip
from voiceguide.audio.dsp import as_channels, fade, resample
from voiceguide.audio.sounds import SoundBank
from voiceguide.lru import ByteLRU
from voiceguide.timeline.model import Event, Timeline
from voiceguide.units import frame_at

DEFAULT_RATE = 22050
BLOCK_FRAMES = 1 << 15
TRUNCATE_FADE_S = 0.010
MAX_SILENT_OVERRUN = 2  # a clip this many frames over its slot is just rounding: cut, no fade
LRU_BYTES = 24 << 20

ClipSource = Callable[[str], Clip]
Block = npt.NDArray[np.int16]  # (n,) mono or (n, 2) stereo


@dataclass(frozen=True)
class _Placed:
    start: int  # absolute frame
    samples: Block

    @property
    def end(self) -> int:
        return self.start + int(self.samples.shape[0])


class Renderer:
    """Renders one timeline at one sample rate and channel count.

    ``speech`` maps a text to its clip (the speech stage provides it:
    :func:`voiceguide.pipeline.renderer_for` wires the cached voice in) and ``sounds`` a sound
    name to its clip (defaults to the timeline's own sound files).
    """

    def __init__(
        self,
        timeline: Timeline,
        speech: ClipSource,
        sounds: ClipSource | None = None,
        *,
        sample_rate: int = DEFAULT_RATE,
        channels: int | None = None,
        block_frames: int = BLOCK_FRAMES,
        cache_bytes: int = LRU_BYTES,
    ) -> None:
        if sample_rate < 8000 or sample_rate > 192000:
            raise ValueError(f"sample rate {sample_rate} Hz is out of range (8000-192000)")
        self.timeline = timeline
        self._speech = speech
        if sounds is None:
            sounds = SoundBank(timeline.sound_paths()).clip
        self._sounds = sounds
        if channels is None:  # stereo only when a sound the session plays is stereo
            used = {e.sound for e in timeline.events if e.kind == "sound"}
            channels = 2 if any(sounds(n).channels == 2 for n in sorted(used)) else 1
        if channels not in (1, 2):
            raise ValueError("channels must be 1 or 2")
        self.sample_rate = sample_rate
        self.channels = channels
        self.block_frames = max(1024, block_frames)
        self._lru: ByteLRU[tuple[str, str], Block] = ByteLRU(cache_bytes, lambda b: int(b.nbytes))

    # -- geometry ----------------------------------------------------------------------------

    @property
    def total_frames(self) -> int:
        return frame_at(self.timeline.total_us, self.sample_rate)

    def frame_at(self, us: int) -> int:
        return frame_at(us, self.sample_rate)

    def frames_between(self, start_us: int = 0, end_us: int | None = None) -> int:
        a, b = self._range(start_us, end_us)
        return b - a

    def _range(self, start_us: int, end_us: int | None) -> tuple[int, int]:
        total = self.total_frames
        a = min(max(self.frame_at(start_us), 0), total)
        b = total if end_us is None else min(max(self.frame_at(end_us), a), total)
        return a, b

    # -- clips -------------------------------------------------------------------------------

    def _prepared(self, kind: str, key: str) -> Block:
        """A clip at the output rate and layout, from the small LRU."""
        k = (kind, key)
        got = self._lru.get(k)
        if got is not None:
            return got
        clip = self._speech(key) if kind == "speech" else self._sounds(key)
        samples = resample(clip.samples, clip.sample_rate, self.sample_rate)
        samples = as_channels(samples, self.channels)
        samples.setflags(write=False)
        self._lru.put(k, samples)
        return samples

    def _placed(self, event: Event) -> _Placed | None:
        start = self.frame_at(event.start_us)
        if event.kind == "speech":
            samples = self._prepared("speech", event.text)
            slot = self.frame_at(event.end_us) - start
            over = samples.shape[0] - slot
            if over > MAX_SILENT_OVERRUN:  # longer than the timeline allows: cut, softly
                samples = fade(samples[:slot], self.sample_rate, 0.0, TRUNCATE_FADE_S)
            elif over > 0:
                samples = samples[:slot]
        elif event.kind == "sound":
            samples = self._prepared("sound", event.sound)
        else:
            return None
        if samples.shape[0] == 0:
            return None
        return _Placed(start, samples)

    def _could_reach(self, event: Event, frame: int) -> bool:
        """Whether an event that starts before ``frame`` may still sound at ``frame``."""
        if event.kind == "speech":
            return self.frame_at(event.end_us) > frame
        if event.kind == "sound":  # tails ring on: look at the real length
            return self.frame_at(event.start_us) + int(self._prepared("sound", event.sound).shape[0]) > frame
        return False

    def content_digest(self) -> str:
        """A hash of what the render is made of (every placed clip's samples and frames): two
        renderers with equal digests render equal samples. Reads each distinct clip once."""
        h = hashlib.blake2b(digest_size=20)
        h.update(f"{self.sample_rate}|{self.channels}|{self.total_frames}".encode())
        clips: dict[tuple[str, str], str] = {}
        for e in self.timeline.events:
            if e.kind == "silence":
                continue
            key = (e.kind, e.text if e.kind == "speech" else e.sound)
            if key not in clips:
                samples = self._prepared(*key)
                clips[key] = hashlib.blake2b(samples.tobytes(), digest_size=16).hexdigest()
            h.update(
                f"{e.kind}|{self.frame_at(e.start_us)}|{self.frame_at(e.end_us)}|{clips[key]}\n".encode()
            )
        return h.hexdigest()

    # -- output ------------------------------------------------------------------------------

    def blocks(self, start_us: int = 0, end_us: int | None = None) -> Iterator[Block]:
        """The frames of ``[start_us, end_us)`` (default: the whole session), block by block."""
        a, b = self._range(start_us, end_us)
        events = sorted((e for e in self.timeline.events if e.kind != "silence"), key=lambda e: e.start_us)
        # Everything that starts before the range and still sounds inside it comes in first.
        i = 0
        active: list[_Placed] = []
        while i < len(events) and self.frame_at(events[i].start_us) < a:
            if self._could_reach(events[i], a):
                placed = self._placed(events[i])
                if placed is not None and placed.end > a:
                    active.append(placed)
            i += 1
        pos = a
        while pos < b:
            end = min(pos + self.block_frames, b)
            while i < len(events) and self.frame_at(events[i].start_us) < end:
                placed = self._placed(events[i])
                if placed is not None:
                    active.append(placed)
                i += 1
            shape = (end - pos,) if self.channels == 1 else (end - pos, self.channels)
            sounding = [p for p in active if p.start < end and p.end > pos]
            if len(sounding) <= 1:  # silence, or one clip: a copy, no mixing (most blocks)
                block = np.zeros(shape, dtype=np.int16)
                for p in sounding:
                    lo, hi = max(p.start, pos), min(p.end, end)
                    block[lo - pos : hi - pos] = p.samples[lo - p.start : hi - p.start]
            else:
                mix = np.zeros(shape, dtype=np.int32)
                for p in sounding:
                    lo, hi = max(p.start, pos), min(p.end, end)
                    mix[lo - pos : hi - pos] += p.samples[lo - p.start : hi - p.start]
                block = np.clip(mix, -32768, 32767).astype(np.int16)
            active = [p for p in active if p.end > end]
            yield block
            pos = end

    def render(self, start_us: int = 0, end_us: int | None = None) -> Block:
        """The whole range as one array (for short ranges and tests; export streams instead)."""
        parts = list(self.blocks(start_us, end_us))
        if not parts:
            return np.zeros((0,) if self.channels == 1 else (0, self.channels), dtype=np.int16)
        return np.concatenate(parts)
