"""Schema validation of rendered manifests without a cluster.

Built-in kinds are checked with kubernetes-validate (bundled, strict Kubernetes JSON schemas) at the EKS
version the compute stack creates; custom resources against the schemas vendored in charts/schemas/. A kind
with no schema is an error, not a pass. `python -m tests.charts.validate` checks reports/charts/<stage>.yaml
for every stage (`make charts`).
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import major_minor, schema_contents
from referencing import Registry, Resource

from stacks.config import STAGE_NAMES
from tests.charts.render import CHARTS, REPORTS, ROOT, RenderError, eks_version

SCHEMAS = CHARTS / "schemas"
CRD_SCHEMAS = {
    ("elbv2.k8s.aws/v1beta1", "TargetGroupBinding"): "targetgroupbinding-elbv2-v1beta1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject-keda-v1alpha1.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "triggerauthentication-keda-v1alpha1.json",
    ("external-secrets.io/v1", "ExternalSecret"): "externalsecret-external-secrets-v1.json",
    ("external-secrets.io/v1", "SecretStore"): "secretstore-external-secrets-v1.json",
}


@dataclass(frozen=True)
class Problem:
    resource: str
    message: str

    def __str__(self) -> str:
        return f"{self.resource}: {self.message}"


@cache
def crd_validator(filename: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / filename).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _bundled_directory(kubernetes_version: str) -> tuple[str, str]:
    """kubernetes-validate's strict schema directory for exactly this minor version (no silent fallback)."""
    version = major_minor(kubernetes_version)
    bundled = [v for v in kubernetes_validate.utils.all_versions() if major_minor(v) == version]
    if not bundled:
        raise kubernetes_validate.VersionNotSupportedError(version)
    return version, f"kubernetes-json-schema/v{bundled[-1]}-local-strict"


@cache
def _definitions(kubernetes_version: str) -> Resource:
    version, directory = _bundled_directory(kubernetes_version)
    return Resource.from_contents(schema_contents(f"{directory}/_definitions.json", version))


@cache
def kubernetes_validator(kubernetes_version: str, kind: str, api_version: str) -> jsonschema.Draft202012Validator:
    """kubernetes-validate's own strict schema for one kind, built once: its `validate()` re-reads the
    multi-megabyte definitions file for every document. tests/charts/test_schemas.py checks both agree."""
    version, directory = _bundled_directory(kubernetes_version)
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)  # rbac.authorization.k8s.io/v1 -> rbac-v1
    try:
        schema = schema_contents(f"{directory}/{kind.lower()}-{group}.json", version)
    except FileNotFoundError:
        raise kubernetes_validate.SchemaNotFoundError(kind, version, api_version) from None
    registry = _definitions(kubernetes_version) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def resource_name(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind', '?')}/{doc.get('metadata', {}).get('name', '?')}"


def validate_document(doc: dict[str, Any], kubernetes_version: str) -> list[Problem]:
    name = resource_name(doc)
    key = (doc.get("apiVersion", ""), doc.get("kind", ""))
    if key in CRD_SCHEMAS:
        validator = crd_validator(CRD_SCHEMAS[key])
        return [
            Problem(name, f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}")
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
        ]
    try:
        validator = kubernetes_validator(kubernetes_version, key[1], key[0])
    except kubernetes_validate.SchemaNotFoundError:
        return [Problem(name, f"no schema for {key[0]} {key[1]} (Kubernetes {kubernetes_version} or charts/schemas)")]
    return [
        Problem(name, f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}")
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]


def validate_documents(docs: list[dict[str, Any]], kubernetes_version: str) -> list[Problem]:
    return [problem for doc in docs for problem in validate_document(doc, kubernetes_version)]


def main(argv: list[str] | None = None) -> int:
    failed = False
    for stage in STAGE_NAMES:
        path = REPORTS / f"{stage}.yaml"
        try:
            version = eks_version(stage)
        except RenderError as exc:
            print(f"validate: {exc}", file=sys.stderr)
            return 2
        if not path.is_file():
            print(f"validate: {path.relative_to(ROOT)} is missing: run `make charts`", file=sys.stderr)
            return 2
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        problems = validate_documents(docs, version)
        crds = sum(1 for d in docs if (d["apiVersion"], d["kind"]) in CRD_SCHEMAS)
        kinds = Counter(d["kind"] for d in docs)
        print(
            f"validate: {stage}: {len(docs) - len(problems)}/{len(docs)} manifests valid "
            f"(Kubernetes {version} strict schemas: {len(docs) - crds}, CRD schemas: {crds}; {len(kinds)} kinds)"
        )
        for problem in problems:
            print(f"  INVALID {problem}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
