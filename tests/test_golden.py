"""Golden files: each tests/golden/NAME.yaml compiles (with estimated speech) to NAME.expected.

Run `pytest tests/test_golden.py --regen-golden` after an intended change, and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide.routine.loader import load_routine
from voiceguide.routine.voice import voice_settings
from voiceguide.timeline.compiler import compile_routine
from voiceguide.timeline.durations import EstimatedDurations
from voiceguide.timeline.model import Timeline

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p for p in GOLDEN.glob("*.yaml") if not p.name.startswith("_"))


def render_text(timeline: Timeline) -> str:
    """A reviewable, stable text form of a timeline."""
    lines = [f"title: {timeline.title}", f"total_us: {timeline.total_us}"]
    for step in timeline.steps:
        lines.append(f"step {step.index} [{step.kind}] {step.title!r} {step.start_us}+{step.duration_us}")
        for e in timeline.step_events(step.index):
            what = e.text or e.sound
            lines.append(f"  {e.start_us:>10} {e.duration_us:>9} {e.kind:<7} {e.role:<9} {what}".rstrip())
        for s in timeline.spans:
            if s.step == step.index:
                lines.append(f"  span {s.kind} {s.side or '-'} {s.start_us}+{s.duration_us}")
        for c in timeline.ambience:
            if c.step == step.index:
                a = c.ambience
                level = "" if a.off else f" {a.volume_db:g}dB duck {a.duck_db:g}dB fade {a.fade_us}"
                lines.append(f"  ambience {c.at_us} {a.sound}{level}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path, request: pytest.FixtureRequest) -> None:
    routine = load_routine(case)
    settings = voice_settings(routine)
    timeline = compile_routine(routine, EstimatedDurations(settings.rate, dict(routine.sounds)), settings)
    actual = render_text(timeline)
    expected_path = case.with_suffix(".expected")
    if request.config.getoption("--regen-golden") or not expected_path.exists():
        expected_path.write_text(actual, encoding="utf-8")
        if not request.config.getoption("--regen-golden"):
            pytest.fail(f"wrote missing golden file {expected_path.name}; review and commit it")
    assert actual == expected_path.read_text(encoding="utf-8")
