"""Render the umbrella chart for a stage the way the deploy pipeline does, without a cluster.

The pipeline's values (`pipeline:` in charts/peakshop/values.yaml) come from Terraform outputs and the image
build. Here they are derived from the synthesized Terraform (`make synth` -> cdktf.out/stacks/*/cdk.tf):
target group and queue names are the real ones, only the account id, digests and hostnames are examples.
`python -m tests.charts.render` writes reports/charts/<stage>.yaml for every stage (used by `make charts`).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import yaml

from stacks.config import STAGE_NAMES, load_config
from stacks.workloads import QUEUES, WORKLOADS

ROOT = Path(__file__).resolve().parents[2]
CHARTS = ROOT / "charts"
UMBRELLA = CHARTS / "peakshop"
REPORTS = ROOT / "reports" / "charts"
SYNTH = ROOT / "cdktf.out" / "stacks"
EXAMPLE_ACCOUNT = "123456789012"  # the account id AWS documentation uses; the pipeline passes the real one
ROLE_LETTER = {"primary": "p", "secondary": "s"}


class RenderError(RuntimeError):
    """helm or its inputs failed; the message carries helm's own error."""


def helm_binary() -> str | None:
    return shutil.which("helm") or shutil.which("helm", path=str(ROOT / ".tools" / "bin"))


def helm(*args: str) -> str:
    binary = helm_binary()
    if binary is None:
        raise RenderError("helm is not installed: run `make setup`")
    result = subprocess.run([binary, *args], capture_output=True, text=True, check=False, cwd=ROOT)
    if result.returncode != 0:
        raise RenderError(f"helm {' '.join(args[:2])} failed: {result.stderr.strip()}")
    return result.stdout


def _unquote(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip('"')
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    return value


@cache
def _parsed(stack: str) -> dict[str, Any]:
    path = SYNTH / stack / "cdk.tf"
    if not path.is_file():
        raise RenderError(f"{path.relative_to(ROOT)} is missing: run `make synth` first")
    with path.open() as handle:
        return dict(hcl2.load(handle))


def _blocks(stack: str, section: str) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for block in _parsed(stack).get(section, []):
        for rtype, instances in block.items():
            for name, args in instances.items():
                out.setdefault(_unquote(rtype), {})[_unquote(name)] = _unquote(args)
    return out


def terraform(stack: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Resources of one synthesized stack: type -> logical name -> arguments (quotes stripped)."""
    return _blocks(stack, "resource")


def terraform_outputs(stack: str) -> dict[str, Any]:
    """Outputs of one synthesized stack: name -> value (references left as `${...}` expressions)."""
    return {
        _unquote(name): _unquote(body["value"])
        for block in _parsed(stack).get("output", [])
        for name, body in block.items()
    }


def terraform_data(stack: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Data sources of one synthesized stack (e.g. aws_iam_policy_document), like `terraform`."""
    return _blocks(stack, "data")


@dataclass(frozen=True)
class Target:
    """One rendering: a stage and the region (primary/secondary) whose cluster it is deployed to."""

    stage: str
    role: str = "primary"

    @property
    def prefix(self) -> str:
        return f"peakshop-{self.stage}-{ROLE_LETTER[self.role]}"

    @property
    def region(self) -> str:
        return load_config({}).stages[self.stage].region(self.role).region


def eks_version(stage: str) -> str:
    """The Kubernetes version of the stage's clusters, as the compute stack synthesizes it."""
    versions = {
        c["version"]
        for role in ROLE_LETTER
        for c in terraform(f"{stage}-{role}-compute").get("aws_eks_cluster", {}).values()
    }
    if len(versions) != 1:
        raise RenderError(f"{stage}: expected one EKS cluster version in the compute stacks, found {versions}")
    return versions.pop()


def pipeline_values(target: Target) -> dict[str, Any]:
    """What the pipeline passes: target groups by the compute stack's `service` tag, queues of the data stack."""
    region, account = target.region, EXAMPLE_ACCOUNT
    # The pipeline reads `terraform output target_group_arns` of the compute stack; here each reference is
    # resolved to its target group's real name inside an example ARN.
    stack = f"{target.stage}-{target.role}-compute"
    groups = terraform(stack).get("aws_lb_target_group", {})
    target_groups = {}
    for service, reference in terraform_outputs(stack).get("target_group_arns", {}).items():
        name = groups[reference.split("aws_lb_target_group.")[1].split(".")[0]]["name"]
        suffix = hashlib.sha256(name.encode()).hexdigest()[:16]
        target_groups[service] = f"arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{name}/{suffix}"
    data = terraform(f"{target.stage}-{target.role}-data")
    queue_names = {q["name"] for q in data.get("aws_sqs_queue", {}).values()}
    queue_urls = {
        q: f"https://sqs.{region}.amazonaws.com/{account}/{target.prefix}-{q}"
        for q in QUEUES
        if f"{target.prefix}-{q}" in queue_names
    }
    digests = {w.name: "sha256:" + hashlib.sha256(w.name.encode()).hexdigest() for w in WORKLOADS}
    return {
        "pipeline": {
            "accountId": account,
            "region": region,
            "regionRole": target.role,
            "imageRegistry": f"{account}.dkr.ecr.{region}.amazonaws.com",
            "imageDigests": digests,
            "targetGroupArns": target_groups,
            "queueUrls": queue_urls,
            "dbWriterHost": f"{target.prefix}-db.example.{region}.rds.amazonaws.com",
            "dbReaderHost": f"{target.prefix}-db-ro.example.{region}.rds.amazonaws.com",
            "redisHost": f"master.{target.prefix}-redis.example.{region}.cache.amazonaws.com",
            "redisUser": f"{target.prefix}-app",
            "redisGroup": f"{target.prefix}-redis",
            "mediaBucket": f"{target.prefix}-media",
            "cdnBaseUrl": f"https://media.{target.stage}.peakshop.example.com",
            "rdsCaBundle": "-----BEGIN CERTIFICATE-----\n(set by the pipeline)\n-----END CERTIFICATE-----",
            "sessionPublicKey": "MCowBQYDK2VwAyEAexampleexampleexampleexampleexample=",
        }
    }


def build_dependencies() -> None:
    """Pack the library chart into the umbrella (file:// dependency: offline)."""
    helm("dependency", "build", str(UMBRELLA.relative_to(ROOT)), "--skip-refresh")


def value_files(target: Target, workdir: Path) -> list[str]:
    """Stage values, the pipeline's values and the cluster version (Capabilities, deprecation checks)."""
    workdir.mkdir(parents=True, exist_ok=True)
    pipeline = workdir / f"pipeline-{target.stage}-{target.role}.yaml"
    pipeline.write_text(yaml.safe_dump(pipeline_values(target), sort_keys=True))
    files = ["-f", str(UMBRELLA / f"values-{target.stage}.yaml"), "-f", str(pipeline)]
    return [*files, "--kube-version", eks_version(target.stage)]


def render(target: Target, workdir: Path, extra: tuple[str, ...] = ()) -> str:
    files = value_files(target, workdir)
    return helm("template", "peakshop", str(UMBRELLA), "--namespace", "peakshop", *files, *extra)


def lint(target: Target, workdir: Path) -> str:
    return helm("lint", "--strict", str(UMBRELLA), *value_files(target, workdir))


def documents(manifest: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(manifest) if doc]


def main() -> int:
    """Lint and render every stage (primary region) to reports/charts/<stage>.yaml."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    workdir = ROOT / "reports" / "charts-values"
    try:
        build_dependencies()
        for stage in STAGE_NAMES:
            target = Target(stage)
            lint_out = lint(target, workdir)
            manifest = render(target, workdir)
            out = REPORTS / f"{stage}.yaml"
            out.write_text(manifest)
            print(
                f"charts: {stage}: helm lint --strict, Kubernetes {eks_version(stage)}: "
                f"{lint_out.strip().splitlines()[-1]}; {len(documents(manifest))} manifests -> {out.relative_to(ROOT)}"
            )
    except RenderError as exc:
        print(f"charts: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
