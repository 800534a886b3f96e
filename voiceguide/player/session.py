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
import shlex
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from voiceguide.errors import Problem, UsageError, VoiceguideError
from voiceguide.player import history
from voiceguide.player.keys import KeyReader, NoKeys
from voiceguide.player.scheduler import Outcome, Player
from voiceguide.player.signals import no_interrupts, terminate_as_exit
from voiceguide.player.steps_ref import resolve_step
from voiceguide.player.view import LiveView, PlainView, PlayState, View

if TYPE_CHECKING:
    from voiceguide.audio.device import AudioOutput
    from voiceguide.player.bed import LiveBed
    from voiceguide.player.source import SessionSource
    from voiceguide.timeline.ambience import Override

__all__ = ["Outcome", "play"]


def play(
    ref: str | None,
    *,
    start: str | None = None,
    skip_intro: bool = False,
    resume: bool = False,
    preview: str | None = None,
    avoid: Sequence[str] = (),
    engine: str | None = None,
    voice: str | None = None,
    rate: int | None = None,
    volume: float | None = None,
    language: str | None = None,
    strict: bool = False,
    on_warnings: Callable[[Sequence[Problem]], None] | None = None,
    interactive: bool | None = None,
    console: object | None = None,
    on_cautions: Callable[[Sequence[str]], None] | None = None,
    ambience: str | None = None,
    ambience_volume: str | None = None,
) -> Outcome:
    """Play a routine aloud: the ``voiceguide play`` command as a function.

    Opens the sound device first (none: AudioDeviceError suggesting ``export``), hands the
    cautions to ``on_cautions`` to print (they are spoken in the introduction), then plays with
    the live view and keys on a terminal, or plain timestamped lines without one. However it
    ends (the end, ``q``, Ctrl-C, SIGTERM, an error) it stops the sound, waits for the device to
    finish and restores the terminal before returning or raising.

    ``skip_intro`` starts at step 1 (or ``start``) without the spoken introduction, once this
    machine has played the routine's introduction to its end; ``resume`` goes on from where the
    last stopped session (of ``ref``, or of any routine when ``ref`` is None) stopped. Every
    session but a preview is added to the practice history; one that stops says how to go on.
    """
    # Imported here, not at the top, for start-up time: `import voiceguide` stays light.
    from voiceguide.audio.device import open_output
    from voiceguide.routine.loader import load_routine
    from voiceguide.routine.locale import view_labels
    from voiceguide.routine.steps import asks_for_ambience
    from voiceguide.routine.voice import voice_settings
    from voiceguide.timeline.ambience import parse_override

    if start is not None and preview is not None:
        raise UsageError("use either --from or --preview, not both")
    override = parse_override(ambience, ambience_volume)
    resumed: history.Practice | None = None
    if resume:
        if start is not None or preview is not None:
            raise UsageError("--resume goes on from where you stopped; leave out --from and --preview")
        resumed = _last_stopped(ref)
        ref, start, skip_intro = resumed.routine, str(resumed.step), True
    if ref is None:
        raise UsageError("name the routine to play (or use --resume to go on with the last one)")
    if engine is not None:
        _warm_engine(engine)  # the CLI named it: load its model while the routine loads
    routine = load_routine(ref, avoid=avoid, language=language, strict=strict)
    if on_warnings is not None and routine.warnings:
        on_warnings(routine.warnings)  # before anything is heard: a typo never changes a session silently
    wants_bed = override.plays(asks_for_ambience(routine.ambience, routine.steps))
    settings = voice_settings(routine, engine=engine, voice=voice, rate=rate, volume=volume)
    if engine is None:
        _warm_engine(settings.engine)
    # Start-up time: the session's pipeline (compiler, speech, renderer) is imported only once
    # the engine's warm-up thread has started.
    from voiceguide.player.source import SessionSource

    source = SessionSource(routine, settings)
    titles = source.titles()
    key = history.routine_ref(routine.source)
    spoken_before = skip_intro and preview is None and _cautions_heard(key)
    default = "1" if spoken_before and len(titles) > 1 else "0"
    first = resolve_step(titles, preview if preview is not None else start or default)
    prelude = None if preview is not None or spoken_before else 0
    # Keys whenever stdin is a terminal; the live panel whenever stdout is one (piped output
    # gets plain lines, and the keys still work).
    keyboard = KeyReader.available() if interactive is None else interactive
    live = sys.stdout.isatty() if interactive is None else interactive
    try:
        # Synthesis starts now, while the device opens and the cautions print. A session that
        # starts later than step 0 still begins with the introduction (it speaks the cautions),
        # unless this machine has played them to the end before.
        source.step(first if preview is not None or prelude is None else 0)
        source.prefetch(first)
        output = open_output(str(ref))
        try:
            labels = view_labels(routine.language)
            view: View = LiveView(console, keys=keyboard, labels=labels) if live else PlainView(labels=labels)
            if on_cautions is not None and routine.cautions and preview is None:
                cautions = routine.cautions
                view = _CautionsFirst(view, lambda: on_cautions(cautions))
            keys: KeyReader | NoKeys = KeyReader() if keyboard else NoKeys()
            bed = _live_bed(output, source, override) if wants_bed else None
            if skip_intro and not spoken_before and preview is None:
                view.note(
                    "--skip-intro: the cautions are spoken this time, as this machine has not "
                    "yet played this routine's introduction to its end"
                )
            with terminate_as_exit():
                player = Player(source, output, view, keys, bed=bed)
                outcome: Outcome | None = None
                started = history.now_stamp()
                try:
                    with keys:
                        outcome = player.run(first, preview=preview is not None, prelude=prelude)
                        return outcome
                finally:
                    if bed is not None:
                        with no_interrupts():
                            bed.close()  # a quick fade, not a cut
                    if preview is None:
                        _remember(view, player, outcome, key, routine.title, started, ref, len(titles))
                    view.close()
        finally:
            with no_interrupts():
                output.close()
    finally:
        with no_interrupts():
            source.close()


def _live_bed(output: AudioOutput, source: SessionSource, override: Override) -> LiveBed | None:
    """The session's ambience as a stream of its own (None: this output cannot play one)."""
    from voiceguide.audio.loudness import LIVE_GAIN_DB
    from voiceguide.pipeline import bed_opener
    from voiceguide.player.bed import LiveBed, ReelOutput

    if not isinstance(output, ReelOutput):
        return None
    total_us, _ = source.total_us()
    return LiveBed(
        output,
        bed_opener(),
        sample_rate=source.sample_rate,
        channels=1,
        length_s=total_us / 1_000_000,
        override=override,
        first=source.first_ambience(),
        gain_db=LIVE_GAIN_DB,
    )


class _CautionsFirst:
    """A view that prints the cautions just before anything else it shows.

    Its first update comes right after the first block went to the device (the player draws
    nothing before that unless the first step takes long to prepare), so the first word is not
    kept waiting while they are laid out (rich's import and a table: ~40 ms, half the time from a
    warm start to the first word); they still come before any line, note or panel.
    """

    def __init__(self, view: View, show: Callable[[], None]) -> None:
        self._view = view
        self._show: Callable[[], None] | None = show

    def _cautions(self) -> None:
        show, self._show = self._show, None
        if show is not None:
            show()

    def update(self, state: PlayState) -> None:
        self._cautions()
        self._view.update(state)

    def note(self, message: str) -> None:
        self._cautions()
        self._view.note(message)

    def close(self) -> None:
        # A session that ended before its first sound still shows them; failing to (a closed
        # stdout) must not hide why it ended.
        with contextlib.suppress(Exception):
            self._cautions()
        self._view.close()


def _last_stopped(ref: str | None) -> history.Practice:
    key = None
    if ref is not None:
        from voiceguide.routine.library import resolve_routine

        key = history.routine_ref(resolve_routine(ref))
    try:
        found = history.last_stopped(key)
    except OSError as exc:
        raise UsageError(f"cannot read the practice history {history.history_path()}: {exc}") from None
    if found is None:
        which = f"of {ref!r} " if ref is not None else ""
        raise UsageError(
            f"there is no stopped session {which}to resume; `voiceguide history` lists past sessions"
        )
    return found


def _cautions_heard(key: str) -> bool:
    try:
        return history.cautions_heard(key)
    except OSError:  # an unreadable history: speak the cautions, as on a first session
        return False


def _remember(
    view: View,
    player: Player,
    outcome: Outcome | None,
    key: str,
    title: str,
    started: str,
    ref: str,
    count: int,
) -> None:
    """Add the session to the history and, if it stopped early, say how to go on from there."""
    completed = outcome is Outcome.FINISHED
    practice = history.Practice(
        routine=key,
        title=title,
        started=started,
        minutes=round(player.played_s / 60, 1),
        completed=completed,
        step=count - 1 if completed else player.resume_step,
        intro=player.intro_heard,
    )
    try:
        history.record(practice)
    except OSError as exc:
        view.note(f"warning: the practice history was not saved ({exc.strerror or exc})")
    if not completed:
        again = shlex.quote(ref)
        if practice.step == 0:  # stopped in the introduction: "--from 0" would only confuse
            view.note(f"To start again: voiceguide play {again}")
        else:
            view.note(
                f"To go on later: voiceguide play {again} --from {practice.step}"
                " (or just: voiceguide play --resume)"
            )


def _warm_engine(name: str) -> None:
    """Start an engine's slow set-up (piper's voice model) in the background, so the first word
    still comes within half a second; the synthesis thread reports any failure properly."""

    def warm() -> None:
        # Imported on the warm-up thread, so the main thread goes on loading the routine.
        from voiceguide.speech.registry import get_engine

        with contextlib.suppress(VoiceguideError):
            get_engine(name).preload()

    threading.Thread(target=warm, name="voiceguide-warm-engine", daemon=True).start()
