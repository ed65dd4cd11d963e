"""The policy gate (policy/scan.py over real checkov) and the compliance matrix generated from
policy/controls.yaml: the doc is current and every check and test it cites exists."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from policy.compliance import DOC, load_matrix, render
from policy.scan import CHECK_ID, REPORT, SKIP_FILE, ScanError, load_skips, main
from stacks.summary import synthesized_stacks
from tests.infra.synthesized import Platform

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = shutil.which("checkov") or shutil.which("checkov", path=str(ROOT / ".tools" / "bin"))
needs_checkov = pytest.mark.skipif(
    CHECKOV is None and os.environ.get("CI") != "true", reason="checkov is not installed (make setup)"
)

# A queue without encryption: checkov's CKV_AWS_27 fails on it, in a stack directory like cdktf.out's.
UNENCRYPTED_QUEUE = """
resource "aws_sqs_queue" "plain" {
  name = "plain"
}
"""


def write_skips(path: Path, body: str) -> Path:
    path.write_text(textwrap.dedent(body))
    return path


def test_the_reviewed_skip_file_is_valid() -> None:
    skips = load_skips(SKIP_FILE)
    assert skips and all(s.reason for s in skips)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("- check: CKV_AWS_27\n  stacks: [dev-*]\n  resources: [aws_sqs_queue.plain]\n", "exactly check"),
        ("- {check: NOPE_1, stacks: [a], resources: [b], reason: " + "x" * 40 + "}\n", "not a checkov check id"),
        ("- {check: CKV_AWS_27, stacks: ['*'], resources: [b], reason: " + "x" * 40 + "}\n", "bare '*'"),
        ("- {check: CKV_AWS_27, stacks: [a], resources: [b], reason: because}\n", "explain why"),
    ],
)
def test_a_bad_skip_is_refused_with_the_field_named(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ScanError, match=message):
        load_skips(write_skips(tmp_path / "skips.yaml", body))


@needs_checkov
def test_the_gate_fails_on_a_finding_and_waives_only_a_named_resource(tmp_path: Path) -> None:
    stack = tmp_path / "stacks" / "dev-primary-demo"
    stack.mkdir(parents=True)
    (stack / "cdk.tf").write_text(UNENCRYPTED_QUEUE)
    report = tmp_path / "checkov.json"
    args = ["--terraform-dir", str(tmp_path / "stacks"), "--report", str(report)]

    assert main([*args, "--skips", str(write_skips(tmp_path / "none.yaml", "[]"))]) == 1
    result = json.loads(report.read_text())
    assert "CKV_AWS_27" in {f["check_id"] for f in result["failed"]}
    assert {f["unit"] for f in result["failed"]} == {"dev-primary-demo"}

    other = write_skips(
        tmp_path / "other.yaml",
        """
        - check: CKV_AWS_27
          stacks: [prod-*]
          resources: [aws_sqs_queue.plain]
          reason: a skip for another stage must not waive this stack's finding
        """,
    )
    assert main([*args, "--skips", str(other)]) == 1
    assert json.loads(report.read_text())["unused_skips"]

    failed_checks = {f["check_id"] for f in result["failed"]}
    waive_all = "\n".join(
        f"- check: {check}\n  stacks: [dev-*]\n  resources: [aws_sqs_queue.plain]\n"
        f"  reason: the unit test waives every finding of this one resource"
        for check in sorted(failed_checks)
    )
    assert main([*args, "--skips", str(write_skips(tmp_path / "all.yaml", waive_all))]) == 0
    waived = json.loads(report.read_text())
    assert waived["summary"]["failed"] == 0 and waived["summary"]["skipped"] == len(result["failed"])
    assert all(s["reason"].startswith("the unit test") for s in waived["skipped"])


def test_the_gate_refuses_to_run_without_synth_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nothing-here"
    assert main(["--terraform-dir", str(missing), "--report", str(tmp_path / "r.json")]) == 2
    assert not (tmp_path / "r.json").exists()
    assert "scan:" in capsys.readouterr().err


def test_make_scan_covered_every_stack_and_left_nothing_failed_or_unused(hcl_outdir: Path) -> None:
    """`make test` runs `make scan` before pytest; its report must cover the current synth output."""
    assert REPORT.is_file(), "reports/checkov.json is missing: run `make scan` (make test does)"
    result = json.loads(REPORT.read_text())
    assert result["summary"]["failed"] == 0 and result["summary"]["parsing_errors"] == 0
    missing = set(synthesized_stacks(hcl_outdir)) - set(result["units"])
    assert not missing, f"stale report, not scanned: {sorted(missing)}: run `make scan`"
    assert not result["unused_skips"], "remove skips that no longer match anything"


# ------------------------------------------------------------------------------------ compliance matrix
def test_the_compliance_doc_is_generated_from_the_mapping_and_current() -> None:
    assert DOC.read_text() == render(), "docs/compliance.md is stale: run `make compliance`"


def test_every_cited_test_exists() -> None:
    for control in load_matrix().controls:
        for node in control.tests:
            path, _, name = node.partition("::")
            source = ROOT / path
            assert source.is_file(), (control.ref, node)
            functions = {n.name for n in ast.walk(ast.parse(source.read_text())) if isinstance(n, ast.FunctionDef)}
            assert name in functions, (control.ref, node)


def test_every_cited_resource_type_is_synthesized(platform: Platform) -> None:
    synthesized = {rtype for doc in platform.docs.values() for rtype in doc.get("resource", {})}
    synthesized |= {rtype for doc in platform.docs.values() for rtype in doc.get("data", {})}
    for control in load_matrix().controls:
        missing = set(control.resources) - synthesized
        assert not missing, (control.ref, missing)


@needs_checkov
def test_every_cited_check_is_a_checkov_check_for_a_cited_resource() -> None:
    listed = subprocess.run([CHECKOV, "--list", "--framework", "terraform"], capture_output=True, text=True, check=True)
    entities: dict[str, set[str]] = {}
    for row in listed.stdout.splitlines():
        cells = [c.strip() for c in row.split("|")]
        if len(cells) > 4 and CHECK_ID.match(cells[2]):
            entities.setdefault(cells[2], set()).add(cells[4])
    for control in load_matrix().controls:
        for check in control.checks:
            assert check in entities, (control.ref, check)


def test_every_cited_check_passed_in_the_last_scan() -> None:
    """The matrix only cites checks that actually evaluated (and passed) on this platform."""
    assert REPORT.is_file(), "reports/checkov.json is missing: run `make scan` (make test does)"
    passed = json.loads(REPORT.read_text())["passed_by_check"]
    for control in load_matrix().controls:
        for check in control.checks:
            assert passed.get(check, 0) > 0, (control.ref, check)
