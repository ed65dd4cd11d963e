"""Usage profiles: the committed ones load; bad ones are rejected with a message naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from cost.profiles import NodeBounds, ProfileError, load_profile, load_profiles, parse_profile
from cost.tests.conftest import PROFILE, profile


def test_committed_profiles_load_baseline_first() -> None:
    profiles = load_profiles()
    assert next(iter(profiles)) == "baseline"
    assert {"baseline", "black-friday"} <= set(profiles)
    assert profiles["black-friday"].peak_multiplier > profiles["baseline"].peak_multiplier


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("orders_per_day", -1, "profile bad: orders_per_day: must not be negative, got -1"),
        ("orders_per_day", "many", "profile bad: orders_per_day: expected a number, got 'many'"),
        ("cdn_cache_hit_ratio", 1.5, "profile bad: cdn_cache_hit_ratio: must be between 0 and 1, got 1.5"),
        ("peak_multiplier", 0.5, "profile bad: peak_multiplier: must be at least 1, got 0.5"),
        ("peak_hours_per_month", 800, "profile bad: peak_hours_per_month: must be at most 730 hours, got 800.0"),
        ("stage_traffic_share", {"dev": 0.1, "staging": 0.1}, "profile bad: stage_traffic_share.prod: missing"),
        ("bucket_ingest_gb_per_day", {"media": 1}, "profile bad: bucket_ingest_gb_per_day.default: missing"),
        ("log_ingest_gb_per_day", {"default": -2}, "profile bad: log_ingest_gb_per_day.default: must not be negative"),
    ],
)
def test_bad_values_name_the_field(field: str, value: object, message: str) -> None:
    with pytest.raises(ProfileError) as error:
        parse_profile("bad", {**PROFILE, field: value})
    assert str(error.value).startswith(message)


def test_missing_and_unknown_fields_are_rejected() -> None:
    data = dict(PROFILE)
    del data["page_views_per_day"]
    with pytest.raises(ProfileError, match=r"^profile bad: page_views_per_day: missing"):
        parse_profile("bad", data)
    with pytest.raises(ProfileError, match=r"^profile bad: orderz_per_day: unknown field"):
        parse_profile("bad", {**PROFILE, "orderz_per_day": 1})


def test_unreadable_file_is_a_profile_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("orders_per_day: [1,\n")
    with pytest.raises(ProfileError, match="profile broken: cannot read"):
        load_profile(path)


def test_node_hours_stay_within_the_autoscaling_bounds() -> None:
    bounds = NodeBounds(minimum=2, desired=3, maximum=30)
    assert profile().node_hours(bounds, "prod", "primary", scales=True) == (3 * 730, 3)
    peak = profile(peak_multiplier=6, peak_hours_per_month=96)
    assert peak.node_hours(bounds, "prod", "primary", scales=True) == (3 * 634 + 18 * 96, 18)
    assert peak.node_hours(NodeBounds(2, 3, 10), "prod", "primary", scales=True) == (3 * 634 + 10 * 96, 10)
    # The warm standby serves no traffic, and fixed groups never scale.
    assert peak.node_hours(bounds, "prod", "secondary", scales=True) == (3 * 730, 3)
    assert peak.node_hours(bounds, "prod", "primary", scales=False) == (3 * 730, 3)


def test_month_volume_counts_the_peak_hours() -> None:
    peak = profile(peak_multiplier=6, peak_hours_per_month=73)
    assert peak.volume_factor == pytest.approx(1 + 5 * 73 / 730)
    assert peak.orders_per_month() == pytest.approx(1000 * 730 / 24 * 1.5)
