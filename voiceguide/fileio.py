"""Atomic file output: a file appears complete under its name, or not at all.

Writes go to a temporary file in the destination's folder (same filesystem, so the final
``os.replace`` is atomic) and are fsynced first; on any failure, including Ctrl-C, the temporary
file is removed and the destination is left exactly as it was.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import ExportError


def _explain(exc: OSError, path: Path) -> ExportError:
    if exc.errno == errno.ENOSPC:
        return ExportError(f"the disk is full while writing {path}; nothing was written")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ExportError(f"cannot write {path}: permission denied; choose another folder with -o")
    if exc.errno == errno.ENOENT:
        return ExportError(f"cannot write {path}: the folder {path.parent} does not exist")
    return ExportError(f"cannot write {path}: {exc.strerror or exc}")


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """Yield a binary file whose content replaces ``path`` only if the block completes."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ExportError(f"cannot write {path}: the folder {path.parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise _explain(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, default_mode())  # mkstemp makes files private; outputs are ordinary files
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise _explain(exc, path) from None
    except BaseException:
        _remove(tmp)
        raise


def default_mode() -> int:
    """0o666 less the process umask: the mode an ordinary ``open(path, "w")`` would give."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _remove(tmp: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_output(path) as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
