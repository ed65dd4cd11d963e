"""A child process with a throwaway directory: start, wait until ready, stop (TERM then KILL), kill, restart
on the same port. Shared by every dependency so drills can treat them uniformly."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


class MissingBinaryError(RuntimeError):
    """A dependency's executable is not installed; `make setup` (scripts/setup.sh) installs it."""


def require_binary(name: str) -> str:
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if path is None:
        raise MissingBinaryError(f"{name} not found on PATH; run `make setup` (scripts/setup.sh installs it)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(check: Callable[[], bool], what: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} before becoming ready")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s")


class ChildProcess:
    """One dependency process; subclasses provide the command line and the readiness check."""

    name = "process"
    ready_timeout = 30.0

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        raise NotImplementedError

    def is_ready(self) -> bool:
        return port_open(self.port)

    def prepare(self) -> None:
        """One-time initialisation before the first start (e.g. creating a data directory)."""

    def after_start(self) -> None:
        """Hook run once the process is ready."""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        log = (self.workdir / f"{self.name}.log").open("ab")
        self.proc = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        log.close()
        try:
            wait_for(self.is_ready, self.name, self.ready_timeout, self.proc)
        except Exception as exc:
            tail = self.log_tail()
            self.kill()
            raise RuntimeError(f"{exc}\n--- {self.name} log tail ---\n{tail}") from exc
        self.after_start()

    def stop(self, timeout: float = 20.0) -> None:
        """Graceful stop (SIGTERM), escalating to SIGKILL."""
        if not self.running:
            return
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        wait_for(lambda: not port_open(self.port), f"{self.name} port release", 10)

    def kill(self) -> None:
        """Abrupt crash (SIGKILL), as in a lost instance."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 30) -> str:
        path = self.workdir / f"{self.name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
