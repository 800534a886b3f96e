"""The live ambience bed (voiceguide.player.bed): ducked ahead of speech, rewritten on a pause.

The stream is a real :class:`~voiceguide.audio.device.Reel` written by the real writer thread on
the real clock; only simpleaudio is replaced, by one that notes when the stream starts, so that
frame ``k`` of the reel is what a listener hears ``k / rate`` seconds after that moment. The
end-to-end tests in test_play_e2e.py play the same through PulseAudio.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from voiceguide.audio.device import Reel
from voiceguide.player.bed import LiveBed
from voiceguide.routine.ambience import Ambience

RATE = 22050
TONE_HZ = 200.0
AMPLITUDE = 0.5
VOLUME_DB = -12.0
FULL_DB = 20 * np.log10(AMPLITUDE / np.sqrt(2)) + VOLUME_DB  # the bed's RMS level, undisturbed
# The steepest a 200 Hz tone moves between two samples: a click is a larger step than this.
MAX_STEP = AMPLITUDE * 10 ** (VOLUME_DB / 20) * 2 * np.pi * TONE_HZ / RATE * 1.05 + 2 / 32768


class ToneBed:
    """A steady tone, so any change of level is the bed's own gain."""

    def render(self, start: int, n: int) -> np.ndarray:
        t = (np.arange(start, start + n) / RATE).astype(np.float64)
        return (AMPLITUDE * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)


class NotingSimpleaudio:
    """simpleaudio's play_buffer, without a device: notes when the stream starts."""

    def __init__(self) -> None:
        self.started_at: float | None = None

    def play_buffer(self, *_: Any) -> Any:
        self.started_at = time.monotonic()
        return self

    def is_playing(self) -> bool:
        return True

    def stop(self) -> None:
        pass


class Output:
    def __init__(self) -> None:
        self.sa = NotingSimpleaudio()
        self.reels: list[Reel] = []

    def reel(self, frames: int, channels: int, sample_rate: int) -> Reel:
        reel = Reel(self.sa, frames, channels, sample_rate)
        self.reels.append(reel)
        return reel


def new_bed() -> tuple[Output, LiveBed, float]:
    """A bed on a noting output, and the clock time it was made at."""
    output = Output()
    bed = LiveBed(output, lambda spec, rate: ToneBed(), sample_rate=RATE, channels=1, length_s=30)  # type: ignore[arg-type,return-value]
    return output, bed, time.monotonic()


AMBIENCE = Ambience("tone", volume_db=VOLUME_DB, duck_db=9.0, fade_us=400_000)


class Heard:
    """What the listener hears at each moment (seconds on the clock)."""

    def __init__(self, output: Output) -> None:
        assert output.sa.started_at is not None, "the bed never started"
        self.t0 = output.sa.started_at
        self.x = output.reels[0].samples.astype(np.float64) / 32768.0

    def level_db(self, a: float, b: float) -> float:
        lo, hi = max(round((a - self.t0) * RATE), 0), round((b - self.t0) * RATE)
        part = self.x[lo:hi]
        return float(10 * np.log10(max(np.mean(part**2), 1e-14)))

    def max_step(self, a: float, b: float) -> float:
        lo, hi = max(round((a - self.t0) * RATE), 0), round((b - self.t0) * RATE)
        return float(np.max(np.abs(np.diff(self.x[lo:hi]))))


def wait_until(t: float) -> None:
    time.sleep(max(0.0, t - time.monotonic()))


@pytest.mark.slow
def test_the_bed_is_down_before_the_first_word_and_back_up_after_it() -> None:
    output, bed, now = new_bed()
    bed.change(now, AMBIENCE)
    bed.hear("sentence", now + 1.5, now + 2.5, "speech")
    bed.hear("chime", now + 4.0, now + 4.3, "sound")
    wait_until(now + 5.0)
    bed.close()
    heard = Heard(output)
    assert abs(heard.level_db(now + 0.7, now + 1.0) - FULL_DB) < 0.3
    # Down by the full 9 dB from the first word on (the attack was scheduled ahead) ...
    assert abs(heard.level_db(now + 1.5, now + 1.55) - (FULL_DB - 9)) < 0.5
    assert abs(heard.level_db(now + 1.6, now + 2.5) - (FULL_DB - 9)) < 0.3
    # ... back up once the release has run out, and a chime ducks it half as deep.
    assert abs(heard.level_db(now + 3.5, now + 3.6) - FULL_DB) < 0.3
    assert abs(heard.level_db(now + 4.0, now + 4.3) - (FULL_DB - 4.5)) < 0.5
    assert heard.max_step(now + 0.5, now + 4.8) < MAX_STEP  # no click anywhere


@pytest.mark.slow
def test_a_pause_brings_the_bed_back_up_smoothly_from_where_it_was() -> None:
    output, bed, now = new_bed()
    bed.change(now, AMBIENCE)
    bed.hear("long sentence", now + 1.0, now + 6.0, "speech")  # planned: down until 6 s
    wait_until(now + 2.0)
    bed.cut(time.monotonic())  # the listener pauses: nothing planned after now will sound
    wait_until(now + 4.5)
    bed.close()
    heard = Heard(output)
    assert abs(heard.level_db(now + 1.2, now + 2.0) - (FULL_DB - 9)) < 0.3
    assert abs(heard.level_db(now + 3.8, now + 4.3) - FULL_DB) < 0.3  # up again in the pause
    assert heard.max_step(now + 0.5, now + 4.4) < MAX_STEP  # rewritten ahead without a click


@pytest.mark.slow
def test_off_fades_the_bed_out_and_closing_fades_what_is_left() -> None:
    output, bed, now = new_bed()
    bed.change(now, AMBIENCE)
    bed.change(now + 1.5, Ambience("off", fade_us=400_000))
    bed.change(now + 2.5, AMBIENCE)
    wait_until(now + 3.5)
    bed.close()  # while it plays: a quick fade, not a cut
    heard = Heard(output)
    assert heard.level_db(now + 1.8, now + 2.2) < -80  # off between the two
    assert abs(heard.level_db(now + 2.8, now + 3.4) - FULL_DB) < 0.3
    assert heard.max_step(now + 0.5, now + 4.5) < MAX_STEP
    end = len(heard.x) - np.argmax(heard.x[::-1] != 0)  # the last sound written
    assert (end / RATE) + heard.t0 < time.monotonic() + 0.1  # nothing left to sound after close


@pytest.mark.slow
def test_the_end_fades_the_bed_out_by_the_last_moment_and_closing_then_changes_nothing() -> None:
    output, bed, now = new_bed()
    slow = Ambience("tone", volume_db=VOLUME_DB, duck_db=9.0, fade_us=1_000_000)
    bed.change(now, slow)
    bed.stop_at(now + 3.0)  # told as soon as the last step is laid out
    wait_until(now + 3.1)
    bed.close()  # the session has ended: nothing left to fade
    heard = Heard(output)
    assert abs(heard.level_db(now + 1.3, now + 1.9) - FULL_DB) < 0.3
    assert heard.level_db(now + 2.3, now + 2.7) < FULL_DB - 3  # fading out over the last second
    assert heard.level_db(now + 3.0, now + 3.5) < -80  # silent from the end on
    assert heard.max_step(now + 0.2, now + 3.5) < MAX_STEP


@pytest.mark.slow
def test_quitting_in_the_middle_of_a_fade_in_fades_out_without_a_click() -> None:
    output, bed, now = new_bed()
    bed.change(now + 0.5, Ambience("tone", volume_db=VOLUME_DB, duck_db=9.0, fade_us=3_000_000))
    wait_until(now + 1.5)  # the fade-in is under way, its middle still ahead
    bed.close()
    closed = time.monotonic()
    heard = Heard(output)
    assert heard.level_db(closed + 0.7, closed + 1.5) < -80  # quiet soon after
    assert heard.max_step(now, closed + 1.5) < MAX_STEP
