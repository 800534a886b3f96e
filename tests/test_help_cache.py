"""``voiceguide --help`` answered from what typer printed last time: always typer's exact text.

The help that a user sees must be typer's own, byte for byte, whether it comes from typer or from
the kept copy; a changed source file, terminal width or Python makes the copy unusable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TYPER = "import sys; from voiceguide.cli import main; sys.argv[0] = 'voiceguide'; raise SystemExit(main())"
MODULES = """
import runpy, sys
sys.argv = ["voiceguide", *sys.argv[1:]]
try:
    runpy.run_module("voiceguide", run_name="__main__")
except SystemExit:
    pass
loaded = sorted(sys.modules)
import json
sys.stderr.write("\\nMODULES " + json.dumps(loaded))
"""


def _env(cache: Path, columns: str | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "VOICEGUIDE_CACHE_DIR": str(cache)}
    env.pop("COLUMNS", None)
    if columns is not None:
        env["COLUMNS"] = columns
    return env


def run(argv: list[str], cache: Path, columns: str | None = None) -> tuple[int, str, str]:
    """``voiceguide ARGV`` as a user runs it (exit code, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "voiceguide", *argv], capture_output=True,
                          text=True, env=_env(cache, columns), cwd=REPO)
    return proc.returncode, proc.stdout, proc.stderr


def typer_renders(argv: list[str], cache: Path, columns: str | None = None) -> tuple[int, str, str]:
    """What typer itself prints for ARGV, with no kept copy involved."""
    proc = subprocess.run([sys.executable, "-c", TYPER, *argv], capture_output=True, text=True,
                          env=_env(cache, columns), cwd=REPO)
    return proc.returncode, proc.stdout, proc.stderr


def modules_loaded(argv: list[str], cache: Path) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", MODULES, *argv], capture_output=True, text=True,
                          env=_env(cache, None), cwd=REPO)
    return set(json.loads(proc.stderr.rpartition("\nMODULES ")[2]))


def commands() -> list[list[str]]:
    """Every command and sub-command typer knows, so a new one is covered without a test edit."""
    import typer.main

    from voiceguide.cli import app

    group = typer.main.get_command(app)
    found: list[list[str]] = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        found.append([name])
        found += [[name, sub] for sub in getattr(command, "commands", {})]
    return found


def help_requests() -> list[list[str]]:
    return [[], ["--help"], ["-h"], ["--version"], *([*c, "--help"] for c in commands())]


def test_every_help_is_typers_text_the_first_time_and_from_the_kept_copy(tmp_path: Path) -> None:
    requests = help_requests()
    assert ["export", "--help"] in requests and ["cache", "clear", "--help"] in requests
    for argv in requests:
        expected = typer_renders(argv, tmp_path)
        assert expected[1] or expected[2], argv
        assert run(argv, tmp_path) == expected, argv  # typer, kept
        assert run(argv, tmp_path) == expected, argv  # the kept copy
    assert len(list((tmp_path / "help").iterdir())) == len(requests)


@pytest.mark.parametrize("columns", ["60", "120"])
def test_the_terminal_width_is_part_of_what_is_kept(tmp_path: Path, columns: str) -> None:
    for argv in (["--help"], ["export", "--help"]):
        run(argv, tmp_path)  # kept at the default width
        expected = typer_renders(argv, tmp_path, columns)
        assert run(argv, tmp_path, columns) == expected
        assert run(argv, tmp_path, columns) == expected
    assert run(["export", "--help"], tmp_path, "60") != run(["export", "--help"], tmp_path, "120")


def test_the_kept_help_does_not_import_typer(tmp_path: Path) -> None:
    first = modules_loaded(["show", "--help"], tmp_path)
    assert "typer" in first
    again = modules_loaded(["show", "--help"], tmp_path)
    assert {m for m in again if m.startswith("voiceguide")} == {
        "voiceguide", "voiceguide._entry", "voiceguide._helpcache"}
    assert not {m for m in again if m.split(".")[0] in ("typer", "typing", "re", "json", "rich")}


def test_a_copy_kept_for_other_sources_is_not_used(tmp_path: Path) -> None:
    """A changed source file (here: a recorded size that no longer matches) means typer again."""
    expected = typer_renders(["--help"], tmp_path)
    run(["--help"], tmp_path)
    (kept,) = (tmp_path / "help").iterdir()
    fields = kept.read_text(encoding="utf-8").split("\0")
    fields[2] = "STALE HELP\n"
    kept.write_text("\0".join(fields), encoding="utf-8")
    assert run(["--help"], tmp_path)[1] == "STALE HELP\n"  # the copy is what --help prints...
    voiceguide_init = fields.index(str(REPO / "voiceguide" / "__init__.py"))
    fields[voiceguide_init + 1] = str(int(fields[voiceguide_init + 1]) + 1)
    kept.write_text("\0".join(fields), encoding="utf-8")
    assert run(["--help"], tmp_path) == expected  # ...until a file it came from changes
    assert run(["--help"], tmp_path) == expected


def test_damaged_or_unwritable_copies_still_give_typers_help(tmp_path: Path) -> None:
    expected = typer_renders(["export", "--help"], tmp_path)
    run(["export", "--help"], tmp_path)
    (kept,) = (tmp_path / "help").iterdir()
    kept.write_bytes(kept.read_bytes()[:200])
    assert run(["export", "--help"], tmp_path) == expected
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    assert run(["export", "--help"], blocked) == expected
    assert run(["export", "--help"], blocked) == expected


def test_commands_and_errors_are_never_kept(tmp_path: Path) -> None:
    assert run(["list"], tmp_path)[0] == 0
    code, _, err = run(["no-such-command", "--help"], tmp_path)
    assert code == 2 and "no-such-command" in err
    assert not (tmp_path / "help").exists()


def test_cache_clear_removes_the_kept_help_too(tmp_path: Path) -> None:
    expected = typer_renders(["--help"], tmp_path)
    run(["--help"], tmp_path)
    assert (tmp_path / "help").is_dir()
    assert run(["cache", "clear"], tmp_path)[0] == 0
    assert not (tmp_path / "help").exists()
    assert run(["--help"], tmp_path) == expected
