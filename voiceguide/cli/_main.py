"""The typer application with every command registered, and :func:`main`, the one place that
turns voiceguide's errors into a message and a fixed exit code (never a traceback)."""

from __future__ import annotations

import typer
from typer.exceptions import TyperException

from voiceguide.cli import authoring  # noqa: F401  (registers commands)
from voiceguide.cli._app import app, console_err
from voiceguide.cli._output import report
from voiceguide.errors import EXIT_INTERRUPTED, EXIT_RUNTIME, VoiceguideError

for _optional in ("export", "play", "history", "doctor", "voices", "guide"):
    # Command modules land one issue at a time; each registers itself on import.
    try:
        __import__(f"voiceguide.cli.{_optional}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"voiceguide.cli.{_optional}":
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
    except (VoiceguideError, KeyboardInterrupt) as exc:  # OutputClosed and RoutineError too
        code = report(exc)
        assert code is not None
        return code
    except SystemExit as exc:  # typer.Exit inside commands
        return exc.code if isinstance(exc.code, int) else EXIT_RUNTIME
    return rv if isinstance(rv, int) else 0
