"""The routine language, declared once: the validator and ``voiceguide schema`` both read it.

Each node type knows how to check (and normalise) a located YAML value and how to describe
itself as JSON Schema, so the editor's completion and ``voiceguide check`` can never disagree.

Longer than most modules on purpose: the node types and the top-level keys built from them are
read together (a key's meaning is its node), and the step kinds' keys live in their own modules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from voiceguide.errors import Problem
from voiceguide.hints import did_you_mean
from voiceguide.routine import ambience as amb
from voiceguide.routine.source import LocatedDict, LocatedList, Mark
from voiceguide.units import DurationError, parse_duration

MAX_TEXT = 2000  # characters in one utterance
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # could drive a terminal or a TTS engine
INVALID: Any = object()  # returned by a check that reported a problem


@dataclass
class Ctx:
    """Collects problems for one file while a value is checked."""

    filename: str
    problems: list[Problem] = field(default_factory=list)

    def error(self, mark: Mark, path: str, message: str, hint: str = "") -> Any:
        self.problems.append(Problem(self.filename, mark.line, mark.column, message, "error", path, hint))
        return INVALID

    def warn(self, mark: Mark, path: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.filename, mark.line, mark.column, message, "warning", path, hint))


def describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a yes/no value ({str(value).lower()})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    return f"text ({value!r})" if len(str(value)) < 40 else "text"


class Node:
    doc: str = ""

    def check(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> Any:
        raise NotImplementedError

    def json(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass
class Text(Node):
    doc: str = ""
    max_len: int = MAX_TEXT

    def check(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> Any:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return ctx.error(
                mark,
                path,
                f"expected text, got {describe(value)}",
                "put the text after the colon, in quotes if it contains ': ' or '#'",
            )
        text = " ".join(str(value).split())
        control = _CONTROL.search(text)
        if control:
            return ctx.error(
                mark,
                path,
                f"the text contains the control character U+{ord(control.group()):04X}",
                "remove it; routines hold plain text",
            )
        if not text:
            return ctx.error(mark, path, "the text is empty", "write something, or remove the key")
        if len(text) > self.max_len:
            return ctx.error(
                mark,
                path,
                f"the text is {len(text):,} characters; the limit is {self.max_len:,}",
                "split it into several `say` steps",
            )
        return text

    def json(self) -> dict[str, Any]:
        return {
            "type": "string",
            "minLength": 1,
            "maxLength": self.max_len,
            "description": self.doc,
        }


@dataclass
class Number(Node):
    doc: str = ""
    minimum: float = 0
    maximum: float = math.inf
    integer: bool = True

    def check(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> Any:
        ok = isinstance(value, int) if self.integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok:
            kind = "a whole number" if self.integer else "a number"
            return ctx.error(mark, path, f"expected {kind}, got {describe(value)}")
        if not (self.minimum <= value <= self.maximum) or (isinstance(value, float) and math.isnan(value)):
            return ctx.error(
                mark,
                path,
                f"{value} is out of range",
                f"use a value from {_num(self.minimum)} to {_num(self.maximum)}",
            )
        return value

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "integer" if self.integer else "number",
            "minimum": self.minimum,
            "description": self.doc,
        }
        if self.maximum != math.inf:
            out["maximum"] = self.maximum
        return out


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass
class Duration(Node):
    doc: str = ""
    allow_zero: bool = False

    def check(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> Any:
        try:
            return parse_duration(value, allow_zero=self.allow_zero)
        except DurationError as exc:
            return ctx.error(mark, path, str(exc), exc.hint)

    def json(self) -> dict[str, Any]:
        unit = r"(h|hrs?|hours?|ms|msec|milliseconds?|m|mins?|minutes?|s|secs?|seconds?)"
        number = r"(\d+(\.\d+)?|\.\d+)"
        pattern = (
            rf"^\s*(off|{number}\s*{unit}?(\s*{number}\s*{unit})*"
            r"|(\d+:)?\d+:[0-5]\d(\.\d+)?)\s*$"
        )
        off = [{"const": False}] if self.allow_zero else []  # YAML reads a bare `off` as false
        return {
            "description": self.doc + " Write 90s, 1m30s, 2m, 1.5m, 500ms or seconds.",
            "anyOf": [
                *off,
                {"type": "number", "minimum": 0, "maximum": 3600},
                {"type": "string", "pattern": pattern},
            ],
        }


@dataclass
class Choice(Node):
    values: tuple[str, ...] = ()
    doc: str = ""
    # Words people write that are not values, with what they most likely mean.
    meant: dict[str, str] = field(default_factory=dict)

    def check(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> Any:
        if value in self.values:
            return value
        hint = (
            self.meant.get(str(value).strip().lower())
            or did_you_mean(str(value), self.values, end="?")
            or "use one of " + ", ".join(self.values)
        )
        return ctx.error(mark, path, f"{describe(value)} is not one of {', '.join(self.values)}", hint)

    def json(self) -> dict[str, Any]:
        return {"enum": list(self.values), "description": self.doc}


@dataclass
class TextList(Node):
    doc: str = ""

    def check(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> Any:
        if isinstance(value, str):
            value = LocatedList([value])
            value.mark, value.item_marks = mark, [mark]
        if not isinstance(value, LocatedList):
            return ctx.error(
                mark,
                path,
                f"expected a list of text, got {describe(value)}",
                "write one `- item` per line",
            )
        items = [Text().check(v, ctx, f"{path}[{i}]", value.where(i)) for i, v in enumerate(value)]
        return INVALID if INVALID in items else tuple(items)

    def json(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string"}, "description": self.doc}


@dataclass(frozen=True)
class Caution:
    """A caution that ``--avoid`` with one of ``unless_avoiding`` makes pointless, so it is not said."""

    text: str
    unless_avoiding: tuple[str, ...] = ()


@dataclass
class CautionList(Node):
    """``cautions:``: each item a sentence, or ``{text: ..., unless_avoiding: [TAG]}``."""

    doc: str = ""

    def check(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> Any:
        if not isinstance(value, LocatedList):
            return TextList(self.doc).check(value, ctx, path, mark)
        item_node = Obj(
            {
                "text": Key(Text("The caution, printed and spoken."), required=True),
                "unless_avoiding": Key(TextList("Caution tags whose `--avoid` makes it unneeded.")),
            }
        )
        items: list[Any] = []
        for i, v in enumerate(value):
            if isinstance(v, LocatedDict):
                checked = item_node.check(v, ctx, f"{path}[{i}]", value.where(i))
                ok = checked is not INVALID and "text" in checked
                items.append(Caution(checked["text"], checked.get("unless_avoiding", ())) if ok else INVALID)
            else:
                items.append(Text().check(v, ctx, f"{path}[{i}]", value.where(i)))
        return INVALID if INVALID in items else tuple(items)

    def json(self) -> dict[str, Any]:
        conditional = {
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "unless_avoiding": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["text"],
            "additionalProperties": False,
        }
        return {
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, conditional]},
            "description": self.doc,
        }


@dataclass
class TextMap(Node):
    """Free keys to text (``phrases:``); ``known`` keys are checked for typos."""

    doc: str = ""
    known: Callable[[], dict[str, str]] | None = None

    def check(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> Any:
        if not isinstance(value, LocatedDict):
            return ctx.error(mark, path, f"expected a mapping, got {describe(value)}")
        out = {}
        known = self.known() if self.known else {}
        for key, text in value.items():
            if known and key not in known and not (key.startswith("n") and key[1:].isdigit()):
                ctx.warn(
                    value.key_marks[key],
                    f"{path}.{key}",
                    f"unknown phrase {key!r}",
                    did_you_mean(key, known, end="?") or "`voiceguide phrases` lists them",
                )
                continue
            checked = Text().check(text, ctx, f"{path}.{key}", value.where(key))
            if checked is not INVALID:
                out[key] = checked
        return out

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": self.doc,
        }
        if self.known:
            out["properties"] = {
                k: {"type": "string", "description": f"default: {v}"} for k, v in self.known().items()
            }
        return out


@dataclass
class Raw(Node):
    """Checked elsewhere (the catalogue's point fields); the schema only sketches it."""

    doc: str = ""
    sketch: dict[str, Any] = field(default_factory=dict)

    def check(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> Any:
        return value

    def json(self) -> dict[str, Any]:
        return {**self.sketch, "description": self.doc}


@dataclass
class Key:
    node: Node
    required: bool = False


@dataclass
class Obj(Node):
    keys: dict[str, Key] = field(default_factory=dict)
    doc: str = ""

    def check(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> Any:
        if not isinstance(value, LocatedDict):
            return ctx.error(
                mark,
                path,
                f"expected a mapping of keys, got {describe(value)}",
                "known keys: " + ", ".join(self.keys),
            )
        out: dict[str, Any] = {}
        for key, val in value.items():
            sub = f"{path}.{key}" if path else key
            if key not in self.keys:
                warn_unknown(ctx, value.key_marks[key], sub, key, list(self.keys))
                continue
            checked = self.keys[key].node.check(val, ctx, sub, value.where(key))
            if checked is not INVALID:
                out[key] = checked
        for key, spec in self.keys.items():
            if spec.required and key not in value:
                ctx.error(
                    mark,
                    path or "(top level)",
                    f"missing required key {key!r}",
                    f"add `{key}:` ({spec.node.doc.rstrip('.')})",
                )
        return out

    def json(self) -> dict[str, Any]:
        return {
            "type": "object",
            "description": self.doc,
            "properties": {k: v.node.json() for k, v in self.keys.items()},
            "required": [k for k, v in self.keys.items() if v.required],
            "additionalProperties": False,
        }


def warn_unknown(ctx: Ctx, mark: Mark, path: str, key: str, known: list[str]) -> None:
    hint = did_you_mean(key, known, end="?") or "known keys: " + ", ".join(known)
    ctx.warn(mark, path, f"unknown key {key!r} is ignored", hint)


_DB = re.compile(r"^\s*([+-]?(\d+(\.\d*)?|\.\d+))\s*(db)?\s*$", re.IGNORECASE)


@dataclass
class Decibels(Node):
    """A level or a depth in dB: ``-22dB``, ``-22 dB`` or a plain number."""

    doc: str = ""
    minimum: float = -60.0
    maximum: float = 0.0
    example: str = "-22dB"
    meant_negative: bool = False  # a positive number where a level under the voice was meant

    def check(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return ctx.error(
                mark, path, f"expected a level in dB, got {describe(value)}", f"write e.g. {self.example}"
            )
        found = _DB.match(str(value))
        if found is None or math.isnan(float(found.group(1))):
            return ctx.error(
                mark, path, f"{describe(value)} is not a level in dB", f"write e.g. {self.example}"
            )
        db = float(found.group(1))
        if not (self.minimum <= db <= self.maximum):
            hint = f"use a value from {_num(self.minimum)} to {_num(self.maximum)} dB"
            if self.meant_negative and db > 0 and -db >= self.minimum:
                hint = f"a bed sits under the voice: write -{_num(db)}dB"
            elif not self.meant_negative and db < 0 and -db <= self.maximum:
                hint = f"the depth is how far the bed drops: write {_num(-db)}dB"
            return ctx.error(mark, path, f"{_num(db)} dB is out of range", hint)
        return db

    def json(self) -> dict[str, Any]:
        return {
            "description": self.doc + f" In dB, e.g. {self.example}.",
            "anyOf": [
                {"type": "number", "minimum": self.minimum, "maximum": self.maximum},
                {"type": "string", "pattern": r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*([dD][bB])?\s*$"},
            ],
        }


_BED_SOUND_DOC = (
    "A shipped bed (" + ", ".join(amb.BEDS) + "), a sound file beside the routine (WAV, FLAC, OGG, "
    "MP3 ...), or off."
)


@dataclass
class AmbienceNode(Node):
    """``ambience: rain``, ``ambience: off`` or ``{sound: rain, volume: -22dB, duck: 9dB, fade: 6s}``.

    At the top ``sound`` is needed; in a step it may be left out to change only the level."""

    doc: str = ""
    need_sound: bool = True

    def _fields(self) -> Obj:
        return Obj(
            {
                "sound": Key(Raw(_BED_SOUND_DOC, {"type": ["string", "boolean"]}), required=self.need_sound),
                "volume": Key(
                    Decibels(
                        "The bed's level under the voice (0 dB: as loud as the voice).",
                        amb.MIN_VOLUME_DB,
                        amb.MAX_VOLUME_DB,
                        meant_negative=True,
                    )
                ),
                "duck": Key(
                    Decibels(
                        "How far the bed drops under speech (cue sounds: half as far).",
                        0.0,
                        amb.MAX_DUCK_DB,
                        "9dB",
                    )
                ),
                "fade": Key(Duration("How long the bed takes to fade in, out, or across to another.", True)),
            },
            self.doc,
        )

    def check(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> Any:
        if isinstance(value, LocatedDict):
            checked = self._fields().check(value, ctx, path, mark)
            if checked is INVALID or (self.need_sound and "sound" not in checked):
                return INVALID
            sound = None
            if "sound" in checked:
                sound = self._sound(checked["sound"], ctx, f"{path}.sound", value.where("sound"))
                if sound is INVALID:
                    return INVALID
            fade = checked.get("fade")
            if fade is not None and fade > amb.MAX_FADE_US:
                return ctx.error(
                    value.where("fade"), f"{path}.fade", "a fade of over a minute", "use at most 60s"
                )
            return amb.AmbienceSetting(sound, checked.get("volume"), checked.get("duck"), fade)
        sound = self._sound(value, ctx, path, mark)
        return INVALID if sound is INVALID else amb.AmbienceSetting(sound)

    def _sound(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> Any:
        if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "none", "no")):
            return amb.OFF  # YAML reads a bare `off` as false
        if isinstance(value, bool) or not isinstance(value, str) or not value.strip():
            return ctx.error(
                mark,
                path,
                f"expected a bed's name, a sound file or off, got {describe(value)}",
                "shipped beds: " + ", ".join(amb.BEDS),
            )
        name = value.strip()
        if name.lower() in amb.BEDS:
            return name.lower()
        if "/" in name or "\\" in name or "." in name:
            return name  # a file: the loader finds it beside the routine
        return ctx.error(
            mark,
            path,
            f"unknown ambience {name!r}",
            did_you_mean(name.lower(), amb.BEDS)
            + "shipped beds: "
            + ", ".join(amb.BEDS)
            + "; or a sound file, or off",
        )

    def json(self) -> dict[str, Any]:
        short = {"anyOf": [{"enum": [*amb.BEDS, "off"]}, {"type": "string"}, {"const": False}]}
        return {"description": self.doc, "anyOf": [short, self._fields().json()]}


# ---------------------------------------------------------------------------------------------
# The language itself.

SIDES = ("together", "alternate", "single")
SIDES_MEANT = {
    "both": "write `together` to press both sides at once, or `alternate` for left, then right",
    "left": "`sides` says how to do both sides (together, alternate or single); for one side only "
    "write `single` and say which side in the step's `technique`",
    "right": "`sides` says how to do both sides (together, alternate or single); for one side only "
    "write `single` and say which side in the step's `technique`",
    "each": "write `alternate` for left, then right, each a full hold",
}
CUES = ("words", "count", "tones")


def _phrase_table() -> dict[str, str]:
    from voiceguide.routine.phrases import PHRASES

    return PHRASES


VOICE = Obj(
    {
        "name": Key(Text("A voice id or name from `voiceguide voices`.")),
        "rate": Key(Number("Speaking rate in words per minute.", 80, 300)),
        "volume": Key(Number("Loudness from 0 to 1.", 0, 1, integer=False)),
    },
    "How the guide's voice sounds; command-line options override it.",
)

DEFAULTS = Obj(
    {
        "hold": Key(Duration("How long a point is held (per side when alternating).")),
        "remind_every": Key(
            Duration("Say the time left this often during a hold; 0 or off: never.", allow_zero=True)
        ),
        "countdown": Key(Number("Count down the last N seconds of a hold (0: no countdown).", 0, 10)),
        "chime": Key(Text("Sound that ends a hold.")),
        "breathe_cue": Key(Choice(CUES, "Default cue for breathe steps.")),
        "sides": Key(Choice(SIDES, "Default way to do bilateral points.", SIDES_MEANT)),
    },
    "Defaults for the steps below.",
)

POINT_SKETCH = {"type": "object", "additionalProperties": {"type": "object"}}

TOP = Obj(
    {
        "title": Key(Text("The routine's title, spoken at the start.", 200), required=True),
        "summary": Key(Text("One line for `voiceguide list`.", 500)),
        "author": Key(Text("Who wrote the routine; exported files name them as the artist.", 200)),
        "language": Key(Text("Language of the text (e.g. en); picks a voice.", 20)),
        "engine": Key(Choice(("pyttsx3", "piper"), "Speech engine.")),
        "voice": Key(VOICE),
        "defaults": Key(DEFAULTS),
        "ambience": Key(AmbienceNode("A background sound under the whole session, ducked under the voice.")),
        "cautions": Key(CautionList("Printed and spoken before the session.")),
        "phrases": Key(TextMap("Overrides of built-in phrases.", _phrase_table)),
        "points": Key(Raw("Points to add to the catalogue or override.", POINT_SKETCH)),
        "steps": Key(Raw("What happens, in order.", {"$ref": "#/$defs/steps"}), required=True),
    },
    "A voiceguide routine.",
)

FRAGMENT_KEYS = ("steps", "cautions", "points", "phrases", "title", "summary")

COMMON_STEP_KEYS = {
    "title": Key(Text("A name for this step in `show`, the player and split files.", 200)),
    "for": Key(TextList("Points this step belongs to: left out when `--avoid` leaves out all of them.")),
    "unless_avoiding": Key(TextList("Caution tags: `--avoid` with any of them leaves this step out.")),
    "instead": Key(
        Raw("Steps played in place of this one when `--avoid` leaves it out.", {"$ref": "#/$defs/steps"})
    ),
}


DURATION_JSON = Duration("").json()
