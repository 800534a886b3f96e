"""The package layout is the pipeline: imports only ever point down the stages.

    routine → timeline (and bodymap) → audio → speech → pipeline → exporter / player / guide / authoring
    → doctor → cli

A lower stage importing a higher one (even inside a function, to dodge a cycle) fails here, as
does any import cycle between modules, so the layering stays true as the code grows.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "voiceguide"

# Lowest first. A module may import its own stage and any stage before it; the stages that share
# a rank are siblings and must not import each other.
STAGES: list[tuple[str, ...]] = [
    ("errors",),
    ("units",),
    ("hints", "versions", "lru", "soundinfo"),
    ("fileio",),
    ("routine",),
    ("timeline", "bodymap"),
    ("audio",),
    ("speech",),
    ("pipeline",),
    ("exporter", "player", "authoring", "guide"),
    ("doctor",),
    ("cli",),
    ("_helpcache",),  # keeps typer's help; given the command line's main, never imports it
    ("_entry",),
    ("__main__", "__init__"),
]
RANK = {name: rank for rank, names in enumerate(STAGES) for name in names}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every voiceguide module ``path`` imports, at the top or inside a function."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "voiceguide")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "voiceguide":
                continue
            for alias in node.names:  # `from voiceguide.speech import clips` names a module
                sub = f"{target}.{alias.name}"
                found.add(sub if _exists(sub) else target)
    return {m for m in found if m != "voiceguide"}


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


GRAPH = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_belongs_to_a_stage() -> None:
    assert {_stage(m) for m in GRAPH} <= set(RANK), "add the new module to STAGES in this test"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down_the_pipeline(module: str) -> None:
    here = _stage(module)
    upward = [
        target for target in sorted(GRAPH[module])
        if _stage(target) != here and RANK[_stage(target)] >= RANK[here]
    ]
    assert not upward, f"{module} ({here}) imports a later or sibling stage: {upward}"


def test_no_import_cycles() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH.get(node, ())):
            if nxt == node:
                continue
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_a_violation() -> None:
    """The walk itself must notice a lower stage reaching up, or the tests above prove nothing."""
    assert "voiceguide.routine.model" in GRAPH["voiceguide.timeline.compiler"]
    assert RANK["routine"] < RANK["timeline"] < RANK["audio"] < RANK["speech"] < RANK["cli"]
