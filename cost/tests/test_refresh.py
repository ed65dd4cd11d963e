"""Price refresh from AWS Price List bulk offer files: parsing on a small offer fragment written here, the
whole refresh against file:// offer files, and a clean failure (nothing written) when offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from cost.cli import main
from cost.prices import PRICES_DIR, load_table
from cost.refresh import SELECTORS, RefreshError, hourly_prices, refresh_tables

UNREACHABLE = "http://127.0.0.1:9"  # discard port on loopback: connection refused at once


def offer(publication: str, products: list[tuple[str, dict[str, str], str]]) -> dict[str, Any]:
    """An offer file in the bulk JSON layout: products by SKU, OnDemand terms with hourly price dimensions."""
    return {
        "formatVersion": "v1.0",
        "publicationDate": publication,
        "products": {sku: {"sku": sku, "attributes": attrs} for sku, attrs, _ in products},
        "terms": {
            "OnDemand": {
                sku: {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": {
                            f"{sku}.JRTCKXETXF.6YS6EN2CT7": {"unit": "Hrs", "pricePerUnit": {"USD": usd}}
                        }
                    }
                }
                for sku, _, usd in products
            }
        },
    }


LINUX = {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}
EC2 = offer(
    "2026-11-20T00:00:00Z",
    [
        ("A1", {**LINUX, "instanceType": "m7g.large"}, "0.0850000000"),
        ("A2", {**LINUX, "instanceType": "m7g.large", "operatingSystem": "Windows"}, "0.2000000000"),
        ("A3", {**LINUX, "instanceType": "m7g.large", "capacitystatus": "UnusedCapacityReservation"}, "0.01"),
        ("A4", {**LINUX, "instanceType": "t4g.medium"}, "0.0340000000"),
        ("A5", {**LINUX, "instanceType": "t4g.medium"}, "0.0000000000"),
    ],
)
AURORA = {"instanceType": "db.r7g.large", "databaseEngine": "Aurora MySQL", "deploymentOption": "Single-AZ"}
RDS = offer(
    "2026-11-18T00:00:00Z",
    [
        ("R1", {"instanceType": "db.r6g.large", "databaseEngine": "MySQL", "deploymentOption": "Single-AZ"}, "0.226"),
        ("R2", {"instanceType": "db.r6g.large", "databaseEngine": "MySQL", "deploymentOption": "Multi-AZ"}, "0.452"),
        ("R3", {**AURORA, "storage": "EBS Only"}, "0.2800"),
        # Aurora I/O-Optimized bills the same instance higher; the table prices Standard, the lowest.
        ("R4", {**AURORA, "storage": "Aurora IO Optimization Mode"}, "0.3640"),
    ],
)
CACHE = offer(
    "2026-11-19T00:00:00Z",
    [
        ("C1", {"instanceType": "cache.r7g.large", "cacheEngine": "Redis"}, "0.2200"),
        ("C2", {"instanceType": "cache.r7g.large", "cacheEngine": "Memcached"}, "0.1000"),
    ],
)


def test_hourly_prices_filters_on_the_selector_attributes() -> None:
    offer_code, attributes, key = SELECTORS["ec2_hour"]
    assert offer_code == "AmazonEC2"
    assert hourly_prices(EC2, attributes, key) == {"m7g.large": 0.085, "t4g.medium": 0.034}
    _, attributes, key = SELECTORS["elasticache_hour"]
    assert hourly_prices(CACHE, attributes, key) == {"cache.r7g.large": 0.22}


def test_malformed_offer_is_a_refresh_error() -> None:
    with pytest.raises(RefreshError, match=r"no products or terms\.OnDemand"):
        hourly_prices({"products": {}}, {}, "instanceType")


def _offers_dir(root: Path, offers: dict[str, dict[str, Any]], region: str = "us-east-1") -> str:
    for code, body in offers.items():
        path = root / "offers" / "v1.0" / "aws" / code / "current" / region / "index.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(body))
    return root.as_uri()


def _prices_copy(tmp_path: Path) -> Path:
    prices = tmp_path / "prices"
    prices.mkdir()
    shutil.copy(PRICES_DIR / "us-east-1.yaml", prices / "us-east-1.yaml")
    return prices


def test_refresh_rewrites_matching_rows_from_offer_files(tmp_path: Path) -> None:
    prices = _prices_copy(tmp_path)
    base = _offers_dir(tmp_path / "web", {"AmazonEC2": EC2, "AmazonRDS": RDS, "AmazonElastiCache": CACHE})
    changes = refresh_tables(prices, base)
    assert "us-east-1 ec2_hour:m7g.large: 0.0816 -> 0.085" in changes
    table = load_table("us-east-1", prices)
    row = table.rows["ec2_hour:m7g.large"]
    assert (row.usd, row.verified) == (0.085, True)
    assert row.source == "AWS Price List AmazonEC2 us-east-1 publicationDate 2026-11-20T00:00:00Z"
    assert table.rows["rds_hour:db.r6g.large"].usd == 0.226
    assert "us-east-1 aurora_hour:db.r7g.large: 0.276 -> 0.28" in changes  # the Aurora class prod maps to
    assert table.rows["elasticache_hour:cache.r7g.large"].usd == 0.22
    assert table.as_of == "2026-11-20"
    # Rows the offers do not carry keep their value and documented source.
    original = load_table("us-east-1")
    assert table.rows["nat_hour"] == original.rows["nat_hour"]
    assert table.rows["ec2_hour:c6i.large"] == original.rows["ec2_hour:c6i.large"]
    assert any("ec2_hour:c6i.large: not in AmazonEC2 offer" in line for line in changes)
    assert yaml.safe_load((prices / "us-east-1.yaml").read_text())["region"] == "us-east-1"


def test_refresh_writes_nothing_when_one_offer_is_missing(tmp_path: Path) -> None:
    prices = _prices_copy(tmp_path)
    before = (prices / "us-east-1.yaml").read_bytes()
    base = _offers_dir(tmp_path / "web", {"AmazonEC2": EC2})  # no RDS or ElastiCache offer
    with pytest.raises(RefreshError, match="the committed price tables are unchanged"):
        refresh_tables(prices, base)
    assert (prices / "us-east-1.yaml").read_bytes() == before


def test_refresh_offline_fails_cleanly_with_non_zero_exit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prices = _prices_copy(tmp_path)
    before = (prices / "us-east-1.yaml").read_bytes()
    code = main(["refresh", "--prices-dir", str(prices), "--base-url", UNREACHABLE, "--timeout", "5"])
    assert code == 3
    err = capsys.readouterr().err
    assert err.startswith("cost refresh failed: cannot fetch http://127.0.0.1:9/offers/v1.0/aws/AmazonEC2/")
    assert "needs network access to the AWS Price List" in err
    assert (prices / "us-east-1.yaml").read_bytes() == before
    assert sorted(p.name for p in prices.iterdir()) == ["us-east-1.yaml"]  # no temporary files left
