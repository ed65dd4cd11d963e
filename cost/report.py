"""Builds the cost report (Markdown + PNG charts + machine JSON) from cdktf.out, in memory, deterministically:
the same synthesized stacks, prices and profiles give byte-identical files, so a test can tell when the
committed report is stale."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cost.charts import render_charts
from cost.estimate import StageEstimate, estimate_stage
from cost.hcl import Resource, read_outdir
from cost.prices import PRICES_DIR, PriceTable, load_tables
from cost.profiles import PROFILES_DIR, UsageProfile, load_profiles
from cost.rules import FREE_TYPES, PEAK_REPLICA_LEAD_HOURS, RULES
from cost.tradeoffs import FLAT_RATE_TOPIC, ConfigChange, Option, config_changes, prod_options

COST_DIR = Path(__file__).parent
REPORT_PATH = COST_DIR / "REPORT.md"
CHARTS_DIR = COST_DIR / "charts"
STAGE_ORDER = ("dev", "staging", "prod")
TARGET_STAGE = "prod"
TARGET_USD = 2500.0
TOP_LINES = 15
DRIVERS = 4
TRADE_TOPICS = ("Backup scope", "Warm standby vs pilot light")
ASSUMPTIONS = (
    "730 hours a month, on-demand list prices; free tiers (SQS first million requests, ten CloudWatch alarms, "
    "three dashboards) are ignored, so small items are slightly overstated.",
    "Desired node counts are sized for the baseline; during a profile's peak hours traffic-serving node groups "
    "scale in proportion to the load, never beyond their max size. System node groups keep their size.",
    "Read replicas a writer's `peak-read-replicas` tag adds for planned peaks bill for the profile's peak hours "
    f"plus {PEAK_REPLICA_LEAD_HOURS} hours to build them beforehand.",
    "The warm-standby secondary region serves no user traffic (`secondary_traffic_share`); it pays for its "
    "running capacity, replication and a share of the primary's log volume.",
    "One AWS account per stage: the first CloudTrail trail of each stage records management events for free.",
    "S3 is priced at the steady state of a bucket written at a constant rate for `storage_horizon_days`, "
    "following its lifecycle transitions; noncurrent versions and request charges are not modelled.",
    "RDS backup storage up to the provisioned size is free; the daily change kept for the retention is billed. "
    "AWS Backup recovery points are a full copy plus the daily change kept for each rule's retention.",
    "Not priced: KMS and Secrets Manager API requests, application custom metrics, Route 53 queries (alias "
    "records are free), Performance Insights beyond the free 7 days (none configured), data transfer out "
    "except through CloudFront.",
)


@dataclass(frozen=True)
class Report:
    markdown: str
    charts: dict[str, bytes]
    data: dict[str, Any]


def _usd(value: float) -> str:
    return f"-${-value:,.2f}" if value < -0.005 else f"${abs(value):,.2f}"


def _delta(option: Option) -> str:
    """An option's monthly delta, or the price row it lacks: it is listed either way, never dropped."""
    if option.monthly_delta_usd is None:
        return f"not priced: {option.missing}"
    return _usd(option.monthly_delta_usd)


def _stages(resources: list[Resource]) -> list[str]:
    present = {r.stage for r in resources}
    return [s for s in STAGE_ORDER if s in present] + sorted(present - set(STAGE_ORDER))


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 2) for k, v in values.items()}


def _round_or_none(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def estimate_all(
    resources: list[Resource], profiles: dict[str, UsageProfile], tables: dict[str, PriceTable]
) -> dict[str, dict[str, StageEstimate]]:
    """estimates[stage][profile]."""
    return {
        stage: {name: estimate_stage(stage, resources, profile, tables) for name, profile in profiles.items()}
        for stage in _stages(resources)
    }


def _saves(option: Option) -> bool:
    return (option.monthly_delta_usd or 0.0) < 0  # an option not priced saves nothing we know of


def _commitment(options: list[Option]) -> tuple[float, float] | None:
    """The priced 1-year commitment's monthly delta and the steady spend it applies to."""
    for o in options:
        if o.option.startswith("1-year") and o.monthly_delta_usd is not None and o.basis_usd:
            return o.monthly_delta_usd, o.basis_usd
    return None


def pricing_path(total: float, options: list[Option], changes: list[ConfigChange]) -> dict[str, float]:
    """Prod's monthly figure after each step that keeps every resilience requirement: the size changes, then
    CloudFront's flat-rate plan (a monthly plan, no commitment), then a 1-year commitment on the (resized)
    steady instance spend."""
    sized = total + sum(c.monthly_delta_usd for c in changes)
    path = {"on_demand_usd": total, "after_size_changes_usd": sized}
    flat = next((o.monthly_delta_usd for o in options if o.topic == FLAT_RATE_TOPIC and _saves(o)), None)
    if flat is not None:
        path["with_flat_rate_plan_usd"] = sized + flat
    commit = _commitment(options)
    if commit:
        delta, basis = commit
        # The size changes only touch instance-hours, so the committed spend shrinks by their deltas.
        resized = basis + sum(c.monthly_delta_usd for c in changes)
        path["with_1yr_commitment_usd"] = list(path.values())[-1] + delta / basis * resized
    return path


def build_data(
    estimates: dict[str, dict[str, StageEstimate]],
    profiles: dict[str, UsageProfile],
    tables: dict[str, PriceTable],
    options: list[Option],
    changes: list[ConfigChange],
) -> dict[str, Any]:
    stages: dict[str, Any] = {}
    for stage, by_profile in estimates.items():
        base = by_profile["baseline"]
        stages[stage] = {
            "monthly_usd": round(base.monthly_usd, 2),
            "by_layer": _rounded(base.by_layer),
            "by_region": _rounded(base.by_region),
            "by_role": {role: round(base.role_total(role), 2) for role in ("primary", "secondary")},
            "unpriced": [{"address": u.address, "type": u.type, "reason": u.reason} for u in base.unpriced],
            "profiles": {
                name: {
                    "monthly_usd": round(e.monthly_usd, 2),
                    "by_layer": _rounded(e.by_layer),
                    "by_region": _rounded(e.by_region),
                }
                for name, e in by_profile.items()
            },
        }
    data: dict[str, Any] = {
        "price_tables": {region: t.as_of for region, t in tables.items()},
        "stages": stages,
        "per_1000_orders": {},
        "target": None,
        "options": [o.__dict__ | {"monthly_delta_usd": _round_or_none(o.monthly_delta_usd)} for o in options],
        "config_changes": [c.__dict__ | {"monthly_delta_usd": round(c.monthly_delta_usd, 2)} for c in changes],
    }
    if TARGET_STAGE in estimates:
        for name, e in estimates[TARGET_STAGE].items():
            data["per_1000_orders"][name] = round(e.monthly_usd / profiles[name].orders_per_month() * 1000, 2)
        total = estimates[TARGET_STAGE]["baseline"].monthly_usd
        path = pricing_path(total, options, changes)
        best = list(path.values())[-1]
        data["target"] = {
            "stage": TARGET_STAGE,
            "profile": "baseline",
            "max_monthly_usd": TARGET_USD,
            "monthly_usd": round(total, 2),
            "within": total <= TARGET_USD,
            "over_by_usd": round(max(0.0, total - TARGET_USD), 2),
            "pricing_path": _rounded(path),
            "within_with_pricing_measures": best <= TARGET_USD,
            # No commitment: on-demand instances, CloudFront on its monthly flat-rate plan where that saves.
            "within_without_commitment": path.get("with_flat_rate_plan_usd", path["after_size_changes_usd"])
            <= TARGET_USD,
        }
    return data


def _numeric(cell: str) -> bool:
    return bool(re.fullmatch(r"[-+]?\$?-?[\d,.]+%?", cell))


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table; columns holding only figures are right-aligned."""
    align = ["---:" if rows and all(_numeric(row[i]) for row in rows) else "---" for i in range(len(header))]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"] + [
        "| " + " | ".join(row) + " |" for row in rows
    ]


def _markdown(
    resources: list[Resource],
    estimates: dict[str, dict[str, StageEstimate]],
    profiles: dict[str, UsageProfile],
    tables: dict[str, PriceTable],
    data: dict[str, Any],
    options: list[Option],
    changes: list[ConfigChange],
) -> str:
    stacks = sorted({r.stack for r in resources})
    names = list(profiles)
    focus = TARGET_STAGE if TARGET_STAGE in estimates else next(reversed(estimates))
    out = [
        "# Peakshop cost report",
        "",
        "Generated by `make cost` from the synthesized stacks in `cdktf.out` "
        f"({len(stacks)} stacks, {len(resources)} resources) with the price tables "
        + ", ".join(f"`cost/prices/{r}.yaml` (as of {t.as_of})" for r, t in tables.items())
        + " and the usage profiles in `cost/profiles/`. Do not edit by hand: run `make cost`.",
        "",
        "All figures are USD per month (730 hours), on-demand list prices, before free tiers and credits.",
        "",
        "## Monthly cost per stage",
        "",
    ]
    rows = []
    for stage, by_profile in estimates.items():
        base = by_profile["baseline"]
        rows.append(
            [stage]
            + [_usd(by_profile[n].monthly_usd) for n in names]
            + [_usd(base.role_total("primary")), _usd(base.role_total("secondary")), str(len(base.unpriced))]
        )
    out += _table(["stage", *names, "primary (baseline)", "secondary (baseline)", "unpriced resources"], rows)
    target = data.get("target")
    if target:
        out += ["", f"## Prod against the ${TARGET_USD:,.0f} target", ""]
        verdict = (
            f"**within the target** ({_usd(TARGET_USD - target['monthly_usd'])} to spare)"
            if target["within"]
            else f"**over the target by {_usd(target['over_by_usd'])}**"
        )
        out.append(
            f"Prod (primary + warm-standby secondary) at the baseline profile costs "
            f"**{_usd(target['monthly_usd'])}** per month at on-demand, pay-as-you-go prices: {verdict}."
        )
        running = target["monthly_usd"]
        if changes:
            out += [
                "",
                "Size changes in `stacks/config.py` `_defaults()` (prod `sizes`) that keep every resilience "
                "requirement (Multi-AZ writer, read replicas, cross-region replica, NAT per AZ, Multi-AZ Redis, "
                "warm standby), each re-priced from the synthesized stacks:",
                "",
            ]
            crows = []
            for c in changes:
                running += c.monthly_delta_usd
                crows.append(
                    [f"`{c.field}`", f"{c.current} -> {c.proposed}", _usd(c.monthly_delta_usd), _usd(running), c.why]
                )
            out += _table(["field", "change", "monthly delta", "prod after", "resilience"], crows)
        path = pricing_path(estimates[TARGET_STAGE]["baseline"].monthly_usd, options, changes)
        best = path["after_size_changes_usd"]
        if "with_flat_rate_plan_usd" in path:
            flat_saving = best - path["with_flat_rate_plan_usd"]
            best = path["with_flat_rate_plan_usd"]
            out += [
                "",
                f"CloudFront's flat-rate Business plan instead of pay-as-you-go for the edge saves "
                f"{_usd(flat_saving)} without touching resilience (see the option below). It is a monthly plan with "
                "no commitment, subscribed once per prod account (the pinned Terraform provider has no resource for "
                f"it: `ops/README.md` gives the two CLI calls): prod **{_usd(best)}**, "
                + (
                    f"**within the target** ({_usd(TARGET_USD - best)} to spare) with no commitment."
                    if best <= TARGET_USD
                    else f"still {_usd(best - TARGET_USD)} over."
                ),
            ]
        commit = _commitment(options)
        if commit and "with_1yr_commitment_usd" in path:
            saved = best - path["with_1yr_commitment_usd"]
            best = path["with_1yr_commitment_usd"]
            out += [
                "",
                f"A 1-year no-upfront Savings Plan / reserved instances on the steady instance spend saves another "
                f"{_usd(saved)}: prod {_usd(best)} at committed prices.",
            ]
        if best > TARGET_USD:
            trades = [o for o in options if _saves(o) and o.topic in TRADE_TOPICS]
            listed = "; ".join(f"{o.option} ({_delta(o)})" for o in trades)
            out += [
                "",
                f"That still leaves **{_usd(best - TARGET_USD)}** above the target. Closing the gap needs a "
                "change that trades some resilience or protection (deltas below are each against the "
                f"current stacks, not additive with the above): {listed}.",
            ]
        out += ["", "## Cost per 1,000 orders (prod)", ""]
        out += _table(
            ["profile", "orders per month", "prod monthly", "per 1,000 orders"],
            [
                [
                    n,
                    f"{profiles[n].orders_per_month():,.0f}",
                    _usd(estimates[TARGET_STAGE][n].monthly_usd),
                    _usd(data["per_1000_orders"][n]),
                ]
                for n in names
            ],
        )
    out += ["", "## By layer (baseline)", ""]
    layers = sorted({layer for by in estimates.values() for layer in by["baseline"].by_layer})
    out += _table(
        ["layer", *estimates],
        [[layer] + [_usd(by["baseline"].by_layer.get(layer, 0.0)) for by in estimates.values()] for layer in layers],
    )
    out += ["", "## By region (baseline)", ""]
    regions = sorted({r for by in estimates.values() for r in by["baseline"].by_region})
    out += _table(
        ["region", *estimates],
        [
            [region] + [_usd(by["baseline"].by_region.get(region, 0.0)) for by in estimates.values()]
            for region in regions
        ],
    )
    out += ["", "![Monthly cost by layer](charts/cost_by_layer.png)", ""]
    if len(names) > 1:
        out += ["## Baseline vs peak", ""]
        peak = names[1]
        out.append(
            f"The `{peak}` profile runs {profiles[peak].peak_multiplier:g}x traffic for "
            f"{profiles[peak].peak_hours_per_month:g} hours; traffic-serving node groups scale from desired towards "
            "max (never past it), request-priced services scale with the volume."
        )
        out.append("")
        prows = []
        for stage, by_profile in estimates.items():
            base, high = by_profile["baseline"].monthly_usd, by_profile[peak].monthly_usd
            prows.append([stage, _usd(base), _usd(high), f"{(high / base - 1) * 100 if base else 0:+.1f}%"])
        out += _table(["stage", "baseline", peak, "change"], prows)
        out += ["", "Node groups at the peak:", ""]
        nrows = []
        for line in estimates[focus][peak].lines:
            if line.resource.type in ("aws_eks_node_group", "aws_autoscaling_group") and line.unit == "instance-hours":
                nrows.append([f"`{line.resource.stack}/{line.resource.name}`", line.item, _usd(line.monthly_usd)])
        out += _table(["node group", "sizing", "monthly"], nrows) if nrows else ["(no node groups synthesized)"]
        out += ["", "![Baseline vs peak](charts/baseline_vs_peak.png)", ""]
    out += [f"## Top line items ({focus}, baseline)", ""]
    base = estimates[focus]["baseline"]
    merged: dict[tuple[str, str, str], float] = defaultdict(float)
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for line in base.lines:
        key = (line.resource.stack, line.resource.type, line.item)
        merged[key] += line.monthly_usd
        counts[key] += 1
    top = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_LINES]
    out += _table(
        ["stack", "resource type", "item", "count", "monthly"],
        [[k[0], f"`{k[1]}`", k[2], str(counts[k]), _usd(v)] for k, v in top],
    )
    out += [
        "",
        f"Total of all {len(base.lines)} line items: {_usd(base.monthly_usd)} (the stage total is their sum).",
        "",
    ]
    out += ["## Largest cost drivers per stage (baseline)", ""]
    drivers = []
    for stage, by_profile in estimates.items():
        ranked = sorted(by_profile["baseline"].by_type.items(), key=lambda kv: (-kv[1], kv[0]))[:DRIVERS]
        drivers.append([stage, ", ".join(f"`{t}` {_usd(v)}" for t, v in ranked)])
    out += _table(["stage", f"top {DRIVERS} resource types"], drivers)
    out.append("")
    if options:
        out += [f"## Cost-benefit options ({TARGET_STAGE}, baseline)", ""]
        out.append(
            "Each option is priced by re-running the estimator on a changed copy of the synthesized resources "
            "(or profile); the delta is against the current prod total."
        )
        out.append("")
        out += _table(
            ["topic", "option", "monthly delta", "resilience"],
            [[o.topic, o.option, _delta(o), o.resilience] for o in options],
        )
    out += [
        "",
        "## Where AWS Budgets and Trusted Advisor fit",
        "",
        "- **AWS Budgets** (declared in the observability layer) turns this estimate into a guard rail: a monthly "
        "cost budget per stage at the figure above plus headroom, alerting at 80% actual and 100% forecast, and "
        "a Black Friday budget raised for the peak month. Monitoring budgets are free; only action-enabled "
        "budgets beyond two cost money, and the estimator prices those (`aws_budgets_budget_action`).",
        "- **Trusted Advisor** works after deployment on real usage: idle load balancers, low-utilisation "
        "instances, unassociated Elastic IPs, under-used reserved capacity, and Savings Plan recommendations "
        "to size the commitment above. This report prices what is declared; Trusted Advisor and Cost Explorer "
        "check what actually runs.",
        "",
    ]
    budgets = _budgets(resources)
    if budgets:
        out += ["Monthly budgets declared in the stacks against this estimate:", ""]
        brows = []
        for stage, limit in budgets.items():
            if stage not in estimates:
                continue
            high = max(e.monthly_usd for e in estimates[stage].values())
            verdict = "estimate exceeds the budget" if high > limit else f"budget is {limit / high:.1f}x the peak month"
            brows.append([stage, _usd(limit), _usd(estimates[stage]["baseline"].monthly_usd), _usd(high), verdict])
        out += _table(["stage", "budget", "baseline estimate", "peak-month estimate", "check"], brows)
        out.append("")
    out += ["## Assumptions and what is not priced", ""]
    out += [f"- {a}" for a in ASSUMPTIONS]
    out.append("")
    unpriced = [(s, u) for s, by in estimates.items() for u in by["baseline"].unpriced]
    out += ["## Unpriced resources", ""]
    if unpriced:
        out.append("These cost-bearing resources have no pricing rule or price yet; the totals above omit them.")
        out.append("")
        out += _table(["stage", "resource", "why"], [[s, f"`{u.address}`", u.reason] for s, u in unpriced])
    else:
        out.append("None: every resource type synthesized has a pricing rule or is known to be free.")
    used = sorted(
        {(line.billed_region, line.price_key) for by in estimates.values() for e in by.values() for line in e.lines}
    )
    out += ["", "## Prices used", ""]
    out.append(
        f"{len(RULES)} resource types have pricing rules and {len(FREE_TYPES)} are known to be free. "
        "Rows marked unverified are not pinned in the team's facts file; check them before relying on them."
    )
    out.append("")
    out += _table(
        ["region", "price", "USD", "unit", "verified", "source"],
        [
            [
                region,
                f"`{key}`",
                f"{tables[region].rows[key].usd:g}",
                tables[region].rows[key].unit,
                "yes" if tables[region].rows[key].verified else "**no**",
                tables[region].rows[key].source,
            ]
            for region, key in used
        ],
    )
    out += ["", "## Usage profiles", ""]
    fields = list(next(iter(profiles.values())).values)
    out += _table(
        ["field", *names],
        [[f, *(_fmt(profiles[n].values[f]) for n in names)] for f in fields],
    )
    return "\n".join(out) + "\n"


def _budgets(resources: list[Resource]) -> dict[str, float]:
    """Monthly COST budget limits per stage, as declared (aws_budgets_budget)."""
    limits: dict[str, float] = defaultdict(float)
    for r in resources:
        a = r.attrs
        if r.type == "aws_budgets_budget" and a.get("time_unit") == "MONTHLY" and a.get("budget_type") == "COST":
            try:
                limits[r.stage] += float(a.get("limit_amount", 0))
            except (TypeError, ValueError):
                continue  # a token, not a figure
    return dict(sorted(limits.items()))


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v:g}" for k, v in value.items())
    return f"{value:g}"


def report_from(resources: list[Resource], profiles: dict[str, UsageProfile], tables: dict[str, PriceTable]) -> Report:
    estimates = estimate_all(resources, profiles, tables)
    options: list[Option] = []
    changes: list[ConfigChange] = []
    if TARGET_STAGE in estimates:
        options = prod_options(TARGET_STAGE, resources, profiles["baseline"], tables)
        changes = config_changes(TARGET_STAGE, resources, profiles["baseline"], tables)
    data = build_data(estimates, profiles, tables, options, changes)
    markdown = _markdown(resources, estimates, profiles, tables, data, options, changes)
    return Report(markdown, render_charts(estimates, TARGET_USD if TARGET_STAGE in estimates else None), data)


def build_report(
    outdir: Path, stage: str | None = None, prices_dir: Path = PRICES_DIR, profiles_dir: Path = PROFILES_DIR
) -> Report:
    resources = read_outdir(outdir, stage)
    profiles = load_profiles(profiles_dir)
    return report_from(resources, profiles, load_tables({r.region for r in resources}, prices_dir))
