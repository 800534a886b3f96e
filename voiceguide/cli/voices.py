"""``voiceguide voices``: what can go in a routine's ``voice: {name: ...}`` or ``--voice``."""

from __future__ import annotations

import typer

from voiceguide.cli._app import app, console, console_err
from voiceguide.hints import NATURAL_INSTALL


@app.command()
def voices(
    engine: str = typer.Option(
        "pyttsx3",
        "--engine",
        "-e",
        help="Speech engine: pyttsx3 (default, espeak-ng on Linux) or piper (natural voice, "
        f"needs `{NATURAL_INSTALL}`).",
    ),
    language: str | None = typer.Option(
        None,
        "--language",
        "-l",
        help="Only voices for this language (en, en-US, fr…), best match first.",
    ),
) -> None:
    """List the voices an engine offers, with their languages.

    Use a voice's id or name as `voice: {name: ...}` in a routine or with --voice. With no voice
    named, a routine's `language:` picks the first voice `--language` lists here.
    """
    from rich.table import Table

    from voiceguide.speech.voices import list_voices

    found = list_voices(engine, language)
    if not found:
        where = f" for language {language!r}" if language else ""
        console_err.print(f"The {engine} engine has no voice{where}.", markup=False, highlight=False)
        return
    title = f"{engine} voices" + (f" for {language}" if language else "")
    table = Table(title=title, title_justify="left")
    for column in ("id", "name", "languages"):
        table.add_column(column, overflow="fold")
    for voice in found:
        table.add_row(voice.id, voice.name, ", ".join(voice.languages))
    console.print(table)
    if language:
        console.print(
            f"A routine with `language: {language}` and no voice named uses {found[0].id}.",
            markup=False,
        )
