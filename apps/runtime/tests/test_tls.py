"""TLS to MySQL when configured: the runtime verifies the server against the configured CA (and hostname),
a server signed by another CA is refused, and a TLS-only user cannot connect without it."""

from __future__ import annotations

from pathlib import Path

import pymysql
import pytest

from apps.localdeps import LocalDeps
from apps.localdeps.tls import write_other_ca
from apps.runtime.config import mysql_url
from apps.runtime.db import Pool


def pool(deps: LocalDeps, tls_ca: str) -> Pool:
    url = mysql_url(deps.endpoints.mysql_url("peakshop_tls", tls_user=True))
    assert url is not None
    return Pool("writer", url, 2, connect_timeout=2, query_timeout=5, tls_ca=tls_ca)


@pytest.fixture(scope="module", autouse=True)
def tls_database(deps: LocalDeps) -> None:
    deps.writer.query("CREATE DATABASE IF NOT EXISTS peakshop_tls")  # type: ignore[union-attr]
    deps.wait_replica_caught_up()


def test_configured_ca_gives_an_encrypted_verified_session(deps: LocalDeps):
    with pool(deps, deps.endpoints.mysql_tls_ca).connection() as conn, conn.cursor() as cur:
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        assert cur.fetchone()["Value"]
        cur.execute("SELECT CURRENT_USER() AS u")
        assert cur.fetchone()["u"].startswith("app_tls@")


def test_tls_only_user_is_refused_without_tls(deps: LocalDeps):
    """Without DB_TLS_CA pymysql still prefers (unverified) TLS, so plaintext is forced here to show the
    account really requires it; with DB_TLS_CA the runtime additionally verifies CA and hostname."""
    url = mysql_url(deps.endpoints.mysql_url("peakshop_tls", tls_user=True))
    assert url is not None
    with pytest.raises(pymysql.err.OperationalError) as err:
        pymysql.connect(host=url.host, port=url.port, user=url.user, password=url.password, ssl_disabled=True)
    assert err.value.args[0] == 1045  # access denied: the account REQUIRE SSL


def test_server_signed_by_another_ca_is_refused(deps: LocalDeps, tmp_path: Path):
    other = write_other_ca(tmp_path / "other-ca.pem")
    with pytest.raises(pymysql.err.OperationalError), pool(deps, str(other)).connection():
        pass
