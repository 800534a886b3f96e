"""The typer application object and consoles shared by every command module."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="voiceguide",
    help=(
        "Turn a written routine (acupressure, breathing, stretching) into a spoken, precisely "
        "timed session you can follow with your hands busy and your eyes closed.\n\n"
        "Start with `voiceguide list`, then `voiceguide show lower-back-pain`, "
        "`voiceguide play lower-back-pain` or `voiceguide export lower-back-pain -o session.wav`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# soft_wrap: long lines (file:line:col problems) stay one line, so editors and grep can parse them.
console = Console(highlight=False, soft_wrap=True)
console_err = Console(stderr=True, highlight=False, soft_wrap=True)
