"""What to tell a person who can fix something: install commands and "did you mean".

Kept in one place so every message that names a fix names the same one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

NATURAL_INSTALL = "pip install 'voiceguide[natural]'"
ESPEAK_INSTALL_HINT = (
    "install espeak-ng: `sudo apt-get install espeak-ng` (Debian/Ubuntu), "
    "`sudo dnf install espeak-ng` (Fedora), `brew install espeak-ng` (macOS)"
)
FFMPEG_INSTALL = "`sudo apt-get install ffmpeg`, `brew install ffmpeg`, or from ffmpeg.org"


def close_matches(word: str, choices: Iterable[str], n: int = 1, cutoff: float = 0.6) -> list[str]:
    """The known names that look like ``word``, best first."""
    return difflib.get_close_matches(word, list(choices), n=n, cutoff=cutoff)


def did_you_mean(word: str, choices: Iterable[str], *, n: int = 1, cutoff: float = 0.6,
                 quote: bool = True, end: str = "? ") -> str:
    """``did you mean 'bell'? `` (or "" when nothing is close): the start of a hint."""
    close = close_matches(word, choices, n=n, cutoff=cutoff)
    if not close:
        return ""
    shown = [repr(c) if quote else c for c in close]
    return f"did you mean {' or '.join(shown)}{end}"
