"""A printable guide for a routine: one self-contained HTML page to read before a session.

A person looks at the pictures once, then closes their eyes and follows the voice. The page is
inline HTML, CSS and SVG only (no script, no network, no URL of any kind), so it opens the same on
a phone, in a browser without JavaScript, or on paper. Every text that comes from a routine is
escaped, and a Content-Security-Policy forbids scripts and remote loads should anything slip by.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from ..errors import Problem, RoutineError
from ..pipeline import compile_loaded, load_routine
from ..routine.catalogue import load_catalogue
from .bodymap import Marked, Position, PositionError, load_positions, render_view, resolve_position

US = 1_000_000

SIDES_TEXT = {
    "together": "Both sides at once",
    "alternate": "One side, then the other: a full hold on each",
    "single": "One point",
}
CUE_TEXT = {"words": "spoken words", "count": "a spoken count", "tones": "tones"}

# What the routine's own words say you will need; each entry is our own short description.
NEEDS = (
    (re.compile(r"\bchair\b", re.I), "A firm chair to sit on"),
    (re.compile(r"\b(mat|rug|bed)\b", re.I), "A mat, rug or firm bed to lie on"),
    (re.compile(r"\b(pillows?|cushions?)\b", re.I), "A pillow or cushion"),
)


@dataclass(frozen=True)
class Card:
    """One point step of the session, in order, with what the card shows."""

    number: int
    code: str
    name: str
    pinyin: str
    location: str
    technique: str
    hold_us: int
    sides: str
    point_sides: str  # bilateral | midline
    cautions: tuple[str, ...]
    repeats: int
    start_us: int | None
    positions: tuple[Position, ...]


def _duration(us: int) -> str:
    seconds = round(us / US)
    minutes, secs = divmod(seconds, 60)
    if not minutes:
        return f"{secs} seconds"
    if not secs:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{minutes} min {secs} s"


def _clock(us: int) -> str:
    m, s = divmod(round(us / US), 60)
    return f"{m}:{s:02d}"


def _walk(steps: Sequence[Any], times: int = 1) -> list[tuple[Any, int]]:
    """Every leaf step in session order with how many times it is repeated."""
    out: list[tuple[Any, int]] = []
    for step in steps:
        inner = getattr(step, "steps", None)
        if inner is not None:
            out.extend(_walk(inner, times * getattr(step, "times", 1)))
        else:
            out.append((step, times))
    return out


def _caution_for(tag: str, routine: Any, catalogue: Any) -> str:
    text = routine.caution_texts.get(tag) or catalogue.caution_text(tag)
    # Catalogue sentences are written to be spoken just before a point; on its card it is "this".
    return str(text).replace("the next point", "this point")


def build_cards(
    routine: Any, timeline: Any, catalogue: Any, positions: Mapping[str, Sequence[Position]]
) -> list[Card]:
    holds = [s for s in timeline.spans if s.kind == "hold" and s.point is not None]
    cursor = 0
    cards: list[Card] = []
    for step, times in _walk(routine.steps):
        point = getattr(step, "point", None)
        if point is None or not hasattr(step, "hold_us"):
            continue
        start = None
        for i in range(cursor, len(holds)):
            if holds[i].point.code == point.code:
                start, cursor = holds[i].start_us, i + 1
                break
        cards.append(
            Card(
                number=len(cards) + 1,
                code=point.code,
                name=step.name,
                pinyin=point.pinyin,
                location=step.location,
                technique=step.technique,
                hold_us=step.hold_us,
                sides=step.sides,
                point_sides=point.sides,
                cautions=tuple(_caution_for(t, routine, catalogue) for t in point.cautions),
                repeats=times,
                start_us=start,
                positions=_user_positions(point) or tuple(positions.get(point.code, ())),
            )
        )
    return cards


def _user_positions(point: Any) -> tuple[Position, ...]:
    """A routine's own ``position:`` for a point, checked against the drawings now."""
    out = []
    for drawn in getattr(point, "positions", ()):
        try:
            out.append(resolve_position(drawn.spec))
        except PositionError as exc:
            problem = Problem(
                drawn.file,
                drawn.line,
                drawn.column,
                str(exc),
                path=f"points.{point.code}.position",
                hint=exc.hint,
            )
            raise RoutineError([problem]) from None
    return tuple(out)


def _breaths(routine: Any) -> list[tuple[tuple[int, ...], str, int, int]]:
    """Distinct breathing patterns: (phases, cue, times used, total cycles)."""
    found: dict[tuple[tuple[int, ...], str], list[int]] = {}
    for step, times in _walk(routine.steps):
        phases = getattr(step, "phases_us", None)
        if phases is None:
            continue
        entry = found.setdefault((tuple(phases), step.cue), [0, 0])
        entry[0] += times
        entry[1] += step.cycles * times
    return [(p, c, n, cycles) for (p, c), (n, cycles) in found.items()]


def _seconds(us: int) -> str:
    return f"{us / US:g}"


def _pattern_words(phases: tuple[int, ...]) -> str:
    names = ("Breathe in", "hold", "breathe out", "hold")
    parts = [f"{names[i]} for {_seconds(us)} s" for i, us in enumerate(phases) if us]
    return ", ".join(parts)


def _pattern_bar(phases: tuple[int, ...]) -> str:
    total = sum(phases) or 1
    colours = ("#1f5fa8", "#8a8a8a", "#2e7d32", "#8a8a8a")
    labels = ("in", "hold", "out", "hold")
    x = 0.0
    rects = []
    for i, us in enumerate(phases):
        if not us:
            continue
        w = 300 * us / total
        rects.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="22" fill="{colours[i]}"/>'
            f'<text x="{x + w / 2:.1f}" y="15" text-anchor="middle" font-size="12" fill="#ffffff">'
            f"{labels[i]} {_seconds(us)}</text>"
        )
        x += w
    return (
        '<svg class="breath" viewBox="0 0 300 22" role="img" aria-label="one breath, to scale">'
        + "".join(rects)
        + "</svg>"
    )


CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px; background: #ffffff; color: #111111;
  font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 860px; margin: 0 auto; }
h1 { font-size: 1.7em; line-height: 1.2; margin: 0 0 .2em; }
h2 { font-size: 1.25em; margin: 1.2em 0 .4em; }
h3 { font-size: 1.2em; margin: 0; }
.summary { margin: 0 0 .5em; }
.facts { display: flex; flex-wrap: wrap; gap: .4em 1.6em; margin: 0 0 1em; padding: 0; list-style: none; }
.safety { border: 3px solid #a00000; background: #fff4f4; padding: 10px 14px; margin: 0 0 1em;
  break-inside: avoid; }
.safety h2 { margin-top: 0; color: #7a0000; }
.safety li { margin: .3em 0; }
.redflag { font-weight: 700; }
.notice { border-left: 5px solid #7a4a00; padding: 4px 12px; background: #fff8e6; }
.cards { display: block; }
.card { border: 2px solid #333333; border-radius: 8px; padding: 12px; margin: 0 0 14px;
  break-inside: avoid; page-break-inside: avoid; display: grid; gap: 6px 16px;
  grid-template-columns: minmax(0, 1fr) minmax(0, 1.15fr); }
.card header { grid-column: 1 / -1; display: flex; flex-wrap: wrap; align-items: baseline; gap: .2em .8em; }
.card .num { font-weight: 700; background: #111111; color: #ffffff; border-radius: 4px; padding: 0 .4em; }
.card .code { font-weight: 700; }
.card .pinyin { font-style: italic; }
.card .when { margin-left: auto; color: #333333; }
.card figure { margin: 0; }
.card figcaption { font-size: .85em; color: #333333; }
.card dl { margin: 0; }
.card dt { font-weight: 700; margin-top: .3em; }
.card dd { margin: 0; }
.card .cautions { margin: .5em 0 0; padding: 6px 10px; border: 2px solid #a00000; background: #fff4f4; }
.nodiagram { border: 2px dashed #555555; padding: 12px; font-size: .9em; }
svg.bodymap { display: block; width: 100%; max-width: 340px; height: auto; margin: 0 auto; }
svg.breath { display: block; width: 100%; max-width: 420px; height: auto; margin: .3em 0 .8em; }
.breathing { break-inside: avoid; }
footer { margin-top: 1.5em; font-size: .9em; color: #333333; }
@media (max-width: 560px) {
  body { padding: 10px; font-size: 16px; }
  .card { grid-template-columns: minmax(0, 1fr); }
  .card .when { margin-left: 0; }
}
@page { margin: 14mm 12mm; }
@media print {
  body { padding: 0; font-size: 10.5pt; line-height: 1.35; }
  main { max-width: none; }
  h2 { margin: .6em 0 .3em; }
  .card { grid-template-columns: 36% 1fr; padding: 8px 10px; margin: 0 0 8px; }
  .card dt { margin-top: .15em; }
  svg.bodymap { max-width: 52mm; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _card_html(card: Card) -> str:
    prefix = f"c{card.number}-"
    label = f"{card.name} ({card.code})"
    if card.positions:
        position = card.positions[0]
        svg = render_view(
            position.view,
            [Marked(card.code, label, position, card.point_sides == "bilateral")],
            id_prefix=prefix,
        )
        figure = f"<figure>{svg}<figcaption>Red dot: {_e(label)}.</figcaption></figure>"
    else:
        figure = '<p class="nodiagram">No diagram for this point: find it by the description.</p>'
    when = (
        f'<span class="when">from about {_clock(card.start_us)}</span>' if card.start_us is not None else ""
    )
    sides = SIDES_TEXT.get(card.sides, card.sides)
    if card.point_sides == "midline":
        sides = "One point, on the centre line"
    hold = _duration(card.hold_us) + (" per side" if card.sides == "alternate" else "")
    if card.repeats > 1:
        hold += f", repeated {card.repeats} times"
    cautions = ""
    if card.cautions:
        items = "".join(f"<li>{_e(c)}</li>" for c in card.cautions)
        cautions = f'<div class="cautions"><strong>Take care</strong><ul>{items}</ul></div>'
    pinyin = f'<span class="pinyin">{_e(card.pinyin)}</span>' if card.pinyin else ""
    return (
        f'<article class="card" id="card-{card.number}" data-code="{_e(card.code)}">'
        f'<header><span class="num">{card.number}</span><h3>{_e(card.name)}</h3>'
        f'<span class="code">{_e(card.code)}</span>{pinyin}{when}</header>'
        f"{figure}"
        f"<div><dl><dt>Where</dt><dd>{_e(card.location)}</dd>"
        f"<dt>How</dt><dd>{_e(card.technique)}</dd>"
        f"<dt>Hold</dt><dd>{_e(hold)}</dd><dt>Sides</dt><dd>{_e(sides)}</dd></dl>{cautions}</div>"
        "</article>"
    )


def _needs(routine: Any, cards: Sequence[Card]) -> list[str]:
    texts = [getattr(step, "text", "") for step, _ in _walk(routine.steps)]
    texts += [c.technique for c in cards]
    blob = " ".join(t for t in texts if isinstance(t, str))
    needs = [item for pattern, item in NEEDS if pattern.search(blob)]
    needs.append("A quiet place where you will not be disturbed")
    return needs


def guide_html(
    routine: Any, timeline: Any, catalogue: Any, positions: Mapping[str, Sequence[Position]]
) -> str:
    """The guide page for an already loaded routine and its timeline (pure: data in, text out)."""
    cards = build_cards(routine, timeline, catalogue, positions)
    title = _e(routine.title)
    cautions = list(routine.cautions)
    safety_items = []
    for text in cautions:
        flag = bool(re.search(r"\b(urgent|warning signs)\b", text, re.I))
        cls = ' class="redflag"' if flag else ""
        safety_items.append(f"<li{cls}>{_e(text)}</li>")
    if any(c.cautions for c in cards):
        safety_items.append("<li>Some points have a warning of their own: read it on the point's card.</li>")
    if not safety_items:
        safety_items.append(
            "<li>Stop if anything hurts, and see a doctor about a problem that persists.</li>"
        )
    avoided = ""
    if routine.avoided:
        tags = ", ".join(_e(t) for t in routine.avoid_tags)
        names = ", ".join(_e(c) for c in routine.avoided)
        avoided = f'<p class="notice">Left out because you asked to avoid {tags}: {names}.</p>'
    needs = "".join(f"<li>{_e(n)}</li>" for n in _needs(routine, cards))
    breaths = _breaths(routine)
    breathing = ""
    if breaths:
        rows = []
        for phases, cue, _used, cycles in breaths:
            one = sum(phases)
            rows.append(
                f"<li><strong>{_e('-'.join(_seconds(p) for p in phases))}</strong>: "
                f"{_e(_pattern_words(phases))}. One breath takes {_e(_seconds(one))} s; "
                f"guided by {_e(CUE_TEXT.get(cue, cue))}; {cycles} breath{'s' if cycles != 1 else ''} "
                f"in all.{_pattern_bar(phases)}</li>"
            )
        breathing = (
            f'<section class="breathing"><h2>Breathing patterns</h2><ul>{"".join(rows)}</ul></section>'
        )
    points = (
        f'<section><h2>The points, in session order</h2><div class="cards">'
        f"{''.join(_card_html(c) for c in cards)}</div></section>"
        if cards
        else ""
    )
    summary = f'<p class="summary">{_e(routine.summary)}</p>' if routine.summary else ""
    count = f"<li><strong>Points:</strong> {len(cards)}</li>" if cards else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="' + _e(routine.language or "en") + '"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{title}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{title}</h1>{summary}"
        f'<ul class="facts"><li><strong>Total time:</strong> about {_e(_duration(timeline.total_us))}</li>'
        f"{count}</ul>"
        f'<section class="safety" aria-labelledby="safety-h"><h2 id="safety-h">Before you start</h2>'
        f"<ul>{''.join(safety_items)}</ul></section>{avoided}"
        f"<section><h2>What you need</h2><ul>{needs}</ul></section>"
        f"{points}{breathing}"
        "<footer>Made by voiceguide from the routine file. Not medical advice: it does not diagnose "
        "or treat anything. Stop if pain increases.</footer>"
        "</main></body></html>\n"
    )


def build_guide(
    ref: str | Path,
    *,
    avoid: Sequence[str] = (),
    language: str | None = None,
    strict: bool = False,
    on_warnings: Callable[[Sequence[Problem]], None] | None = None,
) -> str:
    """The guide page for a routine (path or shipped name), leaving out the same points as the
    session; ``language`` picks a shipped routine's translation and the point texts in it.

    ``on_warnings`` hears what loading let pass (an unknown key), as `show` and `play` print it:
    a typo that changes the session changes the printed guide too, and must be said."""
    routine = load_routine(ref, avoid=avoid, language=language, strict=strict)
    if on_warnings is not None and routine.warnings:
        on_warnings(routine.warnings)
    timeline = compile_loaded(routine, estimate=True)
    return guide_html(routine, timeline, load_catalogue(), load_positions())
