"""``voiceguide play ROUTINE``, the command people run most, without typer.

The first word waits for everything imported before it, and typer with its click costs about
60 ms of that. With nothing but a routine on the command line there is nothing to parse, so the
entry point (:mod:`voiceguide._entry`) comes here instead; anything more (an option, ``--help``)
goes through typer. Both paths run :func:`run_play`, and errors end in the same words and exit
codes (:func:`voiceguide.cli._output.report`).
"""

from __future__ import annotations

import sys
from typing import Any

from voiceguide.cli._output import console, print_cautions, print_warnings, real_console, report
from voiceguide.errors import EXIT_INTERRUPTED


def is_plain_play(argv: list[str]) -> bool:
    """``play NAME`` and nothing else (a NAME that looks like an option is typer's to judge)."""
    return len(argv) == 2 and argv[0] == "play" and not argv[1].startswith("-")


def run_play(routine: str | None, **options: Any) -> None:
    """Play ``routine`` with the command line's printing: cautions above the live panel,
    warnings on stderr first. ``options`` are :func:`voiceguide.player.session.play`'s."""
    from voiceguide.player.session import play

    play(
        routine,
        **options,
        # Only the live panel (stdout a terminal) draws on the console: otherwise rich's import
        # (~15 ms) would come before the first word for nothing.
        console=real_console(console) if sys.stdout.isatty() else None,
        on_cautions=print_cautions,
        on_warnings=print_warnings,
    )


def play_plain(routine: str) -> int:
    """``voiceguide play ROUTINE``: the exit code, as :func:`voiceguide.cli.main` would return it."""
    try:
        run_play(routine)
    except KeyboardInterrupt:  # the player has said where it stopped; typer ends this way too
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of the plain log went away: typer ends with 1 then
        return 1
    except Exception as exc:
        code = report(exc)
        if code is None:
            raise
        return code
    return 0
