"""Phone-ready exports: chapters, tags and cover art, checked with readers that did not write them
(ffprobe for chapters, mutagen for tags and pictures, a RIFF parser written here for WAV markers),
against the plan ``voiceguide show --json`` prints. Real speech engine and real ffmpeg."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from voiceguide.cli import main
from voiceguide.exporter.chapters import chapters, file_stem, tag_text
from voiceguide.exporter.cover import cover_png
from voiceguide.exporter.tags import export_date
from voiceguide.pipeline import build_timeline
from voiceguide.units import frame_at

REPO = Path(__file__).resolve().parent.parent
HAS_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
RATE = 22050
# One codec frame at 22050 Hz: AAC 1024 samples, MP3 1152, Opus 20 ms; FLAC/WAV/Vorbis comments: 1 ms.
TOLERANCE = {
    ".m4b": 1024 / RATE,
    ".m4a": 1024 / RATE,
    ".mp3": 1152 / RATE,
    ".opus": 0.020,
    ".ogg": 0.001,
    ".flac": 0.001,
}
COMPRESSED = tuple(TOLERANCE)

ROUTINE = """\
title: 'Back ease: a test/routine'
author: Ana Tester
language: en
voice: {rate: 200}
cautions:
  - This is a test session, not medical advice.
  - Stop if anything hurts.
steps:
  - say: Sit comfortably.
  - point: CV6
    hold: 4s
    remind_every: 0
    countdown: 0
  - pause: 1s
  - section: Closing
    steps:
      - say: Well done.
"""


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The routine exported once to every format (chapters on and off), and its plan."""
    folder = tmp_path_factory.mktemp("phone")
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VOICEGUIDE_CACHE_DIR", str(cache))
        mp.setenv("SOURCE_DATE_EPOCH", "1767225600")
        routine = folder / "routine.yaml"
        routine.write_text(ROUTINE, encoding="utf-8")
        code, out, err = cli("show", str(routine), "--json")
        assert code == 0, err
        plan = json.loads(out)
        files: dict[str, Path] = {}
        suffixes = (".wav", *COMPRESSED) if HAS_FFMPEG else (".wav",)
        for suffix in suffixes:
            files[suffix] = folder / f"s{suffix}"
            code, _, err = cli("export", str(routine), "-o", str(files[suffix]))
            assert code == 0, err
        files["off.wav"] = folder / "off.wav"
        assert cli("export", str(routine), "-o", str(files["off.wav"]), "--chapters", "off")[0] == 0
    return {"routine": routine, "plan": plan, "files": files, "folder": folder, "cache": cache}


@pytest.fixture
def same_cache(session: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The session, with this test's exports using the speech the plan was measured with."""
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(session["cache"]))
    return session


# ---- chapters -----------------------------------------------------------------------------------


def ffprobe_chapters(path: Path) -> list[dict[str, Any]]:
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return list(json.loads(proc.stdout)["chapters"])


@pytest.mark.engine
@pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg is not installed")
@pytest.mark.parametrize("suffix", COMPRESSED)
def test_each_step_is_a_named_chapter_at_its_start(session: dict[str, Any], suffix: str) -> None:
    steps = session["plan"]["steps"]
    found = ffprobe_chapters(session["files"][suffix])
    assert len(found) == len(steps) >= 4
    # in the file in time order too: players built on ffmpeg list them as they come
    starts = [float(c["start_time"]) for c in found]
    assert starts == sorted(starts)
    for chapter, step in zip(found, steps, strict=True):
        assert chapter["tags"]["title"] == step["title"]
        assert abs(float(chapter["start_time"]) - step["start"]) <= TOLERANCE[suffix], step["title"]
    total = session["plan"]["total_seconds"]
    assert abs(float(found[-1]["end_time"]) - total) <= TOLERANCE[suffix] + 0.01


@pytest.mark.engine
@pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg is not installed")
@pytest.mark.parametrize("suffix", COMPRESSED)
def test_decoded_length_matches_the_wav_within_a_frame(session: dict[str, Any], suffix: str) -> None:
    wav_frames = riff_chunks(session["files"][".wav"].read_bytes())[b"data"][0].__len__() // 2
    decoded = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(session["files"][suffix]),
            "-map",
            "0:a",
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            str(RATE),
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    assert abs(len(decoded) // 2 - wav_frames) <= TOLERANCE[suffix] * RATE + 1


def riff_chunks(data: bytes) -> dict[bytes, list[bytes]]:
    """A minimal RIFF reader: top-level chunks of a WAVE file by id (independent of voiceguide)."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    chunks: dict[bytes, list[bytes]] = {}
    pos = 12
    while pos < len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        chunks.setdefault(cid, []).append(data[pos + 8 : pos + 8 + size])
        pos += 8 + size + (size % 2)
    assert pos == len(data)
    return chunks


def sub_chunks(payload: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 0
    while pos < len(payload):
        cid, size = payload[pos : pos + 4], struct.unpack("<I", payload[pos + 4 : pos + 8])[0]
        out.append((cid, payload[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size % 2)
    return out


@pytest.mark.engine
def test_wav_has_a_cue_point_and_label_per_step(session: dict[str, Any]) -> None:
    steps = session["plan"]["steps"]
    chunks = riff_chunks(session["files"][".wav"].read_bytes())
    cue = chunks[b"cue "][0]
    (count,) = struct.unpack("<I", cue[:4])
    assert count == len(steps)
    points = [struct.unpack("<II4sIII", cue[4 + 24 * i : 28 + 24 * i]) for i in range(count)]
    for (_, position, chunk, _, _, offset), step in zip(points, steps, strict=True):
        assert chunk == b"data" and position == offset
        assert abs(offset / RATE - step["start"]) <= 0.001, step["title"]
    lists = {payload[:4]: payload[4:] for payload in chunks[b"LIST"]}
    labels = {
        struct.unpack("<I", body[:4])[0]: body[4:].rstrip(b"\0").decode("utf-8")
        for cid, body in sub_chunks(lists[b"adtl"])
        if cid == b"labl"
    }
    assert [labels[p[0]] for p in points] == [s["title"] for s in steps]
    info = {cid: body.rstrip(b"\0").decode("utf-8") for cid, body in sub_chunks(lists[b"INFO"])}
    assert info[b"INAM"] == "Back ease: a test/routine"
    assert info[b"IART"] == "Ana Tester"
    assert "not medical advice" in info[b"ICMT"]


@pytest.mark.engine
def test_chapters_off_leaves_markers_out_and_the_audio_alone(session: dict[str, Any]) -> None:
    on = riff_chunks(session["files"][".wav"].read_bytes())
    off = riff_chunks(session["files"]["off.wav"].read_bytes())
    assert b"cue " not in off and b"cue " in on
    assert on[b"data"] == off[b"data"]
    assert b"INFO" in [p[:4] for p in off[b"LIST"]]  # tags stay


@pytest.mark.engine
@pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg is not installed")
def test_chapters_off_in_a_phone_file(tmp_path: Path, same_cache: dict[str, Any]) -> None:
    target = tmp_path / "plain.m4b"
    code, _, err = cli("export", str(same_cache["routine"]), "-o", str(target), "--chapters", "off")
    assert code == 0, err
    assert ffprobe_chapters(target) == []


# ---- tags and cover -------------------------------------------------------------------------------


def _text(tags: Any, *keys: str) -> str:
    for key in keys:
        if key in tags:
            value = tags[key]
            item = value[0] if isinstance(value, list) else value
            return str(getattr(item, "text", [item])[0] if hasattr(item, "text") else item)
    raise AssertionError(f"none of {keys} in {sorted(tags.keys())}")


@pytest.mark.engine
@pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg is not installed")
@pytest.mark.parametrize("suffix", COMPRESSED)
def test_tags_and_cover_read_back_with_mutagen(session: dict[str, Any], suffix: str) -> None:
    import mutagen
    from PIL import Image

    audio = mutagen.File(session["files"][suffix])
    assert audio is not None and audio.tags is not None
    tags = audio.tags
    title = _text(tags, "TITLE", "TIT2", "\xa9nam")
    assert title == "Back ease: a test/routine"
    assert _text(tags, "ARTIST", "TPE1", "\xa9ART") == "Ana Tester"
    assert _text(tags, "ALBUM", "TALB", "\xa9alb") == title
    assert _text(tags, "GENRE", "TCON", "\xa9gen") == "Health & Fitness"
    assert _text(tags, "DATE", "TDRC", "\xa9day").startswith("2026-01-01")
    comment = _text(tags, "COMMENT", "\xa9cmt") if suffix != ".mp3" else tags.getall("COMM")[0].text[0]
    assert "not medical advice" in comment and "Stop if anything hurts" in comment
    if suffix == ".mp3":
        assert tags["TLAN"].text == ["eng"]
        cover = tags.getall("APIC")[0].data
    elif suffix in (".m4b", ".m4a"):
        cover = bytes(tags["covr"][0])
        if suffix == ".m4b":
            assert tags["stik"] == [2]  # filed as an audiobook
    elif suffix == ".flac":
        assert _text(tags, "LANGUAGE") == "en"
        cover = audio.pictures[0].data
    else:
        import base64

        from mutagen.flac import Picture

        assert _text(tags, "LANGUAGE") == "en"
        cover = Picture(base64.b64decode(tags["METADATA_BLOCK_PICTURE"][0])).data
    assert cover[:8] == b"\x89PNG\r\n\x1a\n" and len(cover) <= 200_000
    with Image.open(io.BytesIO(cover)) as image:
        assert image.size[0] == image.size[1] >= 300
        # The belly drawing, with CV6 (the routine's one point) marked in red.
        assert _red_pixels(image.convert("RGB")) > 150


@pytest.mark.engine
@pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg is not installed")
def test_split_files_are_numbered_tracks_with_an_extended_playlist(
    tmp_path: Path, same_cache: dict[str, Any]
) -> None:
    import mutagen

    steps = same_cache["plan"]["steps"]
    folder = tmp_path / "phone"
    code, out, err = cli(
        "export", str(same_cache["routine"]), "--split", str(folder), "--format", "mp3", "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    tracks = [f for f in report["files"] if f["kind"] == "audio"]
    assert len(tracks) == len(steps)
    playlist = next(Path(f["path"]) for f in report["files"] if f["kind"] == "playlist")
    lines = playlist.read_text("utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    extinf = [ln for ln in lines if ln.startswith("#EXTINF:")]
    names = [ln for ln in lines if ln and not ln.startswith("#")]
    assert names == [Path(t["path"]).name for t in tracks]
    for n, (track, step, info) in enumerate(zip(tracks, steps, extinf, strict=True), 1):
        tags = mutagen.File(track["path"]).tags
        assert tags["TRCK"].text == [f"{n}/{len(steps)}"]
        assert tags["TIT2"].text == [step["title"]]
        assert tags["TALB"].text == ["Back ease: a test/routine"]
        seconds, title = info.removeprefix("#EXTINF:").split(",", 1)
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", track["path"]],
            capture_output=True,
            text=True,
        )
        assert abs(int(seconds) - float(probe.stdout)) <= 1 and title == step["title"]


# ---- the command line ------------------------------------------------------------------------------


@pytest.mark.engine
def test_json_reports_files_sizes_durations_and_chapters(tmp_path: Path, same_cache: dict[str, Any]) -> None:
    target = tmp_path / "s.wav"
    code, out, err = cli("export", str(same_cache["routine"]), "-o", str(target), "--captions", "--json")
    assert code == 0, err
    report = json.loads(out)
    plan = same_cache["plan"]
    assert report["seconds"] == pytest.approx(plan["total_seconds"], abs=1 / RATE)
    audio, *others = report["files"]
    assert audio["path"] == str(target) and audio["bytes"] == target.stat().st_size
    assert audio["seconds"] == pytest.approx(plan["total_seconds"], abs=1 / RATE)
    assert sorted(f["kind"] for f in others) == ["captions", "captions"]
    assert all(Path(f["path"]).stat().st_size == f["bytes"] for f in others)
    assert [c["title"] for c in audio["chapters"]] == [s["title"] for s in plan["steps"]]
    for chapter, step in zip(audio["chapters"], plan["steps"], strict=True):
        assert chapter["start"] == pytest.approx(step["start"], abs=1e-6)


@pytest.mark.engine
@pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg is not installed")
def test_format_phone_names_the_file_after_the_routine(
    tmp_path: Path, same_cache: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("export", str(same_cache["routine"]), "--format", "phone")
    assert code == 0, err
    written = list(tmp_path.iterdir())
    assert [p.name for p in written] == ["Back ease- a test-routine.m4b"]
    assert len(ffprobe_chapters(written[0])) == len(same_cache["plan"]["steps"])
    code, _, err = cli("export", str(same_cache["routine"]), "-o", "mine", "--format", "phone")
    assert code == 0, err
    assert (tmp_path / "mine.m4b").exists()


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["--format", "aiff", "-o", "x"], 2, ["unknown --format", "phone"]),
        (["-o", "x.aiff"], 2, ["cannot export to 'x.aiff'", ".m4b"]),
        (["-o", "x.wav", "--format", "mp3"], 2, ["x.wav", "--format", ".mp3"]),
        (["-o", "x.wav", "--chapters", "maybe"], 2, ["--chapters", "on or off"]),
        (["-o", "-", "--json"], 2, ["--json", "-o FILE"]),
        (["-o", "-", "--format", "phone"], 2, ["WAV only", ".m4b"]),
    ],
)
def test_bad_requests_are_clear_errors(tmp_path: Path, argv: list[str], code: int, words: list[str]) -> None:
    routine = tmp_path / "r.yaml"
    routine.write_text(ROUTINE, encoding="utf-8")
    got, _, err = cli(
        "export",
        str(routine),
        *[a.replace("x", str(tmp_path / "x"), 1) if a.startswith("x") else a for a in argv],
    )
    assert got == code and "Traceback" not in err
    for word in words:
        assert word in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.yaml"]


def test_no_ffmpeg_names_the_package_and_suggests_wav(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    routine = tmp_path / "r.yaml"
    routine.write_text(ROUTINE, encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, _, err = cli("export", str(routine), "--format", "phone", "-o", str(tmp_path / "s"))
    assert code == 1
    assert "apt-get install ffmpeg" in err and ".wav" in err and "Traceback" not in err


# ---- pure parts ------------------------------------------------------------------------------------


class _Step:
    def __init__(self, title: str, start_us: int, kind: str = "say") -> None:
        self.title, self.start_us, self.kind = title, start_us, kind


class _Timeline:
    def __init__(self, steps: list[_Step], total_us: int) -> None:
        self.steps, self.total_us = steps, total_us


def test_chapters_tile_the_session_on_the_renderers_frames() -> None:
    timeline = _Timeline(
        [_Step("Intro", 0), _Step("", 1_234_567, "pause"), _Step("Line\nbreak\tand\x00nul", 7_000_011)],
        9_999_999,
    )
    for rate in (8000, 22050, 44100, 48000):
        found = chapters(timeline, rate)
        assert [c.start_us for c in found] == [0, 1_234_567, 7_000_011]
        assert [c.end_us for c in found] == [1_234_567, 7_000_011, 9_999_999]
        assert [c.start_frame for c in found] == [frame_at(c.start_us, rate) for c in found]
        assert found[-1].end_frame == frame_at(9_999_999, rate)
    titles = [c.title for c in chapters(timeline, RATE)]
    assert titles == ["Intro", "Pause", "Line break and nul"]


def test_titles_are_sanitised_never_refused() -> None:
    assert tag_text("  a\u2028b\r\nc \ud800 d ") == "a b c ? d"
    long = tag_text("word " * 100)
    assert len(long) == 200 and long.endswith("…")
    for title, stem in [
        ("CON", "CON-session"),
        ("a/b:c*?", "a-b-c"),
        ("...", "session"),
        ("Nuit · détente", "Nuit · détente"),
        ("", "session"),
        ("trailing dot.", "trailing dot"),
    ]:
        assert file_stem(title) == stem
    cjk = file_stem("放松" * 100)
    assert len(cjk.encode("utf-8")) <= 120 and cjk.startswith("放松")


def test_the_date_tag_is_today_unless_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    assert export_date() == "2026-01-01"  # SOURCE_DATE_EPOCH from conftest
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    before = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    got = export_date()
    after = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    assert got in (before, after)


def test_the_cover_is_a_small_square_png_even_for_a_long_title() -> None:
    from PIL import Image

    data = cover_png("A very long routine title " * 12, [f"P{i} Point name {i}" for i in range(30)])
    assert len(data) <= 200_000
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.size == (600, 600)
    assert cover_png("Same", ["LI4 Hegu"]) == cover_png("Same", ["LI4 Hegu"])
    assert cover_png("Same", ["LI4 Hegu"]) != cover_png("Other", ["LI4 Hegu"])


def _red_pixels(image: Any) -> int:
    return sum(1 for r, g, b in image.get_flattened_data() if r > 170 and g < 60 and b < 80)


def _skin_pixels(image: Any) -> int:
    return sum(1 for r, g, b in image.get_flattened_data() if r > 240 and 215 < g < 235 and 195 < b < 215)


def test_the_cover_shows_the_body_map_with_the_routines_points() -> None:
    from PIL import Image

    from voiceguide.exporter.cover import timeline_cover

    back = timeline_cover(build_timeline("lower-back-pain", estimate=True))
    with Image.open(io.BytesIO(back)) as image:
        rgb = image.convert("RGB")
    assert rgb.size == (600, 600) and len(back) <= 200_000
    panel = rgb.crop((300, 200, 600, 520))  # the drawing's panel, right of the list of points
    assert _skin_pixels(panel) > 20_000, "the figure is drawn"
    # Six red dots on the back (BL23, BL52 and BL53 on both sides, GV3 on the spine), and a red
    # bullet before each of their names in the list.
    assert _red_pixels(panel) > 6 * 80
    assert _red_pixels(rgb.crop((40, 200, 70, 520))) > 4 * 20
    # A breathing routine has no points to draw: no figure, nothing red.
    with Image.open(io.BytesIO(timeline_cover(build_timeline("box-breathing", estimate=True)))) as image:
        plain = image.convert("RGB")
    assert _skin_pixels(plain) == 0 and _red_pixels(plain) == 0


def test_the_cover_is_the_same_bytes_cold_warm_and_after_a_damaged_cache(tmp_path: Path) -> None:
    """Kept in the cache folder so a re-export does not paint it again; never different bytes."""
    probe = (
        "import sys; from voiceguide.pipeline import build_timeline; "
        "from voiceguide.exporter.cover import timeline_cover; "
        "sys.stdout.buffer.write(timeline_cover(build_timeline('lower-back-pain', estimate=True)))"
    )
    env = {**os.environ, "VOICEGUIDE_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}

    def fresh_process() -> bytes:
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, check=True)
        return done.stdout

    cold = fresh_process()
    kept = list((tmp_path / "cache" / "covers").glob("*.png"))
    assert len(kept) == 1 and kept[0].read_bytes() == cold
    assert fresh_process() == cold
    kept[0].write_bytes(cold[: len(cold) // 2])  # torn by a crash
    assert fresh_process() == cold and kept[0].read_bytes() == cold
    clear = [sys.executable, "-m", "voiceguide", "cache", "clear"]
    done = subprocess.run(clear, env=env, capture_output=True, check=False)
    assert done.returncode == 0 and not kept[0].exists()

