"""The stable MySQL endpoints (haproxy TCP frontends) can be moved to another database, as a failover moves
the RDS writer endpoint: new connections reach the new target and connections to the old one are cut."""

from __future__ import annotations

import pymysql
import pytest

from apps.platform import control, settings
from apps.platform.secrets_store import SecretStore


def server_id(conn: pymysql.Connection) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT @@server_id")
        return int(cur.fetchone()[0])


def test_writer_endpoint_follows_a_failover(shop_url: str) -> None:
    s = settings.load()
    password = SecretStore(s.secrets_file).get("mysql_admin")

    def connect() -> pymysql.Connection:
        return pymysql.connect(host="127.0.0.1", port=s.mysql_writer_endpoint, user="admin", password=password)

    assert control.mysql_endpoint_target(s, "writer") == s.mysql_writer_port
    before = connect()
    assert server_id(before) == 1
    try:
        control.move_mysql_endpoint(s, "writer", s.mysql_replica_port)
        assert control.mysql_endpoint_target(s, "writer") == s.mysql_replica_port
        with pytest.raises(pymysql.err.OperationalError):
            server_id(before)  # the old session was cut, as a failover cuts it
        after = connect()
        assert server_id(after) == 2
        after.close()
    finally:
        control.move_mysql_endpoint(s, "writer", s.mysql_writer_port)
    restored = connect()
    assert server_id(restored) == 1
    restored.close()
