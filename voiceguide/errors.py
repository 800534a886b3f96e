"""voiceguide's own exceptions and the problems they carry.

Every failure a user can cause or meet ends up as one of these, so the CLI has a single place that
turns them into a message and a fixed exit code (and never a traceback).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_INVALID = 2
EXIT_INTERRUPTED = 130


def in_file_order(problems: Sequence[Problem]) -> list[Problem]:
    """Problems as a reader meets them: file by file (in the order first named), line, column."""
    files: dict[str, int] = {}
    for p in problems:
        files.setdefault(p.file, len(files))
    return sorted(problems, key=lambda p: (files[p.file], p.line, p.column))


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or doubtful) in a routine, pinned to where it is written."""

    file: str
    line: int  # 1-based; 0 when the problem is about the file as a whole
    column: int  # 1-based; 0 when unknown
    message: str
    severity: str = "error"  # "error" | "warning"
    path: str = ""  # key path inside the document, e.g. "steps[3].hold"
    hint: str = ""

    def format(self) -> str:
        """Render as ``file:line:col: severity: path: message (hint)`` for terminals and editors."""
        where = self.file
        if self.line:
            where += f":{self.line}:{self.column or 1}"
        text = f"{where}: {self.severity}: "
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def as_error(self) -> Problem:
        """The same problem promoted to an error (``--strict``)."""
        return Problem(self.file, self.line, self.column, self.message, "error", self.path, self.hint)


class VoiceguideError(Exception):
    """Base of every error voiceguide raises on purpose; carries its exit code."""

    exit_code = EXIT_RUNTIME


class RoutineError(VoiceguideError):
    """A routine (or file it includes) is invalid; holds every problem found, not just the first."""

    exit_code = EXIT_INVALID

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(in_file_order(problems))
        super().__init__("\n".join(p.format() for p in self.problems))


class UsageError(VoiceguideError):
    """The command was asked for something that cannot be (unknown routine, bad option value)."""

    exit_code = EXIT_INVALID


class SpeechError(VoiceguideError):
    """The speech engine is missing, failed to start or failed to speak."""


class AudioDeviceError(VoiceguideError):
    """No usable sound output."""


class ExportError(VoiceguideError):
    """An output file could not be written."""


class OutputClosed(ExportError):
    """The program reading our standard output stopped (``voiceguide export -o - | head``): not
    a failure worth a message, just the end of the stream."""

    exit_code = EXIT_OK
