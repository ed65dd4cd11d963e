"""`python -m apps.accounts relay-erasures`: re-send erasure requests that could not be queued at the time."""

from __future__ import annotations

import argparse
import sys

from apps.accounts.routes import relay_erasures
from apps.runtime.entry import load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.accounts")
    parser.add_argument("command", choices=["relay-erasures"])
    parser.parse_args(argv)
    print(f"accounts: sent {relay_erasures(load('apps.accounts.app').extensions['peakshop'])} erasure requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
