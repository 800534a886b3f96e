"""What a step kind declares, and the two small interfaces it is given to do its work.

A kind is one module: its dataclass, the schema of its keys, how it loads (through
:class:`Loading`, which the loader implements) and the operations it plans (through
:class:`Planning`, which :mod:`voiceguide.routine.plan` implements). Neither side imports the
other, so the language can grow by one module and one registry line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from voiceguide.routine.ambience import AmbienceSetting
from voiceguide.routine.catalogue import Catalogue
from voiceguide.routine.model import Defaults, Origin, StepT
from voiceguide.routine.ops import Op
from voiceguide.routine.schema import Ctx, Key, Node
from voiceguide.routine.source import LocatedDict, Mark


@dataclass(frozen=True)
class Item:
    """One step as written: the raw mapping, its checked keys, and where it stands."""

    raw: LocatedDict
    checked: dict[str, Any]
    ctx: Ctx
    path: str  # e.g. steps[3]
    mark: Mark  # the step's own position
    where: Mark  # the position of the kind key's value
    title: str
    origin: Origin


class Loading(Protocol):
    """What a kind may ask of the loader while it loads one step."""

    @property
    def catalogue(self) -> Catalogue: ...

    @property
    def defaults(self) -> Defaults: ...

    def check_sound(self, name: str, ctx: Ctx, path: str, mark: Mark) -> bool:
        """Find a sound by name and record its file; one clear problem if it is unusable."""
        ...

    def check_ambience(
        self, setting: AmbienceSetting, ctx: Ctx, path: str, mark: Mark
    ) -> AmbienceSetting | None:
        """The setting with its file found (same rules as sounds); None after one clear problem."""
        ...

    def steps(self, value: Any, ctx: Ctx, path: str, mark: Mark) -> tuple[StepT, ...]:
        """Load nested steps (a section's or a repeat's)."""
        ...

    def include(self, ref: str, ctx: Ctx, path: str, mark: Mark) -> list[StepT]:
        """The steps of another routine file, with its cautions, phrases and points."""
        ...

    def expand(self, inner: tuple[StepT, ...], times: int, ctx: Ctx, path: str, mark: Mark) -> bool:
        """Count ``inner`` repeated ``times`` against the step limit; False (and a problem) past it."""
        ...


class Planning(Protocol):
    """What a kind may ask while it plans one step."""

    @property
    def phrases(self) -> Mapping[str, str]: ...

    @property
    def caution_texts(self) -> Mapping[str, str]: ...

    def first_time(self, code: str) -> bool:
        """True the first time a point is planned in a session (its cautions are spoken once)."""
        ...

    def ops(self, step: StepT) -> list[Op]:
        """The operations of a nested step."""
        ...


@dataclass(frozen=True)
class StepKind:
    """One kind of step in the routine language."""

    name: str  # the key that names the kind in YAML
    model: type
    node: Node  # the kind key's own value
    load: Callable[[Item, Loading], list[StepT]]
    plan: Callable[[Any, Planning], list[Op]]
    # A step's title in `show`, the player, split files and chapters, in the session's language.
    title: Callable[[Any, Mapping[str, str]], str]
    keys: Mapping[str, Key] = field(default_factory=dict)  # the other keys it accepts
    children: Callable[[Any], tuple[StepT, ...]] = lambda step: ()
    leaves: Callable[[Any, Callable[[tuple[StepT, ...]], int]], int] = lambda step, count: 1
    # The kind key's value is checked by `load` itself rather than by its node (breathe takes
    # a string or a mapping, with its own messages).
    checks_own_value: bool = False
    expands: bool = False  # include: replaced by the steps it brings, never a step of its own


def nested(item: Item, loading: Loading) -> tuple[StepT, ...]:
    """The steps under a section's or a repeat's ``steps:`` (empty when missing or invalid: the
    schema check has reported it)."""
    if "steps" not in item.raw:
        return ()
    return loading.steps(item.raw["steps"], item.ctx, f"{item.path}.steps", item.raw.where("steps"))


def short(text: str, limit: int = 48) -> str:
    """A sentence cut to a title."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
