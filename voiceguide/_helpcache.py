"""Help text that typer rendered, kept so that the next ``voiceguide --help`` need not import it.

Importing typer alone takes ~65 ms on the two-core reference machine, more than the whole
start-up budget of ``--help`` (60 ms above a bare interpreter). So the first time a help request
(``voiceguide``, ``voiceguide -h``, ``voiceguide CMD --help``, ``--version``) is answered, typer
renders it as always and what it printed (stdout, stderr, exit code) is kept in the cache
folder; the next identical request prints those exact bytes without importing typer.

It can never show a stale text: an entry is used only if the Python, ``sys.path``, the terminal
width that click sees and every source file that was loaded while rendering it (voiceguide's,
typer's, the standard library's: path, size and mtime) are unchanged. Anything else, including a
damaged entry, is a miss, and a miss is simply typer running as before. This module is imported
first thing by the entry point, so it imports nothing beyond what the interpreter has already
loaded at start-up (``os``, ``sys``): no ``typing``, ``re`` or ``json``.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

MAGIC = "voiceguide help 1"
SEP = "\0"  # cannot occur in a path or in help text


def _folder() -> str:
    """``<speech cache>/help``: beside what ``voiceguide cache`` reports, without platformdirs.

    The same place as :func:`voiceguide.speech.cache.cache_dir` on Linux and macOS; elsewhere
    platformdirs decides (slower, but only there)."""
    root = os.environ.get("VOICEGUIDE_CACHE_DIR")
    if root:
        root = os.path.expanduser(root)
    elif sys.platform == "darwin":
        root = os.path.join(os.path.expanduser("~/Library/Caches"), "voiceguide", "speech")
    elif sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
        root = os.path.join(base, "voiceguide", "speech")
    else:
        from platformdirs import user_cache_dir

        root = os.path.join(user_cache_dir("voiceguide", appauthor=False), "speech")
    return os.path.join(root, "help")


def _terminal() -> str:
    """What click's formatter reads to choose the width: $COLUMNS and the terminal's size."""
    try:
        columns = str(os.get_terminal_size(sys.__stdout__.fileno()).columns)  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        columns = "none"
    return f"{os.environ.get('COLUMNS', '')}|{columns}"


def _path(key: str) -> str:
    from voiceguide import __version__

    tag = sys.implementation.cache_tag or sys.implementation.name
    return os.path.join(_folder(), f"{__version__}-{tag}-{key}.txt")


def _context() -> list[str]:
    return [sys.executable, _terminal(), str(len(sys.path)), *sys.path]


def print_kept(key: str) -> int | None:
    """Print the kept answer to ``key`` and return its exit code, or None if there is none."""
    try:
        with open(_path(key), encoding="utf-8", newline="") as handle:
            fields = handle.read().split(SEP)
    except (OSError, UnicodeDecodeError):
        return None
    context = _context()
    head = 4 + len(context)
    if len(fields) < head or fields[0] != MAGIC or fields[4:head] != context:
        return None
    files = fields[head:]
    if len(files) % 3:
        return None
    for i in range(0, len(files), 3):
        try:
            st = os.stat(files[i])
        except OSError:
            return None
        if files[i + 1] != str(st.st_size) or files[i + 2] != str(st.st_mtime_ns):
            return None
    code, out, err = fields[1:4]
    if not code.lstrip("-").isdigit():
        return None
    try:
        if out:
            sys.stdout.write(out)
            sys.stdout.flush()
        if err:
            sys.stderr.write(err)
            sys.stderr.flush()
    except BrokenPipeError:  # `voiceguide --help | head -1`: the reader had enough
        _silence_stdout()
        return 0
    return int(code)


def render_and_keep(key: str, main: Callable[[], int]) -> int:
    """Run typer (``main``) for ``key``, print what it prints, and keep that for next time."""
    import io

    out, err = io.StringIO(), io.StringIO()
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main()
    finally:
        sys.stdout, sys.stderr = real_out, real_err
        try:
            real_out.write(out.getvalue())
            real_out.flush()
            real_err.write(err.getvalue())
            real_err.flush()
        except BrokenPipeError:
            _silence_stdout()
    # Only plain help is kept: rich (which typer would use for some errors) looks at the
    # terminal, so its output is not a function of what the key records.
    if (code == 0 or key == "_") and "rich" not in sys.modules:
        _keep(key, code, out.getvalue(), err.getvalue())
    return code


def _keep(key: str, code: int, out: str, err: str) -> None:
    files = []
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if not isinstance(name, str):
            continue
        try:
            st = os.stat(name)
        except OSError:
            continue
        files += [name, str(st.st_size), str(st.st_mtime_ns)]
    fields = [MAGIC, str(code), out, err, *_context(), *files]
    if any(SEP in field for field in fields):
        return
    from pathlib import Path

    from voiceguide.errors import VoiceguideError
    from voiceguide.fileio import atomic_write_text

    path = Path(_path(key))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, SEP.join(fields))
    except (OSError, VoiceguideError):  # a read-only cache folder: answer, just not faster later
        pass


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the exit flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
