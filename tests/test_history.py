"""The practice history and what it is for: resuming where a session stopped, and not speaking a
routine's cautions again on every session once this machine has spoken them (--skip-intro)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from voiceguide.errors import UsageError
from voiceguide.player import history, session
from voiceguide.player.history import Practice, cautions_heard, last_stopped, read_history, record
from voiceguide.player.keys import Command

ROUTINE = Path(__file__).parent / "data" / "play" / "short.yaml"
KEY = str(ROUTINE.resolve())


def practice(
    routine: str = KEY,
    *,
    step: int = 4,
    completed: bool = False,
    intro: bool = False,
    started: str = "2026-12-01T08:00:00+00:00",
) -> Practice:
    return Practice(routine, "Player test", started, 12.5, completed, step, intro)


def test_sessions_are_written_and_read_back_in_order(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "history.jsonl"  # the folder is created on first use
    first, second = practice(step=3), practice("lower-back-pain", completed=True, step=8)
    record(first, path)
    record(second, path)
    assert read_history(path) == [first, second]
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["step"] == 3 and json.loads(lines[1])["completed"] is True
    assert second.result == "completed" and first.result == "stopped at step 3"


def test_a_damaged_line_is_skipped_and_a_cut_line_does_not_swallow_the_next(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    record(practice(step=1), path)
    with path.open("a") as f:
        f.write('{"routine": 3}\nnot json\n{"routine": "x", "title": "cut sh')  # a crash mid-line
    record(practice(step=2), path)
    assert [p.step for p in read_history(path)] == [1, 2]


def test_resume_takes_the_last_stopped_session_unless_finished_since(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    record(practice("a", step=2), path)
    record(practice("b", step=5), path)
    record(practice("a", step=3), path)
    record(practice("b", completed=True, step=9), path)
    assert last_stopped(None, path) == practice("a", step=3)  # b was finished afterwards
    assert last_stopped("a", path) == practice("a", step=3)
    assert last_stopped("b", path) is None
    assert not cautions_heard("a", path)
    record(practice("a", intro=True), path)
    assert cautions_heard("a", path) and not cautions_heard("b", path)


# ---- through play(): the real routine, speech engine and player; a silent output, and the
# listener presses q at once ----------------------------------------------------------------------


class SilentOutput:
    class Handle:
        def is_playing(self) -> bool:
            return False

        def stop(self) -> None:
            pass

    def play(self, samples: np.ndarray, sample_rate: int) -> SilentOutput.Handle:
        return self.Handle()

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


class QuitAtOnce:
    def __enter__(self) -> QuitAtOnce:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def wait(self, timeout: float) -> Command:
        return Command.QUIT


@pytest.fixture
def quitting(monkeypatch: pytest.MonkeyPatch) -> None:
    import voiceguide.audio.device as device

    monkeypatch.setattr(device, "open_output", lambda name: SilentOutput())
    monkeypatch.setattr(session, "NoKeys", QuitAtOnce)


def played(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The plain view's lines, without the timestamps."""
    return [line.split("] ", 1)[-1] for line in capsys.readouterr().out.splitlines()]


@pytest.mark.engine
@pytest.mark.usefixtures("quitting")
def test_quit_records_where_it_stopped_and_says_how_to_go_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    outcome = session.play(str(ROUTINE), start="3", interactive=False)
    assert outcome is session.Outcome.QUIT
    lines = played(capsys)
    assert lines[0].startswith("Introduction")  # --from still speaks the cautions first
    assert f"To go on later: voiceguide play {ROUTINE} --from 3" in " ".join(lines)
    (saved,) = read_history()
    assert (saved.routine, saved.step, saved.completed, saved.intro) == (KEY, 3, False, False)
    assert saved.title == "Player test" and saved.minutes < 1


@pytest.mark.engine
@pytest.mark.usefixtures("quitting")
def test_quit_in_the_introduction_says_how_to_start_again_not_from_step_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    session.play(str(ROUTINE), interactive=False)
    said = " ".join(played(capsys))
    assert f"To start again: voiceguide play {ROUTINE}" in said and "--from 0" not in said
    (saved,) = read_history()
    assert saved.step == 0 and saved.result == "stopped in the introduction"


@pytest.mark.engine
@pytest.mark.usefixtures("quitting")
def test_resume_goes_on_at_the_stopped_step(capsys: pytest.CaptureFixture[str]) -> None:
    record(practice(step=5, intro=True))
    record(practice("lower-back-pain", completed=True, step=6))
    session.play(None, resume=True, interactive=False)
    lines = played(capsys)
    assert lines[0].startswith("Step 5 of 9")  # no introduction: its cautions were heard
    assert read_history()[-1].step == 5


@pytest.mark.engine
@pytest.mark.usefixtures("quitting")
def test_skip_intro_speaks_the_cautions_until_this_machine_has_played_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    session.play(str(ROUTINE), skip_intro=True, interactive=False)
    first = played(capsys)
    assert "the cautions are spoken this time" in first[0]
    assert first[1].startswith("Introduction")
    record(practice(intro=True, completed=True, step=9))  # a session heard the introduction
    session.play(str(ROUTINE), skip_intro=True, interactive=False)
    assert played(capsys)[0].startswith("Step 1 of 9")
    session.play(str(ROUTINE), skip_intro=True, start="4", interactive=False)
    assert played(capsys)[0].startswith("Step 4 of 9")


def test_resume_without_a_stopped_session_says_so() -> None:
    with pytest.raises(UsageError, match="no stopped session to resume"):
        session.play(None, resume=True, interactive=False)
    with pytest.raises(UsageError, match="leave out --from"):
        session.play(None, resume=True, start="2", interactive=False)
    assert not history.history_path().exists()  # nothing was played, nothing recorded


def test_history_command_shows_sessions_newest_first(capsys: pytest.CaptureFixture[str]) -> None:
    from voiceguide.cli import main

    assert main(["history"]) == 0
    assert "No sessions yet" in capsys.readouterr().out
    record(practice(step=4, started="2026-12-01T08:00:00+00:00"))
    record(practice("lower-back-pain", completed=True, step=6, started="2026-12-02T07:30:00+00:00"))
    assert main(["history"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == ["When", "Routine", "Minutes", "Result"]
    assert rows[1] == ["2026-12-02", "07:30", "lower-back-pain", "12.5", "completed"]
    assert rows[2][:2] == ["2026-12-01", "08:00"] and rows[2][-4:] == ["stopped", "at", "step", "4"]
    assert main(["history", "lower-back-pain", "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["routine"] == "lower-back-pain"


@pytest.mark.engine
@pytest.mark.usefixtures("quitting")
def test_play_in_another_language_speaks_the_translation(capsys: pytest.CaptureFixture[str]) -> None:
    session.play("box-breathing", language="de", interactive=False)
    lines = played(capsys)
    assert "Einführung" in lines[0]  # the German routine's introduction step


@pytest.mark.usefixtures("quitting")
def test_play_checks_the_ambience_options_before_anything_sounds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The bed is opened once the session has begun (so it never delays the first word), so
    what the command line asks for is checked first: one clear error, and nothing played."""
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF but not really a sound file")
    with pytest.raises(UsageError, match=r"--ambience .*broken.wav: is not usable audio"):
        session.play(str(ROUTINE), ambience=str(broken), interactive=False)
    with pytest.raises(UsageError, match="did you mean 'rain'"):
        session.play(str(ROUTINE), ambience="rian", interactive=False)
    with pytest.raises(UsageError, match="--ambience-volume needs an ambience"):
        session.play(str(ROUTINE), ambience_volume="-20dB", interactive=False)
    assert capsys.readouterr().out == ""  # no step was shown: nothing started
