"""`drill start <template>`: start an AWS FIS experiment and follow it to its end, showing the customer-impact
alarm (the templates' stop condition) at every poll, so the operator sees why an experiment was stopped."""

from __future__ import annotations

import re
import sys
import time
import uuid
from typing import Any

from ops.aws import Aws
from ops.names import RegionNames
from ops.runbook import Planned, Precondition, Runbook, StepFailed, check_first, run_plan

TEMPLATE_ID = re.compile(r"^EXT[0-9A-Za-z]+$")
TERMINAL = ("completed", "stopped", "failed", "cancelled")


def resolve_template(fis: Any, region: RegionNames, wanted: str) -> dict[str, Any]:
    """By id (EXT...), or by Name tag: exactly `wanted` or `<prefix>-<wanted>` (stacks name them so)."""
    if TEMPLATE_ID.match(wanted):
        try:
            return dict(fis.get_experiment_template(id=wanted)["experimentTemplate"])
        except fis.exceptions.ResourceNotFoundException as exc:
            raise Precondition(f"no FIS experiment template {wanted} in {region.region}") from exc
    names = {wanted, f"{region.prefix}-{wanted}"}
    known: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = fis.list_experiment_templates(**token)
        for template in page["experimentTemplates"]:
            name = (template.get("tags") or {}).get("Name", "")
            known.append(name or template["id"])
            if name in names:
                return dict(fis.get_experiment_template(id=template["id"])["experimentTemplate"])
        if not page.get("nextToken"):
            break
        token = {"nextToken": page["nextToken"]}
    raise Precondition(f"no FIS experiment template named {wanted!r} in {region.region} (found: {known or 'none'})")


def alarm_state(aws: Aws, region: RegionNames) -> str:
    cloudwatch = aws.client("cloudwatch", region.region)
    found = cloudwatch.describe_alarms(
        AlarmNames=[region.customer_impact_alarm], AlarmTypes=["CompositeAlarm", "MetricAlarm"]
    )
    alarms = found.get("CompositeAlarms", []) + found.get("MetricAlarms", [])
    return str(alarms[0]["StateValue"]) if alarms else "MISSING"


def drill_start(aws: Aws, region: RegionNames, book: Runbook, template_name: str, timeout: float, poll: float) -> None:
    fis = aws.client("fis", region.region)
    holder: dict[str, Any] = {}

    def resolve() -> dict[str, Any]:
        template = resolve_template(fis, region, template_name)
        holder["template"] = template
        state = alarm_state(aws, region)
        if state == "ALARM":
            raise Precondition(f"{region.customer_impact_alarm} is already in ALARM: customers are hurting, no drill")
        return {"template": template["id"], "description": template.get("description"), "impact_alarm": state}

    def start() -> dict[str, Any]:
        experiment = fis.start_experiment(
            clientToken=str(uuid.uuid4()), experimentTemplateId=holder["template"]["id"], tags={"started-by": "ops"}
        )["experiment"]
        holder["experiment"] = experiment["id"]
        return {"experiment": experiment["id"], "status": experiment["state"]["status"]}

    def follow() -> dict[str, Any]:
        timeline: list[dict[str, Any]] = []
        started = time.monotonic()
        while True:
            experiment = fis.get_experiment(id=holder["experiment"])["experiment"]
            status = experiment["state"]["status"]
            alarm = alarm_state(aws, region)
            entry = {"t": round(time.monotonic() - started, 1), "status": status, "impact_alarm": alarm}
            if not timeline or (timeline[-1]["status"], timeline[-1]["impact_alarm"]) != (status, alarm):
                timeline.append(entry)
                print(f"drill: {entry['t']:>6}s  experiment {status:<10} customer-impact {alarm}", file=sys.stderr)
            if status in TERMINAL:
                book.result.update(experiment=holder["experiment"], status=status, timeline=timeline)
                if status != "completed":
                    reason = experiment["state"].get("reason", "")
                    raise StepFailed(f"experiment {status}: {reason} (customer-impact alarm {alarm})")
                return {"status": status, "impact_alarm": alarm, "polls": len(timeline)}
            if time.monotonic() - started > timeout:
                book.result.update(experiment=holder["experiment"], status=status, timeline=timeline)
                raise StepFailed(f"experiment still {status} after {timeout:.0f}s; it keeps running in AWS")
            time.sleep(poll)

    plan = [
        Planned("start-experiment", f"fis:StartExperiment {template_name}", start, _next("start")),
        Planned("follow", "poll fis:GetExperiment and the impact alarm until it ends", follow, _next("follow")),
    ]
    if check_first(book, "resolve-template", f"fis:ListExperimentTemplates {template_name}", resolve):
        run_plan(book, plan)


def _next(step: str) -> str:
    if step == "follow":
        return (
            "Look at the experiment (aws fis get-experiment --id <id>) and the customer-impact alarm; "
            "stop it with aws fis stop-experiment if it is still running and customers are affected."
        )
    return "Check the FIS role and the template's targets, then start the drill again."
