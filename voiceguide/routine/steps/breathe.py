"""``- breathe: 4-7-8`` or ``{pattern: 4-7-8, cycles: 4, cue: count}`` — paced breathing.

Each phase is a block of exactly its length with its cue at the start (a word, a count in whole
seconds, or a tone), so the voice can never stretch a breath.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from voiceguide.routine.model import DEFAULT_CYCLES, NOWHERE, Origin, StepT
from voiceguide.routine.ops import Block, Op, Play, Speak
from voiceguide.routine.phrases import number_word, say
from voiceguide.routine.schema import CUES, INVALID, Choice, Ctx, Number, Raw, describe, warn_unknown
from voiceguide.routine.source import LocatedDict, LocatedList, Mark
from voiceguide.routine.steps.base import Item, Loading, Planning, StepKind
from voiceguide.units import US, DurationError, parse_duration

BREATH_TONES = ("inhale", "hold", "exhale")
MAX_PHASE_US = 120_000_000
_KEYS = ["pattern", "cycles", "cue"]
_PATTERN = re.compile(r"^\s*\d+(\.\d+)?(\s*-\s*\d+(\.\d+)?){1,3}\s*$")
# phase kind, word phrase, count phrase, tone
_PHASES = (
    ("inhale", "breathe_in", "count_in", "inhale"),
    ("hold-in", "hold_in", "count_hold", "hold"),
    ("exhale", "breathe_out", "count_out", "exhale"),
    ("hold-out", "hold_out", "count_hold", "hold"),
)


@dataclass(frozen=True)
class Breathe:
    phases_us: tuple[int, ...]  # inhale, hold, exhale[, hold]; 0 = skipped
    cycles: int
    cue: str  # words | count | tones
    title: str = ""
    origin: Origin = NOWHERE


def _load(item: Item, loading: Loading) -> list[StepT]:
    value, ctx, path, mark = item.raw["breathe"], item.ctx, f"{item.path}.breathe", item.where
    if isinstance(value, (str, LocatedList)):
        spec: dict[str, Any] = {"pattern": value}
        marks = {"pattern": mark}
    elif isinstance(value, LocatedDict):
        spec, marks = dict(value), {k: value.where(k) for k in value}
        for key in value:
            if key not in _KEYS:
                warn_unknown(ctx, value.key_marks[key], f"{path}.{key}", key, _KEYS)
    else:
        ctx.error(
            mark,
            path,
            f"expected a pattern like 4-7-8 or a mapping, got {describe(value)}",
            "write `breathe: {pattern: 4-7-8, cycles: 4}`",
        )
        return []
    if "pattern" not in spec:
        ctx.error(mark, path, "missing required key 'pattern'", "e.g. `pattern: 4-7-8` (in-hold-out)")
        return []
    phases = _pattern(spec["pattern"], ctx, f"{path}.pattern", marks["pattern"])
    cycles = Number("", 1, 100).check(
        spec.get("cycles", DEFAULT_CYCLES), ctx, f"{path}.cycles", marks.get("cycles", mark)
    )
    cue = Choice(CUES).check(
        spec.get("cue", loading.defaults.breathe_cue), ctx, f"{path}.cue", marks.get("cue", mark)
    )
    if phases is None or cycles is INVALID or cue is INVALID:
        return []
    if cue == "tones":
        for tone in BREATH_TONES:
            loading.check_sound(tone, ctx, f"{path}.cue", marks.get("cue", mark))
    return [Breathe(phases, cycles, cue, item.title, item.origin)]


def _pattern(value: Any, ctx: Ctx, path: str, mark: Mark) -> tuple[int, ...] | None:
    hint = "write inhale-hold-exhale[-hold] in seconds, like 4-7-8, 4-4-4-4 or 5.5-0-5.5"
    if isinstance(value, str):
        if not _PATTERN.match(value):
            ctx.error(mark, path, f"{value!r} is not a breathing pattern", hint)
            return None
        parts: list[Any] = [float(x) for x in value.split("-")]
    elif isinstance(value, LocatedList) and 2 <= len(value) <= 4:
        parts = list(value)
    else:
        ctx.error(mark, path, f"expected a pattern like 4-7-8, got {describe(value)}", hint)
        return None
    if len(parts) == 2:
        parts = [parts[0], 0, parts[1]]
    phases = []
    for i, part in enumerate(parts):
        try:
            phases.append(parse_duration(part, allow_zero=True))
        except DurationError as exc:
            ctx.error(mark, f"{path}[{i}]", str(exc), hint)
            return None
    if phases[0] == 0 or phases[2] == 0:
        ctx.error(mark, path, "inhale and exhale must last longer than zero", hint)
        return None
    if max(phases) > MAX_PHASE_US:
        ctx.error(mark, path, "a breathing phase longer than two minutes is not a breath", hint)
        return None
    return tuple(phases)


def _plan(step: Breathe, planning: Planning) -> list[Op]:
    phrases = planning.phrases
    ops: list[Op] = []
    for _ in range(step.cycles):
        for (kind, word_key, count_key, tone), length in zip(_PHASES, step.phases_us, strict=False):
            if not length:
                continue
            cues: list[tuple[int, Speak | Play]]
            if step.cue == "tones":
                cues = [(0, Play(tone, kind, slot_us=length))]
            elif step.cue == "words":
                cues = [(0, Speak(say(phrases, word_key), kind))]
            else:
                cues = [(0, Speak(say(phrases, count_key), kind))]
                n = 2
                while n * US <= length:  # only whole seconds: a count word gets its full second
                    cues.append(((n - 1) * US, Speak(number_word(n, phrases), "count")))
                    n += 1
            ops.append(Block(kind, length, tuple(cues)))
    return ops


def _title(step: Breathe, phrases: Mapping[str, str]) -> str:
    if step.title:
        return step.title
    pattern = "-".join(f"{p / US:g}" for p in step.phases_us)
    return say(phrases, "title_breathe", pattern=pattern, cycles=str(step.cycles))


SCHEMA = {
    "anyOf": [
        {"type": "string"},
        {
            "type": "object",
            "properties": {
                "pattern": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "number"}}]},
                "cycles": {"type": "integer", "minimum": 1, "maximum": 100},
                "cue": {"enum": list(CUES)},
            },
            "additionalProperties": False,
        },
    ]
}

KIND = StepKind(
    "breathe",
    Breathe,
    Raw("Paced breathing: a pattern like 4-7-8, or a mapping.", SCHEMA),
    _load,
    _plan,
    title=_title,
    checks_own_value=True,
)
