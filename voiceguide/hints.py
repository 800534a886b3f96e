"""What to tell a person who can fix something: install commands and "did you mean".

Kept in one place so every message that names a fix names the same one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

NATURAL_INSTALL = "pip install 'voiceguide[natural]'"
ESPEAK_INSTALL_HINT = (
    "install espeak-ng: `sudo apt-get install espeak-ng` (Debian/Ubuntu), "
    "`sudo dnf install espeak-ng` (Fedora), `brew install espeak-ng` (macOS)"
)
FFMPEG_INSTALL = "`sudo apt-get install ffmpeg`, `brew install ffmpeg`, or from ffmpeg.org"


def close_matches(word: str, choices: Iterable[str], n: int = 1, cutoff: float = 0.6) -> list[str]:
    """The known names that look like ``word``, best first."""
    import difflib  # only when something was mistyped

    return difflib.get_close_matches(word, list(choices), n=n, cutoff=cutoff)


def suggestion(
    close: Sequence[str], *, quote: bool = True, sep: str = " or ", end: str = "? ", capital: bool = False
) -> str:
    """``did you mean 'bell'? `` for the names in ``close`` ("" when there are none)."""
    if not close:
        return ""
    text = "did you mean " + sep.join(repr(c) if quote else c for c in close) + end
    return text[:1].upper() + text[1:] if capital else text


def did_you_mean(
    word: str,
    choices: Iterable[str],
    *,
    n: int = 1,
    cutoff: float = 0.6,
    quote: bool = True,
    sep: str = " or ",
    end: str = "? ",
) -> str:
    """The "did you mean" start of a hint for a mistyped ``word``; "" when nothing is close."""
    return suggestion(close_matches(word, choices, n=n, cutoff=cutoff), quote=quote, sep=sep, end=end)


def sound_server_hint() -> str:
    """How to get sound out of this machine, naming the sound server when none is running."""
    return sound_server_advice() + "; `voiceguide export` works without any sound device"


def sound_server_advice() -> str:
    """What to do when no sound device opens: start the sound server when none is running (and
    how), else look at its output device."""
    import os
    import sys

    if not sys.platform.startswith("linux"):
        return "check your sound settings"
    runtime = os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}")
    sockets = (os.path.join(runtime, "pulse", "native"), os.path.join(runtime, "pipewire-0"))
    server = os.environ.get("PULSE_SERVER") or any(os.path.exists(s) for s in sockets)
    if server:
        return "the sound server is running: check its output device (`pactl info`)"
    return (
        "no sound server is running: start PipeWire (`systemctl --user start pipewire "
        "pipewire-pulse`) or PulseAudio (`pulseaudio --start`), then try again"
    )
