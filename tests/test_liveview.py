"""The live panel as a listener sees it, rendered at real terminal widths.

Each state is one moment of a session (a hold, a breath, a pause, the introduction); the panel is
rendered by rich to plain text at a given width, and the tests read it as a person would: the
whole sentence is there, no word is broken across lines, nothing runs past the edge, and there is
always a line saying what comes next.
"""

from __future__ import annotations

import io
import re

import pytest
from rich.cells import cell_len
from rich.console import Console

from voiceguide.cli._output import print_cautions
from voiceguide.player.view import PlayState, describe_event, next_line, render_panel, time_left
from voiceguide.routine.ops import PointInfo
from voiceguide.timeline.model import Event, Span, Step
from voiceguide.units import US

LI4_LOCATION = (
    "On the back of your hand. Squeeze your thumb against the side of your index finger: a "
    "mound of muscle rises between them. The point is at the top of that mound, in the web."
)
LI4 = PointInfo("LI4", "Union Valley", "Hegu", LI4_LOCATION, "alternate")
PC6 = PointInfo(
    "PC6",
    "Inner Gate",
    "Neiguan",
    "On the inside of your forearm. Lay three fingers across it, starting at the wrist crease.",
    "together",
)
SPOKEN = (
    "Keep a steady, comfortable pressure and breathe slowly; if anything hurts or the "
    "swelling grows, stop and rest your hand on your lap."
)
TITLE = "Headache relief with acupressure, for the hands and the back of the neck"
CAUTIONS = [
    "This is not medical advice. If you have a sudden, severe headache unlike any before, "
    "weakness, numbness or confusion, call emergency services now instead of pressing points.",
    "Do not press on broken skin, bruises, varicose veins or any swelling of the hand or arm.",
]

INTRO = Step(0, "Introduction", "intro", 0, 60 * US)
POINT = Step(2, "LI4 Union Valley", "point", 100 * US, 150 * US, LI4)
NEXT_POINT = Step(3, "PC6 Inner Gate", "point", 250 * US, 60 * US, PC6)
PAUSE = Step(3, "Rest", "pause", 250 * US, 20 * US)
BREATHE = Step(4, "Breathe 4-7-8 ×6", "breathe", 270 * US, 114 * US)
SAY = Step(5, "Closing words", "say", 384 * US, 30 * US)


def speaking(step: Step, text: str = SPOKEN) -> Event:
    return Event("speech", step.start_us + 2 * US, 8 * US, step.index, text=text)


def state(step: Step, position_s: float, **kw: object) -> PlayState:
    pos = round(position_s * US)
    base: dict[str, object] = dict(
        title=TITLE,
        step=step,
        step_count=7,
        position_us=pos,
        elapsed_us=step.start_us + pos,
        total_us=1190 * US,
        total_exact=True,
        status="playing",
    )
    base.update(kw)
    return PlayState(**base)  # type: ignore[arg-type]


MOMENTS = {
    "intro": state(INTRO, 3, event=speaking(INTRO), next_step=POINT, next_exact=False),
    "point-hold": state(
        POINT,
        40,
        event=speaking(POINT),
        next_step=NEXT_POINT,
        next_exact=True,
        span=Span("hold", 130 * US, 60 * US, 2, "left", LI4),
    ),
    "pause": state(PAUSE, 16, next_step=BREATHE),
    "breathe": state(
        BREATHE,
        22,
        next_step=SAY,
        cycle=(2, 6),
        span=Span("exhale", 288 * US, 8 * US, 4),
        event=Event("speech", 288 * US, 1 * US, 4, text="Out."),
    ),
    "say": state(SAY, 3, event=speaking(SAY), next_step=None),
    "paused": state(POINT, 40, status="paused", next_step=NEXT_POINT),
}


def render(s: PlayState, width: int) -> list[str]:
    out = io.StringIO()
    # Soft wrapping on, as in the app's console: the panel must still wrap its own lines.
    console = Console(
        file=out, width=width, color_system=None, force_terminal=False, legacy_windows=False, soft_wrap=True
    )
    console.print(render_panel(s, ["warning: something worth reading in full"]))
    return out.getvalue().splitlines()


def words_of(lines: list[str]) -> set[str]:
    return {w for line in lines for w in re.split(r"[\s│╭╮╰╯─]+", line) if w}


def assert_whole(sentence: str, lines: list[str]) -> None:
    seen = words_of(lines)
    broken = [w for w in sentence.split() if w not in seen]
    assert not broken, f"words cut or split across lines: {broken}\n" + "\n".join(lines)


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("moment", sorted(MOMENTS))
def test_panel_fits_the_width_and_keeps_every_word(moment: str, width: int) -> None:
    s = MOMENTS[moment]
    lines = render(s, width)
    assert all(cell_len(line) <= width for line in lines), "\n".join(lines)
    text = "\n".join(lines)
    assert "Next:" in text
    assert_whole(next_line(s), lines)
    assert_whole("warning: something worth reading in full", lines)
    assert_whole(TITLE, lines)  # in the border, or inside when the border is too short
    if s.current_point is not None:
        assert_whole(s.current_point.location, lines)
    if s.event is not None and s.event.kind == "speech":
        assert_whole(describe_event(s.event), lines)


def test_panel_never_overflows_from_60_to_200_columns() -> None:
    for width in range(60, 201, 7):
        for s in MOMENTS.values():
            lines = render(s, width)
            assert all(cell_len(line) <= width for line in lines), (width, "\n".join(lines))
            assert_whole(describe_event(s.event) if s.event else next_line(s), lines)


def test_next_line_names_the_point_where_it_is_and_how_long() -> None:
    s = MOMENTS["point-hold"]
    assert next_line(s) == "Next: PC6 · Inner Gate — On the inside of your forearm, 1:00"
    assert next_line(MOMENTS["intro"]).endswith("about 2:30")  # an estimate says so
    assert next_line(MOMENTS["pause"]) == "Next: Breathe 4-7-8 ×6, about 1:54"
    assert next_line(MOMENTS["say"]) == "Next: end of session"


def test_hold_shows_the_side_and_its_time_left() -> None:
    text = "\n".join(render(MOMENTS["point-hold"], 80))
    assert "Hold · left side · 50 s left" in text  # 10 s into a 60 s hold on the left
    assert "left, then right" not in text  # the side being held, not the plan


def test_pause_counts_down_in_whole_seconds() -> None:
    text = "\n".join(render(MOMENTS["pause"], 80))
    assert "Pause · 4 s left" in text
    assert time_left(round(3.2 * US)) == "4 s" and time_left(90 * US) == "1:30"
    assert time_left(59_999_999) == "1:00" and time_left(0) == "0 s"


def test_breathing_shows_the_phase_and_the_cycle() -> None:
    text = "\n".join(render(MOMENTS["breathe"], 60))
    assert "Breathe out · cycle 2 of 6 · 4 s left" in text


def test_the_header_does_not_repeat_itself() -> None:
    text = "\n".join(render(MOMENTS["intro"], 120))
    assert "Introduction · then 6 steps" in text
    assert text.count("Introduction") == 1
    assert "Step 2 of 6 · LI4 Union Valley" in "\n".join(render(MOMENTS["point-hold"], 120))


def test_length_says_about_only_when_estimated() -> None:
    exact = "\n".join(render(MOMENTS["say"], 80))
    assert "6:27 of 19:50" in exact and "about" not in exact
    guess = "\n".join(render(state(SAY, 3, total_exact=False), 80))
    assert "6:27 of about 19:50 · about 13:23 left" in guess


def test_the_total_is_rounded_as_list_and_show_round_it_and_the_parts_add_up() -> None:
    """A 9:01.9 session is 9:02 in `list`, `show` and the exported file; the live view agrees,
    and what was played and what is left always add up to it."""
    from voiceguide.player.view import progress_line
    from voiceguide.units import format_duration

    total = 541_871_380  # lower-back-pain-quick, measured
    assert format_duration(total) == "9:02"
    assert progress_line(state(SAY, 0, total_us=total, elapsed_us=0)) == "0:00 of 9:02 · 9:02 left"
    assert progress_line(state(SAY, 0, total_us=total, elapsed_us=325_900_000)) == "5:25 of 9:02 · 3:37 left"
    assert progress_line(state(SAY, 0, total_us=total, elapsed_us=total)) == "9:02 of 9:02 · 0:00 left"
    past_the_end = state(SAY, 0, total_us=59_600_000, elapsed_us=59_700_000)
    assert progress_line(past_the_end) == "1:00 of 1:00 · 0:00 left"


@pytest.mark.parametrize("width", [60, 80, 120])
def test_cautions_above_the_panel_wrap_on_words(width: int) -> None:
    out = io.StringIO()
    # Like the app's console: soft wrapping on, which would hand long lines to the terminal.
    console = Console(file=out, width=width, color_system=None, soft_wrap=True)
    print_cautions(CAUTIONS, console)
    lines = out.getvalue().splitlines()
    assert all(cell_len(line) <= width for line in lines), "\n".join(lines)
    for caution in CAUTIONS:
        assert_whole(caution, lines)
    assert sum(line.lstrip().startswith("•") for line in lines) == len(CAUTIONS)


# -- the live view in the session's language ------------------------------------------------------

ENGLISH_LABELS = ("Next:", "Step ", " left", "Hold", " side", "cycle", "Introduction", "pause/resume")


def session_moments(code: str) -> dict[str, PlayState]:
    """Moments of the shipped routines in a language, as the player would show them."""
    from voiceguide.pipeline import build_timeline

    back = build_timeline("lower-back-pain", language=code, estimate=True)
    hold = next(sp for sp in back.spans if sp.kind == "hold" and sp.point is not None)
    step = back.steps[hold.step]
    words = next(e for e in back.events if e.kind == "speech" and e.step == step.index and len(e.text) > 20)
    box = build_timeline("box-breathing", language=code, estimate=True)
    breath = next(sp for sp in box.spans if sp.kind == "exhale")
    bstep = box.steps[breath.step]

    def at(t: object, s: Step, us: int, **kw: object) -> PlayState:
        steps = t.steps  # type: ignore[attr-defined]
        base: dict[str, object] = dict(
            title=t.title,  # type: ignore[attr-defined]
            step=s,
            step_count=len(steps),
            position_us=us - s.start_us,
            elapsed_us=us,
            total_us=t.total_us,  # type: ignore[attr-defined]
            total_exact=False,
            status="playing",
            next_step=steps[s.index + 1] if s.index + 1 < len(steps) else None,
        )
        base.update(kw)
        return PlayState(**base)  # type: ignore[arg-type]

    half = hold.start_us + hold.duration_us // 2
    return {
        "intro": at(back, back.steps[0], 3 * US, event=next(e for e in back.events if e.kind == "speech")),
        "hold": at(back, step, half, span=hold, event=words, point=hold.point),
        "breathe": at(box, bstep, breath.start_us + US, span=breath, cycle=(2, 4)),
        "paused": at(back, step, half, span=hold, status="paused"),
    }


def render_in(code: str, s: PlayState, width: int) -> list[str]:
    from voiceguide.routine.locale import view_labels

    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, force_terminal=False, soft_wrap=True)
    console.print(render_panel(s, labels=view_labels(code)))
    return out.getvalue().splitlines()


@pytest.mark.parametrize("width", [60, 80, 120])
def test_a_chinese_session_shows_chinese_labels_whole_characters_and_straight_borders(width: int) -> None:
    from rich.cells import get_character_cell_size

    moments = session_moments("zh")
    for name, s in moments.items():
        lines = render_in("zh", s, width)
        text = "\n".join(lines)
        # Wide characters are two cells: every line of the panel ends exactly at the border.
        assert {cell_len(line) for line in lines} == {width}, (name, text)
        assert all(line[-1] in "│╮╯" for line in lines), (name, text)
        assert not [w for w in ENGLISH_LABELS if w in text], (name, text)
        assert re.search(r"[\u4e00-\u9fff]", text)
        assert all(get_character_cell_size(c) == 2 for c in "肾俞还剩秒")
        flat = re.sub(r"[\s│╭╮╰╯─]+", "", text)
        if s.current_point is not None:  # Chinese wraps between characters; nothing is lost
            assert re.sub(r"\s+", "", s.current_point.location) in flat, text
            assert any(s.current_point.name in line for line in lines)  # a name is never split
    hold = "\n".join(render_in("zh", moments["hold"], 120))
    assert re.search(r"第 \d+ 步，共 \d+ 步 · ", hold)
    assert re.search(r"按压 · 两侧 · 还剩 \d+ 秒", hold)
    assert "接下来：" in hold and "空格 暂停/继续" in hold and "约 " in hold
    assert "呼气 · 第 2 轮，共 4 轮 · 还剩 3 秒" in "\n".join(render_in("zh", moments["breathe"], 80))
    assert "已暂停——按空格键继续" in "\n".join(render_in("zh", moments["paused"], 80))
    intro = "\n".join(render_in("zh", moments["intro"], 120))
    assert intro.count("开场") == 1 and re.search(r"开场 · 之后共 \d+ 步", intro)


@pytest.mark.parametrize("width", [60, 80, 120])
def test_a_spanish_session_shows_spanish_labels_and_keeps_every_word(width: int) -> None:
    from voiceguide.routine.locale import view_labels

    moments = session_moments("es")
    for name, s in moments.items():
        lines = render_in("es", s, width)
        text = "\n".join(lines)
        assert all(cell_len(line) <= width for line in lines), (name, text)
        assert not [w for w in ENGLISH_LABELS if w in text], (name, text)
        assert_whole(next_line(s, view_labels("es")), lines)
        if s.current_point is not None:
            assert_whole(s.current_point.location, lines)
        if s.event is not None:
            assert_whole(describe_event(s.event), lines)
    hold = "\n".join(render_in("es", moments["hold"], 120))
    assert re.search(r"Paso \d+ de \d+ · ", hold) and "Siguiente: " in hold
    assert re.search(r"Presión · ambos lados · quedan \d+ s", hold)
    assert "de aprox. " in hold and "quedan aprox. " in hold
    assert "Exhala · ciclo 2 de 4 · quedan 3 s" in "\n".join(render_in("es", moments["breathe"], 80))


def test_one_second_left_agrees_in_spanish_and_stays_english_by_default() -> None:
    from voiceguide.player.view import countdown_line
    from voiceguide.routine.locale import view_labels

    s = state(PAUSE, 19.5, next_step=BREATHE)
    assert countdown_line(s) == ("Pause", "1 s left", 19_500_000, 20 * US)
    assert countdown_line(s, view_labels("es"))[:2] == ("Pausa", "queda 1 s")  # type: ignore[index]
    assert countdown_line(state(PAUSE, 16), view_labels("es"))[:2] == ("Pausa", "quedan 4 s")  # type: ignore[index]
    assert countdown_line(state(PAUSE, 16), view_labels("de"))[:2] == ("Pause", "noch 4 s")  # type: ignore[index]


def test_plain_lines_use_the_sessions_language_too() -> None:
    from voiceguide.player.view import PlainView
    from voiceguide.routine.locale import view_labels

    s = session_moments("de")["hold"]
    out = io.StringIO()
    view = PlainView(out, labels=view_labels("de"))
    view.update(s)
    log = out.getvalue()
    assert re.search(r"Schritt \d+ von \d+: ", log) and re.search(r"Drücken \(beide Seiten\) \d+ s", log)
    assert "Step " not in log and "Hold" not in log
