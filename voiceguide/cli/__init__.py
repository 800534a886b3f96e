"""The ``voiceguide`` command: a thin typer layer over the public API.

Each command module registers its commands on :data:`app`; :func:`main` is the one place that
turns voiceguide's errors into a message and a fixed exit code (never a traceback).
"""

from __future__ import annotations

import typer
from typer.exceptions import TyperException

from voiceguide.cli import authoring  # noqa: F401  (registers commands)
from voiceguide.cli._app import app, console_err, say_err
from voiceguide.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_RUNTIME,
    OutputClosed,
    RoutineError,
    VoiceguideError,
)

for _optional in ("export", "play", "history", "doctor", "voices", "guide"):
    # Command modules land one issue at a time; each registers itself on import.
    try:
        __import__(f"{__name__}.{_optional}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"{__name__}.{_optional}":
            raise

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the exit code."""
    try:
        rv = app(args=argv, prog_name="voiceguide", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except TyperException as exc:  # bad usage: unknown option, missing argument, ...
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            console_err.print(f"error: {exc.message}", markup=False)
        return exc.exit_code
    except typer.Abort:  # Ctrl-C while typer was prompting or reading
        console_err.print("interrupted")
        return EXIT_INTERRUPTED
    except OutputClosed:  # `export -o - | head`: the reader had enough
        return EXIT_OK
    except RoutineError as exc:  # each problem already reads "file:line:col: error: ..."
        for problem in exc.problems:
            say_err(problem.format())
        return exc.exit_code
    except VoiceguideError as exc:
        from rich.markup import escape

        # The message is plain text: escape it so "[natural]" in an install hint survives rich markup.
        console_err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        console_err.print("interrupted")
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # typer.Exit inside commands
        return exc.code if isinstance(exc.code, int) else EXIT_RUNTIME
    return rv if isinstance(rv, int) else 0
