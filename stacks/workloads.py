"""The workloads Peakshop runs on EKS: the one list that the compute stack (target groups, IRSA roles),
the observability stack (alarms) and the Helm charts (values, TargetGroupBindings) are all checked
against. Does not import cdktf."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["web", "worker"]

APP_PORT = 8000
READINESS_PATH = "/readyz"
LIVENESS_PATH = "/healthz"
NAMESPACE = "peakshop"

# Pod shutdown vs. load balancer draining: the one place the target groups (stacks/compute.py) and the charts
# (preStop hook, terminationGracePeriodSeconds) take these from. On shutdown the pod first sleeps in preStop
# while the controller deregisters it, then keeps finishing in-flight requests; the ALB stops routing to it
# after the deregistration delay, which must end before Kubernetes kills the pod.
PRESTOP_SLEEP_S = 10
TERMINATION_GRACE_PERIOD_S = 45  # counts from the start of preStop
DEREGISTRATION_DELAY_S = 30
# Kubernetes counts the grace period from the start of preStop, so draining must end inside the grace period
# (which also keeps it shorter than preStop + grace).
if max(PRESTOP_SLEEP_S, DEREGISTRATION_DELAY_S) >= TERMINATION_GRACE_PERIOD_S:  # pragma: no cover - edit-time guard
    raise ValueError("the ALB must finish draining a pod before Kubernetes kills it")
# Target group health checks on the readiness path.
HEALTH_CHECK_INTERVAL_S = 10
HEALTH_CHECK_TIMEOUT_S = 5
HEALTHY_THRESHOLD = 2
UNHEALTHY_THRESHOLD = 3
# The service whose readiness stands for "this region can serve": Route 53 health checks call /readyz on
# each region's ALB and the ALB forwards that one path (without the origin header) to this service.
REGION_HEALTH_SERVICE = "catalog"

QUEUES: tuple[str, ...] = ("orders", "notifications", "media", "privacy")
BUCKETS: tuple[str, ...] = ("media", "storefront", "logs", "backups")

# Application secrets in Secrets Manager (`peakshop/<stage>/<name>`, JSON objects): name -> the properties
# the charts read. The data stack creates exactly these (without a value), `python -m ops secrets init`
# generates the values, IRSA roles may read a workload's own ones. payments-provider holds the payment
# provider's credentials, issued by the provider, so nothing generates it (the fake provider reads none).
SECRETS_PREFIX = "peakshop"  # charts values app.secretsPrefix
SECRETS: dict[str, tuple[str, ...]] = {
    "db": ("username", "password"),
    "catalog-admin": ("token",),
    "orders-admin": ("token",),
    "accounts-keys": ("signing_key", "pii_keys", "blind_index_key"),
    "payments-provider": (),
}


def secret_name(stage: str, name: str) -> str:
    """The Secrets Manager name of an application secret; the charts' ExternalSecrets use the same."""
    return f"{SECRETS_PREFIX}/{stage}/{name}"


@dataclass(frozen=True)
class Workload:
    name: str
    kind: Kind
    consumes: tuple[str, ...] = ()  # SQS queues it receives from
    produces: tuple[str, ...] = ()  # SQS queues it sends to
    bucket_prefixes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # bucket -> key prefixes (rw)
    secrets: tuple[str, ...] = ()  # Secrets Manager secrets it reads, by short name (keys of SECRETS)
    redis: bool = False  # connects to ElastiCache as the app user (IAM authentication: no secret)

    @property
    def api_path(self) -> str:
        return f"/api/{self.name}"


WORKLOADS: tuple[Workload, ...] = (
    Workload("catalog", "web", bucket_prefixes={"media": ("products/",)}, secrets=("db", "catalog-admin"), redis=True),
    Workload("cart", "web", secrets=("db",), redis=True),
    Workload("accounts", "web", produces=("privacy",), secrets=("db", "accounts-keys"), redis=True),
    Workload("orders", "web", produces=("orders",), secrets=("db", "orders-admin"), redis=True),
    Workload("payments", "web", secrets=("db", "payments-provider"), redis=True),
    Workload("outbox-relay", "worker", produces=("orders", "notifications"), secrets=("db",)),
    Workload(
        "orders-worker",
        "worker",
        consumes=("orders",),
        produces=("notifications",),
        secrets=("db", "payments-provider"),
    ),
    Workload("notifications-worker", "worker", consumes=("notifications",), secrets=("db",)),
    Workload("media-worker", "worker", consumes=("media",), bucket_prefixes={"media": ("products/", "thumbnails/")}),
    Workload(
        "privacy-worker",
        "worker",
        consumes=("privacy",),
        produces=("notifications",),
        secrets=("db", "accounts-keys"),
        redis=True,
    ),
)
# Every secret a workload reads is declared, and every declared one is read by some workload.
if {s for w in WORKLOADS for s in w.secrets} != set(SECRETS):  # pragma: no cover - edit-time guard
    raise ValueError("Workload.secrets and SECRETS must name the same secrets")

WEB_SERVICES: tuple[Workload, ...] = tuple(w for w in WORKLOADS if w.kind == "web")


def irsa_role_name(stage: str, role: str, workload: str) -> str:
    """IAM role name for a workload's ServiceAccount; the charts derive the same ARN."""
    return f"peakshop-{stage}-{role[0]}-{workload}"
