"""The pyttsx3 engine (espeak-ng on Linux, SAPI5 on Windows, NSSpeechSynthesizer on macOS).

pyttsx3 has traps that would silently lose speech; this module is where they are contained:

- one pyttsx3 engine per process, created and used only by one worker thread (a second engine, or
  garbage-collecting one, breaks the other; calls from several threads corrupt it);
- on espeak ``runAndWait()`` returns while synthesis still runs and the next call cancels it, so
  every ``save_to_file`` is followed by a wait on ``finished-utterance`` (with a timeout) and a
  check that the file really appeared (bad voices and missing folders fail without an exception);
- the driver prints "Audio saved to ..." on stdout, which would corrupt ``export -o -``;
- empty text raises AssertionError inside the driver, markup such as ``<break/>`` is read aloud;
- the WAV header always says 22050 Hz and macOS writes AIFF whatever the name: the real rate is
  taken from espeak's initialisation and the file is decoded by content;
- espeak pads every clip with ~0.3 s of silence: clips are trimmed so the timeline owns pauses.

Longer than most modules on purpose: each trap above is handled where the worker thread meets
it, and splitting the worker from its driver patches would hide why each line is there.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import logging
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voiceguide.audio.clip import Clip, empty_clip
from voiceguide.audio.codecs import AudioFormatError, decode_audio
from voiceguide.errors import SpeechError
from voiceguide.hints import ESPEAK_INSTALL_HINT
from voiceguide.routine.voice import VoiceSettings
from voiceguide.speech.engine import VoiceInfo, finish_clip, speakable
from voiceguide.speech.voices import pick_voice
from voiceguide.versions import dist_version

log = logging.getLogger(__name__)


def _espeak_library_names() -> Iterator[str | None]:
    yield "libespeak-ng.so.1"  # the soname first: find_library() runs `ldconfig -p` (~2 ms)
    yield ctypes.util.find_library("espeak-ng")
    yield from (
        "libespeak-ng.1.dylib",
        "/opt/homebrew/lib/libespeak-ng.1.dylib",
        "/usr/local/lib/libespeak-ng.1.dylib",
        "libespeak-ng.dll",
        "libespeak.so.1",
    )


def _espeak_library_version() -> str:
    """espeak-ng's version, read from the shared library without starting the engine."""
    for name in _espeak_library_names():
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        info = lib.espeak_Info
        info.restype = ctypes.c_char_p
        info.argtypes = [ctypes.c_void_p]
        raw = info(None)
        return "espeak-ng-" + (raw.decode("utf-8", "replace") if raw else "unknown")
    raise SpeechError(f"the espeak-ng speech library was not found; {ESPEAK_INSTALL_HINT}")


def _espeak_data_missing(espeak_mod: Any) -> str:
    """ "no phontab in DIR" when espeak-ng's data folder lacks its phoneme table, else ""."""
    try:
        info = espeak_mod.dll.espeak_Info
        info.restype = ctypes.c_char_p
        info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        data = ctypes.c_char_p()
        info(ctypes.byref(data))
        folder = (data.value or b"").decode("utf-8", "replace")
    except Exception:  # an unusual build: let synthesis report what goes wrong
        return ""
    if folder and not (Path(folder) / "phontab").is_file():
        return f"no phontab in {folder}"
    return ""


def _quiet_print(*args: Any, **kwargs: Any) -> None:
    """Stands in for print() inside pyttsx3's espeak driver: stdout may be an audio stream."""
    log.debug("pyttsx3: %s", " ".join(str(a) for a in args))


class _ShortSleeps:
    """``time`` for pyttsx3's espeak driver. Its run loop polls with ``sleep(0.01)`` until the
    synthesis callback ends it: 10 ms of idle per utterance, and an endless loop if the callback
    fails (e.g. the WAV cannot be written). Sleeps are cut to 0.5 ms and, past ``deadline``, the
    loop is ended so the caller can report the failure. Everything else is the real ``time``."""

    def __init__(self) -> None:
        self.deadline: float | None = None
        self.driver: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, 0.0005))
        if self.deadline is not None and time.monotonic() > self.deadline and self.driver:
            self.driver._looping = False


@dataclass
class _Request:
    text: str
    voice: str | None
    rate: int
    volume: float
    future: Future[Clip]


@dataclass
class _Job:
    fn: Callable[[], Any]
    future: Future[Any]


class Pyttsx3Engine:
    """The pyttsx3 engine, driven from one dedicated thread; safe to call from any thread."""

    name = "pyttsx3"

    def __init__(self) -> None:
        self._queue: queue.Queue[_Request | _Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._engine: Any = None  # kept for the life of the process: never garbage-collected
        self._driver = ""
        self._rate: int | None = None  # real sample rate, when the driver tells us
        self._tmpdir: Path | None = None
        self._voices: list[VoiceInfo] | None = None
        self._resolved: dict[tuple[str, str | None], str | None] = {}
        self._current: dict[str, Any] = {}
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._interrupted = False
        self._espeak: Any = None  # pyttsx3's ctypes binding of libespeak-ng, on Linux
        self._clock = _ShortSleeps()
        self._closing = False
        self.timeout_s = 30.0  # per utterance, plus 50 ms per character
        self._version: str | None = None
        self._counter = 0

    # -- public ------------------------------------------------------------------------------

    def version(self) -> str:
        """pyttsx3's and the platform voice's versions; cheap (no engine start on Linux)."""
        if self._version is None:
            base = f"pyttsx3-{dist_version('pyttsx3', 'pyttsx3') or 'unknown'}"
            if sys.platform.startswith("linux"):
                self._version = f"{base}+{_espeak_library_version()}"
            else:
                import platform

                self._version = f"{base}+{sys.platform}-{platform.release()}"
        return self._version

    def voices(self) -> list[VoiceInfo]:
        if self._voices is None:
            self._voices = self._call(self._list_voices)
        return list(self._voices)

    def resolve_voice(self, settings: VoiceSettings) -> str | None:
        """The voice id to use: the one named (by id, name or id tail), else the best for the
        routine's language (None: the driver's default). A bad name would fail silently inside
        the driver, so it is an error here (UsageError, with close matches)."""

        key = (settings.language, settings.voice)
        if key not in self._resolved:
            self._resolved[key] = pick_voice(self.voices(), settings.language, settings.voice)
        return self._resolved[key]

    def synthesize(self, text: str, settings: VoiceSettings) -> Clip:
        text = speakable(text)
        if not text:  # the driver asserts on empty text
            return empty_clip(self._rate or 22050)
        if not 20 <= settings.rate <= 600:
            raise SpeechError(f"speech rate {settings.rate} is out of range (20-600 words/min)")
        if not 0.0 <= settings.volume <= 1.0:
            raise SpeechError(f"volume {settings.volume} is out of range (0-1)")
        voice = self.resolve_voice(settings)
        future: Future[Clip] = Future()
        self._submit(_Request(text, voice, settings.rate, settings.volume, future))
        return future.result()

    def preload(self) -> None:
        """Nothing to do ahead: espeak starts in milliseconds on the first utterance, and starting
        it early on another thread would race the worker that must own it."""

    def close(self) -> None:
        """Wait for queued work. The worker and engine stay for the process: espeak can be
        initialised only once, and a second engine would not work."""
        if self._thread is not None and self._thread.is_alive():
            self._call(lambda: None)

    # -- worker ------------------------------------------------------------------------------

    def _submit(self, item: _Request | _Job) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="voiceguide-speech", daemon=True)
                self._thread.start()
        self._queue.put(item)

    def _call(self, fn: Callable[[], Any]) -> Any:
        job = _Job(fn, Future())
        self._submit(job)
        return job.future.result()

    def _run(self) -> None:
        start_error: BaseException | None = None
        try:
            self._start()
        except BaseException as exc:
            start_error = exc
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                if self._closing:
                    raise SpeechError("voiceguide is shutting down")
                if start_error is not None:
                    raise start_error
                result = self._synthesize_now(item) if isinstance(item, _Request) else item.fn()
            except BaseException as exc:
                item.future.set_exception(exc)
            else:
                item.future.set_result(result)

    def _start(self) -> None:
        try:
            import pyttsx3
        except ImportError as exc:
            raise SpeechError("pyttsx3 is not installed: `pip install pyttsx3`") from exc
        espeak_mod: Any = None
        original_init: Any = None
        if sys.platform not in ("darwin", "win32"):
            import importlib

            try:
                espeak_mod = importlib.import_module("pyttsx3.drivers._espeak")  # loads the lib
                driver_mod: Any = importlib.import_module("pyttsx3.drivers.espeak")
            except (OSError, RuntimeError) as exc:
                raise SpeechError(
                    f"the espeak-ng speech library could not be loaded ({exc}); {ESPEAK_INSTALL_HINT}"
                ) from None
            driver_mod.print = _quiet_print  # the driver's "Audio saved to" must not hit stdout
            driver_mod.time = self._clock  # its loop sleeps 10 ms per utterance: 1 s per 100
            original_init = espeak_mod.Initialize

            def initialize(output: int = 0x01, buflength: int = 1000, *_: Any) -> Any:
                # espeakINITIALIZE_DONT_EXIT: without it, missing voice data makes espeak call
                # exit(1) and the whole program vanishes without a word.
                rate = original_init(output, buflength, None, _ESPEAK_DONT_EXIT)
                missing = _espeak_data_missing(espeak_mod)
                if rate == -1 or missing:
                    raise SpeechError(
                        f"espeak-ng could not load its voice data ({missing or 'start-up failed'}"
                        "); reinstall it (`sudo apt-get install --reinstall "
                        "espeak-ng-data` on Debian/Ubuntu) or fix ESPEAK_DATA_PATH if you set it"
                    )
                self._rate = int(rate) if rate and rate > 0 else None
                return rate

            espeak_mod.Initialize = initialize
        try:
            self._engine = pyttsx3.init()
        except SpeechError:
            raise
        except Exception as exc:
            raise SpeechError(f"the speech engine failed to start ({exc}); {ESPEAK_INSTALL_HINT}") from None
        finally:
            if espeak_mod is not None:
                espeak_mod.Initialize = original_init
        self._espeak = espeak_mod
        if espeak_mod is not None:
            self._clock.driver = self._engine.proxy._driver
        _KEEP_ALIVE.append(self._engine)
        self._driver = str(getattr(self._engine, "driver_name", ""))
        if self._driver == "espeak" and self._rate is None:
            # Someone initialised espeak before us; espeak-ng's own voices run at 22050 Hz.
            self._rate = 22050
        self._engine.connect("finished-utterance", self._on_finished)
        self._engine.connect("error", self._on_error)
        self._tmpdir = Path(tempfile.mkdtemp(prefix="voiceguide-speech-"))
        atexit.register(self._shutdown)

    def _shutdown(self) -> None:
        """At exit (also after Ctrl-C): let the worker finish the utterance in hand and stop, and
        only then remove its folder; removing it under a running utterance makes pyttsx3's
        callback fail with a traceback on the way out."""
        self._closing = True
        self._queue.put(None)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(2.0)
            if thread.is_alive() and self._engine is not None:
                with contextlib.suppress(Exception):
                    self._engine.stop()
                thread.join(1.0)
        if self._tmpdir is not None and not (thread is not None and thread.is_alive()):
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def _on_finished(self, name: Any = None, completed: Any = True, **_: Any) -> None:
        if not completed:
            self._interrupted = True
        self._done.set()

    def _on_error(self, name: Any = None, exception: Any = None, **_: Any) -> None:
        self._error = exception if isinstance(exception, BaseException) else SpeechError(str(exception))
        self._done.set()

    def _list_voices(self) -> list[VoiceInfo]:
        out: list[VoiceInfo] = []
        for v in self._engine.getProperty("voices") or []:
            vid = str(getattr(v, "id", ""))
            if self._driver == "espeak" and vid.startswith("mb/"):
                continue  # MBROLA voices need a separate program and run at another rate
            langs = tuple(
                lang.decode("utf-8", "replace") if isinstance(lang, bytes) else str(lang)
                for lang in (getattr(v, "languages", None) or [])
            )
            out.append(VoiceInfo(vid, str(getattr(v, "name", vid) or vid), langs))
        return out

    def _set(self, prop: str, value: Any) -> None:
        if self._current.get(prop) != value:
            self._engine.setProperty(prop, value)
            self._current[prop] = value

    def _wait_until_idle(self) -> None:
        """espeak can report "playing" for a moment after its last callback; starting then makes
        pyttsx3 cancel the new utterance (finished-utterance with completed=False)."""
        if self._espeak is None:
            return
        for _ in range(500):
            if not self._espeak.IsPlaying():
                return
            time.sleep(0.002)

    def _apply_espeak(self, req: _Request) -> None:
        """Set voice, rate and volume on espeak directly and check they took.

        Measured: under load, about one process in twenty-five kept pyttsx3's initial rate (200)
        although 180 had been set, because espeak applies parameters on its own thread while a
        voice change runs on ours. Reading the values back after espeak is idle catches it.
        """
        driver = self._engine.proxy._driver
        es = self._espeak
        for _ in range(5):
            self._wait_until_idle()
            voice_ok = req.voice is None or str(driver.getProperty("voice")) == req.voice.lower()
            if (
                voice_ok
                and es.GetParameter(es.RATE) == req.rate
                and es.GetParameter(es.VOLUME) == int(round(req.volume * 100, 2))
            ):
                return
            if not voice_ok:
                driver.setProperty("voice", req.voice)
                self._wait_until_idle()
            driver.setProperty("rate", req.rate)
            driver.setProperty("volume", req.volume)
        raise SpeechError(
            f"the speech engine did not accept voice {req.voice!r}, rate {req.rate} and volume {req.volume}"
        )

    def _synthesize_now(self, req: _Request) -> Clip:
        """Synthesize one request; an utterance pyttsx3 cancelled by itself is tried again."""
        for attempt in range(3):
            try:
                return self._attempt(req)
            except _Interrupted:
                log.debug("utterance interrupted by the driver; retry %d", attempt + 1)
        raise SpeechError(f"the speech engine kept interrupting {_short(req.text)!r}")

    def _attempt(self, req: _Request) -> Clip:

        assert self._tmpdir is not None
        self._tmpdir.mkdir(parents=True, exist_ok=True)  # a missing folder fails silently
        self._counter += 1
        path = self._tmpdir / f"utt-{self._counter}.wav"
        self._error = None
        self._interrupted = False
        self._done.clear()
        if self._espeak is not None:
            self._apply_espeak(req)
        else:
            if req.voice is not None:
                self._set("voice", req.voice)
            self._set("rate", req.rate)
            self._set("volume", req.volume)
        self._engine.save_to_file(req.text, str(path))
        timeout = self.timeout_s + 0.05 * len(req.text)
        deadline = time.monotonic() + timeout
        self._clock.deadline = deadline
        try:
            self._engine.runAndWait()  # on espeak this may return long before the file exists
        finally:
            self._clock.deadline = None
        if not self._done.wait(max(deadline - time.monotonic(), 0.0)):
            self._engine.stop()
            self._current.clear()
            path.unlink(missing_ok=True)
            raise SpeechError(
                f"the speech engine did not finish within {timeout:.0f} s "
                f"speaking {_short(req.text)!r} (is there room in the temporary "
                f"folder {self._tmpdir.parent}?)"
            )
        if self._interrupted:
            path.unlink(missing_ok=True)
            raise _Interrupted
        if self._error is not None:
            self._current.clear()  # a failed setProperty leaves the driver state unknown
            path.unlink(missing_ok=True)
            raise SpeechError(f"the speech engine failed on {_short(req.text)!r}: {self._error}")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self._current.clear()
            raise SpeechError(
                f"the speech engine produced no audio for {_short(req.text)!r} "
                "(check the voice with `voiceguide voices`)"
            ) from None
        finally:
            path.unlink(missing_ok=True)
        try:
            raw = decode_audio(data)
        except AudioFormatError as exc:
            raise SpeechError(f"the speech engine wrote unreadable audio: {exc}") from None
        if self._rate is not None and self._driver == "espeak":
            raw = Clip(raw.samples, self._rate)  # the header always says 22050
        return finish_clip(raw)


class _Interrupted(Exception):
    """pyttsx3 cancelled the utterance itself (it can, when espeak still looks busy)."""


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


_ESPEAK_DONT_EXIT = 0x8000  # espeakINITIALIZE_DONT_EXIT


_KEEP_ALIVE: list[Any] = []
