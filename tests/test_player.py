"""The player's scheduling, driven by a fake clock, fake keys and a fake sound output.

Each fake step's audio is a numbered array, so the fake output can tell exactly which step and
which moment of it every block starts with: the tests assert what a listener would hear and when.
"""

from __future__ import annotations

import io
import os
import pty
import termios
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pytest

from voiceguide.audio.dsp import with_gain
from voiceguide.audio.loudness import LIVE_GAIN_DB
from voiceguide.errors import UsageError
from voiceguide.pipeline import renderer_for
from voiceguide.player.keys import Command, KeyReader, parse_keys
from voiceguide.player.scheduler import Outcome, Player
from voiceguide.player.steps import PreparedStep, Progress
from voiceguide.player.steps_ref import resolve_step
from voiceguide.player.view import PlainView, PlayState
from voiceguide.routine.ops import PointInfo
from voiceguide.timeline.model import Event, Span, Step
from voiceguide.units import US

RATE = 1000  # one frame per millisecond keeps the arithmetic readable


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0  # any origin: the player must only use differences

    def now(self) -> float:
        return self.t


class FakeControls:
    """Commands at given clock times; waiting advances the fake clock."""

    def __init__(self, clock: FakeClock, script: list[tuple[float, Command]] | None = None,
                 on_tick: object = None) -> None:
        self.clock = clock
        self.script = sorted(script or [], key=lambda c: c[0])
        self.calls = 0
        self.on_tick = on_tick

    def wait(self, timeout: float) -> Command | None:
        self.calls += 1
        assert self.calls < 200_000, "the player is spinning"
        target = self.clock.t + max(timeout, 0.0)
        if self.script and self.script[0][0] <= target:
            at, command = self.script.pop(0)
            self.clock.t = max(self.clock.t, at)
            return command
        self.clock.t = target
        if callable(self.on_tick):
            self.on_tick(self.clock.t)
        return None


@dataclass
class Played:
    at: float  # clock time the block was started
    samples: np.ndarray
    stopped_at: float | None = None


class FakeHandle:
    def __init__(self, output: FakeOutput, played: Played) -> None:
        self.output, self.played = output, played

    def is_playing(self) -> bool:
        p = self.played
        end = p.at + len(p.samples) / RATE
        return p.stopped_at is None and self.output.clock.t < end

    def stop(self) -> None:
        if self.played.stopped_at is None:
            self.played.stopped_at = self.output.clock.t


@dataclass
class FakeOutput:
    clock: FakeClock
    played: list[Played] = field(default_factory=list)
    stops: list[float] = field(default_factory=list)

    def play(self, samples: np.ndarray, sample_rate: int) -> FakeHandle:
        assert sample_rate == RATE
        entry = Played(self.clock.t, samples)
        self.played.append(entry)
        return FakeHandle(self, entry)

    def stop(self) -> None:
        self.stops.append(self.clock.t)
        for p in self.played:
            if p.stopped_at is None and self.clock.t < p.at + len(p.samples) / RATE:
                p.stopped_at = self.clock.t

    def close(self) -> None:
        self.stop()


class RecordingView:
    def __init__(self) -> None:
        self.states: list[PlayState] = []
        self.notes: list[str] = []

    def update(self, state: PlayState) -> None:
        self.states.append(state)

    def note(self, message: str) -> None:
        self.notes.append(message)

    def close(self) -> None:
        pass


def speech(start_s: float, dur_s: float, step: int, text: str = "words") -> Event:
    return Event("speech", round(start_s * US), round(dur_s * US), step, text=text)


def silence(start_s: float, dur_s: float, step: int) -> Event:
    return Event("silence", round(start_s * US), round(dur_s * US), step)


class FakeSource:
    """Steps laid out from (kind, seconds) lists; audio is a ramp that identifies the frame."""

    title = "Test routine"

    def __init__(self, steps: list[list[tuple[str, float]]] | list[list[tuple[str, float, str]]],
                 *, spans: bool = False) -> None:
        self.audio: list[np.ndarray] = []
        self.prepared: list[PreparedStep] = []
        t = 0.0
        for index, parts in enumerate(steps):
            events = []
            start = t
            for kind, seconds, *role in parts:
                make = speech if kind == "speech" else silence
                event = make(t, seconds, index)
                events.append(replace(event, role=role[0]) if role else event)
                t += seconds
            duration = round((t - start) * US)
            step = Step(index, f"Step title {index}", "say" if index else "intro",
                        round(start * US), duration)
            frames = round((t - start) * RATE)
            audio = np.arange(frames, dtype=np.int64).astype(np.int16)  # identity only via address
            self.audio.append(audio)
            prepared = PreparedStep(step, self._renderer(index, round(start * US)), RATE)
            span_list = (Span("hold", step.start_us, duration, index, "both"),) if spans else ()
            prepared.publish(Progress(step, tuple(events), span_list, duration, True))
            self.prepared.append(prepared)
        self.total = round(t * US)
        self.asked: list[int] = []
        self.prefetched: list[int] = []

    def _renderer(self, index: int, start_us: int):  # type: ignore[no-untyped-def]
        def render(events: tuple[Event, ...], a_us: int, b_us: int) -> np.ndarray:
            a = (a_us - start_us) * RATE // US
            b = (b_us - start_us) * RATE // US
            return self.audio[index][a:b]

        return render

    def count(self) -> int:
        return len(self.prepared)

    def step(self, index: int) -> PreparedStep:
        self.asked.append(index)
        return self.prepared[index]

    def prefetch(self, index: int) -> None:
        self.prefetched.append(index)

    def total_us(self) -> tuple[int, bool]:
        return self.total, True

    def outline(self, index: int) -> tuple[Step, bool]:
        return self.prepared[index].progress().step, True

    def close(self) -> None:
        pass

    def where(self, samples: np.ndarray) -> tuple[int, float]:
        """(step, seconds into the step) of a played block's first frame."""
        for index, audio in enumerate(self.audio):
            if np.shares_memory(samples, audio):
                offset = (samples.__array_interface__["data"][0]
                          - audio.__array_interface__["data"][0]) // audio.itemsize
                return index, offset / RATE
        raise AssertionError("block does not come from any step")


def run(source: FakeSource, script: list[tuple[float, Command]] | None = None, *,
        start: int = 0, preview: bool = False, prelude: int | None = None,
        ) -> tuple[Outcome, FakeOutput, RecordingView, FakeClock]:
    clock = FakeClock()
    origin = clock.t
    controls = FakeControls(clock, [(origin + at, cmd) for at, cmd in (script or [])])
    output = FakeOutput(clock)
    view = RecordingView()
    outcome = Player(source, output, view, controls, clock).run(start, preview=preview,
                                                                prelude=prelude)
    return outcome, output, view, clock


def heard(source: FakeSource, output: FakeOutput) -> list[tuple[float, int, float]]:
    """(seconds since the session began, step, seconds into the step) for every block started."""
    origin = 100.0
    return [(round(p.at - origin, 3), *source.where(p.samples)) for p in output.played]


# ---- the tests ---------------------------------------------------------------------------------

THREE_STEPS = [
    [("speech", 2.0), ("silence", 1.0)],
    [("speech", 1.5), ("silence", 4.0), ("speech", 1.0)],
    [("speech", 2.5)],
]


def test_steps_play_back_to_back_on_the_clock() -> None:
    source = FakeSource(THREE_STEPS)
    outcome, output, view, _clock = run(source)
    assert outcome is Outcome.FINISHED
    assert heard(source, output) == [(0.0, 0, 0.0), (3.0, 1, 0.0), (9.5, 2, 0.0)]
    assert output.stops == []  # nothing was cut short
    assert view.states[-1].status == "finished"


def test_long_step_is_split_inside_silence_and_each_block_starts_on_time() -> None:
    hold = [("speech", 1.0), ("silence", 29.0), ("speech", 1.0), ("silence", 29.0),
            ("speech", 1.0), ("silence", 5.0)]
    source = FakeSource([hold])
    _, output, _, _ = run(source)
    # Cuts fall inside silences (never in speech), at least 30 s apart, each block on time.
    assert heard(source, output) == [(0.0, 0, 0.0), (31.3, 0, 31.3), (61.3, 0, 61.3)]
    total = sum(len(p.samples) for p in output.played)
    assert total == len(source.audio[0])  # no frame lost or doubled


def test_a_long_pause_is_played_in_short_blocks() -> None:
    source = FakeSource([[("speech", 1.0)], [("silence", 600.0)], [("speech", 1.0)]])
    _, output, _, _ = run(source)
    starts = heard(source, output)
    pause = [(at, offset) for at, step, offset in starts if step == 1]
    assert len(pause) == 20
    assert all(at == 1.0 + offset for at, offset in pause)
    assert max(len(p.samples) for p in output.played) <= 30.5 * RATE
    assert starts[-1] == (601.0, 2, 0.0)


def test_pause_stops_the_clock_and_resume_continues_from_the_same_moment() -> None:
    source = FakeSource(THREE_STEPS)
    # Pause in the silence of step 1 (1.5 s of speech, then 4 s of silence), resume 10 s later.
    _, output, view, _clock = run(source, [(5.0, Command.TOGGLE_PAUSE),
                                          (15.0, Command.TOGGLE_PAUSE)])
    assert 5.0 in [round(s - 100.0, 3) for s in output.stops]
    assert heard(source, output) == [(0.0, 0, 0.0), (3.0, 1, 0.0), (15.0, 1, 2.0),
                                     (19.5, 2, 0.0)]
    assert any(s.status == "paused" for s in view.states)
    # While paused, the session position does not move.
    paused = [s.elapsed_us for s in view.states if s.status == "paused"]
    assert len(set(paused)) == 1


def test_resume_inside_an_utterance_says_it_again_from_its_start() -> None:
    source = FakeSource(THREE_STEPS)
    _, output, _, _ = run(source, [(3.8, Command.TOGGLE_PAUSE), (6.0, Command.TOGGLE_PAUSE)])
    assert heard(source, output)[2] == (6.0, 1, 0.0)


def test_next_skips_to_the_following_step_at_once() -> None:
    source = FakeSource(THREE_STEPS)
    _, output, view, _ = run(source, [(1.0, Command.NEXT)])
    assert heard(source, output) == [(0.0, 0, 0.0), (1.0, 1, 0.0), (7.5, 2, 0.0)]
    assert output.played[0].stopped_at == 101.0
    assert any("skipped" in n for n in view.notes)


def test_next_on_the_last_step_ends_the_session() -> None:
    source = FakeSource(THREE_STEPS)
    outcome, output, _, _ = run(source, [(10.0, Command.NEXT)])
    assert outcome is Outcome.FINISHED
    assert heard(source, output)[-1] == (9.5, 2, 0.0)


def test_back_late_in_a_step_restarts_it() -> None:
    source = FakeSource(THREE_STEPS)
    _, output, _, _ = run(source, [(7.0, Command.PREVIOUS)])  # 4 s into step 1
    assert heard(source, output)[:3] == [(0.0, 0, 0.0), (3.0, 1, 0.0), (7.0, 1, 0.0)]


def test_back_early_in_a_step_goes_to_the_previous_one() -> None:
    source = FakeSource(THREE_STEPS)
    _, output, _, _ = run(source, [(4.0, Command.PREVIOUS)])  # 1 s into step 1
    assert heard(source, output)[:3] == [(0.0, 0, 0.0), (3.0, 1, 0.0), (4.0, 0, 0.0)]


def test_back_on_the_first_step_restarts_it() -> None:
    source = FakeSource(THREE_STEPS)
    _, output, _, _ = run(source, [(1.0, Command.PREVIOUS)])
    assert heard(source, output)[:2] == [(0.0, 0, 0.0), (1.0, 0, 0.0)]


def test_from_starts_at_the_given_step() -> None:
    source = FakeSource(THREE_STEPS)
    _, output, view, _ = run(source, start=1)
    assert heard(source, output) == [(0.0, 1, 0.0), (6.5, 2, 0.0)]
    assert view.states[0].step.index == 1


def test_from_still_begins_with_the_introduction_and_its_cautions() -> None:
    source = FakeSource(THREE_STEPS)
    _, output, _, _ = run(source, start=2, prelude=0)
    assert heard(source, output) == [(0.0, 0, 0.0), (3.0, 2, 0.0)]
    assert source.prefetched == [2]  # prepared while the introduction plays


def test_next_during_the_introduction_goes_to_the_chosen_step() -> None:
    source = FakeSource(THREE_STEPS)
    _, output, _, _ = run(source, [(1.0, Command.NEXT)], start=2, prelude=0)
    assert heard(source, output) == [(0.0, 0, 0.0), (1.0, 2, 0.0)]


def test_preview_has_no_introduction() -> None:
    source = FakeSource(THREE_STEPS)
    _, output, _, _ = run(source, start=2, preview=True, prelude=0)
    assert heard(source, output) == [(0.0, 2, 0.0)]


def test_quit_stops_the_sound_and_plays_nothing_more() -> None:
    source = FakeSource(THREE_STEPS)
    outcome, output, view, clock = run(source, [(4.0, Command.QUIT)])
    assert outcome is Outcome.QUIT
    assert heard(source, output) == [(0.0, 0, 0.0), (3.0, 1, 0.0)]
    assert output.played[-1].stopped_at == 104.0
    assert clock.t == 104.0
    assert view.states[-1].status == "stopped"


class FakeBed:
    """An ambience bed that is always audible: what the scheduler tells it, by clock time."""

    error = None

    def __init__(self) -> None:
        self.cuts: list[float] = []
        self.heard: list[tuple[float, float]] = []

    def audible_at(self, at_s: float) -> bool:
        return True

    def cut(self, at_s: float) -> None:
        self.cuts.append(round(at_s - 100.0, 3))

    def hear(self, key: object, start_s: float, end_s: float, kind: str) -> None:
        self.heard.append((round(start_s - 100.0, 3), round(end_s - 100.0, 3)))

    def change(self, at_s: float, ambience: object) -> None:
        pass

    def stop_at(self, at_s: float) -> None:
        pass


def test_over_a_bed_a_jump_waits_for_the_bed_to_come_down_before_the_voice() -> None:
    """After a skip (or resume) the first word waits BED_LEAD_S, and the bed is told of it at
    once, so that it is ducked when the word begins; on the beat nothing waits."""
    from voiceguide.player.scheduler import BED_LEAD_S

    source = FakeSource(THREE_STEPS)
    clock = FakeClock()
    controls = FakeControls(clock, [(101.0, Command.NEXT)])
    output = FakeOutput(clock)
    bed = FakeBed()
    Player(source, output, RecordingView(), controls, clock, bed=bed).run(0)  # type: ignore[arg-type]
    starts = heard(source, output)
    assert starts[0] == (0.0, 0, 0.0)
    assert starts[1] == (1.0 + BED_LEAD_S, 1, 0.0)  # the skip: after the lead-in
    assert starts[2] == (1.0 + BED_LEAD_S + 6.5, 2, 0.0)  # on the beat again
    assert 1.0 in bed.cuts  # what was planned past the skip is void
    assert (1.0 + BED_LEAD_S, 2.5 + BED_LEAD_S) in bed.heard  # told before it sounds


def test_quit_while_paused() -> None:
    source = FakeSource(THREE_STEPS)
    outcome, output, _, clock = run(source, [(1.0, Command.TOGGLE_PAUSE), (3.0, Command.QUIT)])
    assert outcome is Outcome.QUIT
    assert len(output.played) == 1 and clock.t == 103.0


def test_preview_plays_only_that_step() -> None:
    source = FakeSource(THREE_STEPS)
    outcome, output, view, _ = run(source, start=1, preview=True)
    assert outcome is Outcome.FINISHED
    assert heard(source, output) == [(0.0, 1, 0.0)]
    assert all(s.preview for s in view.states)


def test_bad_start_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        run(FakeSource(THREE_STEPS), start=3)


def test_view_shows_step_countdown_and_time_left() -> None:
    source = FakeSource([[("speech", 1.0)], [("silence", 10.0)]], spans=True)
    _, _, view, _ = run(source)
    mid = [s for s in view.states if s.step.index == 1 and s.status == "playing"
           and 4.0 * US <= s.position_us <= 6.0 * US]
    assert mid, "the view was not refreshed during a silent hold"
    state = mid[0]
    assert state.step_label == "Step 1 of 1"
    assert state.span is not None
    assert state.span_left_us == state.span.duration_us - state.position_us
    assert state.elapsed_us == 1 * US + state.position_us
    assert state.total_us == 11 * US


class GrowingSource(FakeSource):
    """Step 0 becomes available utterance by utterance, as the background synthesis would."""

    def __init__(self) -> None:
        super().__init__([[("speech", 1.0), ("speech", 1.0), ("speech", 1.0)]])
        self.full = self.prepared[0].progress()
        self.prepared[0] = PreparedStep(self.full.step, self._renderer(0, 0), RATE)
        self.ready_at = {0.0: 1, 0.5: 2, 3.0: 3}  # clock seconds -> utterances laid out
        self.tick(100.0)

    def tick(self, t: float) -> None:
        n = max(v for k, v in self.ready_at.items() if t - 100.0 >= k)
        events = self.full.events[:n]
        self.prepared[0].publish(Progress(self.full.step, events, (), events[-1].end_us,
                                          n == len(self.full.events)))


def test_a_step_starts_before_it_is_fully_prepared_and_waits_if_synthesis_lags() -> None:
    source = GrowingSource()
    clock = FakeClock()
    controls = FakeControls(clock, on_tick=source.tick)
    output = FakeOutput(clock)
    view = RecordingView()
    Player(source, output, view, controls, clock).run(0)
    starts = heard(source, output)
    assert starts[0] == (0.0, 0, 0.0)  # first utterance at once
    assert starts[1][1:] == (0, 1.0)  # second utterance straight after it
    assert starts[1][0] == 1.0
    # The third was not ready when due (at 2 s): the clock waited for it instead of cutting it.
    assert starts[2][1:] == (0, 2.0) and 3.0 <= starts[2][0] <= 3.02
    assert any(s.status == "preparing" for s in view.states)


class DrawOrder(RecordingView):
    """Records the clock and how many blocks had gone to the device at each update."""

    def __init__(self, output: FakeOutput) -> None:
        super().__init__()
        self.output = output
        self.drawn: list[tuple[float, int]] = []

    def update(self, state: PlayState) -> None:
        super().update(state)
        self.drawn.append((round(self.output.clock.t - 100.0, 3), len(self.output.played)))


def first_step_ready_after(seconds: float) -> tuple[FakeSource, FakeOutput, DrawOrder]:
    source = FakeSource(THREE_STEPS)
    full = source.prepared[0].progress()
    source.prepared[0] = PreparedStep(full.step, source._renderer(0, 0), RATE)

    def tick(t: float) -> None:
        if t - 100.0 >= seconds:
            source.prepared[0].publish(full)

    clock = FakeClock()
    output = FakeOutput(clock)
    view = DrawOrder(output)
    Player(source, output, view, FakeControls(clock, on_tick=tick), clock).run(0)
    return source, output, view


def test_nothing_is_drawn_before_the_first_word_unless_it_is_slow_to_come() -> None:
    """Drawing the view (and working out the session's length) would delay the first word: while
    the first step is being prepared nothing is drawn, unless that takes longer (a cold start of
    a slow voice), when "preparing" is drawn while the voice is synthesized."""
    source, output, view = first_step_ready_after(0.05)
    assert heard(source, output)[0][0] == pytest.approx(0.05, abs=0.011)
    assert view.drawn[0][1] == 1  # first drawn with the first block on the device
    assert view.states[0].status == "playing"

    source, output, view = first_step_ready_after(0.8)
    assert view.states[0].status == "preparing"
    assert 0.1 <= view.drawn[0][0] < 0.2 and view.drawn[0][1] == 0
    assert heard(source, output)[0][0] == pytest.approx(0.8, abs=0.011)


# A point pressed on the left, then on the right (as the point step lays it out): step 1 starts at
# 3 s; inside it the left side runs from 2 s ("Left side.") to the "Switch sides." cue at 14 s,
# the right side from there to the end of its release at 27 s.
ALTERNATE = [
    [("speech", 2.0), ("silence", 1.0)],
    [("speech", 2.0, "intro"), ("speech", 1.0, "side"), ("silence", 10.0, ""),
     ("speech", 1.0, "release"), ("speech", 1.0, "switch"), ("speech", 1.0, "side"),
     ("silence", 10.0, ""), ("speech", 1.0, "release")],
    [("speech", 2.0)],
]


def test_next_during_the_first_side_goes_to_the_other_side() -> None:
    source = FakeSource(ALTERNATE)
    _, output, view, _ = run(source, [(8.0, Command.NEXT)])  # 5 s into step 1: the left hold
    assert heard(source, output) == [(0.0, 0, 0.0), (3.0, 1, 0.0), (8.0, 1, 14.0), (21.0, 2, 0.0)]
    assert output.played[1].stopped_at == 108.0
    assert "on to the other side" in view.notes


def test_back_during_the_second_side_returns_to_the_first_side() -> None:
    source = FakeSource(ALTERNATE)
    _, output, view, _ = run(source, [(23.0, Command.PREVIOUS)])  # 20 s in: the right hold
    assert heard(source, output)[:3] == [(0.0, 0, 0.0), (3.0, 1, 0.0), (23.0, 1, 2.0)]
    assert "back to the first side" in view.notes


def test_next_before_the_sides_or_on_the_second_side_skips_the_point() -> None:
    source = FakeSource(ALTERNATE)
    _, output, _, _ = run(source, [(4.0, Command.NEXT)])  # still introducing the point
    assert heard(source, output) == [(0.0, 0, 0.0), (3.0, 1, 0.0), (4.0, 2, 0.0)]
    source = FakeSource(ALTERNATE)
    _, output, _, _ = run(source, [(8.0, Command.NEXT), (10.0, Command.NEXT)])
    assert heard(source, output) == [(0.0, 0, 0.0), (3.0, 1, 0.0), (8.0, 1, 14.0), (10.0, 2, 0.0)]


def test_back_on_the_first_side_still_restarts_the_point() -> None:
    source = FakeSource(ALTERNATE)
    _, output, _, _ = run(source, [(10.0, Command.PREVIOUS)])
    assert heard(source, output)[:3] == [(0.0, 0, 0.0), (3.0, 1, 0.0), (10.0, 1, 0.0)]


# ---- choosing a step ---------------------------------------------------------------------------

TITLES = ["Introduction", "Finding your landmarks", "BL23 Kidney Shu", "Closing", "Closing words"]


def test_resolve_step_by_number_and_title() -> None:
    assert resolve_step(TITLES, "2") == 2
    assert resolve_step(TITLES, "finding your LANDMARKS") == 1
    assert resolve_step(TITLES, "closing") == 3  # exact beats prefix
    assert resolve_step(TITLES, "kidney") == 2  # anywhere in the title


def test_resolve_step_errors_list_the_choices() -> None:
    with pytest.raises(UsageError, match="steps 0 to 4"):
        resolve_step(TITLES, "9")
    with pytest.raises(UsageError, match="several steps"):
        resolve_step(TITLES, "clos")
    with pytest.raises(UsageError, match="Finding your landmarks"):
        resolve_step(TITLES, "nope")


# ---- keys ----------------------------------------------------------------------------------------


def test_keys_map_to_commands_and_arrows_split_across_reads() -> None:
    commands, rest = parse_keys(" nPq\x1b[C\x1bOD")
    assert commands == [Command.TOGGLE_PAUSE, Command.NEXT, Command.PREVIOUS, Command.QUIT,
                        Command.NEXT, Command.PREVIOUS]
    assert rest == ""
    commands, rest = parse_keys("x\x1b[")
    assert commands == [] and rest == "\x1b["
    commands, rest = parse_keys(rest + "D\x1b[A")  # up arrow does nothing
    assert commands == [Command.PREVIOUS] and rest == ""


def test_key_reader_reads_single_keys_and_restores_the_terminal() -> None:
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "r", closefd=False) as stream:
            before = termios.tcgetattr(slave)
            with pytest.raises(RuntimeError), KeyReader(stream) as keys:
                assert not termios.tcgetattr(slave)[3] & termios.ICANON  # keys without Enter
                os.write(master, b"n")
                assert keys.wait(1.0) is Command.NEXT
                os.write(master, b"\x1b[D ")
                assert keys.wait(1.0) is Command.PREVIOUS
                assert keys.wait(1.0) is Command.TOGGLE_PAUSE
                assert keys.wait(0.01) is None
                raise RuntimeError("boom")  # the terminal must come back even so
            assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


# ---- plain view ------------------------------------------------------------------------------------


def test_plain_view_writes_one_timestamped_line_per_change() -> None:
    out = io.StringIO()
    view = PlainView(out)
    point = PointInfo("BL23", "Kidney Shu", "Shenshu", "At waist level.", "together")
    step = Step(2, "BL23 Kidney Shu", "point", 60 * US, 90 * US, point)
    said = speech(60.0, 1.0, 2, "Press now.")
    hold = Span("hold", 60 * US, 60 * US, 2, "both")
    for pos in (0, 100_000, 200_000):
        view.update(PlayState("T", step, 5, pos, 60 * US + pos, 600 * US, False, "playing",
                              event=said, span=hold))
    view.update(PlayState("T", step, 5, 300_000, 60 * US + 300_000, 600 * US, False, "paused"))
    lines = out.getvalue().splitlines()
    assert lines[0] == "[ 1:00.0] Step 2 of 4: BL23 Kidney Shu"
    assert "Kidney Shu" in lines[1] and "At waist level." in lines[1]
    assert lines[2] == "[ 1:00.0]   Hold (both sides) 60 s"
    assert lines[3] == "[ 1:00.0]   “Press now.”"
    assert lines[4] == "[ 1:00.3] paused"
    assert len(lines) == 5


# A tiny job-control shell: runs the key reader as a foreground job, reports the terminal mode
# when the job stops (Ctrl-Z), then resumes it like `fg`.
SHELL = """
import os, signal, sys, termios, time
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
job = os.fork()
if job == 0:
    os.setpgid(0, 0)
    os.tcsetpgrp(0, os.getpgrp())
    signal.signal(signal.SIGTTOU, signal.SIG_DFL)
    from voiceguide.player.keys import KeyReader
    with KeyReader() as keys:
        print("ready", flush=True)
        command = None
        while command is None:
            command = keys.wait(0.1)
        print("got", command.value, flush=True)
    os._exit(0)
os.setpgid(job, job)
while True:
    _, status = os.waitpid(job, os.WUNTRACED)
    if os.WIFSTOPPED(status):
        os.tcsetpgrp(0, os.getpgrp())
        canonical = bool(termios.tcgetattr(0)[3] & termios.ICANON)
        print("stopped canonical=%s" % canonical, flush=True)
        time.sleep(0.2)
        os.tcsetpgrp(0, job)
        os.killpg(job, signal.SIGCONT)
        print("continued", flush=True)
    else:
        print("exit", os.waitstatus_to_exitcode(status), flush=True)
        break
"""


def test_ctrl_z_gives_the_shell_a_normal_terminal_and_fg_brings_the_keys_back() -> None:
    import sys
    import time

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execv(sys.executable, [sys.executable, "-c", SHELL])
    seen = bytearray()

    def read_until(text: str) -> None:
        deadline = time.monotonic() + 20
        while text.encode() not in seen and time.monotonic() < deadline:
            import select

            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    seen.extend(os.read(fd, 1024))
                except OSError:
                    break
        assert text.encode() in seen, seen.decode(errors="replace")

    try:
        read_until("ready")
        assert not termios.tcgetattr(fd)[3] & termios.ICANON  # keys arrive one by one
        os.write(fd, b"\x1a")  # Ctrl-Z
        read_until("stopped canonical=True")  # the shell got its line editing back
        read_until("continued")
        deadline = time.monotonic() + 10
        while termios.tcgetattr(fd)[3] & termios.ICANON and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not termios.tcgetattr(fd)[3] & termios.ICANON  # and the keys work again
        os.write(fd, b"q")
        read_until("got quit")
        read_until("exit 0")
    finally:
        os.close(fd)
        os.waitpid(pid, 0)


# ---- the real source: same timeline and same samples as show/export -------------------------------


@pytest.mark.engine
@pytest.mark.parametrize("then", ["it sounds", "the player moves on"])
def test_the_preparing_thread_stands_back_until_the_first_words_sound(
    then: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On two cores, laying out the next steps while the first block goes to the device delays
    the first word: the source prepares nothing more until the player has handed it over, or
    has moved on to another step (``n``, ``--resume``), which must not wait for it."""
    import time
    from pathlib import Path

    from voiceguide.player import source as source_module
    from voiceguide.routine.loader import load_routine
    from voiceguide.routine.voice import voice_settings

    monkeypatch.setattr(source_module, "FIRST_WORDS_WAIT_S", 120.0)  # only the player ends it
    routine = load_routine(Path(__file__).parent / "data" / "play" / "short.yaml")
    source = source_module.SessionSource(routine, voice_settings(routine))

    def until(done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 60
        while not done():
            assert time.monotonic() < deadline
            time.sleep(0.005)

    try:
        first = source.step(0)
        until(lambda: first.progress().ready_us > 0)
        time.sleep(0.1)
        assert 1 not in source._steps  # nothing else prepared yet
        if then == "it sounds":
            first.sounding.set()  # what the player does once the block is on the device
            until(lambda: 1 in source._steps and source._steps[1].progress().complete)
        else:
            second = source.step(2)
            until(lambda: second.progress().complete)
    finally:
        source.close()


@pytest.mark.engine
@pytest.mark.parametrize("name", ["short.yaml", "tails.yaml"])
def test_played_steps_are_the_export_audio_and_the_show_timeline(name: str) -> None:
    import time
    from pathlib import Path

    from voiceguide.pipeline import build_timeline
    from voiceguide.player.source import SessionSource
    from voiceguide.routine.loader import load_routine
    from voiceguide.routine.voice import voice_settings

    routine_path = Path(__file__).parent / "data" / "play" / name
    routine = load_routine(routine_path)
    source = SessionSource(routine, voice_settings(routine))
    played: list[np.ndarray] = []
    events: list[Event] = []
    blocks_per_step: list[int] = []
    try:
        for index in range(source.count()):
            prepared = source.step(index)
            deadline = time.monotonic() + 60
            while not prepared.progress().complete and time.monotonic() < deadline:
                time.sleep(0.01)
            progress = prepared.progress()
            assert progress.complete
            events.extend(progress.events)
            cursor = 0
            blocks_per_step.append(0)
            while cursor < progress.step.duration_us:  # block by block, as the player plays
                blocks_per_step[-1] += 1
                got = prepared.block(cursor)
                assert got is not None
                cursor, samples = got
                played.append(samples)
    finally:
        source.close()
    timeline = build_timeline(routine_path)  # what `show --json` prints (same speech cache)
    assert tuple(events) == timeline.events
    exported = renderer_for(timeline).render()  # what `export` renders, before normalising
    # The player raises it by its fixed gain (the export measures and normalises instead).
    assert np.array_equal(np.concatenate(played), with_gain(exported, LIVE_GAIN_DB))
    assert LIVE_GAIN_DB != 0 and not np.array_equal(with_gain(exported, LIVE_GAIN_DB), exported)
    if name == "tails.yaml":
        assert max(blocks_per_step) >= 2  # long steps were cut, and still joined seamlessly


def test_the_view_follows_the_points_of_a_section() -> None:
    first = PointInfo("LI4", "Union Valley", "Hegu", "Back of the hand.", "together")
    second = PointInfo("PC6", "Inner Gate", "Neiguan", "Inside of the wrist.", "together")
    step = Step(1, "Hands", "section", 0, 40 * US)
    prepared = PreparedStep(step, lambda events, a, b: np.zeros(0, np.int16), RATE)
    spans = (Span("hold", 5 * US, 10 * US, 1, "both", first),
             Span("hold", 25 * US, 10 * US, 1, "both", second))
    prepared.publish(Progress(step, (), spans, 40 * US, True))
    assert prepared.point_at(0) == first  # introduced before its hold
    assert prepared.point_at(10 * US) == first  # held
    assert prepared.point_at(16 * US) == second  # the next one is being introduced
    assert prepared.point_at(39 * US) == second  # after the last hold

    out = io.StringIO()
    view = PlainView(out)
    for pos, point in ((0, first), (16 * US, second)):
        view.update(PlayState("T", step, 3, pos, pos, 60 * US, False, "playing", point=point))
    lines = out.getvalue().splitlines()
    assert [ln for ln in lines if "point" in ln] == [
        "[ 0:00.0]   point LI4 (Union Valley, Hegu): Back of the hand.",
        "[ 0:16.0]   point PC6 (Inner Gate, Neiguan): Inside of the wrist.",
    ]


def test_the_breathing_cycle_is_counted_within_one_exercise() -> None:
    step = Step(1, "Breathe", "section", 0, 40 * US)
    prepared = PreparedStep(step, lambda events, a, b: np.zeros(0, np.int16), RATE)
    phases = ("inhale", "hold-in", "exhale")
    first = [Span(k, (3 * c + i) * US, US, 1) for c in range(3) for i, k in enumerate(phases)]
    second = [Span(k, (20 + 3 * c + i) * US, US, 1) for c in range(2) for i, k in enumerate(phases)]
    prepared.publish(Progress(step, (), (*first, *second), 40 * US, True))
    assert prepared.cycle_at(0) == (1, 3)
    assert prepared.cycle_at(round(7.5 * US)) == (3, 3)  # the exhale of the third cycle
    assert prepared.cycle_at(10 * US) is None  # between the two exercises
    assert prepared.cycle_at(round(23.5 * US)) == (2, 2)  # the second exercise counts anew


def test_the_player_reports_where_to_go_on_and_the_time_played() -> None:
    source = FakeSource(THREE_STEPS)
    clock = FakeClock()
    script = [(105.0, Command.TOGGLE_PAUSE), (115.0, Command.TOGGLE_PAUSE), (117.0, Command.QUIT)]
    player = Player(source, FakeOutput(clock), RecordingView(), FakeControls(clock, script), clock)
    assert player.run(0) is Outcome.QUIT
    assert player.resume_step == 1 and player.intro_heard  # step 0 was heard to its end
    assert player.played_s == pytest.approx(7.0)  # 17 s in all, 10 of them paused

    source = FakeSource(THREE_STEPS)
    clock = FakeClock()
    player = Player(source, FakeOutput(clock), RecordingView(),
                    FakeControls(clock, [(101.0, Command.QUIT)]), clock)
    player.run(2, prelude=0)  # quit in the introduction played before --from 2
    assert player.resume_step == 2 and not player.intro_heard


@pytest.mark.engine
def test_the_session_length_is_measured_once_the_speech_cache_has_it() -> None:
    import time
    from pathlib import Path

    from voiceguide.pipeline import build_timeline
    from voiceguide.player.source import SessionSource
    from voiceguide.routine.loader import load_routine
    from voiceguide.routine.voice import voice_settings

    routine_path = Path(__file__).parent / "data" / "play" / "short.yaml"
    routine = load_routine(routine_path)

    def settled(source: SessionSource) -> tuple[int, bool]:
        source.step(0)  # starts the worker; it measures the rest while idle
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if source.lengths_settled:
                break
            time.sleep(0.02)
        return source.total_us()

    fresh = SessionSource(routine, voice_settings(routine))
    try:
        _, exact = settled(fresh)
        assert not exact  # nothing cached yet beyond step 0: an estimate, shown as "about"
    finally:
        fresh.close()
    exported = build_timeline(routine_path)  # synthesizes everything into the cache, as export does
    cached = SessionSource(routine, voice_settings(routine))
    try:
        total, exact = settled(cached)
        assert exact and total == exported.total_us  # the length the export really has
        step, step_exact = cached.outline(3)
        assert step_exact and step.duration_us == exported.steps[3].duration_us
    finally:
        cached.close()


def test_the_cautions_print_once_the_first_block_is_playing_and_before_anything_else() -> None:
    """`play` hands the cautions to a view that prints them at its first update: the first
    word is not kept waiting for them, and no line, note or panel comes before them."""
    from voiceguide.player.session import _CautionsFirst

    clock = FakeClock()
    output = FakeOutput(clock)
    inner = RecordingView()
    shown: list[tuple[int, int, int]] = []  # (blocks played, updates, notes) when printed

    def printer(seen: RecordingView) -> Callable[[], None]:
        return lambda: shown.append((len(output.played), len(seen.states), len(seen.notes)))

    view = _CautionsFirst(inner, printer(inner))
    source = FakeSource(THREE_STEPS)
    Player(source, output, view, FakeControls(clock, []), clock).run(0)
    view.close()
    assert shown == [(1, 0, 0)]
    assert heard(source, output)[0] == (0.0, 0, 0.0)

    ended_early = RecordingView()
    view = _CautionsFirst(ended_early, printer(ended_early))
    view.note("--skip-intro: the cautions are spoken this time")
    view.close()
    assert shown[1:] == [(len(output.played), 0, 0)] and ended_early.notes  # before the note
