"""`make load USERS=<n> DURATION=<seconds>`: run the Black-Friday Locust profile headless against the local
platform and write reports/load.json (requests, failures, failures_by_endpoint, p50/p95/p99_ms, checkouts)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from apps.platform import settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.platform.load")
    parser.add_argument("--users", type=int, default=50, help="peak concurrent shoppers")
    parser.add_argument("--duration", type=int, default=120, help="seconds in all (ramp 30%%, then hold)")
    parser.add_argument("--host", default=None, help="base URL (default: the local ALB)")
    parser.add_argument("--report", default=str(settings.REPORTS_DIR / "load.json"))
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration < 10:
        parser.error("--users must be >= 1 and --duration >= 10 seconds")
    host = args.host or settings.load().url
    env = {
        **os.environ,
        "PEAKSHOP_LOAD_USERS": str(args.users),
        "PEAKSHOP_LOAD_DURATION_S": str(args.duration),
        "PEAKSHOP_LOAD_REPORT": args.report,
    }
    print(f"load: {args.users} shoppers at peak for {args.duration}s against {host}", flush=True)
    locustfile = str(settings.REPO / "apps" / "platform" / "locustfile.py")
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        locustfile,
        "--headless",
        "--host",
        host,
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    done = subprocess.run(command, env=env, cwd=settings.REPO, stdout=subprocess.DEVNULL)
    try:
        with open(args.report) as fh:
            report = json.load(fh)
    except FileNotFoundError:
        print(f"load: locust wrote no report (exit {done.returncode})", file=sys.stderr)
        return 1
    keys = ("requests", "failures", "rps", "p50_ms", "p95_ms", "p99_ms", "checkouts", "retries")
    print("load: " + ", ".join(f"{k}={report[k]}" for k in keys) + f", orders {report['orders_by_status']}")
    if report["failures"]:
        print(f"load: failures by endpoint {report['failures_by_endpoint']}", file=sys.stderr)
        return 1
    print(f"load: report in {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
