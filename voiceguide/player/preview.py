"""``play --preview-sound NAME``: hear a bed or a cue sound before writing it into a routine.

A bed plays for a few seconds at the level a routine gets by default (:data:`DEFAULT_VOLUME_DB`
under the voice, since beds are made at about the voice's loudness), faded in and out so it
neither starts nor stops with a click; a cue sound plays whole, exactly as a routine plays it.
The sound goes through the same checked output as ``play``, so a machine without a sound device
gets the same message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voiceguide.errors import UsageError
from voiceguide.routine.ambience import BEDS, DEFAULT_VOLUME_DB

#: The player's sample rate: beds are generated (and kept) at it, as for a session.
RATE = 22050
DEFAULT_SECONDS = 10.0
BED_FADE_S = 0.5  # short, so most of the preview is at the bed's full level


@dataclass(frozen=True)
class SoundPreview:
    """What a preview plays: int16 samples at ``rate`` (mono, or a stereo cue's two channels)."""

    name: str
    kind: str  # "bed" or "cue"
    samples: npt.NDArray[np.int16]
    rate: int

    @property
    def seconds(self) -> float:
        return int(self.samples.shape[0]) / self.rate


def _cue_names() -> list[str]:
    from voiceguide.routine.library import shipped_sounds_dir

    return sorted(p.stem for p in shipped_sounds_dir().glob("*.wav"))


def _unknown(name: str) -> UsageError:
    from voiceguide.hints import did_you_mean

    known = [*BEDS, *_cue_names()]
    return UsageError(
        f"unknown sound {name!r}; {did_you_mean(name, known)}choose one of "
        f"{', '.join(known)} (`voiceguide sounds` describes them), or a sound file's path"
    )


def _bed_samples(bed_render: npt.NDArray[np.float32], rate: int) -> npt.NDArray[np.int16]:
    """The bed at the default ambience volume, as loud as ``play`` makes it (``LIVE_GAIN_DB``), with
    raised-cosine fades, as int16 that never clips."""
    from voiceguide.audio.dsp import fade, soft_clip_int16
    from voiceguide.audio.loudness import LIVE_GAIN_DB

    bed = bed_render * np.float32(10.0 ** ((DEFAULT_VOLUME_DB + LIVE_GAIN_DB) / 20.0))
    return fade(soft_clip_int16(bed), rate, BED_FADE_S, BED_FADE_S)


def sound_preview(name: str, seconds: float = DEFAULT_SECONDS) -> SoundPreview:
    """The samples ``preview_sound`` plays: ``seconds`` of a shipped bed (or of a sound file, as
    ``--ambience FILE`` would loop it), or a whole shipped cue sound. An unknown name raises a
    UsageError with the closest known name."""
    from voiceguide.audio.beds import file_bed

    if not seconds > 0:
        raise UsageError("a preview needs a positive length")
    n = round(seconds * RATE)
    if name in BEDS:
        from voiceguide.pipeline import bed_opener

        bed = bed_opener()(name, RATE)  # the beds export and play use
        return SoundPreview(name, "bed", _bed_samples(bed.render(0, n), RATE), RATE)
    if name in _cue_names():
        from voiceguide.audio.dsp import with_gain
        from voiceguide.audio.loudness import LIVE_GAIN_DB
        from voiceguide.audio.sounds import load_sound
        from voiceguide.routine.library import shipped_sounds_dir

        clip = load_sound(name, shipped_sounds_dir() / f"{name}.wav")
        samples = with_gain(clip.samples, LIVE_GAIN_DB)  # as loud as in a played session
        return SoundPreview(name, "cue", samples, clip.sample_rate)  # stereo stays stereo
    path = Path(name)
    if not path.exists() and not path.suffix and "/" not in name:  # a name, not a file's path
        raise _unknown(name)
    loop = file_bed(path, RATE)  # a missing, empty or non-audio file: the ambience file's errors
    return SoundPreview(name, "bed", _bed_samples(loop.render(0, n), RATE), RATE)


def preview_sound(
    name: str, seconds: float = DEFAULT_SECONDS, on_start: Callable[[SoundPreview], None] | None = None
) -> SoundPreview:
    """Play :func:`sound_preview` of ``name`` on the sound device and wait until it has played.

    Ctrl-C (KeyboardInterrupt) stops the sound before it propagates; no sound device raises the
    AudioDeviceError ``play`` raises. ``on_start`` is told just before the sound starts."""
    from voiceguide.audio.device import open_output

    preview = sound_preview(name, seconds)
    output = open_output()
    try:
        if on_start is not None:
            on_start(preview)
        handle = output.play(preview.samples, preview.rate)
        deadline = time.monotonic() + preview.seconds + 5.0  # a wedged device never hangs us
        while handle.is_playing() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        output.close()  # on Ctrl-C too: silence first, and no playback thread left behind
    return preview
