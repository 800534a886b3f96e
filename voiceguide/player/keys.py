"""Single-key controls for the player, read from the terminal without Enter.

The terminal goes into cbreak mode (keys arrive one by one, no echo) but keeps its signal keys,
so Ctrl-C still raises KeyboardInterrupt in the main thread. The original settings come back on
every way out: normal exit, exception, Ctrl-C, and suspend/resume with Ctrl-Z.
"""

from __future__ import annotations

import contextlib
import enum
import os
import select
import signal
import sys
import time
from types import FrameType, TracebackType
from typing import Any, Protocol, TextIO


class Command(enum.Enum):
    TOGGLE_PAUSE = "pause"
    NEXT = "next"
    PREVIOUS = "previous"
    QUIT = "quit"


#: What each key does; arrows arrive as escape sequences (both the CSI and SS3 forms).
KEYMAP: dict[str, Command] = {
    " ": Command.TOGGLE_PAUSE,
    "n": Command.NEXT,
    "N": Command.NEXT,
    "\x1b[C": Command.NEXT,
    "\x1bOC": Command.NEXT,
    "p": Command.PREVIOUS,
    "P": Command.PREVIOUS,
    "\x1b[D": Command.PREVIOUS,
    "\x1bOD": Command.PREVIOUS,
    "q": Command.QUIT,
    "Q": Command.QUIT,
}

# The help line the live view shows for these keys is the label `keys` (routine.phrases.VIEW),
# translated in each locale's `view:` section: change both together.


class Controls(Protocol):
    """Where the player's commands come from; ``wait`` is also how the player sleeps."""

    def wait(self, timeout: float) -> Command | None:
        """Return the next command, or None once ``timeout`` seconds pass without one."""
        ...


def parse_keys(data: str) -> tuple[list[Command], str]:
    """Commands in ``data``, plus an unfinished escape sequence to prepend to the next read."""
    commands: list[Command] = []
    i = 0
    while i < len(data):
        ch = data[i]
        if ch == "\x1b":
            seq = data[i : i + 3]
            if len(seq) < 3 and seq in ("\x1b", "\x1b[", "\x1bO"):
                return commands, seq  # the rest of the sequence has not arrived yet
            if seq in KEYMAP:
                commands.append(KEYMAP[seq])
                i += 3
                continue
            # Another escape sequence (up/down, function keys): skip it whole.
            j = i + 1
            if j < len(data) and data[j] in "[O":
                j += 1
                while j < len(data) and not (data[j].isalpha() or data[j] == "~"):
                    j += 1
                j += 1
            i = j
            continue
        if ch in KEYMAP:
            commands.append(KEYMAP[ch])
        i += 1
    return commands, ""


class NoKeys:
    """Controls for a session without a terminal (piped, CI): it just sleeps."""

    def wait(self, timeout: float) -> Command | None:
        if timeout > 0:
            time.sleep(timeout)
        return None

    def __enter__(self) -> NoKeys:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class KeyReader:
    """Reads keys from a terminal in cbreak mode; a context manager that always restores it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdin
        self._fd = self._stream.fileno()
        self._saved: list[Any] | None = None
        self._pending: list[Command] = []
        self._partial = ""
        self._old_cont: Any = None
        self._old_tstp: Any = None

    @staticmethod
    def available(stream: TextIO | None = None) -> bool:
        """True when ``stream`` (stdin by default) is an interactive terminal we can read keys from."""
        stream = stream if stream is not None else sys.stdin
        try:
            return stream.isatty() and sys.platform != "win32"
        except (AttributeError, ValueError):
            return False

    def __enter__(self) -> KeyReader:
        import termios

        self._saved = termios.tcgetattr(self._fd)
        self._enter_cbreak()
        if hasattr(signal, "SIGCONT"):
            try:
                self._old_cont = signal.signal(signal.SIGCONT, self._on_continue)
                self._old_tstp = signal.signal(signal.SIGTSTP, self._on_suspend)
            except ValueError:  # not the main thread: no suspend handling, still restored on exit
                self._old_cont = self._old_tstp = None
        return self

    def _enter_cbreak(self) -> None:
        import termios

        assert self._saved is not None
        mode = list(self._saved)
        mode[3] &= ~(termios.ECHO | termios.ICANON)  # lflag: no echo, no line buffering
        mode[6] = list(mode[6])
        mode[6][termios.VMIN] = 1
        mode[6][termios.VTIME] = 0
        termios.tcsetattr(self._fd, termios.TCSANOW, mode)

    def _on_suspend(self, signum: int, frame: FrameType | None) -> None:
        """Ctrl-Z: give the shell a normal terminal, stop, and take cbreak back on ``fg``."""
        import termios

        if self._saved is not None:
            with contextlib.suppress(Exception):
                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)  # stops here until SIGCONT
        signal.signal(signal.SIGTSTP, self._on_suspend)
        if self._saved is not None:
            with contextlib.suppress(Exception):
                self._enter_cbreak()

    def _on_continue(self, signum: int, frame: FrameType | None) -> None:
        # After Ctrl-Z and `fg` the shell has put the terminal back to normal: redo cbreak.
        with contextlib.suppress(Exception):
            self._enter_cbreak()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.restore()

    def restore(self) -> None:
        """Put the terminal back as it was (idempotent)."""
        import termios

        if self._saved is not None:
            try:
                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            finally:
                self._saved = None
                if self._old_cont is not None:
                    with contextlib.suppress(ValueError):
                        signal.signal(signal.SIGCONT, self._old_cont)
                        signal.signal(signal.SIGTSTP, self._old_tstp)
                    self._old_cont = self._old_tstp = None

    def wait(self, timeout: float) -> Command | None:
        if self._pending:
            return self._pending.pop(0)
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            remaining = deadline - time.monotonic()
            try:
                ready, _, _ = select.select([self._fd], [], [], max(remaining, 0.0))
            except InterruptedError:  # pragma: no cover - PEP 475 retries for us
                ready = []
            if ready:
                try:
                    data = os.read(self._fd, 64)
                except OSError:
                    data = b""
                if not data:  # the terminal went away: behave like no keys at all
                    time.sleep(max(deadline - time.monotonic(), 0.0))
                    return None
                commands, self._partial = parse_keys(self._partial + data.decode("utf-8", "replace"))
                self._pending.extend(commands)
                if self._pending:
                    return self._pending.pop(0)
            if time.monotonic() >= deadline:
                return None
