"""Rebuilds the instance-priced rows of cost/prices/<region>.yaml from the AWS Price List bulk offer files
(JSON, `<base>/offers/v1.0/aws/<offer>/current/<region>/index.json`), where network exists.

Only rows whose offer and attributes are unambiguous are refreshed (EC2, RDS, Aurora and ElastiCache hourly
prices); the rest keep their documented source. Every offer is fetched and parsed before any table is
written, so an unreachable network or a malformed file leaves the committed tables untouched."""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from cost.prices import PriceError, parse_table

# price-key prefix -> (offer code, attributes every matching product must carry)
SELECTORS: dict[str, tuple[str, dict[str, str], str]] = {
    "ec2_hour": (
        "AmazonEC2",
        {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"},
        "instanceType",
    ),
    "rds_hour": ("AmazonRDS", {"databaseEngine": "MySQL", "deploymentOption": "Single-AZ"}, "instanceType"),
    "aurora_hour": ("AmazonRDS", {"databaseEngine": "Aurora MySQL"}, "instanceType"),
    "elasticache_hour": ("AmazonElastiCache", {"cacheEngine": "Redis"}, "instanceType"),
    "elasticache_valkey_hour": ("AmazonElastiCache", {"cacheEngine": "Valkey"}, "instanceType"),
}
HEADER = (
    "# Public on-demand prices, {region}, USD. Rows from the AWS Price List were rebuilt by `make cost-refresh`;\n"
    "# the others keep their documented source. verified: false = not pinned in the team's facts file.\n"
)


class RefreshError(RuntimeError):
    """The offer files could not be fetched or understood; nothing was written."""


def offer_url(base_url: str, offer: str, region: str) -> str:
    return f"{base_url.rstrip('/')}/offers/v1.0/aws/{offer}/current/{region}/index.json"


def fetch_offer(url: str, timeout: float) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.load(response)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RefreshError(
            f"cannot fetch {url}: {reason}. Refreshing needs network access to the AWS Price List; "
            "the committed price tables are unchanged."
        ) from None
    except ValueError as exc:
        raise RefreshError(f"{url}: not a JSON offer file ({exc}); the price tables are unchanged") from None


def hourly_prices(offer: dict[str, Any], attributes: dict[str, str], key_attribute: str) -> dict[str, float]:
    """On-demand USD per hour by `key_attribute` (e.g. instanceType) for products carrying `attributes`.

    Where several products match one instance type the lowest non-zero price is kept (license or
    edition variants cost more)."""
    try:
        products = offer["products"]
        on_demand = offer["terms"]["OnDemand"]
    except (KeyError, TypeError):
        raise RefreshError("offer file has no products or terms.OnDemand") from None
    prices: dict[str, float] = {}
    for sku, product in products.items():
        attrs = product.get("attributes", {})
        if any(attrs.get(k) != v for k, v in attributes.items()) or key_attribute not in attrs:
            continue
        for term in on_demand.get(sku, {}).values():
            for dimension in term.get("priceDimensions", {}).values():
                if not str(dimension.get("unit", "")).lower().startswith("hr"):
                    continue
                usd = float(dimension.get("pricePerUnit", {}).get("USD", "0"))
                name = attrs[key_attribute]
                if usd > 0 and (name not in prices or usd < prices[name]):
                    prices[name] = usd
    return prices


def refresh_tables(prices_dir: Path, base_url: str, timeout: float = 20.0) -> list[str]:
    """Refresh every table in `prices_dir`; returns one line per changed row. Writes only after all fetches."""
    paths = sorted(prices_dir.glob("*.yaml"))
    if not paths:
        raise RefreshError(f"{prices_dir}: no price tables")
    updated: dict[Path, dict[str, Any]] = {}
    report: list[str] = []
    for path in paths:
        data = yaml.safe_load(path.read_text())
        try:
            parse_table(data, str(path))
        except PriceError as exc:
            raise RefreshError(str(exc)) from None
        region = data["region"]
        offers: dict[str, tuple[dict[str, Any], str]] = {}
        published = []
        for key, row in data["prices"].items():
            prefix, _, name = str(key).partition(":")
            if prefix not in SELECTORS or not name:
                continue
            offer_code, attributes, key_attribute = SELECTORS[prefix]
            if offer_code not in offers:
                offer = fetch_offer(offer_url(base_url, offer_code, region), timeout)
                offers[offer_code] = (offer, str(offer.get("publicationDate", "unknown")))
            offer, publication = offers[offer_code]
            found = hourly_prices(offer, attributes, key_attribute).get(name)
            if found is None:
                report.append(f"{region} {key}: not in {offer_code} offer, kept {row['usd']}")
                continue
            published.append(publication)
            if found != row["usd"]:
                report.append(f"{region} {key}: {row['usd']} -> {found}")
            data["prices"][key] = {
                **row,
                "usd": found,
                "verified": True,
                "source": f"AWS Price List {offer_code} {region} publicationDate {publication}",
            }
        if published:
            data["as_of"] = max(published)[:10]
        updated[path] = data
    for path, data in updated.items():
        text = HEADER.format(region=data["region"]) + yaml.safe_dump(data, sort_keys=False, width=200)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    return report or ["price tables already current"]
