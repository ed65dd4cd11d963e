"""The process faults against a real supervisord: a crashed program stays down although autorestart is on.

Regression: a stop aimed at the instant autorestart respawned the program was refused or its SIGTERM lost
(fork/exec), and the game day's cache-loss fault found the program RUNNING again after 60 s."""

from __future__ import annotations

import subprocess
import time
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path

import pytest
from supervisor.xmlrpc import SupervisorTransport

from apps.drills.faults import Programs
from apps.platform.control import process_alive
from apps.platform.settings import VENV_BIN

PROGRAM = "deps:sleeper"


@pytest.fixture
def programs(tmp_path: Path) -> Iterator[Programs]:
    sock = tmp_path / "supervisor.sock"
    conf = tmp_path / "supervisord.conf"
    conf.write_text(
        "\n".join(
            [
                "[unix_http_server]",
                f"file={sock}",
                "[supervisord]",
                f"logfile={tmp_path / 'supervisord.log'}",
                f"pidfile={tmp_path / 'supervisord.pid'}",
                "[rpcinterface:supervisor]",
                "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
                "[program:sleeper]",
                "command=sleep 600",
                "autorestart=true",
                "startsecs=0",
                "stopwaitsecs=60",  # a lost SIGTERM would hold STOPPING this long
                "[group:deps]",
                "programs=sleeper",
            ]
        )
        + "\n"
    )
    subprocess.run([str(VENV_BIN / "supervisord"), "-c", str(conf)], check=True)
    rpc = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=SupervisorTransport(None, None, f"unix://{sock}"))
    try:
        programs = Programs(rpc.supervisor)
        programs.wait_state(PROGRAM, "RUNNING", timeout=20)
        yield programs
    finally:
        rpc.supervisor.shutdown()


def test_a_crashed_program_stays_stopped_every_time(programs: Programs) -> None:
    slowest = 0.0
    for _ in range(25):
        pid = programs.rpc.getProcessInfo(PROGRAM)["pid"]
        began = time.monotonic()
        programs.crash(PROGRAM)
        slowest = max(slowest, time.monotonic() - began)
        time.sleep(0.3)  # autorestart would have brought it back by now
        info = programs.rpc.getProcessInfo(PROGRAM)
        assert info["statename"] == "STOPPED", info
        assert not process_alive(pid)
        programs.start(PROGRAM)
    assert slowest < 10, f"a crash took {slowest:.1f}s to settle (a stop hung on a lost SIGTERM?)"


def test_a_killed_program_comes_back_with_a_new_pid(programs: Programs) -> None:
    old = programs.rpc.getProcessInfo(PROGRAM)["pid"]
    programs.kill_and_let_restart(PROGRAM)
    info = programs.rpc.getProcessInfo(PROGRAM)
    assert info["statename"] == "RUNNING" and info["pid"] != old
    assert not process_alive(old)
