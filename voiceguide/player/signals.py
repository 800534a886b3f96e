"""Signals during a session: SIGTERM ends it like Ctrl-C, and Ctrl-C waits while the device drains.

Both need the same care (a handler only inside a block, the previous one restored after, nothing
at all off the main thread), so they share one context manager here instead of living in the
wiring.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def signal_handled(signum: int, handler: Any) -> Iterator[None]:
    """``handler`` for ``signum`` inside the block, the previous one after (a no-op off the main
    thread, where Python cannot set handlers)."""
    try:
        old = signal.signal(signum, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signum, old)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def terminate_as_exit() -> contextlib.AbstractContextManager[None]:
    """SIGTERM ends the session like Ctrl-C does (sound stopped, terminal restored), exit 143."""
    return signal_handled(signal.SIGTERM, _exit_on_sigterm)


def no_interrupts() -> contextlib.AbstractContextManager[None]:
    """Hold off a second Ctrl-C while the device drains (bounded): leaving Python while a
    simpleaudio thread still plays can crash the interpreter."""
    return signal_handled(signal.SIGINT, signal.SIG_IGN)
