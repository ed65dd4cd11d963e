"""`python -m apps.localdeps up`: start the dependencies, print their endpoints as JSON, run until SIGINT/TERM."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from apps.localdeps.stack import LocalDeps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.localdeps")
    parser.add_argument("command", choices=["up"])
    parser.add_argument("--no-moto", action="store_true", help="skip the SQS/S3 server")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    deps = LocalDeps(with_moto=not args.no_moto)
    endpoints = deps.start()
    try:
        print(json.dumps(endpoints.as_dict(), indent=2), flush=True)
        stop.wait()
    finally:
        deps.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
