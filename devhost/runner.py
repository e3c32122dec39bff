"""Start and stop the whole host: settings, app, Azurite, task hub, HTTP front.

``start_host`` returns a running ``Host``; ``serve`` runs one until SIGINT/SIGTERM, the way
``func start`` does. Startup problems raise ``StartupError`` with a message for the user.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from devhost import azurite
from devhost.config import (
    HostConfig,
    apply_settings,
    read_host_json,
    read_local_settings,
    storage_connection,
)
from devhost.contracts import HostError
from devhost.front.http import HostServer, describe_functions
from devhost.front.timer_triggers import TimerTriggers
from devhost.functions.app import FunctionApp, load_app
from devhost.functions.timer_binding import host_time_zone
from devhost.hub import upkeep
from devhost.hub.client import TaskHub
from devhost.hub.store import Store

log = logging.getLogger("devhost")

DEFAULT_PORT = 7071
DEFAULT_RPC_PORT = 17071
STORAGE_SETTING = "AzureWebJobsStorage"


class StartupError(HostError):
    """The host cannot start; the message says why and what to do."""


@dataclass
class HostSettings:
    app_dir: Path
    host: str = "127.0.0.1"
    port: int | None = None  # None: local.settings.json Host.LocalHttpPort, else 7071
    rpc_port: int = DEFAULT_RPC_PORT
    state_dir: Path | None = None  # None: <app_dir>/.devhost
    ready_file: Path | None = None
    start_azurite: bool = True
    stop_grace: float = 10.0
    retention_days: int = upkeep.DEFAULT_RETENTION_DAYS  # 0: the host purges nothing itself

    def resolved(self) -> HostSettings:
        app_dir = self.app_dir.expanduser().resolve()
        state_dir = (self.state_dir or app_dir / ".devhost").expanduser().resolve()
        ready = self.ready_file.expanduser().resolve() if self.ready_file else None
        return HostSettings(
            app_dir,
            self.host,
            self.port,
            self.rpc_port,
            state_dir,
            ready,
            self.start_azurite,
            self.stop_grace,
            self.retention_days,
        )


@dataclass
class Host:
    """A running host; ``stop()`` undoes ``start_host`` in reverse order."""

    settings: HostSettings
    config: HostConfig
    app: FunctionApp
    store: Store
    hub: TaskHub
    server: HostServer
    azurite: azurite.Azurite | None = None
    timers: TimerTriggers | None = None
    upkeep_task: asyncio.Task | None = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def rpc_base_url(self) -> str | None:
        return self.server.rpc_base_url

    async def stop(self) -> None:
        """Stop accepting, let the task hub finish or park its work, close the state file."""
        if self._stopped:
            return
        self._stopped = True
        log.info("Stopping host")
        if self.timers is not None:
            await self.timers.stop()
        if self.upkeep_task is not None:
            self.upkeep_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.upkeep_task
        await self.server.stop_accepting()
        await self.hub.stop(self.settings.stop_grace)
        await asyncio.to_thread(self.app.close, True)
        await self.server.close()
        await close_sdk_session()
        self.store.close()
        if self.azurite is not None:
            await asyncio.to_thread(self.azurite.stop)
        log.info("Host stopped")


async def close_sdk_session() -> None:
    """Close the durable SDK's shared aiohttp session (the worker process would just exit)."""
    http_utils = sys.modules.get("azure.durable_functions.models.utils.http_utils")
    close = getattr(http_utils, "_close_session", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()


def _uses_development_storage() -> bool:
    value = os.environ.get(STORAGE_SETTING, "")
    return value.strip().rstrip(";").replace(" ", "").lower() == (
        azurite.DEVELOPMENT_STORAGE.lower()
    )


def _maybe_start_azurite(settings: HostSettings) -> azurite.Azurite | None:
    if not settings.start_azurite or not _uses_development_storage():
        return None
    if azurite.is_listening(azurite.DEFAULT_PORTS["blob"]):
        log.info("Storage emulator already answers on port %d", azurite.DEFAULT_PORTS["blob"])
        return None
    assert settings.state_dir is not None
    try:
        server = azurite.start(
            settings.state_dir / "azurite",
            services=("blob", "queue", "table"),
            ports=dict(azurite.DEFAULT_PORTS),
            in_memory=False,
            project_dir=Path(__file__).resolve().parent.parent,
        )
    except azurite.AzuriteError as error:
        log.error("Could not start Azurite: %s", error)
        return None
    log.info(
        "Started Azurite (pid %d; blob %d, queue %d, table %d)",
        server.process.pid,
        *server.ports.values(),
    )
    return server


async def start_host(settings: HostSettings) -> Host:
    """Load the app and serve it; the caller owns the returned Host and must stop it."""
    settings = settings.resolved()
    app_dir = settings.app_dir
    if not app_dir.is_dir():
        raise StartupError(f"app folder {app_dir} does not exist")
    local = read_local_settings(app_dir)
    skipped = apply_settings(local.values).skipped
    for name in skipped:
        log.info(
            "Skipping '%s' from local settings as it's already defined in current "
            "environment variables.",
            name,
        )
    os.environ.setdefault("AzureWebJobsScriptRoot", str(app_dir))
    os.environ.setdefault("FUNCTIONS_WORKER_RUNTIME", "python")
    config = read_host_json(app_dir)
    _check_storage_connection(config)
    port = settings.port if settings.port is not None else local.local_http_port or DEFAULT_PORT

    app = await asyncio.to_thread(load_app, app_dir, config)
    assert settings.state_dir is not None
    started_azurite = await asyncio.to_thread(_maybe_start_azurite, settings)
    try:
        store = Store.open(settings.state_dir, config.hub_name)
    except HostError as error:
        if started_azurite is not None:
            started_azurite.stop()
        raise StartupError(str(error)) from None
    log.info("%s", upkeep.describe_space(store))
    hub = TaskHub(store, app, config.host_options())
    server = HostServer(
        app,
        hub,
        settings.host,
        port,
        settings.rpc_port if config.local_rpc_enabled else None,
    )
    timers = TimerTriggers(
        app.timers,
        invoke=lambda name, info: app.invoke_timer(name, info, server.client_json),
        statuses=store,
        zone=host_time_zone(os.environ),
    )
    server.run_timer = timers.run_now
    host = Host(settings, config, app, store, hub, server, started_azurite, timers)
    try:
        await hub.start()
        await server.start()
        await timers.start()
    except BaseException:
        await host.stop()
        raise
    if not config.local_rpc_enabled:
        log.warning(
            "host.json sets localRpcEndpointEnabled to false: the Python durable client "
            "cannot reach the task hub (rpcBaseUrl is null)"
        )
    host.upkeep_task = asyncio.create_task(upkeep.retention_loop(store, settings.retention_days))
    not_loaded = {**app.broken, **app.skipped, **dict.fromkeys(app.disabled, "disabled")}
    log.info("%s", describe_functions(server.function_lines(), not_loaded))
    return host


def _check_storage_connection(config: HostConfig) -> None:
    resolved = storage_connection(config.connection_name, os.environ)
    if resolved == "empty":
        # The extension refuses to start (AzureStorageAccountProvider.GetStorageAccountDetails).
        raise StartupError(
            f"Unable to resolve the Azure Storage connection named '{config.connection_name}'."
        )
    if resolved is None:
        log.warning(
            "No storage connection named '%s' (app setting AzureWebJobs%s): the real host "
            "would not start; this host keeps the task hub in its state folder.",
            config.connection_name,
            config.connection_name,
        )


def write_ready_file(path: Path, host: Host) -> None:
    """Atomically: readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(
        json.dumps({"url": host.url, "rpcUrl": host.rpc_base_url, "pid": os.getpid()})
    )
    os.replace(temporary, path)


async def serve(settings: HostSettings) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    host = await start_host(settings)
    try:
        if host.settings.ready_file is not None:
            write_ready_file(host.settings.ready_file, host)
        log.info("Host started: %s", host.url)
        await stop.wait()
    finally:
        await host.stop()
        if host.settings.ready_file is not None:
            with contextlib.suppress(OSError):
                host.settings.ready_file.unlink()
