"""The local host as a subprocess for the benchmark, through the shared launcher
(``devhost.child``): started on free ports, ready when its ready file says so."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path

from bench import BenchError
from bench.storage import PROJECT_DIR
from devhost.child import HostProcess, HostProcessError

log = logging.getLogger(__name__)

Host = HostProcess


@contextlib.contextmanager
def running_host(
    app_dir: Path,
    state_dir: Path,
    env: Mapping[str, str],
    start_timeout: float = 60.0,
) -> Iterator[Host]:
    """``python -m devhost APP_DIR`` on free ports with its state in ``state_dir``."""
    host = HostProcess(app_dir, state_dir, env, start_timeout=start_timeout, cwd=PROJECT_DIR)
    try:
        host.start()
    except HostProcessError as error:
        raise BenchError(str(error)) from None
    try:
        log.info("host: pid %d at %s (app %s)", host.pid, host.url, app_dir.name)
        yield host
    finally:
        if host.running:
            try:
                host.stop()
            except HostProcessError:
                log.warning("host pid %d ignored SIGTERM; killed it", host.pid)
