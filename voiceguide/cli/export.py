"""``voiceguide export`` and ``voiceguide cache``: sessions to audio files, and the speech cache."""

from __future__ import annotations

from pathlib import Path

import typer

from voiceguide.cli._app import (
    AVOID_HELP,
    ENGINE_HELP,
    LANGUAGE_HELP,
    RATE_HELP,
    ROUTINE_HELP,
    STRICT_HELP,
    VOICE_HELP,
    VOLUME_HELP,
    app,
    print_warnings,
    say,
    say_err,
)
from voiceguide.exporter.formats import SAMPLE_RATES
from voiceguide.units import format_duration


@app.command()
def export(
    routine: str = typer.Argument(..., help=ROUTINE_HELP, show_default=False,
                                  metavar="ROUTINE"),
    output: str | None = typer.Option(
        None, "-o", "--output", metavar="FILE",
        help="Where to write: session.wav (or .flac, .ogg, .mp3, .m4a with ffmpeg); "
        "- writes WAV to standard output."),
    split: Path | None = typer.Option(
        None, "--split", metavar="DIR",
        help="Also (or instead) write one WAV per top-level step into DIR, with an .m3u playlist."),
    captions: bool = typer.Option(
        False, "--captions", help="Write .srt and .vtt captions beside each audio file."),
    avoid: list[str] = typer.Option(
        [], "--avoid", metavar="TAG", help=AVOID_HELP),
    engine: str | None = typer.Option(None, "--engine", metavar="NAME",
                                      help=ENGINE_HELP),
    voice: str | None = typer.Option(
        None, "--voice", metavar="VOICE", help=VOICE_HELP),
    rate: int | None = typer.Option(None, "--rate", min=80, max=300, metavar="WPM",
                                    help=RATE_HELP),
    volume: float | None = typer.Option(None, "--volume", min=0.0, max=1.0, metavar="0-1",
                                        help=VOLUME_HELP),
    sample_rate: int = typer.Option(
        22050, "--sample-rate", metavar="HZ",
        help="Output sample rate: " + ", ".join(str(r) for r in SAMPLE_RATES) + "."),
    language: str | None = typer.Option(None, "--language", "-l", metavar="CODE", help=LANGUAGE_HELP),
    strict: bool = typer.Option(False, "--strict", help=STRICT_HELP),
) -> None:
    """Export a routine to audio: one file, WAV on stdout, or one file per step.

    Speech is synthesized once and cached, so the second export is fast; the same routine gives
    byte-identical files every time. Files appear complete or not at all.
    """
    from voiceguide.exporter.export import export as export_session  # loaded when it runs

    result = export_session(
        routine, output, split_dir=split, captions=captions, sample_rate=sample_rate,
        avoid=avoid, engine=engine, voice=voice, rate=rate, volume=volume, language=language,
        strict=strict, on_warnings=print_warnings)
    if output == "-":
        return  # stdout is the audio: say nothing
    say_err(f"Exported {result.timeline.title!r} ({format_duration(result.timeline.total_us)}):")
    for path in result.files:
        say_err(f"  {path}")


cache_app = typer.Typer(
    help="Inspect or empty the speech cache (synthesized speech kept between runs).",
    no_args_is_help=True,
)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info() -> None:
    """Where the speech cache is and how much it holds."""
    from voiceguide.speech.cache import SpeechCache
    from voiceguide.units import format_size

    info = SpeechCache().info()
    say(f"path: {info.path}")
    say(f"clips: {info.entries}")
    say(f"size: {format_size(info.bytes)}")


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete every cached clip (they are re-synthesized when next needed)."""
    from voiceguide.speech.cache import SpeechCache
    from voiceguide.units import format_size

    removed = SpeechCache().clear()
    say(f"Removed {removed.entries} clips ({format_size(removed.bytes)}) from {removed.path}")
