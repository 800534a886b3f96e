"""What the person following along sees: a live rich panel on a terminal, plain lines otherwise.

The player hands the view a :class:`PlayState` snapshot many times a second; the view decides how
often to draw. Piped or in CI there is no cursor movement, just one timestamped line per thing
that happened (step started, cue spoken, paused, ...), so a log reads like the session.

Every label comes from a table in the session's language (``routine.phrases.VIEW`` in English,
a locale's ``view:`` section otherwise), handed to the view once; the functions take it too, and
default to English.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TextIO

from voiceguide.routine.ops import PointInfo
from voiceguide.routine.phrases import VIEW
from voiceguide.timeline.model import Event, Span, Step
from voiceguide.units import US, format_duration, format_stamp

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

Labels = Mapping[str, str]
# The span kinds of the timeline, and the view label each is shown with.
SPAN_LABELS = {
    "hold": "hold",
    "inhale": "inhale",
    "hold-in": "hold_in",
    "exhale": "exhale",
    "hold-out": "hold_out",
}


def label(labels: Labels, key: str, **values: object) -> str:
    """One label, filled in; English for a key the table lacks."""
    return labels.get(key, VIEW[key]).format(**values)


def span_label(kind: str, labels: Labels = VIEW) -> str:
    return label(labels, SPAN_LABELS[kind]) if kind in SPAN_LABELS else kind


@dataclass(frozen=True)
class PlayState:
    """One moment of the session, as the view shows it."""

    title: str
    step: Step  # the current step (its start and duration may still be estimates)
    step_count: int  # steps in the routine, the introduction (index 0) included
    position_us: int  # playhead inside the step
    elapsed_us: int  # playhead in the session
    total_us: int  # session length (an estimate until every step is prepared)
    total_exact: bool
    status: str  # "playing" | "paused" | "preparing" | "finished" | "stopped"
    event: Event | None = None  # what is sounding now
    span: Span | None = None  # the hold or breath phase under way
    preview: bool = False
    point: PointInfo | None = None  # the point being pressed or introduced (None: use the step's)
    next_step: Step | None = None  # what plays after this step (None: the session ends)
    next_exact: bool = False  # next_step's duration is measured, not estimated
    cycle: tuple[int, int] | None = None  # breathing: (this cycle, cycles; 0 while unknown)

    @property
    def current_point(self) -> PointInfo | None:
        return self.point if self.point is not None else self.step.point

    @property
    def is_intro(self) -> bool:
        return self.step.index == 0 and self.step.kind == "intro"

    @property
    def step_label(self) -> str:
        return step_label(self)

    @property
    def heading(self) -> str:
        return heading(self)

    @property
    def step_left_us(self) -> int:
        return max(self.step.duration_us - self.position_us, 0)

    @property
    def span_left_us(self) -> int:
        if self.span is None:
            return 0
        return max(self.span.end_us - (self.step.start_us + self.position_us), 0)


def step_label(s: PlayState, labels: Labels = VIEW) -> str:
    """``Step 2 of 6``, or ``Introduction (then 6 steps)``."""
    last = s.step_count - 1
    if s.is_intro:
        return f"{label(labels, 'intro')} ({_then(last, labels)})"
    return label(labels, "step", n=s.step.index, total=last)


def _then(steps: int, labels: Labels) -> str:
    return label(labels, "then_one" if steps == 1 else "then", n=steps)


def heading(s: PlayState, labels: Labels = VIEW) -> str:
    """The step label and its title, without saying "Introduction" twice."""
    last = s.step_count - 1
    title = s.step.title.strip()
    if s.is_intro:
        intro, then = label(labels, "intro"), _then(last, labels)
        if title.lower() in ("", "introduction", intro.lower()):
            return f"{intro} · {then}"
        return f"{intro} · {title} · {then}"
    step = label(labels, "step", n=s.step.index, total=last)
    return f"{step} · {title}" if title else step


def clock(us: int) -> str:
    """``m:ss`` (or ``h:mm:ss``) for elapsed and remaining time."""
    total = max(int(us // US), 0)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def progress_line(s: PlayState, labels: Labels = VIEW) -> str:
    """``2:20 of 19:50 · 17:30 left``. The total is rounded as `list`, `show` and export round
    it (a 9:01.9 session is 9:02 everywhere); the elapsed clock counts whole seconds played, and
    what is left is the difference, so the two always add up to the total."""
    total_s = round(s.total_us / US)
    elapsed_s = total_s if s.elapsed_us >= s.total_us else min(max(int(s.elapsed_us // US), 0), total_s)
    length, left = format_duration(s.total_us), clock((total_s - elapsed_s) * US)
    if not s.total_exact:
        length, left = label(labels, "about", time=length), label(labels, "about", time=left)
    return label(labels, "progress", elapsed=clock(elapsed_s * US), total=length, left=left)


def describe_event(event: Event) -> str:
    if event.kind == "speech":
        return f"“{event.text}”"
    if event.kind == "sound":
        return f"♪ {event.sound}"
    return ""


def _side(span: Span, labels: Labels = VIEW) -> str:
    key = {"left": "left_side", "right": "right_side", "both": "both_sides"}.get(span.side)
    return label(labels, key) if key else ""


class View(Protocol):
    def update(self, state: PlayState) -> None: ...

    def note(self, message: str) -> None:
        """Something worth telling outside the regular display (a warning, a skip)."""
        ...

    def close(self) -> None: ...


class PlainView:
    """Timestamped lines for logs and pipes: one per step, cue, hold and pause/resume."""

    def __init__(self, stream: TextIO | None = None, *, labels: Labels = VIEW) -> None:
        self._out = stream if stream is not None else sys.stdout
        self._labels = labels
        self._step: tuple[int, int] | None = None
        self._point: PointInfo | None = None
        self._event: Event | None = None
        self._span: Span | None = None
        self._status = ""
        self._elapsed = 0

    def _line(self, elapsed_us: int, text: str) -> None:
        try:
            self._out.write(f"[{format_stamp(elapsed_us)}] {text}\n")
            self._out.flush()
        except (OSError, ValueError):  # a closed pipe must not stop the session
            pass

    def update(self, state: PlayState) -> None:
        self._elapsed = state.elapsed_us
        at = state.elapsed_us
        key = (state.step.index, state.step.start_us)
        if key != self._step:
            self._step = key
            self._event = self._span = self._point = None
            labels = self._labels
            title = f"{step_label(state, labels)}: {state.step.title}"
            self._line(at, heading(state, labels) if state.is_intro else title)
        point = state.current_point
        if point is not None and point != self._point:
            self._point = point
            pinyin = f", {point.pinyin}" if point.pinyin else ""
            self._line(at, f"  point {point.code} ({point.name}{pinyin}): {point.location}")
        if state.status != self._status:
            if state.status == "paused":
                self._line(at, "paused")
            elif state.status == "playing" and self._status == "paused":
                self._line(at, "resumed")
            elif state.status == "preparing" and self._status == "playing":
                self._line(at, "waiting for speech synthesis…")
            self._status = state.status
        if state.status != "playing":
            return
        if state.span is not None and state.span != self._span:
            self._span = state.span
            side = _side(state.span, self._labels)
            what = span_label(state.span.kind, self._labels)
            self._line(at, f"  {what}{' (' + side + ')' if side else ''} {state.span.duration_us / US:g} s")
        if state.event is not None and state.event != self._event:
            self._event = state.event
            text = describe_event(state.event)
            if text:
                self._line(state.event.start_us, f"  {text}")

    def note(self, message: str) -> None:
        self._line(self._elapsed, message)

    def close(self) -> None:
        return None


class LiveView:
    """A rich panel redrawn in place: title, step n of N, the point, a countdown bar, the keys."""

    MIN_INTERVAL_S = 0.1  # ten redraws a second are plenty for a one-second countdown

    def __init__(self, console: object | None = None, *, keys: bool = True, labels: Labels = VIEW) -> None:
        from rich.console import Console
        from rich.live import Live

        self._console = console if isinstance(console, Console) else Console()
        self._live = Live(
            console=self._console,
            auto_refresh=False,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._keys = keys
        self._labels = labels
        self._last = 0.0
        self._state: PlayState | None = None
        self._notes: list[str] = []
        self._started = False

    def update(self, state: PlayState) -> None:
        changed = (
            self._state is None
            or state.status != self._state.status
            or state.step.index != self._state.step.index
            or state.event != self._state.event
            or state.point != self._state.point
        )
        self._state = state
        now = time.monotonic()
        if not changed and now - self._last < self.MIN_INTERVAL_S:
            return
        self._last = now
        if not self._started:
            self._live.start()
            self._started = True
        self._live.update(self._render(state), refresh=True)

    def note(self, message: str) -> None:
        self._notes = [*self._notes[-2:], message]
        if self._state is not None and self._started:
            self._live.update(self._render(self._state), refresh=True)

    def close(self) -> None:
        if self._started:
            if self._state is not None:
                self._live.update(self._render(self._state, final=True), refresh=True)
            self._live.stop()
            self._started = False

    def _render(self, s: PlayState, *, final: bool = False) -> RenderableType:
        return render_panel(s, self._notes, keys=self._keys and not final, labels=self._labels)


def time_left(us: int, labels: Labels = VIEW) -> str:
    """A countdown as a listener reads it: whole seconds rounded up (``4 s``), ``m:ss`` from a minute."""
    seconds = -(-max(us, 0) // US)
    return label(labels, "seconds", n=seconds) if seconds < 60 else clock(seconds * US)


def _left(us: int, labels: Labels) -> str:
    """``4 s left``; the singular label for one second, where the language's verb agrees."""
    one = -(-max(us, 0) // US) == 1
    return label(labels, "time_left_one" if one else "time_left", time=time_left(us, labels))


_SENTENCE_ENDS = (". ", "。")
_COMMAS = (", ", "，", "、")


def _first_sentence(text: str) -> str:
    """The opening of a location ("On the inside of your forearm"): enough to get ready.
    Chinese ends sentences with 。 and pauses with ，; its characters are twice as wide."""
    from rich.cells import cell_len

    head = text.strip()
    for end in _SENTENCE_ENDS:
        head = head.split(end)[0]
    head = head.rstrip(".。")
    if cell_len(head) > 48:
        for comma in _COMMAS:
            head = head.split(comma)[0]
    return head


def next_line(s: PlayState, labels: Labels = VIEW) -> str:
    """What comes after this step, so the listener can get ready: ``Next: PC6 · Inner Gate — …, 1:00``."""
    if s.next_step is None:
        return label(labels, "next_end_preview" if s.preview else "next_end")
    step = s.next_step
    length = format_duration(step.duration_us)
    if not s.next_exact:
        length = label(labels, "about", time=length)
    point = step.point
    if point is not None and step.kind == "point":
        where = _first_sentence(point.location)
        what = f"{point.code} · {point.name}" + (f" — {where}" if where else "")
    else:
        what = step.title.strip() or step.kind
    return label(labels, "next", what=what, length=length)


def countdown_line(s: PlayState, labels: Labels = VIEW) -> tuple[str, str, int, int] | None:
    """(label, detail, done, total) for the bar under the point: a hold, a breath, a pause."""
    if s.span is not None:
        parts = [span_label(s.span.kind, labels)]
        if s.span.kind == "hold":
            side = _side(s.span, labels)
            if side:
                parts.append(side)
        elif s.cycle is not None:
            n, of = s.cycle
            parts.append(label(labels, "cycle", n=n, total=of) if of else label(labels, "cycle_n", n=n))
        left = s.span_left_us
        return " · ".join(parts), _left(left, labels), s.span.duration_us - left, s.span.duration_us
    if s.step.kind == "pause":
        left = s.step_left_us
        return label(labels, "pause"), _left(left, labels), s.step.duration_us - left, s.step.duration_us
    return None


def _bar(total: int, done: int, style: str = "bar.complete") -> RenderableType:
    """A progress bar on a line of its own, as wide as the panel."""
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    grid = Table.grid(expand=True)
    grid.add_column(ratio=1)
    grid.add_row(ProgressBar(total=max(total, 1), completed=max(done, 0), complete_style=style))
    return grid


def render_panel(
    s: PlayState, notes: Sequence[str] = (), *, keys: bool = True, labels: Labels = VIEW
) -> RenderableType:
    """The live panel for one moment, its labels in ``labels``' language. Every line is rich Text,
    which wraps on words (and between Chinese characters) at any width, and the bars have lines
    of their own, so nothing overflows or is cut."""
    from rich.text import Text

    rows: list[RenderableType] = []
    head = Text(heading(s, labels), style="bold")
    if s.preview:
        head.append("  " + label(labels, "preview"), style="magenta")
    rows.append(head)
    point = s.current_point
    if point is not None:
        line = Text()
        line.append(point.name, style="bold cyan")
        line.append(f" · {point.code}")
        if point.pinyin:
            line.append(f" · {point.pinyin}")
        side = _side(s.span, labels) if s.span is not None and s.span.kind == "hold" else ""
        how = side or (label(labels, point.sides) if point.sides in ("together", "alternate") else "")
        if how:
            line.append(f" · {how}", style="yellow")
        rows.append(line)
        rows.append(Text(point.location, style="dim"))
    rows.append(Text(""))
    countdown = countdown_line(s, labels)
    if countdown is not None:
        what, detail, done, total = countdown
        line = Text()
        line.append(what, style="bold green")
        line.append(f" · {detail}")
        rows.append(line)
        rows.append(_bar(total, done, "green"))
    caption = describe_event(s.event) if s.event is not None else ""
    rows.append(Text(caption or " ", style="italic"))
    rows.append(Text(""))
    rows.append(Text(progress_line(s, labels)))
    rows.append(_bar(s.total_us, min(s.elapsed_us, s.total_us)))
    if s.status not in ("finished", "stopped"):
        rows.append(Text(next_line(s, labels), style="cyan"))
    styles = {"paused": "bold yellow", "preparing": "dim", "finished": "bold green", "stopped": "bold"}
    if s.status in styles:
        rows.append(Text(label(labels, s.status), style=styles[s.status]))
    for message in notes:
        rows.append(Text(message, style="yellow"))
    if keys:
        rows.append(Text(label(labels, "keys"), style="dim"))
    return _SessionPanel(rows, s.title)


class _SessionPanel:
    """The panel, laid out for the width it gets: a title too long for the border goes inside
    (wrapped) rather than being cut, and word wrapping is on whatever the console says —
    voiceguide's console soft-wraps, which inside a panel would cut every line at the border."""

    def __init__(self, rows: list[RenderableType], title: str) -> None:
        self.rows = rows
        self.title = title

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.cells import cell_len
        from rich.console import Group
        from rich.panel import Panel
        from rich.text import Text

        rows = self.rows
        title: Text | None = Text(self.title)
        if cell_len(self.title) + 6 > options.max_width:
            rows, title = [Text(self.title, style="bold"), *rows], None
        panel = Panel(Group(*rows), title=title, title_align="left")
        yield from console.render(panel, options.update(no_wrap=False, overflow="fold"))
