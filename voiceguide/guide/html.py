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

from voiceguide.bodymap import Marked, render_view
from voiceguide.errors import Problem
from voiceguide.pipeline import compile_loaded, load_routine
from voiceguide.routine.catalogue import load_catalogue
from voiceguide.routine.landmarks import Position, load_positions

from .words import ENGLISH_WORDS, guide_words, html_lang

US = 1_000_000

# What the routine's own words say you will need: a `find_*` pattern, then our own `need_*` text.
NEEDS = ("chair", "lie_down", "pillow")
Words = Mapping[str, str]


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


def _duration(us: int, w: Words) -> str:
    seconds = round(us / US)
    minutes, secs = divmod(seconds, 60)
    if not minutes:
        return w["one_second"] if secs == 1 else w["seconds"].format(n=secs)
    if not secs:
        return w["one_minute"] if minutes == 1 else w["minutes"].format(n=minutes)
    return w["minutes_seconds"].format(m=minutes, s=secs)


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


def _caution_for(tag: str, routine: Any, catalogue: Any, w: Words) -> str:
    text = routine.caution_texts.get(tag) or catalogue.caution_text(tag)
    # Catalogue sentences are written to be spoken just before a point; on its card it is "this".
    return str(text).replace(w["next_point"], w["this_point"])


def build_cards(
    routine: Any,
    timeline: Any,
    catalogue: Any,
    positions: Mapping[str, Sequence[Position]],
    w: Words = ENGLISH_WORDS,
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
                cautions=tuple(_caution_for(t, routine, catalogue, w) for t in point.cautions),
                repeats=times,
                start_us=start,
                positions=tuple(d.position for d in point.positions) or tuple(positions.get(point.code, ())),
            )
        )
    return cards


def _breaths(routine: Any) -> dict[tuple[int, ...], dict[str, int]]:
    """Each distinct breathing pattern, in the order first met, with the breaths taken with each
    cue (a routine may teach one pattern counted, then with words, then with tones)."""
    found: dict[tuple[int, ...], dict[str, int]] = {}
    for step, times in _walk(routine.steps):
        phases = getattr(step, "phases_us", None)
        if phases is None:
            continue
        cues = found.setdefault(tuple(phases), {})
        cues[step.cue] = cues.get(step.cue, 0) + step.cycles * times
    return found


def _seconds(us: int) -> str:
    return f"{us / US:g}"


def _pattern_words(phases: tuple[int, ...], w: Words) -> str:
    names = ("breathe_in_for", "hold_for", "breathe_out_for", "hold_for")
    parts = [w[names[i]].format(s=_seconds(us)) for i, us in enumerate(phases) if us]
    text = w["list_separator"].join(parts)
    return text[:1].upper() + text[1:]  # "hold for 4 s" may come first


def _pattern_bar(phases: tuple[int, ...], w: Words) -> str:
    total = sum(phases) or 1
    colours = ("#1f5fa8", "#8a8a8a", "#2e7d32", "#8a8a8a")
    labels = (w["bar_in"], w["bar_hold"], w["bar_out"], w["bar_hold"])
    x = 0.0
    rects = []
    for i, us in enumerate(phases):
        if not us:
            continue
        width = 300 * us / total
        rects.append(
            f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="22" fill="{colours[i]}"/>'
            f'<text x="{x + width / 2:.1f}" y="15" text-anchor="middle" font-size="12" fill="#ffffff">'
            f"{_e(labels[i])} {_seconds(us)}</text>"
        )
        x += width
    return (
        f'<svg class="breath" viewBox="0 0 300 22" role="img" aria-label="{_e(w["bar_alt"])}">'
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
  .card dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); column-gap: .7em; }
  .card dt, .card dd { margin-top: .2em; }
  .card .cautions { margin-top: .4em; padding: 3px 8px; }
  .card .cautions ul { margin: .2em 0; padding-left: 1.2em; }
  svg.bodymap { max-width: 50mm; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _card_html(card: Card, w: Words) -> str:
    prefix = f"c{card.number}-"
    label = f"{card.name} ({card.code})"
    if card.positions:
        position = card.positions[0]
        svg = render_view(
            position.view,
            [Marked(card.code, label, position, card.point_sides == "bilateral")],
            id_prefix=prefix,
            words=w,
        )
        figure = f"<figure>{svg}<figcaption>{_e(w['red_dot'].format(point=label))}</figcaption></figure>"
    else:
        figure = f'<p class="nodiagram">{_e(w["no_diagram"])}</p>'
    when = ""
    if card.start_us is not None:
        when = f'<span class="when">{_e(w["from_about"].format(clock=_clock(card.start_us)))}</span>'
    sides = w.get(f"sides_{card.sides}", card.sides)
    if card.point_sides == "midline":
        sides = w["sides_midline"]
    hold = _duration(card.hold_us, w)
    if card.sides == "alternate":
        hold = w["per_side"].format(hold=hold)
    if card.repeats > 1:
        hold = w["repeated"].format(hold=hold, n=card.repeats)
    cautions = ""
    if card.cautions:
        items = "".join(f"<li>{_e(c)}</li>" for c in card.cautions)
        cautions = f'<div class="cautions"><strong>{_e(w["take_care"])}</strong><ul>{items}</ul></div>'
    pinyin = f'<span class="pinyin">{_e(card.pinyin)}</span>' if card.pinyin else ""
    return (
        f'<article class="card" id="card-{card.number}" data-code="{_e(card.code)}">'
        f'<header><span class="num">{card.number}</span><h3>{_e(card.name)}</h3>'
        f'<span class="code">{_e(card.code)}</span>{pinyin}{when}</header>'
        f"{figure}"
        f"<div><dl><dt>{_e(w['where'])}</dt><dd>{_e(card.location)}</dd>"
        f"<dt>{_e(w['how'])}</dt><dd>{_e(card.technique)}</dd>"
        f"<dt>{_e(w['hold'])}</dt><dd>{_e(hold)}</dd>"
        f"<dt>{_e(w['sides'])}</dt><dd>{_e(sides)}</dd></dl>{cautions}</div>"
        "</article>"
    )


def _needs(routine: Any, cards: Sequence[Card], w: Words) -> list[str]:
    texts = [getattr(step, "text", "") for step, _ in _walk(routine.steps)]
    texts += [c.technique for c in cards]
    blob = " ".join(t for t in texts if isinstance(t, str))
    needs = [w[f"need_{n}"] for n in NEEDS if re.search(w[f"find_{n}"], blob, re.I)]
    needs.append(w["need_quiet"])
    return needs


def _breaths_text(n: int, w: Words, one: str, many: str) -> str:
    return w[one] if n == 1 else w[many].format(n=n)


def _breathing_html(routine: Any, w: Words) -> str:
    rows = []
    for phases, cues in _breaths(routine).items():
        names = [w.get(f"cue_{cue}", cue) for cue in cues]
        if len(cues) > 1:  # "a spoken count (3 breaths), then spoken words (5 breaths)"
            names = [
                w["cue_breaths"].format(cue=name, breaths=_breaths_text(n, w, "one_breath", "breaths"))
                for name, n in zip(names, cues.values(), strict=True)
            ]
        clauses = [
            w["one_breath_takes"].format(s=_seconds(sum(phases))),
            w["guided_by"].format(cue=w["then_separator"].join(names)),
            _breaths_text(sum(cues.values()), w, "one_breath_in_all", "breaths_in_all"),
        ]
        rows.append(
            f"<li><strong>{_e('-'.join(_seconds(p) for p in phases))}</strong>: "
            f"{_e(_pattern_words(phases, w) + w['sentence_end'] + w['sentence_gap'])}"
            f"{_e(w['clause_separator'].join(clauses) + w['sentence_end'])}{_pattern_bar(phases, w)}</li>"
        )
    if not rows:
        return ""
    return (
        f'<section class="breathing"><h2>{_e(w["breathing_heading"])}</h2><ul>{"".join(rows)}</ul></section>'
    )


def guide_html(
    routine: Any,
    timeline: Any,
    catalogue: Any,
    positions: Mapping[str, Sequence[Position]],
    words: Words | None = None,
) -> str:
    """The guide page for an already loaded routine and its timeline (pure: data in, text out),
    with its headings and labels in ``words`` (English if not given)."""
    w = words or ENGLISH_WORDS
    cards = build_cards(routine, timeline, catalogue, positions, w)
    title = _e(routine.title)
    safety_items = []
    for text in routine.cautions:
        flag = bool(re.search(w["find_red_flag"], text, re.I))
        cls = ' class="redflag"' if flag else ""
        safety_items.append(f"<li{cls}>{_e(text)}</li>")
    if any(c.cautions for c in cards):
        safety_items.append(f"<li>{_e(w['see_the_cards'])}</li>")
    if not safety_items:
        safety_items.append(f"<li>{_e(w['default_caution'])}</li>")
    avoided = ""
    if routine.avoided:
        tags = w["list_separator"].join(routine.tag_names.get(t, t) for t in routine.avoid_tags)
        names = w["list_separator"].join(routine.avoided)
        avoided = f'<p class="notice">{_e(w["avoided"].format(tags=tags, points=names))}</p>'
    needs = "".join(f"<li>{_e(n)}</li>" for n in _needs(routine, cards, w))
    points = (
        f'<section><h2>{_e(w["points_heading"])}</h2><div class="cards">'
        f"{''.join(_card_html(c, w) for c in cards)}</div></section>"
        if cards
        else ""
    )
    summary = f'<p class="summary">{_e(routine.summary)}</p>' if routine.summary else ""
    count = f"<li><strong>{_e(w['points_count'])}</strong> {len(cards)}</li>" if cards else ""
    total = w["about"].format(duration=_duration(timeline.total_us, w))
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{_e(html_lang(routine.language or "en"))}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{title}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{title}</h1>{summary}"
        f'<ul class="facts"><li><strong>{_e(w["total_time"])}</strong> {_e(total)}</li>'
        f"{count}</ul>"
        '<section class="safety" aria-labelledby="safety-h">'
        f'<h2 id="safety-h">{_e(w["before_you_start"])}</h2>'
        f"<ul>{''.join(safety_items)}</ul></section>{avoided}"
        f"<section><h2>{_e(w['what_you_need'])}</h2><ul>{needs}</ul></section>"
        f"{points}{_breathing_html(routine, w)}"
        f"<footer>{_e(w['footer'])}</footer>"
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
    session; ``language`` picks a shipped routine's translation and the point texts in it, and
    the page's own words follow the routine's language (see :mod:`.words`).

    ``on_warnings`` hears what loading let pass (an unknown key), as `show` and `play` print it:
    a typo that changes the session changes the printed guide too, and must be said."""
    routine = load_routine(ref, avoid=avoid, language=language, strict=strict)
    if on_warnings is not None and routine.warnings:
        on_warnings(routine.warnings)
    timeline = compile_loaded(routine, estimate=True)
    words = guide_words(routine.language or "en")
    return guide_html(routine, timeline, load_catalogue(), load_positions(), words)
