"""The fast YAML path (libyaml) reads files as the reference pure-Python loader does.

Routines are parsed with libyaml when PyYAML has it, because it is several times faster; the
pure-Python SafeLoader stays the reference for every message. For a valid file a user must not be
able to tell which one ran: the same values and the same line and column for every key and item;
a broken file gets the reference loader's message.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceguide.errors import RoutineError
from voiceguide.routine import source as yamlsource

REPO = Path(__file__).resolve().parent.parent
FILES = sorted(
    [*REPO.glob("scripts/*.yaml"), REPO / "voiceguide/routine/data/points.yaml",
     *(Path(__file__).parent / "nasty").glob("*.yaml"), *REPO.glob("tests/data/**/*.yaml")]
)
ALPHABET = string.printable + "äé€😀\u2028\u2029\x85\r\ufeff\x00\x07:-[]{}&*!|>'\"#%@`?,"
TRICKY = {
    "unicode columns": "title: Ünïcode 😀\nsteps:\n  - say: 'é' \n  - {say: ok, x: [1, 2]}\n",
    "block scalars": "a: |\n  line one\n  line two\nb: >-\n  folded\n  text\nc: plain\n",
    "flow in flow": "steps: [{say: a}, {pause: 2s}, [x, {y: z}]]\n",
    "duplicate key": "title: a\nsteps: []\ntitle: b\n",
    "alias": "a: &x [1]\nb: *x\n",
    "bad indent": "a:\n  b: 1\n c: 2\n",
    "tab": "a:\n\tb: 1\n",
    "control char": "a: b\x07c\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "unclosed quote": "a: 'open\n",
    "tag": "a: !!python/name:os.system x\n",
    "bom": "\ufeffa: 1\n",
    "empty": "",
    "comment only": "# nothing here\n",
}


def _outcome(text: str, *, fast: bool) -> Any:
    """Values with their marks, or the error a user would see."""
    try:
        return _with_marks(yamlsource.parse(text, "f.yaml", fast=fast))
    except RoutineError as exc:
        return ("error", [p.format() for p in exc.problems])


def _with_marks(value: Any) -> Any:
    if isinstance(value, yamlsource.LocatedDict):
        return ("map", value.mark, value.key_marks, value.value_marks,
                {k: _with_marks(v) for k, v in value.items()})
    if isinstance(value, yamlsource.LocatedList):
        return ("seq", value.mark, value.item_marks, [_with_marks(v) for v in value])
    return (type(value).__name__, value)


def _same(text: str) -> None:
    """Whatever the reference loader reads, the fast path reads identically; whatever the fast
    path cannot read gets the reference loader's own message. (libyaml accepts a few oddities
    PyYAML's scanner refuses, such as `>#`; those may load, as with any libyaml-backed tool.)"""
    reference, fast = _outcome(text, fast=False), _outcome(text, fast=True)
    if reference[0] != "error" or fast[0] == "error":
        assert fast == reference


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="this PyYAML has no libyaml: one loader only")
def test_fast_path_is_in_use() -> None:
    loader = yamlsource._FastLoader("a: 1\n")
    try:
        assert loader.get_single_node() is not None
    finally:
        loader.dispose()


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_shipped_and_corpus_files_read_the_same(path: Path) -> None:
    _same(path.read_bytes().decode("utf-8", "replace"))


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_tricky_documents_read_the_same(name: str) -> None:
    _same(TRICKY[name])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=200))
def test_random_text_reads_the_same(text: str) -> None:
    _same(text)


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                     st.text(max_size=40))
_data = st.recursive(_scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=12), kids, max_size=4)),
    max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(_data, st.sampled_from([None, True, False]), st.sampled_from([None, "'", '"', "|", ">"]),
       st.integers(min_value=20, max_value=120))
def test_written_data_reads_the_same(data: Any, flow: bool | None, style: str | None,
                                     width: int) -> None:
    """Documents as editors and yaml.dump write them, in every style, read identically."""
    text = yaml.safe_dump(data, default_flow_style=flow, default_style=style, width=width,
                          allow_unicode=True)
    _same(text)
