"""`failover region` and `failback` end to end against moto's server, including the failure paths."""

from __future__ import annotations

from tests.ops.conftest import World
from tests.ops.throttle_proxy import ThrottleProxy

FAST = ("--stage", "dev", "--poll", "0.1", "--timeout", "20")
FAILOVER = ("failover", "region", "--to", "secondary", *FAST)
STEPS = [
    "promote-replica",
    "wait-writable",
    "enable-multi-az",
    "scale-node-groups",
    "scale-cache",
    "flip-dns",
    "verify",
]


def app_scaling(world: World) -> dict[str, int]:
    s = world.names.secondary
    eks = world.client("eks", "secondary")
    group = eks.describe_nodegroup(clusterName=s.cluster, nodegroupName=s.node_group("app"))
    return dict(group["nodegroup"]["scalingConfig"])


def standby(world: World) -> dict:
    rds = world.client("rds", "secondary")
    return dict(rds.describe_db_instances(DBInstanceIdentifier=world.names.secondary.db_writer)["DBInstances"][0])


def test_failover_promotes_scales_and_moves_dns(world: World) -> None:
    checks = world.warm_standby()
    result = world.ops(*FAILOVER)
    assert result.code == 0, result.report
    assert result.report["outcome"] == "succeeded"
    assert result.statuses() == {"check-replica": "done", **dict.fromkeys(STEPS, "done")}
    assert result.report["result"]["writer"]["identifier"] == "peakshop-dev-s-db"
    assert standby(world)["MultiAZ"] is True
    full = world.names.app_nodes("primary")
    assert app_scaling(world) == {"minSize": full.min_size, "desiredSize": full.desired_size, "maxSize": full.max_size}
    assert world.names.cache_node_type("secondary") != world.names.cache_node_type("primary")
    assert world.cache_node_type() == world.names.cache_node_type("primary")
    assert world.inverted(checks["primary"]) and not world.inverted(checks["secondary"])
    assert any("failback" in action for action in result.report["next_actions"])
    assert any("secondary_cache_node_type to cache.t4g.small" in a for a in result.report["next_actions"])


def test_dry_run_checks_but_changes_nothing(world: World) -> None:
    checks = world.warm_standby()
    before = app_scaling(world)
    result = world.ops(*FAILOVER, "--dry-run")
    assert result.code == 0, result.report
    assert result.report["outcome"] == "planned"
    assert result.statuses() == {"check-replica": "done", **dict.fromkeys(STEPS, "planned")}
    assert app_scaling(world) == before
    assert world.cache_node_type() == world.names.cache_node_type("secondary")
    assert not world.inverted(checks["primary"])
    assert standby(world)["MultiAZ"] is False


def test_missing_replica_stops_before_any_change(world: World) -> None:
    world.primary_writer()
    world.standby_nodes()
    checks = world.health_checks()
    before = app_scaling(world)
    result = world.ops(*FAILOVER)
    assert result.code == 1
    assert result.report["outcome"] == "failed"
    assert result.statuses() == {"check-replica": "failed"}
    assert "replica missing" in result.step("check-replica")["error"]
    assert result.report["next_actions"][0].startswith("Nothing was changed")
    assert app_scaling(world) == before and not world.inverted(checks["primary"])


def test_step_failing_midway_reports_what_was_done_and_rerun_finishes(world: World) -> None:
    world.cross_region_replica(world.primary_writer())
    checks = world.health_checks()  # no standby node group: the scaling step fails
    result = world.ops(*FAILOVER)
    assert result.code == 1
    assert result.statuses() == {
        "check-replica": "done",
        "promote-replica": "done",
        "wait-writable": "done",
        "enable-multi-az": "done",
        "scale-node-groups": "failed",
        "scale-cache": "not-run",
        "flip-dns": "not-run",
        "verify": "not-run",
    }
    assert "ResourceNotFoundException" in result.step("scale-node-groups")["error"]
    first, second = result.report["next_actions"][:2]
    assert "Already changed: promote-replica, wait-writable, enable-multi-az" in first
    assert "Scale peakshop-dev-s-app by hand" in second
    assert not world.inverted(checks["primary"])  # DNS untouched: users still go to the primary

    world.standby_nodes()
    world.standby_cache()
    rerun = world.ops(*FAILOVER)
    assert rerun.code == 0, rerun.report
    assert world.inverted(checks["primary"])


def test_throttled_promotion_is_retried(world: World, proxy: ThrottleProxy) -> None:
    world.warm_standby()
    proxy.throttle("PromoteReadReplica", 2)
    result = world.ops(*FAILOVER, endpoint=proxy.url, max_attempts=3)
    assert result.code == 0, result.report
    assert proxy.throttled["PromoteReadReplica"] == 2
    assert proxy.seen["PromoteReadReplica"] == 3


def test_persistent_throttling_fails_the_step_with_a_report(world: World, proxy: ThrottleProxy) -> None:
    checks = world.warm_standby()
    proxy.throttle("ModifyDBInstance", 100)
    result = world.ops(*FAILOVER, endpoint=proxy.url, max_attempts=2)
    assert result.code == 1
    assert result.step("promote-replica")["status"] == "done"
    error = result.step("enable-multi-az")["error"]
    assert error.startswith("Throttling: Rate exceeded") and "gave up after 2 attempts" in error
    assert proxy.seen["ModifyDBInstance"] == 2
    assert result.step("flip-dns")["status"] == "not-run"
    assert not world.inverted(checks["primary"])


def test_failback_replicates_then_cuts_over(world: World) -> None:
    checks = world.warm_standby()
    assert world.ops(*FAILOVER).code == 0
    prepare = world.ops("failback", *FAST)
    assert prepare.code == 0, prepare.report
    assert list(prepare.statuses()) == ["check-promoted-writer", "create-replica", "wait-replica"]
    replica = world.client("rds").describe_db_instances(DBInstanceIdentifier="peakshop-dev-p-db-failback")
    assert replica["DBInstances"][0]["ReadReplicaSourceDBInstanceIdentifier"].endswith(":db:peakshop-dev-s-db")
    assert world.inverted(checks["primary"])  # phase 1 leaves traffic where it is
    assert "--cutover" in prepare.report["next_actions"][-1]

    cutover = world.ops("failback", "--cutover", *FAST)
    assert cutover.code == 0, cutover.report
    assert cutover.step("create-replica")["detail"] == {"skipped": "peakshop-dev-p-db-failback exists"}
    assert not world.inverted(checks["primary"])
    small = world.names.app_nodes("secondary")
    assert app_scaling(world)["desiredSize"] == small.desired_size
    assert world.cache_node_type() == world.names.cache_node_type("secondary")
    assert cutover.report["result"]["writer"]["identifier"] == "peakshop-dev-p-db-failback"


def test_failback_without_a_failover_is_refused(world: World) -> None:
    world.warm_standby()
    result = world.ops("failback", *FAST)
    assert result.code == 1
    assert result.statuses() == {"check-promoted-writer": "failed"}
    assert "no regional failover to undo" in result.step("check-promoted-writer")["error"]
