"""Authoring commands: list, check, show, points, new, schema, phrases."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import typer

from voiceguide.cli._app import (
    AVOID,
    ENGINE,
    LANGUAGE,
    RATE,
    ROUTINE_HELP,
    STRICT,
    VOICE,
    app,
    console,
    console_err,
    print_warnings,
    say,
)
from voiceguide.errors import EXIT_INVALID, UsageError
from voiceguide.hints import suggestion
from voiceguide.units import format_duration, format_stamp, us_to_s

if TYPE_CHECKING:
    from voiceguide.routine.ambience import Ambience
    from voiceguide.timeline.model import Timeline


def _api() -> ModuleType:
    """The authoring library: the whole routine stage loads when a command runs, not for --help."""
    from voiceguide import authoring

    return authoring


CHECK_EXAMPLES = """\b
Examples:
  voiceguide check my-routine.yaml
  voiceguide check --strict scripts/*.yaml
  voiceguide check --parsable my-routine.yaml   # one line per problem, for editors"""
SHOW_EXAMPLES = """\b
Examples:
  voiceguide show lower-back-pain --estimate     # instant, speech lengths estimated
  voiceguide show lower-back-pain                # exact: synthesizes (and caches) the speech
  voiceguide show my-routine.yaml --json > plan.json
  voiceguide show lower-back-pain --avoid pregnancy"""
POINTS_EXAMPLES = """\b
Examples:
  voiceguide points            # the whole catalogue
  voiceguide points B48        # legacy code: shows BL53 in full
  voiceguide points hegu       # by pinyin name
  voiceguide points LI4 --svg li4.svg   # its diagram, to open in a browser"""
NEW_EXAMPLES = """\b
Examples:
  voiceguide new evening-hands
  voiceguide new evening-hands --dir ~/routines"""
ESTIMATE_HELP = "Estimate speech lengths from word counts instead of synthesizing (instant)."


@app.command("list", epilog="\x08\nExamples:\n  voiceguide list\n  voiceguide show box-breathing --estimate")
def list_routines(
    language: str | None = typer.Option(
        None, "--language", "-l", metavar="CODE", help="Only routines in this language (en, es, de, fr, zh)."
    ),
) -> None:
    """List the routines in this folder, the shipped ones and your own, with their length.

    The length is exact once the routine was exported or played in its voice (the speech cache
    holds every sentence), else an estimate marked "~"."""
    from rich.table import Table

    entries = _api().list_routines(language)
    table = Table(title="Routines", title_justify="left")
    for column in ("name", "title", "length", "where"):
        table.add_column(column)
    for entry in entries:
        table.add_row(entry.name, entry.title, entry.length, entry.where)
    console.print(table)
    console.print(
        f"Your own routines go in {_api().user_routines_dir()} (or any folder: pass the file's path)."
    )


@app.command(epilog=CHECK_EXAMPLES)
def check(
    files: list[Path] = typer.Argument(
        ..., help="Routine files to check.", show_default=False, metavar="FILE..."
    ),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings (unknown keys…) as errors."),
    parsable: bool = typer.Option(False, "--parsable", help="One line per problem, no source excerpt."),
) -> None:
    """Check routines and report every problem at once as file:line:col.

    Exit code 0 when every file is clean (warnings allowed unless --strict), 2 otherwise.
    """
    failed = False
    for path in files:
        problems = _api().check_file(path, strict=strict)
        if not problems:
            say(f"{path}: ok")
        for problem in problems:
            say(problem.format())
            if not parsable:
                excerpt = _excerpt(problem.file, problem.line, problem.column)
                if excerpt:
                    say(excerpt)
        failed = failed or any(p.severity == "error" for p in problems)
    if failed:
        raise typer.Exit(EXIT_INVALID)


def _excerpt(filename: str, line: int, column: int) -> str:
    """The offending source line with a caret under the column, like a compiler would show."""
    if line <= 0:
        return ""
    try:
        lines = Path(filename).read_text("utf-8-sig", errors="replace").splitlines()
    except OSError:
        return ""
    if line > len(lines):
        return ""
    text = lines[line - 1].replace("\t", " ")
    if len(text) > 160:
        return ""
    return f"    {text}\n    {' ' * max(column - 1, 0)}^"


@app.command(epilog=SHOW_EXAMPLES)
def show(
    routine: str = typer.Argument(..., help=ROUTINE_HELP, show_default=False, metavar="ROUTINE"),
    as_json: bool = typer.Option(False, "--json", help="Print the timeline as JSON."),
    estimate: bool = typer.Option(False, "--estimate", help=ESTIMATE_HELP),
    avoid: list[str] = AVOID,
    engine: str | None = ENGINE,
    voice: str | None = VOICE,
    rate: int | None = RATE,
    events: bool = typer.Option(False, "--events", help="List every event, silences included."),
    language: str | None = LANGUAGE,
    strict: bool = STRICT,
) -> None:
    """Show the planned session: when each step starts, what is said, holds and totals."""
    timeline = _api().build_timeline(
        routine,
        avoid=avoid,
        estimate=estimate,
        engine=engine,
        voice=voice,
        rate=rate,
        language=language,
        strict=strict,
    )
    print_warnings(timeline.warnings)
    if as_json:
        typer.echo(json.dumps(timeline.to_json(), indent=2, ensure_ascii=False))
        return
    _print_plan(timeline, estimate=estimate, all_events=events)


def _print_plan(timeline: Timeline, *, estimate: bool, all_events: bool) -> None:
    console.print(f"[bold]{timeline.title}[/bold]")
    how = "estimated from word counts" if estimate else "measured with the speech engine"
    console.print(f"Total {format_duration(timeline.total_us)} ({len(timeline.steps)} steps; speech {how}).")
    if timeline.avoided:
        console.print(f"Left out (--avoid): {', '.join(timeline.avoided)}")
    if timeline.cautions:
        console.print("Cautions:")
        for caution in timeline.cautions:
            console.print(f"  - {caution}", markup=False)
    if timeline.ambience:
        console.print(f"Ambience: {_ambience_text(timeline.ambience[0].ambience)}", markup=False)
    for step in timeline.steps:
        console.print()
        console.print(
            f"[bold]{format_stamp(step.start_us)}  {step.index:>2}. {step.title}[/bold]  "
            f"({format_duration(step.duration_us)})",
            highlight=False,
        )
        changes = [c for c in timeline.ambience if c.step == step.index]
        for event in timeline.step_events(step.index):
            while changes and changes[0].at_us <= event.start_us:
                change = changes.pop(0)
                console.print(
                    f"    {format_stamp(change.at_us)}  ≈ ambience {_ambience_text(change.ambience)}",
                    markup=False,
                )
            if event.kind == "speech":
                console.print(f"    {format_stamp(event.start_us)}  “{event.text}”", markup=False)
            elif event.kind == "sound":
                console.print(f"    {format_stamp(event.start_us)}  ♪ {event.sound}", markup=False)
            elif all_events:
                console.print(
                    f"    {format_stamp(event.start_us)}  … {us_to_s(event.duration_us):.2f} s",
                    markup=False,
                )
        for change in changes:  # at the very end of the step
            console.print(
                f"    {format_stamp(change.at_us)}  ≈ ambience {_ambience_text(change.ambience)}",
                markup=False,
            )
        for span in timeline.spans:
            if span.step == step.index and span.kind == "hold":
                side = f" ({span.side})" if span.side and span.side != "both" else ""
                console.print(
                    f"    {format_stamp(span.start_us)}  hold{side} "
                    f"{us_to_s(span.duration_us):g} s, until {format_stamp(span.end_us)}"
                )


def _ambience_text(a: Ambience) -> str:
    from voiceguide.routine.ambience import BEDS

    if a.off:
        return "off"
    name = Path(a.sound).name if a.sound not in BEDS else a.sound
    return f"{name} at {a.volume_db:g} dB, ducked {a.duck_db:g} dB, {us_to_s(a.fade_us):g} s fades"


@app.command(epilog=POINTS_EXAMPLES)
def points(
    query: str | None = typer.Argument(
        None, help="A code (BL23), legacy code (B47) or name.", show_default=False
    ),
    svg: Path | None = typer.Option(
        None, "--svg", "-o", help="Write the point's diagram to this SVG file.", show_default=False
    ),
) -> None:
    """Search the point catalogue by code, name, body part or use (`points wrist`, `points
    nausea`), best match first; a code or a single match is shown in full."""
    from rich.table import Table

    found = _api().find_points(query)
    if query and not found:
        suggestions = _api().suggest_points(query)
        hint = " " + suggestion(suggestions, quote=False, end="?", capital=True) if suggestions else ""
        raise UsageError(f"no point matches {query!r}.{hint} Run `voiceguide points` for the list.")
    exact = _api().resolve_point(query) if query else None
    single = exact or (found[0] if query and len(found) == 1 else None)
    if svg is not None and single is None:
        raise UsageError(
            "--svg needs one point: give its code, for example `voiceguide points BL23 --svg bl23.svg`"
        )
    if single is not None:
        from voiceguide.guide import point_svg

        point = single
        picture = point_svg(point.code)
        if svg is not None:
            if picture is None:
                raise UsageError(f"{point.code} has no diagram yet")
            _api().write_text(svg, picture)
            say(f"Wrote the diagram of {point.code} to {svg}.")
            return
        console.print(f"[bold]{point.code}[/bold] {point.pinyin} — {', '.join(point.names)}")
        rows = [
            ("Also known as", ", ".join(point.aliases) or "—"),
            ("Sides", point.sides),
            ("Location", point.location),
            ("Technique", point.technique),
            ("Default hold", format_duration(point.hold_us) if point.hold_us else "—"),
            ("Cautions", "; ".join(f"{t}: {_api().caution_text(t)}" for t in point.cautions) or "—"),
        ]
        if point.notes:
            rows.append(("Notes", point.notes))
        if picture is not None:
            rows.append(
                ("Picture", f"voiceguide points {point.code} --svg {point.code.lower()}.svg writes it")
            )
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, value in rows:
            table.add_row(key, value)
        console.print(table)
        return
    table = Table(
        title="Point catalogue" if not query else f"Points matching {query!r}", title_justify="left"
    )
    for column in ("code", "pinyin", "name", "aliases", "sides", "cautions"):
        table.add_column(column)
    for point in found:
        table.add_row(
            point.code,
            point.pinyin,
            point.name,
            ", ".join(point.aliases),
            point.sides,
            ", ".join(point.cautions),
        )
    console.print(table)


@app.command(epilog=NEW_EXAMPLES)
def new(
    name: str = typer.Argument(..., help="Name of the routine (file NAME.yaml).", show_default=False),
    directory: Path = typer.Option(Path("."), "--dir", help="Folder to write it in."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented starter routine to edit."""
    path = _api().new_routine(name, directory, force=force)
    console.print(
        f"Wrote {path}. Next: `voiceguide check {path}`, then "
        f"`voiceguide show --estimate {path}` and `voiceguide play {path}`."
    )


@app.command()
def schema(
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to this file."),
) -> None:
    """Print the routine JSON Schema (for editor completion and validation)."""
    text = _api().schema_text()
    if output is None:
        typer.echo(text, nl=False)
    else:
        _api().write_text(output, text)
        console_err.print(f"Wrote {output}")


@app.command()
def sounds() -> None:
    """List the shipped cue sounds (`sound:`, `chime:`) and ambience beds (`ambience:`)."""
    from rich.table import Table

    table = Table(title="Sounds", title_justify="left")
    for column in ("name", "use as", "what you hear"):
        table.add_column(column)
    for entry in _api().sound_list():
        use = f"sound: {entry.name}" if entry.kind == "cue" else f"ambience: {entry.name}"
        table.add_row(entry.name, use, entry.description)
    console.print(table)
    console.print("Your own: a WAV beside the routine for `sound:`, any sound file for `ambience:`.")
    console.print("Hear one: `voiceguide play --preview-sound NAME` (10 s of a bed, a whole cue sound).")


@app.command()
def phrases() -> None:
    """Print the built-in phrase table; override entries under `phrases:` in a routine."""
    from rich.table import Table

    table = Table(title="Phrases", title_justify="left")
    table.add_column("key")
    table.add_column("default text")
    for key, text in _api().phrase_table().items():
        table.add_row(key, text)
    console.print(table)
    console.print("Numbers are spoken as words; override n0…n99 for another language.")


DOCS_EXAMPLES = (
    "\x08\nExamples:\n  voiceguide docs\n  voiceguide docs routine-format\n  voiceguide docs safety"
)


@app.command(epilog=DOCS_EXAMPLES)
def docs(
    topic: str | None = typer.Argument(None, help="A topic; without one, the list.", show_default=False),
) -> None:
    """Read the documentation that comes with voiceguide (the routine format, writing a routine,
    safety, adding a language), also in an installed copy without the source tree."""
    if topic is None:
        for name in _api().doc_topics():
            typer.echo(name)
        return
    text = _api().doc_text(topic)
    if console.is_terminal:
        from rich.markdown import Markdown

        console.print(Markdown(text))
    else:
        typer.echo(text, nl=False)
