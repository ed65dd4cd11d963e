"""The catalog under real gunicorn: SIGTERM drains (readiness 503 while still serving, then graceful exit),
a bad setting stops the process naming the variable, and metrics aggregate across workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from apps.localdeps.process import free_port, wait_for

ROOT = Path(__file__).resolve().parents[3]


def start_gunicorn(env: dict[str, str], port: int, tmp_path: Path) -> subprocess.Popen:
    full_env = {
        **os.environ,
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "apps/runtime/gunicorn_conf.py", "apps.catalog.wsgi:app"],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_drains_then_exits_gracefully(catalog_env: dict[str, str], tmp_path: Path):
    port = free_port()
    proc = start_gunicorn({**catalog_env, "PEAKSHOP_CATALOG_DRAIN_S": "2"}, port, tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{base}/readyz", timeout=1).status_code == 200, "gunicorn", 30, proc)
        for _ in range(4):
            assert requests.get(f"{base}/api/catalog/categories", timeout=2).status_code == 200
        metrics = requests.get(f"{base}/metrics", timeout=2).text
        assert 'route="/api/catalog/categories"' in metrics

        proc.send_signal(signal.SIGTERM)
        wait_for(lambda: requests.get(f"{base}/readyz", timeout=1).status_code == 503, "draining", 5, proc)
        assert requests.get(f"{base}/readyz", timeout=1).json()["status"] == "draining"
        assert requests.get(f"{base}/api/catalog/categories", timeout=2).status_code == 200  # still serving
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_bad_setting_stops_the_process_naming_the_variable(catalog_env: dict[str, str], tmp_path: Path):
    env = {**catalog_env, "PEAKSHOP_CATALOG_DB_POOL_SIZE": "lots", "PEAKSHOP_CATALOG_CDN_BASE_URL": "ftp://x"}
    proc = start_gunicorn(env, free_port(), tmp_path)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert "PEAKSHOP_CATALOG_DB_POOL_SIZE: expected an integer" in err
    assert "PEAKSHOP_CATALOG_CDN_BASE_URL" in err
    assert time.monotonic()  # process ended on its own within the timeout
