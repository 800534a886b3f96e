"""The languages a session can be spoken in: English built in, the others from locale files.

A locale translates what voiceguide itself says — the phrase table, the caution sentences and the
catalogue's spoken fields — and numbers follow the language's own grammar (``num2words`` for the
European languages, a small table for Chinese). Anything a locale leaves out falls back to
English, and :func:`missing` names it so ``check --strict`` can say so.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from voiceguide.errors import Problem, RoutineError, UsageError
from voiceguide.hints import did_you_mean
from voiceguide.routine.catalogue import Catalogue
from voiceguide.routine.phrases import PHRASES, VIEW, placeholders
from voiceguide.routine.source import LocatedDict, parse

ENGLISH = "en"
POINT_FIELDS = ("name", "characters", "location", "technique")
_NUM2WORDS = {"es": "es", "de": "de", "fr": "fr"}


@dataclass(frozen=True)
class Locale:
    code: str
    name: str
    phrases: Mapping[str, str] = field(default_factory=dict)
    cautions: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    points: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    view: Mapping[str, str] = field(default_factory=dict)  # the live view's labels (VIEW's keys)
    avoid: Mapping[str, str] = field(default_factory=dict)  # caution tag -> its --avoid name here


def _files() -> dict[str, Any]:
    folder = resources.files("voiceguide.routine").joinpath("locales")
    return {f.name[: -len(".yaml")]: f for f in folder.iterdir() if f.name.endswith(".yaml")}


@lru_cache(maxsize=1)
def available() -> dict[str, str]:
    """Language code → the language's own name, English first."""
    names = {ENGLISH: "English"}
    for code in sorted(_files()):
        names[code] = load_locale(code).name
    return names


def check_language(tag: str) -> str:
    """The language tag, normalised (``en_US`` → ``en-us``), if voiceguide speaks its language;
    else a UsageError listing the choices. A regional tag keeps its region for choosing a voice."""
    norm = tag.strip().lower().replace("_", "-")
    if locale_code(norm) not in [*_files(), ENGLISH]:
        choices = ", ".join(f"{c} ({n})" for c, n in available().items())
        raise UsageError(f"unknown language {tag!r}; available: {choices}")
    return norm


def locale_code(tag: str) -> str:
    """The locale a language tag is spoken with: ``en-gb`` → ``en``, ``cmn`` → ``zh``."""
    base = tag.split("-", 1)[0]
    return "zh" if base in ("cmn", "zh") else base


@cache
def load_locale(code: str) -> Locale:
    """The locale for ``code`` (English is empty: everything comes from the built-in tables)."""
    if code == ENGLISH:
        return Locale(ENGLISH, "English")
    code = locale_code(code)
    if code == ENGLISH:
        return Locale(ENGLISH, "English")
    files = _files()
    if code not in files:
        check_language(code)  # raises with the list of languages
    filename = f"voiceguide/routine/locales/{code}.yaml"
    data = parse(files[code].read_text("utf-8"), filename)
    problems: list[Problem] = []

    def text_map(key: str) -> dict[str, str]:
        value = data.get(key, {}) if isinstance(data, LocatedDict) else {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            problems.append(Problem(filename, 1, 1, f"`{key}` must map names to text"))
            return {}
        return {str(k): " ".join(v.split()) for k, v in value.items()}

    phrases = text_map("phrases")
    view = text_map("view")
    for section, entries, english in (("phrase", phrases, PHRASES), ("view", view, VIEW)):
        for key, text in entries.items():
            if key in english and placeholders(text) != placeholders(english[key]):
                wanted = sorted(placeholders(english[key]))
                message = f"{section} {key!r} must use the placeholders {wanted}"
                problems.append(Problem(filename, 1, 1, message))
            elif section == "view" and key not in english:
                message = f"view {key!r} is not a label; labels: {', '.join(VIEW)}"
                problems.append(Problem(filename, 1, 1, message))
    points: dict[str, dict[str, str]] = {}
    raw_points = data.get("points", {}) if isinstance(data, LocatedDict) else {}
    for code_, spec in (raw_points or {}).items():
        if not isinstance(spec, dict) or set(spec) - set(POINT_FIELDS):
            problems.append(Problem(filename, 1, 1, f"point {code_!r}: fields are {', '.join(POINT_FIELDS)}"))
            continue
        points[str(code_)] = {k: " ".join(str(v).split()) for k, v in spec.items()}
    if problems:
        raise RoutineError(problems)
    name = data.get("name", code) if isinstance(data, LocatedDict) else code
    cautions, tags, avoid = text_map("cautions"), text_map("tags"), text_map("avoid")
    return Locale(code, str(name), phrases, cautions, tags, points, view, avoid)


def view_labels(code: str) -> dict[str, str]:
    """The live view's labels in the session's language (English where the locale has none)."""
    return {**VIEW, **load_locale(code).view}


def number_words(code: str) -> dict[str, str]:
    """``n0`` … ``n99`` in the language, as phrase-table entries."""
    if code == ENGLISH:
        return {}
    if code == "zh":
        return {f"n{n}": _chinese_number(n) for n in range(100)}
    lang = _NUM2WORDS.get(code)
    if lang is None:
        return {}
    from num2words import num2words  # only sessions in these languages pay for it

    return {f"n{n}": num2words(n, lang=lang) for n in range(100)}


_HANZI = "零一二三四五六七八九"


def _chinese_number(n: int) -> str:
    tens, ones = divmod(n, 10)
    if n < 10:
        return _HANZI[n]
    head = "" if tens == 1 else _HANZI[tens]
    return head + "十" + (_HANZI[ones] if ones else "")


def phrase_table(locale: Locale) -> dict[str, str]:
    """The locale's phrases over number words: the base a routine's own ``phrases:`` override."""
    return {**number_words(locale.code), **locale.phrases}


def localized(catalogue: Catalogue, locale: Locale) -> Catalogue:
    """The catalogue with the locale's spoken fields and caution sentences (English where none)."""
    if locale.code == ENGLISH:
        return catalogue
    points = {}
    for code, point in catalogue.points.items():
        spec = locale.points.get(code, {})
        names = point.names
        if "name" in spec:
            names = (spec["name"], *point.names)
        points[code] = replace(
            point,
            names=names,
            location=spec.get("location", point.location),
            technique=spec.get("technique", point.technique),
            characters=spec.get("characters", point.characters),
        )
    # A combined sentence ("pregnant or an artificial hip") stays only where the locale words it
    # too: otherwise the locale's own single sentences are spoken, never the English one.
    own = {k: v for k, v in catalogue.caution_texts.items() if "+" not in k}
    cautions = {**own, **locale.cautions}
    return Catalogue(points, cautions)


def _fold(word: str) -> str:
    """A tag as typed, for matching: case, accents and spaces do not matter (Prótesis de cadera)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return "-".join(plain.casefold().replace("_", " ").replace("-", " ").split())


def avoid_names(locale: Locale, known: Sequence[str]) -> dict[str, str]:
    """Every word ``--avoid`` accepts → its caution tag: the English tags, and in a session in
    another language the names its locale gives them (``embarazo`` → ``pregnancy``)."""
    names = {_fold(tag): tag for tag in known}
    for tag, words in locale.avoid.items():
        if tag in known:
            names.update({_fold(w): tag for w in words.split(",") if w.strip()})
    return names


def avoid_tags(words: Sequence[str], locale: Locale, known: Sequence[str]) -> tuple[str, ...]:
    """The caution tags ``--avoid`` names, in the session's language or in English; a word that
    names none is a UsageError listing the tags as this language calls them."""
    names = avoid_names(locale, known)
    tags: list[str] = []
    for word in words:
        tag = names.get(_fold(word))
        if tag is None:
            local = {t: locale.avoid[t].split(",")[0].strip() for t in known if t in locale.avoid}
            listed = [f"{local[t]} ({t})" if t in local else t for t in known]
            guess = did_you_mean(_fold(word), [*local.values(), *known])
            known_list = ", ".join(listed)
            raise UsageError(f"unknown caution tag {word!r} for --avoid; {guess}known tags: {known_list}")
        if tag not in tags:
            tags.append(tag)
    return tuple(tags)


def missing(locale: Locale, point_codes: list[str], caution_tags: list[str]) -> list[str]:
    """Entries a session in this language needs but the locale does not translate."""
    if locale.code == ENGLISH:
        return []
    out = [f"phrase {k}" for k in PHRASES if k not in locale.phrases]
    for code in point_codes:
        spec = locale.points.get(code, {})
        out.extend(f"point {code} {f}" for f in ("name", "location", "technique") if f not in spec)
    out.extend(f"caution {t}" for t in caution_tags if t not in locale.cautions)
    out.extend(f"view {k}" for k in VIEW if k not in locale.view)
    return out
