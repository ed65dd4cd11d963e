"""Configuration is validated in full at start, and every message names the offending variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from apps.runtime.config import COMMON_SETTINGS, ConfigError, load_settings, mysql_url

ROOT = Path(__file__).resolve().parents[3]
VALID = {
    "PEAKSHOP_DEMO_DB_WRITER_URL": "mysql://app:s3cret@db.internal:3307/peakshop_demo",
    "PEAKSHOP_DEMO_REDIS_URL": "redis://cache:6379/0",
}


def test_defaults_and_parsed_types():
    s = load_settings("demo", COMMON_SETTINGS, VALID)
    assert s.db_pool_size == 8 and s.replica_max_lag_s == 2.0 and s.db_reader_url is None
    assert (s.db_writer_url.host, s.db_writer_url.port, s.db_writer_url.database) == (
        "db.internal",
        3307,
        "peakshop_demo",
    )
    assert "s3cret" not in repr(s.db_writer_url)


def test_every_bad_value_is_reported_by_name():
    env = {
        **VALID,
        "PEAKSHOP_DEMO_DB_POOL_SIZE": "many",
        "PEAKSHOP_DEMO_REPLICA_MAX_LAG_S": "-1",
        "PEAKSHOP_DEMO_LOG_LEVEL": "LOUD",
        "PEAKSHOP_DEMO_DB_READER_URL": "postgres://x/y",
    }
    del env["PEAKSHOP_DEMO_REDIS_URL"]
    with pytest.raises(ConfigError) as err:
        load_settings("demo", COMMON_SETTINGS, env)
    message = str(err.value)
    for name in (
        "DB_POOL_SIZE: expected an integer",
        "REPLICA_MAX_LAG_S: expected 0",
        "LOG_LEVEL: expected one of",
        "DB_READER_URL: expected mysql://",
        "REDIS_URL: required but not set",
    ):
        assert f"PEAKSHOP_DEMO_{name}" in message


def test_mysql_url_decodes_credentials():
    url = mysql_url("mysql://us%40er:p%3Ass@h/peakshop_x")
    assert url is not None and (url.user, url.password, url.port) == ("us@er", "p:ss", 3306)
    for bad in ("mysql://h/db", "mysql://u@h/", "http://u@h/db"):
        with pytest.raises(ValueError):
            mysql_url(bad)


def test_migrate_command_names_missing_variable():
    out = subprocess.run(
        [sys.executable, "-m", "apps.runtime.migrate", "catalog"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert out.returncode == 2 and "PEAKSHOP_CATALOG_DB_WRITER_URL: required but not set" in out.stderr
