"""The typer application object, and the options and consoles shared by every command module."""

from __future__ import annotations

import typer

from voiceguide.cli._output import console, console_err, print_cautions, print_warnings, real_console

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

# Re-exported from _output (typer-free) for the command modules.
__all__ = [
    "app",
    "console",
    "console_err",
    "print_cautions",
    "print_warnings",
    "real_console",
    "say",
    "say_err",
]
