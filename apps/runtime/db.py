"""MySQL access for RDS-shaped topologies: a writer pool and a reader pool, with each read routed to the
replica unless consistency or health says otherwise, and failover-class errors retried with jittered backoff.

Routing (first match wins): the caller asks for fresh data, or this client wrote recently (read-your-writes)
-> writer; no reader configured -> writer; reader recently failed -> writer; replica lag unknown or above the
threshold -> writer; else reader. While the writer is unreachable, non-fresh reads fall back to the replica
(stale beats failing). Every decision is counted in `peakshop_db_route{target,reason}`."""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pymysql
import pymysql.cursors

from apps.runtime.config import MysqlUrl, Settings
from apps.runtime.metrics import Metrics

T = TypeVar("T")
log = logging.getLogger("peakshop.db")

# Errors after which the same statement may succeed on a fresh connection (failover, restart, deadlock).
CONNECTION_ERRORS = {1053, 1927, 2002, 2003, 2006, 2013, 2014, 2055}
RETRYABLE_ERRORS = CONNECTION_ERRORS | {1205, 1213, 1290, 1836}  # lock timeout, deadlock, read-only (demoted)
IDLE_PING_AFTER_S = 30.0
Cursor = pymysql.cursors.DictCursor


class DatabaseUnavailable(RuntimeError):
    """Retries exhausted or no pool slot: the HTTP layer answers 503 with Retry-After."""


def error_code(exc: BaseException) -> int | None:
    if isinstance(exc, pymysql.err.InterfaceError):
        return 2013  # closed/unusable connection: treat as lost
    if isinstance(exc, pymysql.err.MySQLError) and exc.args and isinstance(exc.args[0], int):
        return exc.args[0]
    return None


def is_connection_error(exc: BaseException) -> bool:
    return error_code(exc) in CONNECTION_ERRORS or isinstance(exc, (ConnectionError, TimeoutError))


def is_retryable(exc: BaseException) -> bool:
    return error_code(exc) in RETRYABLE_ERRORS or isinstance(exc, (ConnectionError, TimeoutError))


class Pool:
    """A small thread-safe LIFO pool of autocommit pymysql connections; fork-safe (empties in a new PID)."""

    def __init__(
        self, name: str, url: MysqlUrl, size: int, connect_timeout: float, query_timeout: float, tls_ca: str = ""
    ) -> None:
        self.name = name
        self.url = url
        self.size = size
        self.connect_timeout = connect_timeout
        self.query_timeout = query_timeout
        self.tls_ca = tls_ca
        self._slots = threading.BoundedSemaphore(size)
        self._idle: deque[tuple[pymysql.Connection, float]] = deque()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def connect(self) -> pymysql.Connection:
        tls: dict[str, Any] = {}
        if self.tls_ca:  # verify the chain and that the certificate names the host we dialled
            tls = {"ssl_ca": self.tls_ca, "ssl_verify_cert": True, "ssl_verify_identity": True}
        return pymysql.connect(
            host=self.url.host,
            port=self.url.port,
            user=self.url.user,
            password=self.url.password,
            database=self.url.database,
            charset="utf8mb4",
            autocommit=True,
            cursorclass=Cursor,
            connect_timeout=self.connect_timeout,
            read_timeout=self.query_timeout,
            write_timeout=self.query_timeout,
            **tls,
        )

    def _take_idle(self) -> pymysql.Connection | None:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's sockets are not ours
                self._idle.clear()
                self._pid = os.getpid()
            while self._idle:
                conn, last_used = self._idle.pop()
                if time.monotonic() - last_used < IDLE_PING_AFTER_S:
                    return conn
                try:
                    conn.ping(reconnect=False)
                    return conn
                except Exception:
                    _close(conn)
        return None

    @contextmanager
    def connection(self) -> Iterator[pymysql.Connection]:
        if not self._slots.acquire(timeout=self.connect_timeout + self.query_timeout):
            raise DatabaseUnavailable(f"{self.name} pool exhausted")
        conn: pymysql.Connection | None = None
        try:
            conn = self._take_idle() or self.connect()
            yield conn
        except BaseException as exc:
            if conn is not None and (is_connection_error(exc) or not _healthy(conn)):
                _close(conn)
                conn = None
            raise
        finally:
            if conn is not None:
                with self._lock:
                    self._idle.append((conn, time.monotonic()))
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            while self._idle:
                _close(self._idle.pop()[0])


def _healthy(conn: pymysql.Connection) -> bool:
    return bool(conn.open)


def _close(conn: pymysql.Connection) -> None:
    try:
        conn.close()
    except Exception:
        conn._force_close()


def backoff(attempt: int, base: float = 0.05, cap: float = 1.0) -> float:
    """Full-jitter exponential backoff: spreads retries of many clients after a failover."""
    return random.uniform(0, min(cap, base * 2**attempt))


class Database:
    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        wrote_recently: Callable[[], bool] = lambda: False,
        on_write: Callable[[], None] = lambda: None,
    ) -> None:
        s = settings
        self.settings = settings
        self.metrics = metrics
        self.wrote_recently = wrote_recently
        self.on_write = on_write
        common = (s.db_pool_size, s.db_connect_timeout_s, s.db_query_timeout_s, s.db_tls_ca)
        self.writer = Pool("writer", s.db_writer_url, *common)
        self.reader = Pool("reader", s.db_reader_url, *common) if s.db_reader_url else None
        self.retries: int = s.db_retries
        self.max_lag: float = s.replica_max_lag_s
        self.lag_check_every: float = s.replica_lag_check_s
        self.reader_retry_after: float = s.reader_retry_after_s
        self._reader_down_until = 0.0
        self._writer_down_until = 0.0
        self._lag: float | None = 0.0
        self._lag_checked = 0.0
        self._lag_lock = threading.Lock()

    # reads -----------------------------------------------------------------------------------------------
    def query(self, sql: str, args: Any = None, *, fresh: bool = False) -> list[dict[str, Any]]:
        pool, reason = self.route(fresh)
        self.metrics.count_route(pool.name, reason)
        if pool is self.reader:
            try:
                return self._run(pool, sql, args)
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                self.mark_reader_down(exc)
                self.metrics.count_route("writer", "reader_down")
        try:
            return self._with_retries(lambda: self._run(self.writer, sql, args))
        except DatabaseUnavailable:
            # Writer unreachable (failover in progress): a possibly stale read beats an error, unless the caller
            # needs fresh data. The replica's lag is unknown while its source is down, so this ignores it.
            if fresh or self.reader is None or time.monotonic() < self._reader_down_until:
                raise
            self._writer_down_until = time.monotonic() + self.reader_retry_after
            self.metrics.count_route("reader", "writer_down")
            # A promotion moves the endpoints and cuts their connections: retry the reader like the writer.
            return self._with_retries(lambda: self._run(self.reader, sql, args))

    def query_one(self, sql: str, args: Any = None, *, fresh: bool = False) -> dict[str, Any] | None:
        rows = self.query(sql, args, fresh=fresh)
        return rows[0] if rows else None

    def route(self, fresh: bool = False) -> tuple[Pool, str]:
        if fresh:
            return self.writer, "fresh"
        if self.wrote_recently() and time.monotonic() >= self._writer_down_until:
            return self.writer, "read_your_writes"
        if self.reader is None:
            return self.writer, "no_reader"
        if time.monotonic() < self._reader_down_until:
            return self.writer, "reader_down"
        lag = self.replica_lag()
        if time.monotonic() < self._reader_down_until:  # the lag probe itself found the reader down
            return self.writer, "reader_down"
        if lag is None or lag > self.max_lag:
            if time.monotonic() < self._writer_down_until:
                return self.reader, "writer_down"
            return self.writer, "replica_lag"
        return self.reader, "replica"

    def mark_reader_down(self, exc: BaseException) -> None:
        self._reader_down_until = time.monotonic() + self.reader_retry_after
        if self.reader is not None:
            # Its idle connections lead to the same failed server: drop them all, or each one would cost
            # another READER_RETRY_AFTER_S once the replica is back.
            self.reader.close()
        log.warning("reader unavailable, routing reads to the writer", extra={"error": str(exc)})

    def replica_lag(self) -> float | None:
        """Seconds behind the writer, re-measured at most every REPLICA_LAG_CHECK_S; None when unknown."""
        now = time.monotonic()
        if self.reader is None or now - self._lag_checked < self.lag_check_every:
            return self._lag
        if not self._lag_lock.acquire(blocking=False):
            return self._lag  # another thread is measuring; use the last value
        try:
            self._lag_checked = now
            # SHOW REPLICA STATUS: MySQL 8.4 (RDS) removed the SLAVE spelling; MariaDB >= 10.5 knows both. MySQL
            # names the column after the source, MariaDB after the master.
            rows = self._run(self.reader, "SHOW REPLICA STATUS", None)
            if not rows:
                self._lag = 0.0  # the reader endpoint is not a replica (e.g. points at the writer)
            else:
                behind = rows[0].get("Seconds_Behind_Source", rows[0].get("Seconds_Behind_Master"))
                self._lag = None if behind is None else float(behind)
        except Exception as exc:
            if not is_connection_error(exc):
                raise
            self.mark_reader_down(exc)
            self._lag = None
        finally:
            self._lag_lock.release()
        self.metrics.replica_lag.labels(self.metrics.service).set(-1 if self._lag is None else self._lag)
        return self._lag

    # writes ----------------------------------------------------------------------------------------------
    def write(self, work: Callable[[Cursor], T]) -> T:
        """Run `work` in one writer transaction, retried as a whole on failover-class errors.

        A commit whose acknowledgement is lost may be retried after it applied, so callers make writes
        idempotent (natural keys, upserts, conditional updates)."""
        self.metrics.count_route("writer", "write")

        def attempt() -> T:
            with self.writer.connection() as conn:
                conn.begin()
                try:
                    with conn.cursor() as cur:
                        result = work(cur)
                    conn.commit()
                except BaseException:
                    if conn.open:
                        try:
                            conn.rollback()
                        except Exception:
                            _close(conn)
                    raise
                return result

        result = self._with_retries(attempt)
        self.on_write()
        return result

    def execute(self, sql: str, args: Any = None) -> int:
        """One statement, committed on its own (autocommit): atomic without a BEGIN and a COMMIT round trip.
        Returns the affected row count; retried like `write`, so the statement must be idempotent too."""
        self.metrics.count_route("writer", "write")

        def attempt() -> int:
            with self.writer.connection() as conn, conn.cursor() as cur:
                return cur.execute(sql, args)

        affected = self._with_retries(attempt)
        self.on_write()
        return affected

    # internals -------------------------------------------------------------------------------------------
    def _run(self, pool: Pool, sql: str, args: Any) -> list[dict[str, Any]]:
        with pool.connection() as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def _with_retries(self, attempt: Callable[[], T]) -> T:
        for n in range(self.retries + 1):
            try:
                return attempt()
            except Exception as exc:
                if not is_retryable(exc) or n == self.retries:
                    if is_retryable(exc):
                        raise DatabaseUnavailable(str(exc)) from exc
                    raise
                self.metrics.db_retries.labels(self.metrics.service).inc()
                log.warning("retrying after failover-class error", extra={"error": str(exc), "attempt": n + 1})
                time.sleep(backoff(n))
        raise AssertionError("unreachable")

    def ping(self) -> dict[str, bool]:
        status = {}
        for pool in (self.writer, self.reader):
            if pool is None:
                continue
            try:
                self._run(pool, "SELECT 1", None)
                status[pool.name] = True
            except Exception:
                status[pool.name] = False
        return status

    def close(self) -> None:
        self.writer.close()
        if self.reader:
            self.reader.close()
