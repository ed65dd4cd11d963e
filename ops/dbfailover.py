"""`failover db`: an RDS reboot with forced failover, i.e. the Multi-AZ standby becomes the writer in its AZ
(the writer endpoint's DNS follows). Refuses a single-AZ instance, where it would only be a reboot."""

from __future__ import annotations

from typing import Any

from ops import database
from ops.aws import Aws
from ops.names import RegionNames
from ops.runbook import Planned, Precondition, Runbook, StepFailed, check_first, run_plan, wait_until


def failover_db(aws: Aws, region: RegionNames, book: Runbook, timeout: float, poll: float) -> None:
    rds = aws.client("rds", region.region)
    identifier = region.db_writer

    def check() -> dict[str, Any]:
        instance = database.describe(rds, identifier)
        if instance is None:
            raise Precondition(f"no DB instance {identifier} in {region.region}")
        if not instance.get("MultiAZ"):
            raise Precondition(
                f"{identifier} is not Multi-AZ: a forced failover needs a standby (without one it is only a reboot"
                " with downtime). Enable Multi-AZ first (aws rds modify-db-instance --multi-az)."
            )
        if instance.get("DBInstanceStatus") != "available":
            raise Precondition(f"{identifier} is {instance.get('DBInstanceStatus')}, not available; wait and retry")
        return {"before": database.summary(instance)}

    def reboot() -> dict[str, Any]:
        rds.reboot_db_instance(DBInstanceIdentifier=identifier, ForceFailover=True)
        return {"force_failover": True}

    def wait() -> dict[str, Any]:
        def ready() -> tuple[bool, dict[str, Any]]:
            instance = database.describe(rds, identifier)
            if instance is None:
                raise StepFailed(f"{identifier} disappeared")
            return instance.get("DBInstanceStatus") == "available", database.summary(instance)

        return {"after": wait_until(ready, f"{identifier} available", timeout, poll)}

    again = "Read the instance's events (aws rds describe-events) and re-run if needed."
    plan = [
        Planned("reboot-with-failover", f"rds:RebootDBInstance {identifier} ForceFailover=true", reboot, again),
        Planned("wait-available", f"poll until {identifier} is available", wait, again),
    ]
    if not check_first(book, "check-writer", f"rds:DescribeDBInstances {identifier}", check):
        return
    if run_plan(book, plan) and not book.dry_run:
        book.result["writer"] = book.steps[-1].detail["after"]
        book.next_actions.append("Check the application's error rate for the failover window (10-60 s of resets).")
