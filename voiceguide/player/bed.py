"""The ambience bed in a played session: one continuous stream, ducked under what is about to sound.

Export knows the whole timeline; the player learns it a step at a time and the listener can pause,
skip or go back at any moment. So the bed is not cut into the session's blocks (each block opens
the device anew: a gap, and a loop seam at every step). It is one long stream of its own
(:class:`~voiceguide.audio.device.Reel`) whose samples a thread writes about a second ahead of
the playhead, from a plan the scheduler keeps up to date:

- **what sounds when** (:meth:`LiveBed.hear`): every utterance and cue a couple of seconds before
  it starts, so the bed is down when the first word begins, exactly as export ducks it (the same
  :class:`~voiceguide.audio.ducking.DuckEnvelope`, the same depths);
- **which bed** (:meth:`LiveBed.change`): the routine's ``ambience:`` changes as the steps reach
  them, crossfaded over their ``fade`` as :func:`~voiceguide.audio.ambience.schedule` does;
- **what will not sound after all** (:meth:`LiveBed.cut`): a pause, a skip or a step waiting for
  synthesis; frames not yet handed to the device (from :data:`GUARD_S` ahead) are written again.

Rewriting ahead could make the bed's level jump where the new plan meets the old one, so the gain
actually applied follows the planned one at no more than :data:`SLEW_DB_PER_S` (a planned 9 dB
dip is slower than that, so it is followed exactly). The bed keeps playing through a pause, at
its full level. Stream frames count from the moment the bed was made, on the player's clock.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from voiceguide.audio.ambience import AmbienceTrack, Change, schedule
from voiceguide.audio.beds import Bed
from voiceguide.audio.device import Reel
from voiceguide.audio.ducking import CUE_DUCK_FRACTION, Duck, DuckEnvelope
from voiceguide.routine.ambience import OFF, Ambience
from voiceguide.timeline.ambience import Override

Float = npt.NDArray[np.float32]

BLOCK_S = 0.05  # the writer's unit: a re-plan rewrites from a block boundary
AHEAD_S = 1.0  # written this far ahead of the playhead
GUARD_S = 0.25  # frames closer than this to the playhead may already be in the device: never rewritten
START_S = 0.1  # the first reel starts this far ahead of the moment the bed is first asked for
SLEW_DB_PER_S = 120.0  # how fast the applied gain may move; a planned 9 dB dip over 0.35 s needs 40
CONTROL = 64  # frames between the gain follower's steps (its ramps are linear in between)
REEL_MARGIN_S = 15 * 60.0  # a reel lasts the rest of the session and this much more (for pauses)
REEL_OVERLAP_S = 2.0  # a reel that runs out hands over to the next with this equal-power crossfade
FIRST_FADE_S = 0.05  # the first reel's own fade-in, should it start after the bed's fade has begun
CLOSE_FADE_S = 0.3  # quitting fades the bed out this fast
HUGE = 1 << 60  # the end of a span that is still open


@runtime_checkable
class ReelOutput(Protocol):
    """What the bed needs from the sound device (see :class:`~voiceguide.audio.device.SimpleaudioOutput`)."""

    def reel(self, frames: int, channels: int, sample_rate: int) -> Reel: ...


@dataclass
class _Reel:
    reel: Reel
    first: int  # the stream frame of the reel's frame 0
    fade_in: int
    fade_out: int = 0  # set when a successor is due
    started: bool = False

    @property
    def last(self) -> int:
        return self.first + self.reel.frames


class LiveBed:
    """The session's bed, written ahead of a continuous stream on a thread of its own.

    Times given to it are seconds on ``clock`` (the player's). Thread-safe: the scheduler plans,
    the writer thread renders. ``override`` is the command line's ``--ambience``/``--ambience-volume``
    and ``first`` the routine's first bed (whose duck and fade an ``--ambience`` keeps); the voice
    is raised by ``gain_db`` (``LIVE_GAIN_DB``), and so is the bed, as an export's normalising does.
    """

    def __init__(
        self,
        output: ReelOutput,
        opener: Callable[[str, int], Bed],
        *,
        sample_rate: int,
        channels: int,
        length_s: float,
        override: Override | None = None,
        first: Ambience | None = None,
        gain_db: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate, self.channels = sample_rate, channels
        self._gain_db = gain_db
        self._output, self._opener, self._clock = output, opener, clock
        self._override = override or Override()
        self._first = first
        self._length_s = length_s
        self._origin = clock()
        self._lock = threading.Condition()
        self._changes: list[tuple[int, Ambience]] = []  # (frame, effective ambience), in order
        self._ducks: dict[Hashable, Duck] = {}
        self._beds: dict[str, Bed] = {}
        self._opening = threading.Lock()  # one opener at a time: the first bed may be opening early
        self._asked: dict[Hashable, int] = {}  # a change asked for -> the frame it was planned at
        self._dirty: int | None = None  # rewrite from here
        self._version = 0  # of the plan, so the writer rebuilds its track when it changes
        self._stop = False
        self._error: BaseException | None = None
        self._reels: list[_Reel] = []
        self._thread = threading.Thread(target=self._run, name="voiceguide-ambience", daemon=True)
        self._started = False
        self._closing: tuple[int, int] | None = None  # (frame, length) of the closing fade
        # The first bed may take a moment to open (a generated bed's first use, a file's decoding):
        # begin now, beside the first words, so the bed is ready when it is asked for.
        opening = self.effective(first) if first is not None else None
        if opening is not None and not opening.off:
            threading.Thread(target=self._preopen, args=(opening.sound,), daemon=True).start()

    # -- the plan (the scheduler's side) -----------------------------------------------------------

    def frame(self, at_s: float) -> int:
        return round((at_s - self._origin) * self.rate)

    def playhead(self) -> int:
        return self.frame(self._clock())

    def _floor(self) -> int:
        """The first frame a change may still reach (earlier ones may be in the device already;
        before the first reel starts nothing is, but the writer needs a moment to begin)."""
        guard = GUARD_S if self._started else START_S
        return self.playhead() + round(guard * self.rate)

    def effective(self, ambience: Ambience) -> Ambience:
        return self._override.apply(ambience, self._first)

    def _in_force(self, frame: int) -> Ambience | None:
        now = None
        for at, a in self._changes:
            if at > frame:
                break
            now = a
        return now

    def audible_at(self, at_s: float) -> bool:
        """Whether a bed plays (or is planned to) at ``at_s``: the scheduler then gives the
        ducking time to come down before resuming speech."""
        with self._lock:
            now = self._in_force(self.frame(at_s))
            return now is not None and not now.off

    def change(self, at_s: float, ambience: Ambience) -> None:
        """From ``at_s`` on the routine's ambience is ``ambience`` (crossfading over its fade,
        centred on the moment, or starting as soon as it still can)."""
        a = self.effective(ambience)
        with self._lock:
            asked = self.frame(at_s)
            key = ("change", asked, a)
            if key in self._asked:  # the scheduler repeats its plan on every tick
                return
            before = self._in_force(asked)
            if before == a or (before is None and a.off):
                return
            fade = _frames(a.fade_us, self.rate)
            at = max(asked, self._floor() + fade // 2)  # centred on the moment if it still can be
            self._asked[key] = at
            self._changes = [(f, x) for f, x in self._changes if f < at] + [(at, a)]
            self._replan(at - fade // 2)
        self._ensure_started()

    def stop_at(self, at_s: float) -> None:
        """The session ends at ``at_s``: the bed fades out to end there (as in an export)."""
        with self._lock:
            key = ("stop", self.frame(at_s))
            now = self._in_force(self.frame(at_s))
            if key in self._asked or now is None or now.off:
                return
            fade = _frames(now.fade_us, self.rate)
            at = max(self.frame(at_s) - fade // 2, self._floor() + fade // 2)
            self._asked[key] = at
            self._changes = [(f, x) for f, x in self._changes if f < at] + [
                (at, Ambience(OFF, fade_us=now.fade_us))
            ]
            self._replan(at - fade // 2)

    def hear(self, key: Hashable, start_s: float, end_s: float, kind: str) -> None:
        """Something (``speech``, or a ``sound``: a cue) sounds over ``[start_s, end_s)``: duck
        the bed under it by the depth in force there. The same ``key`` again is ignored."""
        with self._lock:
            if key in self._ducks:
                return
            start, end = self.frame(start_s), self.frame(end_s)
            now = self._in_force(start)
            if now is None or now.off:  # a bed that fades in during the utterance ducks under it too
                now = next((x for f, x in self._changes if start < f < end and not x.off), now)
            if now is None or now.off or now.duck_db <= 0 or end <= start:
                self._ducks[key] = Duck(start, start, 0.0)  # known, and nothing to do
                return
            depth = now.duck_db if kind == "speech" else now.duck_db * CUE_DUCK_FRACTION
            self._ducks[key] = Duck(start, end, depth)
            self._replan(start - round(0.35 * self.rate))

    def cut(self, at_s: float) -> None:
        """Nothing planned after ``at_s`` will sound (a pause, a skip, a wait): the bed comes
        back up from there; a crossfade already under way goes on."""
        with self._lock:
            cut = self.frame(at_s)
            floor = self._floor()
            kept: dict[Hashable, Duck] = {}
            for key, d in self._ducks.items():
                if d.start > cut:
                    continue
                kept[key] = Duck(d.start, min(d.end, cut), d.depth_db) if d.end > cut else d
            self._ducks = kept
            changes: list[tuple[int, Ambience]] = []
            for f, a in self._changes:
                fade = _frames(a.fade_us, self.rate)
                if f - fade // 2 <= floor:
                    changes.append((f, a))
            self._changes = changes
            planned = {f for f, _ in changes}
            self._asked = {k: f for k, f in self._asked.items() if f in planned}
            self._replan(floor)

    def _replan(self, from_frame: int) -> None:
        """(Under the lock.) The plan changed: the writer rewrites from ``from_frame`` on."""
        horizon = self.playhead() - round(5 * self.rate)
        self._ducks = {k: d for k, d in self._ducks.items() if d.end > horizon}
        self._version += 1
        self._dirty = from_frame if self._dirty is None else min(self._dirty, from_frame)
        self._lock.notify_all()

    def _track(self) -> tuple[AmbienceTrack, DuckEnvelope | None]:
        """The plan as a renderable track (on the writer's thread: opening a bed may take a
        while the first time, and the scheduler must not wait for it)."""
        with self._lock:
            changes = list(self._changes)
            ducks = [d for d in self._ducks.values() if d.depth_db > 0 and d.end > d.start]
        plan = [
            Change(f, None if a.off else self._bed(a.sound), a.volume_db, _frames(a.fade_us, self.rate))
            for f, a in changes
        ]
        envelope = DuckEnvelope(ducks, self.rate) if ducks else None
        return AmbienceTrack(schedule(plan, HUGE, 0)), envelope

    def _bed(self, sound: str) -> Bed:
        with self._opening:
            bed = self._beds.get(sound)
            if bed is None:
                bed = self._beds[sound] = self._opener(sound, self.rate)
            return bed

    def _preopen(self, sound: str) -> None:
        with contextlib.suppress(Exception):  # the writer opens it again and reports the failure
            self._bed(sound)

    @property
    def error(self) -> BaseException | None:
        """Why the bed stopped, if it failed (the session goes on without it)."""
        return self._error

    # -- the writer ---------------------------------------------------------------------------------

    def _ensure_started(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def close(self, timeout_s: float = 2.0) -> None:
        """Fade the bed out quickly (unless it already has) and stop it; waits a bounded time."""
        if self._started and self._error is None:
            with self._lock:
                floor = self._floor()
                quiet = self._silent_from()
                if quiet is None or quiet > floor:
                    # A fade over whatever the plan holds from here (a crossfade or the end's
                    # fade may be under way: the plan is left as it is, only faded).
                    # From the block the writer rewrites from, so the fade starts where it does.
                    block = max(1, round(BLOCK_S * self.rate))
                    at = -(-floor // block) * block
                    self._closing = (at, round(CLOSE_FADE_S * self.rate))
                    self._replan(at)
                    quiet = at + self._closing[1]
            wait = min(max(0.0, (quiet - self.playhead()) / self.rate) + 0.05, timeout_s)
            deadline, bound = self._clock() + wait, time.monotonic() + timeout_s
            while self._clock() < deadline and time.monotonic() < bound and self._thread.is_alive():
                time.sleep(0.02)
        with self._lock:
            self._stop = True
            self._lock.notify_all()
        if self._started:
            self._thread.join(timeout=timeout_s)
        for r in self._reels:
            r.reel.stop()

    def _silent_from(self) -> int | None:
        """(Under the lock.) The frame from which the plan is silent for good, if it is."""
        if not self._changes or not self._changes[-1][1].off:
            return None
        at, last = self._changes[-1]
        fade = _frames(last.fade_us, self.rate)
        return at + (fade - fade // 2)

    def _run(self) -> None:
        try:
            self._write()
        except BaseException as exc:  # the session goes on without its bed; the player says so
            self._error = exc
            for r in self._reels:
                r.reel.stop()

    def _write(self) -> None:
        block = max(1, round(BLOCK_S * self.rate))
        ahead = round(AHEAD_S * self.rate)
        history: dict[int, float] = {}  # block boundary -> the follower's gain (dB) there
        written: int | None = None
        gain = 0.0
        version = -1
        track, ducks = AmbienceTrack(()), None
        while True:
            with self._lock:
                if self._stop:
                    return
                dirty, self._dirty = self._dirty, None
                changed = version != self._version
                version = self._version
            if changed:
                track, ducks = self._track()
            head = self.playhead()
            if written is None:  # the first reel: start on the next boundary just ahead
                written = -(-(head + round(START_S * self.rate)) // block) * block
                history[written] = 0.0
                self._new_reel(written, round(FIRST_FADE_S * self.rate))
            elif dirty is not None and dirty < written:
                floor = head + round(GUARD_S * self.rate)
                redo = max(-(-max(dirty, floor) // block) * block, min(history, default=written))
                if redo < written and redo in history:
                    written, gain = redo, history[redo]
            target = head + ahead
            while written < target:
                gain = self._render(track, ducks, written, block, gain)
                written += block
                history[written] = gain
            for k in [k for k in history if k < head - block * 4]:
                del history[k]
            self._keep_reels(head)
            with self._lock:
                if self._stop:
                    return
                if self._dirty is None:
                    self._lock.wait(BLOCK_S)

    def _render(
        self, track: AmbienceTrack, ducks: DuckEnvelope | None, start: int, n: int, gain: float
    ) -> float:
        """Frames ``[start, start + n)`` into every reel that holds them; returns the follower's
        gain (dB) at the end, where the next block goes on from."""
        bed = track.render(start, n)
        target = ducks.attenuation_db(start, n) if ducks is not None else np.zeros(n)
        points = np.arange(0, n + 1, CONTROL)
        if points[-1] != n:
            points = np.append(points, n)
        step = SLEW_DB_PER_S / self.rate
        levels = np.empty(len(points))
        levels[0] = gain
        for i in range(1, len(points)):
            want = target[min(points[i], n - 1)]
            limit = step * (points[i] - points[i - 1])
            gain = min(max(want, gain - limit), gain + limit)
            levels[i] = gain
        att = np.interp(np.arange(n), points, levels)
        bed *= np.power(10.0, (self._gain_db - att) / 20.0).astype(np.float32)
        closing = self._closing
        if closing is not None and start + n > closing[0]:  # quitting: a raised-cosine fade to 0
            x = np.clip((np.arange(start, start + n) - closing[0] + 0.5) / closing[1], 0.0, 1.0)
            bed *= (0.5 + 0.5 * np.cos(np.pi * x)).astype(np.float32)
        for r in self._reels:
            lo, hi = max(start, r.first), min(start + n, r.last)
            if lo >= hi:
                continue
            part = bed[lo - start : hi - start].copy()
            _edge_fades(part, lo, r)
            pcm = np.clip(np.rint(part * 32767.0), -32768, 32767).astype(np.int16)
            dest = r.reel.samples[lo - r.first : hi - r.first]
            if self.channels == 1:
                dest[:] = pcm
            else:
                dest[:] = pcm[:, None]
        return gain

    def _new_reel(self, first: int, fade_in: int) -> None:
        if self._stop:  # closed while a bed was opening: start nothing more
            return
        frames = round((self._length_s + REEL_MARGIN_S) * self.rate)
        reel = self._output.reel(frames, self.channels, self.rate)
        self._reels.append(_Reel(reel, first, fade_in))

    def _keep_reels(self, head: int) -> None:
        """Start reels when their first frame is due, hand over before one runs out, free what
        has been played."""
        if not self._reels:  # closed before the first reel was made
            return
        overlap = round(REEL_OVERLAP_S * self.rate)
        for r in self._reels:
            due = self._origin + r.first / self.rate  # frame `first` sounds then, on the clock
            if not r.started and not self._stop and due - self._clock() < BLOCK_S + 0.01:
                time.sleep(max(0.0, due - self._clock()))
                r.started = True
                r.reel.start()
        last = self._reels[-1]
        if last.fade_out == 0 and head > last.last - overlap - round((AHEAD_S + 10) * self.rate):
            last.fade_out = overlap
            self._length_s = REEL_MARGIN_S
            self._new_reel(last.last - overlap, overlap)
        for r in self._reels:
            r.reel.forget(head - round(2 * self.rate) - r.first)
        self._reels = [r for r in self._reels if r.last > head or r is self._reels[-1]]


def _frames(us: int, rate: int) -> int:
    return round(us * rate / 1_000_000)


def _edge_fades(part: Float, lo: int, r: _Reel) -> None:
    """A reel's own equal-power fade in at its start and out at its end (a hand-over)."""
    n = part.shape[0]
    f = np.arange(lo, lo + n, dtype=np.float64)
    if r.fade_in and lo < r.first + r.fade_in:
        x = np.clip((f - r.first + 0.5) / r.fade_in, 0.0, 1.0)
        part *= np.sin(x * np.pi / 2).astype(np.float32)
    if r.fade_out and lo + n > r.last - r.fade_out:
        x = np.clip((r.last - f - 0.5) / r.fade_out, 0.0, 1.0)
        part *= np.sin(x * np.pi / 2).astype(np.float32)
