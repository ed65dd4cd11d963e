"""`make diagram`: the architecture diagram, generated from the synthesized prod stacks so that it changes
when the stacks change. Writes docs/architecture.{dot,svg,png}; tests/infra/test_diagram.py fails when stale.

Resources are grouped as Graphviz clusters by region, then stack (layer), then subnet tier; each node is one
kind of resource in one stack with its count (e.g. "RDS for MySQL x3"). Edges are the references Terraform
will resolve: inside a stack (`${aws_lb.alb.arn}`) and across stacks (cdktf's remote-state outputs)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Doc = dict[str, Any]
DOCS_DIR = Path(__file__).resolve().parents[1] / "docs"
DIAGRAM_STAGE = "prod"
FORMATS = ("svg", "png")

# Resource types worth drawing: label and the subnet tier (or "regional"/"global") they sit in.
KINDS: dict[str, tuple[str, str]] = {
    "aws_vpc": ("VPC", "regional"),
    "aws_nat_gateway": ("NAT gateway", "public"),
    "aws_internet_gateway": ("Internet gateway", "public"),
    "aws_vpc_endpoint": ("VPC endpoints", "private"),
    "aws_flow_log": ("VPC flow logs", "regional"),
    "aws_lb": ("Application Load Balancer", "public"),
    "aws_lb_target_group": ("ALB target groups", "private"),
    "aws_eks_cluster": ("EKS cluster", "private"),
    "aws_eks_node_group": ("EKS managed node groups (EC2 Auto Scaling)", "private"),
    "aws_ecr_repository": ("ECR repositories", "regional"),
    "aws_db_instance": ("RDS for MySQL", "isolated"),
    "aws_elasticache_replication_group": ("ElastiCache Redis", "isolated"),
    "aws_sqs_queue": ("SQS queues", "regional"),
    "aws_s3_bucket": ("S3 buckets", "regional"),
    "aws_kms_key": ("KMS keys", "regional"),
    "aws_cloudfront_distribution": ("CloudFront", "global"),
    "aws_wafv2_web_acl": ("WAF web ACL", "global"),
    "aws_route53_zone": ("Route 53 zone", "global"),
    "aws_route53_health_check": ("Route 53 health checks", "global"),
    "aws_route53_record": ("Route 53 records", "global"),
    "aws_acm_certificate": ("ACM certificates", "regional"),
    "aws_sns_topic": ("SNS alerts", "regional"),
    "aws_cloudwatch_metric_alarm": ("CloudWatch alarms", "regional"),
    "aws_cloudwatch_composite_alarm": ("Composite alarm", "regional"),
    "aws_cloudwatch_dashboard": ("CloudWatch dashboard", "regional"),
    "aws_cloudtrail": ("CloudTrail", "regional"),
    "aws_budgets_budget": ("AWS Budgets", "global"),
    "aws_backup_vault": ("Backup vault", "regional"),
    "aws_backup_plan": ("Backup plan", "regional"),
    "aws_fis_experiment_template": ("FIS experiments", "regional"),
    "aws_sfn_state_machine": ("Failover state machine", "regional"),
    "aws_codepipeline": ("CodePipeline", "regional"),
    "aws_codebuild_project": ("CodeBuild projects", "regional"),
}
TIER_LABELS = {
    "public": "public subnets",
    "private": "private (app) subnets",
    "isolated": "isolated (data) subnets",
    "regional": "regional services",
    "global": "global services",
}
_LOCAL_REF = re.compile(r"(?<![\w.])(aws_[a-z0-9_]+)\.([\w-]+)\.")  # resources, not `data.` sources
_REMOTE_REF = re.compile(
    r"cross-stack-reference-input-([\w-]+)\.outputs\.cross-stack-output-(aws_[a-z0-9_]+?)(?=[^a-z_])"
)


def _node_id(stack: str, resource_type: str) -> str:
    return f"{stack}/{resource_type}"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _region(doc: Doc) -> str:
    providers = doc.get("provider", {}).get("aws", [])
    default = next((p for p in providers if "alias" not in p), providers[0] if providers else {})
    return str(default.get("region", "global"))


def _edges(stack: str, doc: Doc, docs: dict[str, Doc]) -> set[tuple[str, str]]:
    edges = set()
    for resource_type, instances in doc.get("resource", {}).items():
        if resource_type not in KINDS:
            continue
        source = _node_id(stack, resource_type)
        for config in instances.values():
            for text in _strings(config):
                for ref_type, _ in _LOCAL_REF.findall(text):
                    if ref_type in KINDS and ref_type != resource_type and ref_type in doc["resource"]:
                        edges.add((source, _node_id(stack, ref_type)))
                for producer, ref_type in _REMOTE_REF.findall(text):
                    # The output name glues type and name together: take the longest drawn type it starts with.
                    drawn = [t for t in KINDS if ref_type.startswith(t) or t.startswith(ref_type)]
                    target = max(drawn, key=len) if drawn else None
                    if target and producer in docs and target in docs[producer].get("resource", {}):
                        edges.add((source, _node_id(producer, target)))
    return edges


def _quote(text: str) -> str:
    return '"' + text.replace('"', r"\"") + '"'


def render_dot(docs: dict[str, Doc], stage: str = DIAGRAM_STAGE) -> str:
    """The Graphviz source for one stage's stacks, deterministic for the same synthesized input."""
    stacks = {
        name: doc for name, doc in sorted(docs.items()) if name.startswith(f"{stage}-") or name.startswith("shared-")
    }
    by_region: dict[str, list[str]] = defaultdict(list)
    for name, doc in stacks.items():
        region = "global" if name.endswith("-edge") else _region(doc)
        by_region[region].append(name)
    lines = [
        f"digraph peakshop_{stage} {{",
        '  graph [rankdir=LR, compound=true, fontname="Helvetica", fontsize=12, nodesep=0.25, ranksep=0.9,'
        f' label="Peakshop {stage}: generated from the synthesized stacks (make diagram)", labelloc=t];',
        '  node [shape=box, style="rounded,filled", fillcolor="#FFF4E5", color="#FF9900", fontname="Helvetica",'
        " fontsize=10];",
        '  edge [color="#5A6B86", arrowsize=0.6];',
    ]
    edges: set[tuple[str, str]] = set()
    for region_index, (region, names) in enumerate(sorted(by_region.items())):
        lines.append(f"  subgraph cluster_r{region_index} {{")
        lines.append(f'    label={_quote(region)}; style="rounded"; color="#232F3E"; fontsize=14;')
        for name in names:
            doc = stacks[name]
            counts = Counter({t: len(i) for t, i in doc.get("resource", {}).items()})
            drawn = {t: n for t, n in counts.items() if t in KINDS}
            other = sum(counts.values()) - sum(drawn.values())
            cluster = re.sub(r"\W", "_", name)
            lines.append(f"    subgraph cluster_{cluster} {{")
            lines.append(
                f'      label={_quote(f"{name} (+{other} supporting resources)")}; style="rounded,dashed";'
                ' color="#879196";'
            )
            tiers: dict[str, list[str]] = defaultdict(list)
            for resource_type in sorted(drawn):
                tiers[KINDS[resource_type][1]].append(resource_type)
            for tier in TIER_LABELS:
                if not tiers.get(tier):
                    continue
                lines.append(f"      subgraph cluster_{cluster}_{tier} {{")
                lines.append(f'        label={_quote(TIER_LABELS[tier])}; style="dotted"; color="#AAB7B8";')
                for resource_type in tiers[tier]:
                    count = drawn[resource_type]
                    label = KINDS[resource_type][0] + (f" x{count}" if count > 1 else "")
                    lines.append(f"        {_quote(_node_id(name, resource_type))} [label={_quote(label)}];")
                lines.append("      }")
            lines.append("    }")
            edges |= _edges(name, doc, stacks)
        lines.append("  }")
    for source, target in sorted(edges):
        lines.append(f"  {_quote(source)} -> {_quote(target)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_image(dot_source: str, fmt: str) -> bytes:
    """Graphviz (Debian package) renders the DOT source; same input and version, same bytes."""
    return subprocess.run(["dot", f"-T{fmt}"], input=dot_source.encode(), capture_output=True, check=True).stdout


def write(docs: dict[str, Doc]) -> list[Path]:
    dot_source = render_dot(docs)
    written = [DOCS_DIR / "architecture.dot"]
    DOCS_DIR.mkdir(exist_ok=True)
    written[0].write_text(dot_source)
    for fmt in FORMATS:
        path = DOCS_DIR / f"architecture.{fmt}"
        path.write_bytes(render_image(dot_source, fmt))
        written.append(path)
    return written


def main() -> int:
    from stacks.config import load_config
    from stacks.summary import synth_json_docs

    docs = synth_json_docs(load_config())  # every stage: the shared pipeline depends on them all
    for path in write(docs):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
