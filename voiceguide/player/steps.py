"""Prepared steps: the hand-over point between the thread that prepares a step and the player.

The preparing side lays a step out a little at a time and publishes each :class:`Progress`; the
player, on its own thread, asks a :class:`PreparedStep` for blocks of audio and for what sounds at
a position. Keeping the buffer here, behind a lock and public methods, lets the scheduler and the
session source each stay ignorant of the other.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from voiceguide.routine.ambience import Ambience
from voiceguide.routine.ops import PointInfo
from voiceguide.timeline.model import Event, Span, Step
from voiceguide.units import US

#: A block split happens only after this much audio, in the middle of a silence at least
#: MIN_CUT_SILENCE_US long.
SEGMENT_US = 30 * US
MIN_CUT_SILENCE_US = 600_000

#: Renders absolute ``[start_us, end_us)`` given the step's events known so far.
SegmentRenderer = Callable[[tuple[Event, ...], int, int], np.ndarray]


@dataclass(frozen=True)
class Progress:
    """How much of a step is laid out; times in ``events``/``spans``/``step`` are absolute."""

    step: Step  # duration is an estimate until ``complete``
    events: tuple[Event, ...]
    spans: tuple[Span, ...]
    ready_us: int  # relative to the step start: audio up to here is fully determined
    complete: bool
    problems: tuple[str, ...] = ()
    #: The background bed: (step-relative µs, ambience in force from then), the first at 0.
    ambience: tuple[tuple[int, Ambience], ...] = ()


class PreparedStep:
    """One top-level step as it is being prepared; thread-safe, read by the player.

    The preparing thread calls :meth:`publish` as more of the step is laid out; the player asks
    for blocks with :meth:`block` and :meth:`render_ahead` (step-relative microseconds).
    """

    def __init__(self, estimate: Step, render: SegmentRenderer, sample_rate: int) -> None:
        self.index = estimate.index
        self.sample_rate = sample_rate
        self._render = render
        self._lock = threading.Lock()
        self._progress = Progress(estimate, (), (), 0, False)
        self._error: BaseException | None = None
        self._memo: OrderedDict[int, tuple[int, np.ndarray]] = OrderedDict()
        self._starts: list[int] = []
        #: Set once the player has handed a block of this step to the sound device.
        self.sounding = threading.Event()

    @property
    def start_us(self) -> int:
        return self._progress.step.start_us

    def publish(self, progress: Progress) -> None:
        with self._lock:
            self._progress = progress
            self._starts = [e.start_us for e in progress.events]

    def fail(self, error: BaseException) -> None:
        with self._lock:
            self._error = error

    def latest(self) -> Progress:
        """The latest progress, without raising: for the preparing side, which records failures
        rather than reports them."""
        with self._lock:
            return self._progress

    @property
    def complete(self) -> bool:
        """Fully laid out: nothing more will be published."""
        return self.latest().complete

    @property
    def failed(self) -> bool:
        """Preparation stopped with an error (raised by :meth:`progress` in the player)."""
        with self._lock:
            return self._error is not None

    def progress(self) -> Progress:
        """The latest progress; re-raises (in the player's thread) a preparation failure."""
        with self._lock:
            if self._error is not None:
                raise self._error
            return self._progress

    def event_at(self, pos_us: int) -> Event | None:
        """The event sounding at ``pos_us`` (step-relative), if laid out yet."""
        with self._lock:
            at = self._progress.step.start_us + pos_us
            i = bisect.bisect_right(self._starts, at) - 1
            if i < 0:
                return None
            event = self._progress.events[i]
            return event if event.start_us <= at < event.end_us else None

    def next_event_start(self, pos_us: int) -> int | None:
        """Step-relative start of the first event after ``pos_us`` (for waking the view)."""
        with self._lock:
            at = self._progress.step.start_us + pos_us
            i = bisect.bisect_right(self._starts, at)
            if i < len(self._starts):
                return self._starts[i] - self._progress.step.start_us
            return None

    def span_at(self, pos_us: int) -> Span | None:
        p = self._progress
        at = p.step.start_us + pos_us
        for span in p.spans:
            if span.start_us <= at < span.end_us:
                return span
        return None

    def side_jump(self, pos_us: int, forward: bool) -> int | None:
        """Where ``n`` (forward) or ``p`` goes inside a point pressed one side after the other:
        from the first side to the "switch sides" cue, or from the second side back to the
        first side's start. None when ``pos_us`` is not in such a side (step-relative times)."""
        p = self._progress
        base = p.step.start_us
        at = base + pos_us
        events = p.events
        for i, switch in enumerate(events):
            if switch.role != "switch":
                continue
            first = next((e for e in reversed(events[:i]) if e.role == "side"), None)
            if first is None:
                continue
            second_end = next(
                (e.end_us for e in events[i + 1 :] if e.role == "release"), base + p.step.duration_us
            )
            if forward and first.start_us <= at < switch.start_us:
                return switch.start_us - base
            if not forward and switch.start_us <= at < second_end:
                return first.start_us - base
        return None

    def cycle_at(self, pos_us: int) -> tuple[int, int] | None:
        """(cycle, cycles) of the breathing exercise under way at ``pos_us``; cycles is 0 until
        the exercise is laid out to its end. Contiguous breath phases form one exercise, so two
        breathing steps inside a section count separately."""
        p = self._progress
        at = p.step.start_us + pos_us
        breaths = [s for s in p.spans if s.kind != "hold"]
        here = next((i for i, s in enumerate(breaths) if s.start_us <= at < s.end_us), None)
        if here is None:
            return None
        first = here
        while first > 0 and breaths[first - 1].end_us == breaths[first].start_us:
            first -= 1
        last = here
        while last + 1 < len(breaths) and breaths[last].end_us == breaths[last + 1].start_us:
            last += 1
        run = breaths[first : last + 1]
        n = sum(1 for s in breaths[first : here + 1] if s.kind == "inhale")
        known = p.complete or run[-1].end_us < p.step.start_us + p.ready_us
        of = sum(1 for s in run if s.kind == "inhale") if known else 0
        return max(n, 1), of

    def point_at(self, pos_us: int) -> PointInfo | None:
        """The point to show at ``pos_us``: the one held now, else the one being introduced
        (the next hold), else the last one held in this step, else the step's own."""
        p = self._progress
        at = p.step.start_us + pos_us
        holds = [s for s in p.spans if s.kind == "hold" and s.point is not None]
        for span in holds:
            if at < span.end_us:
                return span.point
        if holds:
            return holds[-1].point
        return p.step.point

    def next_segment(self, from_us: int) -> tuple[int, int] | None:
        """The next block to play, ``(from_us, end_us)`` step-relative; None if not ready yet.

        A block runs to what is laid out so far (the step's end once complete), but is cut
        about every SEGMENT_US inside a silence, away from its edges, so that a long hold or
        pause is neither one huge buffer nor left to the sound card's own clock for long.
        """
        p = self.progress()
        limit = p.step.duration_us if p.complete else p.ready_us
        if from_us >= limit:
            return None
        base = p.step.start_us
        target = from_us + SEGMENT_US
        margin = MIN_CUT_SILENCE_US // 2
        for event in p.events:
            if event.kind != "silence" or event.duration_us < MIN_CUT_SILENCE_US:
                continue
            lo = event.start_us - base + margin
            hi = event.end_us - base - margin
            if hi < target:
                continue
            cut = max(lo, target)
            if cut >= limit:
                break
            return from_us, cut
        return from_us, limit

    def block(self, from_us: int) -> tuple[int, np.ndarray] | None:
        """The block starting at ``from_us``: ``(end_us, samples)``; None if not ready yet.

        A block rendered ahead (see :meth:`render_ahead`) is used as it was, even if more of the
        step has been laid out since, so what was prepared is what plays.
        """
        with self._lock:
            hit = self._memo.get(from_us)
        if hit is not None:
            return hit
        segment = self.next_segment(from_us)
        if segment is None:
            return None
        return self._render_segment(*segment)

    def render_ahead(self, from_us: int) -> bool:
        """Render the block starting at ``from_us`` now, off the beat; False if not ready yet."""
        return self.block(from_us) is not None

    def _render_segment(self, a_us: int, b_us: int) -> tuple[int, np.ndarray]:
        p = self.progress()
        base = p.step.start_us
        samples = self._render(p.events, base + a_us, base + b_us)
        samples.setflags(write=False)
        with self._lock:
            self._memo[a_us] = (b_us, samples)
            while len(self._memo) > 3:
                self._memo.popitem(last=False)
        return b_us, samples

    def forget_blocks(self) -> None:
        with self._lock:
            self._memo.clear()

    def frames(self, us: int) -> int:
        return (us * self.sample_rate + US // 2) // US


class StepSource(Protocol):
    """The routine's steps, prepared on demand (and ahead) for the player."""

    title: str

    def count(self) -> int: ...

    def step(self, index: int) -> PreparedStep:
        """Step ``index``; starts (or prioritises) its preparation and that of the next ones."""
        ...

    def prefetch(self, index: int) -> None:
        """Prepare step ``index`` too, though the session does not play it next."""
        ...

    def total_us(self) -> tuple[int, bool]:
        """Best known session length and whether it is exact."""
        ...

    def outline(self, index: int) -> tuple[Step, bool]:
        """Step ``index`` as best known (for "Next: …"), without preparing it; True if exact."""
        ...

    def close(self) -> None: ...
