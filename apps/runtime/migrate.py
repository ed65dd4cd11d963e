"""`python -m apps.runtime.migrate <service> [--to N] [--status]`: the deploy-time migration command.

Connects with PEAKSHOP_<SERVICE>_DB_MIGRATE_URL (a DDL-capable user) or, if unset, DB_WRITER_URL."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from apps.runtime.config import ConfigError, Setting, existing_file, load_settings, mysql_url
from apps.runtime.migrations import MigrationError, applied_versions, discover, migrate

APPS = Path(__file__).resolve().parent.parent
SPECS = (
    Setting("DB_WRITER_URL", mysql_url, None, "", True),
    Setting("DB_MIGRATE_URL", mysql_url, "", "", True),
    Setting("DB_TLS_CA", existing_file, ""),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.runtime.migrate")
    parser.add_argument("service")
    parser.add_argument("--to", type=int, default=None, help="stop after this version")
    parser.add_argument("--status", action="store_true", help="list applied versions only")
    args = parser.parse_args(argv)
    directory = APPS / args.service / "migrations"
    if not directory.is_dir():
        print(f"migrate: no migrations directory {directory}", file=sys.stderr)
        return 2
    try:
        settings = load_settings(args.service, SPECS)
        url = settings.db_migrate_url or settings.db_writer_url
        if args.status:
            print(f"{args.service}: applied {applied_versions(url, settings.db_tls_ca)}")
            return 0
        done = migrate(url, discover(directory), args.to, settings.db_tls_ca)
    except (ConfigError, MigrationError) as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 2
    print(f"{args.service}: applied {done or 'nothing (up to date)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
