"""The guide's own words — headings, labels, the words on the drawings — in the session's language.

English is built in here (and in :data:`voiceguide.bodymap.WORDS` for the drawings); another
language's words come from the ``guide:`` section of its locale file
(``voiceguide/routine/locales/<code>.yaml``), and any word a locale leaves out stays English.
A few entries are regular expressions (``find_*``): what in the routine's own text says that a
chair, a mat or a pillow is needed, or that a caution is a red flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from voiceguide.bodymap import WORDS as DRAWING_WORDS
from voiceguide.errors import Problem, RoutineError
from voiceguide.routine.locale import ENGLISH, locale_code
from voiceguide.routine.source import LocatedDict, parse

GUIDE_WORDS: dict[str, str] = {
    "before_you_start": "Before you start",
    "what_you_need": "What you need",
    "points_heading": "The points, in session order",
    "breathing_heading": "Breathing patterns",
    "total_time": "Total time:",
    "about": "about {duration}",
    "points_count": "Points:",
    "from_about": "from about {clock}",
    "where": "Where",
    "how": "How",
    "hold": "Hold",
    "sides": "Sides",
    "take_care": "Take care",
    "red_dot": "Red dot: {point}.",
    "no_diagram": "No diagram for this point: find it by the description.",
    "sides_together": "Both sides at once",
    "sides_alternate": "One side, then the other: a full hold on each",
    "sides_single": "One point",
    "sides_midline": "One point, on the centre line",
    "per_side": "{hold} per side",
    "repeated": "{hold}, repeated {n} times",
    "seconds": "{n} seconds",
    "one_second": "1 second",
    "minutes": "{n} minutes",
    "one_minute": "1 minute",
    "minutes_seconds": "{m} min {s} s",
    "see_the_cards": "Some points have a warning of their own: read it on the point's card.",
    "default_caution": "Stop if anything hurts, and see a doctor about a problem that persists.",
    "avoided": "Left out because you asked to avoid {tags}: {points}.",
    "need_chair": "A firm chair to sit on",
    "need_lie_down": "A mat, rug or firm bed to lie on",
    "need_pillow": "A pillow or cushion",
    "need_quiet": "A quiet place where you will not be disturbed",
    "find_chair": r"\bchair\b",
    "find_lie_down": r"\b(mat|rug|bed)\b",
    "find_pillow": r"\b(pillows?|cushions?)\b",
    "find_red_flag": r"\b(urgent|warning signs)\b",
    "next_point": "the next point",  # a spoken caution's words, which on a card become…
    "this_point": "this point",
    "breathe_in_for": "Breathe in for {s} s",
    "hold_for": "hold for {s} s",
    "breathe_out_for": "breathe out for {s} s",
    "list_separator": ", ",
    "one_breath_takes": "One breath takes {s} s",
    "guided_by": "guided by {cue}",
    "breaths_in_all": "{n} breaths in all",
    "one_breath_in_all": "1 breath in all",
    "cue_breaths": "{cue} ({breaths})",
    "breaths": "{n} breaths",
    "one_breath": "1 breath",
    "then_separator": ", then ",
    "clause_separator": "; ",
    "sentence_end": ".",
    "sentence_gap": " ",  # between two sentences (none in Chinese)
    "cue_words": "spoken words",
    "cue_count": "a spoken count",
    "cue_tones": "tones",
    "bar_in": "in",
    "bar_hold": "hold",
    "bar_out": "out",
    "bar_alt": "one breath, to scale",
    "footer": (
        "Made by voiceguide from the routine file. Not medical advice: it does not diagnose or treat "
        "anything. Stop if pain increases."
    ),
}

ENGLISH_WORDS: dict[str, str] = {**DRAWING_WORDS, **GUIDE_WORDS}


def _locale_file(code: str) -> Any | None:
    folder = resources.files("voiceguide.routine").joinpath("locales")
    entry = folder.joinpath(f"{code}.yaml")
    return entry if entry.is_file() else None


@cache
def guide_words(language: str) -> Mapping[str, str]:
    """Every word of the guide in ``language`` (a tag such as ``de`` or ``zh-cn``), English
    where its locale has no ``guide:`` entry."""
    code = locale_code(language.lower())
    entry = _locale_file(code) if code != ENGLISH else None
    if entry is None:
        return ENGLISH_WORDS
    filename = f"voiceguide/routine/locales/{code}.yaml"
    data = parse(entry.read_text("utf-8"), filename)
    section = data.get("guide", {}) if isinstance(data, LocatedDict) else {}
    problems = []
    if not isinstance(section, LocatedDict):
        problems.append(Problem(filename, 1, 1, "`guide` must map names to text"))
        section = LocatedDict()
    for key, value in section.items():
        mark = section.where(key)
        if key not in ENGLISH_WORDS:
            problems.append(Problem(filename, mark.line, mark.column, f"unknown guide word {key!r}"))
        elif not isinstance(value, str):
            problems.append(Problem(filename, mark.line, mark.column, f"guide word {key!r} must be text"))
        elif _fields(value) != _fields(ENGLISH_WORDS[key]):
            problems.append(
                Problem(
                    filename,
                    mark.line,
                    mark.column,
                    f"guide word {key!r} must use the placeholders {sorted(_fields(ENGLISH_WORDS[key]))}",
                )
            )
    if problems:
        raise RoutineError(problems)
    return {**ENGLISH_WORDS, **{str(k): str(v) for k, v in section.items()}}


def _fields(text: str) -> set[str]:
    import string

    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def html_lang(language: str) -> str:
    """The page's ``lang`` attribute for a session language (``cmn`` is written ``zh``)."""
    tag = language.strip().lower().replace("_", "-") or ENGLISH
    base, _, region = tag.partition("-")
    return "zh" + (f"-{region}" if region else "") if base == "cmn" else tag
