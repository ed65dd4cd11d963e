"""Request validators with component references inlined must judge exactly as the document's own references."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from apps.runtime.validation import SchemaValidators, _inlined

DOCS = sorted(Path(__file__).resolve().parents[2].glob("*/openapi.yaml"))
VALUES: list[Any] = [None, True, 0, 1, 7, -1, 2**63, 1.5, "", "EUR", "a@b.c", "tok_approve", "4242", "x" * 300, [], {}]


def instance(schema: dict[str, Any], rng: random.Random, depth: int = 0) -> Any:
    """A random instance shaped like `schema` (often invalid somewhere, which is the point)."""
    if depth > 4 or rng.random() < 0.1:
        return rng.choice(VALUES)
    for combinator in ("allOf", "anyOf", "oneOf"):
        if combinator in schema:
            return instance(rng.choice(schema[combinator]), rng, depth + 1)
    if "enum" in schema and rng.random() < 0.7:
        return rng.choice(schema["enum"])
    kind = schema.get("type")
    kind = rng.choice(kind) if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        chosen = [k for k in props if k in schema.get("required", []) or rng.random() < 0.5]
        out = {k: instance(props[k], rng, depth + 1) for k in chosen if rng.random() < 0.95}
        if rng.random() < 0.1:
            out["unexpected"] = 1
        return out
    if kind == "array":
        return [instance(schema.get("items", {}), rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return rng.choice(VALUES)


@pytest.mark.parametrize("doc_path", DOCS, ids=lambda p: p.parent.name)
def test_inlined_validators_report_the_same_errors_as_resolved_references(doc_path: Path):
    doc = yaml.safe_load(doc_path.read_text())
    validators = SchemaValidators(doc)
    schemas = doc.get("components", {}).get("schemas", {})
    assert schemas
    rng = random.Random(doc_path.parent.name)
    for name, schema in schemas.items():
        fast, reference = validators.validator(name), validators.resolving_validator(name)
        shape = _inlined(schema, schemas, frozenset({name}))
        for _ in range(150):
            data = instance(shape, rng)
            got = sorted((list(e.absolute_path), e.message) for e in fast.iter_errors(data))
            want = sorted((list(e.absolute_path), e.message) for e in reference.iter_errors(data))
            assert got == want, (name, data)


def test_references_that_cannot_be_inlined_are_resolved_as_written():
    doc = {
        "components": {
            "schemas": {
                "Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}},
                "Leaf": {"$ref": "#/components/schemas/Node", "required": ["next"]},
                "Base": {"type": "object", "properties": {"name": {"type": "string"}}},
                "Named": {"$ref": "#/components/schemas/Base", "required": ["name"]},
            }
        }
    }
    validators = SchemaValidators(doc)
    assert not validators.validator("Node").is_valid({"next": {"next": 3}})  # recursive: the registry resolves it
    assert validators.validator("Node").is_valid({"next": {"next": {}}})
    assert not validators.validator("Leaf").is_valid({})  # a sibling of $ref still applies
    named = validators.validator("Named")  # inlined: the sibling is kept next to the target with allOf
    assert named.schema == {"allOf": [doc["components"]["schemas"]["Base"], {"required": ["name"]}]}
    assert not named.is_valid({}) and not named.is_valid({"name": 1}) and named.is_valid({"name": "x"})
