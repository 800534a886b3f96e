"""The ``voiceguide`` command: a thin typer layer over the public API.

Each command module registers its commands on :data:`app` (built in :mod:`voiceguide.cli._main`);
:func:`main` runs it. Importing this package imports neither typer nor the commands until one
of the two is used, so that ``voiceguide play ROUTINE`` can start without them
(:mod:`voiceguide.cli._plain`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voiceguide.cli._main import app

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the exit code."""
    from voiceguide.cli._main import main as run

    return run(argv)


def __getattr__(name: str) -> Any:
    if name == "app":
        from voiceguide.cli._main import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
