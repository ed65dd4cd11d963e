"""Prices every resource of a stage: line items from the rules, the free types, and the unpriced rest."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from cost.hcl import Resource
from cost.prices import MissingPrice, PriceError, PriceTable
from cost.profiles import UsageProfile
from cost.rules import FREE_TYPES, RULES, Context, LineItem


@dataclass(frozen=True)
class Unpriced:
    address: str
    type: str
    reason: str
    missing: str = ""  # the price row it lacks, when that is the reason


@dataclass(frozen=True)
class StageEstimate:
    stage: str
    profile: str
    lines: list[LineItem]
    unpriced: list[Unpriced]
    resources: int

    @property
    def monthly_usd(self) -> float:
        return sum(line.monthly_usd for line in self.lines)

    def _group(self, key: str) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for line in self.lines:
            group = {
                "layer": line.resource.layer,
                "region": line.billed_region,
                "stack": line.resource.stack,
                "type": line.resource.type,
            }[key]
            totals[group] += line.monthly_usd
        return dict(sorted(totals.items()))

    @property
    def by_layer(self) -> dict[str, float]:
        return self._group("layer")

    @property
    def by_region(self) -> dict[str, float]:
        return self._group("region")

    @property
    def by_type(self) -> dict[str, float]:
        return self._group("type")

    def role_total(self, role: str) -> float:
        return sum(line.monthly_usd for line in self.lines if line.resource.role == role)


def estimate_stage(
    stage: str, resources: list[Resource], profile: UsageProfile, tables: dict[str, PriceTable]
) -> StageEstimate:
    mine = [r for r in resources if r.stage == stage]
    ctx = Context(profile=profile, tables=tables, resources=mine)
    lines: list[LineItem] = []
    unpriced: list[Unpriced] = []
    for resource in mine:
        rule = RULES.get(resource.type)
        if rule is None:
            if resource.type not in FREE_TYPES:
                unpriced.append(Unpriced(resource.address, resource.type, "no pricing rule for this type"))
            continue
        try:
            lines.extend(rule(resource, ctx))
        except (PriceError, KeyError, ValueError, TypeError) as exc:
            missing = exc.row if isinstance(exc, MissingPrice) else ""
            unpriced.append(Unpriced(resource.address, resource.type, f"cannot price: {exc}", missing))
    return StageEstimate(stage, profile.name, lines, unpriced, len(mine))
