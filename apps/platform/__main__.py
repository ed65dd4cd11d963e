"""`python -m apps.platform up|down|status|url` (what `make up`, `make down` and `make status` run)."""

from __future__ import annotations

import argparse
import sys

from apps.localdeps.process import MissingBinaryError
from apps.platform import lifecycle, settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.platform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start (or reconcile) the whole shop and print its URL")
    down = sub.add_parser("down", help="stop every process (data is kept)")
    down.add_argument("--purge", action="store_true", help="also delete the data and the generated secrets")
    sub.add_parser("status", help="every process with its health; exit 1 if any is unhealthy, 3 if down")
    sub.add_parser("url", help="print the storefront URL")
    args = parser.parse_args(argv)
    s = settings.load()
    try:
        if args.command == "up":
            lifecycle.up(s)
        elif args.command == "down":
            lifecycle.down(s, purge=args.purge)
        elif args.command == "status":
            return lifecycle.status(s)
        else:
            print(s.url)
    except (lifecycle.PlatformError, MissingBinaryError) as exc:
        print(f"platform: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
