"""The acupressure point catalogue: data in ``data/points.yaml``, looked up by code, alias or name.

Points are keyed by their WHO 2008 code. Legacy numberings (Gach's B47 for BL52, B54 for BL40…)
and pinyin names are aliases, so a script can say what its author's book says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

from voiceguide.errors import Problem, RoutineError
from voiceguide.hints import close_matches, did_you_mean
from voiceguide.routine.landmarks import POSITION_KEYS, Position, PositionError, resolve_position
from voiceguide.routine.phrases import caution_sentence
from voiceguide.routine.source import LocatedDict, LocatedList, Mark, parse
from voiceguide.units import DurationError, parse_duration

SIDES = ("bilateral", "midline")
POINT_FIELDS = {
    "names": "English names; the first is the one spoken",
    "pinyin": "the point's pinyin name",
    "aliases": "legacy and alternative codes or names that also find the point",
    "sides": "bilateral (a point on each side) or midline (one point on the centre line)",
    "location": "how to find the point by touch, spoken before pressing",
    "technique": "how to press, spoken before pressing",
    "hold": "default time to hold the point",
    "cautions": "caution tags (see the catalogue's cautions)",
    "notes": "anything else worth knowing; shown by `voiceguide points`, not spoken",
    "position": "where `voiceguide guide` draws the point: {view, at, dx, dy}; see docs/routine-format.md",
}


@dataclass(frozen=True)
class DrawnAt:
    """A user point's position as written, and where on its view that puts the point."""

    spec: Mapping[str, Any]
    position: Position


@dataclass(frozen=True)
class Point:
    code: str
    names: tuple[str, ...]
    pinyin: str
    aliases: tuple[str, ...]
    sides: str
    location: str
    technique: str
    hold_us: int | None = None
    cautions: tuple[str, ...] = ()
    notes: str = ""
    characters: str = ""  # the name in Chinese characters, where a locale gives it
    positions: tuple[DrawnAt, ...] = field(default=(), compare=False)

    @property
    def name(self) -> str:
        return self.names[0] if self.names else self.code


def normalize(code: str) -> str:
    """Fold case and punctuation: ``bl-23``, ``BL 23`` and ``Bl23`` are the same key."""
    return re.sub(r"[^0-9a-z]", "", code.lower())


@dataclass(frozen=True)
class Catalogue:
    points: Mapping[str, Point]
    caution_texts: Mapping[str, str]

    @cached_property
    def _index(self) -> dict[str, str]:
        """Every code, alias and pinyin name, normalized (built once per catalogue)."""
        index: dict[str, str] = {}
        for code, point in self.points.items():
            for key in (code, *point.aliases, point.pinyin):
                if key:
                    index.setdefault(normalize(key), code)
        for code in self.points:  # a real code always wins over someone else's alias
            index[normalize(code)] = code
        return index

    def resolve(self, key: str) -> Point | None:
        code = self._index.get(normalize(key))
        return self.points[code] if code else None

    def suggest(self, key: str) -> list[str]:
        """Codes that look like ``key``, best first, for "did you mean"."""
        index = self._index
        close = close_matches(normalize(key), index, n=3)
        seen: list[str] = []
        for k in close:
            if index[k] not in seen:
                seen.append(index[k])
        return seen

    def search(self, query: str) -> list[Point]:
        """Points matching ``query``, best first: a code, alias or name first, then points whose
        location, uses (notes) or technique mention every word of it ("wrist", "nausea")."""
        exact = self.resolve(query)
        q = normalize(query)
        words = [w for w in re.findall(r"[a-z0-9]+", query.lower()) if len(w) > 1]
        scored: list[tuple[int, int, Point]] = []
        for order, point in enumerate(self.points.values()):
            if point is exact:
                scored.append((1000, order, point))
                continue
            score = 0
            if q and any(q in normalize(h) for h in (point.code, point.pinyin, *point.aliases) if h):
                score += 100
            for weight, text in (
                (60, " ".join(point.names)),
                (30, point.location),
                (20, point.notes),
                (10, point.technique),
            ):
                hits = [len(re.findall(rf"\b{re.escape(w)}", text.lower())) for w in words]
                if words and all(hits):
                    score += weight * min(min(hits), 3)  # a point about the wrist says so often
            if score:
                scored.append((score, order, point))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [point for _, _, point in scored]

    def caution_text(self, tag: str) -> str:
        return caution_sentence(self.caution_texts, tag)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def parse_points(
    data: LocatedDict,
    filename: str,
    base: Catalogue | None,
    path: str,
    problems: list[Problem],
) -> dict[str, Point]:
    """Validate a ``points:`` mapping; with ``base``, known codes may override single fields."""

    def bad(mark: Mark, where: str, message: str, hint: str = "") -> None:
        problems.append(Problem(filename, mark.line, mark.column, message, path=where, hint=hint))

    out: dict[str, Point] = {}
    for code, spec in data.items():
        where = f"{path}.{code}"
        mark = data.where(code)
        if not isinstance(spec, LocatedDict):
            bad(mark, where, "a point must be a mapping of fields", "see `voiceguide points CV6`")
            continue
        existing = base.points.get(code) if base else None
        if existing is None and base is not None:
            aliased = base.resolve(code)
            if aliased is not None:
                existing, code = aliased, aliased.code
        for key in spec:
            if key not in POINT_FIELDS:
                bad(
                    spec.key_marks[key],
                    f"{where}.{key}",
                    f"unknown point field {key!r}",
                    did_you_mean(key, POINT_FIELDS, end="?") or "fields: " + ", ".join(POINT_FIELDS),
                )
        fields: dict[str, Any] = {}
        for key in ("pinyin", "location", "technique", "notes"):
            if key in spec:
                if isinstance(spec[key], str):
                    fields[key] = " ".join(spec[key].split())
                else:
                    bad(spec.where(key), f"{where}.{key}", f"must be text, not {_kind(spec[key])}")
        for key in ("names", "aliases", "cautions"):
            if key in spec:
                value = spec[key]
                if isinstance(value, str):
                    value = [value]
                if not isinstance(value, list) or not all(_text(v) for v in value):
                    bad(spec.where(key), f"{where}.{key}", "must be a list of text")
                else:
                    fields[key] = tuple(v.strip() for v in value)
        if "sides" in spec:
            if spec["sides"] in SIDES:
                fields["sides"] = spec["sides"]
            else:
                bad(spec.where("sides"), f"{where}.sides", f"must be one of {', '.join(SIDES)}")
        if "hold" in spec:
            try:
                fields["hold_us"] = parse_duration(spec["hold"])
            except DurationError as exc:
                bad(spec.where("hold"), f"{where}.hold", str(exc), exc.hint)
        if "position" in spec:
            drawn = _positions(spec, where, bad)
            if drawn is not None:
                fields["positions"] = drawn
        if existing is not None:
            out[code] = replace(existing, **fields)
            continue
        missing = [k for k in ("names", "sides", "location", "technique") if k not in fields]
        if missing:
            bad(
                mark,
                where,
                f"a new point needs {', '.join(missing)}",
                "or check the code: `voiceguide points` lists the known ones",
            )
            continue
        out[code] = Point(
            code=code,
            names=fields["names"],
            pinyin=fields.get("pinyin", ""),
            aliases=fields.get("aliases", ()),
            sides=fields["sides"],
            location=fields["location"],
            technique=fields["technique"],
            hold_us=fields.get("hold_us"),
            cautions=fields.get("cautions", ()),
            notes=fields.get("notes", ""),
            positions=fields.get("positions", ()),
        )
    return out


def _positions(
    spec: LocatedDict, where: str, bad: Callable[[Mark, str, str, str], None]
) -> tuple[DrawnAt, ...] | None:
    """A point's ``position:`` (one mapping or a list), each checked against the drawings' frames
    now, so ``check`` reports a wrong view or landmark where it is written."""
    value = spec["position"]
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, dict) for v in items):
        bad(
            spec.where("position"),
            f"{where}.position",
            "must be a mapping such as {view: hand-back, at: wrist, dy: -2}",
            "docs/routine-format.md lists the views and their landmarks",
        )
        return None
    out = []
    for i, item in enumerate(items):
        path = f"{where}.position" + (f"[{i}]" if isinstance(value, list) else "")
        mark = value.where(i) if isinstance(value, LocatedList) else spec.where("position")
        try:
            position = resolve_position(item)
        except PositionError as exc:
            at = mark
            if exc.key and isinstance(item, LocatedDict):  # the value at fault, or the unknown key
                at = item.where(exc.key) if exc.key in POSITION_KEYS else item.key_marks[exc.key]
            key = f".{exc.key}" if exc.key else ""
            bad(at, path + key, str(exc), exc.hint)
            continue
        out.append(DrawnAt(dict(item), position))
    return tuple(out) if len(out) == len(items) else None


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    return "a list" if isinstance(value, list) else type(value).__name__


def catalogue_from_text(text: str, filename: str) -> Catalogue:
    data = parse(text, filename)
    problems: list[Problem] = []
    if not isinstance(data, LocatedDict) or not isinstance(data.get("points"), LocatedDict):
        raise RoutineError([Problem(filename, 1, 1, "a catalogue needs a `points:` mapping")])
    cautions = data.get("cautions") or {}
    points = parse_points(data["points"], filename, None, "points", problems)
    if problems:
        raise RoutineError(problems)
    return Catalogue(points, {str(k): " ".join(str(v).split()) for k, v in cautions.items()})


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """The shipped catalogue (parsed once per process)."""
    text = resources.files("voiceguide.routine").joinpath("data/points.yaml").read_text("utf-8")
    return catalogue_from_text(text, "voiceguide/routine/data/points.yaml")


def caution_tags(catalogue: Catalogue) -> list[str]:
    tags: set[str] = {t for t in catalogue.caution_texts if "+" not in t}  # not the combined texts
    for point in catalogue.points.values():
        tags.update(point.cautions)
    return sorted(tags)
