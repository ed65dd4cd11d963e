"""`make scan`: run checkov offline over every synthesized stack (and the rendered charts when present),
waive only the findings that policy/checkov-skips.yaml names with a reason, write reports/checkov.json and
exit non-zero on any other failed check.

Skips are applied here rather than with checkov's `--skip-check` so that each one is scoped to the stacks
and resources it names (a global skip would hide new resources) and is reported with its reason.
Exit codes: 0 clean, 1 failed checks, 2 the scan could not run (no synth output, no checkov, bad skip file).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SKIP_FILE = ROOT / "policy" / "checkov-skips.yaml"
REPORT = ROOT / "reports" / "checkov.json"
CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
MIN_REASON_CHARS = 30


class ScanError(Exception):
    """The scan cannot run or its input is invalid (exit code 2)."""


@dataclass(frozen=True)
class Target:
    framework: str  # checkov framework: terraform (cdktf HCL) or kubernetes (rendered charts)
    directory: Path


@dataclass(frozen=True)
class Skip:
    check: str
    stacks: tuple[str, ...]  # globs over the stack (or chart) directory name
    resources: tuple[str, ...]  # globs over checkov's resource address, e.g. aws_security_group.alb
    reason: str

    def matches(self, finding: Finding) -> bool:
        return (
            finding.check_id == self.check
            and any(fnmatch.fnmatchcase(finding.unit, s) for s in self.stacks)
            and any(fnmatch.fnmatchcase(finding.resource, r) for r in self.resources)
        )


@dataclass(frozen=True)
class Finding:
    check_id: str
    check_name: str
    framework: str
    unit: str  # the stack directory (cdktf.out/stacks/<unit>/cdk.tf) or chart directory
    resource: str
    file: str


def load_skips(path: Path = SKIP_FILE) -> list[Skip]:
    """Parse and validate the skip file; every entry needs a check id, scopes and a real reason."""
    try:
        raw = yaml.safe_load(path.read_text()) or []
    except (OSError, yaml.YAMLError) as exc:
        raise ScanError(f"{path}: cannot read the skip file: {exc}") from None
    if not isinstance(raw, list):
        raise ScanError(f"{path}: expected a list of skips")
    skips = []
    for index, entry in enumerate(raw):
        where = f"{path.name}[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"check", "stacks", "resources", "reason"}:
            raise ScanError(f"{where}: each skip needs exactly check, stacks, resources and reason")
        if not isinstance(entry["check"], str) or not CHECK_ID.match(entry["check"]):
            raise ScanError(f"{where}.check: not a checkov check id: {entry['check']!r}")
        for key in ("stacks", "resources"):
            values = entry[key]
            if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
                raise ScanError(f"{where}.{key}: expected a non-empty list of globs")
            if "*" in values:
                raise ScanError(f"{where}.{key}: a bare '*' would waive the check everywhere; name the scope")
        reason = entry["reason"]
        if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_CHARS:
            raise ScanError(f"{where}.reason: explain why (at least {MIN_REASON_CHARS} characters)")
        skips.append(Skip(entry["check"], tuple(entry["stacks"]), tuple(entry["resources"]), " ".join(reason.split())))
    return skips


def default_targets(root: Path = ROOT) -> list[Target]:
    stacks = root / "cdktf.out" / "stacks"
    if not (root / "cdktf.out" / "manifest.json").is_file() or not stacks.is_dir():
        raise ScanError("cdktf.out is missing: run `make synth` first")
    targets = [Target("terraform", stacks)]
    charts = root / "reports" / "charts"
    if charts.is_dir() and any(charts.rglob("*.yaml")):
        targets.append(Target("kubernetes", charts))
    return targets


def run_checkov(target: Target, checkov: str) -> dict[str, Any]:
    """One offline checkov run; returns its JSON report for the target's framework."""
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    command = [checkov, "--skip-download", "--framework", target.framework, "-d", str(target.directory), "-o", "json"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode not in (0, 1):
        raise ScanError(f"checkov failed on {target.directory} (exit {result.returncode}): {result.stderr[-2000:]}")
    try:
        parsed = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise ScanError(f"checkov printed no JSON for {target.directory}: {result.stderr[-2000:]}") from None
    reports = parsed if isinstance(parsed, list) else [parsed]
    by_type = {r.get("check_type"): r for r in reports}
    if target.framework not in by_type:
        # checkov prints an empty summary object when there was nothing of that framework to scan.
        raise ScanError(f"checkov found nothing to scan for {target.framework} in {target.directory}")
    return by_type[target.framework]


def findings(report: dict[str, Any], framework: str, key: str) -> list[Finding]:
    out = []
    for item in report["results"][key]:
        parts = Path(item["file_path"].lstrip("/")).parts
        out.append(
            Finding(
                check_id=item["check_id"],
                check_name=item["check_name"],
                framework=framework,
                unit=parts[0] if len(parts) > 1 else "",
                resource=item["resource"],
                file=item["file_path"],
            )
        )
    return out


def scan(targets: list[Target], skips: list[Skip], checkov: str) -> dict[str, Any]:
    """Run checkov over every target and split its failures into waived (with reason) and failed."""
    passed: list[Finding] = []
    failed: list[Finding] = []
    skipped: list[dict[str, Any]] = []
    used: Counter[int] = Counter()
    parsing_errors: list[str] = []
    version = ""
    for target in targets:
        report = run_checkov(target, checkov)
        version = report["summary"].get("checkov_version", version)
        parsing_errors += report["results"].get("parsing_errors", [])
        passed += findings(report, target.framework, "passed_checks")
        for finding in findings(report, target.framework, "failed_checks"):
            waiver = next((i for i, s in enumerate(skips) if s.matches(finding)), None)
            if waiver is None:
                failed.append(finding)
            else:
                used[waiver] += 1
                skipped.append({**asdict(finding), "reason": skips[waiver].reason})
    return {
        "checkov_version": version,
        "targets": [{"framework": t.framework, "directory": os.path.relpath(t.directory, ROOT)} for t in targets],
        "summary": {
            "passed": len(passed),
            "failed": len(failed),
            "skipped": len(skipped),
            "parsing_errors": len(parsing_errors),
        },
        "units": sorted({f.unit for f in passed + failed} | {s["unit"] for s in skipped}),
        "passed_by_check": dict(sorted(Counter(f.check_id for f in passed).items())),
        "failed": [asdict(f) for f in failed],
        "skipped": skipped,
        "skips": [{**asdict(s), "matched": used[i]} for i, s in enumerate(skips)],
        "unused_skips": [asdict(s) for i, s in enumerate(skips) if not used[i]],
        "parsing_errors": parsing_errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skips", type=Path, default=SKIP_FILE, help="the reviewed skip file")
    parser.add_argument("--report", type=Path, default=REPORT, help="where to write the JSON report")
    parser.add_argument("--terraform-dir", type=Path, help="scan this directory instead of cdktf.out/stacks")
    args = parser.parse_args(argv)
    try:
        checkov = shutil.which("checkov") or shutil.which("checkov", path=str(ROOT / ".tools" / "bin"))
        if checkov is None:
            raise ScanError("checkov is not installed: run `make setup`")
        skips = load_skips(args.skips)
        targets = [Target("terraform", args.terraform_dir)] if args.terraform_dir else default_targets()
        for target in targets:
            if not target.directory.is_dir():
                raise ScanError(f"{target.directory}: no such directory (run `make synth` first)")
        result = scan(targets, skips, checkov)
    except ScanError as exc:
        print(f"scan: {exc}", file=sys.stderr)
        return 2
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(result, indent=2) + "\n")
    summary = result["summary"]
    print(
        f"checkov {result['checkov_version']}: {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['skipped']} skipped (reviewed) over {len(result['units'])} stacks/charts -> {args.report}"
    )
    for skip in result["unused_skips"]:
        print(f"scan: warning: skip {skip['check']} {skip['stacks']} {skip['resources']} matched nothing")
    for finding in result["failed"]:
        print(f"FAILED {finding['check_id']} {finding['unit']} {finding['resource']}: {finding['check_name']}")
    if summary["parsing_errors"]:
        print(f"scan: checkov could not parse {result['parsing_errors']}", file=sys.stderr)
        return 2
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
