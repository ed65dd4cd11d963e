"""Chart policy over the rendered manifests of every stage and region: zero-downtime rollouts, pod security,
and agreement with the Terraform the compute and data stacks synthesize (IRSA roles, target groups, ECR
repositories, queues)."""

from __future__ import annotations

import copy
import fnmatch
import importlib
import ipaddress
from collections.abc import Callable
from typing import Any

import pytest

from stacks.config import load_config
from stacks.workloads import (
    APP_PORT,
    DEREGISTRATION_DELAY_S,
    LIVENESS_PATH,
    NAMESPACE,
    PRESTOP_SLEEP_S,
    READINESS_PATH,
    SECRETS,
    WEB_SERVICES,
    WORKLOADS,
    irsa_role_name,
    secret_name,
)
from tests.charts.conftest import TARGETS, Docs, of_kind, pod_specs
from tests.charts.render import Target, terraform, terraform_data, terraform_outputs

WEB = {w.name for w in WEB_SERVICES}
BY_NAME = {w.name: w for w in WORKLOADS}
IDS = [f"{t.stage}-{t.role}" for t in TARGETS]


@pytest.fixture(params=TARGETS, ids=IDS)
def target(request: pytest.FixtureRequest) -> Target:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def docs(rendered: dict[Target, Docs], target: Target) -> Docs:
    return rendered[target]


def container(spec: dict[str, Any]) -> dict[str, Any]:
    (only,) = spec["containers"]
    return only  # type: ignore[no-any-return]


def web_deployments(docs: Docs) -> dict[str, dict[str, Any]]:
    return {n: d for n, d in of_kind(docs, "Deployment").items() if n in WEB}


def test_every_workload_and_only_those_is_deployed(docs: Docs) -> None:
    assert set(of_kind(docs, "Deployment")) == set(BY_NAME)
    assert set(of_kind(docs, "TargetGroupBinding")) == WEB
    assert set(of_kind(docs, "ScaledObject")) == {w.name for w in WORKLOADS if w.consumes}


def test_web_deployments_roll_without_dropping_capacity(docs: Docs) -> None:
    for name, deployment in web_deployments(docs).items():
        spec = deployment["spec"]
        assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, name
        assert "replicas" not in spec, f"{name}: the HPA owns the replica count"
        pod = spec["template"]["spec"]
        app = container(pod)
        port = {p["name"]: p["containerPort"] for p in app["ports"]}["http"]
        assert port == APP_PORT
        assert app["readinessProbe"]["httpGet"] == {"path": READINESS_PATH, "port": "http"}, name
        assert app["livenessProbe"]["httpGet"] == {"path": LIVENESS_PATH, "port": "http"}, name
        assert app["startupProbe"]["httpGet"]["path"] == LIVENESS_PATH, name
        assert app["lifecycle"]["preStop"]["sleep"]["seconds"] == PRESTOP_SLEEP_S, name
        zones = [c for c in pod["topologySpreadConstraints"] if c["topologyKey"] == "topology.kubernetes.io/zone"]
        assert zones and zones[0]["labelSelector"]["matchLabels"]["app.kubernetes.io/name"] == name
        assert {c["topologyKey"] for c in pod["topologySpreadConstraints"]} >= {"kubernetes.io/hostname"}


def test_grace_period_outlasts_draining_and_graceful_stop(docs: Docs) -> None:
    """preStop sleep, then the app's drain (readiness 503) and gunicorn's graceful stop must all end before
    Kubernetes kills the pod, and so must the ALB's deregistration delay."""
    gunicorn = importlib.import_module("apps.runtime.gunicorn_conf")
    configs = of_kind(docs, "ConfigMap")
    for name, deployment in web_deployments(docs).items():
        pod = deployment["spec"]["template"]["spec"]
        drain = float(configs[name]["data"][f"PEAKSHOP_{name.upper()}_DRAIN_S"])
        needed = PRESTOP_SLEEP_S + drain + gunicorn.graceful_timeout
        assert pod["terminationGracePeriodSeconds"] > needed, name
        assert pod["terminationGracePeriodSeconds"] > DEREGISTRATION_DELAY_S, name


def test_workers_get_time_to_finish_the_task_in_hand(docs: Docs) -> None:
    """SIGTERM is Celery's warm shutdown: the grace period must outlast the hard task time limit."""
    broker = {s.key: s for s in importlib.import_module("apps.workers.config").BROKER_SETTINGS}
    configs = of_kind(docs, "ConfigMap")
    for name, deployment in of_kind(docs, "Deployment").items():
        if name in WEB:
            continue
        key = f"PEAKSHOP_{name.upper().replace('-', '_')}_TASK_TIME_LIMIT_S"
        limit = int(configs[name]["data"].get(key, broker["TASK_TIME_LIMIT_S"].default))
        assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > limit, name


def test_disruption_budget_never_blocks_a_drain_at_the_hpa_minimum(docs: Docs, target: Target) -> None:
    budgets, autoscalers = of_kind(docs, "PodDisruptionBudget"), of_kind(docs, "HorizontalPodAutoscaler")
    assert set(budgets) == set(autoscalers) == WEB
    floor = 3 if target.stage == "prod" else 2
    for name in WEB:
        spec = budgets[name]["spec"]
        assert len({"minAvailable", "maxUnavailable"} & set(spec)) == 1, f"{name}: exactly one PDB field"
        hpa = autoscalers[name]["spec"]
        assert hpa["minReplicas"] >= floor, name
        assert spec["minAvailable"] < hpa["minReplicas"], name
        assert spec["selector"] == of_kind(docs, "Deployment")[name]["spec"]["selector"]
        kinds = {m["type"]: m for m in hpa["metrics"]}
        assert kinds["Resource"]["resource"]["name"] == "cpu"
        assert kinds["Pods"]["pods"]["metric"]["name"] == "peakshop_http_requests_per_second"


def test_every_pod_runs_restricted(docs: Docs) -> None:
    for name, pod in pod_specs(docs).items():
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] >= 10000, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod["automountServiceAccountToken"] is False, name
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True, name
            assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"], name
            assert set(c["resources"]["requests"]) == set(c["resources"]["limits"]) == {"cpu", "memory"}, name
            assert "@sha256:" in c["image"], f"{name}: images by digest only"
            assert not any("secretKeyRef" in e.get("valueFrom", {}) for e in c.get("env", [])), name
            assert not any("secretRef" in e for e in c.get("envFrom", [])), f"{name}: secrets as files"


SYSTEM_CLASS_FLOOR = 1_000_000_000  # user PriorityClasses may not exceed it; system-* classes are 2e9 and up


def priority_problems(docs: Docs, stage: str) -> list[str]:
    """Every way the rendered chart can break the priority split: web pods outrank the background tier
    (queue workers, outbox relay), which never preempts; no pod runs without a class except the pre-install
    migration Jobs, whose class would not exist yet on a first install (charts/README.md)."""
    web_class, background_class = f"peakshop-{stage}-web", f"peakshop-{stage}-background"
    classes = of_kind(docs, "PriorityClass")
    if set(classes) != {web_class, background_class}:
        return [f"PriorityClasses {sorted(classes)}, expected {background_class} and {web_class}"]
    problems = []
    for name, c in classes.items():
        if c["apiVersion"] != "scheduling.k8s.io/v1" or c.get("globalDefault") is not False:
            problems.append(f"{name}: scheduling.k8s.io/v1 and globalDefault false")
        if not 0 <= c["value"] <= SYSTEM_CLASS_FLOOR:
            problems.append(f"{name}: value {c['value']} outside 0..{SYSTEM_CLASS_FLOOR}")
        if "helm.sh/hook" in c["metadata"].get("annotations", {}):
            problems.append(f"{name}: a hook would be deleted and re-created under its pods on every upgrade")
        if not c.get("description"):
            problems.append(f"{name}: no description")
    web, background = classes[web_class], classes[background_class]
    if web["value"] <= background["value"]:
        problems.append(f"web {web['value']} does not outrank background {background['value']}")
    if background.get("preemptionPolicy") != "Never":
        problems.append(f"{background_class}: preempts ({background.get('preemptionPolicy')})")
    if web.get("preemptionPolicy", "PreemptLowerPriority") != "PreemptLowerPriority":
        problems.append(f"{web_class}: cannot preempt the background tier")
    pods = pod_specs(docs)
    for name in BY_NAME:
        wanted = web_class if name in WEB else background_class
        got = pods.get(f"Deployment/{name}", {}).get("priorityClassName")
        if got != wanted:
            problems.append(f"Deployment/{name}: priorityClassName {got}, expected {wanted}")
    for name, pod in pods.items():
        if "priority" in pod:
            problems.append(f"{name}: a raw priority bypasses the classes")
        if name.startswith("Job/") and "priorityClassName" in pod:
            problems.append(f"{name}: a pre-install hook cannot use a class the release has not created yet")
    return problems


def test_web_pods_outrank_the_background_tier(docs: Docs, target: Target) -> None:
    assert of_kind(docs, "Job"), "the migration Jobs' exemption is checked on real Jobs"
    assert priority_problems(docs, target.stage) == []


def _pod(docs: Docs, kind: str, name: str) -> dict[str, Any]:
    return of_kind(docs, kind)[name]["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def _priority_class(docs: Docs, tier: str) -> dict[str, Any]:
    return of_kind(docs, "PriorityClass")[f"peakshop-dev-{tier}"]


PRIORITY_BREAKS: dict[str, tuple[Callable[[Docs], object], str]] = {
    "equal values": (lambda d: _priority_class(d, "background").update(value=100000), "does not outrank"),
    "background preempts": (
        lambda d: _priority_class(d, "background").update(preemptionPolicy="PreemptLowerPriority"),
        "preempts",
    ),
    "global default": (lambda d: _priority_class(d, "web").update(globalDefault=True), "globalDefault"),
    "at system level": (lambda d: _priority_class(d, "web").update(value=2_000_000_000), "outside"),
    "relay at web priority": (
        lambda d: _pod(d, "Deployment", "outbox-relay").update(priorityClassName="peakshop-dev-web"),
        "Deployment/outbox-relay",
    ),
    "web pod without a class": (lambda d: _pod(d, "Deployment", "orders").pop("priorityClassName"), "orders"),
    "raw priority": (lambda d: _pod(d, "Deployment", "catalog").update(priority=5), "raw priority"),
    "hook Job with a class": (
        lambda d: _pod(d, "Job", "orders-migrate").update(priorityClassName="peakshop-dev-background"),
        "pre-install hook",
    ),
    "class missing": (lambda d: d.remove(_priority_class(d, "web")), "expected"),
}


@pytest.mark.parametrize("case", PRIORITY_BREAKS)
def test_the_priority_check_catches_each_break(rendered: dict[Target, Docs], case: str) -> None:
    docs = copy.deepcopy(rendered[Target("dev")])
    mutate, message = PRIORITY_BREAKS[case]
    mutate(docs)
    problems = priority_problems(docs, "dev")
    assert any(message in p for p in problems), problems


def test_service_accounts_assume_the_roles_the_compute_stack_creates(docs: Docs, target: Target) -> None:
    compute = f"{target.stage}-{target.role}-compute"
    roles = {r["name"]: r for r in terraform(compute)["aws_iam_role"].values()}
    trusts = terraform_data(compute)["aws_iam_policy_document"]
    accounts = of_kind(docs, "ServiceAccount")
    assert set(accounts) == set(BY_NAME)
    for name, account in accounts.items():
        arn = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        role = arn.split(":role/")[1]
        assert role == irsa_role_name(target.stage, target.role, name)
        assert role in roles, f"{name}: {role} is not created by {compute}"
        # The role trusts exactly this ServiceAccount (its trust document names namespace and account).
        trust = trusts[roles[role]["assume_role_policy"].split("aws_iam_policy_document.")[1].split(".")[0]]
        subjects = {
            v for s in trust["statement"] for c in s["condition"] if c["variable"].endswith(":sub") for v in c["values"]
        }
        assert subjects == {f"system:serviceaccount:{NAMESPACE}:{name}"}, name
        deployment = of_kind(docs, "Deployment")[name]
        assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == name


def test_target_group_bindings_point_at_the_services_target_groups(docs: Docs, target: Target) -> None:
    compute = f"{target.stage}-{target.role}-compute"
    groups = {g["name"]: g for g in terraform(compute)["aws_lb_target_group"].values()}
    assert set(terraform_outputs(compute)["target_group_arns"]) == WEB, "the output the pipeline passes on"
    services = of_kind(docs, "Service")
    for name, binding in of_kind(docs, "TargetGroupBinding").items():
        spec = binding["spec"]
        group = groups[spec["targetGroupARN"].split(":targetgroup/")[1].split("/")[0]]
        assert group["tags"]["service"] == name
        assert spec["targetType"] == group["target_type"] == "ip"
        assert spec["serviceRef"] == {"name": name, "port": group["port"]}
        assert services[name]["spec"]["ports"][0]["port"] == group["port"] == APP_PORT
        assert group["health_check"][0]["path"] == READINESS_PATH
    namespace = of_kind(docs, "Namespace")[NAMESPACE]
    assert namespace["metadata"]["labels"]["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"


def test_images_come_from_the_stage_repositories(docs: Docs, target: Target) -> None:
    repositories = {r["name"] for r in terraform(f"{target.stage}-primary-compute")["aws_ecr_repository"].values()}
    for name, pod in pod_specs(docs).items():
        image = container(pod)["image"]
        repository = image.split("/", 1)[1].split("@")[0]
        assert repository in repositories, f"{name}: {repository}"


def test_secrets_come_only_from_the_stage_and_the_workloads_declared_secrets(docs: Docs, target: Target) -> None:
    """Every remote key is one of the workload's own declared secrets (so its IRSA role may read it too) and
    every property is one the secret holds (stacks/workloads.py SECRETS, what `ops secrets init` writes)."""
    used: set[str] = set()
    for name, secret in of_kind(docs, "ExternalSecret").items():
        workload = BY_NAME[secret["metadata"]["labels"]["app.kubernetes.io/name"]]
        owned = {secret_name(target.stage, s): s for s in workload.secrets}
        for item in secret["spec"]["data"]:
            key, prop = item["remoteRef"]["key"], item["remoteRef"]["property"]
            assert key in owned, f"{name}: {key} is not among its declared secrets {sorted(owned)}"
            assert prop in SECRETS[owned[key]], f"{name}: {key} has no property {prop!r}"
            used.add(owned[key])
    # Only the payment provider's secret (no real provider yet) is declared without a chart reading it.
    assert set(SECRETS) - used == {"payments-provider"}


def test_the_secret_store_reads_only_what_the_external_secrets_role_may_read(docs: Docs, target: Target) -> None:
    """The SecretStore has no credentials of its own: ESO's controller role (compute stack) must cover every
    remote key, in the region the store names."""
    compute = f"{target.stage}-{target.role}-compute"
    role = next(r for r in terraform(compute)["aws_iam_role"].values() if r["name"].endswith("-external-secrets"))
    permissions = terraform_data(compute)["aws_iam_policy_document"]
    policy = next(p for n, p in permissions.items() if n.startswith("irsa-external-secrets_permissions"))
    patterns = [r.split(":secret:")[1] for s in policy["statement"] for r in s["resources"] if ":secret:" in r]
    regions = {r.split(":")[3] for s in policy["statement"] for r in s["resources"] if ":secret:" in r}
    store = of_kind(docs, "SecretStore")["peakshop-secrets-manager"]["spec"]["provider"]["aws"]
    assert "auth" not in store and role["name"] == f"peakshop-{target.stage}-{target.role[0]}-external-secrets"
    assert regions == {store["region"]} == {target.region}
    for name, secret in of_kind(docs, "ExternalSecret").items():
        for item in secret["spec"]["data"]:
            key = item["remoteRef"]["key"]
            assert any(fnmatch.fnmatchcase(key, p) for p in patterns), f"{name}: {key} outside {patterns}"


def test_workers_scale_on_their_own_queue(docs: Docs, target: Target) -> None:
    queues = {q["name"] for q in terraform(f"{target.stage}-{target.role}-data")["aws_sqs_queue"].values()}
    prefix = f"peakshop-{target.stage}-{target.role[0]}"
    for name, scaled in of_kind(docs, "ScaledObject").items():
        (trigger,) = scaled["spec"]["triggers"]
        assert trigger["type"] == "aws-sqs-queue"
        queue = trigger["metadata"]["queueURL"].rsplit("/", 1)[1]
        assert queue == f"{prefix}-{BY_NAME[name].consumes[0]}" and queue in queues
        assert scaled["spec"]["scaleTargetRef"]["name"] == name
        assert scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]
    relay = of_kind(docs, "Deployment")["outbox-relay"]["spec"]
    assert relay["replicas"] == 1 and relay["strategy"]["type"] == "Recreate"


def cidrs(peers: list[dict[str, Any]]) -> set[str]:
    return {p["ipBlock"]["cidr"] for p in peers if "ipBlock" in p}


def test_network_policies_allow_only_the_architectures_paths(docs: Docs, target: Target) -> None:
    tiers = load_config({}).stages[target.stage].region(target.role).subnet_cidrs()
    policies = of_kind(docs, "NetworkPolicy")
    assert policies["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for name, workload in BY_NAME.items():
        spec = policies[name]["spec"]
        assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == name
        if name in WEB:
            alb = [r for r in spec["ingress"] if cidrs(r["from"])]
            assert [cidrs(r["from"]) for r in alb] == [set(tiers["public"])], f"{name}: only the ALB subnets"
            assert all(p["port"] == APP_PORT for r in spec["ingress"] for p in r["ports"])
        for rule in spec["egress"]:
            ports = {p["port"] for p in rule["ports"]}
            if ports & {3306, 6379}:
                assert cidrs(rule["to"]) == set(tiers["isolated"]), f"{name}: data only in the data subnets"
            for block in cidrs(rule["to"]):
                if block == "0.0.0.0/0":
                    assert ports == {443}, f"{name}: only HTTPS leaves the VPC"
        outside = [r for r in spec["egress"] if "0.0.0.0/0" in cidrs(r["to"])]
        if outside:
            (rule,) = outside
            vpc = ipaddress.ip_network(load_config({}).stages[target.stage].region(target.role).vpc_cidr)
            assert any(vpc.subnet_of(ipaddress.ip_network(e)) for e in rule["to"][0]["ipBlock"]["except"])
            assert (
                workload.bucket_prefixes
                or "payments-provider" in workload.secrets
                or name
                in {
                    "payments",
                    "notifications-worker",
                    "orders-worker",
                }
            ), f"{name}: no reason to reach outside the VPC"
    cart_out = {
        p["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        for r in policies["cart"]["spec"]["egress"]
        for p in r["to"]
        if "podSelector" in p and "namespaceSelector" not in p
    }
    assert cart_out == {"catalog"}
    catalog_in = [r for r in policies["catalog"]["spec"]["ingress"] if any("podSelector" in p for p in r["from"])]
    assert [p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in catalog_in[0]["from"]] == ["cart"]


def test_migrations_run_before_the_release_with_their_own_secret(docs: Docs) -> None:
    jobs = of_kind(docs, "Job")
    policy = of_kind(docs, "NetworkPolicy")["migrations"]["spec"]
    assert {p for r in policy["egress"] for p in (x["port"] for x in r["ports"])} == {53, 3306}
    owners = {n.removesuffix("-migrate") for n in jobs}
    assert owners and owners <= set(BY_NAME)
    store = of_kind(docs, "SecretStore")["peakshop-secrets-manager"]
    store_weight = int(store["metadata"]["annotations"]["helm.sh/hook-weight"])
    secrets = of_kind(docs, "ExternalSecret")
    for name, job in jobs.items():
        hooks = job["metadata"]["annotations"]
        assert hooks["helm.sh/hook"] == "pre-install,pre-upgrade"
        secret = secrets[name]["metadata"]["annotations"]
        assert secret["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert store_weight < int(secret["helm.sh/hook-weight"]) < int(hooks["helm.sh/hook-weight"])
        pod = job["spec"]["template"]["spec"]
        labels = job["spec"]["template"]["metadata"]["labels"]
        assert all(labels.get(k) == v for k, v in policy["podSelector"]["matchLabels"].items()), name
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["secrets"]["secret"]["secretName"] == name
        for hooked in ("rds-ca", "entrypoint"):
            config_map = of_kind(docs, "ConfigMap")[volumes[hooked]["configMap"]["name"]]
            assert "helm.sh/hook" in config_map["metadata"].get("annotations", {}), f"{name}: {hooked}"
