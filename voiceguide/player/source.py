"""The session's real step source: lays out, synthesizes and renders a routine a step ahead.

The player must start speaking at once and never wait at a step change, yet a session may run two
hours. So steps are prepared on a background thread, just ahead of where the listener is, through
the same layout, measured durations and renderer as ``show`` and ``export`` — a played step and
the exported file have the same samples. It talks to the player only through
:class:`~voiceguide.player.steps.PreparedStep`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np

from voiceguide.audio.dsp import with_gain
from voiceguide.audio.loudness import LIVE_GAIN_DB
from voiceguide.pipeline import renderer_for
from voiceguide.player.steps import PreparedStep, Progress, SegmentRenderer
from voiceguide.routine.ambience import SILENT, Ambience, AmbienceSetting
from voiceguide.routine.model import Routine
from voiceguide.routine.ops import StepPlan, op_sounds, op_texts
from voiceguide.routine.plan import plan
from voiceguide.routine.voice import VoiceSettings
from voiceguide.speech.clips import cache_key
from voiceguide.speech.engine import speakable
from voiceguide.speech.measured import MeasuredDurations, measured_durations
from voiceguide.timeline.compiler import layout
from voiceguide.timeline.durations import EstimatedDurations
from voiceguide.timeline.model import Event, Step, Timeline

#: Steps prepared beyond the one playing, so "next" and the step change never wait.
LOOKAHEAD_STEPS = 3
#: How long the preparing thread stands back once the first words are ready, until the player
#: has handed them to the device: on two cores its layout work (a long routine's next steps and
#: lengths, the next utterances) would otherwise hold the GIL and a core just then.
FIRST_WORDS_WAIT_S = 0.3


class _CachedDurations:
    """Measured durations for what the speech cache already holds, estimates for the rest: the
    session's length without synthesizing anything. ``missing`` says whether anything was guessed."""

    def __init__(self, measured: MeasuredDurations, guess: EstimatedDurations) -> None:
        self._measured = measured
        self._guess = guess
        self.missing = False

    def speech_us(self, text: str) -> int:
        known = self._measured.known_us(text)
        if known is not None or not speakable(text):
            return known if known is not None else 0
        clips = self._measured.clips
        # The header alone: reading every clip of a session in full here (samples, CRC) kept the
        # GIL busy beside the thread that starts the sound, just when a warm start begins.
        measured = clips.cache.duration_us(cache_key(clips.engine, clips.settings, text))
        if measured is None:
            self.missing = True
            return self._guess.speech_us(text)
        return measured

    def sound_us(self, name: str) -> int:
        return self._measured.sound_us(name)


class SessionSource:
    """Prepares a routine's steps on a background thread, one utterance after another.

    Nothing is synthesized before it is needed soon: the step being played first, then the next
    few. Each step is laid out by :func:`~voiceguide.timeline.compiler.layout` with measured
    durations (the speech module's cache and engine thread), and published after its first
    operation and then at doubling intervals, so a long introduction starts speaking after one utterance.
    """

    def __init__(
        self,
        routine: Routine,
        settings: VoiceSettings,
        *,
        durations: MeasuredDurations | None = None,
        sample_rate: int = 22050,
    ) -> None:
        self.title = routine.title
        self.settings = settings
        self.sample_rate = sample_rate
        self._plans: tuple[StepPlan, ...] = plan(routine)
        self._durations = durations or measured_durations(settings, dict(routine.sounds))
        self._sounds = dict(routine.sounds)
        # Word-count estimates of each step, and the bed in force as each begins: laid out in
        # order as far as asked (a two-hour routine's 150 steps take ~15 ms, not spent before the
        # first word unless the first word needs them).
        self._guess = EstimatedDurations(settings.rate, self._sounds)
        self._estimates: list[Step] = []
        self._beds_at_start: list[Ambience] = []
        self._first_bed: Ambience | None = None
        self._bed = SILENT
        self._laying_out = threading.Lock()
        # Step lengths measured from the speech cache while the worker has nothing to prepare:
        # index -> (duration, exact), so the view shows the real length before the steps play.
        self._outlines: dict[int, tuple[int, bool]] = {}
        self._channels: int | None = None
        self._steps: dict[int, PreparedStep] = {}
        self._lock = threading.Condition()
        self._focus = 0
        self._wanted: set[int] = set()  # steps asked for out of order (--from after the intro)
        self._stop = False
        self._started = False  # the session's first words have gone to the device
        self._thread: threading.Thread | None = None

    def _estimate(self, index: int) -> Step:
        """Step ``index`` laid out with estimated durations (and every step before it)."""
        if index < len(self._estimates):
            return self._estimates[index]
        with self._laying_out:
            while len(self._estimates) <= index:
                i = len(self._estimates)
                t = self._estimates[-1].end_us if self._estimates else 0
                step_plan = self._plans[i]
                bed, first = self._bed, self._first_bed
                try:
                    laid_out = layout(step_plan, self._guess, i, t)
                except Exception:  # e.g. a sound file gone unreadable: preparing the step says so
                    step = Step(i, step_plan.title, step_plan.kind, t, 0, step_plan.point)
                else:
                    step = laid_out.step
                    for _, setting in laid_out.ambience:
                        bed = bed.then(setting)
                        if first is None and not bed.off:
                            first = bed
                # Committed together (a Ctrl-C between them would misalign the lists).
                self._beds_at_start.append(self._bed)
                self._bed, self._first_bed = bed, first
                self._estimates.append(step)
        return self._estimates[index]

    def _all_estimates(self) -> list[Step]:
        if self._plans:
            self._estimate(len(self._plans) - 1)
        return self._estimates

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
                self._thread = threading.Thread(target=self._work, name="voiceguide-prepare", daemon=True)
                self._thread.start()
            return prepared

    def prefetch(self, index: int) -> None:
        with self._lock:
            self._wanted.add(index)
            self._lock.notify_all()

    def total_us(self) -> tuple[int, bool]:
        total = 0
        exact = True
        for i, estimate in enumerate(self._all_estimates()):
            prepared = self._steps.get(i)
            progress = prepared.latest() if prepared is not None else None
            if progress is not None and progress.complete:
                total += progress.step.duration_us
            elif i in self._outlines:
                duration, measured = self._outlines[i]
                total += duration
                exact = exact and measured
            else:
                total += estimate.duration_us
                exact = False
        return total, exact

    def outline(self, index: int) -> tuple[Step, bool]:
        prepared = self._steps.get(index)
        progress = prepared.latest() if prepared is not None else None
        if progress is not None and progress.complete:
            return progress.step, True
        if index in self._outlines:
            duration, measured = self._outlines[index]
            return replace(self._estimate(index), duration_us=duration), measured
        return self._estimate(index), False

    def first_ambience(self) -> Ambience | None:
        """The routine's first bed (whose duck and fade an ``--ambience`` keeps), if any."""
        self._all_estimates()
        return self._first_bed

    @property
    def lengths_settled(self) -> bool:
        """Every step's length has been measured or laid out as far as the cache allows."""
        with self._lock:
            return self._next_outline() is None

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
            prepared = PreparedStep(self._start_estimate(index), self._renderer(index), self.sample_rate)
            self._steps[index] = prepared
        return prepared

    def _start_estimate(self, index: int) -> Step:
        """Where the step sits on the session clock: right after the previous step if that one
        is laid out (so times match ``show`` and export), else where the estimate puts it."""
        estimate = self._estimate(index)
        before = self._steps.get(index - 1)
        if before is not None:
            progress = before.latest()
            if progress.complete:
                return replace(estimate, start_us=progress.step.end_us)
        return estimate

    def _renderer(self, index: int) -> SegmentRenderer:
        def render(events: tuple[Event, ...], a_us: int, b_us: int) -> np.ndarray:
            before = self._steps.get(index - 1)
            earlier: tuple[Event, ...] = ()
            if before is not None and events:
                progress = before.latest()
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
            renderer = renderer_for(
                timeline, self._durations, sample_rate=self.sample_rate, channels=self.channels()
            )
            return with_gain(renderer.render(a_us, b_us), LIVE_GAIN_DB)  # as loud as its export

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
            if not prepared.complete and not prepared.failed:
                return prepared
        return None

    def _next_outline(self) -> int | None:
        """A step whose length is still a word-count estimate (under the lock)."""
        for index in range(len(self._plans)):
            prepared = self._steps.get(index)
            if index not in self._outlines and not (prepared is not None and prepared.complete):
                return index
        return None

    def _outline(self, index: int) -> None:
        """Measure step ``index``'s length from the cache, synthesizing nothing."""
        durations = _CachedDurations(self._durations, self._guess)
        try:
            duration = layout(self._plans[index], durations, index, 0).step.duration_us
        except Exception:  # the step reports its problem when it is prepared; keep the estimate
            duration, durations.missing = self._estimate(index).duration_us, True
        with self._lock:
            self._outlines[index] = (duration, not durations.missing)

    def _work(self) -> None:
        while True:
            outline: int | None = None
            with self._lock:
                job = self._next_job()
                while job is None and not self._stop:
                    outline = self._next_outline()
                    if outline is not None:
                        break
                    self._lock.wait()
                    job = self._next_job()
                if self._stop:
                    return
                self._forget_far_steps()
            if job is None:  # nothing to prepare soon: measure the session's length meanwhile
                assert outline is not None
                self._outline(outline)
                continue
            try:
                self._prepare(job)
            except BaseException as exc:  # reported by the player, in its own thread
                job.fail(exc)

    def _forget_far_steps(self) -> None:
        """Keep memory flat over a two-hour session: drop steps far behind the focus."""
        for index in [i for i in self._steps if i < self._focus - 2]:
            prepared = self._steps[index]
            if prepared.complete:
                prepared.forget_blocks()  # the layout is small; rendered audio is not

    def _ambience(
        self, index: int, settings: tuple[tuple[int, AmbienceSetting], ...], start: int
    ) -> tuple[tuple[int, Ambience], ...]:
        """The step's beds: the one in force as it begins, then its own changes (step-relative)."""
        self._estimate(index)
        bed = self._beds_at_start[index]
        out = [(0, bed)]
        for at, setting in settings:
            bed = bed.then(setting)
            out.append((at - start, bed))
        return tuple(out)

    def _stand_back(self, prepared: PreparedStep) -> None:
        """Wait (at most FIRST_WORDS_WAIT_S) until ``prepared`` sounds, unless the player moves
        on to another step meanwhile (``n``, or a session that begins elsewhere)."""
        deadline = time.monotonic() + FIRST_WORDS_WAIT_S
        while not prepared.sounding.wait(0.005):
            if self._focus != prepared.index or self._stop or time.monotonic() >= deadline:
                break
        self._started = True

    def _prepare(self, prepared: PreparedStep) -> None:
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
                partial = StepPlan(
                    step_plan.title, step_plan.kind, ops[:j], step_plan.origin, step_plan.point
                )
                laid = layout(partial, self._durations, prepared.index, start)
                complete = j == len(ops)
                step = (
                    laid.step
                    if complete
                    else replace(
                        laid.step,
                        duration_us=max(laid.step.duration_us, self._estimate(prepared.index).duration_us),
                    )
                )
                ready = laid.step.duration_us
                prepared.publish(
                    Progress(
                        step,
                        laid.events,
                        laid.spans,
                        ready,
                        complete,
                        tuple(p.message for p in laid.problems),
                        self._ambience(prepared.index, laid.ambience, start),
                    )
                )
                publish_at = max(publish_at * 2, j + 1)
                if not self._started and ready > 0:  # something to play: let it start first
                    self._stand_back(prepared)
        if not ops:
            laid = layout(step_plan, self._durations, prepared.index, start)
            prepared.publish(
                Progress(
                    laid.step,
                    laid.events,
                    laid.spans,
                    0,
                    True,
                    ambience=self._ambience(prepared.index, (), start),
                )
            )
