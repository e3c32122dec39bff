"""Command line: ``devhost [APP_DIR]`` runs a Python v1 Durable Functions app like ``func start``.

Every flag can also come from an environment variable (``DEVHOST_PORT``, ...).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import click

from devhost import logs
from devhost.contracts import HostError
from devhost.hub import upkeep
from devhost.runner import DEFAULT_RPC_PORT, HostSettings, serve


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument(
    "app_dir",
    required=False,
    default=".",
    envvar="DEVHOST_APP_DIR",
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="DEVHOST_HOST",
    help="Address the HTTP front binds.",
)
@click.option(
    "--port",
    type=int,
    default=None,
    envvar="DEVHOST_PORT",
    help="HTTP port; 0 picks a free one.  [default: Host.LocalHttpPort or 7071]",
)
@click.option(
    "--rpc-port",
    type=int,
    default=DEFAULT_RPC_PORT,
    show_default=True,
    envvar="DEVHOST_RPC_PORT",
    help="Port of the local RPC endpoint the durable client calls; 0 picks one.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="DEVHOST_STATE_DIR",
    help="Where the task hub file lives.  [default: APP_DIR/.devhost]",
)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="DEVHOST_READY_FILE",
    help="Write {url, rpcUrl, pid} as JSON here once the host serves.",
)
@click.option(
    "--no-azurite",
    is_flag=True,
    default=False,
    envvar="DEVHOST_NO_AZURITE",
    help="Never start Azurite, even with UseDevelopmentStorage=true.",
)
@click.option(
    "--retention-days",
    type=click.IntRange(min=0),
    default=upkeep.DEFAULT_RETENTION_DAYS,
    show_default=True,
    envvar="DEVHOST_RETENTION_DAYS",
    help="Purge finished instances (Completed, Failed, Terminated) not updated for this many "
    "days, at start and hourly; 0 keeps everything.",
)
@click.option(
    "--log-level",
    type=click.Choice(sorted(logs.LEVELS), case_sensitive=False),
    default="info",
    show_default=True,
    envvar="DEVHOST_LOG_LEVEL",
)
def cli(
    app_dir: Path,
    host: str,
    port: int | None,
    rpc_port: int,
    state_dir: Path | None,
    ready_file: Path | None,
    no_azurite: bool,
    retention_days: int,
    log_level: str,
) -> None:
    """Serve the function app in APP_DIR (default: the current folder)."""
    logs.configure(log_level)
    settings = HostSettings(
        app_dir=app_dir,
        host=host,
        port=port,
        rpc_port=rpc_port,
        state_dir=state_dir,
        ready_file=ready_file,
        start_azurite=not no_azurite,
        retention_days=retention_days,
    ).resolved()
    # The Python worker runs in the app folder: relative paths in the app resolve there.
    if settings.app_dir.is_dir():
        os.chdir(settings.app_dir)
    try:
        asyncio.run(serve(settings))
    except HostError as error:
        click.echo(f"devhost: {error}", err=True)
        sys.exit(1)
    except OSError as error:
        click.echo(f"devhost: {error.strerror or error}", err=True)
        sys.exit(1)


def main() -> None:
    cli(prog_name="devhost")


if __name__ == "__main__":
    main()
