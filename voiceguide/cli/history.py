"""``voiceguide history``: the sessions played on this machine, newest first."""

from __future__ import annotations

import json

import typer

from voiceguide.cli._app import app, console


@app.command()
def history(
    routine: str | None = typer.Argument(
        None,
        metavar="[ROUTINE]",
        help="Only this routine's sessions (a name or a file).",
        show_default=False,
    ),
    limit: int = typer.Option(20, "--limit", "-n", min=1, metavar="N", help="Show the last N sessions."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line, oldest first."),
) -> None:
    """Your practice: when each routine was played, for how long, and where it stopped.

    `voiceguide play --resume` goes on from the last stopped session.
    """
    from dataclasses import asdict

    from rich.table import Table

    from voiceguide.player.history import history_path, read_history, routine_ref

    sessions = read_history()
    if routine is not None:
        from voiceguide.routine.library import resolve_routine

        key = routine_ref(resolve_routine(routine))
        sessions = [s for s in sessions if s.routine == key]
    sessions = sessions[-limit:]
    if as_json:
        for s in sessions:
            typer.echo(json.dumps(asdict(s), ensure_ascii=False, sort_keys=True))
        return
    if not sessions:
        console.print(
            f"No sessions yet: each `voiceguide play` is kept here ({history_path()}).",
            markup=False,
            soft_wrap=False,
        )
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("When", no_wrap=True)
    table.add_column("Routine", overflow="fold")
    table.add_column("Minutes", justify="right", no_wrap=True)
    table.add_column("Result")
    for s in reversed(sessions):
        when = s.started.replace("T", " ")[:16]
        table.add_row(when, s.routine, f"{s.minutes:.1f}", s.result)
    console.print(table, soft_wrap=False)
