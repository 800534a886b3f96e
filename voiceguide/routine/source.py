"""Read YAML safely and remember where every value was written.

PyYAML's SafeLoader does the parsing (no tags that build objects, no code). On top of it this
module adds what hand-written files need: positions for every key and item, duplicate keys as
errors (PyYAML silently keeps the last), no anchors/aliases (the classic "billion laughs" bomb),
and limits on size and nesting. Any failure becomes a :class:`~voiceguide.errors.Problem`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

if yaml.__with_libyaml__:
    from yaml._yaml import CParser

from voiceguide.errors import Problem, RoutineError

MAX_FILE_BYTES = 1_000_000  # a routine is prose and a few hundred steps; 1 MB is generous
MAX_DEPTH = 40  # nesting of YAML collections


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column in a source file."""

    line: int
    column: int


class LocatedDict(dict[str, Any]):
    """A mapping that knows where it and each of its keys and values were written."""

    mark: Mark
    key_marks: dict[str, Mark]
    value_marks: dict[str, Mark]

    def where(self, key: str) -> Mark:
        return self.value_marks.get(key, self.key_marks.get(key, self.mark))


class LocatedList(list[Any]):
    """A sequence that knows where it and each of its items were written."""

    mark: Mark
    item_marks: list[Mark]

    def where(self, index: int) -> Mark:
        return self.item_marks[index] if index < len(self.item_marks) else self.mark


def _mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _ComposeError(Exception):
    def __init__(self, mark: Mark, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message
        self.hint = hint


class _UseReference(Exception):
    """Raised on the fast path for input it leaves to the reference loader."""


class _Checks:
    """Composer hook shared by both loaders: refuse aliases and over-deep nesting."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        loader: Any = self
        if loader.check_event(yaml.AliasEvent):
            event = loader.peek_event()
            raise _ComposeError(
                Mark(event.start_mark.line + 1, event.start_mark.column + 1),
                "YAML aliases (*name) are not allowed in routines",
                "write the value out, or use `repeat:` or `include:` to reuse steps",
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = loader.peek_event()
                raise _ComposeError(
                    Mark(event.start_mark.line + 1, event.start_mark.column + 1),
                    f"nesting is deeper than {MAX_DEPTH} levels",
                    "flatten the structure; sections rarely need more than a few levels",
                )
            return Composer.compose_node(loader, parent, index)
        finally:
            self._depth -= 1


class _Loader(_Checks, yaml.SafeLoader):
    """PyYAML's pure-Python SafeLoader with the checks: the reference for every message."""


if yaml.__with_libyaml__:

    class _FastLoader(_Checks, CParser, Composer, SafeConstructor, Resolver):
        """libyaml scans and parses (several times faster than pure Python); composition,
        resolution and construction stay PyYAML's Python code, so values and marks are the
        same as :class:`_Loader`'s. Used for the happy path only: any failure is re-read with
        :class:`_Loader`, so every message is the reference loader's."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

        def compose_node(self, parent: Node | None, index: Any) -> Node | None:
            event = self.peek_event()
            if getattr(event, "tag", None) is not None:
                # Explicit tags are where the two parsers' events differ (a bare `!`); they are
                # rare in routines and mostly refused, so the reference loader handles them.
                raise _UseReference
            return super().compose_node(parent, index)

        # CParser's own (C) composer would bypass the checks: use PyYAML's.
        get_single_node = Composer.get_single_node
        compose_document = Composer.compose_document
        check_node = Composer.check_node
        get_node = Composer.get_node


_REFERENCE_ONLY = re.compile(r"[\t\ufeff]|(?:^|[\s\[{,])\?(?:\s|$)", re.MULTILINE)

_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp", "merge")
}


def _construct(loader: Any, node: Node) -> Any:
    """Build plain Python values from a node, recording marks and rejecting duplicate keys."""
    if node.tag not in _PLAIN_TAGS:
        raise _ComposeError(
            _mark(node),
            f"the tag {node.tag!r} is not allowed",
            "routines are plain data: remove the `!tag`",
        )
    if isinstance(node, MappingNode):
        result = LocatedDict()
        result.mark = _mark(node)
        result.key_marks = {}
        result.value_marks = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _ComposeError(
                    _mark(key_node),
                    "merge keys (<<) are not allowed in routines",
                    "write the keys out",
                )
            key = _construct(loader, key_node)
            if not isinstance(key, str):
                raise _ComposeError(
                    _mark(key_node),
                    f"keys must be text, not {type(key).__name__} ({key!r})",
                    "put the key in quotes if it is meant as text",
                )
            if key in result:
                first = result.key_marks[key]
                raise _ComposeError(
                    _mark(key_node),
                    f"duplicate key {key!r} (first written on line {first.line})",
                    "remove one of them; YAML would silently keep only the last",
                )
            result.key_marks[key] = _mark(key_node)
            result.value_marks[key] = _mark(value_node)
            result[key] = _construct(loader, value_node)
        return result
    if isinstance(node, SequenceNode):
        items = LocatedList()
        items.mark = _mark(node)
        items.item_marks = [_mark(n) for n in node.value]
        items.extend(_construct(loader, n) for n in node.value)
        return items
    assert isinstance(node, ScalarNode)
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value  # a date-looking string stays text
    if node.tag == "tag:yaml.org,2002:binary":
        raise _ComposeError(_mark(node), "binary values are not allowed in routines")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise _ComposeError(
            _mark(node),
            f"the tag {node.tag!r} is not allowed",
            "routines are plain data: remove the `!tag`",
        ) from exc


def _problem(filename: str, mark: Mark | None, message: str, hint: str = "") -> Problem:
    return Problem(filename, mark.line if mark else 0, mark.column if mark else 0, message, hint=hint)


def decode(data: bytes, filename: str) -> str:
    """UTF-8 text (a leading BOM is fine) or a positioned error."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise RoutineError(
            [
                Problem(
                    filename,
                    line,
                    column,
                    f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                    hint="save the file as UTF-8 in your editor",
                )
            ]
        ) from None


def read_source(path: Path, display: str | None = None) -> str:
    """The text of a routine file, with size and encoding checked."""
    filename = display or str(path)
    try:
        if path.is_dir():
            raise RoutineError([_problem(filename, None, "this is a folder, not a routine file")])
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise RoutineError(
                [
                    _problem(
                        filename,
                        None,
                        f"the file is {size:,} bytes; routines are limited to {MAX_FILE_BYTES:,}",
                        "split it into smaller files joined with `include:`",
                    )
                ]
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise RoutineError(
            [_problem(filename, None, "no such file", "check the path, or run `voiceguide list`")]
        ) from None
    except PermissionError:
        raise RoutineError([_problem(filename, None, "permission denied reading the file")]) from None
    except OSError as exc:
        raise RoutineError([_problem(filename, None, f"cannot read the file: {exc.strerror}")]) from None
    return decode(data, filename)


def parse(text: str, filename: str, *, fast: bool = True) -> Any:
    """Parse one YAML document into Located values, or raise RoutineError with its position.

    ``fast=False`` uses only the pure-Python reference loader (tests compare the two)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise RoutineError(
            [_problem(filename, None, f"the document is larger than {MAX_FILE_BYTES:,} bytes")]
        )
    # libyaml differs from PyYAML on tabs (it allows them as trailing space), a byte order mark
    # after the start and the marks of explicit `? key` entries: such text goes to the reference
    # loader, so its messages and positions still show.
    if fast and yaml.__with_libyaml__ and not _REFERENCE_ONLY.search(text):
        loader: Any = None
        try:
            loader = _FastLoader(text)
            node = loader.get_single_node()
            return None if node is None else _construct(loader, node)
        except Exception:  # re-read below, for the reference loader's message
            pass
        finally:
            if loader is not None:
                loader.dispose()
    return _parse_reference(text, filename)


def _indentation_hint(text: str, line: int) -> str:
    """The two usual causes of "mapping values are not allowed here", told apart: a key indented
    deeper than the line above it, or a `: ` inside plain text."""
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    above = next((s for s in reversed(lines[: line - 1]) if s.strip() and not s.lstrip().startswith("#")), "")
    indent = len(here) - len(here.lstrip(" "))
    key_col = len(above) - len(above.lstrip(" "))
    if above.lstrip().startswith("- "):
        key_col += 2
    if above and indent > key_col and not above.rstrip().endswith(":"):
        key = above.strip().lstrip("- ").split(":", 1)[0]
        return (
            f"line {line} is indented deeper than `{key}` on the line above: start it at column "
            f"{key_col + 1}, like its siblings"
        )
    return 'text that contains ": " must be quoted, like `say: "Note: breathe slowly."`'


def _parse_reference(text: str, filename: str) -> Any:
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        return _construct(loader, node)
    except _ComposeError as exc:
        raise RoutineError([_problem(filename, exc.mark, exc.message, exc.hint)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark else None
        message = (exc.problem or exc.context or "invalid YAML").strip()
        hint = "indent with spaces; YAML does not allow tabs" if "\\t" in message or "tab" in message else ""
        if "expected a single document" in str(exc.context or ""):
            message, hint = "the file holds more than one YAML document", "remove the `---` lines"
        elif "mapping values are not allowed" in message and where is not None:
            hint = _indentation_hint(text, where.line)
        raise RoutineError([_problem(filename, where, f"invalid YAML: {message}", hint)]) from None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        where = Mark(before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        raise RoutineError(
            [
                _problem(
                    filename,
                    where,
                    f"the character U+{exc.character:04X} is not allowed in YAML"
                    if isinstance(exc.character, int)
                    else "a character is not allowed in YAML",
                    "remove it; routines hold plain text",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise RoutineError([_problem(filename, None, f"invalid YAML: {exc}")]) from None
    except RecursionError:
        raise RoutineError([_problem(filename, None, "the document is nested too deeply")]) from None
    finally:
        if loader is not None:
            loader.dispose()
