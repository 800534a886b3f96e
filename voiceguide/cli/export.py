"""``voiceguide export`` and ``voiceguide cache``: sessions to audio files, and the speech cache."""

from __future__ import annotations

from pathlib import Path

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
    print_warnings,
    say,
    say_err,
)
from voiceguide.errors import UsageError
from voiceguide.exporter.formats import FORMATS, SAMPLE_RATES
from voiceguide.units import format_duration


@app.command()
def export(
    routine: str = typer.Argument(..., help=ROUTINE_HELP, show_default=False, metavar="ROUTINE"),
    output: str | None = typer.Option(
        None,
        "-o",
        "--output",
        metavar="FILE",
        help="Where to write: session.wav (or .flac, .ogg, .opus, .mp3, .m4a, .m4b with ffmpeg); "
        "- writes WAV to standard output; a missing folder is made. Without -o (and --split): "
        "a file named after the routine's title in the current folder.",
    ),
    format: str | None = typer.Option(
        None,
        "--format",
        metavar="FORMAT",
        help="phone (an .m4b audiobook with chapters and cover: mono AAC, 64 kb/s) or "
        + ", ".join(s.lstrip(".") for s in FORMATS)
        + ". Without -o, writes TITLE.m4b (etc.) "
        "here; with --split, the kind of the split files.",
    ),
    split: Path | None = typer.Option(
        None,
        "--split",
        metavar="DIR",
        help="Also (or instead) write one file per top-level step into DIR (WAV unless --format), "
        "tagged as numbered tracks, with an .m3u playlist.",
    ),
    chapters: str = typer.Option(
        "on",
        "--chapters",
        metavar="on|off",
        help="One named chapter per top-level step in the file (off: leave them out).",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print what was written as JSON: files, sizes, durations, chapters."
    ),
    captions: bool = typer.Option(
        False, "--captions", help="Write .srt and .vtt captions beside each audio file."
    ),
    avoid: list[str] = AVOID,
    engine: str | None = ENGINE,
    voice: str | None = VOICE,
    rate: int | None = RATE,
    volume: float | None = VOLUME,
    sample_rate: int = typer.Option(
        22050,
        "--sample-rate",
        metavar="HZ",
        help="Output sample rate: " + ", ".join(str(r) for r in SAMPLE_RATES) + ".",
    ),
    ambience: str | None = AMBIENCE,
    ambience_volume: str | None = AMBIENCE_VOLUME,
    loudness: str | None = typer.Option(
        None,
        "--loudness",
        metavar="LUFS|off",
        help="Normalise to this integrated loudness (default -19 LUFS mono, -16 stereo; true peak "
        "at most -1 dBTP), or off to leave the levels as rendered.",
    ),
    report: bool = typer.Option(
        False, "--report", help="Print the finished file's integrated loudness, loudness range and true peak."
    ),
    language: str | None = LANGUAGE,
    strict: bool = STRICT,
) -> None:
    """Export a routine to audio: one file, WAV on stdout, or one file per step.

    Speech is synthesized once and cached, so the second export is fast; the same routine gives
    byte-identical files on the same day (files carry the date: set SOURCE_DATE_EPOCH to pin it).
    Files appear complete or not at all.
    """
    if chapters not in ("on", "off"):
        raise UsageError(f"--chapters takes on or off, not {chapters!r}")
    if as_json and output == "-":
        raise UsageError(
            "--json prints to standard output, which -o - already fills with audio; "
            "write to a file with -o FILE"
        )
    from voiceguide.exporter.export import export as export_session  # loaded when it runs

    result = export_session(
        routine,
        output,
        split_dir=split,
        captions=captions,
        sample_rate=sample_rate,
        avoid=avoid,
        engine=engine,
        voice=voice,
        rate=rate,
        volume=volume,
        format=format,
        chapters=chapters == "on",
        language=language,
        strict=strict,
        on_warnings=print_warnings,
        ambience=ambience,
        ambience_volume=ambience_volume,
        loudness=loudness,
        report_loudness=report or as_json,
    )
    if output == "-":
        return  # stdout is the audio: say nothing
    if as_json:
        import json

        say(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    say_err(f"Exported {result.timeline.title!r} ({format_duration(result.timeline.total_us)}):")
    for path in result.files:
        say_err(f"  {path}")
    if result.loudness is not None:
        lo = result.loudness
        say_err(
            f"Loudness: {lo.integrated_lufs:.1f} LUFS integrated, range {lo.range_lu:.1f} LU, "
            f"true peak {lo.true_peak_dbtp:.1f} dBTP (gain {lo.gain_db:+.1f} dB)"
        )


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
