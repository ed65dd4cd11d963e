"""`python -m ops`: the argument parser and dispatch. Every command prints one JSON document on stdout
(progress goes to stderr); exit 0 = done (or planned, with --dry-run), 1 = a step failed or a check did not
hold (the report says what was done and what to do next), 2 = bad input."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ops import appsecrets, cache, dbfailover, fis, queues, region, status
from ops.aws import Aws
from ops.names import StageNames, for_stage
from ops.runbook import Runbook
from stacks.config import ROLES, STAGE_NAMES, ConfigError
from stacks.workloads import QUEUES

DEFAULT_TIMEOUT = 3600.0
DEFAULT_POLL = 15.0


def _common(parser: argparse.ArgumentParser, *, mutating: bool = True, role: bool = False) -> None:
    parser.add_argument("--stage", required=True, choices=STAGE_NAMES, help="stage whose resources to act on")
    if role:
        parser.add_argument("--role", default="primary", choices=ROLES, help="region role (default: primary)")
    if mutating:
        parser.add_argument("--dry-run", action="store_true", help="run the read-only checks, only plan the changes")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for AWS (3600)")
    parser.add_argument("--poll", type=float, default=DEFAULT_POLL, help="seconds between polls (15)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ops",
        description="Peakshop operator runbooks for AWS. Output: one JSON report on stdout.",
        epilog="Exit status: 0 done/planned, 1 a step failed (see next_actions), 2 bad input.",
    )
    parser.add_argument("--endpoint-url", help="AWS endpoint override (tests: moto's server)")
    parser.add_argument("--profile", help="AWS profile (default: the environment's credentials)")
    parser.add_argument("--max-attempts", type=int, default=5, help="attempts per AWS call incl. throttling retries")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    failover = commands.add_parser("failover", help="regional or database failover")
    kinds = failover.add_subparsers(dest="kind", required=True, metavar="kind")
    fo_region = kinds.add_parser("region", help="promote the standby region: database, capacity, DNS")
    fo_region.add_argument("--to", required=True, choices=["secondary"], help="the region role to fail over to")
    _common(fo_region)
    fo_db = kinds.add_parser("db", help="RDS reboot with forced failover to the Multi-AZ standby")
    _common(fo_db, role=True)

    failback = commands.add_parser("failback", help="replicate back to the primary region; --cutover moves back")
    failback.add_argument("--cutover", action="store_true", help="promote the primary-region copy and move DNS back")
    _common(failback)

    drill = commands.add_parser("drill", help="AWS FIS experiments")
    drill_cmds = drill.add_subparsers(dest="action", required=True, metavar="action")
    start = drill_cmds.add_parser("start", help="start an FIS experiment and follow it to the end")
    start.add_argument("template", help="template id (EXT...) or Name tag (with or without the stack prefix)")
    _common(start, role=True)

    dlq = commands.add_parser("dlq", help="dead-letter queues")
    dlq_cmds = dlq.add_subparsers(dest="action", required=True, metavar="action")
    redrive = dlq_cmds.add_parser("redrive", help="move a DLQ's messages back onto its queue")
    redrive.add_argument("--queue", required=True, choices=QUEUES)
    redrive.add_argument("--limit", type=int, default=100_000, help="most messages to move")
    _common(redrive, role=True)

    cache_cmd = commands.add_parser("cache", help="Redis (ElastiCache) cache")
    cache_cmds = cache_cmd.add_subparsers(dest="action", required=True, metavar="action")
    flush = cache_cmds.add_parser("flush", help="delete the keys under a prefix (SCAN + UNLINK)")
    flush.add_argument("--prefix", required=True, help="key prefix, e.g. 'catalog:'")
    flush.add_argument("--redis-url", help="connect here instead of the replication group's endpoint")
    _common(flush, role=True)

    secrets_cmd = commands.add_parser("secrets", help="application secrets in Secrets Manager")
    secrets_cmds = secrets_cmd.add_subparsers(dest="action", required=True, metavar="action")
    init = secrets_cmds.add_parser(
        "init", help="generate the value of every declared secret that has none (existing values are kept)"
    )
    init.add_argument("--region", help="where the secrets' primary copies live (default: the stage's primary region)")
    _common(init)

    status_cmd = commands.add_parser("status", help="writer/reader endpoints, replica lag, queue depths")
    status_cmd.add_argument("--stage", required=True, choices=STAGE_NAMES)
    status_cmd.add_argument("--role", choices=ROLES, help="one region only (default: both)")
    return parser


def _validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if getattr(args, "timeout", 1) <= 0 or getattr(args, "poll", 1) <= 0:
        parser.error("--timeout and --poll must be positive")
    if args.max_attempts < 1:
        parser.error("--max-attempts must be >= 1")
    if args.command == "cache" and args.prefix.strip("*") == "":
        parser.error("--prefix must name a key prefix; flushing every key is not what this command is for")
    if args.command == "dlq" and args.limit < 1:
        parser.error("--limit must be >= 1")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _validate(parser, args)
    try:
        names = for_stage(args.stage)
    except ConfigError as exc:
        print(f"ops: configuration: {exc}", file=sys.stderr)
        return 2
    aws = Aws(endpoint_url=args.endpoint_url, max_attempts=args.max_attempts, profile=args.profile)
    if args.command == "status":
        roles = [args.role] if args.role else list(ROLES)
        report = status.status(aws, names, roles)
        json.dump(report, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 1 if report["problems"] else 0
    return _run(args, aws, names)


def _run(args: argparse.Namespace, aws: Aws, names: StageNames) -> int:
    command = " ".join(
        str(p) for p in (args.command, getattr(args, "kind", None) or getattr(args, "action", None)) if p
    )
    target = {"stage": names.stage}
    if hasattr(args, "role"):
        target["role"] = args.role
    book = Runbook(command=command, dry_run=args.dry_run, target=target)
    timeout, poll = args.timeout, args.poll
    if args.command == "failover" and args.kind == "region":
        target["to"] = args.to
        region.RegionRunbooks(aws, names, book, timeout, poll).failover()
    elif args.command == "failover":
        dbfailover.failover_db(aws, names.region(args.role), book, timeout, poll)
    elif args.command == "failback":
        target["cutover"] = args.cutover
        region.RegionRunbooks(aws, names, book, timeout, poll).failback(args.cutover)
    elif args.command == "drill":
        target["template"] = args.template
        fis.drill_start(aws, names.region(args.role), book, args.template, timeout, poll)
    elif args.command == "dlq":
        target["queue"] = args.queue
        queues.redrive(aws, names.region(args.role), book, args.queue, args.limit)
    elif args.command == "cache":
        target["prefix"] = args.prefix
        cache.flush(aws, names.region(args.role), book, args.prefix, args.redis_url)
    elif args.command == "secrets":
        target["region"] = args.region or names.primary.region
        appsecrets.init(aws, names.stage, target["region"], book)
    return book.emit()
