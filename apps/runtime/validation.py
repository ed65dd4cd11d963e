"""Request validation against the service's own OpenAPI document, so the contract and the checks are one
artefact. Strings are also screened for content JSON Schema cannot express (lone surrogates, control
characters), which would otherwise fail deep inside the database driver as a 500."""

from __future__ import annotations

import re
from typing import Any

from flask import request
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from apps.runtime.problems import Problem

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


_COMPONENT = "#/components/schemas/"


class _Unresolvable(Exception):
    pass


def _inlined(node: Any, schemas: dict[str, Any], chain: frozenset[str]) -> Any:
    """`node` with every component `$ref` replaced by the schema it names (kept alongside any sibling keywords
    with allOf). Resolving references through the registry costs more than validating the body itself."""
    if isinstance(node, list):
        return [_inlined(item, schemas, chain) for item in node]
    if not isinstance(node, dict):
        return node
    rest = {key: _inlined(value, schemas, chain) for key, value in node.items() if key != "$ref"}
    if "$ref" not in node:
        return rest
    ref = node["$ref"]
    name = ref[len(_COMPONENT) :] if isinstance(ref, str) and ref.startswith(_COMPONENT) else None
    if name is None or name in chain or name not in schemas:
        raise _Unresolvable(ref)  # another kind of reference, or a recursive schema
    target = _inlined(schemas[name], schemas, chain | {name})
    return {"allOf": [target, rest]} if rest else target


class SchemaValidators:
    def __init__(self, openapi_doc: dict[str, Any]) -> None:
        resource = Resource.from_contents(openapi_doc, default_specification=DRAFT202012)
        self._registry: Registry = Registry().with_resource("urn:openapi", resource)
        self._cache: dict[str, Draft202012Validator] = {}
        self._schemas: dict[str, Any] = openapi_doc.get("components", {}).get("schemas", {})

    def validator(self, schema_name: str) -> Draft202012Validator:
        if schema_name not in self._schemas:
            raise KeyError(f"no components.schemas.{schema_name} in the OpenAPI document")
        if schema_name not in self._cache:
            try:
                schema = _inlined(self._schemas[schema_name], self._schemas, frozenset({schema_name}))
                self._cache[schema_name] = Draft202012Validator(schema)
            except _Unresolvable:
                self._cache[schema_name] = self.resolving_validator(schema_name)
        return self._cache[schema_name]

    def resolving_validator(self, schema_name: str) -> Draft202012Validator:
        """The schema validated as written, references resolved through the document (the reference semantics)."""
        ref = {"$ref": f"urn:openapi{_COMPONENT}{schema_name}"}
        return Draft202012Validator(ref, registry=self._registry)

    def validate(self, schema_name: str, data: Any) -> Any:
        errors = sorted(self.validator(schema_name).iter_errors(data), key=lambda e: list(e.absolute_path))
        problems = [{"pointer": _pointer(e.absolute_path), "detail": e.message[:200]} for e in errors]
        problems += list(_bad_strings(data, ""))
        if problems:
            raise Problem(
                422,
                "Validation failed",
                "the request body does not match the schema",
                "validation",
                errors=problems[:20],
            )
        return data


def _pointer(path: Any) -> str:
    return "/" + "/".join(str(p) for p in path) if path else ""


def _bad_strings(value: Any, pointer: str) -> Any:
    if isinstance(value, str):
        if _SURROGATE.search(value):
            yield {"pointer": pointer, "detail": "contains an unpaired surrogate (not valid Unicode)"}
        elif _CONTROL.search(value):
            yield {"pointer": pointer, "detail": "contains control characters"}
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _bad_strings(k, pointer)
            yield from _bad_strings(v, f"{pointer}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _bad_strings(v, f"{pointer}/{i}")


def json_body() -> Any:
    """The parsed JSON body, or a 415/400 problem (nothing else in the handler runs)."""
    if not request.is_json:
        raise Problem(415, "Unsupported Media Type", "send the body as application/json", "unsupported-media-type")
    data = request.get_json(silent=True)
    if data is None:
        raise Problem(400, "Malformed JSON", "the request body is not valid JSON", "malformed-json")
    return data


def int_arg(name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"-?\d{1,18}", raw):
        raise Problem(400, "Invalid parameter", f"{name} must be an integer", "invalid-parameter", parameter=name)
    value = int(raw)
    if not lo <= value <= hi:
        raise Problem(
            400, "Invalid parameter", f"{name} must be between {lo} and {hi}", "invalid-parameter", parameter=name
        )
    return value


def str_arg(name: str, max_len: int, allowed: tuple[str, ...] | None = None) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > max_len or _CONTROL.search(raw) or _SURROGATE.search(raw):
        raise Problem(
            400,
            "Invalid parameter",
            f"{name} is too long or has invalid characters",
            "invalid-parameter",
            parameter=name,
        )
    if allowed is not None and raw not in allowed:
        raise Problem(
            400, "Invalid parameter", f"{name} must be one of {', '.join(allowed)}", "invalid-parameter", parameter=name
        )
    return raw
