"""Every built-in phrase the guide speaks, in one table a routine can override (``phrases:``)."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence

PHRASES: dict[str, str] = {
    "welcome": "{title}.",
    "before_you_begin": "Before you begin.",
    "avoided": "As you asked, this session leaves out points marked for {tags}.",
    "caution": "{text}",
    "point_intro": "{name}.",
    "press_now": "Press now.",
    "release": "And release.",
    "left_side": "Left side.",
    "right_side": "Right side.",
    "switch_sides": "Switch sides.",
    "time_left": "{time} left.",
    # The same when the time is a single unit ("one minute", "one second"), for languages whose
    # verb agrees with it (Spanish "Queda un minuto" / "Quedan dos minutos"). Used only where the
    # phrase table sets it, so a routine overriding `time_left` alone changes every reminder.
    "time_left_one": "{time} left.",
    "breathe_in": "Breathe in.",
    "hold_in": "Hold.",
    "breathe_out": "Breathe out.",
    "hold_out": "Hold.",
    "count_in": "In.",
    "count_out": "Out.",
    "count_hold": "Hold.",
    "minute": "one minute",
    "minutes": "{n} minutes",
    "second": "one second",
    "seconds": "{n} seconds",
    "and": "{a} and {b}",
    # Not spoken: the default step titles in `show`, the live view, split files and chapters.
    "title_introduction": "Introduction",
    "title_pause": "Pause {seconds} s",
    "title_breathe": "Breathe {pattern} ×{cycles}",
    "title_repeat": "Repeat ×{times}",
    "title_sound": "Sound: {sound}",
}

# What the live view shows (never spoken), in English; a locale's `view:` section translates them
# with the same {placeholders}. Times inside them are digits ("4 s", "1:30"): they are read.
VIEW: dict[str, str] = {
    "intro": "Introduction",
    "then": "then {n} steps",
    "then_one": "then {n} step",
    "step": "Step {n} of {total}",
    "next": "Next: {what}, {length}",
    "next_end": "Next: end of session",
    "next_end_preview": "Next: end of preview",
    "about": "about {time}",
    "hold": "Hold",
    "inhale": "Breathe in",
    "hold_in": "Hold (in)",
    "exhale": "Breathe out",
    "hold_out": "Hold (out)",
    "pause": "Pause",
    "left_side": "left side",
    "right_side": "right side",
    "both_sides": "both sides",
    "together": "both sides together",
    "alternate": "left, then right",
    "cycle": "cycle {n} of {total}",
    "cycle_n": "cycle {n}",
    "seconds": "{n} s",
    "time_left": "{time} left",
    "time_left_one": "{time} left",
    "progress": "{elapsed} of {total} · {left} left",
    "preview": "(preview)",
    "paused": "PAUSED — press space to continue",
    "preparing": "preparing speech…",
    "finished": "Session complete.",
    "stopped": "Stopped.",
    "keys": "space pause/resume · n/→ next · p/← back · q quit",
}

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_word(n: int, phrases: Mapping[str, str]) -> str:
    """English words for 0–99 (override ``n7: "seven"`` etc. for other languages)."""
    override = phrases.get(f"n{n}")
    if override:
        return override
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    return str(n)


def unit_number(n: int, phrases: Mapping[str, str]) -> str:
    """The number as said before a unit (minutes, seconds): ``u2`` where the language has such a
    form (Chinese 两分钟, not 二分钟; Spanish veintiún segundos), else the counting word."""
    return phrases.get(f"u{n}") or number_word(n, phrases)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def merged(overrides: Mapping[str, str]) -> dict[str, str]:
    return {**PHRASES, **overrides}


def caution_sentences(caution_texts: Mapping[str, str], tags: Sequence[str]) -> list[str]:
    """What is said before a point with these caution tags: one sentence per tag, except where
    the catalogue words several of them as one (its key joins the tags with ``+``), so a listener
    hears one warning rather than three in a row."""
    left = list(tags)
    found: list[tuple[int, str]] = []
    combined = sorted((k for k in caution_texts if "+" in k), key=lambda k: (-k.count("+"), k))
    for key in combined:
        parts = key.split("+")
        if all(p in left for p in parts):
            found.append((min(tags.index(p) for p in parts), caution_texts[key]))
            left = [t for t in left if t not in parts]
    found.extend((tags.index(t), caution_sentence(caution_texts, t)) for t in left)
    return [text for _, text in sorted(found)]


def caution_sentence(caution_texts: Mapping[str, str], tag: str) -> str:
    """What is said (and shown) for a caution tag; a tag without a text still warns."""
    return caution_texts.get(tag, f"Take care with this point: {tag}.")


def say(phrases: Mapping[str, str], key: str, **values: str) -> str:
    return phrases[key].format(**values) if key in phrases else PHRASES[key].format(**values)


def time_words(seconds: int, phrases: Mapping[str, str]) -> str:
    """ "one minute and thirty seconds", "forty-five seconds"."""
    m, s = divmod(seconds, 60)
    parts = []
    if m:
        parts.append(say(phrases, "minute") if m == 1 else say(phrases, "minutes", n=unit_number(m, phrases)))
    if s:
        parts.append(say(phrases, "second") if s == 1 else say(phrases, "seconds", n=unit_number(s, phrases)))
    if len(parts) == 2:
        return say(phrases, "and", a=parts[0], b=parts[1])
    return parts[0] if parts else number_word(0, phrases)


def time_left_words(seconds: int, phrases: Mapping[str, str]) -> str:
    """The reminder during a hold, "Thirty seconds left.", its verb agreeing with the time:
    ``time_left_one`` for exactly one minute or one second where the phrase table words it."""
    single = divmod(seconds, 60) in ((1, 0), (0, 1))
    key = "time_left_one" if single and "time_left_one" in phrases else "time_left"
    text = say(phrases, key, time=time_words(seconds, phrases))
    return text[:1].upper() + text[1:]
