"""Script → validated :class:`~voiceguide.routine.Routine`, reporting every problem at once.

Reading is confined: a routine may include other routine files and use WAV sounds only inside its
own folder tree or the shipped scripts and sounds. Nothing in a routine can run code.
"""

from __future__ import annotations

import difflib
import re
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import schema
from .catalogue import Catalogue, caution_tags, load_catalogue, parse_points
from .durations import DurationError, parse_duration
from .errors import Problem, RoutineError, UsageError
from .library import resolve_routine, shipped_scripts_dir, shipped_sounds_dir
from .phrases import PHRASES, placeholders
from .routine import (
    Breathe,
    Defaults,
    Origin,
    Pause,
    PointStep,
    Repeat,
    Routine,
    Say,
    Section,
    SoundStep,
    StepT,
    Voice,
    iter_points,
)
from .schema import INVALID, Ctx
from .yamlsource import LocatedDict, LocatedList, Mark, parse, read_source

MAX_STEPS = 5000  # after expanding repeat and include
MAX_INCLUDE_DEPTH = 10
BREATH_TONES = ("inhale", "hold", "exhale")


@dataclass
class _State:
    """What loading one routine (and the files it includes) accumulates."""

    root: Path  # folder tree the routine may read from
    catalogue: Catalogue
    problems: list[Problem] = field(default_factory=list)
    cautions: list[str] = field(default_factory=list)
    phrases: dict[str, str] = field(default_factory=dict)
    sounds: dict[str, str] = field(default_factory=dict)
    stack: list[Path] = field(default_factory=list)  # include chain, for cycles
    leaves: int = 0
    defaults: Defaults = field(default_factory=Defaults)


def _display(path: Path) -> str:
    """Paths in messages: relative to the working folder when that is shorter."""
    try:
        rel = path.resolve().relative_to(Path.cwd().resolve())
        return str(rel)
    except ValueError:
        return str(path)


def _allowed(path: Path, state: _State) -> bool:
    roots = (state.root, shipped_scripts_dir().resolve(), shipped_sounds_dir().resolve())
    resolved = path.resolve()
    return any(resolved == r or r in resolved.parents for r in roots)


def load_routine(ref: str | Path, *, avoid: Sequence[str] = (), strict: bool = False) -> Routine:
    """Load and validate a routine (path or shipped name); raises RoutineError listing every error.

    Warnings do not stop loading unless ``strict`` is true.
    """
    routine, problems = _load(resolve_routine(ref), avoid)
    errors = [p.as_error() for p in problems] if strict else [p for p in problems if p.severity == "error"]
    if errors or routine is None:
        raise RoutineError(errors or problems)
    return routine


def check_file(ref: str | Path, *, strict: bool = False) -> list[Problem]:
    """Every problem in a routine, warnings included (promoted to errors when ``strict``).

    Beyond loading, this lays the routine out with estimated speech lengths, so a cue that cannot
    fit its phase is reported now rather than discovered while playing.
    """
    try:
        path = resolve_routine(ref)
    except UsageError as exc:
        return [Problem(str(ref), 0, 0, str(exc))]
    routine, problems = _load(path, ())
    if routine is not None and not any(p.severity == "error" for p in problems):
        from .compiler import compile_routine, voice_settings
        from .media import EstimatedDurations

        settings = voice_settings(routine)
        try:
            compile_routine(routine, EstimatedDurations(settings.rate, dict(routine.sounds)), settings)
        except RoutineError as exc:
            problems.extend(exc.problems)
    return [p.as_error() for p in problems] if strict else problems


def _load(path: Path, avoid: Sequence[str]) -> tuple[Routine | None, list[Problem]]:
    filename = _display(path)
    state = _State(root=path.resolve().parent, catalogue=load_catalogue())
    known_tags = caution_tags(state.catalogue)
    for tag in avoid:
        if tag not in known_tags:
            close = difflib.get_close_matches(tag, known_tags, n=1)
            guess = f"did you mean {close[0]!r}? " if close else ""
            raise UsageError(
                f"unknown caution tag {tag!r} for --avoid; {guess}known tags: {', '.join(known_tags)}"
            )
    try:
        data = parse(read_source(path, filename), filename)
    except RoutineError as exc:
        return None, list(exc.problems)
    ctx = Ctx(filename)
    if not isinstance(data, LocatedDict):
        what = schema.describe(data) if data is not None else "empty"
        ctx.error(
            Mark(1, 1),
            "",
            f"a routine must be a mapping of keys; this file is {what}",
            "start with `title:` and `steps:` — `voiceguide new NAME` writes a starter",
        )
        return None, ctx.problems
    top = schema.TOP.check(data, ctx, "", data.mark)
    if top is INVALID:
        return None, ctx.problems
    state.problems = ctx.problems
    state.stack.append(path.resolve())
    _apply_shared(data, top, state, filename)
    state.defaults = _defaults(top.get("defaults", {}))
    _check_sound(state.defaults.chime, state, ctx, "defaults.chime", data.where("defaults"))
    steps: tuple[StepT, ...] = ()
    if "steps" in data:
        steps = _steps(data["steps"], state, ctx, "steps", data.where("steps"))
    voice_data = top.get("voice", {})
    routine = Routine(
        title=top.get("title", ""),
        summary=top.get("summary", ""),
        author=top.get("author", ""),
        language=top.get("language", "en"),
        engine=top.get("engine"),
        voice=Voice(voice_data.get("name"), voice_data.get("rate"), voice_data.get("volume")),
        defaults=state.defaults,
        cautions=tuple(state.cautions),
        phrases=state.phrases,
        sounds=state.sounds,
        caution_texts=dict(state.catalogue.caution_texts),
        steps=steps,
        source=path.resolve(),
    )
    if any(p.severity == "error" for p in state.problems):
        return None, state.problems
    if avoid:
        routine = _avoiding(routine, tuple(avoid))
    return routine, state.problems


def _apply_shared(data: LocatedDict, top: dict[str, Any], state: _State, filename: str) -> None:
    """Keys a routine and the fragments it includes both contribute: cautions, phrases, points."""
    state.cautions.extend(top.get("cautions", ()))
    for key, text in top.get("phrases", {}).items():
        expected = placeholders(PHRASES.get(key, ""))
        if placeholders(text) != expected:
            mark = data["phrases"].where(key)
            state.problems.append(
                Problem(
                    filename,
                    mark.line,
                    mark.column,
                    f"the phrase must use exactly the placeholders {sorted(expected)}",
                    path=f"phrases.{key}",
                    hint="keep {names} in curly braces as in `voiceguide phrases`",
                )
            )
            continue
        state.phrases[key] = text
    if isinstance(data.get("points"), LocatedDict):
        added = parse_points(data["points"], filename, state.catalogue, "points", state.problems)
        state.catalogue = Catalogue({**state.catalogue.points, **added}, state.catalogue.caution_texts)
    elif "points" in data:
        mark = data.where("points")
        state.problems.append(
            Problem(
                filename,
                mark.line,
                mark.column,
                "expected a mapping of points",
                path="points",
                hint="see docs/routine-format.md#points",
            )
        )


def _defaults(d: dict[str, Any]) -> Defaults:
    base = Defaults()
    return Defaults(
        hold_us=d.get("hold", base.hold_us),
        remind_every_us=d.get("remind_every", base.remind_every_us),
        countdown=d.get("countdown", base.countdown),
        chime=d.get("chime", base.chime),
        breathe_cue=d.get("breathe_cue", base.breathe_cue),
        sides=d.get("sides", base.sides),
    )


def _steps(value: Any, state: _State, ctx: Ctx, path: str, mark: Mark) -> tuple[StepT, ...]:
    if not isinstance(value, LocatedList):
        ctx.error(
            mark,
            path,
            f"expected a list of steps, got {schema.describe(value)}",
            "write each step on its own line starting with `- `",
        )
        return ()
    if not value:
        ctx.error(mark, path, "there are no steps", "add at least one step, e.g. `- say: Hello.`")
        return ()
    out: list[StepT] = []
    for i, item in enumerate(value):
        out.extend(_step(item, state, ctx, f"{path}[{i}]", value.where(i)))
    return tuple(out)


def _step(item: Any, state: _State, ctx: Ctx, path: str, mark: Mark) -> list[StepT]:
    if isinstance(item, str) and ":" not in item:
        ctx.error(
            mark,
            path,
            f"a step must be a mapping like `say: ...`, got {schema.describe(item)}",
            f"did you mean `- say: {item[:40]}`?",
        )
        return []
    if not isinstance(item, LocatedDict):
        ctx.error(
            mark,
            path,
            f"a step must be a mapping like `say: ...`, got {schema.describe(item)}",
            "step kinds: " + ", ".join(schema.STEP_KINDS),
        )
        return []
    kinds = [k for k in item if k in schema.STEP_KINDS]
    if len(kinds) != 1:
        if kinds:
            message = f"a step has exactly one kind, this one has {', '.join(kinds)}"
            hint = "split it into separate `- ` steps"
        else:
            guess = [g for k in item for g in difflib.get_close_matches(k, list(schema.STEP_KINDS), n=1)]
            message = "this step has no kind key"
            hint = (
                (f"did you mean {guess[0]!r}? " if guess else "") + "kinds: " + ", ".join(schema.STEP_KINDS)
            )
        ctx.error(mark, path, message, hint)
        return []
    kind = kinds[0]
    node, extra = schema.STEP_KINDS[kind]
    allowed = {kind: schema.Key(node), **extra, **schema.COMMON_STEP_KEYS}
    checked = schema.Obj(allowed).check(item, ctx, path, mark)
    if checked is INVALID or (kind not in checked and kind not in ("breathe",)):
        return []
    origin = Origin(ctx.filename, mark.line, mark.column)
    title = checked.get("title", "")
    where = item.where(kind)
    state.leaves += 1
    if state.leaves == MAX_STEPS + 1:
        ctx.error(
            mark,
            path,
            f"the routine has more than {MAX_STEPS:,} steps (after repeats and includes)",
            "split it into several routines",
        )
    if kind == "say":
        return [Say(checked["say"], title, origin)]
    if kind == "pause":
        return [Pause(checked["pause"], title, origin)]
    if kind == "sound":
        name = checked["sound"]
        if not _check_sound(name, state, ctx, f"{path}.sound", where):
            return []
        return [SoundStep(name, title, origin)]
    if kind == "breathe":
        breathe = _breathe(item["breathe"], state, ctx, f"{path}.breathe", where, title, origin)
        return [breathe] if breathe else []
    if kind == "point":
        point_step = _point(checked, state, ctx, path, where, title, origin)
        return [point_step] if point_step else []
    if kind in ("section", "repeat") and "steps" not in item:
        return []  # the missing `steps:` was reported by the schema check
    if kind == "include":
        return _include(checked["include"], state, ctx, f"{path}.include", where)
    inner_steps = _steps(item["steps"], state, ctx, f"{path}.steps", item.where("steps"))
    if not inner_steps:
        return []
    if kind == "section":
        return [Section(checked["section"], inner_steps, origin)]
    times = checked["repeat"]
    state.leaves += _count_leaves(inner_steps) * (times - 1)
    if state.leaves > MAX_STEPS:
        ctx.error(
            mark,
            path,
            f"repeating expands the routine past {MAX_STEPS:,} steps",
            "lower the repeat count",
        )
        return []
    return [Repeat(times, inner_steps, title, origin)]


def _count_leaves(steps: tuple[StepT, ...]) -> int:
    n = 0
    for s in steps:
        if isinstance(s, Section):
            n += _count_leaves(s.steps)
        elif isinstance(s, Repeat):
            n += _count_leaves(s.steps) * s.times
        else:
            n += 1
    return n


_PATTERN = re.compile(r"^\s*\d+(\.\d+)?(\s*-\s*\d+(\.\d+)?){1,3}\s*$")


def _breathe(
    value: Any, state: _State, ctx: Ctx, path: str, mark: Mark, title: str, origin: Origin
) -> Breathe | None:
    if isinstance(value, (str, LocatedList)):
        spec: dict[str, Any] = {"pattern": value}
        marks = {"pattern": mark}
    elif isinstance(value, LocatedDict):
        spec, marks = dict(value), {k: value.where(k) for k in value}
        for key in value:
            if key not in ("pattern", "cycles", "cue"):
                schema.warn_unknown(
                    ctx, value.key_marks[key], f"{path}.{key}", key, ["pattern", "cycles", "cue"]
                )
    else:
        ctx.error(
            mark,
            path,
            f"expected a pattern like 4-7-8 or a mapping, got {schema.describe(value)}",
            "write `breathe: {pattern: 4-7-8, cycles: 4}`",
        )
        return None
    if "pattern" not in spec:
        ctx.error(mark, path, "missing required key 'pattern'", "e.g. `pattern: 4-7-8` (in-hold-out)")
        return None
    phases = _pattern(spec["pattern"], ctx, f"{path}.pattern", marks["pattern"])
    cycles = schema.Number("", 1, 100).check(
        spec.get("cycles", 3), ctx, f"{path}.cycles", marks.get("cycles", mark)
    )
    cue = schema.Choice(schema.CUES).check(
        spec.get("cue", state.defaults.breathe_cue), ctx, f"{path}.cue", marks.get("cue", mark)
    )
    if phases is None or cycles is INVALID or cue is INVALID:
        return None
    if cue == "tones":
        for tone in BREATH_TONES:
            _check_sound(tone, state, ctx, f"{path}.cue", marks.get("cue", mark))
    return Breathe(phases, cycles, cue, title, origin)


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
        ctx.error(mark, path, f"expected a pattern like 4-7-8, got {schema.describe(value)}", hint)
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
    if max(phases) > 120_000_000:
        ctx.error(mark, path, "a breathing phase longer than two minutes is not a breath", hint)
        return None
    return tuple(phases)


def _point(
    checked: dict[str, Any],
    state: _State,
    ctx: Ctx,
    path: str,
    mark: Mark,
    title: str,
    origin: Origin,
) -> PointStep | None:
    code = checked["point"]
    point = state.catalogue.resolve(code)
    if point is None:
        close = state.catalogue.suggest(code)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        ctx.error(
            mark,
            f"{path}.point",
            f"unknown point {code!r}",
            hint + "`voiceguide points` lists the catalogue; a routine can add points under `points:`",
        )
        return None
    d = state.defaults
    chime = checked.get("chime", d.chime)
    if not _check_sound(chime, state, ctx, f"{path}.chime", mark):
        return None
    default_sides = "single" if point.sides == "midline" else (d.sides or "together")
    sides = checked.get("sides", default_sides)
    if point.sides == "midline" and sides == "alternate":
        ctx.error(
            mark,
            f"{path}.sides",
            f"{point.code} is a single point on the midline; it has no sides",
            "remove `sides: alternate`",
        )
        return None
    hold = checked.get("hold") or d.hold_us or point.hold_us or 60_000_000
    if hold > 600_000_000:
        ctx.error(
            mark,
            f"{path}.hold",
            "a hold longer than ten minutes is not safe to guide",
            "sources advise one to three minutes per point",
        )
        return None
    if hold > 300_000_000:
        ctx.warn(
            mark,
            f"{path}.hold",
            "holds longer than five minutes are unusual",
            "sources advise one to three minutes per point",
        )
    return PointStep(
        point=point,
        hold_us=hold,
        sides=sides,
        name=checked.get("name", point.name),
        location=checked.get("location", point.location),
        technique=checked.get("technique", point.technique),
        remind_every_us=checked.get("remind_every", d.remind_every_us),
        countdown=checked.get("countdown", d.countdown),
        chime=chime,
        title=title,
        origin=origin,
    )


def _check_sound(name: str, state: _State, ctx: Ctx, path: str, mark: Mark) -> bool:
    """Find a sound by name and record its file; report one clear problem if it is unusable."""
    if name in state.sounds:
        return True
    candidates: list[Path] = []
    if name.lower().endswith(".wav"):
        candidates.append(state.stack[-1].parent / name)
    else:
        for folder in (
            state.stack[-1].parent,
            state.stack[-1].parent / "sounds",
            shipped_sounds_dir(),
        ):
            candidates.append(folder / f"{name}.wav")
    for candidate in candidates:
        if not candidate.is_file():
            continue
        if not _allowed(candidate, state):
            ctx.error(
                mark,
                path,
                f"the sound {name!r} is outside the routine's folder",
                "copy the WAV file next to the routine",
            )
            return False
        try:
            with wave.open(str(candidate), "rb") as w:
                if w.getnchannels() not in (1, 2) or w.getnframes() == 0:
                    raise wave.Error("not mono or stereo PCM with samples")
        except Exception as exc:  # wave raises assorted errors on malformed files
            ctx.error(
                mark,
                path,
                f"the sound file {_display(candidate)} is not usable audio "
                f"({str(exc) or type(exc).__name__})",
                "use a PCM WAV file (e.g. `sox in.mp3 -b 16 out.wav`)",
            )
            return False
        state.sounds[name] = str(candidate.resolve())
        return True
    shipped = sorted(p.stem for p in shipped_sounds_dir().glob("*.wav"))
    ctx.error(
        mark,
        path,
        f"unknown sound {name!r}",
        f"shipped sounds: {', '.join(shipped) or 'none'}; or put {name}.wav beside the routine",
    )
    return False


def _include(ref: str, state: _State, ctx: Ctx, path: str, mark: Mark) -> list[StepT]:
    here = state.stack[-1].parent
    target = (here / ref).resolve() if not Path(ref).is_absolute() else Path(ref).resolve()
    shipped = shipped_scripts_dir() / ref
    if not target.exists() and "/" not in ref and shipped.is_file():
        target = shipped.resolve()  # a bare name not found beside the routine: a shipped fragment
    if Path(ref).is_absolute() or not _allowed(target, state):
        ctx.error(
            mark,
            path,
            f"the include {ref!r} points outside the routine's folder",
            "include files from the routine's own folder tree or the shipped scripts",
        )
        return []
    if target.suffix not in (".yaml", ".yml"):
        ctx.error(mark, path, f"the include {ref!r} is not a .yaml routine file")
        return []
    if target in state.stack:
        chain = " -> ".join(p.name for p in [*state.stack[state.stack.index(target) :], target])
        ctx.error(mark, path, f"include cycle: {chain}", "remove one of the includes")
        return []
    if len(state.stack) > MAX_INCLUDE_DEPTH:
        ctx.error(mark, path, f"includes nest deeper than {MAX_INCLUDE_DEPTH}", "flatten them")
        return []
    filename = _display(target)
    try:
        data = parse(read_source(target, filename), filename)
    except RoutineError as exc:
        first = exc.problems[0]
        ctx.error(mark, path, f"cannot include {ref!r}: {first.message}", first.hint)
        state.problems.extend(exc.problems[1:])
        return []
    sub = Ctx(filename, state.problems)
    if not isinstance(data, LocatedDict) or "steps" not in data:
        sub.error(Mark(1, 1), "", "an included file needs a `steps:` list")
        return []
    for key in data:
        if key not in schema.FRAGMENT_KEYS:
            schema.warn_unknown(sub, data.key_marks[key], key, key, list(schema.FRAGMENT_KEYS))
    fragment = {k: v for k, v in data.items() if k in schema.FRAGMENT_KEYS and k not in ("title", "summary")}
    top = schema.Obj({k: schema.TOP.keys[k] for k in ("cautions", "phrases", "points", "steps")}).check(
        _located(fragment, data), sub, "", data.mark
    )
    if top is INVALID:
        return []
    _apply_shared(data, top, state, filename)
    state.stack.append(target)
    try:
        return list(_steps(data["steps"], state, sub, "steps", data.where("steps")))
    finally:
        state.stack.pop()


def _located(values: dict[str, Any], like: LocatedDict) -> LocatedDict:
    out = LocatedDict(values)
    out.mark, out.key_marks, out.value_marks = like.mark, like.key_marks, like.value_marks
    return out


def _avoiding(routine: Routine, tags: tuple[str, ...]) -> Routine:
    """Drop every point carrying one of ``tags`` (and sections left empty)."""

    def keep(steps: tuple[StepT, ...]) -> tuple[StepT, ...]:
        out: list[StepT] = []
        for s in steps:
            if isinstance(s, PointStep) and set(s.point.cautions) & set(tags):
                continue
            if isinstance(s, (Section, Repeat)):
                inner = keep(s.steps)
                if inner:
                    out.append(replace(s, steps=inner))
                continue
            out.append(s)
        return tuple(out)

    before = {p.point.code for p in iter_points(routine.steps)}
    steps = keep(routine.steps)
    after = {p.point.code for p in iter_points(steps)}
    avoided = tuple(sorted(before - after))
    return replace(routine, steps=steps, avoided=avoided, avoid_tags=tags)
