"""``play()``: wires a routine, a sound device, the view and the keys into one played session.

Everything with a job of its own lives beside it: the scheduling state machine
(:mod:`~voiceguide.player.scheduler`), the step buffer (:mod:`~voiceguide.player.steps`), the
background preparation (:mod:`~voiceguide.player.source`), signal handling
(:mod:`~voiceguide.player.signals`) and ``--from`` (:mod:`~voiceguide.player.steps_ref`). What is
left here is the order things start and stop in, which is what a user notices: the first word
within half a second, and the sound stopped and the terminal restored however the session ends.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Sequence

from voiceguide.errors import UsageError, VoiceguideError
from voiceguide.player.keys import KeyReader, NoKeys
from voiceguide.player.scheduler import Outcome, Player
from voiceguide.player.signals import no_interrupts, terminate_as_exit
from voiceguide.player.steps_ref import resolve_step
from voiceguide.player.view import LiveView, PlainView, View

__all__ = ["Outcome", "play"]


def play(
    ref: str,
    *,
    start: str | None = None,
    preview: str | None = None,
    avoid: Sequence[str] = (),
    engine: str | None = None,
    voice: str | None = None,
    rate: int | None = None,
    volume: float | None = None,
    interactive: bool | None = None,
    console: object | None = None,
    on_cautions: Callable[[Sequence[str]], None] | None = None,
) -> Outcome:
    """Play a routine aloud: the ``voiceguide play`` command as a function.

    Opens the sound device first (none: AudioDeviceError suggesting ``export``), hands the
    cautions to ``on_cautions`` to print (they are spoken in the introduction), then plays with
    the live view and keys on a terminal, or plain timestamped lines without one. However it
    ends (the end, ``q``, Ctrl-C, SIGTERM, an error) it stops the sound, waits for the device to
    finish and restores the terminal before returning or raising.
    """
    # Imported here, not at the top, for start-up time: `import voiceguide` stays light.
    from voiceguide.audio.device import open_output
    from voiceguide.routine.loader import load_routine
    from voiceguide.routine.voice import voice_settings

    if start is not None and preview is not None:
        raise UsageError("use either --from or --preview, not both")
    if engine is not None:
        _warm_engine(engine)  # the CLI named it: load its model while the routine loads
    routine = load_routine(ref, avoid=avoid)
    settings = voice_settings(routine, engine=engine, voice=voice, rate=rate, volume=volume)
    if engine is None:
        _warm_engine(settings.engine)
    # Start-up time: the session's pipeline (compiler, speech, renderer) is imported only once
    # the engine's warm-up thread has started.
    from voiceguide.player.source import SessionSource

    source = SessionSource(routine, settings)
    titles = source.titles()
    first = resolve_step(titles, preview if preview is not None else start or "0")
    # Keys whenever stdin is a terminal; the live panel whenever stdout is one (piped output
    # gets plain lines, and the keys still work).
    keyboard = KeyReader.available() if interactive is None else interactive
    live = sys.stdout.isatty() if interactive is None else interactive
    try:
        # Synthesis starts now, while the device opens and the cautions print. A session that
        # starts later than step 0 still begins with the introduction (it speaks the cautions).
        source.step(first if preview is not None else 0)
        source.prefetch(first)
        output = open_output(str(ref))
        try:
            if on_cautions is not None and routine.cautions and preview is None:
                on_cautions(routine.cautions)
            view: View = LiveView(console, keys=keyboard) if live else PlainView()
            keys: KeyReader | NoKeys = KeyReader() if keyboard else NoKeys()
            with terminate_as_exit():
                try:
                    with keys:
                        player = Player(source, output, view, keys)
                        return player.run(
                            first, preview=preview is not None, prelude=None if preview is not None else 0
                        )
                finally:
                    view.close()
        finally:
            with no_interrupts():
                output.close()
    finally:
        with no_interrupts():
            source.close()


def _warm_engine(name: str) -> None:
    """Start an engine's slow set-up (piper's voice model) in the background, so the first word
    still comes within half a second; the synthesis thread reports any failure properly."""

    def warm() -> None:
        # Imported on the warm-up thread, so the main thread goes on loading the routine.
        from voiceguide.speech.registry import get_engine

        with contextlib.suppress(VoiceguideError):
            get_engine(name).preload()

    threading.Thread(target=warm, name="voiceguide-warm-engine", daemon=True).start()
