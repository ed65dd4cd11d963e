"""One daemon thread per process: started once, and again (after a reset) in a forked child."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from apps.localdeps.process import wait_for
from apps.runtime.process_thread import ProcessThread


def test_one_thread_per_process_and_a_fresh_one_after_fork():
    runs: list[int] = []
    resets: list[int] = []

    def run(current: Callable[[], bool]) -> None:
        runs.append(os.getpid())
        while current():
            time.sleep(0.01)

    thread = ProcessThread("test-thread", run, lambda: resets.append(os.getpid()))
    thread.ensure()
    thread.ensure()
    wait_for(lambda: len(runs) == 1, "the thread", 5)
    assert runs == resets == [os.getpid()]

    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: the parent's thread did not survive the fork
        try:
            thread.ensure()
            deadline = time.monotonic() + 5
            while len(runs) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.write(write_end, f"{runs} {resets}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    seen = os.read(read_end, 200).decode()
    os.waitpid(child, 0)
    parent = os.getpid()
    assert seen == f"{[parent, child]} {[parent, child]}"
    assert runs == [parent]  # the parent's thread still runs, and only one
