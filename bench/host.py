"""The local host as a subprocess: started on free ports, ready when its ready file says so."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench import BenchError
from bench.storage import PROJECT_DIR
from devhost import ready as ready_module

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
    def tail() -> str:
        return log_path.read_text(errors="replace")[-3000:] if log_path.exists() else "(no log)"

    try:
        ready = ready_module.wait_ready(process, ready_file, timeout, tail)
    except ready_module.HostNotReady as error:
        raise BenchError(str(error)) from None
    return str(ready["url"]).rstrip("/")


def _stop(process: subprocess.Popen, timeout: float = 30.0) -> None:
    if not ready_module.terminate(process, timeout):
        log.warning("host pid %d ignored SIGTERM for %.0f s; killed it", process.pid, timeout)


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
