"""`failover db`, `drill start`, `dlq redrive`, `cache flush`, `status` and bad input, end to end against moto's
server (and a real Redis)."""

from __future__ import annotations

import json

import pytest

from apps.localdeps.redis_server import RedisServer
from ops.aws import Aws
from ops.status import replica_lag
from tests.ops.conftest import CREDENTIALS, ROLE_ARN, World
from tests.ops.throttle_proxy import ThrottleProxy

FAST = ("--stage", "dev", "--poll", "0.05", "--timeout", "20")


def test_db_failover_reboots_with_forced_failover(world: World) -> None:
    world.primary_writer(multi_az=True)
    result = world.ops("failover", "db", *FAST)
    assert result.code == 0, result.report
    assert result.statuses() == {"check-writer": "done", "reboot-with-failover": "done", "wait-available": "done"}
    assert result.report["result"]["writer"]["identifier"] == "peakshop-dev-p-db"


def test_db_failover_refuses_a_single_az_writer(world: World) -> None:
    world.primary_writer(multi_az=False)
    result = world.ops("failover", "db", *FAST)
    assert result.code == 1
    assert result.statuses() == {"check-writer": "failed"}
    assert "not Multi-AZ" in result.step("check-writer")["error"]


def fis_template(world: World, name: str) -> str:
    fis = world.client("fis")
    alarm = world.names.primary.customer_impact_alarm
    world.client("cloudwatch").put_metric_alarm(
        AlarmName=alarm,
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
    )
    template = fis.create_experiment_template(
        clientToken=name,
        description="RDS writer reboot with forced failover",
        roleArn=ROLE_ARN,
        stopConditions=[{"source": "aws:cloudwatch:alarm", "value": f"arn:aws:cloudwatch:us-east-1:123:alarm:{alarm}"}],
        targets={
            "writer": {
                "resourceType": "aws:rds:db",
                "resourceArns": ["arn:aws:rds:us-east-1:123456789012:db:peakshop-dev-p-db"],
                "selectionMode": "ALL",
            }
        },
        actions={"reboot": {"actionId": "aws:rds:reboot-db-instances", "targets": {"DBInstances": "writer"}}},
        tags={"Name": name},  # as stacks/drills.py tags its templates
    )["experimentTemplate"]
    return str(template["id"])


def test_drill_follows_the_experiment_to_the_end(world: World) -> None:
    template_id = fis_template(world, "database-failover")
    result = world.ops("drill", "start", "database-failover", *FAST)
    assert result.code == 0, (result.report, result.stderr)
    assert result.step("resolve-template")["detail"]["template"] == template_id
    assert result.report["result"]["status"] == "completed"
    timeline = result.report["result"]["timeline"]
    assert [t["status"] for t in timeline][-1] == "completed"
    assert all(t["impact_alarm"] == "OK" for t in timeline)
    assert "customer-impact OK" in result.stderr  # progress for the operator


def test_drill_refused_while_customers_are_impacted(world: World) -> None:
    fis_template(world, "database-failover")
    world.client("cloudwatch").set_alarm_state(
        AlarmName=world.names.primary.customer_impact_alarm, StateValue="ALARM", StateReason="test"
    )
    result = world.ops("drill", "start", "database-failover", *FAST)
    assert result.code == 1
    assert "already in ALARM" in result.step("resolve-template")["error"]
    assert world.client("fis").list_experiments()["experiments"] == []


def test_drill_unknown_template_names_the_known_ones(world: World) -> None:
    fis_template(world, "database-failover")
    result = world.ops("drill", "start", "az-outage", *FAST)
    assert result.code == 1
    assert "found: ['database-failover']" in result.step("resolve-template")["error"]


def fill_dlq(world: World, urls: dict[str, str], count: int) -> None:
    sqs = world.client("sqs")
    for start in range(0, count, 10):
        ids = range(start, min(count, start + 10))
        entries = [{"Id": str(i), "MessageBody": json.dumps({"order": i})} for i in ids]
        sqs.send_message_batch(QueueUrl=urls["orders-dlq"], Entries=entries)


def visible(world: World, url: str) -> int:
    attrs = world.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def test_dlq_redrive_moves_every_message_once(world: World) -> None:
    urls = world.queues()
    fill_dlq(world, urls, 25)
    planned = world.ops("dlq", "redrive", "--queue", "orders", "--dry-run", *FAST)
    assert planned.code == 0 and planned.report["result"]["moved"] == 0
    assert visible(world, urls["orders-dlq"]) == 25
    result = world.ops("dlq", "redrive", "--queue", "orders", *FAST)
    assert result.code == 0, result.report
    assert result.report["result"]["moved"] == 25
    assert visible(world, urls["orders-dlq"]) == 0 and visible(world, urls["orders"]) == 25
    bodies = set()
    sqs = world.client("sqs")
    while batch := sqs.receive_message(QueueUrl=urls["orders"], MaxNumberOfMessages=10).get("Messages", []):
        bodies |= {m["Body"] for m in batch}
    assert bodies == {json.dumps({"order": i}) for i in range(25)}


def test_dlq_redrive_throttled_send_keeps_the_messages(world: World, proxy: ThrottleProxy) -> None:
    urls = world.queues()
    fill_dlq(world, urls, 5)
    proxy.throttle("SendMessageBatch", 100)
    result = world.ops("dlq", "redrive", "--queue", "orders", *FAST, endpoint=proxy.url, max_attempts=2)
    assert result.code == 1
    assert "Throttling" in result.step("move-messages")["error"]
    assert result.report["result"]["moved"] == 0
    assert "nothing is lost" in " ".join(result.report["next_actions"])


def test_dlq_redrive_missing_queue(world: World) -> None:
    result = world.ops("dlq", "redrive", "--queue", "orders", *FAST)
    assert result.code == 1
    assert "peakshop-dev-p-orders does not exist" in result.step("resolve-queues")["error"]


def test_cache_flush_deletes_only_the_prefix(world: World, redis_server: RedisServer) -> None:
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.mset({f"catalog:product:{i}": "x" for i in range(1200)})
    client.mset({"catalogue:other": "keep", "cart:1": "keep"})
    args = ("cache", "flush", "--prefix", "catalog:", "--redis-url", redis_server.url, *FAST)
    planned = world.ops(*args, "--dry-run")
    assert planned.code == 0 and planned.step("connect-and-count")["detail"]["matching_keys"] == 1200
    assert client.dbsize() == 1202
    result = world.ops(*args)
    assert result.code == 0, result.report
    assert result.step("unlink-keys")["detail"] == {"deleted": 1200}
    assert sorted(client.keys()) == [b"cart:1", b"catalogue:other"]


def test_cache_flush_unreachable_redis(world: World) -> None:
    result = world.ops("cache", "flush", "--prefix", "catalog:", "--redis-url", "redis://127.0.0.1:1/0", *FAST)
    assert result.code == 1
    assert "cannot reach Redis" in result.step("connect-and-count")["error"]


def test_replica_lag_sees_a_datapoint_written_this_second(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read at once, as a status run right after RDS reports: an EndTime of `now` (exclusive, truncated to the
    second by moto) hid such a datapoint and `status` showed no lag."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    replica = world.names.secondary.db_writer
    world.client("cloudwatch", "secondary").put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": replica}],
                "Value": 7.0,
            }
        ],
    )
    assert replica_lag(Aws(endpoint_url=world.url), world.names.secondary, replica) == 7.0


def test_status_shows_endpoints_lag_and_queues(world: World) -> None:
    world.warm_standby()
    world.client("rds").create_db_instance_read_replica(
        DBInstanceIdentifier=world.names.primary.db_read_replica(0),
        SourceDBInstanceIdentifier=world.names.primary.db_writer,
    )
    urls = world.queues("primary")
    world.queues("secondary")
    healthy = world.ops("status", "--stage", "dev")
    assert healthy.code == 0, healthy.report
    primary = healthy.report["regions"]["primary"]
    assert primary["writer"]["endpoint"].startswith("peakshop-dev-p-db.")
    assert [r["identifier"] for r in primary["readers"]] == ["peakshop-dev-p-db-read-0"]
    assert primary["readers"][0]["replica_lag_s"] is None  # no CloudWatch datapoint yet
    assert healthy.report["regions"]["secondary"]["writer"]["replica_of"].endswith(":db:peakshop-dev-p-db")
    assert primary["queues"]["orders"] == {"visible": 0, "in_flight": 0}

    fill_dlq(world, urls, 3)
    world.client("cloudwatch", "secondary").put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "peakshop-dev-s-db"}],
                "Value": 4.0,
            }
        ],
    )
    degraded = world.ops("status", "--stage", "dev")
    assert degraded.code == 1
    assert degraded.report["problems"] == ["primary: peakshop-dev-p-orders-dlq holds 3 dead letters"]
    assert degraded.report["regions"]["secondary"]["writer"]["replica_lag_s"] == 4.0


def test_status_of_an_empty_account_lists_what_is_missing(world: World) -> None:
    result = world.ops("status", "--stage", "dev", "--role", "primary")
    assert result.code == 1
    assert "primary: no DB instance peakshop-dev-p-db" in result.report["problems"]
    assert "primary: queue peakshop-dev-p-orders missing" in result.report["problems"]


def test_bad_input_exits_2_with_a_message(world: World) -> None:
    for args, message in (
        (("status", "--stage", "qa"), "invalid choice: 'qa'"),
        (("cache", "flush", "--stage", "dev", "--prefix", "*"), "--prefix must name a key prefix"),
        (("failover", "region", "--to", "primary", "--stage", "dev"), "invalid choice: 'primary'"),
        (("dlq", "redrive", "--stage", "dev", "--queue", "orders", "--limit", "0"), "--limit must be >= 1"),
    ):
        result = world.ops(*args)
        assert result.code == 2 and message in result.stderr, (args, result.stderr)
        assert result.report == {}
