"""The committed price tables: dated, one source per row, unverified rows marked, every price a rule needs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cost.prices import PRICES_DIR, PriceError, load_table, parse_table

REGIONS = ("us-east-1", "us-west-2")


@pytest.mark.parametrize("region", REGIONS)
def test_committed_table_is_dated_and_sourced(region: str) -> None:
    table = load_table(region)
    assert table.region == region
    assert len(table.as_of) == 10 and table.as_of[4] == "-"
    assert table.hours_per_month == 730
    for key, row in table.rows.items():
        assert row.source.strip(), key
        if not row.verified:
            assert "unverified" in row.source or "not verified" in row.source, key


def test_facts_file_figures_are_the_verified_rows() -> None:
    east = load_table("us-east-1")
    assert east.rows["eks_cluster_hour"].usd == 0.10 and east.rows["eks_cluster_hour"].verified
    assert east.rows["ec2_hour:m7g.large"].usd == 0.0816 and east.rows["ec2_hour:m7g.large"].verified
    assert east.rows["nat_hour"].usd == 0.045 and east.rows["nat_gb"].usd == 0.045
    assert east.rows["rds_hour:db.r6g.large"].verified is False  # "NOT PINNED" in the facts file


def test_both_regions_price_the_same_items() -> None:
    assert set(load_table("us-east-1").rows) == set(load_table("us-west-2").rows)


def test_row_without_source_is_rejected(tmp_path: Path) -> None:
    data = yaml.safe_load((PRICES_DIR / "us-east-1.yaml").read_text())
    data["prices"]["nat_hour"]["source"] = " "
    with pytest.raises(PriceError, match=r"prices\.nat_hour\.source: every price needs its public source"):
        parse_table(data, "t")
    data["prices"]["nat_hour"] = {"usd": -1, "unit": "h", "source": "s", "verified": True}
    with pytest.raises(PriceError, match=r"prices\.nat_hour\.usd: expected a non-negative number"):
        parse_table(data, "t")


def test_missing_region_table_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PriceError, match="no price table for region eu-west-1"):
        load_table("eu-west-1", tmp_path)
