"""Properties that must hold in every synthesized stack of every stage."""

from __future__ import annotations

import re

from stacks.config import PEAK_REPLICAS_TAG, ROLES, STAGE_NAMES
from stacks.network import MYSQL_PORT, REDIS_PORT
from stacks.workloads import BUCKETS, QUEUES
from tests.infra.synthesized import Platform, all_resources, data_sources, ref_name, resources

LAYERS = ("network", "data", "compute", "observability", "dr")
SHARED_STACKS = {"shared-pipeline"}  # one per account, outside the stage/role layering (stacks/pipeline.py)
REQUIRED_TAGS = {"project", "stage", "owner", "cost-center", "data-classification"}


def by_bucket(doc: dict, resource_type: str) -> dict[str, dict]:
    """Bucket-scoped resources of one type keyed by the bucket resource they attach to."""
    return {ref_name(cfg["bucket"]): cfg for cfg in resources(doc, resource_type).values()}


def test_stack_names_cover_every_stage_role_and_layer(platform: Platform) -> None:
    expected = {f"{s}-{r}-{layer}" for s in STAGE_NAMES for r in ROLES for layer in LAYERS}
    assert expected <= set(platform.docs)
    layered = set(platform.docs) - SHARED_STACKS
    assert all(re.fullmatch(r"(dev|staging|prod)-(primary|secondary)-[a-z]+", n) for n in layered)


def test_each_stack_has_its_own_locked_encrypted_state_key(platform: Platform) -> None:
    keys = set()
    for name, doc in platform.docs.items():
        backend = doc["terraform"]["backend"]["s3"]
        assert backend["use_lockfile"] is True and backend["encrypt"] is True, name
        assert name in backend["key"]
        keys.add(backend["key"])
    assert len(keys) == len(platform.docs)


def test_providers_tag_everything(platform: Platform) -> None:
    for name, doc in platform.docs.items():
        for provider in doc["provider"]["aws"]:
            tags = provider["default_tags"][0]["tags"]
            assert set(tags) >= REQUIRED_TAGS, name
            assert tags["stage"] == name.split("-")[0]


def test_every_bucket_is_encrypted_private_versioned_and_tls_only(platform: Platform) -> None:
    count = 0
    for name, doc in platform.docs.items():
        encryption = by_bucket(doc, "aws_s3_bucket_server_side_encryption_configuration")
        blocks = by_bucket(doc, "aws_s3_bucket_public_access_block")
        versioning = by_bucket(doc, "aws_s3_bucket_versioning")
        policies = by_bucket(doc, "aws_s3_bucket_policy")
        for bucket in resources(doc, "aws_s3_bucket"):
            count += name.endswith("-data")  # the data layer's buckets; other layers' are checked too
            rule = encryption[bucket]["rule"][0]["apply_server_side_encryption_by_default"]
            assert rule["sse_algorithm"] in {"aws:kms", "AES256"}, (name, bucket)
            if "-logs" not in bucket:
                assert rule["sse_algorithm"] == "aws:kms" and rule["kms_master_key_id"], (name, bucket)
            assert all(
                blocks[bucket][k] is True
                for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
            )
            assert versioning[bucket]["versioning_configuration"]["status"] == "Enabled"
            document = data_sources(doc, "aws_iam_policy_document")[ref_name(policies[bucket]["policy"])]
            assert any(
                c["variable"] == "aws:SecureTransport" for s in document["statement"] for c in s.get("condition", [])
            )
    assert count == len(STAGE_NAMES) * len(ROLES) * len(BUCKETS)


def test_primary_buckets_replicate_to_the_secondary_region(platform: Platform) -> None:
    for stage in STAGE_NAMES:
        secondary = platform.docs[f"{stage}-secondary-data"]
        configs = resources(secondary, "aws_s3_bucket_replication_configuration")
        assert len(configs) == len(BUCKETS)
        for config in configs.values():
            assert config["provider"] == "aws.primary"
            assert "terraform_remote_state" in config["bucket"]  # the primary stack's bucket, by reference
            assert config["rule"][0]["destination"]["bucket"].startswith("${aws_s3_bucket.")


def data_bucket_names(doc: dict) -> dict[str, str]:
    """Bucket resource -> its name in stacks/workloads.py BUCKETS, for the primary buckets and their replicas."""
    names = {}
    for key, bucket in resources(doc, "aws_s3_bucket").items():
        (names[key],) = [n for n in BUCKETS if bucket["bucket_prefix"].endswith((f"-{n}-", f"-{n}-replica-"))]
    return names


def test_served_buckets_keep_current_objects_readable_and_backups_archive(platform: Platform) -> None:
    """CloudFront serves media and storefront (from the replicas after a failover): a GET on a GLACIER or
    DEEP_ARCHIVE object fails, so only old versions of served objects may go there."""
    archive_classes = {"GLACIER", "DEEP_ARCHIVE"}
    served = 0
    for stack, doc in platform.layer_docs("data").items():
        lifecycles = by_bucket(doc, "aws_s3_bucket_lifecycle_configuration")
        for key, name in data_bucket_names(doc).items():
            (rule,) = lifecycles[key]["rule"]
            current = {t["storage_class"] for t in rule.get("transition", [])}
            noncurrent = {t["storage_class"] for t in rule["noncurrent_version_transition"]}
            if name in ("media", "storefront"):
                served += 1
                assert not current & archive_classes, (stack, name, current)
                assert "GLACIER" in noncurrent and rule["noncurrent_version_expiration"] == [{"noncurrent_days": 365}]
                assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]
            elif name == "backups":
                assert archive_classes <= current, (stack, name, current)
    assert served == 2 * len(STAGE_NAMES) * len(ROLES)


def test_replication_reads_object_lock_metadata_of_locked_sources_only(platform: Platform) -> None:
    """Replicating object-locked versions needs a locked replica and s3:GetObjectRetention and
    s3:GetObjectLegalHold on the source objects; the role gets them for the locked sources only."""
    lock_reads = {"s3:GetObjectRetention", "s3:GetObjectLegalHold"}
    for stage in STAGE_NAMES:
        primary = platform.docs[f"{stage}-primary-data"]
        secondary = platform.docs[f"{stage}-secondary-data"]
        locked = {k for k, b in resources(primary, "aws_s3_bucket").items() if b.get("object_lock_enabled")}
        replicas = resources(secondary, "aws_s3_bucket")
        for config in resources(secondary, "aws_s3_bucket_replication_configuration").values():
            (source,) = [k for k in resources(primary, "aws_s3_bucket") if f"aws_s3_bucket{k}id}}" in config["bucket"]]
            destination = replicas[ref_name(config["rule"][0]["destination"]["bucket"])]
            assert bool(destination.get("object_lock_enabled")) == (source in locked), (stage, source)
        documents = data_sources(secondary, "aws_iam_policy_document")
        (permissions,) = [d for k, d in documents.items() if k.startswith("replication-permissions")]
        statements = [s for s in permissions["statement"] if lock_reads & set(s["actions"])]
        if not locked:
            assert not statements, stage
            continue
        (statement,) = statements
        assert set(statement["actions"]) == lock_reads and len(statement["actions"]) == 2
        source_objects = re.compile(
            rf"\$\{{data\.terraform_remote_state\.cross-stack-reference-input-{stage}-primary-data\.outputs\."
            r"cross-stack-output-aws_s3_bucket([\w-]+)arn\}/\*"
        )
        matches = [source_objects.fullmatch(r) for r in statement["resources"]]
        assert all(matches) and {m.group(1) for m in matches if m} == locked, statement["resources"]


def test_every_queue_has_a_dlq_and_kms(platform: Platform) -> None:
    for name, doc in platform.layer_docs("data").items():
        queues = resources(doc, "aws_sqs_queue")
        mains = {k: q for k, q in queues.items() if not q["name"].endswith("-dlq")}
        assert {q["name"].rsplit("-", 1)[-1] for q in mains.values()} == set(QUEUES), name
        for key, queue in queues.items():
            assert queue["kms_master_key_id"], (name, key)
        for key, queue in mains.items():
            dlq = ref_name(re.search(r"\$?\{?aws_sqs_queue\.[\w-]+\.arn", queue["redrive_policy"]).group(0))
            assert queues[dlq]["name"] == f"{queue['name']}-dlq", (name, key)


def test_every_database_is_encrypted_private_and_iam_authenticated(platform: Platform) -> None:
    found = 0
    for stack, key, db in all_resources(platform.docs, "aws_db_instance"):
        found += 1
        assert db["storage_encrypted"] is True and db["kms_key_id"], (stack, key)
        assert db["publicly_accessible"] is False
        assert db["iam_database_authentication_enabled"] is True
        assert db["performance_insights_enabled"] is True and db["monitoring_interval"] > 0
        if "replicate_source_db" not in db:
            assert db["manage_master_user_password"] is True and "password" not in db
            assert db["backup_retention_period"] >= 7
    assert found


def test_prod_writer_is_multi_az_with_replicas_and_more_for_peaks(platform: Platform) -> None:
    doc = platform.docs["prod-primary-data"]
    dbs = resources(doc, "aws_db_instance")
    writers = {k: d for k, d in dbs.items() if "replicate_source_db" not in d}
    (writer_key, writer) = next(iter(writers.items()))
    assert len(writers) == 1 and writer["multi_az"] is True and writer["deletion_protection"] is True
    assert writer["skip_final_snapshot"] is False and writer["final_snapshot_identifier"]
    replicas = [d for d in dbs.values() if writer_key in d.get("replicate_source_db", "")]
    assert len(replicas) >= 1
    assert int(writer["tags"][PEAK_REPLICAS_TAG]) >= 2 and int(writer["tags"][PEAK_REPLICAS_TAG]) > len(replicas)


def test_secondary_has_a_cross_region_replica_of_the_primary_writer(platform: Platform) -> None:
    for stage in STAGE_NAMES:
        doc = platform.docs[f"{stage}-secondary-data"]
        sources = [d.get("replicate_source_db", "") for d in resources(doc, "aws_db_instance").values()]
        assert any(f"cross-stack-reference-input-{stage}-primary-data" in s and "writerarn" in s for s in sources)


def test_redis_is_multi_az_encrypted_and_passwordless(platform: Platform) -> None:
    for stack, _key, group in all_resources(platform.docs, "aws_elasticache_replication_group"):
        assert group["multi_az_enabled"] is True and group["automatic_failover_enabled"] is True, stack
        assert group["num_cache_clusters"] >= 2
        assert group["transit_encryption_enabled"] is True and group["kms_key_id"]
        assert group["at_rest_encryption_enabled"] == "true"
        assert "auth_token" not in group and group["user_group_ids"]


def test_redis_users_reach_only_the_near_cache_invalidation_channels(platform: Platform) -> None:
    users = [user for _stack, _key, user in all_resources(platform.docs, "aws_elasticache_user")]
    assert users
    for user in users:
        channels = [rule for rule in user["access_string"].split() if rule.startswith("&") or rule == "allchannels"]
        assert channels in ([], ["&*:invalidate"]), user["access_string"]  # apps/runtime/near_cache.py
    assert any(user["access_string"].startswith("on ") and "&*:invalidate" in user["access_string"] for user in users)


def test_no_security_group_opens_a_data_port_to_the_world(platform: Platform) -> None:
    for stack, key, rule in all_resources(platform.docs, "aws_vpc_security_group_ingress_rule"):
        opens_data = (
            rule["from_port"] <= MYSQL_PORT <= rule["to_port"] or rule["from_port"] <= REDIS_PORT <= rule["to_port"]
        )
        if opens_data:
            assert "referenced_security_group_id" in rule, (stack, key)
        assert rule.get("cidr_ipv4") != "0.0.0.0/0", (stack, key)
    for stack, key, group in all_resources(platform.docs, "aws_security_group"):
        assert not group.get("ingress"), (stack, key)
    for _stack, _key, default in all_resources(platform.docs, "aws_default_security_group"):
        assert default["ingress"] == [] and default["egress"] == []


def test_data_lives_in_isolated_subnets_without_internet_routes(platform: Platform) -> None:
    for name, doc in platform.layer_docs("network").items():
        isolated = [k for k, s in resources(doc, "aws_subnet").items() if s["tags"]["tier"] == "isolated"]
        assert len(isolated) == 3
        routes = resources(doc, "aws_route")
        assert not any("isolated" in r["route_table_id"] for r in routes.values()), name
        assert all(s["map_public_ip_on_launch"] is False for s in resources(doc, "aws_subnet").values())


def test_nat_per_az_in_prod_and_one_elsewhere(platform: Platform) -> None:
    for name, doc in platform.layer_docs("network").items():
        expected = 3 if name.startswith("prod-") else 1
        assert len(resources(doc, "aws_nat_gateway")) == expected, name


def test_vpc_endpoints_and_encrypted_flow_logs(platform: Platform) -> None:
    for name, doc in platform.layer_docs("network").items():
        services = {e["service_name"].split(".", 3)[-1] for e in resources(doc, "aws_vpc_endpoint").values()}
        interface = {"sqs", "ecr.api", "ecr.dkr", "sts"} if "-primary-" in name else set()
        assert services == {"s3"} | interface, name
        (flow,) = resources(doc, "aws_flow_log").values()
        assert flow["traffic_type"] == "ALL"


def test_every_log_group_has_retention_and_kms(platform: Platform) -> None:
    for stack, key, group in all_resources(platform.docs, "aws_cloudwatch_log_group"):
        assert group["retention_in_days"] >= 365, (stack, key)
        assert group["kms_key_id"], (stack, key)


def test_kms_keys_rotate(platform: Platform) -> None:
    keys = list(all_resources(platform.docs, "aws_kms_key"))
    assert keys and all(k["enable_key_rotation"] is True for _, _, k in keys)


def test_no_iam_statement_allows_every_action_on_every_resource(platform: Platform) -> None:
    for stack, key, document in (
        (s, k, d) for s, doc in platform.docs.items() for k, d in data_sources(doc, "aws_iam_policy_document").items()
    ):
        for statement in document["statement"]:
            if statement.get("effect", "Allow") != "Allow":
                continue
            assert "*" not in statement["actions"], (stack, key)
