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
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from backup_client import urls
from backup_client.config import (
    ALLOWED_ROOTS_SETTING,
    RESTORE_ROOTS_SETTING,
    extend_roots,
    find_app_dir,
    read_local_settings,
    resolve_connection,
    resolve_container,
)
from backup_client.errors import ConfigError, LocalHostError
from devhost import azurite
from devhost.child import HostProcess, HostProcessError

log = logging.getLogger(__name__)

DEFAULT_START_TIMEOUT = 90.0  # the first start may include Azurite's
STOP_TIMEOUT = 30.0
_LOG_TAIL = 3000


@dataclass
class LocalHost:
    """The host the client talks to; ``child`` is set only when the client started it."""

    url: str
    app_dir: Path | None = None
    child: HostProcess | None = None

    @property
    def started(self) -> bool:
        return self.child is not None

    @property
    def workdir(self) -> Path | None:
        return self.child.files_dir if self.child is not None else None

    @property
    def log_path(self) -> Path | None:
        return self.child.log_path if self.child is not None else None

    def log_tail(self, chars: int = _LOG_TAIL) -> str:
        return self.child.log_tail(chars) if self.child is not None else ""

    def stop(self, timeout: float = STOP_TIMEOUT, keep_log: bool = False) -> int | None:
        """SIGTERM what this client started and wait (SIGKILL after ``timeout``).

        Returns the exit code, or None when nothing was started. The log folder is removed
        unless ``keep_log`` is set or the host did not exit cleanly, so it can be read.
        """
        child = self.child
        if child is None:
            return None
        if child.running:
            log.info("stopping the local host (pid %d)", child.pid)
            try:
                child.stop(timeout)
            except HostProcessError:
                log.warning("the local host did not stop within %.0f s; killed it", timeout)
        code = child.returncode
        if code == 0 and not keep_log and child.files_dir is not None:
            shutil.rmtree(child.files_dir, ignore_errors=True)
        return code


def child_host(
    app_dir: Path, port: int, workdir: Path, env: Mapping[str, str], timeout: float
) -> HostProcess:
    """The host ``--local`` starts: on ``port``, with the app's own state folder and Azurite,
    in its own session so the terminal's Ctrl-C reaches only the client."""
    return HostProcess(
        app_dir,
        None,
        env,
        start_timeout=timeout,
        no_azurite=False,
        port=port,
        files_dir=workdir,
        cwd=app_dir,
        new_session=True,
    )


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
    env = host_environment(os.environ, read_local_settings(app_dir), backup_root, restore_root)
    child = child_host(app_dir, port, workdir, env, timeout)
    announce(f"starting the local host for {app_dir} on port {port}")
    host = LocalHost(url=urls.normalize_base(url), app_dir=app_dir, child=child)
    try:
        child.start()
    except HostProcessError as error:
        raise LocalHostError(f"local host (log: {child.log_path}): {error}") from None
    except BaseException:
        host.stop()
        raise
    if child.url:
        host.url = urls.normalize_base(child.url)
    log.info("local host ready at %s (pid %d)", host.url, child.pid)
    return host


def _connect_host(url: str) -> str:
    name = urlsplit(urls.normalize_base(url)).hostname or "127.0.0.1"
    return "127.0.0.1" if name == "localhost" else name


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


@dataclass(frozen=True)
class DirectStorage:
    """What a command that reads storage itself (not through the app) needs."""

    connection_string: str
    container: str
    local_settings: dict[str, str]


@contextmanager
def direct_storage(
    connection_string: str | None,
    container: str | None,
    local: bool,
    announce: Callable[[str], None] = lambda message: None,
) -> Iterator[DirectStorage]:
    """The storage settings of the app found from here (options first), with ``--local``'s
    emulator started over the local host's data while the block runs and stopped after.

    Outside an app folder only the options and the environment count.
    """
    try:
        app_dir: Path | None = find_app_dir()
    except ConfigError:
        app_dir = None
    local_settings = read_local_settings(app_dir)
    setting = resolve_connection(connection_string, os.environ, local_settings)
    resolved_container = resolve_container(container, os.environ, local_settings)
    emulator = None
    if local and setting.development_storage and app_dir is not None:
        emulator = ensure_local_azurite(app_dir, announce=announce)
    try:
        yield DirectStorage(setting.connection_string, resolved_container, local_settings)
    finally:
        if emulator is not None:
            emulator.stop()
