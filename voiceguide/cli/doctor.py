"""``voiceguide doctor``: check this machine's speech, sound output, cache and ffmpeg."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from voiceguide.cli._app import app, console

if TYPE_CHECKING:
    from voiceguide.doctor import Report


@app.command()
def doctor(
    engine: str = typer.Option("pyttsx3", "--engine", "-e", help="Speech engine to test: pyttsx3 or piper."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Check that speech, sound output, the speech cache and ffmpeg work, and say how to fix
    what does not.

    Nothing is heard: the sound device is opened with a few milliseconds of silence. Exit status
    0 when both `play` and `export` would work (warnings allowed), 1 otherwise.
    """
    from voiceguide.doctor import run_checks

    if as_json:
        report = run_checks(engine)
        console.print_json(
            json.dumps(
                {
                    "ok": report.ok,
                    "checks": [
                        {
                            "name": r.name,
                            "status": r.status,
                            "detail": r.detail,
                            "fix": r.fix,
                            "affects": list(r.affects),
                        }
                        for r in report.results
                    ],
                }
            )
        )
        raise typer.Exit(report.exit_code)
    with console.status("Checking speech, sound and files…"):
        report = run_checks(engine)
    _print_report(report)
    raise typer.Exit(report.exit_code)


def _print_report(report: Report) -> None:
    from rich.table import Table
    from rich.text import Text

    from voiceguide.doctor import FAIL, OK, WARN

    style = {OK: "green", WARN: "yellow", FAIL: "bold red"}
    label = {OK: "ok", WARN: "warn", FAIL: "FAIL"}
    table = Table(title="voiceguide doctor", title_justify="left", show_lines=False)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail", overflow="fold")
    with_fix = any(r.status != OK for r in report.results)
    if with_fix:
        table.add_column("fix", overflow="fold")
    for r in report.results:
        cells = [Text(r.name), Text(label[r.status], style=style[r.status]), Text(r.detail)]
        if with_fix:
            cells.append(Text(r.fix if r.status != OK else ""))
        table.add_row(*cells)
    console.print(table)
    broken = report.broken()
    if report.ok:
        warnings = sum(r.status == WARN for r in report.results)
        note = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
        console.print(Text(f"voiceguide can play and export{note}.", style="green"))
        return
    for feature in ("play", "export"):
        if broken.get(feature):
            console.print(
                Text(f"{feature} will not work: fix " + ", ".join(broken[feature]) + ".", style="red")
            )
        else:
            console.print(Text(f"{feature} works.", style="green"))
