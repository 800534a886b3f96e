"""Export a session to audio files: one WAV (or FLAC/OGG/MP3/M4A through ffmpeg), WAV on stdout,
one WAV per top-level step with a playlist, and captions.

Everything streams from :class:`voiceguide.audio.render.Renderer` block by block (memory does not grow
with the session), every file appears atomically, and the bytes depend only on the routine, the
voice settings and the speech cache, so two exports of the same routine are identical.
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
from typing import IO, TYPE_CHECKING, BinaryIO

from voiceguide.errors import ExportError, Problem, UsageError
from voiceguide.exporter.formats import SAMPLE_RATES
from voiceguide.fileio import atomic_output, atomic_write_text, default_mode, folder_problem
from voiceguide.hints import FFMPEG_INSTALL
from voiceguide.timeline.model import Timeline
from voiceguide.units import US

if TYPE_CHECKING:  # numpy-heavy modules load when an export runs, not when the CLI starts
    from voiceguide.audio.render import Renderer
    from voiceguide.speech.measured import MeasuredDurations

FFMPEG_FORMATS: dict[str, list[str]] = {
    ".flac": ["-c:a", "flac"],
    ".ogg": ["-c:a", "libvorbis", "-q:a", "5"],
    ".mp3": ["-c:a", "libmp3lame", "-q:a", "4"],
    ".m4a": ["-c:a", "aac", "-b:a", "128k"],
}
STDOUT = "-"

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class ExportResult:
    """What was written (paths in writing order) and how long the session is."""

    timeline: Timeline
    sample_rate: int
    channels: int
    frames: int
    files: list[Path] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


# ---------------------------------------------------------------------------------------------
# WAV


def wav_header(frames: int, sample_rate: int, channels: int) -> bytes:
    """A canonical 44-byte PCM16 header (sizes known up front, so stdout can stream)."""
    data = frames * channels * 2
    if data + 36 > 0xFFFFFFFF:
        raise ExportError("the session is too long for a WAV file (over 4 GB); use a lower "
                          "--sample-rate or export .flac")
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, sample_rate,
                                    sample_rate * channels * 2, channels * 2, 16)
            + b"data" + struct.pack("<I", data))


def _write_wav(out: IO[bytes], renderer: Renderer, start_us: int, end_us: int | None,
               tick: Callable[[int], None]) -> int:
    import numpy as np

    frames = renderer.frames_between(start_us, end_us)
    out.write(wav_header(frames, renderer.sample_rate, renderer.channels))
    written = 0
    for block in renderer.blocks(start_us, end_us):
        out.write(np.ascontiguousarray(block, dtype="<i2").data)  # no copy on x86/ARM
        written += block.shape[0]
        tick(block.shape[0])
    if written != frames:  # cannot happen unless the renderer is broken; never ship a bad file
        raise ExportError(f"internal error: rendered {written} frames, expected {frames}")
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


def split_names(timeline: Timeline) -> list[str]:
    """File names for ``--split``: ``01-introduction.wav``, ``02-cv6-sea-of-qi.wav``, ..."""
    width = max(2, len(str(len(timeline.steps))))
    return [f"{i:0{width}d}-{slug(s.title or s.kind)}.wav"
            for i, s in enumerate(timeline.steps, 1)]


def step_ranges(timeline: Timeline) -> list[tuple[int, int]]:
    """``[start_us, end_us)`` per top-level step; they tile the session, so the split files
    together are exactly the single export."""
    steps = timeline.steps
    bounds = [0] + [s.start_us for s in steps[1:]] + [timeline.total_us]
    return [(bounds[i], bounds[i + 1]) for i in range(len(steps))]


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
) -> ExportResult:
    """Export a routine (path, shipped name or compiled Timeline) to ``path`` and/or ``split_dir``.

    ``path`` ``"-"`` writes WAV to stdout (``stdout`` overrides the stream). ``progress``: True for
    a bar on stderr, False for none, None for a bar only when stderr is a terminal, or a callable
    ``(phase, done, total)``. ``on_warnings`` gets what loading let pass (unknown keys…) before
    anything is synthesized; ``strict`` makes those errors. Raises UsageError for impossible
    requests, ExportError when a file cannot be written, RoutineError/SpeechError from the routine
    and the engine.
    """
    if path is None and split_dir is None:
        raise UsageError("say where to export: -o FILE, -o - for standard output, or --split DIR")
    if sample_rate not in SAMPLE_RATES:
        raise UsageError(f"unsupported sample rate {sample_rate} Hz; use one of "
                         + ", ".join(str(r) for r in SAMPLE_RATES))
    to_stdout = path is not None and str(path) == STDOUT
    out_path = None if path is None or to_stdout else Path(path)
    if out_path is not None:
        _check_target(out_path)
    if captions and out_path is None and split_dir is None:
        raise UsageError("--captions needs a file to sit beside: use -o FILE or --split DIR")
    from voiceguide.pipeline import renderer_for  # numpy-heavy: loaded when an export runs

    with _progress_reporter(progress) as report:
        if isinstance(routine, Timeline):
            timeline, renderer = routine, renderer_for(routine, sample_rate=sample_rate)
        else:
            timeline, durations = _build(routine, avoid=avoid, engine=engine, voice=voice,
                                         rate=rate, volume=volume, report=report,
                                         language=language, strict=strict, on_warnings=on_warnings)
            renderer = renderer_for(timeline, durations, sample_rate=sample_rate)
        result = ExportResult(timeline, sample_rate, renderer.channels, renderer.total_frames)
        total = renderer.total_frames * ((out_path is not None or to_stdout)
                                         + (split_dir is not None))
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            report("Rendering", done, total)

        if to_stdout:
            stream = stdout if stdout is not None else sys.stdout.buffer
            try:
                _write_wav(stream, renderer, 0, None, tick)
                stream.flush()
            except BrokenPipeError:
                _silence_stdout()
                raise ExportError("the program reading the audio stopped early") from None
        elif out_path is not None:
            _write_file(out_path, renderer, tick)
            result.files.append(out_path)
            if captions:
                result.files.extend(_write_captions(timeline, out_path.with_suffix("")))
        if split_dir is not None:
            result.files.extend(_write_split(timeline, renderer, Path(split_dir), captions, tick))
        report("Rendering", total, total)
    return result


def _build(routine: str | Path, *, avoid: Sequence[str], engine: str | None, voice: str | None,
           rate: int | None, volume: float | None, report: Progress, language: str | None = None,
           strict: bool = False, on_warnings: Callable[[Sequence[Problem]], None] | None = None,
           ) -> tuple[Timeline, MeasuredDurations]:
    from voiceguide.pipeline import compile_measured, load_routine, voice_settings

    loaded = load_routine(routine, avoid=avoid, language=language, strict=strict)
    if on_warnings is not None and loaded.warnings:
        on_warnings(loaded.warnings)
    settings = voice_settings(loaded, engine=engine, voice=voice, rate=rate, volume=volume)
    return compile_measured(loaded, settings, report)


def _check_target(path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix != ".wav" and suffix not in FFMPEG_FORMATS:
        raise UsageError(f"cannot export to {path.name!r}: choose a .wav, "
                         + ", ".join(FFMPEG_FORMATS) + " file")
    if suffix in FFMPEG_FORMATS and ffmpeg_path() is None:
        raise ExportError(
            f"writing {suffix} files needs ffmpeg, which is not on PATH; install it "
            f"({FFMPEG_INSTALL}) "
            "or export to .wav")
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give a file name such as {path / 'session.wav'}")
    problem = folder_problem(path)
    if problem:
        raise problem


def ffmpeg_path() -> str | None:
    return shutil.which("ffmpeg")


def _write_file(path: Path, renderer: Renderer, tick: Callable[[int], None]) -> None:
    if path.suffix.lower() == ".wav":
        with atomic_output(path, large=True) as out:
            _write_wav(out, renderer, 0, None, tick)
    else:
        _encode_ffmpeg(path, renderer, tick)


def _encode_ffmpeg(path: Path, renderer: Renderer, tick: Callable[[int], None]) -> None:
    """Pipe WAV into ffmpeg, which writes a temporary file that is renamed into place."""
    ffmpeg = ffmpeg_path()
    if ffmpeg is None:
        raise ExportError("ffmpeg is not on PATH; install it or export to .wav")
    suffix = path.suffix.lower()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
           "-f", "wav", "-i", "pipe:0", "-map_metadata", "-1",
           "-fflags", "+bitexact", "-flags:a", "+bitexact",
           *FFMPEG_FORMATS[suffix], tmp]
    try:
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=errors)
            assert proc.stdin is not None
            try:
                _write_wav(proc.stdin, renderer, 0, None, tick)
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
                raise ExportError(f"ffmpeg could not write {path}: "
                                  + (detail[-1] if detail else f"exit status {code}"))
        os.chmod(tmp, default_mode())  # mkstemp makes it private; exports are ordinary files
        os.replace(tmp, path)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _write_captions(timeline: Timeline, stem: Path, *, start_us: int = 0,
                    end_us: int | None = None) -> list[Path]:
    from voiceguide.exporter.captions import cues, to_srt, to_vtt

    srt_path, vtt_path = stem.with_name(stem.name + ".srt"), stem.with_name(stem.name + ".vtt")
    items = cues(timeline, offset_us=start_us, start_us=start_us, end_us=end_us)
    atomic_write_text(srt_path, to_srt(items))
    atomic_write_text(vtt_path, to_vtt(items, timeline.title))
    return [srt_path, vtt_path]


def _write_split(timeline: Timeline, renderer: Renderer, folder: Path, captions: bool,
                 tick: Callable[[int], None]) -> list[Path]:
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--split needs a folder, but {folder} is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    written: list[Path] = []
    entries: list[str] = ["#EXTM3U", f"#PLAYLIST:{' '.join(timeline.title.split())}"]
    for name, (start, end), step in zip(split_names(timeline), step_ranges(timeline),
                                        timeline.steps, strict=True):
        target = folder / name
        with atomic_output(target, large=True) as out:
            _write_wav(out, renderer, start, end, tick)
        written.append(target)
        if captions:
            written.extend(_write_captions(timeline, target.with_suffix(""), start_us=start,
                                           end_us=end))
        seconds = round((end - start) / US)
        entries += [f"#EXTINF:{seconds},{' '.join((step.title or step.kind).split())}", name]
    playlist = folder / f"{slug(timeline.title, 'session')}.m3u"
    atomic_write_text(playlist, "\n".join(entries) + "\n")
    written.append(playlist)
    return written


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

    bar = RichProgress(TextColumn("{task.description:<12}"), BarColumn(), TaskProgressColumn(),
                   console=Console(stderr=True), transient=True)
    tasks: dict[str, TaskID] = {}

    def report(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=max(total, 1))
        bar.update(tasks[phase], completed=done, total=max(total, 1))

    with bar:
        yield report
