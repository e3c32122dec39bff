"""``site-backup snapshots`` and ``site-backup restore``: see a backup's history, bring it back.

Registered on the ``site-backup`` group by ``backup_client.cli``; they share its options,
its progress bar and its summary.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import click
from rich import box
from rich.table import Table

from backup_client import cli, urls
from backup_client import snapshots as snaps
from backup_client.api import BackupApi
from backup_client.config import (
    find_app_dir,
)
from backup_client.display import ProgressDisplay
from backup_client.errors import AlreadyRunning, ClientError, ConfigError, ExitCode
from backup_client.follow import follow
from backup_client.local_host import LocalHost, direct_storage, ensure_local_host
from backup_client.progress import Summary

container_option = click.option(
    "--container",
    default=None,
    help="[default: the app's BACKUP_CONTAINER setting (environment, local.settings.json), "
    "else backups]",
)
prefix_option = click.option(
    "--prefix", default=None, help="Blob name prefix [default: the folder's name]."
)


def _prefix(directory: str, prefix: str | None) -> str:
    from sitebackup import naming

    try:
        return naming.normalize_prefix(
            prefix if prefix is not None else naming.default_prefix(os.path.abspath(directory))
        )
    except ValueError as error:
        raise ConfigError(str(error)) from None


@click.command()
@click.argument("directory", type=click.Path(path_type=str))
@container_option
@prefix_option
@click.option(
    "--connection-string",
    default=None,
    help="Storage connection string [default: env BACKUP_STORAGE_CONNECTION, else "
    "AzureWebJobsStorage from the environment or the app's local.settings.json].",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Newest N only.")
@click.option(
    "--local/--no-local",
    default=False,
    help="With the emulator's account, start Azurite over the local host's data when "
    "nothing answers on its port, and stop it at the end.",
)
@cli.json_option
def snapshots(
    directory: str,
    container: str | None,
    prefix: str | None,
    connection_string: str | None,
    limit: int | None,
    local: bool,
    as_json: bool,
) -> None:
    """List the snapshots of DIRECTORY's backup, newest first.

    DIRECTORY is the folder that was backed up (it need not exist any more: only its name
    matters, as the default prefix).
    """
    out = cli._Out()
    try:
        with direct_storage(connection_string, container, local, announce=out.note) as access:
            store = snaps.open_store(
                access.connection_string,
                snaps.resolve_meta(os.environ, access.local_settings),
                access.container,
                _prefix(directory, prefix),
            )
            found = list(snaps.headers(store, limit))
    except ClientError as error:
        cli._fail(out, error)
    if as_json:
        out.out.print_json(json.dumps([snaps.to_json(header) for header in found]))
        return
    if not found:
        out.note(f"no snapshots of {store.container}/{store.prefix} yet")
        return
    table = Table(
        title=f"snapshots of {store.container}/{store.prefix}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for name, justify in (
        ("id", "left"),
        ("time (UTC)", "left"),
        ("files", "right"),
        ("bytes", "right"),
        ("added ~changed -deleted", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)
    for header in found:
        row = snaps.Row.of(header)
        table.add_row(row.id, row.time, row.files, row.bytes, row.changes)
    if not out.out.is_terminal:
        # Piped output is 80 columns wide by default: ids and times would be cut short.
        out.out.width = max(out.out.width, 120)
    out.out.print(table)


@click.command()
@click.argument("directory", type=click.Path(path_type=str))
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(path_type=str),
    help="Folder to restore into (on the host's machine; inside BACKUP_RESTORE_ROOTS).",
)
@click.option("--snapshot", default=None, help="Snapshot id (see 'snapshots') [default: latest].")
@click.option("--as-of", default=None, help="The newest snapshot taken at or before this time.")
@click.option(
    "--include",
    multiple=True,
    help="Only these paths or gitignore-style patterns (repeat): '/index.html', 'img/', '*.php'.",
)
@click.option("--overwrite", is_flag=True, help="Replace files that differ from the snapshot.")
@click.option(
    "--keep-existing", is_flag=True, help="Leave files that differ from the snapshot as they are."
)
@container_option
@prefix_option
@cli.url_option
@cli.code_option
@cli.local_host_option("creating TARGET and allowing it as a restore root")
@cli.progress_option
@cli.poll_option
@cli.json_option
def restore(
    directory: str,
    target: str,
    snapshot: str | None,
    as_of: str | None,
    include: tuple[str, ...],
    overwrite: bool,
    keep_existing: bool,
    container: str | None,
    prefix: str | None,
    url: str,
    code: str | None,
    local: bool,
    progress: bool,
    poll_interval: float,
    as_json: bool,
) -> None:
    """Restore DIRECTORY's backup (latest snapshot, or --snapshot / --as-of) into --to.

    Files identical to the snapshot are left alone, so running the same restore again
    finishes an interrupted one. A file that differs is refused (reported) unless
    --overwrite or --keep-existing says otherwise.
    """
    if snapshot is not None and as_of is not None:
        raise click.UsageError("give --snapshot or --as-of, not both")
    if overwrite and keep_existing:
        raise click.UsageError("give --overwrite or --keep-existing, not both")
    out = cli._Out()
    host: LocalHost | None = None
    code_out = ExitCode.OK
    instance_id: str | None = None
    status_url: str | None = None
    body: dict[str, Any] = {
        # The host runs on this machine or the path means something there; absolute either
        # way, as the starter requires.
        "path": os.path.abspath(directory),
        "target": os.path.abspath(target),
    }
    for key, value in (
        ("container", container),
        ("prefix", prefix),
        ("snapshot", snapshot),
        ("asOf", as_of),
    ):
        if value is not None:
            body[key] = value
    if include:
        body["include"] = list(include)
    if overwrite or keep_existing:
        body["existing"] = "overwrite" if overwrite else "skip"
    with cli._sigterm_as_interrupt():
        try:
            if local:
                # The host runs here: the target itself becomes its restore root.
                os.makedirs(body["target"], exist_ok=True)
                host = ensure_local_host(
                    url,
                    find_app_dir(),
                    None,
                    announce=out.note,
                    restore_root=body["target"],
                )
                url = host.url
            with BackupApi(url, code) as api:
                began = time.monotonic()
                started = api.start_restore(body)
                instance_id, status_url = started.instance_id, started.status_url
                if not as_json:
                    out.note(f"restore {instance_id} started into {body['target']}")
                display = ProgressDisplay(out.err, enabled=progress and not as_json, kind="restore")
                with display:
                    final = follow(
                        api,
                        status_url,
                        display.update if display.enabled else cli._phase_logger(out, as_json),
                        poll_ceiling=poll_interval,
                    )
                elapsed = time.monotonic() - began
            summary = Summary(final, elapsed, None, kind="restore")
            cli._print_result(out, summary, as_json)
            code_out = summary.exit_code
        except AlreadyRunning as error:
            running = error.status_url and urls.instance_id_from_status_url(error.status_url)
            out.error(str(error))
            if running:
                out.note(f"follow it: {cli._command('status', running, url, code, '--follow')}")
            code_out = error.exit_code
        except ClientError as error:
            out.error(str(error))
            code_out = error.exit_code
        except KeyboardInterrupt:
            cli._print_interrupted(out, instance_id, status_url, url, code, host)
            code_out = ExitCode.INTERRUPTED
        finally:
            if host is not None and host.started:
                cli._stop_host(out, host, keep_log=code_out != ExitCode.OK)
    sys.exit(int(code_out))
