"""The console-script entry point, kept tiny so that Ctrl-C even during start-up exits cleanly."""

from __future__ import annotations

import gc
import os
import sys

TYPE_CHECKING = False  # not typing's: importing typing (and re) costs ~13 ms of a cached --help
if TYPE_CHECKING:
    import threading
    from types import ModuleType

EXIT_INTERRUPTED = 130  # mirrors voiceguide.errors, which is not imported yet at this point

_opening: threading.Thread | None = None  # the thread opening the natural voice, if any


def entry() -> None:
    # numpy's bundled OpenBLAS would start a spinning thread per core at import; voiceguide does
    # no linear algebra, and on two cores those threads slow start-up and exit (~17 ms).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    help_key = help_request(sys.argv[1:])
    if help_key is not None:  # typer's help as it printed it last time, if nothing has changed
        from voiceguide import _helpcache

        kept = _helpcache.print_kept(help_key)
        if kept is not None:
            raise SystemExit(kept)
    # Start-up creates tens of thousands of objects that live as long as the process (modules,
    # classes, typing caches): collecting them over and over is wasted work, so the collector
    # waits until start-up is done and then leaves them be.
    gc.disable()
    plain = False
    try:
        _start_opening_the_natural_voice(sys.argv[1:])
        from voiceguide.cli._plain import is_plain_play

        # `voiceguide play ROUTINE` and nothing more: no typer to import before the first word.
        plain = is_plain_play(sys.argv[1:])
        if not plain:
            from voiceguide.cli._main import main  # typer and every command, inside this guard
    except KeyboardInterrupt:
        if _opening is not None and _opening.is_alive():
            _exit_at_once(EXIT_INTERRUPTED)
        raise SystemExit(EXIT_INTERRUPTED) from None
    finally:
        gc.freeze()
        gc.enable()
    if plain:
        from voiceguide.cli._plain import play_plain

        code = play_plain(sys.argv[2])
    elif help_key is None:
        code = main()
    else:
        from voiceguide import _helpcache

        code = _helpcache.render_and_keep(help_key, main)
    # The process is about to end and the OS takes its memory back: spare the interpreter a
    # last full collection of everything (~30 ms). atexit handlers and open files are
    # unaffected.
    gc.freeze()
    raise SystemExit(code)


def help_request(argv: list[str]) -> str | None:
    """A file name for ``argv`` if it only asks for help or the version, else None.

    Accepted: no arguments (typer prints the help), ``--version``, and up to two command words
    followed by ``-h``/``--help``. Words must be plain (letters, digits, dashes), so the key is a
    safe file name (see :mod:`voiceguide._helpcache`).
    """
    if not argv:
        return "_"
    if argv == ["--version"]:
        return "_version"
    *words, last = argv
    if last not in ("-h", "--help") or len(words) > 2:
        return None
    for word in words:
        if not word or word[0] == "-" or not word.isascii() or not word.replace("-", "").isalnum():
            return None
    return "_".join([*words, last.lstrip("-")])


def _exit_at_once(code: int) -> None:
    """Leave without waiting for onnxruntime to finish opening the model (up to ~0.15 s more).

    Only for a Ctrl-C before the command line is even imported: nothing has been changed that
    would need restoring (no terminal mode, no sound device, no files), and leaving normally
    would have to wait for the opening thread (see below).
    """
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    os._exit(code)


def _start_opening_the_natural_voice(argv: list[str]) -> None:
    """``voiceguide play ... --engine piper``: open the voice model now, in a background thread.

    Opening it (~0.15 s) is the longest wait before the first word of a first session; started
    here, it runs while the command line imports and loads the routine (onnxruntime builds the
    session mostly without the GIL). Measured: first word 0.38 s after launch instead of 0.50 s.

    Everything the thread needs is imported here first, so that the thread imports nothing: a
    Ctrl-C that lands in Python's import machinery while two threads import can deadlock it
    (seen here: the process hangs instead of exiting with 130). Those imports hold Ctrl-C back
    until they finish (~0.1 s at most; see :func:`_import_holding_ctrl_c`); numpy is needed
    anyway and onnxruntime adds ~0.03 s. Only the command line is looked at; a routine that
    asks for piper itself is opened later, by the player. Failures are left for the engine to
    report properly; nothing is printed here.

    The thread is not a daemon: leaving the process while onnxruntime is still building the
    session can abort it ("terminate called without an active exception"), so the interpreter
    waits for it at exit; a Ctrl-C that comes before the command line is imported leaves at once
    instead, through :func:`_exit_at_once`.
    """
    global _opening
    if not _asks_for_piper(argv):
        return
    import threading

    try:
        _import_holding_ctrl_c("numpy", "onnxruntime")
        from voiceguide.speech import _piper_session

        _piper_session.model_path()  # imports the voice package and what it uses to find files
    except Exception:  # not installed or broken: the engine says so when it is used
        return
    _opening = threading.Thread(
        target=_open_natural_voice, args=(_piper_session,), name="voiceguide-open-voice"
    )
    _opening.start()


def _import_holding_ctrl_c(*modules: str) -> None:
    """Import ``modules`` with a Ctrl-C held back until they are all in, then raised.

    A KeyboardInterrupt raised while a C extension imports (onnxruntime's imports numpy) is
    swallowed or turned into an ImportError, and numpy is left half-imported: seen here as a
    session that ignores the Ctrl-C and plays on, or fails with a wrong "not installed" error.
    """
    import importlib
    import signal

    pressed: list[int] = []
    hold = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if hold:  # never override a handler someone chose, or an ignored SIGINT
        signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        for module in modules:
            importlib.import_module(module)
    finally:
        if hold:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    if pressed:
        raise KeyboardInterrupt


def _asks_for_piper(argv: list[str]) -> bool:
    """``play`` with ``--engine piper`` (the last --engine wins, as for the CLI), not for help."""
    if not argv or argv[0] != "play":
        return False
    engine = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg in ("-h", "--help"):
            return False
        if arg == "--engine" and i + 1 < len(argv):
            engine = argv[i + 1]
        elif arg.startswith("--engine="):
            engine = arg.partition("=")[2]
    return engine == "piper"


def _open_natural_voice(piper_session: ModuleType) -> None:
    """The thread: only onnxruntime's work, no import (the module comes as an argument)."""
    # Not contextlib.suppress: a kept --help answers before contextlib is imported.
    try:  # noqa: SIM105
        piper_session.session()
    except Exception:  # a damaged model, ...: the engine says so when used
        pass
