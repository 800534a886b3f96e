"""Tags, chapters and cover art inside finished audio files, in each format's own way.

- ``.m4b`` / ``.m4a``: ffmpeg writes chapters and text tags while it encodes, from an FFMETADATA
  file (:func:`ffmetadata`); mutagen then adds the cover and marks ``.m4b`` as an audiobook.
- ``.mp3``: mutagen writes ID3v2.3 text frames, CHAP frames under one ordered top-level CTOC,
  and an APIC front cover.
- ``.opus`` / ``.ogg`` / ``.flac``: mutagen writes Vorbis comments, chapters as
  ``CHAPTER001=HH:MM:SS.mmm`` / ``CHAPTER001NAME=`` (the Xiph chapter extension that ffmpeg, VLC
  and mpv read), and the cover as a FLAC picture block (``METADATA_BLOCK_PICTURE`` in Ogg).
- ``.wav``: no library writes markers, so :func:`wav_chunks` builds the three small RIFF chunks
  audio editors read: ``cue `` (one point per chapter, at its exact frame), ``LIST``/``adtl``
  with a ``labl`` name per point, and ``LIST``/``INFO`` text tags.

Everything here works on a file that is not yet in place (the export's temporary file), so a
file appears with its tags or not at all.

Over 400 lines on purpose: one writer per container, side by side, so the formats' rules
(ID3 frame order, Vorbis comment names, RIFF chunk padding) can be compared in one place.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voiceguide.exporter.chapters import Chapter, comment_text, tag_text

GENRE = "Health & Fitness"  # the podcast category phones file such sessions under
DEFAULT_ARTIST = "voiceguide"
VORBIS_MAX_CHAPTERS = 999  # the chapter extension numbers them 001-999

# ISO 639-1 -> ISO 639-2/B for the languages voices commonly exist in; ID3's TLAN wants the latter.
_ISO639_2 = {
    "ar": "ara",
    "cs": "cze",
    "da": "dan",
    "de": "ger",
    "el": "gre",
    "en": "eng",
    "es": "spa",
    "fi": "fin",
    "fr": "fre",
    "he": "heb",
    "hi": "hin",
    "hu": "hun",
    "id": "ind",
    "it": "ita",
    "ja": "jpn",
    "ko": "kor",
    "ms": "may",
    "nb": "nob",
    "nl": "dut",
    "no": "nor",
    "pl": "pol",
    "pt": "por",
    "ro": "rum",
    "ru": "rus",
    "sk": "slo",
    "sv": "swe",
    "th": "tha",
    "tr": "tur",
    "uk": "ukr",
    "vi": "vie",
    "zh": "chi",
}


@dataclass(frozen=True)
class Tags:
    """What a player shows about a file. ``album`` is the routine, ``title`` the file itself
    (the routine again for a single file, the step for a split file)."""

    title: str
    album: str
    artist: str = DEFAULT_ARTIST
    language: str = ""  # as the routine gives it ("en", "en-GB")
    date: str = ""  # YYYY-MM-DD
    genre: str = GENRE
    comment: str = ""
    track: int | None = None
    track_total: int | None = None

    @property
    def language_iso639_2(self) -> str:
        """Three-letter code, or "" when the routine's language is not one we can name so."""
        primary = self.language.lower().replace("_", "-").split("-")[0]
        if len(primary) == 3 and primary.isalpha():
            return primary
        return _ISO639_2.get(primary, "")

    @property
    def track_text(self) -> str:
        if self.track is None:
            return ""
        return f"{self.track}/{self.track_total}" if self.track_total else str(self.track)


@dataclass(frozen=True)
class Metadata:
    """Everything written into one file besides its audio."""

    tags: Tags
    chapters: tuple[Chapter, ...] = ()
    cover: bytes | None = None  # PNG
    audiobook: bool = False  # .m4b: players file it under audiobooks, with resume and chapters


def session_tags(
    title: str,
    *,
    author: str = "",
    language: str = "",
    cautions: Sequence[str] = (),
    track: int | None = None,
    track_total: int | None = None,
    file_title: str | None = None,
    date: str | None = None,
) -> Tags:
    """The tags of an exported session (or of one of its split files when ``track`` is given)."""
    album = tag_text(title) or "Session"
    return Tags(
        title=tag_text(file_title) if file_title else album,
        album=album,
        artist=tag_text(author) or DEFAULT_ARTIST,
        language=tag_text(language, limit=35),
        date=export_date() if date is None else date,
        comment=comment_text(cautions),
        track=track,
        track_total=track_total,
    )


def export_date() -> str:
    """Today in UTC, or the day ``SOURCE_DATE_EPOCH`` names (the reproducible-builds convention),
    so that files made from the same routine can be made byte-identical on any day."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        moment = dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc)
    else:
        moment = dt.datetime.now(tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%d")


def clock(ms: int) -> str:
    """``HH:MM:SS.mmm``, the chapter extension's time format."""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


# ---------------------------------------------------------------------------------------------
# MP4 (.m4b, .m4a): ffmpeg at encode time


def ffmetadata(meta: Metadata) -> str:
    """An FFMETADATA1 file: global tags, then one ``[CHAPTER]`` per chapter in exact frames
    (``TIMEBASE=1/rate``), so ffmpeg places each marker where the step's first sample is."""
    t = meta.tags
    lines = [";FFMETADATA1"]
    for key, value in (
        ("title", t.title),
        ("album", t.album),
        ("artist", t.artist),
        ("album_artist", t.artist),
        ("date", t.date),
        ("genre", t.genre),
        ("comment", t.comment),
        ("track", t.track_text),
    ):
        if value:
            lines.append(f"{key}={_ffescape(value)}")
    for c in meta.chapters:
        lines += [
            "[CHAPTER]",
            f"TIMEBASE=1/{c.sample_rate}",
            f"START={c.start_frame}",
            f"END={c.end_frame}",
            f"title={_ffescape(c.title)}",
        ]
    return "\n".join(lines) + "\n"


def ffmpeg_stream_args(meta: Metadata) -> list[str]:
    """Per-stream tags ffmpeg must be told on its command line (MP4 keeps language per track)."""
    lang = meta.tags.language_iso639_2
    return ["-metadata:s:a:0", f"language={lang}"] if lang else []


def _ffescape(value: str) -> str:
    out = []
    for ch in value:
        if ch in "=;#\\\n":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# After encoding: mutagen


def write_tags(path: Path, kind: str, meta: Metadata) -> None:
    """Add ``meta`` to the encoded file at ``path``; ``kind`` is the export suffix (``.mp3`` ...),
    since ``path`` may be a temporary name."""
    if kind in (".m4a", ".m4b"):
        _mp4(path, meta)
    elif kind == ".mp3":
        _id3(path, meta)
    elif kind in (".ogg", ".opus", ".flac"):
        _vorbis(path, kind, meta)
    else:
        raise ValueError(f"no tag writer for {kind}")


def _mp4(path: Path, meta: Metadata) -> None:
    """ffmpeg wrote chapters and text; the cover and the audiobook mark are mutagen's."""
    from mutagen.mp4 import MP4, MP4Cover

    if meta.cover is None and not meta.audiobook:
        return
    audio = MP4(path)
    if audio.tags is None:
        audio.add_tags()
    assert audio.tags is not None
    if meta.cover is not None:
        audio.tags["covr"] = [MP4Cover(meta.cover, imageformat=MP4Cover.FORMAT_PNG)]
    if meta.audiobook:
        audio.tags["stik"] = [2]  # iTunes media kind 2: audiobook
    audio.save()


def _id3(path: Path, meta: Metadata) -> None:
    from mutagen.id3 import (
        APIC,
        CHAP,
        COMM,
        CTOC,
        ID3,
        TALB,
        TCON,
        TDRC,
        TIT2,
        TLAN,
        TPE1,
        TPE2,
        TRCK,
        CTOCFlags,
        ID3NoHeaderError,
        PictureType,
    )

    ordered = _chapter_ordered_id3(ID3)
    try:
        tags = ordered(path)
    except ID3NoHeaderError:
        tags = ordered()
    t = meta.tags
    lang = t.language_iso639_2
    tags.add(TIT2(encoding=3, text=[t.title]))
    tags.add(TALB(encoding=3, text=[t.album]))
    tags.add(TPE1(encoding=3, text=[t.artist]))
    tags.add(TPE2(encoding=3, text=[t.artist]))
    tags.add(TCON(encoding=3, text=[t.genre]))
    if t.date:
        tags.add(TDRC(encoding=3, text=[t.date]))
    if lang:
        tags.add(TLAN(encoding=3, text=[lang]))
    if t.comment:
        tags.add(COMM(encoding=3, lang=lang or "und", desc="", text=[t.comment]))
    if t.track_text:
        tags.add(TRCK(encoding=3, text=[t.track_text]))
    if meta.cover is not None:
        tags.add(
            APIC(encoding=3, mime="image/png", type=PictureType.COVER_FRONT, desc="Cover", data=meta.cover)
        )
    if meta.chapters:
        ids = [f"chp{c.number}" for c in meta.chapters]
        tags.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=3, text=[t.title])],
            )
        )
        for element_id, c in zip(ids, meta.chapters, strict=True):
            # Offsets 0xFFFFFFFF: "use the times", as the CHAP specification allows.
            tags.add(
                CHAP(
                    element_id=element_id,
                    start_time=c.start_ms,
                    end_time=c.end_ms,
                    start_offset=0xFFFFFFFF,
                    end_offset=0xFFFFFFFF,
                    sub_frames=[TIT2(encoding=3, text=[c.title])],
                )
            )
    # v2.3: the version every phone, car stereo and desktop player reads.
    tags.save(path, v2_version=3)


def _chapter_ordered_id3(base: type[Any]) -> type[Any]:
    """mutagen writes frames sorted by size, which scatters CHAP frames; readers that list them
    in file order (ffmpeg, and players built on it) would show the chapters shuffled. This ID3
    writes the other frames as mutagen does, then the table of contents and the chapters in time
    order. (It overrides mutagen's frame writer; tests/test_chapters.py checks the order.)"""
    from mutagen.id3._tags import save_frame

    class ChapterOrderedID3(base):  # type: ignore[misc]
        def _write(self, config: Any) -> bytes:
            toc = [f for f in self.values() if f.FrameID in ("CTOC", "CHAP")]
            for frame in toc:
                del self[frame.HashKey]
            try:
                head = bytes(super()._write(config))
            finally:
                for frame in toc:
                    self.add(frame)
            toc.sort(key=lambda f: (f.FrameID != "CTOC", getattr(f, "start_time", 0)))
            return head + b"".join(bytes(save_frame(f, config=config)) for f in toc)

    return ChapterOrderedID3


def _vorbis(path: Path, kind: str, meta: Metadata) -> None:
    from mutagen.flac import FLAC, Picture

    audio: Any
    if kind == ".flac":
        audio = FLAC(path)
    elif kind == ".opus":
        from mutagen.oggopus import OggOpus

        audio = OggOpus(path)
    else:
        from mutagen.oggvorbis import OggVorbis

        audio = OggVorbis(path)
    comments = vorbis_comments(meta)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    for key, value in comments:
        tags[key] = value
    if meta.cover is not None:
        picture = Picture()
        picture.type = 3  # front cover
        picture.mime = "image/png"
        picture.desc = "Cover"
        picture.width, picture.height = _png_size(meta.cover)
        picture.depth = 8
        picture.data = meta.cover
        if isinstance(audio, FLAC):
            audio.clear_pictures()
            audio.add_picture(picture)
        else:
            tags["METADATA_BLOCK_PICTURE"] = base64.b64encode(picture.write()).decode("ascii")
    audio.save()


def vorbis_comments(meta: Metadata) -> list[tuple[str, str]]:
    """The Vorbis comments of a file, chapters numbered from 001 (at most 999 of them)."""
    t = meta.tags
    out = [
        ("TITLE", t.title),
        ("ALBUM", t.album),
        ("ARTIST", t.artist),
        ("ALBUMARTIST", t.artist),
        ("GENRE", t.genre),
        ("DATE", t.date),
        ("LANGUAGE", t.language),
        ("COMMENT", t.comment),
    ]
    if t.track is not None:
        out.append(("TRACKNUMBER", str(t.track)))
        if t.track_total:
            out.append(("TRACKTOTAL", str(t.track_total)))
    for c in meta.chapters[:VORBIS_MAX_CHAPTERS]:
        out += [(f"CHAPTER{c.number:03d}", clock(c.start_ms)), (f"CHAPTER{c.number:03d}NAME", c.title)]
    return [(k, v) for k, v in out if v]


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk always comes first
    return width, height


# ---------------------------------------------------------------------------------------------
# WAV: hand-written RIFF chunks (no maintained library writes cue points and labels)


def wav_chunks(meta: Metadata) -> bytes:
    """RIFF chunks to place after the ``data`` chunk of a WAV file.

    ``cue `` holds one cue point per chapter (id n, at the chapter's first frame, in ``data``),
    ``LIST``/``adtl`` a ``labl`` naming each point, and ``LIST``/``INFO`` the text tags
    (INAM title, IPRD album, IART artist, ICRD date, IGNR genre, ILNG language, ICMT comment,
    ITRK track). Text is UTF-8, NUL-terminated; every chunk is padded to an even length as RIFF
    requires. Put after the samples, the chunks leave the 44-byte canonical header in front, so
    readers that only know that header still find the audio.
    """
    out = b""
    if meta.chapters:
        points = b"".join(
            struct.pack("<II4sIII", c.number, c.start_frame, b"data", 0, 0, c.start_frame)
            for c in meta.chapters
        )
        out += _chunk(b"cue ", struct.pack("<I", len(meta.chapters)) + points)
        labels = b"".join(
            _chunk(b"labl", struct.pack("<I", c.number) + _zstr(c.title)) for c in meta.chapters
        )
        out += _chunk(b"LIST", b"adtl" + labels)
    t = meta.tags
    info = [
        (b"INAM", t.title),
        (b"IPRD", t.album),
        (b"IART", t.artist),
        (b"ICRD", t.date),
        (b"IGNR", t.genre),
        (b"ILNG", t.language),
        (b"ICMT", t.comment),
        (b"ITRK", t.track_text),
    ]
    body = b"".join(_chunk(key, _zstr(value)) for key, value in info if value)
    if body:
        out += _chunk(b"LIST", b"INFO" + body)
    return out


def _zstr(text: str) -> bytes:
    return text.encode("utf-8") + b"\0"


def _chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")
