"""The committed cost report matches what the current cdktf.out gives, and the JSON carries the figures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cost.charts import render_charts
from cost.cli import main
from cost.hcl import Resource
from cost.prices import load_tables
from cost.profiles import load_profiles
from cost.report import CHARTS_DIR, REPORT_PATH, Report, estimate_all, pricing_path, report_from
from cost.tests.conftest import provider
from cost.tests.test_rules import NETWORK
from cost.tradeoffs import FLAT_RATE_TOPIC, ConfigChange, Option

STALE = "cost report is stale: run `make cost` (after `make synth`) and commit cost/REPORT.md and cost/charts/"


@pytest.fixture(scope="module")
def report(synthesized: list[Resource]) -> Report:
    return report_from(synthesized, load_profiles(), load_tables({r.region for r in synthesized}))


def test_committed_report_is_current(report: Report) -> None:
    assert REPORT_PATH.is_file(), STALE
    assert report.markdown == REPORT_PATH.read_text(), STALE


def test_committed_charts_are_current(report: Report) -> None:
    for name, png in report.charts.items():
        path = CHARTS_DIR / name
        assert path.is_file(), f"{name} missing; {STALE}"
        assert hashlib.sha256(png).hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest(), f"{name}: {STALE}"


def test_charts_are_byte_identical_on_every_render(synthesized: list[Resource]) -> None:
    profiles = load_profiles()
    estimates = estimate_all(
        [r for r in synthesized if r.stage == "prod"], profiles, load_tables({r.region for r in synthesized})
    )
    assert render_charts(estimates) == render_charts(estimates)


def test_json_has_every_stage_with_its_breakdowns(report: Report, synthesized: list[Resource]) -> None:
    data = report.data
    assert set(data["stages"]) == {r.stage for r in synthesized}
    for stage, figures in data["stages"].items():
        assert figures["monthly_usd"] > 0, stage
        assert sum(figures["by_layer"].values()) == pytest.approx(figures["monthly_usd"], abs=0.05), stage
        assert sum(figures["by_region"].values()) == pytest.approx(figures["monthly_usd"], abs=0.05), stage
        assert set(figures["by_layer"]) <= {r.layer for r in synthesized if r.stage == stage}
        assert isinstance(figures["unpriced"], list)
        assert set(figures["profiles"]) == {"baseline", "black-friday"}
    prod = data["stages"]["prod"]
    assert prod["profiles"]["black-friday"]["monthly_usd"] >= prod["monthly_usd"]
    assert data["target"]["monthly_usd"] == prod["monthly_usd"]
    assert data["target"]["within"] == (prod["monthly_usd"] <= 2500)
    for name in ("baseline", "black-friday"):
        assert data["per_1000_orders"][name] > 0
    path = data["target"]["pricing_path"]
    assert path["on_demand_usd"] == prod["monthly_usd"]
    assert data["target"]["within_with_pricing_measures"] == (list(path.values())[-1] <= 2500)
    uncommitted = path.get("with_flat_rate_plan_usd", path["after_size_changes_usd"])
    assert data["target"]["within_without_commitment"] == (uncommitted <= 2500)


def test_pricing_path_applies_sizes_then_the_flat_rate_plan_then_the_commitment() -> None:
    options = [
        Option("Savings Plans / reserved instances", "1-year no-upfront commitment", -300.0, "none", basis_usd=1000.0),
        Option(FLAT_RATE_TOPIC, "flat-rate Business plan", -200.0, "none"),
    ]
    changes = [ConfigChange("db_instance_class", "db.r6g.large", "db.m7g.large", -100.0, "same topology")]
    assert pricing_path(3000.0, options, changes) == {
        "on_demand_usd": 3000.0,
        "after_size_changes_usd": 2900.0,
        "with_flat_rate_plan_usd": 2700.0,
        "with_1yr_commitment_usd": pytest.approx(2700.0 - 0.30 * 900.0),  # the commitment covers the resized spend
    }
    assert list(pricing_path(3000.0, [], [])) == ["on_demand_usd", "after_size_changes_usd"]


def test_synthesized_stacks_have_no_resource_the_rules_cannot_price(report: Report) -> None:
    failures = [
        u
        for s in report.data["stages"].values()
        for u in s["unpriced"]
        if u["reason"] != "no pricing rule for this type"
    ]
    assert failures == []  # a rule that exists must find its prices in the committed tables


def test_cli_for_one_stage_writes_only_the_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outdir = tmp_path / "cdktf.out"
    for name, body in (("prod-primary-network", NETWORK), ("dev-primary-network", NETWORK)):
        (outdir / "stacks" / name).mkdir(parents=True)
        (outdir / "stacks" / name / "cdk.tf").write_text(provider("us-east-1") + body)
    before = REPORT_PATH.read_bytes()
    target = tmp_path / "cost.json"
    assert main(["report", "--outdir", str(outdir), "--stage", "prod", "--json", str(target)]) == 0
    data = json.loads(target.read_text())
    assert set(data["stages"]) == {"prod"}
    prod = data["stages"]["prod"]
    assert {"monthly_usd", "by_layer", "by_region", "unpriced"} <= set(prod)
    assert set(prod["by_layer"]) == {"network"} and set(prod["by_region"]) == {"us-east-1"}
    assert set(data["per_1000_orders"]) == {"baseline", "black-friday"}
    assert REPORT_PATH.read_bytes() == before
    assert "prod baseline $" in capsys.readouterr().out


def test_cli_refuses_a_partial_report_from_a_one_stage_synth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "prod-primary-network").mkdir(parents=True)
    (outdir / "stacks" / "prod-primary-network" / "cdk.tf").write_text(provider("us-east-1") + NETWORK)
    before = REPORT_PATH.read_bytes()
    assert main(["report", "--outdir", str(outdir), "--stage", "", "--json", str(tmp_path / "c.json")]) == 2
    assert "no stacks for dev, staging" in capsys.readouterr().err
    assert REPORT_PATH.read_bytes() == before


def test_cli_without_synth_output_says_what_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--outdir", str(tmp_path), "--json", str(tmp_path / "c.json")]) == 2
    assert "run `make synth` first" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()


def test_report_compares_declared_budgets_with_the_estimate() -> None:
    from cost.tests.conftest import TABLES, profile, stack

    budget = """
resource "aws_budgets_budget" "budget" {
  budget_type = "COST"
  limit_amount = "50"
  limit_unit = "USD"
  time_unit = "MONTHLY"
}
"""
    resources = stack("prod-primary-network", NETWORK) + stack("prod-primary-observability", budget)
    peak = profile(peak_multiplier=2, peak_hours_per_month=10)
    built = report_from(resources, {"baseline": profile(), "black-friday": peak}, TABLES)
    nat_and_endpoints = 2 * 730 * 0.045 + 730 * 0.005 + 3 * 730 * 0.01  # fixed costs alone exceed $50
    assert built.data["stages"]["prod"]["monthly_usd"] > nat_and_endpoints > 50
    assert "| prod | $50.00 |" in built.markdown
    assert "estimate exceeds the budget" in built.markdown
