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


@dataclass(frozen=True)
class Workload:
    name: str
    kind: Kind
    consumes: tuple[str, ...] = ()  # SQS queues it receives from
    produces: tuple[str, ...] = ()  # SQS queues it sends to
    bucket_prefixes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # bucket -> key prefixes (rw)
    secrets: tuple[str, ...] = ()  # Secrets Manager secrets it reads, by short name

    @property
    def api_path(self) -> str:
        return f"/api/{self.name}"


WORKLOADS: tuple[Workload, ...] = (
    Workload("catalog", "web", bucket_prefixes={"media": ("products/",)}, secrets=("db", "redis", "catalog-admin")),
    Workload("cart", "web", secrets=("db", "redis")),
    Workload("accounts", "web", produces=("privacy",), secrets=("db", "redis", "accounts-keys")),
    Workload("orders", "web", produces=("orders",), secrets=("db", "redis")),
    Workload("payments", "web", secrets=("db", "payments-provider")),
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
        secrets=("db", "redis", "accounts-keys"),
    ),
)

WEB_SERVICES: tuple[Workload, ...] = tuple(w for w in WORKLOADS if w.kind == "web")


def irsa_role_name(stage: str, role: str, workload: str) -> str:
    """IAM role name for a workload's ServiceAccount; the charts derive the same ARN."""
    return f"peakshop-{stage}-{role[0]}-{workload}"
