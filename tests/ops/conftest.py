"""The ops CLI runs as a subprocess against a real moto server (and a real Redis for `cache flush`); each
test starts from an empty moto and creates the resources the stacks would, named as ops/names.py derives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from apps.localdeps.moto_server import MotoServer
from apps.localdeps.process import MissingBinaryError
from apps.localdeps.redis_server import RedisServer
from ops.names import StageNames, for_stage
from stacks.workloads import SECRETS, secret_name
from tests.ops.throttle_proxy import ThrottleProxy

REPO = Path(__file__).resolve().parents[2]
STAGE = "dev"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
ROLE_ARN = "arn:aws:iam::123456789012:role/peakshop-test"


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except MissingBinaryError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and redis-server is missing: {exc}")
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[ThrottleProxy]:
    p = ThrottleProxy(moto_server.port)
    yield p
    p.close()


@dataclass
class Result:
    code: int
    report: dict[str, Any]
    stderr: str

    def step(self, name: str) -> dict[str, Any]:
        return next(s for s in self.report["steps"] if s["name"] == name)

    def statuses(self) -> dict[str, str]:
        return {s["name"]: s["status"] for s in self.report["steps"]}


@dataclass
class World:
    """An empty moto with helpers to create the stage's resources and to run the CLI."""

    url: str
    names: StageNames

    def client(self, service: str, role: str = "primary") -> Any:
        region = self.names.region(role).region  # type: ignore[arg-type]
        return boto3.client(service, region_name=region, endpoint_url=self.url, **_creds())

    def ops(self, *args: str, endpoint: str | None = None, max_attempts: int = 3) -> Result:
        env = {**os.environ, **CREDENTIALS}
        cmd = [sys.executable, "-m", "ops", "--endpoint-url", endpoint or self.url, "--max-attempts", str(max_attempts)]
        proc = subprocess.run([*cmd, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        report = json.loads(proc.stdout) if proc.stdout.strip() else {}
        return Result(proc.returncode, report, proc.stderr)

    # -------------------------------------------------------------------------------- the stacks' resources
    def primary_writer(self, multi_az: bool = True) -> dict[str, Any]:
        return dict(
            self.client("rds").create_db_instance(
                DBInstanceIdentifier=self.names.primary.db_writer,
                Engine="mysql",
                DBInstanceClass="db.t4g.medium",
                AllocatedStorage=20,
                MasterUsername="peakshop_admin",
                MasterUserPassword="generated-in-test-1",
                MultiAZ=multi_az,
            )["DBInstance"]
        )

    def cross_region_replica(self, writer: dict[str, Any]) -> None:
        self.client("rds", "secondary").create_db_instance_read_replica(
            DBInstanceIdentifier=self.names.secondary.db_writer,
            SourceDBInstanceIdentifier=writer["DBInstanceArn"],
            SourceRegion=self.names.primary.region,
            MultiAZ=False,  # as the stacks create it; failover turns Multi-AZ on
        )

    def standby_nodes(self) -> None:
        eks = self.client("eks", "secondary")
        s = self.names.secondary
        eks.create_cluster(name=s.cluster, roleArn=ROLE_ARN, resourcesVpcConfig={"subnetIds": ["subnet-1"]})
        size = self.names.app_nodes("secondary")
        eks.create_nodegroup(
            clusterName=s.cluster,
            nodegroupName=s.node_group("app"),
            nodeRole=ROLE_ARN,
            subnets=["subnet-1"],
            scalingConfig={"minSize": size.min_size, "desiredSize": size.desired_size, "maxSize": size.max_size},
        )

    def standby_cache(self) -> None:
        """The secondary Redis group at its standby node type, as the data stack creates it."""
        self.client("elasticache", "secondary").create_replication_group(
            ReplicationGroupId=self.names.secondary.redis_group,
            ReplicationGroupDescription="standby cache",
            Engine="redis",
            CacheNodeType=self.names.cache_node_type("secondary"),
            NumCacheClusters=2,
            AutomaticFailoverEnabled=True,
            MultiAZEnabled=True,
        )

    def cache_node_type(self) -> str:
        groups = self.client("elasticache", "secondary").describe_replication_groups(
            ReplicationGroupId=self.names.secondary.redis_group
        )["ReplicationGroups"]
        return str(groups[0]["CacheNodeType"])

    def health_checks(self) -> dict[str, str]:
        route53 = self.client("route53")
        ids = {}
        for role in ("primary", "secondary"):
            check = route53.create_health_check(
                CallerReference=f"{role}-readyz",
                HealthCheckConfig={
                    "Type": "HTTPS",
                    "FullyQualifiedDomainName": f"{role}.origin.example.com",
                    "Port": 443,
                    "ResourcePath": "/readyz",
                },
            )["HealthCheck"]
            route53.change_tags_for_resource(
                ResourceType="healthcheck",
                ResourceId=check["Id"],
                AddTags=[{"Key": "Name", "Value": self.names.health_check_tag(role)}],  # type: ignore[arg-type]
            )
            ids[role] = check["Id"]
        return ids

    def inverted(self, check_id: str) -> bool:
        check = self.client("route53").get_health_check(HealthCheckId=check_id)["HealthCheck"]
        return bool(check["HealthCheckConfig"].get("Inverted"))

    def warm_standby(self) -> dict[str, str]:
        """Everything the regional failover acts on."""
        self.cross_region_replica(self.primary_writer())
        self.standby_nodes()
        self.standby_cache()
        return self.health_checks()

    def queues(self, role: str = "primary") -> dict[str, str]:
        sqs = self.client("sqs", role)
        region = self.names.region(role)  # type: ignore[arg-type]
        urls = {}
        for name in self.names.queues:
            dlq = sqs.create_queue(QueueName=region.dlq(name))["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5})
            urls[name] = sqs.create_queue(QueueName=region.queue(name), Attributes={"RedrivePolicy": policy})[
                "QueueUrl"
            ]
            urls[f"{name}-dlq"] = dlq
        return urls

    def app_secrets(self, skip: tuple[str, ...] = ()) -> dict[str, str]:
        """The application secrets as the data stack declares them: KMS key, replica under the secondary
        region's key, no value. Returns name -> ARN."""
        replica_key = self.client("kms", "secondary").create_key(Description="secrets")["KeyMetadata"]["Arn"]
        key = self.client("kms").create_key(Description="secrets")["KeyMetadata"]["Arn"]
        arns = {}
        for short in SECRETS:
            if short in skip:
                continue
            arns[short] = self.client("secretsmanager").create_secret(
                Name=secret_name(self.names.stage, short),
                KmsKeyId=key,
                AddReplicaRegions=[{"Region": self.names.secondary.region, "KmsKeyId": replica_key}],
            )["ARN"]
        return arns


def _creds() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def world(moto_server: MotoServer) -> World:
    request = urllib.request.Request(f"{moto_server.url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 200
    return World(moto_server.url, for_stage(STAGE))
