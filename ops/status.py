"""`status`: per region, the writer and reader endpoints, replica lag (CloudWatch ReplicaLag, last 5 minutes)
and queue depths; anything missing or unreadable is listed under `problems` (exit 1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ops import database
from ops.aws import AWS_ERRORS, Aws, describe_error
from ops.names import RegionNames, StageNames
from ops.queues import depth, queue_url

LAG_WINDOW = dt.timedelta(minutes=5)
LAG_PERIOD = dt.timedelta(minutes=1)


def replica_lag(aws: Aws, region: RegionNames, identifier: str) -> float | None:
    """Newest ReplicaLag datapoint in seconds; None when CloudWatch has none yet."""
    now = dt.datetime.now(dt.UTC)
    points = aws.client("cloudwatch", region.region).get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName="ReplicaLag",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": identifier}],
        StartTime=now - LAG_WINDOW,
        # one period past now: the bound is exclusive and may be truncated to the second (moto does; CI saw a
        # datapoint written in the same second go missing), and the newest period is still filling anyway
        EndTime=now + LAG_PERIOD,
        Period=int(LAG_PERIOD.total_seconds()),
        Statistics=["Maximum"],
    )["Datapoints"]
    if not points:
        return None
    return float(max(points, key=lambda p: p["Timestamp"])["Maximum"])


def region_status(aws: Aws, names: StageNames, region: RegionNames, problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"region": region.region}
    try:
        rds = aws.client("rds", region.region)
        writer = database.describe(rds, region.db_writer)
        if writer is None:
            problems.append(f"{region.role}: no DB instance {region.db_writer}")
        out["writer"] = database.summary(writer) if writer else None
        readers = []
        pages = rds.get_paginator("describe_db_instances").paginate()
        for page in pages:
            for instance in page["DBInstances"]:
                if instance["DBInstanceIdentifier"].startswith(f"{region.db_writer}-read-"):
                    reader = database.summary(instance)
                    reader["replica_lag_s"] = replica_lag(aws, region, instance["DBInstanceIdentifier"])
                    readers.append(reader)
        out["readers"] = readers
        if writer is not None and database.is_replica(writer):
            out["writer"]["replica_lag_s"] = replica_lag(aws, region, region.db_writer)
    except AWS_ERRORS as exc:
        problems.append(f"{region.role}: database: {describe_error(exc)}")
    queues: dict[str, Any] = {}
    try:
        sqs = aws.client("sqs", region.region)
        for name in names.queues:
            for label, qname in ((name, region.queue(name)), (f"{name}-dlq", region.dlq(name))):
                url = queue_url(sqs, qname)
                if url is None:
                    problems.append(f"{region.role}: queue {qname} missing")
                    queues[label] = None
                    continue
                queues[label] = depth(sqs, url)
                if label.endswith("-dlq") and queues[label]["visible"]:
                    problems.append(f"{region.role}: {qname} holds {queues[label]['visible']} dead letters")
    except AWS_ERRORS as exc:
        problems.append(f"{region.role}: queues: {describe_error(exc)}")
    out["queues"] = queues
    return out


def status(aws: Aws, names: StageNames, roles: list[str]) -> dict[str, Any]:
    problems: list[str] = []
    regions = {role: region_status(aws, names, names.region(role), problems) for role in roles}  # type: ignore[arg-type]
    return {"command": "status", "stage": names.stage, "regions": regions, "problems": problems}
