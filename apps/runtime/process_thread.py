"""A daemon thread that exists once per process. gunicorn builds the app in the master and forks the workers,
and threads do not survive a fork: each worker starts its own on first use."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable


class ProcessThread:
    def __init__(self, name: str, run: Callable[[Callable[[], bool]], None], reset: Callable[[], None]) -> None:
        """`run(current)` loops while `current()` (false once a fork made it another process's thread);
        `reset()` runs before each start, so a forked child drops state it inherited."""
        self.name = name
        self._run = run
        self._reset = reset
        self._pid = 0
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Cheap when the thread runs (one pid comparison): call it on every use."""
        pid = os.getpid()
        if self._pid == pid:
            return
        with self._lock:
            if self._pid == pid:
                return
            self._reset()
            self._pid = pid
            threading.Thread(target=self._run, args=(lambda: self._pid == pid,), name=self.name, daemon=True).start()
