"""The console-script entry point, kept tiny so that Ctrl-C even during start-up exits cleanly."""

from __future__ import annotations

import gc
import os

EXIT_INTERRUPTED = 130  # mirrors voiceguide.errors, which is not imported yet at this point


def entry() -> None:
    # numpy's bundled OpenBLAS would start a spinning thread per core at import; voiceguide does
    # no linear algebra, and on two cores those threads slow start-up and exit (~17 ms).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # Start-up creates tens of thousands of objects that live as long as the process (modules,
    # classes, typing caches): collecting them over and over is wasted work, so the collector
    # waits until start-up is done and then leaves them be.
    gc.disable()
    try:
        from .cli import main  # imports the whole program: Ctrl-C may land here
    except KeyboardInterrupt:
        raise SystemExit(EXIT_INTERRUPTED) from None
    finally:
        gc.freeze()
        gc.enable()
    code = main()
    # The process is about to end and the OS takes its memory back: spare the interpreter a
    # last full collection of everything (~30 ms). atexit handlers and open files are
    # unaffected.
    gc.freeze()
    raise SystemExit(code)
