"""Configuration validation: bad values fail before synth with a message naming the field."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stacks.config import STAGE_NAMES, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def load_with(tmp_path: Path, override: dict) -> None:
    path = tmp_path / "override.yaml"
    path.write_text(yaml.safe_dump(override))
    load_config({"PEAKSHOP_CONFIG": str(path)})


def test_defaults_cover_three_stages_with_two_distinct_regions() -> None:
    config = load_config({})
    assert tuple(config.stages) == STAGE_NAMES
    for stage in config.stages.values():
        assert (stage.primary.region, stage.secondary.region) == ("us-east-1", "us-west-2")
        assert len(stage.primary.azs) == 3


def test_vpc_cidrs_do_not_overlap_across_stages_and_regions() -> None:
    config = load_config({})
    nets = [
        ipaddress.ip_network(s.region(r).vpc_cidr) for s in config.stages.values() for r in ("primary", "secondary")
    ]
    assert len(nets) == 6
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])


def test_subnet_tiers_fit_inside_the_vpc_without_overlap() -> None:
    region = load_config({}).stages["prod"].primary
    tiers = region.subnet_cidrs()
    subnets = [ipaddress.ip_network(c) for cidrs in tiers.values() for c in cidrs]
    vpc = ipaddress.ip_network(region.vpc_cidr)
    assert all(s.subnet_of(vpc) for s in subnets)
    assert not any(a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1 :])


def test_regions_are_overridable_by_environment() -> None:
    config = load_config({"PEAKSHOP_PRIMARY_REGION": "eu-west-1", "PEAKSHOP_SECONDARY_REGION": "eu-central-1"})
    prod = config.stages["prod"]
    assert (prod.primary.region, prod.secondary.region) == ("eu-west-1", "eu-central-1")
    assert prod.secondary.azs[0] == "eu-central-1a"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"stages": {"prod": {"secondary": {"vpc_cidr": "10.30.128.0/17"}}}}, "stages.prod.secondary.vpc_cidr: "),
        ({"stages": {"staging": {"primary": {"vpc_cidr": "10.10.0.0/16"}}}}, "overlaps stages.dev.primary.vpc_cidr"),
        ({"stages": {"dev": {"primary": {"azs": ["us-east-1a"]}}}}, "stages.dev.primary.azs: at least 2"),
        ({"stages": {"prod": {"sizes": {"db_read_replicas": 0}}}}, "stages.prod.sizes.db_read_replicas: prod needs"),
        (
            {"stages": {"prod": {"sizes": {"db_peak_read_replicas": 1}}}},
            "stages.prod.sizes.db_peak_read_replicas: prod needs at least 2",
        ),
        (
            {"stages": {"dev": {"sizes": {"db_read_replicas": 2, "db_peak_read_replicas": 1}}}},
            "stages.dev.sizes.db_peak_read_replicas: at least db_read_replicas",
        ),
        ({"stages": {"prod": {"sizes": {"db_multi_az": False}}}}, "stages.prod.sizes.db_multi_az"),
        ({"stages": {"prod": {"sizes": {"nat_per_az": False}}}}, "stages.prod.sizes.nat_per_az"),
        ({"stages": {"qa": {}}}, "qa: unknown field"),
        ({"stages": {"dev": {"sizes": {"cache_nodes": "two"}}}}, "stages.dev.sizes.cache_nodes: expected an integer"),
        ({"stages": {"dev": {"sizes": {"app_nodes": {"min_size": 5}}}}}, "stages.dev.sizes.app_nodes: need"),
        ({"stages": {"dev": {"secondary": {"region": "us-east-1"}}}}, "stages.dev.secondary.region: must differ"),
        ({"stages": {"dev": {"primary": {"vpc_cidr": "10.999.0.0/16"}}}}, "stages.dev.primary.vpc_cidr: "),
        ({"stages": {"prod": {"eks_public_access_cidrs": ["0.0.0.0/0"]}}}, "stages.prod.eks_public_access_cidrs: "),
        ({"stages": {"dev": {"eks_public_access_cidrs": ["10.0.0.300/24"]}}}, "stages.dev.eks_public_access_cidrs: "),
        ({"stages": {"dev": {"eks_version": "latest"}}}, "stages.dev.eks_version: expected"),
        ({"stages": {"dev": {"eks_admin_roles": []}}}, "stages.dev.eks_admin_roles: at least one"),
    ],
)
def test_bad_configuration_names_the_field(tmp_path: Path, override: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_with(tmp_path, override)


def test_planned_peak_builds_the_peak_read_replicas() -> None:
    base, peak = load_config({}).stages["prod"].sizes, load_config({"PEAKSHOP_PEAK": "true"}).stages["prod"].sizes
    assert (base.db_read_replicas, peak.db_read_replicas) == (base.db_read_replicas, base.db_peak_read_replicas)
    assert peak.db_read_replicas > base.db_read_replicas
    with pytest.raises(ConfigError, match="PEAKSHOP_PEAK: expected true or false, got 'yes'"):
        load_config({"PEAKSHOP_PEAK": "yes"})


def test_unknown_stage_selection_is_rejected() -> None:
    with pytest.raises(ConfigError, match="stage: unknown stage 'qa'"):
        load_config({}).select("qa")


def test_synth_refuses_a_broken_config_with_a_message_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "overlap.yaml"
    bad.write_text(yaml.safe_dump({"stages": {"prod": {"secondary": {"vpc_cidr": "10.30.0.0/16"}}}}))
    outdir = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PEAKSHOP_CONFIG": str(bad), "CDKTF_OUTDIR": str(outdir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "configuration error: stages.prod.secondary.vpc_cidr: 10.30.0.0/16 overlaps" in result.stderr
    assert not outdir.exists()


def test_a_one_stage_synth_writes_hcl_and_prints_only_the_summary(tmp_path: Path, hcl_outdir: Path) -> None:
    """`make synth` must finish without warnings or banners (Node deprecations from the jsii kernel included)."""
    outdir = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=ROOT,
        env={
            "PATH": f"{ROOT / '.tools' / 'bin'}:/usr/bin:/bin",
            "STAGE": "dev",
            "SYNTH_HCL_OUTPUT": "true",
            "CDKTF_OUTDIR": str(outdir),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["stack", "resources"]
    written = sorted(p.parent.name for p in outdir.glob("stacks/*/cdk.tf"))
    assert written == sorted(line.split()[0] for line in lines[1:-1])
    assert written == sorted(p.name for p in (hcl_outdir / "stacks").iterdir() if p.name.startswith("dev-"))
    assert lines[-1].startswith(f"{len(written)} stacks, ")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"alarms": {"rds_cpu_percent": 120}}, r"stages\.dev\.alarms\.rds_cpu_percent: a percentage"),
        ({"alarms": {"queue_oldest_message_s": 0}}, r"stages\.dev\.alarms\.queue_oldest_message_s: must be positive"),
        ({"monthly_budget_usd": -5}, r"stages\.dev\.monthly_budget_usd: must be positive"),
    ],
)
def test_alarm_thresholds_and_budget_are_validated(tmp_path: Path, override: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_with(tmp_path, {"stages": {"dev": override}})


def test_prod_alarms_are_at_least_as_strict_as_dev() -> None:
    stages = load_config({}).stages
    assert stages["prod"].alarms.alb_5xx_percent <= stages["dev"].alarms.alb_5xx_percent
    assert stages["prod"].alarms.target_p99_ms <= stages["dev"].alarms.target_p99_ms
