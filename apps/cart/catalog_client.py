"""The cart's view of the catalog: product price, currency, name and stock, fetched over the catalog's public
API (services share no tables). Timeouts are short; an unreachable catalog is a 503, not a hung request."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from flask import g, has_request_context


class CatalogUnavailable(RuntimeError):
    pass


class CatalogClient:
    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.base_url = base_url
        self.timeout_s = timeout_s

    def product(self, product_id: int) -> dict[str, Any] | None:
        """The product's public detail, or None if it does not exist (or is no longer sold)."""
        headers = {"Accept": "application/json"}
        if has_request_context() and getattr(g, "request_id", None):
            headers["X-Request-ID"] = g.request_id
        req = urllib.request.Request(f"{self.base_url}/api/catalog/products/{product_id}", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                return dict(json.loads(resp.read()))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise CatalogUnavailable(f"catalog answered {exc.code}") from exc
        except (OSError, ValueError) as exc:
            raise CatalogUnavailable(str(exc)) from exc
