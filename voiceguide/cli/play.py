"""``voiceguide play``: speak a routine aloud, in exact time, with single-key controls."""

from __future__ import annotations

import typer

from voiceguide.cli._app import (
    AMBIENCE,
    AMBIENCE_VOLUME,
    AVOID,
    ENGINE,
    LANGUAGE,
    RATE,
    ROUTINE_HELP,
    STRICT,
    VOICE,
    VOLUME,
    app,
    console,
)


@app.command()
def play(
    routine: str | None = typer.Argument(
        None, help=ROUTINE_HELP + " Optional with --resume.", show_default=False, metavar="ROUTINE"
    ),
    start: str | None = typer.Option(
        None,
        "--from",
        metavar="STEP",
        help="Go to this step after the introduction and its cautions: its number as "
        "`voiceguide show` prints it, or its title (e.g. a section name).",
    ),
    skip_intro: bool = typer.Option(
        False,
        "--skip-intro",
        help="Start at step 1 (or --from) without the spoken introduction. The cautions are "
        "still printed, and still spoken the first time this machine plays the routine.",
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Go on from where the last stopped session stopped (of ROUTINE, if named), "
        "without the spoken introduction. `voiceguide history` lists past sessions.",
    ),
    preview: str | None = typer.Option(
        None, "--preview", metavar="STEP", help="Play just this one step (for authors)."
    ),
    preview_sound: str | None = typer.Option(
        None,
        "--preview-sound",
        metavar="NAME",
        help="Play 10 s of an ambience bed (e.g. rain), a whole cue sound (e.g. chime) or a sound "
        "file, at the level a routine gives it, without a ROUTINE. `voiceguide sounds` lists them.",
    ),
    avoid: list[str] = AVOID,
    engine: str | None = ENGINE,
    voice: str | None = VOICE,
    rate: int | None = RATE,
    volume: float | None = VOLUME,
    language: str | None = LANGUAGE,
    strict: bool = STRICT,
    ambience: str | None = AMBIENCE,
    ambience_volume: str | None = AMBIENCE_VOLUME,
) -> None:
    """Play a routine aloud. Keys: space pause/resume, n or → next step, p or ← back, q quit.

    The cautions are printed and spoken first (--skip-intro: printed only, once this machine
    has spoken them). Each session is kept in `voiceguide history`; after q, --resume goes on
    from that step. Without a sound device, use `voiceguide export`. `--preview-sound rain`
    plays just a sound, to choose one for `ambience:` or `sound:`.
    """
    if preview_sound is not None:
        _preview_sound(preview_sound, routine=routine, others=(start, preview, skip_intro, resume))
        return
    from voiceguide.cli._plain import run_play

    run_play(
        routine,
        start=start,
        skip_intro=skip_intro,
        resume=resume,
        preview=preview,
        avoid=avoid,
        engine=engine,
        voice=voice,
        rate=rate,
        volume=volume,
        language=language,
        strict=strict,
        ambience=ambience,
        ambience_volume=ambience_volume,
    )


def _preview_sound(name: str, *, routine: str | None, others: tuple[object, ...]) -> None:
    """``--preview-sound``: one sound, nothing else (a ROUTINE or a step option is a mistake)."""
    from voiceguide.errors import UsageError
    from voiceguide.player.preview import SoundPreview, preview_sound

    if routine is not None or any(others):
        raise UsageError(
            "--preview-sound plays one sound on its own; leave out ROUTINE, --from, --preview, "
            f"--skip-intro and --resume (e.g. `voiceguide play --preview-sound {name}`)"
        )

    def say(sound: SoundPreview) -> None:
        what = "ambience bed, at the default volume" if sound.kind == "bed" else "cue sound"
        # markup off: a file's name may hold [brackets]
        console.print(f"Playing {sound.name} ({what}, {sound.seconds:.1f} s); Ctrl-C stops it.", markup=False)

    preview_sound(name, on_start=say)
