"""Rendered manifests validate against the Kubernetes schemas of the cluster's version and the vendored CRD
schemas, and the validation is strict enough that a misspelt field fails."""

from __future__ import annotations

import copy
from pathlib import Path

import kubernetes_validate
import pytest

from tests.charts.conftest import TARGETS, Docs, of_kind
from tests.charts.render import RenderError, Target, eks_version, render
from tests.charts.validate import CRD_SCHEMAS, validate_documents


@pytest.mark.parametrize("target", TARGETS, ids=[f"{t.stage}-{t.role}" for t in TARGETS])
def test_rendered_manifests_are_valid(rendered: dict[Target, Docs], target: Target) -> None:
    docs = rendered[target]
    assert validate_documents(docs, eks_version(target.stage)) == []
    assert {(d["apiVersion"], d["kind"]) for d in docs} >= set(CRD_SCHEMAS), "every vendored CRD schema is used"


@pytest.fixture(scope="module")
def dev(rendered: dict[Target, Docs]) -> Docs:
    return rendered[Target("dev")]


def mutated(docs: Docs, kind: str, name: str) -> dict:
    return copy.deepcopy(of_kind(docs, kind)[name])


def test_a_misspelt_crd_field_fails(dev: Docs) -> None:
    binding = mutated(dev, "TargetGroupBinding", "catalog")
    binding["spec"]["targetGroupArn"] = binding["spec"].pop("targetGroupARN")
    problems = [str(p) for p in validate_documents([binding], "1.34")]
    assert any("targetGroupArn" in p for p in problems) and any("targetGroupARN" in p for p in problems)


def test_a_wrong_enum_in_a_crd_fails(dev: Docs) -> None:
    secret = mutated(dev, "ExternalSecret", "catalog")
    secret["spec"]["target"]["creationPolicy"] = "Owned"
    scaled = mutated(dev, "ScaledObject", "orders-worker")
    del scaled["spec"]["triggers"][0]["type"]
    problems = [str(p) for p in validate_documents([secret, scaled], "1.34")]
    assert len(problems) == 2 and "Owned" in problems[0] and "'type' is a required property" in problems[1]


def test_a_misspelt_kubernetes_field_fails(dev: Docs) -> None:
    deployment = mutated(dev, "Deployment", "catalog")
    app = deployment["spec"]["template"]["spec"]["containers"][0]
    app["readinessProbes"] = app.pop("readinessProbe")
    priority = mutated(dev, "PriorityClass", "peakshop-dev-background")
    priority["preemptionpolicy"] = priority.pop("preemptionPolicy")
    problems = [str(p) for p in validate_documents([deployment, priority], "1.34")]
    assert len(problems) == 2 and "readinessProbes" in problems[0] and "preemptionpolicy" in problems[1]


def test_the_cached_validator_agrees_with_kubernetes_validate(dev: Docs) -> None:
    """validate.py builds kubernetes-validate's schemas once; the library's own entry point must agree."""
    deployment = mutated(dev, "Deployment", "catalog")
    assert kubernetes_validate.validate(deployment, "1.34", strict=True) == "1.34"
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinessProbes"):
        kubernetes_validate.validate(deployment, "1.34", strict=True)
    assert validate_documents([deployment], "1.34")


def test_an_unknown_kind_is_an_error_not_a_pass() -> None:
    doc = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    (problem,) = validate_documents([doc], "1.34")
    assert "no schema" in str(problem)


def test_a_misspelt_value_fails_rendering(workdir: Path) -> None:
    with pytest.raises(RenderError, match="autoscalling"):
        render(Target("dev"), workdir, ("--set", "web.autoscalling.minReplicas=3"))
    with pytest.raises(RenderError, match="minReplicas"):
        render(Target("prod"), workdir, ("--set", "web.autoscaling.minReplicas=1"))


def test_priority_values_are_checked_before_anything_is_rendered(workdir: Path) -> None:
    """A class the API server would reject (system-level value, unknown policy) or a tier with no class fails
    `helm template`, not the deploy."""
    with pytest.raises(RenderError, match="/priorityClasses/web/value"):
        render(Target("dev"), workdir, ("--set", "priorityClasses.web.value=2000000000"))
    with pytest.raises(RenderError, match="preemptionPolicy"):
        render(Target("dev"), workdir, ("--set", "priorityClasses.background.preemptionPolicy=Nevr"))
    with pytest.raises(RenderError, match='priorityClass "batch" is not a key of priorityClasses'):
        render(Target("dev"), workdir, ("--set", "worker.priorityClass=batch"))
