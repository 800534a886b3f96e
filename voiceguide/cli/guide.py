"""``voiceguide guide``: the printable page with a picture of every point."""

from __future__ import annotations

from pathlib import Path

import typer

from voiceguide.cli._app import AVOID, LANGUAGE, ROUTINE_HELP, STRICT, app, print_warnings, say

GUIDE_EXAMPLES = """\b
Examples:
  voiceguide guide lower-back-pain -o back.html
  voiceguide guide lower-back-pain -o back.html --avoid pregnancy
  voiceguide guide lower-back-pain -o rueckenschmerzen.html --language de"""


@app.command(epilog=GUIDE_EXAMPLES)
def guide(
    routine: str = typer.Argument(..., help=ROUTINE_HELP, show_default=False, metavar="ROUTINE"),
    output: Path = typer.Option(..., "--output", "-o", help="The HTML file to write.", show_default=False),
    avoid: list[str] = AVOID,
    language: str | None = LANGUAGE,
    strict: bool = STRICT,
) -> None:
    """Write a one-page HTML guide to print or keep on a phone: cautions, then a card per point."""
    from voiceguide.fileio import atomic_write_text
    from voiceguide.guide import build_guide

    page = build_guide(routine, avoid=avoid, language=language, strict=strict, on_warnings=print_warnings)
    atomic_write_text(output, page)
    say(f"Wrote {output}: open it in a browser, or print it.")
