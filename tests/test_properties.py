"""Timeline invariants that must hold for any valid routine (hypothesis)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voiceguide.routine.loader import load_routine
from voiceguide.routine.voice import voice_settings
from voiceguide.timeline.compiler import compile_routine
from voiceguide.timeline.durations import EstimatedDurations
from voiceguide.timeline.model import Timeline
from voiceguide.units import US

words = st.sampled_from(["Relax", "your", "shoulders", "slowly", "breathe", "and", "rest", "softly"])
sentence = st.lists(words, min_size=1, max_size=12).map(lambda w: " ".join(w).capitalize() + ".")
seconds = st.integers(min_value=1, max_value=240)
phase = st.integers(min_value=2, max_value=8)

say = st.builds(lambda t: {"say": t}, sentence)
pause = st.builds(lambda s: {"pause": f"{s / 10}s"}, st.integers(1, 100))
breathe = st.builds(
    lambda i, h, o, c, cue: {"breathe": {"pattern": f"{i}-{h}-{o}", "cycles": c, "cue": cue}},
    phase,
    st.integers(0, 6),
    phase,
    st.integers(1, 3),
    st.sampled_from(["words", "count", "tones"]),
)
point = st.builds(
    lambda code, hold, sides, remind, countdown: {
        "point": code,
        "hold": f"{hold}s",
        "remind_every": f"{remind}s",
        "countdown": countdown,
        **({"sides": sides} if code != "GV3" else {}),
    },
    st.sampled_from(["BL23", "LI4", "GV3", "B47"]),
    st.integers(10, 180),
    st.sampled_from(["together", "alternate", "single"]),
    st.sampled_from([0, 15, 30, 60]),
    st.integers(0, 5),
)
sound = st.just({"sound": "bell"})
leaf = st.one_of(say, pause, breathe, point, sound)
step = st.one_of(
    leaf,
    st.builds(lambda t, s: {"section": t, "steps": s}, sentence, st.lists(leaf, min_size=1, max_size=3)),
    st.builds(
        lambda n, s: {"repeat": n, "steps": s}, st.integers(1, 3), st.lists(leaf, min_size=1, max_size=3)
    ),
)
routine_data = st.builds(
    lambda steps, rate: {"title": "Generated", "voice": {"rate": rate}, "steps": steps},
    st.lists(step, min_size=1, max_size=6),
    st.integers(120, 240),
)


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def compile_data(data: dict[str, Any], folder: Path) -> Timeline:
    path = folder / "gen.yaml"
    path.write_text(yaml.dump(data, Dumper=_NoAliases), encoding="utf-8")
    routine = load_routine(path)
    s = voice_settings(routine)
    return compile_routine(routine, EstimatedDurations(s.rate, dict(routine.sounds)), s)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(routine_data)
def test_timeline_invariants(tmp_path: Path, data: dict[str, Any]) -> None:
    timeline = compile_data(data, tmp_path)
    events = timeline.events
    # Events tile the session: sorted, contiguous, no gaps or overlaps, ending at the total.
    assert events[0].start_us == 0
    for a, b in itertools.pairwise(events):
        assert a.end_us == b.start_us
    assert events[-1].end_us == timeline.total_us
    assert sum(e.duration_us for e in events) == timeline.total_us
    assert all(e.duration_us > 0 for e in events)
    # Steps tile the session too, and each event belongs to the step whose span holds it.
    for a, b in zip(timeline.steps, timeline.steps[1:], strict=False):
        assert a.end_us == b.start_us
    assert timeline.steps[-1].end_us == timeline.total_us
    for e in events:
        s = timeline.steps[e.step]
        assert s.start_us <= e.start_us and e.end_us <= s.end_us
    # Holds last exactly what was asked, starting at the "press now" cue, ending at the chime.
    holds = [s for s in timeline.spans if s.kind == "hold"]
    press = [e for e in events if e.role == "press"]
    chimes = [e for e in events if e.role == "chime"]
    assert [e.start_us for e in press] == [h.start_us for h in holds]
    assert [e.start_us for e in chimes] == [h.end_us for h in holds]
    for h in holds:
        inside = [e for e in events if h.start_us <= e.start_us < h.end_us]
        assert inside and inside[-1].end_us == h.end_us  # nothing spoken runs past the hold


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(routine_data)
def test_compile_is_deterministic(tmp_path: Path, data: dict[str, Any]) -> None:
    assert compile_data(data, tmp_path) == compile_data(data, tmp_path)


def test_hold_durations_are_exact(tmp_path: Path) -> None:
    data = {"title": "T", "steps": [{"point": "LI4", "sides": "alternate", "hold": "1m30s"}]}
    timeline = compile_data(data, tmp_path)
    holds = [s for s in timeline.spans if s.kind == "hold"]
    assert [(h.side, h.duration_us) for h in holds] == [("left", 90 * US), ("right", 90 * US)]
    texts = [e.text for e in timeline.events if e.kind == "speech"]
    assert texts.count("Switch sides.") == 1
    assert texts.count("Three") == 0 and texts.count("three") == 2
