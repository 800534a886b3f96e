"""Atomic file output: a file appears complete under its name, or not at all.

Writes go to a temporary file in the destination's folder (same filesystem, so the final
``os.replace`` is atomic) and are fsynced first; on any failure, including Ctrl-C, the temporary
file is removed and the destination is left exactly as it was.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

from voiceguide.errors import ExportError


def _explain(exc: OSError, path: Path) -> ExportError:
    if exc.errno == errno.ENOSPC:
        return ExportError(f"the disk is full while writing {path}; nothing was written")
    if exc.errno == errno.EDQUOT:
        return ExportError(f"your disk quota is full while writing {path}; nothing was written")
    if exc.errno == errno.EFBIG:
        return ExportError(
            f"cannot write {path}: the file is too large for this system's file size limit; "
            "nothing was written"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ExportError(f"cannot write {path}: permission denied; choose another folder with -o")
    if exc.errno == errno.ENOENT:
        return folder_problem(path) or ExportError(f"cannot create files in {path.parent}")
    return ExportError(f"cannot write {path}: {exc.strerror or exc}")


def folder_problem(path: Path) -> ExportError | None:
    """Why ``path``'s folder cannot hold a new file, if it is missing or is a file."""
    for parent in (path.parent, *path.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                return ExportError(f"cannot write {path}: {parent} is a file, not a folder")
            break
    if not path.parent.is_dir():
        return ExportError(f"cannot write {path}: the folder {path.parent} does not exist")
    return None


WRITEBACK_BYTES = 4 << 20


class _EarlyWriteback:
    """A file that asks the kernel to start writing each few MB out as soon as they are written
    (Linux ``posix_fadvise(DONTNEED)`` starts write-back without waiting for it), so the fsync
    that makes a large export durable has little left to wait for, and a two-hour WAV does not
    push everything else out of the page cache."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._fd = handle.fileno()
        self._synced = 0
        self._written = 0

    def write(self, data: bytes) -> int:
        n = self._handle.write(data)
        self._written += n
        if self._written - self._synced >= WRITEBACK_BYTES:
            self._handle.flush()
            with contextlib.suppress(OSError):
                os.posix_fadvise(self._fd, self._synced, self._written - self._synced, os.POSIX_FADV_DONTNEED)
            self._synced = self._written
        return n

    def __getattr__(self, name: str) -> object:
        return getattr(self._handle, name)


@contextlib.contextmanager
def _replacing(path: Path, suffix: str, *, sync: bool) -> Iterator[Path]:
    """The one temp-then-rename: a temporary name beside ``path`` (chosen before the file exists,
    so a Ctrl-C at any instant leaves nothing behind), renamed over ``path`` when the block
    completes (after an fsync if ``sync``), removed on any failure."""
    path = Path(path)
    problem = folder_problem(path)
    if problem:
        raise problem
    tmp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.part{suffix}")
    try:
        yield tmp
        if sync:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.chmod(tmp, default_mode())
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise _explain(exc, path) from None
    except BaseException:
        _remove(tmp)
        raise


@contextlib.contextmanager
def atomic_output(path: Path, *, large: bool = False) -> Iterator[BinaryIO]:
    """Yield a binary file whose content replaces ``path`` only if the block completes.

    ``large``: the file will be many MB, written front to back (an audio export)."""
    with _replacing(path, "", sync=False) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as handle:
            if large and hasattr(os, "posix_fadvise"):
                yield cast(BinaryIO, _EarlyWriteback(handle))
            else:
                yield handle
            handle.flush()
            os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_path(path: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for another program (ffmpeg) to write; on success
    the file is synced, given an ordinary file's mode and renamed over ``path``; on any failure,
    Ctrl-C included, it is removed. ``suffix`` keeps the extension a writer picks a format by."""
    with _replacing(path, suffix, sync=True) as tmp:
        yield tmp


def default_mode() -> int:
    """0o666 less the process umask: the mode an ordinary ``open(path, "w")`` would give."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _remove(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_output(path) as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
