"""Start-up stays light: the modules a command imports are a fixed list, so a heavy import added
later (the renderer for `--help`, numpy for `check`) fails here instead of slowing every run.

Times live in benchmarks/startup.py; this only pins what is imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROBE = """
import contextlib, io, json, runpy, sys
sys.argv = ["voiceguide", *sys.argv[1:]]
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        runpy.run_module("voiceguide", run_name="__main__")
    except SystemExit:
        pass
print(json.dumps(sorted(sys.modules)))
"""
HEAVY = ("numpy", "soundfile", "soxr", "simpleaudio", "pyttsx3", "onnxruntime", "piper", "num2words")
CLI = {
    "voiceguide", "voiceguide._entry", "voiceguide._helpcache", "voiceguide.cli", "voiceguide.cli._app",
    "voiceguide.cli._main", "voiceguide.cli._output", "voiceguide.cli._plain",
    "voiceguide.cli.authoring", "voiceguide.cli.doctor", "voiceguide.cli.export", "voiceguide.cli.guide",
    "voiceguide.cli.play", "voiceguide.cli.voices", "voiceguide.cli.history", "voiceguide.errors",
    "voiceguide.exporter", "voiceguide.fileio",
    "voiceguide.exporter.formats", "voiceguide.hints", "voiceguide.units",
}
ROUTINE_STAGE = {"voiceguide.authoring", "voiceguide.fileio", "voiceguide.pipeline", "voiceguide.soundinfo"}


def imported(*argv: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True,
                         env=env, cwd=REPO, check=True).stdout
    return set(json.loads(out))


def ours(modules: set[str]) -> set[str]:
    return {m for m in modules if m == "voiceguide" or m.startswith("voiceguide.")}


def heavy(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules} & set(HEAVY)


def test_help_imports_only_the_command_line() -> None:
    modules = imported("--help")
    assert ours(modules) == CLI
    assert not heavy(modules)
    assert not any(m == "yaml" or m.startswith(("rich", "yaml.")) for m in modules)


def test_play_with_just_a_routine_runs_without_typer() -> None:
    """`voiceguide play ROUTINE`, the commonest command, does not import typer (or click) before
    its first word: here a routine that does not exist, which ends as typer's path would."""
    modules = imported("play", "no-such-routine")
    assert "voiceguide.cli._plain" in modules
    assert not {m.split(".")[0] for m in modules} & {"typer", "click"}
    assert "voiceguide.cli._main" not in modules
    with_option = imported("play", "--rate", "150", "no-such-routine")
    assert "typer" in with_option  # anything more than a routine goes through typer


def test_play_with_just_a_routine_ends_as_the_typer_path_does() -> None:
    for argv in (["play", "no-such-routine"], ["play", "--rate", "150", "no-such-routine"]):
        done = subprocess.run([sys.executable, "-m", "voiceguide", *argv], capture_output=True,
                              text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error: no routine named 'no-such-routine'"), done.stderr
        assert "Traceback" not in done.stderr


PLANNING = [("show", "box-breathing", "--estimate"), ("check", "scripts/box-breathing.yaml")]


@pytest.mark.parametrize("argv", PLANNING)
def test_planning_imports_the_routine_and_timeline_stages_only(argv: tuple[str, ...]) -> None:
    modules = ours(imported(*argv))
    stages = {m.split(".")[1] for m in modules if m.count(".") >= 1}
    assert stages <= {"cli", "routine", "timeline", "errors", "hints", "units", "exporter", "authoring",
                      "fileio", "pipeline", "soundinfo", "_entry"}, stages
    assert not heavy(imported(*argv))
    assert modules >= ROUTINE_STAGE


@pytest.mark.engine
def test_show_with_measured_speech_does_not_load_rendering_playback_or_export() -> None:
    modules = ours(imported("show", "box-breathing"))
    assert not {m for m in modules if m.startswith(("voiceguide.player", "voiceguide.audio.render",
                                                     "voiceguide.audio.device", "voiceguide.doctor"))}
    assert "voiceguide.exporter.export" not in modules


def test_list_reads_lengths_from_the_cache_without_the_speech_engine() -> None:
    """`list` shows measured lengths from the speech cache's clip headers: no engine, no numpy."""
    modules = imported("list")
    assert "voiceguide.speech.lengths" in modules
    assert not {m for m in ours(modules) if m.startswith(("voiceguide.audio", "voiceguide.player"))}
    assert not {"voiceguide.speech.cache", "voiceguide.speech.clips", "voiceguide.speech.registry"} & modules
    assert not heavy(modules)
