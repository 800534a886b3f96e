"""The typer application object and consoles shared by every command module."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from voiceguide.errors import Problem

# Help for the options several commands share, worded once.
ROUTINE_HELP = "A routine file, or the name of a shipped or user routine (see `voiceguide list`)."
AVOID_HELP = (
    "Leave out points with this caution tag (e.g. pregnancy, or as the session's language names it: "
    "embarazo); repeat for several."
)
ENGINE_HELP = "Speech engine: pyttsx3 or piper."
VOICE_HELP = "Voice id or name (see `voiceguide voices`)."
RATE_HELP = "Words per minute (80-300)."
VOLUME_HELP = "Speech volume, 0 to 1."
STRICT_HELP = "Treat warnings (an unknown key, an untranslated text) as errors."
LANGUAGE_HELP = (
    "Speak the session in this language (en, es, de, fr, zh): a shipped routine's "
    "translation, and voiceguide's own phrases and point texts."
)

app = typer.Typer(
    name="voiceguide",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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


def say(text: str) -> None:
    """One plain line on stdout, printed exactly (no markup, emoji codes or wrapping)."""
    typer.echo(text)


def say_err(text: str) -> None:
    """One plain line on stderr, printed exactly."""
    typer.echo(text, err=True)


def _show_version(value: bool) -> None:
    if value:
        from voiceguide import __version__

        typer.echo(f"voiceguide {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print voiceguide's version and exit."
    ),
) -> None:
    """Turn a written routine (acupressure, breathing, stretching) into a spoken, precisely timed
    session you can follow with your hands busy and your eyes closed.

    Start with `voiceguide list`, then `voiceguide show lower-back-pain`, `voiceguide play
    lower-back-pain` or `voiceguide export lower-back-pain -o session.wav`."""


def print_warnings(warnings: Sequence[Problem]) -> None:
    """What loading let pass, on stderr before anything else: a typo must never change a session
    without a word."""
    for warning in warnings:
        say_err(warning.format())


# The options several commands share, declared once (sqlite-utils' shared-options habit): a
# command writes `engine: str | None = ENGINE` and gets the same flag, metavar and help as the rest.
ROUTINE = typer.Argument(..., help=ROUTINE_HELP, show_default=False, metavar="ROUTINE")
AVOID = typer.Option([], "--avoid", metavar="TAG", help=AVOID_HELP)
ENGINE = typer.Option(None, "--engine", metavar="NAME", help=ENGINE_HELP)
VOICE = typer.Option(None, "--voice", metavar="VOICE", help=VOICE_HELP)
RATE = typer.Option(None, "--rate", min=80, max=300, metavar="WPM", help=RATE_HELP)
VOLUME = typer.Option(None, "--volume", min=0.0, max=1.0, metavar="0-1", help=VOLUME_HELP)
LANGUAGE = typer.Option(None, "--language", "-l", metavar="CODE", help=LANGUAGE_HELP)
STRICT = typer.Option(False, "--strict", help=STRICT_HELP)
AMBIENCE = typer.Option(
    None,
    "--ambience",
    metavar="NAME|FILE|off",
    help="A background bed under the voice (rain, ocean, brown-noise, pink-noise, wind, drone; "
    "`voiceguide sounds` lists them), a sound file of your own, or off. Wins over the routine's "
    "`ambience:`.",
)
AMBIENCE_VOLUME = typer.Option(
    None,
    "--ambience-volume",
    metavar="DB",
    help="The bed's level under the voice, e.g. -22dB (default -18dB; 0 dB is as loud as the voice).",
)
