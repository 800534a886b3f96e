"""What the command line prints, without typer: consoles, warnings, cautions and error endings.

Kept apart from :mod:`voiceguide.cli._app` (which builds the typer application) so that
``voiceguide play ROUTINE`` can run without importing typer at all (see
:mod:`voiceguide.cli._plain`): the first word waits for everything imported before it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from voiceguide.errors import EXIT_INTERRUPTED, EXIT_OK, OutputClosed, RoutineError, VoiceguideError

if TYPE_CHECKING:
    from rich.console import Console

    from voiceguide.errors import Problem


class _LazyConsole:
    """A rich Console made on first use: commands that print plain lines (export, check, cache)
    never pay the tens of milliseconds that importing rich costs."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def real(self) -> Console:
        if self._console is None:
            self._console = _console_class()(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


def _console_class() -> type[Console]:
    from rich.console import Console

    from voiceguide.errors import OutputClosed

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # `voiceguide show ... | head`: rich silences stdout and exits with 1; the reader
            # having had enough is not a failure, so it ends like `export -o - | head` (exit 0).
            try:
                super().on_broken_pipe()
            except SystemExit:
                raise OutputClosed("the program reading the output stopped early") from None

    return _Console


# soft_wrap: long lines (file:line:col problems) stay one line, so editors and grep can parse them.
console = cast("Console", _LazyConsole(highlight=False, soft_wrap=True))
console_err = cast("Console", _LazyConsole(stderr=True, highlight=False, soft_wrap=True))


def real_console(lazy: Console) -> Console:
    """The Console behind one of the lazy consoles above (for code that checks its type)."""
    target = cast(Any, lazy)
    return target.real() if isinstance(target, _LazyConsole) else lazy


def write_err(text: str) -> None:
    """One plain line on stderr, printed exactly and at once (no markup)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def print_warnings(warnings: Sequence[Problem]) -> None:
    """What loading let pass, on stderr before anything else: a typo must never change a session
    without a word."""
    for warning in warnings:
        write_err(warning.format())


def print_cautions(cautions: Sequence[str], out: Console | None = None) -> None:
    """The cautions above the panel, wrapped on words with a hanging indent at any width (the
    app's console soft-wraps, which would let the terminal break "swelling" mid-word)."""
    from rich.table import Table
    from rich.text import Text

    out = out if out is not None else console
    out.print("Before you begin", style="bold yellow", soft_wrap=False)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=3, justify="right", no_wrap=True)
    grid.add_column(ratio=1)
    for caution in cautions:
        grid.add_row("•", Text(caution))
    out.print(grid, soft_wrap=False)
    out.print()


def report(exc: BaseException) -> int | None:
    """Say why one of voiceguide's own ends happened and return its exit code (never a
    traceback); None for anything else, which the caller re-raises."""
    if isinstance(exc, OutputClosed):  # `export -o - | head`: the reader had enough
        return EXIT_OK
    if isinstance(exc, RoutineError):  # each problem already reads "file:line:col: error: ..."
        for problem in exc.problems:
            write_err(problem.format())
        return exc.exit_code
    if isinstance(exc, VoiceguideError):
        from rich.markup import escape

        # The message is plain text: escape it so "[natural]" in an install hint survives rich markup.
        console_err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        console_err.print("interrupted")
        return EXIT_INTERRUPTED
    return None
