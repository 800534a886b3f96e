"""`for:`, `unless_avoiding:` and `instead:`: what `--avoid` leaves out besides the points.

A listener who avoids a point must not hear the lead-ins that only made sense with it ("slide
your hands out"), must hear the replacement the author wrote, and must not get two guided
breaths in a row where the author put a point between them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide.errors import RoutineError
from voiceguide.pipeline import build_timeline, check_file, load_routine


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text("title: T\n" + body, encoding="utf-8")
    return path


def said(path: Path, *avoid: str) -> list[str]:
    """The routine's cautions as printed, then what its `say` steps speak."""
    t = build_timeline(path, avoid=avoid, estimate=True)
    return [*t.cautions, *(e.text for e in t.events if e.kind == "speech" and e.role == "say")]


ROUTINE = """\
cautions:
  - Always said.
  - text: Start with the option, avoid pregnancy, to leave them out.
    unless_avoiding: [pregnancy]
steps:
  - say: Find your navel.
    for: [CV6]
  - point: CV6
  - breathe: {pattern: 4-0-6, cycles: 1}
  - say: Lie on your back.
    unless_avoiding: [pregnancy]
    instead:
      - say: Stay sitting.
  - point: LI4
  - breathe: {pattern: 4-0-6, cycles: 1}
  - say: Your elbows and hands.
    for: [LI11, Hegu]
  - point: LI11
  - breathe: {pattern: 4-0-6, cycles: 1}
  - breathe: {pattern: 4-0-6, cycles: 2}
"""


def test_without_avoid_everything_written_plays(tmp_path: Path) -> None:
    path = write(tmp_path, ROUTINE)
    assert said(path) == [
        "Always said.",
        "Start with the option, avoid pregnancy, to leave them out.",
        "Find your navel.",
        "Lie on your back.",
        "Your elbows and hands.",
    ]


def test_avoid_leaves_out_lead_ins_uses_instead_and_drops_the_offer(tmp_path: Path) -> None:
    path = write(tmp_path, ROUTINE)
    assert said(path, "pregnancy") == [
        "Always said.",
        "Stay sitting.",
        "Your elbows and hands.",  # LI11 still follows it
    ]
    codes = [s.point.code for s in build_timeline(path, avoid=("pregnancy",), estimate=True).steps if s.point]
    assert codes == ["LI11"]


def test_a_gap_never_brings_two_breaths_together_but_written_ones_stay(tmp_path: Path) -> None:
    path = write(tmp_path, ROUTINE)
    t = build_timeline(path, avoid=("after-meals",), estimate=True)
    kinds = [s.kind for s in t.steps]
    # CV6 left out: "Find your navel" goes with it, and its breath would start the session
    # after nothing, so it stays (no breath before it); the author's two breaths at the end stay.
    assert kinds[1:] == ["breathe", "say", "point", "breathe", "say", "point", "breathe", "breathe"]
    t = build_timeline(
        write(
            tmp_path,
            """\
steps:
  - say: Begin.
  - breathe: {pattern: 4-0-6, cycles: 1}
  - point: CV6
  - breathe: {pattern: 4-0-6, cycles: 1}
  - point: LI11
""",
        ),
        avoid=("after-meals",),
        estimate=True,
    )
    assert [s.kind for s in t.steps][1:] == ["say", "breathe", "point"]


ERRORS = [
    (
        "steps:\n  - say: Hi.\n    for: [CV66]\n",
        "r.yaml:3:11: error: steps[0].for: unknown point 'CV66' "
        "(hint: did you mean CV6? `voiceguide points` lists them)",
    ),
    (
        "steps:\n  - say: Hi.\n    unless_avoiding: [pregnant]\n",
        "r.yaml:3:22: error: steps[0].unless_avoiding: unknown caution tag 'pregnant' "
        "(hint: did you mean 'pregnancy'? known tags: after-meals, artificial-hip, blood-thinners, "
        "broken-skin, pregnancy, varicose-veins)",
    ),
    (
        "steps:\n  - say: Hi.\n    instead:\n      - say: Ho.\n",
        "r.yaml:3:5: error: steps[0].instead: `instead:` replaces a step that `--avoid` leaves out, "
        "but nothing leaves this one out (hint: add `for: [CODE]` (the point it belongs to) or "
        "`unless_avoiding: [TAG]`)",
    ),
]


@pytest.mark.parametrize(("body", "message"), ERRORS)
def test_mistakes_are_reported_with_line_and_fix(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    formatted = [p.format().replace(str(path), "r.yaml") for p in check_file(path)]
    assert formatted == [message.replace("r.yaml:3", "r.yaml:4", 1)]
    with pytest.raises(RoutineError):
        load_routine(path)
