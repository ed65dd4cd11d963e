"""Committed, dated price tables (cost/prices/<region>.yaml): one row per price, each with its public source."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PRICES_DIR = Path(__file__).parent / "prices"


class PriceError(ValueError):
    """A price table is malformed or lacks a price a rule needs."""


class MissingPrice(PriceError):
    """A price the table has no row for; `row` ("key (region)") names it so a report can show what is not
    priced instead of leaving the figure out."""

    def __init__(self, row: str, message: str) -> None:
        super().__init__(message)
        self.row = row


@dataclass(frozen=True)
class PriceRow:
    usd: float
    unit: str
    source: str
    verified: bool


@dataclass(frozen=True)
class PriceTable:
    region: str
    as_of: str
    hours_per_month: float
    rows: dict[str, PriceRow]

    def usd(self, key: str) -> float:
        row = self.rows.get(key)
        if row is None:
            message = f"{self.region}: no price {key!r} in the price table (add a row with its source)"
            raise MissingPrice(f"{key} ({self.region})", message)
        return row.usd


def parse_table(data: Any, where: str) -> PriceTable:
    if not isinstance(data, dict):
        raise PriceError(f"{where}: expected a mapping")
    for field in ("region", "as_of", "hours_per_month", "prices"):
        if field not in data:
            raise PriceError(f"{where}: {field}: missing")
    rows: dict[str, PriceRow] = {}
    for key, row in data["prices"].items():
        if not isinstance(row, dict):
            raise PriceError(f"{where}: prices.{key}: expected a mapping")
        for field in ("usd", "unit", "source", "verified"):
            if field not in row:
                raise PriceError(f"{where}: prices.{key}.{field}: missing")
        usd = row["usd"]
        if isinstance(usd, bool) or not isinstance(usd, int | float) or usd < 0:
            raise PriceError(f"{where}: prices.{key}.usd: expected a non-negative number, got {usd!r}")
        if not str(row["source"]).strip():
            raise PriceError(f"{where}: prices.{key}.source: every price needs its public source")
        rows[str(key)] = PriceRow(float(usd), str(row["unit"]), str(row["source"]), bool(row["verified"]))
    return PriceTable(str(data["region"]), str(data["as_of"]), float(data["hours_per_month"]), rows)


def load_table(region: str, prices_dir: Path = PRICES_DIR) -> PriceTable:
    path = prices_dir / f"{region}.yaml"
    if not path.is_file():
        raise PriceError(f"{path}: no price table for region {region}")
    table = parse_table(yaml.safe_load(path.read_text()), str(path))
    if table.region != region:
        raise PriceError(f"{path}: region: says {table.region}, file is for {region}")
    return table


def load_tables(regions: set[str], prices_dir: Path = PRICES_DIR) -> dict[str, PriceTable]:
    return {region: load_table(region, prices_dir) for region in sorted(regions)}
