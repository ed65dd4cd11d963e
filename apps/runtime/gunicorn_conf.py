"""Gunicorn settings shared by every service image (`gunicorn -c apps/runtime/gunicorn_conf.py ...`).

The app is preloaded in the master so a configuration error stops the whole process with the message
naming the variable, and so the SIGTERM drain flag (shared memory) exists before workers fork. The first
SIGTERM only flips /readyz to 503; after DRAIN_S gunicorn stops gracefully (in-flight requests finish)."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from apps.runtime import health
from stacks.workloads import APP_PORT

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{APP_PORT}")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = 5
timeout = 30
graceful_timeout = 20
preload_app = True
accesslog = None  # the app writes JSON access logs with request IDs
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
control_socket_disable = True


def _drain_seconds(server: Any) -> float:
    try:
        return float(server.app.wsgi().extensions["peakshop"].settings.drain_s)
    except Exception:
        return 5.0


def on_starting(server: Any) -> None:
    stop_now = server.handle_term

    def handle_term() -> None:
        if health.is_draining():
            stop_now()
            return
        health.start_draining()
        drain = _drain_seconds(server)
        server.log.info("SIGTERM: readiness now 503, draining for %.1fs before graceful stop", drain)
        threading.Timer(drain, lambda: server.SIG_QUEUE.put_nowait(signal.SIGTERM)).start()

    server.handle_term = handle_term


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
