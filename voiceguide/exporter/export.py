"""Export a session to audio files: one WAV (or FLAC/OGG/Opus/MP3/M4A/M4B through ffmpeg), WAV on
stdout, one file per top-level step with a playlist, and captions. Every file carries tags, and
single files one chapter per top-level step (:mod:`.chapters`, :mod:`.tags`, :mod:`.cover`).

Everything streams from :class:`voiceguide.audio.render.Renderer` block by block (memory does not grow
with the session), every file appears atomically, and the bytes depend only on the routine, the
voice settings and the speech cache, so two exports of the same routine are identical.

Over 400 lines: the one public `export()` and the writers it chooses between (WAV, stdout,
ffmpeg, split files with their playlist and captions); names, chapters, tags and the cover are in
their own modules.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from voiceguide.errors import ExportError, OutputClosed, Problem, UsageError
from voiceguide.exporter import chapters as chapter_list
from voiceguide.exporter.chapters import Chapter, file_stem, tag_text
from voiceguide.exporter.formats import FFMPEG_FORMATS, FORMAT_ALIASES, FORMATS, SAMPLE_RATES
from voiceguide.fileio import atomic_output, atomic_path, atomic_write_text, folder_problem
from voiceguide.hints import FFMPEG_INSTALL
from voiceguide.timeline.model import Timeline
from voiceguide.units import US

if TYPE_CHECKING:  # numpy-heavy modules load when an export runs, not when the CLI starts
    from voiceguide.audio.loudness import LoudnessReport
    from voiceguide.audio.master import Master
    from voiceguide.exporter.tags import Metadata
    from voiceguide.speech.measured import MeasuredDurations

MP4_SUFFIXES = (".m4a", ".m4b")
STDOUT = "-"

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class AudioFile:
    """One audio file written: its part of the session, its track number and its chapters."""

    path: Path
    start_us: int
    end_us: int
    frames: int
    title: str
    track: int | None = None
    chapters: tuple[Chapter, ...] = ()


@dataclass
class ExportResult:
    """What was written (paths in writing order) and how long the session is."""

    timeline: Timeline
    sample_rate: int
    channels: int
    frames: int
    files: list[Path] = field(default_factory=list)
    audio: list[AudioFile] = field(default_factory=list)
    chapters: list[Chapter] = field(default_factory=list)  # of the session; [] with chapters off
    loudness: LoudnessReport | None = None  # measured on the finished session, when asked for

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate

    def to_json(self) -> dict[str, Any]:
        """The documented ``export --json`` shape: every file with its size, audio files with
        their length, track and chapters (seconds, rounded to the microsecond)."""
        audio = {a.path: a for a in self.audio}
        files: list[dict[str, Any]] = []
        for path in self.files:
            entry: dict[str, Any] = {"path": str(path), "bytes": _size(path)}
            a = audio.get(path)
            if a is not None:
                entry.update(
                    kind="audio",
                    format=path.suffix.lower().lstrip("."),
                    seconds=a.frames / self.sample_rate,
                    title=a.title,
                    start=a.start_us / US,
                )
                if a.track is not None:
                    entry["track"] = a.track
                entry["chapters"] = [c.to_json() for c in a.chapters]
            else:
                entry["kind"] = {".srt": "captions", ".vtt": "captions", ".m3u": "playlist"}.get(
                    path.suffix.lower(), "other"
                )
            files.append(entry)
        return {
            "title": self.timeline.title,
            "seconds": self.seconds,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "chapters": [c.to_json() for c in self.chapters],
            "files": files,
            **({"loudness": self.loudness.as_dict()} if self.loudness is not None else {}),
        }


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


# ---------------------------------------------------------------------------------------------
# WAV


def wav_header(frames: int, sample_rate: int, channels: int, trailer: int = 0) -> bytes:
    """A canonical 44-byte PCM16 header (sizes known up front, so stdout can stream);
    ``trailer``: bytes of chunks (markers, tags) that follow the samples."""
    data = frames * channels * 2
    if data + 36 + trailer > 0xFFFFFFFF:
        raise ExportError(
            "the session is too long for a WAV file (over 4 GB); use a lower --sample-rate or export .flac"
        )
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data + trailer)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, sample_rate, sample_rate * channels * 2, channels * 2, 16)
        + b"data"
        + struct.pack("<I", data)
    )


def _write_wav(
    out: IO[bytes],
    renderer: Master,
    start_us: int,
    end_us: int | None,
    tick: Callable[[int], None],
    trailer: bytes = b"",
) -> int:
    import numpy as np

    frames = renderer.frames_between(start_us, end_us)
    out.write(wav_header(frames, renderer.sample_rate, renderer.channels, len(trailer)))
    written = 0
    for block in renderer.blocks(start_us, end_us):
        out.write(np.ascontiguousarray(block, dtype="<i2").data)  # no copy on x86/ARM
        written += block.shape[0]
        tick(block.shape[0])
    if written != frames:  # cannot happen unless the renderer is broken; never ship a bad file
        raise ExportError(f"internal error: rendered {written} frames, expected {frames}")
    out.write(trailer)
    return frames


# ---------------------------------------------------------------------------------------------
# Names


def slug(text: str, fallback: str = "step") -> str:
    """``"CV6: Sea of Qi"`` -> ``"cv6-sea-of-qi"``, ``"Respiración"`` -> ``"respiracion"``,
    ``"肾俞"`` -> ``"肾俞"``: accents are folded, letters of scripts without a Latin form are kept
    (file names are UTF-8 on every current filesystem), and nothing a shell or a filesystem treats
    specially survives."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    s = re.sub(r"[\W_]+", "-", unicodedata.normalize("NFC", folded).lower()).strip("-")
    if len(s) > 40:  # long titles (a step titled by its text) are cut at a word boundary
        s = s[:41].rsplit("-", 1)[0] if "-" in s[:41] else s[:40]
    return s.strip("-") or fallback


def split_names(timeline: Timeline, suffix: str = ".wav") -> list[str]:
    """File names for ``--split``: ``00-introduction.wav``, ``01-cv6-sea-of-qi.wav``, ... numbered
    as ``voiceguide show`` numbers the steps and ``play --from`` takes them."""
    width = max(2, len(str(len(timeline.steps) - 1)))
    return [f"{s.index:0{width}d}-{slug(s.title or s.kind)}{suffix}" for s in timeline.steps]


step_ranges = chapter_list.step_ranges  # the same steps as chapters and the player's skip


# ---------------------------------------------------------------------------------------------
# The public function


def export(
    routine: str | Path | Timeline,
    path: str | Path | None = None,
    *,
    split_dir: str | Path | None = None,
    captions: bool = False,
    sample_rate: int = 22050,
    avoid: Sequence[str] = (),
    engine: str | None = None,
    voice: str | None = None,
    rate: int | None = None,
    volume: float | None = None,
    progress: bool | Progress | None = None,
    stdout: BinaryIO | None = None,
    language: str | None = None,
    strict: bool = False,
    on_warnings: Callable[[Sequence[Problem]], None] | None = None,
    format: str | None = None,
    chapters: bool = True,
    ambience: str | None = None,
    ambience_volume: str | None = None,
    loudness: str | float | None = None,
    report_loudness: bool = False,
) -> ExportResult:
    """Export a routine (path, shipped name or compiled Timeline) to ``path`` and/or ``split_dir``.

    ``path`` ``"-"`` writes WAV to stdout (``stdout`` overrides the stream). ``format`` (``wav``,
    ``mp3``, ... or ``phone`` for ``.m4b``) names the kind of file when ``path`` has no suffix, picks
    the split files' kind, and with neither ``path`` nor ``split_dir`` writes ``<title>.<suffix>``
    in the current folder. ``chapters``: one chapter per top-level step in single files.
    ``ambience`` (a bed, a sound file or ``off``) and ``ambience_volume`` (``-22dB``) override the
    routine's; ``loudness`` is the target in LUFS (default -19 mono, -16 stereo) or ``off``, and
    ``report_loudness`` measures the finished session into ``ExportResult.loudness``.
    ``progress``: True for a bar on stderr, False for none, None for a bar only when stderr is a
    terminal, or a callable ``(phase, done, total)``. ``language`` speaks the session in another
    language; ``on_warnings`` gets what loading let pass (unknown keys…) before anything is
    synthesized, and ``strict`` makes those errors. Raises UsageError for impossible requests,
    ExportError when a file cannot be written, RoutineError/SpeechError from the routine and the
    engine.
    """
    suffix = _format_suffix(format)
    if path is None and split_dir is None and suffix is None:
        suffix = ".wav"  # no -o: a WAV named after the routine's title, in the current folder
    if sample_rate not in SAMPLE_RATES:
        raise UsageError(
            f"unsupported sample rate {sample_rate} Hz; use one of " + ", ".join(str(r) for r in SAMPLE_RATES)
        )
    to_stdout = path is not None and str(path) == STDOUT
    if to_stdout and suffix not in (None, ".wav"):
        raise UsageError(f"standard output carries WAV only; to get {suffix} give a file: -o session{suffix}")
    out_path = None if path is None or to_stdout else _with_suffix(Path(path), suffix)
    if out_path is not None:
        _check_target(out_path)
    split_suffix = suffix or ".wav"
    if split_dir is not None:
        _check_format(split_suffix, f"split files{split_suffix}")
    if captions and out_path is None and split_dir is None and path is not None:
        raise UsageError("--captions needs a file to sit beside: use -o FILE or --split DIR")
    from voiceguide.exporter.mastering import parse_loudness
    from voiceguide.timeline.ambience import parse_volume

    parse_loudness(loudness)  # a bad flag is reported before anything is synthesized
    if ambience_volume is not None:
        parse_volume(ambience_volume)
    from voiceguide.pipeline import renderer_for  # numpy-heavy: loaded when an export runs

    with _progress_reporter(progress) as report:
        if isinstance(routine, Timeline):
            timeline, rendered = routine, renderer_for(routine, sample_rate=sample_rate)
        else:
            timeline, durations = _build(
                routine,
                avoid=avoid,
                engine=engine,
                voice=voice,
                rate=rate,
                volume=volume,
                report=report,
                language=language,
                strict=strict,
                on_warnings=on_warnings,
            )
            rendered = renderer_for(timeline, durations, sample_rate=sample_rate)
        from voiceguide.exporter.mastering import master_for, report_for

        renderer = master_for(
            timeline, rendered, ambience=ambience, ambience_volume=ambience_volume, loudness=loudness
        )
        if path is None and split_dir is None and suffix is not None:
            out_path = Path(file_stem(timeline.title) + suffix)
            _check_target(out_path)
        result = ExportResult(timeline, sample_rate, renderer.channels, renderer.total_frames)
        if chapters:
            result.chapters = chapter_list.chapters(timeline, sample_rate)
        total = renderer.total_frames * ((out_path is not None or to_stdout) + (split_dir is not None))
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            report("Rendering", done, total)

        kind = out_path.suffix.lower() if out_path is not None else ".wav"
        single = _metadata(
            timeline,
            result.chapters,
            audiobook=kind == ".m4b",
            cover=_cover(timeline) if kind != ".wav" else None,
        )
        if to_stdout:
            stream = stdout if stdout is not None else sys.stdout.buffer
            try:
                _write_wav(stream, renderer, 0, None, tick, _wav_trailer(single))
                stream.flush()
            except BrokenPipeError:
                _silence_stdout()
                raise OutputClosed("the program reading the audio stopped early") from None
        elif out_path is not None:
            try:  # `-o newdir/session.wav` makes the folder, as people expect
                out_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ExportError(
                    f"cannot make the folder {out_path.parent}: {exc.strerror or exc}"
                ) from None
            _write_file(out_path, renderer, tick, single)
            result.files.append(out_path)
            result.audio.append(
                AudioFile(
                    out_path,
                    0,
                    timeline.total_us,
                    renderer.total_frames,
                    single.tags.title,
                    None,
                    single.chapters,
                )
            )
            if captions:
                result.files.extend(_write_captions(timeline, out_path.with_suffix("")))
        if split_dir is not None:
            _write_split(timeline, renderer, Path(split_dir), captions, tick, split_suffix, result)
        if report_loudness:
            result.loudness = report_for(renderer)
        report("Rendering", total, total)
    return result


def _format_suffix(format: str | None) -> str | None:
    """``"mp3"``, ``".mp3"`` or ``"phone"`` -> ``".mp3"`` / ``".m4b"``; None stays None."""
    if format is None:
        return None
    name = format.strip().lower()
    suffix = FORMAT_ALIASES.get(name) or ("." + name.lstrip("."))
    if suffix not in FORMATS:
        raise UsageError(
            f"unknown --format {format!r}; use phone (an .m4b audiobook for your "
            "phone) or one of " + ", ".join(s.lstrip(".") for s in FORMATS)
        )
    return suffix


def _with_suffix(path: Path, suffix: str | None) -> Path:
    """``-o back --format phone`` -> ``back.m4b``; a suffix that disagrees with --format is an error."""
    if suffix is None:
        return path
    current = path.suffix.lower()
    if current in FORMATS:
        if current != suffix:
            raise UsageError(
                f"-o {path.name} is a {current} file but --format asks for {suffix}; change one of them"
            )
        return path
    return path.with_name(path.name + suffix)


def _metadata(
    timeline: Timeline,
    chapters: Sequence[Chapter],
    *,
    cover: bytes | None,
    audiobook: bool = False,
    track: int | None = None,
    file_title: str | None = None,
) -> Metadata:
    from voiceguide.exporter.tags import Metadata, session_tags

    tags = session_tags(
        timeline.title,
        author=timeline.author,
        language=timeline.voice.language,
        cautions=timeline.cautions,
        track=track,
        track_total=len(timeline.steps) if track is not None else None,
        file_title=file_title,
    )
    return Metadata(tags, tuple(chapters), cover, audiobook)


def _cover(timeline: Timeline) -> bytes:
    from voiceguide.exporter.cover import timeline_cover

    return timeline_cover(timeline)


def _wav_trailer(meta: Metadata) -> bytes:
    from voiceguide.exporter.tags import wav_chunks

    return wav_chunks(meta)


def _build(
    routine: str | Path,
    *,
    avoid: Sequence[str],
    engine: str | None,
    voice: str | None,
    rate: int | None,
    volume: float | None,
    report: Progress,
    language: str | None = None,
    strict: bool = False,
    on_warnings: Callable[[Sequence[Problem]], None] | None = None,
) -> tuple[Timeline, MeasuredDurations]:
    from voiceguide.pipeline import compile_measured, load_routine, voice_settings

    loaded = load_routine(routine, avoid=avoid, language=language, strict=strict)
    if on_warnings is not None and loaded.warnings:
        on_warnings(loaded.warnings)
    settings = voice_settings(loaded, engine=engine, voice=voice, rate=rate, volume=volume)
    return compile_measured(loaded, settings, report)


def _check_target(path: Path) -> None:
    _check_format(path.suffix.lower(), repr(path.name))
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give a file name such as {path / 'session.wav'}")
    problem = folder_problem(path)
    if problem and any(p.exists() and not p.is_dir() for p in (path.parent, *path.parent.parents)):
        raise problem  # a file stands where a folder should be; a missing folder is made later


def _check_format(suffix: str, what: str) -> None:
    if suffix not in FORMATS:
        raise UsageError(
            f"cannot export to {what}: choose a "
            + ", ".join(FORMATS)
            + " file (or --format phone for an .m4b audiobook)"
        )
    if suffix in FFMPEG_FORMATS and ffmpeg_path() is None:
        raise ExportError(
            f"writing {suffix} files needs ffmpeg, which is not on PATH; install it "
            f"(the Debian/Ubuntu package: {FFMPEG_INSTALL}) or export to .wav"
        )


def ffmpeg_path() -> str | None:
    return shutil.which("ffmpeg")


def _write_file(
    path: Path,
    renderer: Master,
    tick: Callable[[int], None],
    meta: Metadata,
    start_us: int = 0,
    end_us: int | None = None,
) -> None:
    if path.suffix.lower() == ".wav":
        with atomic_output(path, large=True) as out:
            _write_wav(out, renderer, start_us, end_us, tick, _wav_trailer(meta))
    else:
        _encode_ffmpeg(path, renderer, tick, meta, start_us, end_us)


def _encode_ffmpeg(
    path: Path,
    renderer: Master,
    tick: Callable[[int], None],
    meta: Metadata,
    start_us: int = 0,
    end_us: int | None = None,
) -> None:
    """Pipe WAV into ffmpeg, which writes a temporary file; tags go into that file, which is then
    renamed into place. MP4 gets its chapters and text tags from an FFMETADATA file at encode
    time, the other formats from :func:`voiceguide.tags.write_tags` afterwards."""

    ffmpeg = ffmpeg_path()
    if ffmpeg is None:
        raise ExportError(
            "ffmpeg is not on PATH; install it (`sudo apt-get install ffmpeg`) or export to .wav"
        )
    suffix = path.suffix.lower()
    with atomic_path(path, suffix) as tmp:
        _run_ffmpeg(ffmpeg, path, tmp, suffix, renderer, tick, meta, start_us, end_us)


def _run_ffmpeg(
    ffmpeg: str,
    path: Path,
    tmp: Path,
    suffix: str,
    renderer: Master,
    tick: Callable[[int], None],
    meta: Metadata,
    start_us: int,
    end_us: int | None,
) -> None:
    from voiceguide.exporter.tags import ffmetadata, ffmpeg_stream_args, write_tags

    meta_file: str | None = None
    inputs = ["-f", "wav", "-i", "pipe:0"]
    mapping = ["-map", "0:a", "-map_metadata", "-1", "-map_chapters", "-1"]
    if suffix in MP4_SUFFIXES:
        mfd, meta_file = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".ffmeta", dir=path.parent)
        with os.fdopen(mfd, "w", encoding="utf-8") as handle:
            handle.write(ffmetadata(meta))
        inputs += ["-f", "ffmetadata", "-i", meta_file]
        mapping = [
            "-map",
            "0:a",
            "-map_metadata",
            "1",
            "-map_chapters",
            "1",
            *ffmpeg_stream_args(meta),
            "-movflags",
            "+faststart",
        ]
    cmd = [
        ffmpeg,
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-y",
        *inputs,
        *mapping,
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        *FFMPEG_FORMATS[suffix],
        str(tmp),
    ]
    try:
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)
            assert proc.stdin is not None
            try:
                _write_wav(proc.stdin, renderer, start_us, end_us, tick)
                proc.stdin.close()
            except BrokenPipeError:
                pass  # ffmpeg stopped reading: its exit status and message say why
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            code = proc.wait()
            if code != 0:
                errors.seek(0)
                detail = errors.read().decode("utf-8", "replace").strip().splitlines()
                raise ExportError(
                    f"ffmpeg could not write {path}: " + (detail[-1] if detail else f"exit status {code}")
                )
        try:
            write_tags(tmp, suffix, meta)
        except Exception as exc:  # mutagen's errors share no base class worth naming
            if isinstance(exc, OSError):
                raise
            raise ExportError(f"cannot add tags and chapters to {path}: {exc}") from None
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if meta_file is not None:
            with contextlib.suppress(OSError):
                os.unlink(meta_file)


def _write_captions(
    timeline: Timeline, stem: Path, *, start_us: int = 0, end_us: int | None = None
) -> list[Path]:
    from voiceguide.exporter.captions import cues, to_srt, to_vtt

    srt_path, vtt_path = stem.with_name(stem.name + ".srt"), stem.with_name(stem.name + ".vtt")
    items = cues(timeline, offset_us=start_us, start_us=start_us, end_us=end_us)
    atomic_write_text(srt_path, to_srt(items))
    atomic_write_text(vtt_path, to_vtt(items, timeline.title))
    return [srt_path, vtt_path]


def _write_split(
    timeline: Timeline,
    renderer: Master,
    folder: Path,
    captions: bool,
    tick: Callable[[int], None],
    suffix: str,
    result: ExportResult,
) -> None:
    """One file per top-level step, each tagged as a track of the routine, and an extended M3U
    playlist (``#EXTINF:<seconds>,<title>``) that plays them in order."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--split needs a folder, but {folder} is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    written = result.files
    entries: list[str] = ["#EXTM3U", f"#PLAYLIST:{tag_text(timeline.title)}"]
    cover = _cover(timeline) if suffix != ".wav" else None
    parts = zip(
        split_names(timeline, suffix), chapter_list.chapters(timeline, renderer.sample_rate), strict=True
    )
    for track, (name, chapter) in enumerate(parts, 1):
        start, end = chapter.start_us, chapter.end_us
        target = folder / name
        meta = _metadata(
            timeline, (), cover=cover, audiobook=suffix == ".m4b", track=track, file_title=chapter.title
        )
        _write_file(target, renderer, tick, meta, start, end)
        written.append(target)
        result.audio.append(
            AudioFile(target, start, end, chapter.end_frame - chapter.start_frame, chapter.title, track)
        )
        if captions:
            written.extend(_write_captions(timeline, target.with_suffix(""), start_us=start, end_us=end))
        seconds = max(1, round((end - start) / US))
        entries += [f"#EXTINF:{seconds},{chapter.title}", name]
    playlist = folder / f"{slug(timeline.title, 'session')}.m3u"
    atomic_write_text(playlist, "\n".join(entries) + "\n")
    written.append(playlist)


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush is quiet."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


# ---------------------------------------------------------------------------------------------
# Progress


@contextlib.contextmanager
def _progress_reporter(progress: bool | Progress | None) -> Iterator[Progress]:
    if callable(progress):
        yield progress
        return
    show = sys.stderr.isatty() if progress is None else bool(progress)
    if not show:
        yield lambda phase, done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, TaskID, TaskProgressColumn, TextColumn
    from rich.progress import Progress as RichProgress

    bar = RichProgress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        TaskProgressColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def report(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=max(total, 1))
        bar.update(tasks[phase], completed=done, total=max(total, 1))

    with bar:
        yield report
