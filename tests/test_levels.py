"""The balance of a session's layers: what a listener hears against the voice.

Measured with pyloudnorm on the shipped sounds and on a shipped routine's own sentences
(tests/sound_levels.py; `python benchmarks/levels.py` prints the figures the docs quote).
"""

from __future__ import annotations

import pytest
from sound_levels import bed_loudness, cue_loudness, voice_loudness

from voiceguide.routine.ambience import BEDS, DEFAULT_VOLUME_DB

pytestmark = [pytest.mark.engine]

ALERTS = ("bell", "chime", "tick")  # short: they mark a moment
BREATH = ("inhale", "hold", "exhale")  # they go on for minutes


@pytest.fixture(scope="module")
def voice() -> float:
    return voice_loudness("lower-back-pain")


@pytest.fixture(scope="module")
def cues() -> dict[str, tuple[float, float]]:
    return cue_loudness()


def test_every_shipped_cue_sound_is_measured(cues: dict[str, tuple[float, float]]) -> None:
    assert set(cues) == set(ALERTS) | set(BREATH)


@pytest.mark.parametrize("name", ALERTS)
def test_a_chime_is_never_louder_than_the_voice(
    name: str, voice: float, cues: dict[str, tuple[float, float]]
) -> None:
    lufs, peak = cues[name]
    assert voice - 8.0 <= lufs <= voice, (name, lufs, voice)  # heard, but never startling
    assert peak <= -3.0, (name, peak)


@pytest.mark.parametrize("name", BREATH)
def test_breath_tones_sit_a_little_under_the_voice(
    name: str, voice: float, cues: dict[str, tuple[float, float]]
) -> None:
    lufs, peak = cues[name]
    assert voice - 4.0 <= lufs <= voice - 0.5, (name, lufs, voice)
    assert peak <= -3.0, (name, peak)


@pytest.mark.slow
@pytest.mark.parametrize("name", BEDS)
def test_a_bed_at_its_default_volume_is_far_under_the_voice(name: str, voice: float) -> None:
    lufs = bed_loudness(name) + DEFAULT_VOLUME_DB
    assert voice - 22.0 <= lufs <= voice - 15.0, (name, lufs, voice)  # there in pauses, not in words
