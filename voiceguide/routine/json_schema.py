"""The routine language as a JSON Schema, for editors (``voiceguide schema``).

Generated from the same declarations the loader checks against (the top-level keys in
:mod:`voiceguide.routine.schema`, each step kind's own table), so the two cannot disagree.
"""

from __future__ import annotations

from typing import Any

from voiceguide.routine.schema import COMMON_STEP_KEYS, DURATION_JSON, TOP, Key, Obj
from voiceguide.routine.steps import KINDS


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) for routine files, generated from the declarations above."""
    step_variants = []
    for name, kind in KINDS.items():
        keys = {name: Key(kind.node, required=True), **kind.keys, **COMMON_STEP_KEYS}
        step_variants.append(Obj(keys, f"A `{name}` step.").json())
    schema = TOP.json()
    schema["properties"]["points"] = {
        "type": "object",
        "description": "Points to add to the catalogue or override, keyed by code.",
        "additionalProperties": {
            "type": "object",
            "properties": {
                "names": {"type": "array", "items": {"type": "string"}},
                "pinyin": {"type": "string"},
                "aliases": {"type": "array", "items": {"type": "string"}},
                "sides": {"enum": ["bilateral", "midline"]},
                "location": {"type": "string"},
                "technique": {"type": "string"},
                "hold": DURATION_JSON,
                "cautions": {"type": "array", "items": {"type": "string"}},
                "notes": {"type": "string"},
            },
            "additionalProperties": False,
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:voiceguide:routine",
        "title": "voiceguide routine",
        **{k: v for k, v in schema.items()},
        "$defs": {
            "steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
            "step": {"oneOf": step_variants},
        },
    }
