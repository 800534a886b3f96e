"""The console-script entry point, kept tiny so that Ctrl-C even during start-up exits cleanly."""

from __future__ import annotations

EXIT_INTERRUPTED = 130  # mirrors voiceguide.errors, which is not imported yet at this point


def entry() -> None:
    try:
        from .cli import main  # imports the whole program: Ctrl-C may land here
    except KeyboardInterrupt:
        raise SystemExit(EXIT_INTERRUPTED) from None
    raise SystemExit(main())
