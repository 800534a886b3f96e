"""Hostile and broken routines: one clear positioned message each, never a traceback or side effect.

The corpus in tests/nasty/ holds the cases people (or attackers) actually produce; the hypothesis
tests throw random YAML and random routine-shaped data at loading, checking and compiling.
"""

from __future__ import annotations

import contextlib
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voiceguide.errors import RoutineError
from voiceguide.pipeline import check_file, load_routine
from voiceguide.timeline.compiler import compile_routine
from voiceguide.timeline.durations import EstimatedDurations

NASTY = Path(__file__).parent / "nasty"
REPO = Path(__file__).resolve().parent.parent

EXPECTED = {
    "absurd-durations": "is not a finite duration",
    "billion-laughs": "aliases (*name) are not allowed",
    "control-chars": "control character U+0007",
    "deep": "nesting is deeper than 40 levels",
    "dup-step-key": "duplicate key 'say' (first written on line 3)",
    "empty": "this file is empty",
    "huge-utterance": "routines are limited to 1,000,000",
    "include-escape": "points outside the routine's folder",
    "include-loop": "include cycle",
    "merge-key": "aliases (*name) are not allowed",
    "multi-doc": "more than one YAML document",
    "python-name": "tag 'tag:yaml.org,2002:python/name:os.system' is not allowed",
    "python-object": "python/object/apply:os.system' is not allowed",
    "repeat-bomb": "past 5,000 steps",
    "session-too-long": "the session lasts 7.0 hours; the limit is 6",
    "sound-not-audio": "is not usable audio",
    "tabs": "YAML does not allow tabs",
    "thousands-of-steps": "more than 5,000 steps",
    "top-list": "this file is a list",
    "unknown-things": "unknown point 'ZZ99'",
    "utf16": "not valid UTF-8 (byte 0xff)",
    "wrong-types": "title: expected text, got a list",
}


def test_corpus_is_covered() -> None:
    assert sorted(p.stem for p in NASTY.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_nasty_file_gets_a_clear_positioned_error(name: str) -> None:
    path = NASTY / f"{name}.yaml"
    problems = check_file(path)
    errors = [p for p in problems if p.severity == "error"]
    assert errors, f"{name} was accepted"
    assert EXPECTED[name] in errors[0].format()
    assert all(p.file.endswith(".yaml") for p in errors)
    with pytest.raises(RoutineError):  # loading (or, for session length, compiling) refuses it
        compile_routine(load_routine(path), EstimatedDurations(160, {}))


def test_cli_never_shows_a_traceback_and_runs_no_code(tmp_path: Path) -> None:
    marker = Path("/tmp/voiceguide-pwned")
    marker.unlink(missing_ok=True)
    files = [str(p) for p in sorted(NASTY.glob("*.yaml"))]
    proc = subprocess.run(
        [sys.executable, "-m", "voiceguide", "check", "--parsable", *files],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not marker.exists()
    for f in files:  # every file is named in the report
        assert Path(f).name in proc.stdout


# ---- fuzzing ---------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "90s",
            "1m30s",
            "-1s",
            "0",
            "1e999",
            "BL23",
            "B47",
            "4-7-8",
            "bell",
            "_x.yaml",
            "../x.yaml",
            "tones",
            "alternate",
        ]
    ),
)
keys = st.sampled_from(
    [
        "title",
        "steps",
        "say",
        "pause",
        "breathe",
        "point",
        "sound",
        "section",
        "repeat",
        "include",
        "hold",
        "sides",
        "cue",
        "pattern",
        "cycles",
        "defaults",
        "voice",
        "rate",
        "phrases",
        "points",
        "cautions",
        "countdown",
        "remind_every",
        "names",
        "location",
    ]
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(keys, st.text(max_size=8)), children, max_size=5),
    ),
    max_leaves=25,
)
routine_shaped = st.fixed_dictionaries(
    {"title": scalars, "steps": st.lists(st.dictionaries(keys, values, min_size=1, max_size=3), max_size=6)},
    optional={"defaults": values, "voice": values, "points": values, "phrases": values},
)


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _only_our_errors(path: Path) -> None:
    problems = check_file(path)
    for p in problems:
        assert p.message and p.file
    try:
        routine = load_routine(path)
    except RoutineError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        return
    compile_routine(routine, EstimatedDurations(160, dict(routine.sounds)))


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(routine_shaped)
def test_random_routine_shaped_data(tmp_path: Path, data: dict[str, Any]) -> None:
    path = tmp_path / "fuzz.yaml"
    try:
        path.write_text(yaml.dump(data, Dumper=_NoAliases, allow_unicode=True), encoding="utf-8")
    except (yaml.YAMLError, UnicodeEncodeError):
        return
    with contextlib.suppress(RoutineError):  # compile errors (cues that do not fit) are ours too
        _only_our_errors(path)


@FUZZ
@given(st.text(alphabet=string.printable + "äé€\u2028\ufeff:-[]{}&*!|>'\"#%@`", max_size=300))
def test_random_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with contextlib.suppress(RoutineError):
        _only_our_errors(path)


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(b"title: T\nsteps:\n  - say: " + data)
    with contextlib.suppress(RoutineError):
        _only_our_errors(path)
