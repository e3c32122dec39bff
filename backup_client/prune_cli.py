"""``site-backup prune``: apply a retention policy to a backup's snapshots (E2_PruneSnapshots).

Registered on the ``site-backup`` group by ``backup_client.cli``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click
from rich.table import Table

from backup_client import cli, urls
from backup_client.api import BackupApi
from backup_client.config import find_app_dir
from backup_client.errors import AlreadyRunning, ClientError, ExitCode
from backup_client.follow import follow
from backup_client.local_host import LocalHost, ensure_local_host

RULES = (
    ("keep_last", "keepLast"),
    ("keep_daily", "keepDaily"),
    ("keep_weekly", "keepWeekly"),
    ("keep_monthly", "keepMonthly"),
)


def _rule(name: str, what: str):
    return click.option(
        f"--{name.replace('_', '-')}",
        name,
        type=click.IntRange(min=0),
        default=None,
        help=f"Keep {what}.",
    )


def _exit_code(runtime: str) -> ExitCode:
    if runtime == "Completed":
        return ExitCode.OK
    if runtime in ("Terminated", "Canceled"):
        return ExitCode.BACKUP_TERMINATED
    return ExitCode.BACKUP_FAILED


def _print_report(out: cli._Out, report: dict[str, Any]) -> None:
    verb = "would delete" if report.get("dryRun") else "deleted"
    table = Table(show_header=False, box=None)
    table.add_row("policy", str(report.get("policy")))
    table.add_row("snapshots kept", f"{len(report.get('kept') or [])}")
    dropped = report.get("dropped") or []
    table.add_row(
        "snapshots dropped" if not report.get("dryRun") else "snapshots to drop",
        f"{len(dropped)}" + (f": {', '.join(dropped[:10])}" if dropped else ""),
    )
    table.add_row(f"blobs {verb}", f"{report.get('blobsDeleted', 0):,}")
    table.add_row(f"blob snapshots {verb}", f"{report.get('snapshotsDeleted', 0):,}")
    table.add_row(f"run pages {verb}", f"{report.get('pagesDeleted', 0):,}")
    table.add_row(
        "bytes freed" if not report.get("dryRun") else "bytes to free",
        f"{report.get('bytesFreed', 0):,}",
    )
    out.out.print(table)
    sample = report.get("sample") or []
    if sample and report.get("dryRun"):
        out.out.print("for example:")
        for name in sample[:20]:
            out.out.print(f"  {name}", markup=False)


@click.command()
@click.argument("directory", type=click.Path(path_type=str))
@_rule("keep_last", "the N newest snapshots")
@_rule("keep_daily", "the newest snapshot of each of the last N days that have one")
@_rule("keep_weekly", "the newest snapshot of each of the last N weeks that have one")
@_rule("keep_monthly", "the newest snapshot of each of the last N months that have one")
@click.option("--dry-run", is_flag=True, help="Only report what would be deleted.")
@click.option("--container", default=None, help="[default: the app's BACKUP_CONTAINER]")
@click.option("--prefix", default=None, help="Blob name prefix [default: the folder's name].")
@cli.url_option
@cli.code_option
@cli.local_host_option()
@cli.poll_option
@cli.json_option
def prune(
    directory: str,
    keep_last: int | None,
    keep_daily: int | None,
    keep_weekly: int | None,
    keep_monthly: int | None,
    dry_run: bool,
    container: str | None,
    prefix: str | None,
    url: str,
    code: str | None,
    local: bool,
    poll_interval: float,
    as_json: bool,
) -> None:
    """Drop DIRECTORY's snapshots that the policy does not keep, then the stored content
    no kept snapshot needs (without --keep-* options: the app's BACKUP_RETENTION)."""
    values = {
        "keep_last": keep_last,
        "keep_daily": keep_daily,
        "keep_weekly": keep_weekly,
        "keep_monthly": keep_monthly,
    }
    out = cli._Out()
    body: dict[str, Any] = {"path": os.path.abspath(directory), "dryRun": dry_run}
    for option, key in RULES:
        if values[option] is not None:
            body[key] = values[option]
    if container is not None:
        body["container"] = container
    if prefix is not None:
        body["prefix"] = prefix
    host: LocalHost | None = None
    code_out = ExitCode.OK
    with cli._sigterm_as_interrupt():
        try:
            if local:
                host = ensure_local_host(url, find_app_dir(), None, announce=out.note)
                url = host.url
            with BackupApi(url, code) as api:
                started = api.start(body, urls.PRUNE_ORCHESTRATOR)
                if not as_json:
                    mode = "dry run" if dry_run else "deleting"
                    out.note(f"prune {started.instance_id} started ({mode})")
                final = follow(
                    api, started.status_url, lambda snapshot: None, poll_ceiling=poll_interval
                )
            code_out = _exit_code(final.runtime_status)
            report = final.output if isinstance(final.output, dict) else None
            if as_json:
                print(json.dumps({"runtimeStatus": final.runtime_status, "output": final.output}))
            elif report is not None:
                _print_report(out, report)
            else:
                out.error(f"the prune ended {final.runtime_status}: {final.output}")
        except AlreadyRunning as error:
            out.error(str(error))
            code_out = error.exit_code
        except ClientError as error:
            out.error(str(error))
            code_out = error.exit_code
        except KeyboardInterrupt:
            code_out = ExitCode.INTERRUPTED
        finally:
            if host is not None and host.started:
                cli._stop_host(out, host, keep_log=code_out != ExitCode.OK)
    sys.exit(int(code_out))
