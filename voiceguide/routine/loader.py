"""Script → validated :class:`~voiceguide.routine.Routine`, reporting every problem at once.

Reading is confined: a routine may include other routine files and use WAV sounds only inside its
own folder tree or the shipped scripts and sounds. Nothing in a routine can run code.

A little over 400 lines: the top-level keys, includes and the step dispatch share one loading
state; the step kinds themselves, sound lookup and `--avoid` are in their own modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from voiceguide.errors import Problem, RoutineError, UsageError
from voiceguide.hints import close_matches, did_you_mean, suggestion
from voiceguide.routine import schema
from voiceguide.routine.ambience import BEDS, OFF, AmbienceSetting
from voiceguide.routine.avoid import avoiding
from voiceguide.routine.catalogue import Catalogue, caution_tags, load_catalogue, parse_points
from voiceguide.routine.files import allowed, display_path, find_bed_file, find_sound
from voiceguide.routine.library import resolve_routine, shipped_scripts_dir
from voiceguide.routine.locale import (
    ENGLISH,
    Locale,
    avoid_tags,
    check_language,
    load_locale,
    localized,
    missing,
    phrase_table,
)
from voiceguide.routine.model import Defaults, Origin, Routine, StepT, Voice
from voiceguide.routine.phrases import PHRASES, placeholders
from voiceguide.routine.schema import INVALID, Ctx
from voiceguide.routine.source import LocatedDict, LocatedList, Mark, parse, read_source
from voiceguide.routine.steps import KINDS, Guarded, count_leaves, iter_points
from voiceguide.routine.steps.base import Item

MAX_STEPS = 5000  # after expanding repeat and include
MAX_INCLUDE_DEPTH = 10


@dataclass
class _State:
    """What loading one routine (and the files it includes) accumulates."""

    root: Path  # folder tree the routine may read from
    catalogue: Catalogue
    problems: list[Problem] = field(default_factory=list)
    cautions: list[str | schema.Caution] = field(default_factory=list)
    phrases: dict[str, str] = field(default_factory=dict)
    sounds: dict[str, str] = field(default_factory=dict)
    stack: list[Path] = field(default_factory=list)  # include chain, for cycles
    leaves: int = 0
    defaults: Defaults = field(default_factory=Defaults)
    language: str | None = None  # asked for on the command line: wins over the routine's


def load_routine(
    ref: str | Path, *, avoid: Sequence[str] = (), strict: bool = False, language: str | None = None
) -> Routine:
    """Load and validate a routine (path or shipped name); raises RoutineError listing every error.

    Warnings do not stop loading unless ``strict`` is true. ``language`` (a code such as ``es``)
    picks a shipped routine's translation when there is one, and speaks everything voiceguide
    itself says in that language.
    """
    if language is not None:
        language = check_language(language)
    routine, problems = _load(resolve_routine(ref, language), avoid, language)
    errors = [p.as_error() for p in problems] if strict else [p for p in problems if p.severity == "error"]
    if errors or routine is None:
        raise RoutineError(errors or problems)
    return routine


def load_problems(path: Path) -> tuple[Routine | None, list[Problem]]:
    """The routine at ``path`` (None when it has errors) and every problem found loading it."""
    return _load(path, ())


def _load(
    path: Path, avoid: Sequence[str], language: str | None = None
) -> tuple[Routine | None, list[Problem]]:
    filename = display_path(path)
    state = _State(root=path.resolve().parent, catalogue=load_catalogue(), language=language)
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
    locale = _locale(data, top, state, ctx)
    if locale is None:
        return None, ctx.problems
    # Known once the language is: `--avoid embarazo` in a Spanish session, `--avoid pregnancy` in any.
    avoided = avoid_tags(avoid, locale, caution_tags(state.catalogue))
    _apply_shared(data, top, state, filename)
    state.defaults = _defaults(top.get("defaults", {}))
    _check_sound(state.defaults.chime, state, ctx, "defaults.chime", data.where("defaults"))
    ambience = top.get("ambience")
    if ambience is not None:
        raw = data["ambience"]
        mark = (
            raw.where("sound") if isinstance(raw, LocatedDict) and "sound" in raw else data.where("ambience")
        )
        ambience = _check_ambience(ambience, state, ctx, "ambience", mark)
    steps: tuple[StepT, ...] = ()
    if "steps" in data:
        steps = _steps(data["steps"], state, ctx, "steps", data.where("steps"))
    voice_data = top.get("voice", {})
    untranslated = missing(
        locale,
        sorted({p.point.code for p in iter_points(steps)}),
        sorted({t for p in iter_points(steps) for t in p.point.cautions}),
    )
    if untranslated:
        ctx.warn(
            data.where("language") if "language" in data else data.mark,
            "language",
            f"no {locale.name} text for {', '.join(untranslated)}; English is spoken instead",
            f"add them to voiceguide/routine/locales/{locale.code}.yaml (docs/adding-a-language.md)",
        )
    routine = Routine(
        title=top.get("title", ""),
        summary=top.get("summary", ""),
        author=top.get("author", ""),
        language=state.language or ENGLISH,
        tag_names=dict(locale.tags),
        engine=top.get("engine"),
        voice=Voice(voice_data.get("name"), voice_data.get("rate"), voice_data.get("volume")),
        defaults=state.defaults,
        ambience=ambience,
        phrases=state.phrases,
        sounds=state.sounds,
        caution_texts=dict(state.catalogue.caution_texts),
        steps=steps,
        source=path.resolve(),
    )
    if any(p.severity == "error" for p in state.problems):
        return None, state.problems
    routine = replace(routine, warnings=tuple(p for p in state.problems if p.severity == "warning"))
    return avoiding(routine, tuple(state.cautions), avoided), state.problems


def _locale(data: LocatedDict, top: dict[str, Any], state: _State, ctx: Ctx) -> Locale | None:
    """The session's language (the command line's, else the routine's): its phrases and the
    catalogue's spoken fields become the base that the routine's own ``phrases:`` override."""
    written = top.get("language", ENGLISH)
    try:
        code = state.language or check_language(written)
    except UsageError as exc:
        ctx.error(
            data.where("language"),
            "language",
            str(exc),
            "write a code such as en, es, de, fr or zh (docs/adding-a-language.md)",
        )
        return None
    state.language = code
    locale = load_locale(code)
    state.catalogue = localized(state.catalogue, locale)
    state.phrases.update(phrase_table(locale))
    return locale


def _apply_shared(data: LocatedDict, top: dict[str, Any], state: _State, filename: str) -> None:
    """Keys a routine and the fragments it includes both contribute: cautions, phrases, points."""
    state.cautions.extend(top.get("cautions", ()))
    for i, caution in enumerate(top.get("cautions", ())):
        if isinstance(caution, schema.Caution):
            _check_tags(
                caution.unless_avoiding,
                state,
                Ctx(filename, state.problems),
                f"cautions[{i}].unless_avoiding",
                data["cautions"].where(i),
            )
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
    names = ", ".join(KINDS)
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
            "step kinds: " + names,
        )
        return []
    present = [k for k in item if k in KINDS]
    if len(present) != 1:
        if present:
            message = f"a step has exactly one kind, this one has {', '.join(present)}"
            hint = "split it into separate `- ` steps"
        else:
            guess = [g for k in item for g in close_matches(k, KINDS)]
            message = "this step has no kind key"
            hint = suggestion(guess[:1]) + "kinds: " + names
        ctx.error(mark, path, message, hint)
        return []
    name = present[0]
    kind = KINDS[name]
    allowed = {name: schema.Key(kind.node), **kind.keys, **schema.COMMON_STEP_KEYS}
    checked = schema.Obj(allowed).check(item, ctx, path, mark)
    if checked is INVALID or (name not in checked and not kind.checks_own_value):
        return []
    state.leaves += 1
    if state.leaves == MAX_STEPS + 1:
        ctx.error(
            mark,
            path,
            f"the routine has more than {MAX_STEPS:,} steps (after repeats and includes)",
            "split it into several routines",
        )
    origin = Origin(ctx.filename, mark.line, mark.column)
    written = Item(item, checked, ctx, path, mark, item.where(name), checked.get("title", ""), origin)
    loaded = kind.load(written, _Loader(state))
    if not any(key in item for key in ("for", "unless_avoiding", "instead")):
        return loaded
    return _guarded(loaded, written, state)


def _guarded(loaded: list[StepT], item: Item, state: _State) -> list[StepT]:
    """Wrap a step written with `for:`, `unless_avoiding:` or `instead:` for :func:`avoiding`."""
    ctx, path, raw = item.ctx, item.path, item.raw
    points = []
    for i, key in enumerate(item.checked.get("for", ())):
        point = state.catalogue.resolve(key)
        if point is None:
            where = raw["for"].where(i) if isinstance(raw["for"], LocatedList) else raw.where("for")
            hint = suggestion(state.catalogue.suggest(key), quote=False)
            ctx.error(where, f"{path}.for", f"unknown point {key!r}", hint + "`voiceguide points` lists them")
        else:
            points.append(point)
    tags = tuple(item.checked.get("unless_avoiding", ()))
    if "unless_avoiding" in raw:
        _check_tags(tags, state, ctx, f"{path}.unless_avoiding", raw.where("unless_avoiding"))
    instead: tuple[StepT, ...] = ()
    if "instead" in raw:
        if "for" not in raw and "unless_avoiding" not in raw:
            ctx.error(
                raw.key_marks["instead"],
                f"{path}.instead",
                "`instead:` replaces a step that `--avoid` leaves out, but nothing leaves this one out",
                "add `for: [CODE]` (the point it belongs to) or `unless_avoiding: [TAG]`",
            )
        instead = _steps(raw["instead"], state, ctx, f"{path}.instead", raw.where("instead"))
    if not loaded:
        return []
    return [Guarded(tuple(loaded), tuple(points), tags, instead, item.title, item.origin)]


def _check_tags(tags: Sequence[str], state: _State, ctx: Ctx, path: str, mark: Mark) -> None:
    known = caution_tags(state.catalogue)
    for tag in tags:
        if tag not in known:
            ctx.error(
                mark,
                path,
                f"unknown caution tag {tag!r}",
                did_you_mean(tag, known) + "known tags: " + ", ".join(known),
            )


class _Loader:
    """The :class:`~voiceguide.routine.steps.base.Loading` a step kind is given."""

    def __init__(self, state: _State) -> None:
        self._state = state

    @property
    def catalogue(self) -> Catalogue:
        return self._state.catalogue

    @property
    def defaults(self) -> Defaults:
        return self._state.defaults

    def check_sound(self, name: str, ctx: Ctx, path: str, mark: Mark) -> bool:
        return _check_sound(name, self._state, ctx, path, mark)

    def check_ambience(
        self, setting: AmbienceSetting, ctx: Ctx, path: str, mark: Mark
    ) -> AmbienceSetting | None:
        return _check_ambience(setting, self._state, ctx, path, mark)

    def steps(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> tuple[StepT, ...]:
        return _steps(value, self._state, ctx, path, mark)

    def include(self, ref: str, ctx: Ctx, path: str, mark: Mark) -> list[StepT]:
        return _include(ref, self._state, ctx, path, mark)

    def expand(self, inner: tuple[StepT, ...], times: int, ctx: Ctx, path: str, mark: Mark) -> bool:
        self._state.leaves += count_leaves(inner) * (times - 1)
        if self._state.leaves > MAX_STEPS:
            ctx.error(
                mark,
                path,
                f"repeating expands the routine past {MAX_STEPS:,} steps",
                "lower the repeat count",
            )
            return False
        return True


def _check_sound(name: str, state: _State, ctx: Ctx, path: str, mark: Mark) -> bool:
    if name in state.sounds:
        return True
    found = find_sound(name, state.stack[-1].parent, state.root, ctx, path, mark)
    if found is None:
        return False
    state.sounds[name] = found
    return True


def _check_ambience(
    setting: AmbienceSetting, state: _State, ctx: Ctx, path: str, mark: Mark
) -> AmbienceSetting | None:
    if setting.sound is None or setting.sound == OFF or setting.sound in BEDS:
        return setting
    found = find_bed_file(setting.sound, state.stack[-1].parent, state.root, ctx, path, mark)
    return None if found is None else replace(setting, path=found)


def _include(ref: str, state: _State, ctx: Ctx, path: str, mark: Mark) -> list[StepT]:
    here = state.stack[-1].parent
    target = (here / ref).resolve() if not Path(ref).is_absolute() else Path(ref).resolve()
    shipped = shipped_scripts_dir() / ref
    if not target.exists() and "/" not in ref and shipped.is_file():
        target = shipped.resolve()  # a bare name not found beside the routine: a shipped fragment
    if Path(ref).is_absolute() or not allowed(target, state.root):
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
    filename = display_path(target)
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
