"""The speech cache: synthesized clips on disk, so a session is synthesized once.

Entries live in the platform's user cache folder (``VOICEGUIDE_CACHE_DIR`` overrides it), one file
per clip, named by a hash of everything that changes the audio (engine, engine version, voice,
rate, volume, text). Each file carries its key and a CRC-32 of its samples: a torn, truncated or
foreign file is detected on read and treated as a miss. Files are written to a temporary name
and renamed into place, so concurrent processes can share the cache without locks (the worst
case is both synthesizing the same clip and one rename winning with identical content).
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voiceguide.audio.clip import Clip
from voiceguide.errors import ExportError
from voiceguide.speech.lengths import ENV, MAGIC, SUFFIX, cache_dir, clip_length_us, clip_path, key_digest
from voiceguide.speech.lengths import canonical as _canonical

__all__ = [
    "ENV",
    "MAGIC",
    "SUFFIX",
    "CacheInfo",
    "SpeechCache",
    "cache_dir",
    "decode_entry",
    "encode_entry",
    "key_digest",
]


@dataclass(frozen=True)
class CacheInfo:
    path: Path
    entries: int
    bytes: int


class SpeechCache:
    """Clips by key on disk. Reads never raise for bad entries: they are misses (and removed)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else cache_dir()
        self._made: set[Path] = set()  # folders known to exist (saves a syscall per clip)
        self._warned = False

    def path_for(self, key: Mapping[str, Any]) -> Path:
        return clip_path(self.root, key)

    def get(self, key: Mapping[str, Any]) -> Clip | None:
        path = self.path_for(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        clip = decode_entry(data, key)
        if clip is None:  # corrupt or foreign: drop it so it is rewritten
            with contextlib.suppress(OSError):
                path.unlink()
        return clip

    def duration_us(self, key: Mapping[str, Any]) -> int | None:
        """The stored clip's length from its header alone (see :func:`.lengths.clip_length_us`)."""
        return clip_length_us(self.path_for(key), key)

    def put(self, key: Mapping[str, Any], clip: Clip) -> Clip | None:
        """Store ``clip`` unless a valid entry is already there: the first writer wins.

        Returns the clip now stored under ``key`` (another process's, if it got there first; use
        it, so what was measured is what gets rendered), or None when the cache can't be written.
        espeak's output depends slightly on what the process spoke before, so two processes can
        make different clips for one text; an entry must never change once someone measured it.
        """
        path = self.path_for(key)
        data = encode_entry(key, clip)
        # The name is chosen before the file exists and created inside the try, so a Ctrl-C at
        # any instant leaves no temporary file behind.
        tmp = path.with_name(f".tmp-{os.urandom(8).hex()}{SUFFIX}")
        try:
            if path.parent not in self._made:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._made.add(path.parent)
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                return self._publish(tmp, path, key, clip)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        except OSError as exc:
            # A cache that can't be written only costs speed; say so once, don't fail the session.
            if not self._warned:
                import logging

                logging.getLogger(__name__).warning("speech cache not written (%s)", exc)
                self._warned = True
            return None

    def _publish(self, tmp: Path, path: Path, key: Mapping[str, Any], clip: Clip) -> Clip:
        """Move a complete temporary entry into place without replacing a valid one."""
        try:
            os.link(tmp, path)  # atomic, and fails if the entry exists
            return clip
        except OSError:  # the entry exists, or no hard links here (FAT, some network drives)
            if path.exists():
                stored = self.get(key)  # a damaged entry is removed by get(): take its place
                if stored is not None:
                    return stored
            os.replace(tmp, path)
            return clip

    def _files(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return [p for p in self.root.glob("*/*") if p.suffix == SUFFIX and p.is_file()]

    def info(self) -> CacheInfo:
        files = [p for p in self._files() if not p.name.startswith(".tmp-")]
        return CacheInfo(self.root, len(files), sum(_size(p) for p in files))

    def clear(self) -> CacheInfo:
        """Remove every clip (and stray temporary files); returns what was removed."""
        removed = 0
        freed = 0
        for p in self._files():
            size = _size(p)
            try:
                p.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise ExportError(f"cannot clear the speech cache at {self.root}: {exc}") from None
            if not p.name.startswith(".tmp-"):
                removed += 1
            freed += size
        # What is kept beside the clips: exported covers (exporter/cover.py), generated ambience
        # beds, loudness measurements and the limiter's records (exporter/mastering.py), the help
        # text kept by voiceguide._helpcache (typer renders it again on the next --help), and
        # optimised copies of the natural voice's model, which earlier builds kept here.
        patterns = (
            "covers/*.png",
            "beds/*.npz",
            "loudness/*.json",
            "loudness/*.need.npz",
            "help/*.txt",
            "models/*.onnx",
        )
        kept = [p for pattern in patterns for p in self.root.glob(pattern)] if self.root.is_dir() else []
        for p in kept:
            size = _size(p)
            with contextlib.suppress(OSError):
                p.unlink()
                freed += size
        for d in sorted(self.root.glob("*"), reverse=True) if self.root.is_dir() else []:
            if d.is_dir():
                with contextlib.suppress(OSError):
                    d.rmdir()
        return CacheInfo(self.root, removed, freed)


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


# Layout: MAGIC, u32 header length, header JSON (key, rate, channels, frames, crc32), samples
# as little-endian int16 interleaved.


def encode_entry(key: Mapping[str, Any], clip: Clip) -> bytes:
    payload = np.ascontiguousarray(clip.samples, dtype="<i2").tobytes()
    header = _canonical(
        {
            "key": dict(key),
            "rate": clip.sample_rate,
            "channels": clip.channels,
            "frames": clip.frames,
            "crc32": zlib.crc32(payload),
        }
    )
    return MAGIC + struct.pack("<I", len(header)) + header + payload


def decode_entry(data: bytes, key: Mapping[str, Any] | None = None) -> Clip | None:
    """The clip, or None when the entry is damaged or belongs to another key."""
    start = len(MAGIC) + 4
    if len(data) < start or not data.startswith(MAGIC):
        return None
    (hlen,) = struct.unpack("<I", data[len(MAGIC) : start])
    try:
        header = json.loads(data[start : start + hlen].decode("utf-8"))
        rate, channels, frames = int(header["rate"]), int(header["channels"]), int(header["frames"])
        checksum = int(header["crc32"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    if key is not None and header.get("key") != json.loads(_canonical(key)):
        return None
    payload = memoryview(data)[start + hlen :]  # no copy: the samples are read in place
    if rate <= 0 or channels not in (1, 2) or len(payload) != frames * channels * 2:
        return None
    if zlib.crc32(payload) != checksum:
        return None
    samples = np.frombuffer(payload, dtype="<i2")  # read-only, like every clip
    if samples.dtype != np.int16:  # a big-endian machine
        samples = samples.astype(np.int16)
    return Clip(samples.reshape(-1, 2) if channels == 2 else samples, rate)
