"""What a newcomer runs into in the first hour: finding points, writing a first routine."""

from __future__ import annotations

import pytest

from voiceguide.authoring import find_points, resolve_point
from voiceguide.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("query", "first", "also"),
    [
        ("wrist", "PC6", {"HT7", "TE3"}),  # the wrist point people ask for, then the others
        ("nausea", "PC6", set()),
        ("knee", "BL40", {"ST36", "GB34", "SP9"}),  # the one at the knee before those below it
        ("inner ankle", "KI3", {"SP6"}),  # at the ankle, then the one four fingers above it
    ],
)
def test_point_search_finds_body_parts_and_uses_best_first(query: str, first: str, also: set[str]) -> None:
    codes = [p.code for p in find_points(query)]
    assert codes and codes[0] == first, codes
    assert also <= set(codes)


def test_a_search_word_lists_matches_and_a_code_shows_the_point(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "points", "wrist")
    assert code == 0 and out.index("PC6") < out.index("HT7")
    code, out, _ = run(capsys, "points", "LR3")  # an alias of a newly added point
    assert code == 0 and out.startswith("LV3 Taichong") and "Location" in out


@pytest.mark.parametrize("code", ["ST36", "LV3", "GV20", "KI1", "KI3", "SP9", "ST6", "ST7", "GB34"])
def test_commonly_asked_points_are_in_the_catalogue(code: str) -> None:
    point = resolve_point(code)
    assert point is not None and point.code == code
    assert point.location and point.technique and "WHO:" in point.notes
    assert resolve_point(point.pinyin) is point


# ---- durations as people write them ---------------------------------------------------------

from voiceguide.units import DurationError, format_stamp, parse_duration  # noqa: E402


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("90s", 90), ("90 s", 90), ("90 seconds", 90), ("2min", 120), ("2 min", 120),
        ("2 minutes", 120), ("1m30s", 90), ("1m 30s", 90), ("1 min 30 s", 90), ("1:30", 90),
        ("0:45", 45), ("1.5m", 90), ("500ms", 0.5), ("90", 90), (90, 90), ("1h", 3600),
    ],
)
def test_durations_in_the_forms_people_write(written: object, seconds: float) -> None:
    assert parse_duration(written) == round(seconds * 1_000_000)


@pytest.mark.parametrize(
    ("written", "hint"),
    [("1m30", "1m 30s"), ("1:75", "m:ss"), ("three minutes", "90s"), ("2 fortnights", "not a unit")],
)
def test_ambiguous_or_unknown_durations_are_refused_with_a_hint(written: str, hint: str) -> None:
    with pytest.raises(DurationError) as err:
        parse_duration(written)
    assert hint in err.value.hint


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, " 0:00.0"), (59.94, " 0:59.9"), (59.96, " 1:00.0"), (179.96, " 3:00.0"), (600.04, "10:00.0")],
)
def test_clock_stamps_round_before_carrying_minutes(seconds: float, shown: str) -> None:
    assert format_stamp(round(seconds * 1_000_000)) == shown


# ---- writing a first routine ------------------------------------------------------------------

import json  # noqa: E402
from pathlib import Path  # noqa: E402

from voiceguide.routine.json_schema import json_schema  # noqa: E402


def test_new_then_show_by_name_finds_the_file_in_this_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "new", "my-routine")[0] == 0
    code, out, _ = run(capsys, "show", "my-routine", "--estimate")
    assert code == 0 and out.startswith("My routine")
    code, out, _ = run(capsys, "list")
    row = next(line for line in out.splitlines() if "my-routine" in line)
    assert "here" in row


def test_a_typo_of_a_routine_here_suggests_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "new", "my-routine")[0] == 0
    code, _, err = run(capsys, "show", "my-routin", "--estimate")
    assert code == 2 and "did you mean './my-routine.yaml'?" in err
    code, _, err = run(capsys, "show", "box-breathin", "--estimate")
    assert code == 2 and "did you mean 'box-breathing'?" in err


def test_the_new_routines_schema_line_works_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "new", "evening", "--dir", str(tmp_path))[0] == 0
    first = (tmp_path / "evening.yaml").read_text("utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=file://")
    schema_file = Path(first.split("$schema=file://", 1)[1])
    assert json.loads(schema_file.read_text("utf-8")) == json_schema()
    assert "invalid" not in first


def test_the_routine_reference_is_readable_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "docs")
    assert code == 0 and "routine-format" in out.split()
    code, out, _ = run(capsys, "docs", "routine-format")
    assert code == 0 and "## Durations" in out
    code, _, err = run(capsys, "docs", "routine-formats")
    assert code == 2 and "did you mean 'routine-format'" in err


def test_an_indentation_mistake_gets_a_hint_with_the_right_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: T\n summary: x\nsteps:\n  - say: Hi\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", "--parsable", str(bad))
    assert code == 2 and "indented deeper than `title`" in out and "column 1" in out
    bad.write_text("title: T\nsteps:\n  - say: Note: breathe\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", "--parsable", str(bad))
    assert code == 2 and "must be quoted" in out


def test_problems_come_in_file_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: T\nsteps:\n  - pause: forever\n  - point: NOPE1\n  - pause: never\n"
                   "defualts: {hold: 1m}\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", "--parsable", str(bad))
    lines = [int(line.split(":")[1]) for line in out.splitlines() if line.startswith(str(bad))]
    assert code == 2 and len(lines) >= 4 and lines == sorted(lines)


@pytest.mark.parametrize("written", ["both", "left", "right"])
def test_sides_people_write_get_a_hint_naming_the_accepted_values(
    written: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"title: T\nsteps:\n  - point: LI4\n    sides: {written}\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", "--parsable", str(bad))
    assert code == 2 and "together" in out and ("alternate" in out or "single" in out)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import voiceguide

    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"voiceguide {voiceguide.__version__}"


TYPO = "title: T\ndefualts: {hold: 10s}\nsteps:\n  - point: LI4\n    side: alternate\n"


@pytest.mark.parametrize(
    "command", [["show", "--estimate"], ["export", "-o", "{out}.wav"], ["guide", "-o", "{out}.html"]]
)
def test_a_typo_is_reported_by_every_command_that_runs_the_routine(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routine = tmp_path / "typo.yaml"
    routine.write_text(TYPO, encoding="utf-8")
    argv = [a.format(out=tmp_path / "typo") for a in command]
    code, _, err = run(capsys, argv[0], str(routine), *argv[1:])
    assert code == 0
    assert "unknown key 'defualts'" in err and "did you mean 'defaults'" in err
    assert "unknown key 'side'" in err and "did you mean 'sides'" in err
    code, _, err = run(capsys, argv[0], str(routine), *argv[1:], "--strict")
    assert code == 2 and "error: defualts" in err


# ---- small things a user notices when exporting ------------------------------------------------


def test_export_without_o_writes_a_wav_named_after_the_routine_here(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    routine = tmp_path / "mine.yaml"
    routine.write_text("title: Quiet hands\nsteps:\n  - say: Hello.\n", encoding="utf-8")
    code, _, err = run(capsys, "export", str(routine))
    assert code == 0 and (tmp_path / "Quiet hands.wav").is_file()
    assert "Quiet hands.wav" in err  # it says where it wrote


def test_export_makes_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    routine = tmp_path / "mine.yaml"
    routine.write_text("title: T\nsteps:\n  - say: Hello.\n", encoding="utf-8")
    target = tmp_path / "new" / "deeper" / "x.wav"
    assert run(capsys, "export", str(routine), "-o", str(target))[0] == 0
    assert target.is_file()


def test_a_closed_pipe_ends_export_quietly(tmp_path: Path) -> None:
    import subprocess
    import sys

    routine = tmp_path / "mine.yaml"
    routine.write_text("title: T\nsteps:\n  - say: Hello there.\n  - pause: 30s\n", encoding="utf-8")
    proc = subprocess.run(
        f"{sys.executable} -m voiceguide export {routine} -o - | head -c 100 > /dev/null; "
        "echo \"${PIPESTATUS[0]}\"",
        shell=True, executable="/bin/bash", capture_output=True, text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert proc.stderr == "" and proc.stdout.strip() == "0"


@pytest.mark.parametrize("extra", [[], ["--json"]], ids=["plan", "json"])
def test_a_closed_pipe_ends_show_quietly(tmp_path: Path, extra: list[str]) -> None:
    """`voiceguide show mine | head` is not a failure: exit 0 and nothing on stderr.

    The plan is far larger than a pipe's buffer, so voiceguide is certainly still writing when
    the reader goes away.
    """
    import os
    import subprocess
    import sys

    routine = tmp_path / "long.yaml"
    steps = "".join(f"  - say: This is sentence number {i} of a long plan.\n" for i in range(1500))
    routine.write_text(f"title: Long\nsteps:\n{steps}", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "show", str(routine), "--estimate", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert err == ""


def _length_in_list(out: str, name: str) -> str:
    row = next(line for line in out.splitlines() if f" {name} " in line)
    return [cell.strip() for cell in row.split("│") if cell.strip()][2]


@pytest.mark.engine
def test_list_shows_the_real_length_once_the_session_was_exported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An estimate is marked "~"; after an export has synthesized every sentence (the speech cache
    holds them), `list` shows the length the exported file really has, without "~"."""
    import soundfile

    from voiceguide.units import format_duration

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text(
        "title: Quiet hands\nsteps:\n  - say: Hello there, and settle in.\n  - pause: 3s\n"
        "  - point: LI4\n    hold: 20s\n  - say: Rest now, and notice how you feel.\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "list")
    assert code == 0 and _length_in_list(out, "mine").startswith("~")

    code, _, err = run(capsys, "export", "mine", "-o", str(tmp_path / "mine.wav"))
    info = soundfile.info(str(tmp_path / "mine.wav"))
    exported = format_duration(round(info.frames * 1_000_000 / info.samplerate))
    assert code == 0 and f"({exported})" in err

    code, out, _ = run(capsys, "list")
    assert code == 0 and _length_in_list(out, "mine") == exported
    assert _length_in_list(out, "box-breathing").startswith("~"), "never played: still an estimate"

    (tmp_path / "mine.yaml").write_text(
        (tmp_path / "mine.yaml").read_text("utf-8") + "  - say: One sentence never spoken yet.\n", "utf-8"
    )
    code, out, _ = run(capsys, "list")
    assert _length_in_list(out, "mine").startswith("~"), "one new sentence makes it an estimate again"
