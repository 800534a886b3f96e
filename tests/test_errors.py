"""Exact error text, with line and column: what a routine author sees from `voiceguide check`."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide.errors import RoutineError
from voiceguide.pipeline import check_file, load_routine

CASES: list[tuple[str, str, list[str]]] = [
    (
        "ambience",
        "title: T\nambience: rian\nsteps:\n  - say: hi\n  - ambience: {sound: gone.mp3, volume: 22dB}\n",
        [
            "r.yaml:2:11: error: ambience: unknown ambience 'rian' (hint: did you mean 'rain'? "
            "shipped beds: rain, ocean, brown-noise, pink-noise, wind, drone; or a sound file, or off)",
            "r.yaml:5:23: error: steps[1].ambience: the ambience file gone.mp3 does not exist (hint: check "
            "the name (relative to the routine's folder), or use a shipped bed: rain, ocean, brown-noise, "
            "pink-noise, wind, drone)",
            "r.yaml:5:41: error: steps[1].ambience.volume: 22 dB is out of range "
            "(hint: a bed sits under the voice: write -22dB)",
        ],
    ),
    (
        "unknown-point",
        "title: T\nsteps:\n  - point: Shenshuu\n",
        [
            "r.yaml:3:12: error: steps[0].point: unknown point 'Shenshuu' (hint: did you mean BL23? "
            "`voiceguide points` lists the catalogue; a routine can add points under `points:`)"
        ],
    ),
    (
        "bad-duration",
        "title: T\nsteps:\n  - pause: a while\n",
        [
            "r.yaml:3:12: error: steps[0].pause: 'a while' is not a duration "
            "(hint: write it like 90s, 1m30s, 2 min, 1:30 (m:ss), 1.5m, 500ms or a number of seconds)"
        ],
    ),
    (
        "negative-and-typo",
        "title: T\nsteps:\n  - pause: -2\n  - sya: hello\n",
        [
            "r.yaml:3:12: error: steps[0].pause: -2 is negative (hint: durations must be positive)",
            "r.yaml:4:5: error: steps[1]: this step has no kind key "
            "(hint: did you mean 'say'? kinds: say, pause, breathe, point, sound, ambience, section, "
            "repeat, include)",
        ],
    ),
    (
        "missing-title-and-steps",
        "summary: nothing else\n",
        [
            "r.yaml:1:1: error: (top level): missing required key 'title' "
            "(hint: add `title:` (The routine's title, spoken at the start))",
            "r.yaml:1:1: error: (top level): missing required key 'steps' "
            "(hint: add `steps:` (What happens, in order))",
        ],
    ),
    (
        "duplicate-key",
        "title: T\ntitle: U\nsteps:\n  - say: hi\n",
        [
            "r.yaml:2:1: error: duplicate key 'title' (first written on line 1) "
            "(hint: remove one of them; YAML would silently keep only the last)"
        ],
    ),
    (
        "unknown-key-warning",
        "title: T\nsumary: x\nsteps:\n  - say: hi\n",
        ["r.yaml:2:1: warning: sumary: unknown key 'sumary' is ignored (hint: did you mean 'summary'?)"],
    ),
    (
        "wrong-type",
        "title: T\nvoice: {rate: fast}\nsteps:\n  - say: hi\n",
        ["r.yaml:2:15: error: voice.rate: expected a whole number, got text ('fast')"],
    ),
    (
        "cue-does-not-fit",
        "title: T\nsteps:\n  - breathe: {pattern: 0.5-0-4, cycles: 1}\n",
        [
            "r.yaml:3:5: error: Breathe 0.5-0-4 ×1: the cue 'Breathe in.' takes 1.12 s but only 0.50 s "
            "are free in the inhale phase "
            "(hint: lengthen the phase, use `cue: tones`, or raise the voice rate)"
        ],
    ),
    (
        "unsafe-tag",
        "title: !!python/object/apply:os.system [echo hi]\nsteps:\n  - say: hi\n",
        [
            "r.yaml:1:8: error: the tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed "
            "(hint: routines are plain data: remove the `!tag`)"
        ],
    ),
    (
        "alias-bomb",
        "a: &a [x, x]\nb: &b [*a, *a]\ntitle: T\nsteps:\n  - say: hi\n",
        [
            "r.yaml:2:8: error: YAML aliases (*name) are not allowed in routines "
            "(hint: write the value out, or use `repeat:` or `include:` to reuse steps)"
        ],
    ),
    (
        "tab-indent",
        "title: T\nsteps:\n\t- say: hi\n",
        [
            "r.yaml:3:1: error: invalid YAML: found character '\\t' that cannot start any token "
            "(hint: indent with spaces; YAML does not allow tabs)"
        ],
    ),
    (
        "midline-alternate",
        "title: T\nsteps:\n  - point: GV3\n    sides: alternate\n",
        [
            "r.yaml:3:12: error: steps[0].sides: GV3 is a single point on the midline; it has no sides "
            "(hint: remove `sides: alternate`)"
        ],
    ),
    (
        "unknown-sound",
        "title: T\nsteps:\n  - sound: gongg\n",
        None,  # checked below: message names the shipped sounds
    ),
]


@pytest.mark.parametrize("name,source,expected", CASES, ids=[c[0] for c in CASES])
def test_exact_messages(
    name: str, source: str, expected: list[str] | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("r.yaml").write_text(source, encoding="utf-8")
    messages = [p.format() for p in check_file(Path("r.yaml"))]
    if expected is None:
        assert len(messages) == 1 and "unknown sound 'gongg'" in messages[0]
        assert "bell" in messages[0] and messages[0].startswith("r.yaml:3:12: error:")
        return
    assert messages == expected


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    f = tmp_path / "many.yaml"
    f.write_text("title: T\nsteps:\n  - pause: 0\n  - point: NOPE\n  - breathe: 4-x-4\n", encoding="utf-8")
    problems = check_file(f)
    assert [p.line for p in problems] == [3, 4, 5]


def test_strict_promotes_warnings(tmp_path: Path) -> None:
    f = tmp_path / "w.yaml"
    f.write_text("title: T\ncolour: blue\nsteps:\n  - say: hi\n", encoding="utf-8")
    assert [p.severity for p in check_file(f)] == ["warning"]
    assert [p.severity for p in check_file(f, strict=True)] == ["error"]
    load_routine(f)  # warnings alone do not stop a routine
    with pytest.raises(RoutineError):
        load_routine(f, strict=True)


def test_include_may_not_leave_the_routine_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text("steps:\n  - say: secret\n", encoding="utf-8")
    inner = tmp_path / "routines"
    inner.mkdir()
    f = inner / "r.yaml"
    f.write_text("title: T\nsteps:\n  - include: ../secret.yaml\n", encoding="utf-8")
    (problem,) = check_file(f)
    assert "points outside the routine's folder" in problem.message and problem.line == 3


def test_include_cycle_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("title: A\nsteps:\n  - include: _b.yaml\n", encoding="utf-8")
    (tmp_path / "_b.yaml").write_text("steps:\n  - include: a.yaml\n", encoding="utf-8")
    (problem,) = check_file(tmp_path / "a.yaml")
    assert problem.message == "include cycle: a.yaml -> _b.yaml -> a.yaml"
    assert problem.file.endswith("_b.yaml") and problem.line == 2


def test_non_utf8_names_the_byte(tmp_path: Path) -> None:
    f = tmp_path / "latin1.yaml"
    f.write_bytes("title: Caf\u00e9\nsteps:\n  - say: hi\n".encode("latin-1"))
    (problem,) = check_file(f)
    assert (problem.line, problem.column) == (1, 11)
    assert "not valid UTF-8 (byte 0xe9)" in problem.message


def test_bom_is_accepted(tmp_path: Path) -> None:
    f = tmp_path / "bom.yaml"
    f.write_bytes(b"\xef\xbb\xbftitle: T\nsteps:\n  - say: hi\n")
    assert check_file(f) == []
