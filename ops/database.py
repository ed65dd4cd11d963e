"""RDS helpers shared by the runbooks: describe one instance (None if absent) and tell a replica from a writer."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

SOURCE_FIELD = "ReadReplicaSourceDBInstanceIdentifier"


def describe(rds: Any, identifier: str) -> dict[str, Any] | None:
    try:
        return dict(rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "DBInstanceNotFound":
            return None
        raise


def is_replica(instance: dict[str, Any]) -> bool:
    return bool(instance.get(SOURCE_FIELD))


def replicating(instance: dict[str, Any]) -> bool:
    """RDS lists a 'read replication' status while the instance applies its source's changes; promotion ends it."""
    return any(info.get("StatusType") == "read replication" for info in instance.get("StatusInfos") or [])


def summary(instance: dict[str, Any]) -> dict[str, Any]:
    endpoint = instance.get("Endpoint") or {}
    return {
        "identifier": instance["DBInstanceIdentifier"],
        "status": instance.get("DBInstanceStatus"),
        "endpoint": f"{endpoint.get('Address')}:{endpoint.get('Port')}" if endpoint else None,
        "replica_of": instance.get(SOURCE_FIELD),
        "multi_az": instance.get("MultiAZ"),
        "availability_zone": instance.get("AvailabilityZone"),
        "secondary_availability_zone": instance.get("SecondaryAvailabilityZone"),
    }
