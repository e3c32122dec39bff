"""Start the local host for ``--local`` when nothing answers at the URL, and stop it after.

A host that already answers is reused and left running. One this module starts runs in its own
session, so the terminal's Ctrl-C reaches only the client, which then stops the host with
SIGTERM and waits for it: the host keeps its task hub on disk, and a backup it was running
resumes the next time a host runs on the app.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from backup_client import urls
from backup_client.config import (
    ALLOWED_ROOTS_SETTING,
    RESTORE_ROOTS_SETTING,
    extend_roots,
    read_local_settings,
)
from backup_client.errors import LocalHostError
from devhost import azurite
from devhost import ready as ready_module

log = logging.getLogger(__name__)

DEFAULT_START_TIMEOUT = 90.0  # the first start may include Azurite's
STOP_TIMEOUT = 30.0
_LOG_TAIL = 3000


@dataclass
class LocalHost:
    """The host the client talks to; ``process`` is set only when the client started it."""

    url: str
    app_dir: Path | None = None
    process: subprocess.Popen | None = None
    workdir: Path | None = None
    command: list[str] = field(default_factory=list)

    @property
    def started(self) -> bool:
        return self.process is not None

    @property
    def log_path(self) -> Path | None:
        return self.workdir / "host.log" if self.workdir else None

    def log_tail(self, chars: int = _LOG_TAIL) -> str:
        if self.log_path is None:
            return ""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = STOP_TIMEOUT, keep_log: bool = False) -> int | None:
        """SIGTERM what this client started and wait (SIGKILL after ``timeout``).

        Returns the exit code, or None when nothing was started. The log folder is removed
        unless ``keep_log`` is set or the host did not exit cleanly, so it can be read.
        """
        if self.process is None:
            return None
        if self.process.poll() is None:
            log.info("stopping the local host (pid %d)", self.process.pid)
            if not ready_module.terminate(self.process, timeout):
                log.warning("the local host did not stop within %.0f s; killed it", timeout)
        code = self.process.returncode
        if code == 0 and not keep_log and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        return code


def host_command(app_dir: Path, port: int, ready_file: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "devhost",
        str(app_dir),
        "--port",
        str(port),
        # The SDK's RPC port: any free one, so a host already using the default does not clash.
        "--rpc-port",
        "0",
        "--ready-file",
        str(ready_file),
    ]


def host_environment(
    environ: Mapping[str, str],
    local_settings: Mapping[str, str],
    backup_root: str | None,
    restore_root: str | None = None,
) -> dict[str, str]:
    """The host's environment: ours, with the backup root added to the allowed roots (and
    the restore target's folder to the restore roots).

    The list starts from the environment's value, else the app's local.settings.json value, so
    the roots the app already allows stay allowed.
    """
    env = dict(environ)
    for setting, root in (
        (ALLOWED_ROOTS_SETTING, backup_root),
        (RESTORE_ROOTS_SETTING, restore_root),
    ):
        if root is not None:
            existing = env.get(setting) or local_settings.get(setting)
            env[setting] = extend_roots(existing, root)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def ensure_local_host(
    url: str,
    app_dir: Path,
    backup_root: str | None,
    timeout: float = DEFAULT_START_TIMEOUT,
    restore_root: str | None = None,
    announce: Callable[[str], None] = lambda message: None,
) -> LocalHost:
    """A host answering at ``url``: the one already there, or one started on ``app_dir``."""
    if not urls.is_loopback(url):
        raise LocalHostError(
            f"--local starts a host on this machine, but {url} is not a loopback address; "
            "drop --local or use a URL such as http://127.0.0.1:7071"
        )
    port = urls.port_of(url)
    if azurite.is_listening(port, host=_connect_host(url)):
        log.info("a host already answers at %s; reusing it", url)
        return LocalHost(url=urls.normalize_base(url))
    workdir = Path(tempfile.mkdtemp(prefix="site-backup-host-"))
    ready_file = workdir / "ready.json"
    command = host_command(app_dir, port, ready_file)
    env = host_environment(os.environ, read_local_settings(app_dir), backup_root, restore_root)
    announce(f"starting the local host for {app_dir} on port {port}")
    with open(workdir / "host.log", "wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=app_dir,
            env=env,
            start_new_session=True,
        )
    host = LocalHost(
        url=urls.normalize_base(url),
        app_dir=app_dir,
        process=process,
        workdir=workdir,
        command=command,
    )
    try:
        ready = _wait_ready(host, ready_file, timeout)
    except BaseException:
        host.stop()
        raise
    served = ready.get("url")
    if isinstance(served, str) and served:
        host.url = urls.normalize_base(served)
    log.info("local host ready at %s (pid %d)", host.url, process.pid)
    return host


def _connect_host(url: str) -> str:
    name = urlsplit(urls.normalize_base(url)).hostname or "127.0.0.1"
    return "127.0.0.1" if name == "localhost" else name


def _wait_ready(host: LocalHost, ready_file: Path, timeout: float) -> dict:
    """The ready file's content once the host wrote it; raises with the log tail otherwise."""
    assert host.process is not None
    try:
        return ready_module.wait_ready(host.process, ready_file, timeout, host.log_tail)
    except ready_module.HostNotReady as error:
        raise LocalHostError(f"local host (log: {host.log_path}): {error}") from None


def state_dir(app_dir: Path, environ: Mapping[str, str]) -> Path:
    """The local host's state folder: ``DEVHOST_STATE_DIR``, else ``<app>/.devhost``."""
    configured = environ.get("DEVHOST_STATE_DIR")
    return Path(configured) if configured else app_dir / ".devhost"


def ensure_local_azurite(
    app_dir: Path, announce: Callable[[str], None] = lambda message: None
) -> azurite.Azurite | None:
    """Start the blob emulator on its default port over the local host's data, if none runs.

    The local host keeps Azurite's data in its state folder and stops Azurite with itself;
    this brings the same data back for ``verify``. Returns what it started (None: reused).
    """
    port = azurite.DEFAULT_PORTS["blob"]
    if azurite.is_listening(port):
        return None
    location = state_dir(app_dir, os.environ) / "azurite"
    announce(f"starting Azurite on port {port} with the local host's data ({location})")
    try:
        return azurite.start(
            location,
            services=("blob",),
            ports={"blob": port},
            in_memory=False,
            project_dir=app_dir,
        )
    except azurite.AzuriteError as error:
        raise LocalHostError(str(error)) from None
