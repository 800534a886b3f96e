"""The real-time player: speaks a routine step by step, on time, under the listener's control.

How it keeps time (issue 4):

- **One monotonic clock.** Each step's start is a clock time; each block of audio is handed to the
  device when the clock reaches its place in the step, never "when the previous one finished".
  Every ``play_buffer`` opens the device anew, but because each block is started on its own
  clock time, the device's start-up cost shifts every block by the same few milliseconds instead
  of adding up. A block that starts a little late (a busy machine) drops those milliseconds from
  its start so the cues after it stay on the plan; nothing drifts over a long session.
- **Blocks end in silence.** A step plays as one block, split only at the middle of a silence
  (at most every ~30 s, so a device whose crystal runs fast cannot drift inside a long hold), and
  at places where synthesis has not got further yet, which fall between two utterances.
- **Start at once.** Nothing is synthesized up front. A background thread lays out one step at a
  time with :func:`voiceguide.compiler.layout`, synthesizing just that step's utterances through
  :mod:`voiceguide.speech` (which owns the engine thread), and publishes the step progressively:
  the first utterance can sound while the rest of the step is still being synthesized.
- **Same audio as export.** Blocks come from :class:`voiceguide.render.Renderer` over the laid-out
  events, so a played step and the exported file have the same samples.

The scheduler (:class:`Player`) knows nothing about speech: it plays :class:`PreparedStep` objects
from a :class:`StepSource` through an :class:`~voiceguide.audio_out.AudioOutput`, reading commands
from :class:`~voiceguide.keys.Controls` and time from a :class:`Clock`; tests drive it with fakes.
"""

from __future__ import annotations

import bisect
import contextlib
import enum
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from voiceguide.errors import UsageError
from voiceguide.player.keys import Command, Controls
from voiceguide.player.view import PlayState, View
from voiceguide.routine.ops import PointInfo
from voiceguide.timeline.model import Event, Span, Step
from voiceguide.units import US

if TYPE_CHECKING:
    from voiceguide.audio.device import AudioOutput, PlayHandle
    from voiceguide.routine.model import Routine
    from voiceguide.routine.ops import StepPlan
    from voiceguide.routine.voice import VoiceSettings
    from voiceguide.speech.measured import MeasuredDurations

#: "Back" restarts the current step when this far into it, else goes to the previous step.
RESTART_THRESHOLD_US = 3 * US
#: A block split happens only after this much audio, in the middle of a silence at least
#: MIN_CUT_SILENCE_US long.
SEGMENT_US = 30 * US
MIN_CUT_SILENCE_US = 600_000
#: Starting a block this late is absorbed by skipping its first milliseconds; later than that
#: (the step was not ready) the step's clock waits instead, so no speech is cut.
MAX_CATCH_UP_US = 60_000
#: Resuming inside an utterance starts it again, if it began at most this long before the pause.
REWIND_LIMIT_US = 10 * US
#: How often the view is refreshed and commands are looked at while nothing else is due.
TICK_S = 0.1
PREPARING_TICK_S = 0.01
#: A block is rendered this long before it is due, so the device gets it on the beat.
RENDER_AHEAD_S = 1.0
#: Waking up to this early for a block counts as on time (guards against float round-off).
EARLY_US = 1000


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic clock."""
        ...


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()


class Outcome(enum.Enum):
    FINISHED = "finished"
    QUIT = "quit"


# ---- prepared steps ---------------------------------------------------------------------------

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

    def close(self) -> None: ...


# ---- the scheduler ----------------------------------------------------------------------------


class _Leave(enum.Enum):
    END = "end"
    NEXT = "next"
    PREVIOUS = "previous"
    RESTART = "restart"
    QUIT = "quit"


class Player:
    """Plays steps against a clock, an output and a source of commands. Single-threaded."""

    def __init__(
        self,
        source: StepSource,
        output: AudioOutput,
        view: View,
        controls: Controls,
        clock: Clock | None = None,
    ) -> None:
        self.source = source
        self.output = output
        self.view = view
        self.controls = controls
        self.clock = clock or MonotonicClock()
        self._preview = False
        self._handles: list[PlayHandle] = []
        self._noted: set[tuple[int, str]] = set()
        self._current: PreparedStep | None = None
        self._last_pos = 0
        self._following: int | None = None  # the step that plays after this one, if any

    def run(self, start: int = 0, *, preview: bool = False, prelude: int | None = None
            ) -> Outcome:
        """Play from step ``start`` to the end (or just that step, for ``preview``).

        ``prelude`` (the introduction, with the cautions) is played first when starting later
        in the routine: the cautions are heard whatever step the session starts from.
        """
        count = self.source.count()
        if not 0 <= start < count:
            raise UsageError(f"there is no step {start}: steps are numbered 0 to {count - 1}")
        self._preview = preview
        self._current = None
        if prelude == start or preview:
            prelude = None
        if prelude is not None:
            self.source.prefetch(start)
        try:
            return self._run(start, count, preview, prelude)
        except BaseException:  # Ctrl-C, SIGTERM, a failure: silence first, then show where
            self._silence()
            if self._current is not None:
                with contextlib.suppress(Exception):  # the original error matters more
                    self._show_final(self._current, "stopped")
            raise

    def _run(self, start: int, count: int, preview: bool, prelude: int | None) -> Outcome:
        index = start if prelude is None else prelude
        jump = None if prelude is None else start  # where the session goes after the prelude
        begin_at: float | None = None  # clock time the next step is due (seamless chaining)
        while True:
            prepared = self.source.step(index)
            self._current = prepared
            self._last_pos = 0
            if jump is not None:
                self._following = jump
            else:
                self._following = None if preview or index + 1 >= count else index + 1
            leave, end_at = self._play_step(prepared, begin_at)
            begin_at = None
            if leave is _Leave.QUIT:
                self._silence()
                self._show_final(prepared, "stopped")
                return Outcome.QUIT
            if jump is not None and leave in (_Leave.END, _Leave.NEXT):
                if leave is _Leave.NEXT:
                    self._silence()
                else:
                    begin_at = end_at
                index, jump = jump, None
                continue
            if leave is _Leave.END:
                begin_at = end_at
                if preview or index + 1 >= count:
                    self._finish(prepared, end_at)
                    return Outcome.FINISHED
                index += 1
            elif leave is _Leave.NEXT:
                self._silence()
                if preview or index + 1 >= count:
                    self._show_final(prepared, "finished")
                    return Outcome.FINISHED
                index += 1
                self.view.note(f"skipped to step {index}")
            elif leave is _Leave.PREVIOUS:
                self._silence()
                if not preview and index > 0:
                    index -= 1
                self.view.note(f"back to step {index}")
            else:  # RESTART
                self._silence()
                self.view.note(f"restarting step {index}")

    # -- helpers -------------------------------------------------------------------------------

    def _silence(self) -> None:
        self.output.stop()
        self._handles.clear()

    def _finish(self, prepared: PreparedStep, end_at: float | None) -> None:
        """Let the last block ring out (the clock says when the step ends; the bell may not)."""
        deadline = self.clock.now() + 5.0
        while any(h.is_playing() for h in self._handles) and self.clock.now() < deadline:
            if self.controls.wait(0.05) is Command.QUIT:
                self._silence()
                break
        self._show_final(prepared, "finished")

    def _show_final(self, prepared: PreparedStep, status: str) -> None:
        p = prepared.progress()
        total, exact = self.source.total_us()
        pos = p.step.duration_us if status == "finished" else self._last_pos
        self.view.update(PlayState(self.source.title, p.step, self.source.count(), pos,
                                   p.step.start_us + pos, total, exact, status,
                                   preview=self._preview))

    def _state(self, prepared: PreparedStep, pos_us: int, status: str) -> PlayState:
        self._last_pos = pos_us
        p = prepared.progress()
        total, exact = self.source.total_us()
        step = p.step
        for problem in p.problems:
            if (step.index, problem) not in self._noted:
                self._noted.add((step.index, problem))
                self.view.note(f"warning: {problem}")
        return PlayState(
            title=self.source.title,
            step=step,
            step_count=self.source.count(),
            position_us=pos_us,
            elapsed_us=step.start_us + pos_us,
            total_us=total,
            total_exact=exact,
            status=status,
            event=prepared.event_at(pos_us),
            span=prepared.span_at(pos_us),
            preview=self._preview,
            point=prepared.point_at(pos_us),
        )

    def _rewound(self, prepared: PreparedStep, pos_us: int) -> int:
        """Where to resume after a pause at ``pos_us``: the start of a short interrupted utterance."""
        event = prepared.event_at(pos_us)
        if event is not None and event.kind == "speech":
            started = event.start_us - prepared.start_us
            if pos_us - started <= REWIND_LIMIT_US:
                return started
        return pos_us

    def _play_step(self, prepared: PreparedStep, begin_at: float | None) -> tuple[_Leave, float]:
        """Play one step; returns why it ended and, for END, the clock time it ended."""
        pos = 0  # playhead, step-relative microseconds (frozen while paused or waiting)
        cursor = 0  # audio has been handed to the output up to here
        t0: float | None = None  # clock time of step position 0 while the clock runs
        paused = False
        next_ready = False  # the next step's first block has been rendered ahead
        sr = prepared.sample_rate
        while True:
            now = self.clock.now()
            status = "paused" if paused else "playing"
            if not paused and t0 is None:  # (re)start the step's clock once audio is ready
                p = prepared.progress()
                if (p.complete and cursor >= p.step.duration_us) or prepared.render_ahead(cursor):
                    if begin_at is not None and (now - begin_at) * US <= MAX_CATCH_UP_US:
                        t0 = begin_at - cursor / US  # seamless: exactly where the last step ended
                    else:
                        t0 = self.clock.now() - pos / US
                    begin_at = None
                else:
                    status = "preparing"
            if not paused and t0 is not None:
                now = self.clock.now()
                pos = max(round((now - t0) * US), 0)
                p = prepared.progress()
                if p.complete and pos + EARLY_US >= p.step.duration_us:
                    return _Leave.END, t0 + p.step.duration_us / US
                if pos + EARLY_US >= cursor:
                    got = prepared.block(cursor)
                    if got is None:  # synthesis has not caught up: the clock waits
                        pos, t0, status = cursor, None, "preparing"
                    else:
                        end, samples = got
                        late = max(pos - cursor, 0)
                        if late > MAX_CATCH_UP_US:  # far behind (slow machine): shift, don't cut
                            t0 = now - cursor / US
                            late = 0
                        skip = min(prepared.frames(late), len(samples))
                        self._handles = [h for h in self._handles if h.is_playing()]
                        self._handles.append(self.output.play(samples[skip:], sr))
                        cursor = end
                elif (t0 + cursor / US) - now < RENDER_AHEAD_S:
                    prepared.render_ahead(cursor)
                if (not next_ready and t0 is not None and p.complete
                        and cursor >= p.step.duration_us
                        and t0 + p.step.duration_us / US - self.clock.now() < RENDER_AHEAD_S):
                    next_ready = True
                    self._render_next_ahead()
            self.view.update(self._state(prepared, pos, status))
            timeout = PREPARING_TICK_S if status == "preparing" else TICK_S
            if t0 is not None and not paused:
                now = self.clock.now()
                p = prepared.progress()
                due = [cursor]
                if p.complete:
                    due.append(p.step.duration_us)
                following = prepared.next_event_start(pos)
                if following is not None:
                    due.append(following)
                ahead = t0 + cursor / US - RENDER_AHEAD_S
                wake = min(t0 + d / US for d in due)
                if ahead > now:
                    wake = min(wake, ahead)
                timeout = min(timeout, max(wake - now, 0.0))
            command = self.controls.wait(timeout)
            if command is None:
                continue
            now = self.clock.now()
            if t0 is not None and not paused:
                pos = max(round((now - t0) * US), 0)
            if command is Command.QUIT:
                return _Leave.QUIT, now
            if command is Command.NEXT:
                return _Leave.NEXT, now
            if command is Command.PREVIOUS:
                return (_Leave.RESTART if pos > RESTART_THRESHOLD_US else _Leave.PREVIOUS), now
            if command is Command.TOGGLE_PAUSE:
                if paused:  # the clock runs again from where it stopped
                    paused = False
                    t0 = None
                else:
                    paused = True
                    self._silence()
                    p = prepared.progress()
                    if p.complete:
                        pos = min(pos, p.step.duration_us)
                    pos = self._rewound(prepared, pos)
                    cursor = pos
                    t0 = None
                    begin_at = None

    def _render_next_ahead(self) -> None:
        """Render the next step's first block while this one's last block plays."""
        if self._following is None:
            return
        following = self.source.step(self._following)
        try:
            following.render_ahead(0)
        except Exception:  # reported when the player gets there
            return


# ---- choosing where to start ------------------------------------------------------------------


def resolve_step(titles: Sequence[str], ref: str) -> int:
    """A ``--from``/``--preview`` argument (a step number as ``show`` prints it, or a title).

    Titles match case-insensitively: exactly, else by start, else anywhere; an ambiguous or
    unknown title is a UsageError that lists the steps.
    """
    text = ref.strip()
    last = len(titles) - 1
    if text.isdigit():
        number = int(text)
        if number > last:
            raise UsageError(f"there is no step {number}: this routine has steps 0 to {last} "
                             "(see `voiceguide show ROUTINE`)")
        return number
    wanted = " ".join(text.lower().split())
    norm = [" ".join(t.lower().split()) for t in titles]
    for rule in (
        lambda t: t == wanted,
        lambda t: t.startswith(wanted),
        lambda t: wanted in t,
    ):
        found = [i for i, t in enumerate(norm) if wanted and rule(t)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            choices = "; ".join(f"{i}. {titles[i]}" for i in found[:6])
            raise UsageError(f"step {ref!r} matches several steps ({choices}); "
                             "give its number or more of its title")
    listing = "; ".join(f"{i}. {t}" for i, t in enumerate(titles[:12]))
    more = " …" if len(titles) > 12 else ""
    raise UsageError(f"no step is called {ref!r}. Steps: {listing}{more}")


# ---- the real source: layout + synthesis ahead + rendering ------------------------------------

#: Steps prepared beyond the one playing, so "next" and the step change never wait.
LOOKAHEAD_STEPS = 3


class SessionSource:
    """Prepares a routine's steps on a background thread, one utterance after another.

    Nothing is synthesized before it is needed soon: the step being played first, then the next
    few. Each step is laid out by :func:`compiler.layout` with measured durations (the speech
    module's cache and engine thread), and published after its first operation and then at
    doubling intervals, so a long introduction starts speaking after one utterance.
    """

    def __init__(
        self,
        routine: Routine,
        settings: VoiceSettings,
        *,
        durations: MeasuredDurations | None = None,
        sample_rate: int = 22050,
    ) -> None:
        from voiceguide.routine import plan as planning
        from voiceguide.speech.measured import measured_durations
        from voiceguide.timeline import compiler
        from voiceguide.timeline.durations import EstimatedDurations

        self.title = routine.title
        self.settings = settings
        self.sample_rate = sample_rate
        self._plans: tuple[StepPlan, ...] = planning.plan(routine)
        self._durations = durations or measured_durations(settings, dict(routine.sounds))
        self._sounds = dict(routine.sounds)
        estimates: list[Step] = []
        guess = EstimatedDurations(settings.rate, self._sounds)
        t = 0
        for i, step_plan in enumerate(self._plans):
            step = compiler.layout(step_plan, guess, i, t).step
            estimates.append(step)
            t = step.end_us
        self._estimates = estimates
        self._channels: int | None = None
        self._steps: dict[int, PreparedStep] = {}
        self._lock = threading.Condition()
        self._focus = 0
        self._wanted: set[int] = set()  # steps asked for out of order (--from after the intro)
        self._stop = False
        self._thread: threading.Thread | None = None

    # -- StepSource ------------------------------------------------------------------------------

    def titles(self) -> list[str]:
        return [p.title for p in self._plans]

    def count(self) -> int:
        return len(self._plans)

    def step(self, index: int) -> PreparedStep:
        with self._lock:
            prepared = self._prepared(index)
            self._focus = index
            self._lock.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="voiceguide-prepare",
                                                daemon=True)
                self._thread.start()
            return prepared

    def prefetch(self, index: int) -> None:
        with self._lock:
            self._wanted.add(index)
            self._lock.notify_all()

    def total_us(self) -> tuple[int, bool]:
        total = 0
        exact = True
        for i, estimate in enumerate(self._estimates):
            prepared = self._steps.get(i)
            progress = prepared._progress if prepared is not None else None
            if progress is not None and progress.complete:
                total += progress.step.duration_us
            else:
                total += estimate.duration_us
                exact = False
        return total, exact

    def close(self) -> None:
        with self._lock:
            self._stop = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    # -- preparation -----------------------------------------------------------------------------

    def _prepared(self, index: int) -> PreparedStep:
        """The step's PreparedStep, made on first request (under the lock)."""
        prepared = self._steps.get(index)
        if prepared is None:
            prepared = PreparedStep(self._start_estimate(index), self._renderer(index),
                                    self.sample_rate)
            self._steps[index] = prepared
        return prepared

    def _start_estimate(self, index: int) -> Step:
        """Where the step sits on the session clock: right after the previous step if that one
        is laid out (so times match ``show`` and export), else where the estimate puts it."""
        estimate = self._estimates[index]
        before = self._steps.get(index - 1)
        if before is not None:
            progress = before._progress
            if progress.complete:
                return replace(estimate, start_us=progress.step.end_us)
        return estimate

    def _renderer(self, index: int) -> SegmentRenderer:
        def render(events: tuple[Event, ...], a_us: int, b_us: int) -> np.ndarray:
            from voiceguide.audio.render import Renderer
            from voiceguide.timeline.model import Timeline

            before = self._steps.get(index - 1)
            earlier: tuple[Event, ...] = ()
            if before is not None and events:
                progress = before._progress
                if progress.complete and progress.step.end_us == events[0].start_us:
                    earlier = progress.events  # a bell from the last step may still ring
            timeline = Timeline(
                title=self.title,
                total_us=b_us,
                steps=(),
                events=earlier + events,
                voice=self.settings,
                sounds=tuple(sorted(self._sounds.items())),
            )
            renderer = Renderer(
                timeline,
                speech=self._durations.clips,
                sounds=self._durations.sounds.clip,
                sample_rate=self.sample_rate,
                channels=self.channels(),
            )
            return renderer.render(a_us, b_us)

        return render

    def channels(self) -> int:
        if self._channels is None:
            self._channels = self._durations.sounds.channels()
        return self._channels

    def _next_job(self) -> PreparedStep | None:
        """The first unfinished step from the focus on, within the look-ahead (under the lock)."""
        last = min(self._focus + LOOKAHEAD_STEPS, len(self._plans) - 1)
        self._wanted = {i for i in self._wanted if i > last or i < self._focus}
        for index in [*range(self._focus, last + 1), *sorted(self._wanted)]:
            prepared = self._prepared(index)
            if not prepared._progress.complete and prepared._error is None:
                return prepared
        return None

    def _work(self) -> None:
        while True:
            with self._lock:
                job = self._next_job()
                while job is None and not self._stop:
                    self._lock.wait()
                    job = self._next_job()
                if self._stop:
                    return
                self._forget_far_steps()
            assert job is not None
            try:
                self._prepare(job)
            except BaseException as exc:  # reported by the player, in its own thread
                job.fail(exc)

    def _forget_far_steps(self) -> None:
        """Keep memory flat over a two-hour session: drop steps far behind the focus."""
        for index in [i for i in self._steps if i < self._focus - 2]:
            prepared = self._steps[index]
            if prepared._progress.complete:
                prepared.forget_blocks()  # the layout is small; rendered audio is not

    def _prepare(self, prepared: PreparedStep) -> None:
        from voiceguide.routine.ops import StepPlan, op_sounds, op_texts
        from voiceguide.timeline.compiler import layout

        step_plan = self._plans[prepared.index]
        ops = step_plan.ops
        start = prepared.start_us
        publish_at = 1
        for j, op in enumerate(ops, 1):
            with self._lock:
                if self._stop:
                    return
            for text in op_texts(op):
                self._durations.speech_us(text)
            for sound in op_sounds(op):
                self._durations.sound_us(sound)
            if j == publish_at or j == len(ops):
                partial = StepPlan(step_plan.title, step_plan.kind, ops[:j], step_plan.origin,
                                   step_plan.point)
                laid = layout(partial, self._durations, prepared.index, start)
                complete = j == len(ops)
                step = laid.step if complete else replace(
                    laid.step, duration_us=max(laid.step.duration_us,
                                               self._estimates[prepared.index].duration_us))
                ready = laid.step.duration_us
                prepared.publish(Progress(step, laid.events, laid.spans, ready, complete,
                                          tuple(p.message for p in laid.problems)))
                publish_at = max(publish_at * 2, j + 1)
        if not ops:
            laid = layout(step_plan, self._durations, prepared.index, start)
            prepared.publish(Progress(laid.step, laid.events, laid.spans, 0, True))


# ---- one call for the CLI ---------------------------------------------------------------------


def play(
    ref: str,
    *,
    start: str | None = None,
    preview: str | None = None,
    avoid: Sequence[str] = (),
    engine: str | None = None,
    voice: str | None = None,
    rate: int | None = None,
    volume: float | None = None,
    interactive: bool | None = None,
    console: object | None = None,
    on_cautions: Callable[[Sequence[str]], None] | None = None,
) -> Outcome:
    """Play a routine aloud: the ``voiceguide play`` command as a function.

    Opens the sound device first (none: AudioDeviceError suggesting ``export``), hands the
    cautions to ``on_cautions`` to print (they are spoken in the introduction), then plays with
    the live view and keys on a terminal, or plain timestamped lines without one. However it
    ends (the end, ``q``, Ctrl-C, SIGTERM, an error) it stops the sound, waits for the device to
    finish and restores the terminal before returning or raising.
    """
    import sys

    from voiceguide.audio.device import open_output
    from voiceguide.player.keys import KeyReader, NoKeys
    from voiceguide.player.view import LiveView, PlainView
    from voiceguide.routine.loader import load_routine
    from voiceguide.routine.voice import voice_settings

    if start is not None and preview is not None:
        raise UsageError("use either --from or --preview, not both")
    if engine is not None:
        _warm_engine(engine)  # the CLI named it: load its model while the routine loads
    routine = load_routine(ref, avoid=avoid)
    settings = voice_settings(routine, engine=engine, voice=voice, rate=rate, volume=volume)
    if engine is None:
        _warm_engine(settings.engine)
    source = SessionSource(routine, settings)
    titles = source.titles()
    first = resolve_step(titles, preview if preview is not None else start or "0")
    # Keys whenever stdin is a terminal; the live panel whenever stdout is one (piped output
    # gets plain lines, and the keys still work).
    keyboard = KeyReader.available() if interactive is None else interactive
    live = sys.stdout.isatty() if interactive is None else interactive
    try:
        # Synthesis starts now, while the device opens and the cautions print. A session that
        # starts later than step 0 still begins with the introduction (it speaks the cautions).
        source.step(first if preview is not None else 0)
        source.prefetch(first)
        output = open_output(str(ref))
        try:
            if on_cautions is not None and routine.cautions and preview is None:
                on_cautions(routine.cautions)
            view: View = LiveView(console, keys=keyboard) if live else PlainView()
            keys: KeyReader | NoKeys = KeyReader() if keyboard else NoKeys()
            with _terminate_as_exit():
                try:
                    with keys:
                        player = Player(source, output, view, keys)
                        return player.run(first, preview=preview is not None,
                                          prelude=None if preview is not None else 0)
                finally:
                    view.close()
        finally:
            with _no_interrupts():
                output.close()
    finally:
        with _no_interrupts():
            source.close()


def _warm_engine(name: str) -> None:
    """Start an engine's slow set-up (piper's voice model) in the background, so the first word
    still comes within half a second; the synthesis thread reports any failure properly."""

    def warm() -> None:
        from voiceguide.errors import VoiceguideError
        from voiceguide.speech.registry import get_engine

        with contextlib.suppress(VoiceguideError):
            preload = getattr(get_engine(name), "preload", None)
            if preload is not None:
                preload()

    threading.Thread(target=warm, name="voiceguide-warm-engine", daemon=True).start()


@contextlib.contextmanager
def _signal_handled(signum: int, handler: Any) -> Iterator[None]:
    """``handler`` for ``signum`` inside the block, the previous one after (a no-op off the main
    thread, where Python cannot set handlers)."""
    import signal

    try:
        old = signal.signal(signum, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signum, old)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _terminate_as_exit() -> contextlib.AbstractContextManager[None]:
    """SIGTERM ends the session like Ctrl-C does (sound stopped, terminal restored), exit 143."""
    import signal

    return _signal_handled(signal.SIGTERM, _exit_on_sigterm)


def _no_interrupts() -> contextlib.AbstractContextManager[None]:
    """Hold off a second Ctrl-C while the device drains (bounded): leaving Python while a
    simpleaudio thread still plays can crash the interpreter."""
    import signal

    return _signal_handled(signal.SIGINT, signal.SIG_IGN)
