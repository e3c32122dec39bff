"""A host (or emulator) run as a child process: wait until it serves, stop it cleanly.

The host writes ``{"url", "rpcUrl", "pid"}`` atomically once it serves (``--ready-file``,
``runner.write_ready_file``). The client's ``--local``, the benchmark and the tests start the
host as a subprocess and wait here; each turns ``HostNotReady`` into its own error.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devhost.contracts import HostError


class HostNotReady(HostError):
    """The child host exited, or did not serve in time; the message says which."""


def read_ready_file(path: Path, pid: int) -> dict[str, Any] | None:
    """The ready file's content when ``pid`` wrote it, else None (absent, stale, unreadable)."""
    try:
        ready = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if isinstance(ready, dict) and ready.get("pid") == pid and ready.get("url"):
        return ready
    return None


def wait_ready(
    process: subprocess.Popen,
    ready_file: Path,
    timeout: float,
    log_tail: Callable[[], str],
    poll_interval: float = 0.05,
) -> dict[str, Any]:
    """The ready file's content once the host serves; raises ``HostNotReady`` with the log tail."""
    deadline = time.monotonic() + timeout
    while True:
        ready = read_ready_file(ready_file, process.pid)
        if ready is not None:
            return ready
        code = process.poll()
        if code is not None:
            raise HostNotReady(
                f"the host exited with code {code} before it was ready; log tail:\n{log_tail()}"
            )
        if time.monotonic() >= deadline:
            raise HostNotReady(
                f"the host was not ready within {timeout:.0f} s; log tail:\n{log_tail()}"
            )
        time.sleep(poll_interval)


def terminate(process: subprocess.Popen, timeout: float) -> bool:
    """SIGTERM and wait; SIGKILL after ``timeout``. True when it exited on SIGTERM (or before).

    SIGTERM first, so the host closes its task hub and Azurite flushes its data.
    """
    if process.poll() is not None:
        return True
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)
        return False
