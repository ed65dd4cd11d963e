"""Regional failover and failback, the same steps as the Step Functions runbook (stacks/failover.py) run
from an operator's shell: promote the cross-region replica, wait until it is writable, make it Multi-AZ,
scale the standby node groups and cache to the primary's size, invert the primary's Route 53 health check so the
failover records answer with the secondary, verify. Every step is idempotent, so a run that stopped
midway is finished by running the same command again."""

from __future__ import annotations

from typing import Any

from ops import database
from ops.aws import Aws
from ops.names import StageNames
from ops.runbook import Planned, Precondition, Runbook, StepFailed, check_first, run_plan, wait_until

NODE_GROUPS = ("app",)  # the system group has the same size in both regions


def find_health_check(aws: Aws, names: StageNames, role: str) -> str:
    """A region's /readyz health check, by the Name tag the edge stack gives it."""
    route53 = aws.client("route53", names.primary.region)
    wanted = names.health_check_tag(role)  # type: ignore[arg-type]
    ids: list[str] = []
    for page in route53.get_paginator("list_health_checks").paginate():
        ids += [hc["Id"] for hc in page["HealthChecks"]]
    for start in range(0, len(ids), 10):
        tags = route53.list_tags_for_resources(ResourceType="healthcheck", ResourceIds=ids[start : start + 10])
        for tag_set in tags["ResourceTagSets"]:
            if any(t["Key"] == "Name" and t["Value"] == wanted for t in tag_set.get("Tags", [])):
                return str(tag_set["ResourceId"])
    raise StepFailed(f"no Route 53 health check tagged Name={wanted}")


class RegionRunbooks:
    def __init__(self, aws: Aws, names: StageNames, book: Runbook, timeout: float, poll: float) -> None:
        self.aws, self.names, self.book, self.timeout, self.poll = aws, names, book, timeout, poll
        self.primary, self.secondary = names.primary, names.secondary

    # ------------------------------------------------------------------------------------------ building blocks
    def rds(self, region: str) -> Any:
        return self.aws.client("rds", region)

    def promote(self, region: str, identifier: str) -> dict[str, Any]:
        rds = self.rds(region)
        instance = database.describe(rds, identifier)
        if instance is None:
            raise StepFailed(f"{identifier} not found in {region}")
        if not database.is_replica(instance):
            return {"skipped": "already a standalone writer"}
        rds.promote_read_replica(
            DBInstanceIdentifier=identifier, BackupRetentionPeriod=self.names.config.sizes.db_backup_retention_days
        )
        return {"promoted": identifier}

    def wait_writable(self, region: str, identifier: str) -> dict[str, Any]:
        rds = self.rds(region)

        def check() -> tuple[bool, dict[str, Any]]:
            instance = database.describe(rds, identifier)
            if instance is None:
                return False, {"identifier": identifier, "status": "missing"}
            ok = instance.get("DBInstanceStatus") == "available" and not database.replicating(instance)
            return ok, database.summary(instance)

        return {"writer": wait_until(check, f"{identifier} writable", self.timeout, self.poll)}

    def multi_az(self, region: str, identifier: str) -> dict[str, Any]:
        self.rds(region).modify_db_instance(DBInstanceIdentifier=identifier, MultiAZ=True, ApplyImmediately=True)
        return {"multi_az": True}

    def scale(self, size_of: str) -> dict[str, Any]:
        """Set the secondary app node group to the size configured for `size_of` (primary: full size)."""
        eks = self.aws.client("eks", self.secondary.region)
        size = self.names.app_nodes(size_of)  # type: ignore[arg-type]
        target = {"minSize": size.min_size, "desiredSize": size.desired_size, "maxSize": size.max_size}
        scaled = {}
        for group in NODE_GROUPS:
            name = self.secondary.node_group(group)
            current = eks.describe_nodegroup(clusterName=self.secondary.cluster, nodegroupName=name)["nodegroup"]
            if current.get("scalingConfig") != target:
                eks.update_nodegroup_config(
                    clusterName=self.secondary.cluster, nodegroupName=name, scalingConfig=target
                )
            scaled[name] = target
        return {"node_groups": scaled}

    def standby_cache_node_type(self) -> str:
        elasticache = self.aws.client("elasticache", self.secondary.region)
        (group,) = elasticache.describe_replication_groups(ReplicationGroupId=self.secondary.redis_group)[
            "ReplicationGroups"
        ]
        return str(group["CacheNodeType"])

    def scale_cache(self, size_of: str) -> dict[str, Any]:
        """Move the secondary Redis group to the node type configured for `size_of` (online: it keeps serving)."""
        group = self.secondary.redis_group
        target = self.names.cache_node_type(size_of)  # type: ignore[arg-type]
        if self.standby_cache_node_type() == target:
            return {"cache": group, "node_type": target, "skipped": "already that size"}
        self.aws.client("elasticache", self.secondary.region).modify_replication_group(
            ReplicationGroupId=group, CacheNodeType=target, ApplyImmediately=True
        )
        return {"cache": group, "node_type": target}

    def set_primary_inverted(self, inverted: bool) -> dict[str, Any]:
        check_id = find_health_check(self.aws, self.names, "primary")
        self.aws.client("route53", self.primary.region).update_health_check(HealthCheckId=check_id, Inverted=inverted)
        return {"health_check": check_id, "inverted": inverted}

    def primary_inverted(self) -> bool:
        check_id = find_health_check(self.aws, self.names, "primary")
        route53 = self.aws.client("route53", self.primary.region)
        config = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
        return bool(config.get("Inverted"))

    def require_writer(self, region: str, identifier: str) -> dict[str, Any]:
        instance = database.describe(self.rds(region), identifier)
        if instance is None or instance.get("DBInstanceStatus") != "available" or database.replicating(instance):
            seen = database.summary(instance) if instance else "missing"
            raise StepFailed(f"{identifier} is not an available writer: {seen}")
        return database.summary(instance)

    # ---------------------------------------------------------------------------------------------- failover
    def failover(self) -> None:
        s, names = self.secondary, self.names

        def check_replica() -> dict[str, Any]:
            instance = database.describe(self.rds(s.region), s.db_writer)
            if instance is None:
                raise Precondition(
                    f"replica missing: no DB instance {s.db_writer} in {s.region}, so there is nothing to promote."
                    " Restore the newest copy in the secondary backup vault instead (AWS Backup restore job)."
                )
            return {"standby": database.summary(instance), "already_promoted": not database.is_replica(instance)}

        def verify() -> dict[str, Any]:
            writer = self.require_writer(s.region, s.db_writer)
            nodes = self.aws.client("eks", s.region)
            want = names.app_nodes("primary").desired_size
            groups = {}
            for group in NODE_GROUPS:
                ng = nodes.describe_nodegroup(clusterName=s.cluster, nodegroupName=s.node_group(group))["nodegroup"]
                desired = ng["scalingConfig"]["desiredSize"]
                if desired < want:
                    raise StepFailed(f"{s.node_group(group)} desired size {desired} < {want}")
                groups[s.node_group(group)] = ng["scalingConfig"]
            cache = self.standby_cache_node_type()
            if cache != names.cache_node_type("primary"):
                raise StepFailed(f"{s.redis_group} runs {cache}, not {names.cache_node_type('primary')}")
            if not self.primary_inverted():
                raise StepFailed("the primary health check is not inverted: DNS still answers with the primary")
            return {"writer": writer, "node_groups": groups, "cache": cache, "dns": "secondary"}

        if not check_first(self.book, "check-replica", f"rds:DescribeDBInstances {s.db_writer}", check_replica):
            return
        plan = [
            Planned(
                "promote-replica",
                f"rds:PromoteReadReplica {s.db_writer} ({s.region})",
                lambda: self.promote(s.region, s.db_writer),
                "Promotion did not start: read the replica's events (aws rds describe-events) and re-run.",
            ),
            Planned(
                "wait-writable",
                f"poll rds:DescribeDBInstances until {s.db_writer} is available and no longer replicating",
                lambda: self.wait_writable(s.region, s.db_writer),
                "Promotion is still running or stuck: watch aws rds describe-events; re-run to continue.",
            ),
            Planned(
                "enable-multi-az",
                f"rds:ModifyDBInstance {s.db_writer} MultiAZ=true",
                lambda: self.multi_az(s.region, s.db_writer),
                "The writer already takes writes; Multi-AZ only adds its standby. Re-run later.",
            ),
            Planned(
                "scale-node-groups",
                f"eks:UpdateNodegroupConfig {s.cluster}/{s.node_group('app')} to the primary's size",
                lambda: self.scale("primary"),
                f"Scale {s.node_group('app')} by hand (aws eks update-nodegroup-config) or re-run.",
            ),
            Planned(
                "scale-cache",
                f"elasticache:ModifyReplicationGroup {s.redis_group} to {names.cache_node_type('primary')}",
                lambda: self.scale_cache("primary"),
                "The standby cache serves at its small size (more misses reach the writer): re-run.",
            ),
            Planned(
                "flip-dns",
                f"route53:UpdateHealthCheck {names.health_check_tag('primary')} Inverted=true",
                lambda: self.set_primary_inverted(True),
                "DNS still sends users to the primary: invert its health check by hand or re-run.",
            ),
            Planned("verify", "writer writable, node groups and cache at size, DNS on the secondary", verify, ""),
        ]
        if run_plan(self.book, plan) and not self.book.dry_run:
            self.book.result["writer"] = self.book.steps[-1].detail["writer"]
            self.book.next_actions += [
                f"Writes now go to {s.db_writer} in {s.region}; keep the old primary writer out of traffic.",
                f"Once {self.primary.region} is healthy: `python -m ops failback --stage {names.stage}`.",
                f"Until failback, deploy {s.region} only with PEAKSHOP_CONFIG setting stages.{names.stage}.sizes."
                f"secondary_cache_node_type to {names.cache_node_type('primary')}: the stacks declare the standby size"
                " and a deploy would scale the serving cache back down.",
            ]

    # ---------------------------------------------------------------------------------------------- failback
    def failback(self, cutover: bool) -> None:
        """Phase 1 re-establishes replication (a primary-region replica of the promoted secondary writer);
        phase 2 (--cutover, in a maintenance window) promotes it and moves DNS and capacity back."""
        p, s, names = self.primary, self.secondary, self.names
        replica = names.failback_replica

        def check() -> dict[str, Any]:
            writer = database.describe(self.rds(s.region), s.db_writer)
            # RDS drops the source field once promoted; DNS on the secondary shows the failover finished.
            promoted = writer is not None and not database.replicating(writer)
            if not promoted or (database.is_replica(writer) and not self.primary_inverted()):
                raise Precondition(
                    f"{s.db_writer} in {s.region} is not the promoted writer: there was no regional failover to undo"
                )
            old = database.describe(self.rds(p.region), p.db_writer)
            return {"writer": database.summary(writer), "old_primary": database.summary(old) if old else None}

        def create_replica() -> dict[str, Any]:
            rds = self.rds(p.region)
            if database.describe(rds, replica) is not None:
                return {"skipped": f"{replica} exists"}
            source = database.describe(self.rds(s.region), s.db_writer)
            if source is None:
                raise StepFailed(f"{s.db_writer} disappeared from {s.region}")
            rds.create_db_instance_read_replica(
                DBInstanceIdentifier=replica,
                SourceDBInstanceIdentifier=source["DBInstanceArn"],
                SourceRegion=s.region,
                KmsKeyId=f"alias/{p.prefix}-rds",
                DBInstanceClass=source.get("DBInstanceClass", names.config.sizes.db_instance_class),
                MultiAZ=False,
            )
            return {"replica": replica, "source": source["DBInstanceArn"]}

        def wait_replica() -> dict[str, Any]:
            rds = self.rds(p.region)

            def ready() -> tuple[bool, dict[str, Any]]:
                instance = database.describe(rds, replica)
                if instance is None:
                    return False, {"identifier": replica, "status": "missing"}
                return instance.get("DBInstanceStatus") == "available", database.summary(instance)

            return {"replica": wait_until(ready, f"{replica} available", self.timeout, self.poll)}

        if not check_first(self.book, "check-promoted-writer", f"rds:DescribeDBInstances {s.db_writer}", check):
            return
        plan = [
            Planned(
                "create-replica",
                f"rds:CreateDBInstanceReadReplica {replica} ({p.region}) from {s.db_writer}",
                create_replica,
                f"Check the KMS key alias/{p.prefix}-rds and the RDS quota in {p.region}, then re-run.",
            ),
            Planned(
                "wait-replica",
                f"poll until {replica} is available",
                wait_replica,
                "The replica is still being built (large databases take hours); re-run to keep waiting.",
            ),
        ]
        if cutover:
            plan += [
                Planned(
                    "promote-replica",
                    f"rds:PromoteReadReplica {replica}",
                    lambda: self.promote(p.region, replica),
                    "Writes still go to the secondary, which is fine; re-run the cutover.",
                ),
                Planned(
                    "wait-writable",
                    f"poll until {replica} is writable",
                    lambda: self.wait_writable(p.region, replica),
                    "Promotion is still running; re-run to continue.",
                ),
                Planned(
                    "enable-multi-az",
                    f"rds:ModifyDBInstance {replica} MultiAZ=true",
                    lambda: self.multi_az(p.region, replica),
                    "Re-run; Multi-AZ only adds the standby.",
                ),
                Planned(
                    "restore-dns",
                    f"route53:UpdateHealthCheck {names.health_check_tag('primary')} Inverted=false",
                    lambda: self.set_primary_inverted(False),
                    "DNS still answers with the secondary (which works): fix and re-run.",
                ),
                Planned(
                    "scale-down-standby",
                    f"eks:UpdateNodegroupConfig {s.node_group('app')} back to the standby size",
                    lambda: self.scale("secondary"),
                    "The standby keeps its full size (costs, no harm): scale it by hand or re-run.",
                ),
                Planned(
                    "scale-down-standby-cache",
                    f"elasticache:ModifyReplicationGroup {s.redis_group} back to the standby node type",
                    lambda: self.scale_cache("secondary"),
                    "The standby cache keeps its full size (costs, no harm): re-run.",
                ),
            ]
        if not run_plan(self.book, plan) or self.book.dry_run:
            return
        if not cutover:
            self.book.next_actions += [
                f"Replication {s.db_writer} -> {replica} is running. In a maintenance window, once ReplicaLag is"
                f" ~0: `python -m ops failback --stage {names.stage} --cutover`.",
            ]
            return
        self.book.result["writer"] = next(x.detail["writer"] for x in self.book.steps if x.name == "wait-writable")
        self.book.next_actions += [
            f"Stop writes to {s.db_writer} (it is no longer the writer) before traffic shifts back.",
            f"Retire the diverged old primary {p.db_writer} (final snapshot, delete), then rename {replica} to"
            f" {p.db_writer} (aws rds modify-db-instance --new-db-instance-identifier) so the stacks' names hold.",
            f"Rebuild the standby: `cdktf deploy {names.stage}-secondary-data` re-creates {s.db_writer} as the"
            " cross-region replica.",
        ]
