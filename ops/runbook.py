"""A runbook run as a list of recorded steps. Each step is `done`, `planned` (--dry-run), `failed` or
`not-run`; when one fails the report lists what was already changed and the operator's next actions, so a
failover that stops halfway is never a mystery."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ops.aws import AWS_ERRORS, describe_error


class StepFailed(RuntimeError):
    """A step could not complete; the runbook stops and reports."""


class Precondition(RuntimeError):
    """The world is not in the state the runbook needs (e.g. no replica to promote); nothing was changed."""


@dataclass
class Step:
    name: str
    action: str
    mutates: bool
    status: str = "not-run"
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    on_failure: str = ""  # what the operator does if this step fails

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "action": self.action, "status": self.status}
        if self.detail:
            out["detail"] = self.detail
        if self.error:
            out["error"] = self.error
        out["seconds"] = round(self.seconds, 3)
        return out


@dataclass
class Runbook:
    command: str
    dry_run: bool
    target: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    next_actions: list[str] = field(default_factory=list)
    outcome: str = "succeeded"

    def step(
        self,
        name: str,
        action: str,
        fn: Callable[[], dict[str, Any] | None],
        *,
        mutates: bool = True,
        on_failure: str = "",
    ) -> dict[str, Any]:
        """Run (or, in a dry run, only plan) one step. Read-only steps run in dry runs too."""
        step = Step(name=name, action=action, mutates=mutates, on_failure=on_failure)
        self.steps.append(step)
        if self.dry_run and mutates:
            step.status = "planned"
            return {}
        started = time.monotonic()
        try:
            detail = fn() or {}
        except Precondition as exc:
            step.status, step.error = "failed", str(exc)
            raise
        except (StepFailed, *AWS_ERRORS) as exc:
            step.status = "failed"
            step.error = str(exc) if isinstance(exc, StepFailed) else describe_error(exc)
            raise StepFailed(step.error) from exc
        finally:
            step.seconds = time.monotonic() - started
        step.status, step.detail = "done", detail
        return detail

    def fail(self, exc: BaseException, remaining: list[tuple[str, str]]) -> None:
        """Record the failure, the steps that will not run, and what the operator should do now."""
        self.outcome = "failed"
        failed = self.steps[-1] if self.steps and self.steps[-1].status == "failed" else None
        for name, action in remaining:
            self.steps.append(Step(name=name, action=action, mutates=True))
        changed = [s.name for s in self.steps if s.status == "done" and s.mutates]
        if not changed:
            self.next_actions.insert(0, "Nothing was changed: fix the cause above and run the same command again.")
        else:
            self.next_actions.insert(
                0,
                f"Already changed: {', '.join(changed)}. These steps are safe to repeat: fix the cause and run the"
                " same command again, it skips what is already done.",
            )
        if failed and failed.on_failure:
            self.next_actions.insert(1, failed.on_failure)
        if not isinstance(exc, (StepFailed, Precondition)):
            self.result["unexpected"] = describe_error(exc)

    def report(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "dry_run": self.dry_run,
            "outcome": "planned" if self.dry_run and self.outcome == "succeeded" else self.outcome,
            "target": self.target,
            "steps": [s.as_json() for s in self.steps],
            "result": self.result,
            "next_actions": self.next_actions,
        }

    def emit(self) -> int:
        json.dump(self.report(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0 if self.outcome == "succeeded" else 1


@dataclass(frozen=True)
class Planned:
    name: str
    action: str
    run: Callable[[], dict[str, Any] | None]
    on_failure: str = ""


def run_plan(book: Runbook, plan: list[Planned]) -> bool:
    """Run the steps in order; on the first failure record it with the steps left and return False."""
    for index, step in enumerate(plan):
        try:
            book.step(step.name, step.action, step.run, on_failure=step.on_failure)
        except Exception as exc:
            book.fail(exc, [(s.name, s.action) for s in plan[index + 1 :]])
            return False
    return True


def check_first(book: Runbook, name: str, action: str, fn: Callable[[], dict[str, Any] | None]) -> bool:
    """A read-only precondition step; on failure nothing has changed and the runbook stops."""
    try:
        book.step(name, action, fn, mutates=False)
    except Exception as exc:
        book.fail(exc, [])
        return False
    return True


def wait_until(check: Callable[[], tuple[bool, dict[str, Any]]], what: str, timeout: float, poll: float) -> dict:
    """Poll `check` until it reports done; StepFailed (with the last observation) on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        done, seen = check()
        if done:
            return seen
        if time.monotonic() >= deadline:
            raise StepFailed(f"{what}: not reached after {timeout:.0f}s (last seen: {seen})")
        time.sleep(poll)
