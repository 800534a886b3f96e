"""Sound output for the player: simpleaudio behind a three-method interface.

Why an interface: the scheduler in :mod:`voiceguide.player` is tested against a fake output and a
fake clock, and never touches a device. Facts about simpleaudio that shape this module (measured):
every ``play_buffer`` opens the device anew, so the player starts each block on its
own clock time instead of chaining blocks; ``stop()`` lets roughly 0.3 s more sound out while
ALSA drains; and leaving the interpreter while a playback thread still runs can crash, so
:meth:`SimpleaudioOutput.close` stops everything and waits for silence first. We depend on the
``simpleaudio-patched`` fork (imported as ``simpleaudio``): 1.0.4 segfaults on Python 3.12+.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import sys
import tempfile
import threading
import time
from typing import Any, Protocol

import numpy as np

from voiceguide.errors import AudioDeviceError
from voiceguide.hints import sound_server_advice

#: How long :meth:`SimpleaudioOutput.close` waits for playback threads to finish draining.
#: Stopping takes about 0.3 s; a wedged device must not hang the program for ever.
CLOSE_TIMEOUT_S = 3.0


def export_hint(routine: str = "ROUTINE") -> str:
    """The way out when there is no sound: write the session to a file and play that."""
    import shlex

    return (
        "To listen anyway, write the session to a file and play that elsewhere: "
        f"`voiceguide export {shlex.quote(routine)} -o session.wav`."
    )


class PlayHandle(Protocol):
    """One block of audio that is (or was) playing."""

    def is_playing(self) -> bool: ...

    def stop(self) -> None: ...


class AudioOutput(Protocol):
    """Where the player's audio goes; a block starts sounding as soon as ``play`` returns."""

    def play(self, samples: np.ndarray, sample_rate: int) -> PlayHandle:
        """Start ``samples`` (int16, mono ``(n,)`` or stereo ``(n, 2)``) now, without blocking."""
        ...

    def stop(self) -> None:
        """Silence everything that is playing (returns at once; the device may drain briefly)."""
        ...

    def close(self) -> None:
        """Stop everything and wait until no playback thread is left; safe to call twice."""
        ...


def _as_pcm(samples: np.ndarray) -> tuple[np.ndarray, int]:
    """A C-contiguous int16 array and its channel count, as simpleaudio wants them."""
    if samples.dtype != np.int16:
        raise ValueError(f"expected int16 samples, got {samples.dtype}")
    if samples.ndim == 1:
        channels = 1
    elif samples.ndim == 2 and samples.shape[1] in (1, 2):
        channels = samples.shape[1]
    else:
        raise ValueError(f"expected mono (n,) or stereo (n, 2) samples, got shape {samples.shape}")
    # simpleaudio keeps a reference to the buffer (it does not copy) until its thread ends:
    # hand it a private, immutable copy so later changes to ``samples`` can never reach it.
    pcm = np.ascontiguousarray(samples).copy()
    pcm.setflags(write=False)
    return pcm, channels


class Reel:
    """One long, continuous stream whose samples are written while it plays: the ambience bed.

    simpleaudio plays straight from the buffer it is given (it keeps a view, it does not copy),
    one ALSA write of ~100 ms at a time, so a writer that stays a little ahead of the playhead can
    change what is about to sound without ever restarting the device (a restart is a gap). The
    buffer is an anonymous mapping: pages never written cost nothing, and :meth:`forget` hands
    played ones back, so a two-hour reel stays a few MB of memory.
    """

    def __init__(self, sa: Any, frames: int, channels: int, sample_rate: int) -> None:
        self.frames, self.channels, self.sample_rate = frames, channels, sample_rate
        self._sa = sa
        self._map = mmap.mmap(-1, max(frames, 1) * channels * 2)
        flat = np.frombuffer(self._map, dtype=np.int16)
        #: Write here, frame ``f`` of the reel at ``samples[f]``; zeros (silence) until written.
        self.samples = flat if channels == 1 else flat.reshape(-1, channels)
        self._handle: Any = None
        self._forgotten = 0

    def start(self) -> None:
        """Start playing from frame 0 (once); raises AudioDeviceError if the device fails."""
        if self._handle is not None:
            return
        try:
            self._handle = self._sa.play_buffer(self._map, self.channels, 2, self.sample_rate)
        except Exception as exc:
            raise AudioDeviceError(
                f"the sound device failed while playing ({exc}). " + export_hint()
            ) from exc

    def is_playing(self) -> bool:
        return self._handle is not None and bool(self._handle.is_playing())

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.stop()

    def forget(self, upto: int) -> None:
        """Give the memory of frames before ``upto`` back (they have been played)."""
        page = mmap.PAGESIZE
        end = (upto * self.channels * 2) // page * page
        if end > self._forgotten and hasattr(self._map, "madvise"):
            with contextlib.suppress(OSError, ValueError):
                self._map.madvise(mmap.MADV_DONTNEED, self._forgotten, end - self._forgotten)
            self._forgotten = end


class _SilentHandle:
    """Stands in for a block too short to bother the device with."""

    def is_playing(self) -> bool:
        return False

    def stop(self) -> None:
        return None


class SimpleaudioOutput:
    """Plays blocks through simpleaudio (ALSA's ``default`` device on Linux)."""

    def __init__(self) -> None:
        try:
            import simpleaudio
        except ImportError as exc:  # pragma: no cover - a broken install
            raise AudioDeviceError(
                f"cannot play sound: the simpleaudio module is not importable ({exc}). "
                "Reinstall voiceguide (it depends on simpleaudio-patched). " + export_hint()
            ) from exc
        self._sa: Any = simpleaudio
        self._handles: list[Any] = []
        self._reels: list[Reel] = []
        self._lock = threading.Lock()
        self._closed = False

    def probe(self, routine: str = "ROUTINE") -> None:
        """Open the device once with a few milliseconds of silence (without waiting for it).

        Fails early, with a message a person can act on, when there is no sound device; doubles
        as a warm-up so the first real cue does not pay the device's first-open cost.
        """
        silence = np.zeros(441, dtype=np.int16)  # 20 ms at 22.05 kHz
        with _captured_stderr() as captured:
            try:
                handle = self._sa.play_buffer(silence.tobytes(), 1, 2, 22050)
            except Exception as exc:
                detail = _alsa_detail(captured.read()) or str(exc)
                advice = sound_server_advice()  # "start PipeWire or PulseAudio", when neither runs
                raise AudioDeviceError(
                    f"no sound output device could be opened ({detail}). "
                    f"{advice[:1].upper()}{advice[1:]}. " + export_hint(routine)
                ) from exc
        with self._lock:
            self._handles.append(handle)

    def play(self, samples: np.ndarray, sample_rate: int) -> PlayHandle:
        pcm, channels = _as_pcm(samples)
        if len(pcm) == 0:
            return _SilentHandle()
        with self._lock:
            if self._closed:
                return _SilentHandle()
            self._handles = [h for h in self._handles if h.is_playing()]
            try:
                handle = self._sa.play_buffer(pcm, channels, 2, int(sample_rate))
            except Exception as exc:
                raise AudioDeviceError(
                    f"the sound device failed while playing ({exc}). " + export_hint()
                ) from exc
            self._handles.append(handle)
            return handle  # type: ignore[no-any-return]

    def reel(self, frames: int, channels: int, sample_rate: int) -> Reel:
        """A continuous stream to write ahead of (see :class:`Reel`); :meth:`stop` leaves it
        playing (a pause keeps the bed), :meth:`close` stops it."""
        reel = Reel(self._sa, frames, channels, sample_rate)
        with self._lock:
            self._reels = [r for r in self._reels if r.is_playing()]
            self._reels.append(reel)
        return reel

    def stop(self) -> None:
        with self._lock:
            for handle in self._handles:
                handle.stop()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            handles, self._handles = self._handles, []
            handles.extend(self._reels)
            self._reels = []
        for handle in handles:
            handle.stop()
        deadline = time.monotonic() + CLOSE_TIMEOUT_S
        while any(h.is_playing() for h in handles) and time.monotonic() < deadline:
            time.sleep(0.01)

    def __enter__(self) -> SimpleaudioOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Captured:
    def __init__(self, file: Any) -> None:
        self._file = file

    def read(self) -> str:
        self._file.seek(0)
        data: bytes = self._file.read()
        return data.decode("utf-8", "replace")


class _captured_stderr:
    """Redirect file descriptor 2 into a temp file while ALSA tries the device.

    ALSA prints a dozen lines of configuration errors when there is no card; the user should see
    one clear message instead, and the useful last line goes into it.
    """

    def __enter__(self) -> _Captured:
        self._file = tempfile.TemporaryFile()
        with contextlib.suppress(AttributeError, ValueError, OSError):
            sys.stderr.flush()
        try:
            self._saved: int | None = os.dup(2)
            os.dup2(self._file.fileno(), 2)
        except OSError:
            self._saved = None
        return _Captured(self._file)

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            os.dup2(self._saved, 2)
            os.close(self._saved)
        self._file.close()


def _alsa_detail(text: str) -> str:
    """The last ALSA complaint, e.g. ``ALSA: Unknown PCM default``."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return ""
    last = lines[-1]
    if ")" in last and last.startswith("ALSA lib"):
        last = last.split(")", 1)[1].strip()
    return f"ALSA: {last}"


def open_output(routine: str = "ROUTINE") -> SimpleaudioOutput:
    """The real output, checked: raises AudioDeviceError (suggesting ``export``) if there is none."""
    out = SimpleaudioOutput()
    out.probe(routine)
    return out
