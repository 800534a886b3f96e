"""The command line end to end: exit codes, output a user reads, help for every command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from voiceguide.cli import app, main
from voiceguide.routine.json_schema import json_schema

GOLDEN = Path(__file__).parent / "golden"
REPO = Path(__file__).resolve().parent.parent


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_clean_file_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(GOLDEN / "structure.yaml"))
    assert code == 0 and out.strip().endswith("structure.yaml: ok")


def test_check_reports_with_position_and_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text("title: T\nsteps:\n  - pause: forever\n", encoding="utf-8")
    code, out, err = run(capsys, "check", "bad.yaml")
    assert code == 2
    assert out.splitlines()[0].startswith("bad.yaml:3:12: error: steps[0].pause: 'forever' is not a duration")
    assert out.splitlines()[1:] == ["      - pause: forever", "               ^"]
    assert "Traceback" not in out + err


def test_check_strict_fails_on_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "w.yaml"
    f.write_text("title: T\nstpes: []\nsteps:\n  - say: hi\n", encoding="utf-8")
    assert run(capsys, "check", str(f))[0] == 0
    code, out, _ = run(capsys, "check", "--strict", "--parsable", str(f))
    assert code == 2 and "error: stpes: unknown key 'stpes' is ignored (hint: did you mean 'steps'?)" in out


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _out, err = run(capsys, "show", str(tmp_path / "nope.yaml"), "--estimate")
    assert code == 2
    assert "nope.yaml: error: no such file" in err and "Traceback" not in err
    assert err.startswith(str(tmp_path / "nope.yaml"))  # one "error:", the problem's own


def test_every_problem_of_a_bad_routine_is_one_line(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: T\nsteps:\n  - pause: forever\n  - point: ZZ99\n", encoding="utf-8")
    code, _out, err = run(capsys, "show", str(bad), "--estimate")
    assert code == 2
    lines = err.splitlines()
    assert [line.split(": error: ")[0] for line in lines] == [f"{bad}:3:12", f"{bad}:4:12"]


def test_unknown_routine_name_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "show", "lower-back-pian", "--estimate")
    assert code == 2 and "did you mean 'lower-back-pain'?" in err


def test_bad_usage_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "show", "--no-such-flag")
    assert code == 2 and "No such option" in err


def test_show_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", str(GOLDEN / "point-together.yaml"), "--estimate", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {"title", "total_seconds", "steps", "events"}
    assert data["title"] == "Point together"
    assert [s["title"] for s in data["steps"]] == ["Introduction", "Sit tall.", "TST1 Test Point One"]
    assert set(data["steps"][0]) >= {"index", "title", "start", "duration"}
    for e in data["events"]:
        assert e["kind"] in {"speech", "silence", "sound"}
        assert ("text" in e) == (e["kind"] == "speech") and ("sound" in e) == (e["kind"] == "sound")
    last = data["events"][-1]
    assert last["start"] + last["duration"] == pytest.approx(data["total_seconds"])


def test_show_human_plan_lists_what_is_said(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", str(GOLDEN / "point-together.yaml"), "--estimate")
    assert code == 0
    assert "Total 0:33" in out and "“Press now.”" in out and "hold 20 s" in out


def test_points_detail_and_search(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "points", "B48")
    assert code == 0 and out.startswith("BL53 Baohuang") and "Location" in out
    code, out, _ = run(capsys, "points")
    assert code == 0 and "BL23" in out and "LI4" in out
    code, _, err = run(capsys, "points", "Shenshuu")
    assert code == 2 and "Did you mean BL23?" in err


def test_new_writes_a_routine_that_checks_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, _ = run(capsys, "new", "my-routine", "--dir", str(tmp_path))
    assert code == 0
    path = tmp_path / "my-routine.yaml"
    assert run(capsys, "check", "--strict", str(path))[0] == 0
    assert yaml.safe_load(path.read_text())["title"] == "My routine"
    code, _, err = run(capsys, "new", "my-routine", "--dir", str(tmp_path))
    assert code == 2 and "already exists" in err


def test_schema_is_the_shipped_file_and_validates_examples(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    assert code == 0
    assert json.loads(out) == json_schema()
    shipped = json.loads((REPO / "voiceguide" / "data" / "routine.schema.json").read_text())
    assert shipped == json_schema(), (
        "regenerate with `voiceguide schema -o voiceguide/data/routine.schema.json`"
    )
    jsonschema = pytest.importorskip("jsonschema")
    for case in GOLDEN.glob("[!_]*.yaml"):
        jsonschema.validate(yaml.safe_load(case.read_text()), json_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"title": "x", "steps": [{"sya": "typo"}]}, json_schema())


def test_every_command_has_help() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    commands = list(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert {"list", "check", "show", "points", "new", "schema", "phrases"} <= set(commands)
    for name in commands:
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Usage:" in result.output and len(result.output) > 80, name


def test_show_shipped_routine_from_any_directory(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "voiceguide", "show", "lower-back-pain", "--estimate", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["total_seconds"] > 60
