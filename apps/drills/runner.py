"""`python -m apps.drills` (make drill): run the game-day scenarios against the local platform, write
reports/drill.json and print a scorecard; exit 1 if any scenario had a user-visible error, lost, duplicated
or oversold units, stuck orders, or a writer failover slower than the RTO target."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import requests

from apps.drills import faults
from apps.drills.audit import Auditor, mail_offset
from apps.drills.faults import SCENARIOS, Platform, Window
from apps.drills.loadgen import POLICY, LoadClient
from apps.drills.metrics import latency_ms, rto_s
from apps.platform import control, settings
from apps.workers.config import BROKER_SETTINGS

RTO_TARGET_S = 10.0
WARMUP_S = 3.0
AFTER_S = 5.0
SETTLE_TIMEOUT_S = 600.0
SETTLE_PATIENCE_S = 30.0  # no progress for this long: what is still pending is stuck


def visibility_timeout_s() -> float:
    """SQS redelivers a task whose worker was killed mid-task after the visibility timeout (the workers'
    setting; the local platform keeps its default): the worker-crash scenario must wait that long."""
    return float(next(s.default for s in BROKER_SETTINGS if s.key == "VISIBILITY_TIMEOUT_S") or 0)


def patience_s(name: str) -> float:
    return visibility_timeout_s() + SETTLE_PATIENCE_S if name == "worker-crash" else SETTLE_PATIENCE_S


DEFAULT_RATE = 100.0
CHECKOUT_SHARE = 0.02  # one checkout flow (3 requests) in fifty arrivals: ~2 checkouts/s at 100 req/s


def say(message: str) -> None:
    print(f"drill: {message}", file=sys.stderr, flush=True)


def products(base: str) -> list[int]:
    resp = requests.get(f"{base}/api/catalog/products?page_size=100", timeout=10)
    resp.raise_for_status()
    ids = [int(p["id"]) for p in resp.json()["items"] if p.get("in_stock")]
    if not ids:
        raise SystemExit("drill: the demo catalog has no product in stock; run `make up`")
    return ids


def wait_healthy(p: Platform, timeout: float = 120) -> None:
    """Every program RUNNING and every web server UP in haproxy, so scenarios start from a healthy shop."""
    deadline = time.monotonic() + timeout
    while True:
        down = [f"{i['group']}:{i['name']}" for i in p.sup.processes() if i["statename"] != "RUNNING"]
        servers = control.haproxy_servers(p.s)
        down += [
            f"{b}/{n}={st}"
            for b, members in servers.items()
            if b.startswith("svc_")
            for n, st in members.items()
            if not n.endswith("-failopen") and not st.startswith("UP")
        ]
        if not down:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"drill: the platform is not healthy: {', '.join(down)}")
        time.sleep(1)


def run_scenario(name: str, p: Platform, auditor: Auditor, window_s: float, rate: float) -> dict[str, Any]:
    wait_healthy(p)
    base = p.s.url
    catalog = products(base)
    stock_before = auditor.stock(catalog)
    mails = mail_offset(p.s)
    client = LoadClient(base, catalog, rate, CHECKOUT_SHARE)
    window = Window()
    failure: list[BaseException] = []
    say(f"{name}: load {rate:.0f} req/s, fault window {window_s:.0f}s")
    client.start()
    began = time.monotonic()
    try:
        time.sleep(WARMUP_S)
        try:
            SCENARIOS[name](p, window_s, window)
        except Exception as exc:  # the report says the fault itself failed; the audit still runs
            failure.append(exc)
            window.restored = window.restored or time.monotonic()
        time.sleep(AFTER_S)
    finally:
        stats = client.finish()
    load_s = time.monotonic() - began
    settle_s = auditor.settle(stats.checkouts, SETTLE_TIMEOUT_S, patience_s(name))
    audit = auditor.audit(stats.checkouts, stock_before, mails)
    restore_error = None
    if name == "writer-failover":
        try:
            faults.restore_topology(p)
        except Exception as exc:  # reported; the next scenario's health check stops the run if it matters
            restore_error = f"{type(exc).__name__}: {exc}"
    p50, p99 = latency_ms(stats.outcomes, window.started, window.restored)
    result = {
        "name": name,
        "requests": len(stats.outcomes),
        "errors": sum(o.error for o in stats.outcomes),
        "raw_errors": sum(o.raw_errors for o in stats.outcomes),
        "p50_ms": p50,
        "p99_ms": p99,
        "rto_s": rto_s(stats.outcomes, window.started),
        "lost": audit.lost,
        "duplicated": audit.duplicated,
        "oversold": audit.oversold,
        "stuck": audit.stuck,
        "rate_rps": round(len(stats.outcomes) / load_s, 1),
        "fault_s": round(window.restored - window.started, 1),
        "settle_s": round(settle_s, 1),
        "checkouts": len(stats.checkouts),
        "errors_by_request": _errors_by_request(stats.outcomes),
        "audit": audit.detail,
        "notes": window.notes,
    }
    if failure:
        result["fault_error"] = f"{type(failure[0]).__name__}: {failure[0]}"[:2000]
        say(f"{name}: the fault itself failed: {result['fault_error']}")
    if restore_error:
        result["restore_error"] = restore_error[:2000]
        say(f"{name}: restoring the configured roles failed: {restore_error}")
    return result


def _errors_by_request(outcomes: list[Any]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for o in outcomes:
        if o.raw_errors or o.error:
            entry = out.setdefault(o.name, {"raw_errors": 0, "errors": 0})
            entry["raw_errors"] += o.raw_errors
            entry["errors"] += int(o.error)
    return out


def failures(result: dict[str, Any]) -> list[str]:
    why = [f"{k}={result[k]}" for k in ("errors", "lost", "duplicated", "oversold", "stuck") if result[k]]
    if result["rto_s"] is None:
        why.append("writes not recovered")
    elif result["name"] == "writer-failover" and result["rto_s"] > RTO_TARGET_S:
        why.append(f"rto {result['rto_s']}s > {RTO_TARGET_S:.0f}s")
    if "fault_error" in result:
        why.append("fault failed")
    if "restore_error" in result:
        why.append("restore failed")
    return why


def scorecard(results: list[dict[str, Any]]) -> str:
    head = ("scenario", "req", "rps", "raw_err", "errors", "p50_ms", "p99_ms", "rto_s", "lost", "dup", "overs", "stuck")
    rows = [head]
    for r in results:
        rto = "-" if r["rto_s"] is None else f"{r['rto_s']:.1f}"
        rows.append(
            (
                r["name"],
                str(r["requests"]),
                f"{r['rate_rps']:.0f}",
                str(r["raw_errors"]),
                str(r["errors"]),
                f"{r['p50_ms']:.0f}",
                f"{r['p99_ms']:.0f}",
                rto,
                str(r["lost"]),
                str(r["duplicated"]),
                str(r["oversold"]),
                str(r["stuck"]),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    for r in results:
        why = failures(r)
        lines.append(f"{r['name']}: {'PASS' if not why else 'FAIL (' + ', '.join(why) + ')'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.drills", description=__doc__)
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS), help="repeatable; default: all")
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("DRILL_SECONDS") or 30), help="fault window"
    )
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="offered requests per second")
    parser.add_argument("--report", type=Path, default=settings.REPORTS_DIR / "drill.json")
    args = parser.parse_args(argv)
    if args.seconds < 1 or args.rate <= 0:
        parser.error("--seconds must be >= 1 and --rate > 0")
    chosen = args.scenario or list(SCENARIOS)
    # The writer failover leaves the roles swapped until it is restored; run it last.
    order = sorted(chosen, key=lambda n: n == "writer-failover")
    s = settings.load()
    p = Platform(s)
    auditor = Auditor(s)
    results: dict[str, dict[str, Any]] = {}
    for name in order:
        results[name] = run_scenario(name, p, auditor, args.seconds, args.rate)
        say(f"{name}: {'PASS' if not failures(results[name]) else 'FAIL ' + ', '.join(failures(results[name]))}")
    listed = [results[n] for n in SCENARIOS if n in results]
    report = {
        "scenarios": listed,
        "config": {
            "fault_window_s": args.seconds,
            "offered_rps": args.rate,
            "checkout_share": CHECKOUT_SHARE,
            "retry_policy": asdict(POLICY),
            "rto_target_s": RTO_TARGET_S,
            "instances_per_service": s.instances_per_service,
        },
        "passed": not any(failures(r) for r in listed),
    }
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2) + "\n")
    print(scorecard(listed))
    print(f"report: {args.report}")
    return 0 if report["passed"] else 1
