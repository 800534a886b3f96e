"""Cue sounds: the chimes and breath tones a routine names, loaded once and faded at the edges."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from voiceguide.audio.clip import Clip
from voiceguide.audio.codecs import AudioFormatError, read_audio
from voiceguide.audio.dsp import fade
from voiceguide.errors import Problem, RoutineError

# ---------------------------------------------------------------------------------------------
# Cue sounds

SOUND_FADE_IN_S = 0.001
SOUND_FADE_OUT_S = 0.005


def load_sound(name: str, path: str | Path) -> Clip:
    """One cue sound, faded a hair at both ends so a file that starts or stops abruptly can't click.

    A broken file is the routine's problem, reported against the file with how to fix it.
    """
    try:
        clip = read_audio(path)
    except FileNotFoundError:
        raise RoutineError(
            [
                Problem(
                    str(path),
                    0,
                    0,
                    f"sound {name!r}: file not found",
                    hint="check the name, or put the WAV beside the routine",
                )
            ]
        ) from None
    except (OSError, AudioFormatError, ValueError) as exc:
        raise RoutineError(
            [
                Problem(
                    str(path),
                    0,
                    0,
                    f"sound {name!r}: cannot read it ({exc})",
                    hint="save it as a WAV, FLAC or Ogg file",
                )
            ]
        ) from None
    return Clip(fade(clip.samples, clip.sample_rate, SOUND_FADE_IN_S, SOUND_FADE_OUT_S), clip.sample_rate)


class SoundBank:
    """Cue sounds by name, loaded once on first use (they are short, so they are kept)."""

    def __init__(self, paths: Mapping[str, str]) -> None:
        self.paths = dict(paths)
        self._clips: dict[str, Clip] = {}

    def clip(self, name: str) -> Clip:
        if name not in self._clips:
            if name not in self.paths:
                raise RoutineError(
                    [
                        Problem(
                            "",
                            0,
                            0,
                            f"unknown sound {name!r}",
                            hint="known: " + ", ".join(sorted(self.paths)),
                        )
                    ]
                )
            self._clips[name] = load_sound(name, self.paths[name])
        return self._clips[name]

    def length_us(self, name: str) -> int:
        return self.clip(name).duration_us

    def channels(self) -> int:
        """2 when any sound is stereo (the whole session is then stereo), else 1."""
        return 2 if any(self.clip(n).samples.ndim == 2 for n in self.paths) else 1
