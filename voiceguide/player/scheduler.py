"""The scheduler: plays prepared steps on time against a clock, under the listener's keys.

How it keeps time:

- **One monotonic clock.** Each step's start is a clock time; each block of audio is handed to the
  device when the clock reaches its place in the step, never "when the previous one finished".
  The device's start-up cost then shifts every block by the same few milliseconds instead of
  adding up, and a block that starts a little late drops those milliseconds from its start so
  the cues after it stay on the plan; nothing drifts over a long session.
- **Blocks end in silence** (see :meth:`PreparedStep.next_segment`), so a cut is never heard.
- **The clock waits for synthesis**, never the other way round: a block not ready yet stops the
  step's clock (shown as "preparing") instead of cutting speech.

It knows nothing about speech or the command line: it plays :class:`PreparedStep` objects from a
:class:`StepSource` through an :class:`~voiceguide.audio.device.AudioOutput`, reading commands from
:class:`~voiceguide.player.keys.Controls` and time from a :class:`Clock`; tests drive it with
fakes. Single-threaded.

Over 400 lines on purpose: the state machine and the clock arithmetic it depends on are read
together; the step buffer, the session source and the signals live in their own modules.
"""

from __future__ import annotations

import contextlib
import enum
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from voiceguide.errors import UsageError
from voiceguide.player.keys import Command, Controls
from voiceguide.player.steps import PreparedStep, StepSource
from voiceguide.player.view import PlayState, View
from voiceguide.timeline.model import Step
from voiceguide.units import US

if TYPE_CHECKING:
    from voiceguide.audio.device import AudioOutput, PlayHandle
    from voiceguide.player.bed import LiveBed

#: "Back" restarts the current step when this far into it, else goes to the previous step.
RESTART_THRESHOLD_US = 3 * US
#: Starting a block this late is absorbed by skipping its first milliseconds; later than that
#: (the step was not ready) the step's clock waits instead, so no speech is cut.
MAX_CATCH_UP_US = 60_000
#: Resuming inside an utterance starts it again, if it began at most this long before the pause.
REWIND_LIMIT_US = 10 * US
#: How often the view is refreshed and commands are looked at while nothing else is due.
TICK_S = 0.1
PREPARING_TICK_S = 0.01
FIRST_SOUND_TICK_S = 0.003  # the first words are looked for more often: each tick adds to them
#: Before the session's first sound, "preparing" is not drawn for this long: laying out the view
#: (the session's length, the cautions above it: ~50 ms on two cores) would delay a first word
#: that is ready within it (cached, or quick to synthesize). A slower one (a cold natural voice,
#: ~0.4 s) is drawn for while it is synthesized, off the GIL, so the drawing costs it nothing.
QUIET_START_S = 0.1
#: A block is rendered this long before it is due, so the device gets it on the beat.
RENDER_AHEAD_S = 1.0
#: Waking up to this early for a block counts as on time (guards against float round-off).
EARLY_US = 1000
#: What sounds this far ahead is told to the ambience bed, so it is ducked before the first word.
BED_HORIZON_S = 2.0
#: Resuming (or skipping) over an audible bed waits this long, so the bed is down when speech
#: comes back: the bed's guard (frames already in the device) plus the ducking's attack.
BED_LEAD_S = 0.6


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


class Phase(enum.Enum):
    """Where one step is; the value is the status the view shows."""

    WAITING = "preparing"  # the step's clock is stopped until audio at the cursor is ready
    PLAYING = "playing"  # the clock runs: position = now - t0
    PAUSED = "paused"


@dataclass
class _StepRun:
    """The state of the step being played (positions are step-relative microseconds)."""

    prepared: PreparedStep
    begin_at: float | None  # clock time the step is due, to chain seamlessly after the last one
    phase: Phase = Phase.WAITING
    pos: int = 0  # the playhead (frozen while paused or waiting)
    cursor: int = 0  # audio has been handed to the output up to here
    t0: float | None = None  # clock time of position 0 while PLAYING
    next_ready: bool = False  # the next step's first block has been rendered ahead


class Leave(enum.Enum):
    """Why a step stopped playing: the transition the session takes next."""

    END = "end"
    NEXT = "next"
    PREVIOUS = "previous"
    RESTART = "restart"
    SIDE = "side"  # to the other side of a point pressed one side after the other
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
        bed: LiveBed | None = None,
    ) -> None:
        self.source = source
        self.bed = bed
        self._bed_gen = 0  # a new plan for the bed after every cut: what was heard before is void
        self._sounded = False  # the session's first block has gone to the device
        self._quiet_until = 0.0  # clock time until which "preparing" is not drawn (see run)
        self._bed_noted = False
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
        self._seek = 0  # where in the step the next _play_step starts (a side of a point)
        self._side_note = ""
        #: After :meth:`run`: the step to go on from (the one playing when it stopped, or the
        #: chosen step if it stopped in the introduction before it), whether the introduction
        #: was heard to its end, and the seconds spent playing (pauses left out).
        self.resume_step = 0
        self.intro_heard = False
        self.played_s = 0.0
        self._paused_since: float | None = None
        self._paused_s = 0.0

    def run(self, start: int = 0, *, preview: bool = False, prelude: int | None = None) -> Outcome:
        """Play from step ``start`` to the end (or just that step, for ``preview``).

        ``prelude`` (the introduction, with the cautions) is played first when starting later
        in the routine: the cautions are heard whatever step the session starts from.
        """
        count = self.source.count()
        if not 0 <= start < count:
            raise UsageError(f"there is no step {start}: steps are numbered 0 to {count - 1}")
        self._preview = preview
        self._current = None
        self.resume_step, self.intro_heard, self._paused_s = start, False, 0.0
        began = self.clock.now()
        self._quiet_until = began + QUIET_START_S  # before the first sound (see QUIET_START_S)
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
        finally:
            now = self.clock.now()
            if self._paused_since is not None:
                self._paused_s += now - self._paused_since
                self._paused_since = None
            self.played_s = max(now - began - self._paused_s, 0.0)

    def _run(self, start: int, count: int, preview: bool, prelude: int | None) -> Outcome:
        """The session's transitions: each step's :class:`Leave` picks the step that plays next
        (END chains on the beat; NEXT, PREVIOUS and RESTART silence first; QUIT stops)."""
        index = start if prelude is None else prelude
        jump = None if prelude is None else start  # where the session goes after the prelude
        begin_at: float | None = None  # clock time the next step is due (seamless chaining)
        while True:
            prepared = self.source.step(index)
            self._current = prepared
            self._last_pos = 0
            self.resume_step = index if jump is None else jump
            if jump is not None:
                self._following = jump
            else:
                self._following = None if preview or index + 1 >= count else index + 1
            seek, self._seek = self._seek, 0
            leave, end_at = self._play_step(prepared, begin_at, seek)
            begin_at = None
            if leave is Leave.END and index == 0 and prepared.progress().step.kind == "intro":
                self.intro_heard = True
            if leave is Leave.QUIT:
                self._silence()
                self._show_final(prepared, "stopped")
                return Outcome.QUIT
            if jump is not None and leave in (Leave.END, Leave.NEXT):
                if leave is Leave.NEXT:
                    self._silence()
                else:
                    begin_at = end_at
                index, jump = jump, None
                continue
            if leave is Leave.END:
                begin_at = end_at
                if preview or index + 1 >= count:
                    self._finish(prepared, end_at)
                    return Outcome.FINISHED
                index += 1
            elif leave is Leave.NEXT:
                self._silence()
                if preview or index + 1 >= count:
                    self._show_final(prepared, "finished")
                    return Outcome.FINISHED
                index += 1
                self.view.note(f"skipped to step {index}")
            elif leave is Leave.PREVIOUS:
                self._silence()
                if not preview and index > 0:
                    index -= 1
                self.view.note(f"back to step {index}")
            elif leave is Leave.SIDE:
                self._silence()
                self.view.note(self._side_note)
            else:  # RESTART
                self._silence()
                self.view.note(f"restarting step {index}")

    # -- helpers -------------------------------------------------------------------------------

    def _silence(self) -> None:
        self.output.stop()
        self._handles.clear()
        self._cut_bed()

    # -- the ambience bed (see voiceguide.player.bed) --------------------------------------------

    def _cut_bed(self) -> None:
        if self.bed is not None:
            self.bed.cut(self.clock.now())
            self._bed_gen += 1

    def _plan_bed(self, prepared: PreparedStep, t0: float, pos: int, last: bool) -> None:
        """Tell the bed what this step sounds over the next seconds and which bed is in force
        (the step starts at clock time ``t0``; ``last``: the session ends with it)."""
        bed = self.bed
        if bed is None:
            return
        if bed.error is not None and not self._bed_noted:
            self._bed_noted = True
            self.view.note(f"warning: the ambience stopped ({bed.error}); the session goes on without it")
        p = prepared.progress()
        horizon = pos + round(BED_HORIZON_S * US)
        for at, ambience in p.ambience:
            if at <= horizon:
                bed.change(t0 + at / US, ambience)
        start = prepared.start_us
        for e in p.events:
            if e.kind not in ("speech", "sound") or e.end_us - start <= pos:
                continue
            if e.start_us - start > horizon:
                break
            bed.hear(
                (self._bed_gen, prepared.index, e.start_us, e.kind),
                t0 + (e.start_us - start) / US,
                t0 + (e.end_us - start) / US,
                e.kind,
            )
        if last and p.complete:  # as early as known: the end's fade (6 s by default) is long
            bed.stop_at(t0 + p.step.duration_us / US)

    def _plan_bed_ahead(self, run: _StepRun) -> None:
        """Near the step's end: the next step's opening, as if it follows on the beat (if it
        does not, the cut at its start voids this)."""
        if self.bed is None or run.t0 is None:
            return
        p = run.prepared.progress()
        if not p.complete:
            return
        if self._following is not None and p.step.duration_us - run.pos < BED_HORIZON_S * US:
            following = self.source.step(self._following)
            after = self._following + 1 < self.source.count() and not self._preview
            self._plan_bed(following, run.t0 + p.step.duration_us / US, 0, not after)

    def _finish(self, prepared: PreparedStep, end_at: float | None) -> None:
        """Let the last block ring out (the clock says when the step ends; the bell may not)."""
        deadline = self.clock.now() + 5.0
        while any(h.is_playing() for h in self._handles) and self.clock.now() < deadline:
            if self.controls.wait(0.05) is Command.QUIT:
                self._silence()
                break
        self._show_final(prepared, "finished")

    def _next(self) -> tuple[Step | None, bool]:
        if self._following is None:
            return None, True
        return self.source.outline(self._following)

    def _show_final(self, prepared: PreparedStep, status: str) -> None:
        p = prepared.progress()
        total, exact = self.source.total_us()
        pos = p.step.duration_us if status == "finished" else self._last_pos
        self.view.update(
            PlayState(
                self.source.title,
                p.step,
                self.source.count(),
                pos,
                p.step.start_us + pos,
                total,
                exact,
                status,
                preview=self._preview,
                next_step=None,
            )
        )

    def _state(self, prepared: PreparedStep, pos_us: int, status: str) -> PlayState:
        self._last_pos = pos_us
        p = prepared.progress()
        total, exact = self.source.total_us()
        step = p.step
        following, following_exact = self._next()
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
            next_step=following,
            next_exact=following_exact,
            cycle=prepared.cycle_at(pos_us),
        )

    def _rewound(self, prepared: PreparedStep, pos_us: int) -> int:
        """Where to resume after a pause at ``pos_us``: the start of a short interrupted utterance."""
        event = prepared.event_at(pos_us)
        if event is not None and event.kind == "speech":
            started = event.start_us - prepared.start_us
            if pos_us - started <= REWIND_LIMIT_US:
                return started
        return pos_us

    # -- one step: the state machine ------------------------------------------------------------
    #
    #   WAITING --audio ready--> PLAYING --block not synthesized yet--> WAITING
    #   WAITING/PLAYING --space--> PAUSED --space--> WAITING
    #   any --n / p / q--> leave (NEXT, PREVIOUS or RESTART, QUIT);  PLAYING --step over--> END

    def _play_step(
        self, prepared: PreparedStep, begin_at: float | None, seek: int = 0
    ) -> tuple[Leave, float]:
        """Play one step from ``seek``; returns why it ended and, for END, the clock time it ended."""
        run = _StepRun(prepared, begin_at, pos=seek, cursor=seek)
        if self._paused_since is not None:  # left a paused step with n or p: the pause is over
            self._paused_s += self.clock.now() - self._paused_since
            self._paused_since = None
        while True:
            if run.phase is Phase.WAITING:
                self._try_start(run)
            if run.phase is Phase.PLAYING:
                ended_at = self._advance(run)
                if ended_at is not None:
                    return Leave.END, ended_at
            if self._sounded or run.phase is not Phase.WAITING or self.clock.now() >= self._quiet_until:
                self.view.update(self._state(prepared, run.pos, run.phase.value))
            command = self.controls.wait(self._timeout(run))
            if command is not None:
                now = self.clock.now()
                leave = self._obey(run, command, now)
                if leave is not None:
                    return leave, now

    def _try_start(self, run: _StepRun) -> None:
        """WAITING → PLAYING once the audio at the cursor is ready (or the step is all played)."""
        prepared = run.prepared
        now = self.clock.now()
        p = prepared.progress()
        if (p.complete and run.cursor >= p.step.duration_us) or prepared.render_ahead(run.cursor):
            if run.begin_at is not None and (now - run.begin_at) * US <= MAX_CATCH_UP_US:
                run.t0 = run.begin_at - run.cursor / US  # seamless: where the last step ended
            else:
                now = self.clock.now()
                if self.bed is not None:
                    self._cut_bed()  # what was planned on the beat will not sound then
                    if self._sounded and self.bed.audible_at(now):
                        now += BED_LEAD_S
                run.t0 = now - run.pos / US
            run.begin_at = None
            run.phase = Phase.PLAYING

    def _advance(self, run: _StepRun) -> float | None:
        """PLAYING: move the playhead, hand the next block over when due; the end time at END."""
        prepared, t0 = run.prepared, run.t0
        assert t0 is not None
        now = self.clock.now()
        head = round((now - t0) * US)  # before the step's start while a lead-in runs (BED_LEAD_S)
        run.pos = max(head, 0)
        p = prepared.progress()
        self._plan_bed(prepared, t0, run.pos, self._following is None)
        self._plan_bed_ahead(run)
        if p.complete and head + EARLY_US >= p.step.duration_us:
            return t0 + p.step.duration_us / US
        if head + EARLY_US >= run.cursor:
            got = prepared.block(run.cursor)
            if got is None:  # synthesis has not caught up: the clock waits
                run.pos, run.t0, run.phase = run.cursor, None, Phase.WAITING
                self._cut_bed()
                return None
            end, samples = got
            late = max(run.pos - run.cursor, 0)
            if late > MAX_CATCH_UP_US:  # far behind (slow machine): shift, don't cut
                t0 = run.t0 = now - run.cursor / US
                late = 0
                self._cut_bed()
                self._plan_bed(prepared, t0, run.cursor, self._following is None)
            skip = min(prepared.frames(late), len(samples))
            self._handles = [h for h in self._handles if h.is_playing()]
            self._handles.append(self.output.play(samples[skip:], prepared.sample_rate))
            prepared.sounding.set()
            self._sounded = True
            run.cursor = end
        elif (t0 + run.cursor / US) - now < RENDER_AHEAD_S:
            prepared.render_ahead(run.cursor)
        if (
            not run.next_ready
            and p.complete
            and run.cursor >= p.step.duration_us
            and t0 + p.step.duration_us / US - self.clock.now() < RENDER_AHEAD_S
        ):
            run.next_ready = True
            self._render_next_ahead()
        return None

    def _timeout(self, run: _StepRun) -> float:
        """How long to wait for a key: until the next block, event or step end is due."""
        if run.phase is not Phase.PLAYING or run.t0 is None:
            if run.phase is not Phase.WAITING:
                return TICK_S
            return PREPARING_TICK_S if self._sounded else FIRST_SOUND_TICK_S
        now = self.clock.now()
        p = run.prepared.progress()
        due = [run.cursor]
        if p.complete:
            due.append(p.step.duration_us)
        following = run.prepared.next_event_start(run.pos)
        if following is not None:
            due.append(following)
        ahead = run.t0 + run.cursor / US - RENDER_AHEAD_S
        wake = min(run.t0 + d / US for d in due)
        if ahead > now:
            wake = min(wake, ahead)
        return min(TICK_S, max(wake - now, 0.0))

    def _obey(self, run: _StepRun, command: Command, now: float) -> Leave | None:
        """A key: leave the step, or pause / resume it."""
        if run.phase is Phase.PLAYING and run.t0 is not None:
            run.pos = max(round((now - run.t0) * US), 0)
        if command is Command.QUIT:
            return Leave.QUIT
        if command in (Command.NEXT, Command.PREVIOUS):
            # Inside a point pressed side after side, n and p move between the sides first,
            # as the spoken "switch sides" promises.
            side = run.prepared.side_jump(run.pos, forward=command is Command.NEXT)
            if side is not None:
                self._seek = side
                forward = command is Command.NEXT
                self._side_note = "on to the other side" if forward else "back to the first side"
                return Leave.SIDE
        if command is Command.NEXT:
            return Leave.NEXT
        if command is Command.PREVIOUS:
            return Leave.RESTART if run.pos > RESTART_THRESHOLD_US else Leave.PREVIOUS
        if command is Command.TOGGLE_PAUSE:
            if run.phase is Phase.PAUSED:  # the clock runs again from where it stopped
                run.phase = Phase.WAITING
                if self._paused_since is not None:
                    self._paused_s += now - self._paused_since
                    self._paused_since = None
            else:
                run.phase = Phase.PAUSED
                self._paused_since = now
                self._silence()
                p = run.prepared.progress()
                if p.complete:
                    run.pos = min(run.pos, p.step.duration_us)
                run.pos = run.cursor = self._rewound(run.prepared, run.pos)
                run.begin_at = None
            run.t0 = None
        return None

    def _render_next_ahead(self) -> None:
        """Render the next step's first block while this one's last block plays."""
        if self._following is None:
            return
        following = self.source.step(self._following)
        try:
            following.render_ahead(0)
        except Exception:  # reported when the player gets there
            return
