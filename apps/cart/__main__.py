"""`python -m apps.cart expire-carts`: delete abandoned carts (a Kubernetes CronJob runs this hourly)."""

from __future__ import annotations

import argparse
import sys

from apps.cart.repository import expire_abandoned
from apps.runtime.entry import load
from apps.runtime.factory import Service


def expire_carts(svc: Service) -> int:
    removed = expire_abandoned(svc.db, svc.settings.cart_ttl_s)
    svc.cache.invalidate(*(svc.cache.key("cart", cart_id) for cart_id in removed))
    return len(removed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.cart")
    parser.add_argument("command", choices=["expire-carts"])
    parser.parse_args(argv)
    svc: Service = load("apps.cart.app").extensions["peakshop"]
    print(f"cart: expired {expire_carts(svc)} abandoned carts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
