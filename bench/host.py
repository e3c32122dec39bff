"""The local host as a subprocess: started on free ports, ready when its ready file says so."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench import BenchError
from bench.storage import PROJECT_DIR

log = logging.getLogger(__name__)


@dataclass
class Host:
    process: subprocess.Popen
    url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"


def _wait_ready(process: subprocess.Popen, ready_file: Path, log_path: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready_file.exists():
            try:
                ready = json.loads(ready_file.read_text())
            except ValueError:
                ready = None  # being written
            if ready and ready.get("pid") == process.pid and ready.get("url"):
                return str(ready["url"]).rstrip("/")
        if process.poll() is not None:
            break
        time.sleep(0.05)
    tail = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else "(no log)"
    state = f"exited with code {process.returncode}" if process.poll() is not None else "running"
    raise BenchError(f"the host was not ready within {timeout:.0f} s ({state}); log tail:\n{tail}")


def _stop(process: subprocess.Popen, timeout: float = 30.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("host pid %d ignored SIGTERM for %.0f s; killing it", process.pid, timeout)
        process.kill()
        process.wait(timeout)


@contextlib.contextmanager
def running_host(
    app_dir: Path,
    state_dir: Path,
    env: Mapping[str, str],
    start_timeout: float = 60.0,
) -> Iterator[Host]:
    """``python -m devhost APP_DIR`` on free ports with its state in ``state_dir``."""
    state_dir.mkdir(parents=True, exist_ok=True)
    ready_file = state_dir / "ready.json"
    ready_file.unlink(missing_ok=True)
    log_path = state_dir / "host.log"
    command = [
        sys.executable,
        "-m",
        "devhost",
        str(app_dir),
        "--port",
        "0",
        "--rpc-port",
        "0",
        "--state-dir",
        str(state_dir),
        "--ready-file",
        str(ready_file),
        "--no-azurite",
    ]
    child_env = dict(os.environ)
    child_env.pop("PYTHONWARNINGS", None)
    child_env.update(env)
    with open(log_path, "ab") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=PROJECT_DIR,
            env=child_env,
        )
    try:
        url = _wait_ready(process, ready_file, log_path, start_timeout)
        log.info("host: pid %d at %s (app %s)", process.pid, url, app_dir.name)
        yield Host(process, url, log_path)
    finally:
        _stop(process)
