"""Semantics of the routine language that authors time their sessions by."""

from __future__ import annotations

from pathlib import Path

from voiceguide.pipeline import check_file, load_routine
from voiceguide.timeline.compiler import compile_routine
from voiceguide.timeline.durations import EstimatedDurations
from voiceguide.timeline.model import Timeline
from voiceguide.units import US


def compile_text(tmp_path: Path, text: str) -> Timeline:
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    routine = load_routine(path)
    return compile_routine(routine, EstimatedDurations(routine.voice.rate or 160, dict(routine.sounds)))


def test_count_cue_counts_whole_seconds_only(tmp_path: Path) -> None:
    t = compile_text(tmp_path, "title: T\nsteps:\n  - breathe: {pattern: 5.5-0-5.5, cycles: 1, cue: count}\n")
    said = [e.text for e in t.events if e.kind == "speech" and e.step == 1]
    assert said == ["In.", "two", "three", "four", "five", "Out.", "two", "three", "four", "five"]
    phases = [s for s in t.spans if s.step == 1]
    assert [(s.kind, s.duration_us) for s in phases] == [("inhale", 5_500_000), ("exhale", 5_500_000)]


def test_a_user_routine_can_include_shipped_fragments(tmp_path: Path) -> None:
    t = compile_text(tmp_path, "title: Mine\nsteps:\n  - say: Hello.\n  - include: _closing.yaml\n")
    assert len(t.steps) > 2


def test_problem_repeated_in_every_cycle_is_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("title: T\nsteps:\n  - breathe: {pattern: 0.5-0-4, cycles: 5}\n", encoding="utf-8")
    assert len(check_file(path)) == 1


def test_defaults_hold_wins_over_the_catalogue(tmp_path: Path) -> None:
    t = compile_text(
        tmp_path, "title: T\ndefaults: {hold: 45s}\nsteps:\n  - point: BL23\n  - point: LI4\n    hold: 20s\n"
    )
    assert [s.duration_us for s in t.spans if s.kind == "hold"] == [45 * US, 20 * US]


def test_avoid_removes_tagged_points_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("title: T\nsteps:\n  - point: LI4\n  - point: LI11\n", encoding="utf-8")
    routine = load_routine(path, avoid=["pregnancy"])
    assert routine.avoided == ("LI4",)
    t = compile_routine(routine, EstimatedDurations(160, dict(routine.sounds)))
    said = " ".join(e.text for e in t.events if e.kind == "speech")
    assert "leaves out points marked for pregnancy" in said
    assert [s.point.code for s in t.steps if s.point] == ["LI11"]


def test_a_mistyped_avoid_tag_suggests_the_right_one(tmp_path: Path) -> None:
    import pytest

    from voiceguide.errors import UsageError

    path = tmp_path / "r.yaml"
    path.write_text("title: T\nsteps:\n  - point: LI4\n", encoding="utf-8")
    with pytest.raises(UsageError, match="did you mean 'pregnancy'"):
        load_routine(path, avoid=["pregant"])


def test_a_phrase_override_must_keep_its_placeholders(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("title: T\nphrases:\n  welcome: 'Hello, {name}.'\n  time_left: '{time} to go.'\n"
                    "steps:\n  - say: Hi.\n", encoding="utf-8")
    problems = check_file(path)
    assert [(p.line, p.path, p.message) for p in problems] == [
        (3, "phrases.welcome", "the phrase must use exactly the placeholders ['title']")]
    t = compile_text(tmp_path, "title: T\nphrases:\n  welcome: 'Now: {title}'\nsteps:\n  - say: Hi.\n")
    assert t.events[0].text == "Now: T"
