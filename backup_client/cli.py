"""``site-backup``: start a backup over HTTP and follow it, show or stop one, verify one."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console

from backup_client import dry_run as dry_run_report
from backup_client import schedule as cron
from backup_client import urls
from backup_client.api import ACTIVE_STATUSES, BackupApi
from backup_client.config import (
    blob_endpoint,
    find_app_dir,
    read_local_settings,
    resolve_connection,
)
from backup_client.display import ProgressDisplay, print_dry_run, print_rows, print_summary
from backup_client.errors import AlreadyRunning, ClientError, ConfigError, ExitCode
from backup_client.follow import POLL_CEILING, follow
from backup_client.local_host import LocalHost, direct_storage, ensure_local_host
from backup_client.progress import Snapshot, Summary

log = logging.getLogger(__name__)

PROGRAM = "site-backup"

url_option = click.option(
    "--url",
    default=urls.DEFAULT_URL,
    show_default=True,
    envvar="SITE_BACKUP_URL",
    help="Base URL of the function app (env SITE_BACKUP_URL).",
)
code_option = click.option(
    "--code",
    default=None,
    envvar="SITE_BACKUP_CODE",
    help="Function key, sent as ?code= (env SITE_BACKUP_CODE). In Azure, status and "
    "terminate by id need the durabletask system key.",
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON on stdout, no bar."
)
progress_option = click.option(
    "--progress/--no-progress", default=True, help="Show the live progress bar (stderr)."
)
poll_option = click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.05),
    default=POLL_CEILING,
    show_default=True,
    help="Longest wait between two status polls, in seconds (a shorter Retry-After wins).",
)


def local_host_option(what_else: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--local`` for a command that talks to the app: start the local host if need be.

    ``what_else`` tells what the command also has the host do (in parentheses).
    """
    return click.option(
        "--local/--no-local",
        default=False,
        help="If nothing answers at --url, start the local host for the app in this project "
        f"folder{f' ({what_else})' if what_else else ''}, and stop it at the end.",
    )


class _Out:
    """The two consoles: results on stdout, progress and messages on stderr."""

    def __init__(self) -> None:
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)

    def note(self, message: str) -> None:
        self.err.print(message, style="dim", soft_wrap=True, markup=False)

    def error(self, message: str) -> None:
        self.err.print(f"error: {message}", style="bold red", soft_wrap=True, markup=False)


def _fail(out: _Out, error: ClientError) -> NoReturn:
    out.error(str(error))
    sys.exit(int(error.exit_code))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="durable-site-backup", prog_name=PROGRAM)
@click.option("-v", "--verbose", count=True, help="Log what happens (-vv: HTTP requests too).")
def main(verbose: int) -> None:
    """Back up a directory tree into Azure Blob Storage through the backup function app.

    Exit codes: 0 OK, 1 verify found differences, 2 usage, 3 some files failed,
    4 backup failed, 5 backup terminated, 6 the API refused the request,
    7 no host answers, 8 storage not readable, 130 interrupted.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Their request logs would show URLs with the function key; ours redact it.
    for name in ("urllib3", "azure"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


# --------------------------------------------------------------------------------------
# backup
# --------------------------------------------------------------------------------------


@main.command()
@click.argument("directory", type=click.Path(path_type=str))
@url_option
@code_option
@click.option("--container", default=None, help="Container for the blobs (app default: backups).")
@click.option("--prefix", default=None, help="Blob name prefix (app default: the folder's name).")
@local_host_option()
@click.option(
    "--include",
    "includes",
    multiple=True,
    metavar="PATTERN",
    help="Back up only files this gitignore pattern matches (repeatable; '!' negates).",
)
@click.option(
    "--exclude",
    "excludes",
    multiple=True,
    metavar="PATTERN",
    help="Leave out what this gitignore pattern matches (repeatable; '!' re-includes).",
)
@click.option(
    "--exclude-from",
    "exclude_files",
    multiple=True,
    type=click.File("r", encoding="utf-8"),
    metavar="FILE",
    help="Read exclude patterns from FILE, one per line, '#' comments (repeatable).",
)
@click.option(
    "--ignore-file/--no-ignore-file",
    default=True,
    help="Honour the .backupignore file at the root of DIRECTORY (default: yes).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="List and compare only: show what a backup would copy and skip; write nothing.",
)
@progress_option
@poll_option
@json_option
def backup(
    directory: str,
    url: str,
    code: str | None,
    container: str | None,
    prefix: str | None,
    local: bool,
    includes: tuple[str, ...],
    excludes: tuple[str, ...],
    exclude_files: tuple[Any, ...],
    ignore_file: bool,
    dry_run: bool,
    progress: bool,
    poll_interval: float,
    as_json: bool,
) -> None:
    """Back up DIRECTORY and follow the backup to its end.

    DIRECTORY is a path on the host's machine; with a local host it is resolved here.
    Patterns use gitignore syntax: excludes from --exclude-from come before --exclude, and
    a later pattern wins over an earlier one.
    """
    options = _rule_options(includes, excludes, exclude_files, ignore_file, dry_run)
    out = _Out()
    host: LocalHost | None = None
    code_out = ExitCode.OK
    app_dir: Path | None = None
    instance_id: str | None = None
    status_url: str | None = None
    with _sigterm_as_interrupt():
        try:
            path = directory
            if local or urls.is_loopback(url):
                # The host runs here but in another working folder: send an absolute path.
                local_path = Path(directory)
                if local and not local_path.is_dir():
                    raise click.BadParameter(
                        f"{directory!r} is not a folder here", param_hint="DIRECTORY"
                    )
                if local_path.exists():
                    path = os.path.abspath(directory)
            if local:
                app_dir = find_app_dir()
                host = ensure_local_host(
                    url, app_dir, os.path.realpath(directory), announce=out.note
                )
                url = host.url
            with BackupApi(url, code) as api:
                began = time.monotonic()
                started = api.start_backup(path, container, prefix, options)
                instance_id, status_url = started.instance_id, started.status_url
                if not as_json:
                    what = "dry run" if dry_run else "backup"
                    out.note(f"{what} {instance_id} started for {path}")
                    out.note(f"watch it in the console: {urls.console_url(url, instance_id)}")
                display = ProgressDisplay(out.err, enabled=progress and not as_json)
                with display:
                    final = follow(
                        api,
                        status_url,
                        display.update if display.enabled else _phase_logger(out, as_json),
                        poll_ceiling=poll_interval,
                    )
                elapsed = time.monotonic() - began
            summary = Summary(final, elapsed, _account_endpoint(url, app_dir))
            _print_result(out, summary, as_json)
            code_out = summary.exit_code
        except AlreadyRunning as error:
            running = error.status_url and urls.instance_id_from_status_url(error.status_url)
            out.error(str(error))
            if running:
                out.note(f"follow it: {_command('status', running, url, code, '--follow')}")
            code_out = error.exit_code
        except ClientError as error:
            out.error(str(error))
            code_out = error.exit_code
        except KeyboardInterrupt:
            _print_interrupted(out, instance_id, status_url, url, code, host)
            code_out = ExitCode.INTERRUPTED
        finally:
            if host is not None and host.started:
                _stop_host(out, host, keep_log=code_out != ExitCode.OK)
    sys.exit(int(code_out))


def _phase_logger(out: _Out, quiet: bool) -> Callable[[Snapshot], None]:
    """Without a bar, one line per phase change (CI logs stay short)."""
    seen: list[str] = []

    def update(snapshot: Snapshot) -> None:
        phase = snapshot.progress.phase or snapshot.runtime_status
        if quiet or (seen and seen[-1] == phase):
            return
        seen.append(phase)
        p = snapshot.progress
        # While listing, the total is not known yet: a count of 0 would read as an empty tree.
        known = p.files_total is not None and phase != "listing"
        detail = f" {p.files_total:,} files" if known else ""
        out.note(f"{phase}{detail}")

    return update


def _account_endpoint(url: str, app_dir: Path | None) -> str | None:
    """The blob endpoint the app writes to, when the host runs here (same settings)."""
    if not urls.is_loopback(url):
        return None
    try:
        folder = app_dir or find_app_dir()
    except ConfigError:
        folder = None
    try:
        setting = resolve_connection(None, os.environ, read_local_settings(folder))
    except ConfigError:
        return None
    return blob_endpoint(setting.connection_string)


def _rule_options(
    includes: tuple[str, ...],
    excludes: tuple[str, ...],
    exclude_files: tuple[Any, ...],
    ignore_file: bool,
    dry_run: bool,
) -> dict[str, Any]:
    """The request options of the rule flags (only those given, so app defaults apply)."""
    patterns: list[str] = []
    for handle in exclude_files:
        # The same file syntax as .backupignore: blank lines and '#' comments are skipped.
        patterns += [
            line.rstrip("\r\n") for line in handle if line.strip() and not line.startswith("#")
        ]
    patterns += excludes
    options: dict[str, Any] = {}
    if patterns:
        options["exclude"] = patterns
    if includes:
        options["include"] = list(includes)
    if not ignore_file:
        options["ignoreFile"] = False
    if dry_run:
        options["dryRun"] = True
    return options


def _print_result(out: _Out, summary: Summary, as_json: bool) -> None:
    if dry_run_report.is_report(summary.snapshot.output):
        if as_json:
            out.out.print_json(json.dumps(_dry_run_json(summary)))
        else:
            print_dry_run(out.out, summary)
        return
    if as_json:
        out.out.print_json(json.dumps(_summary_json(summary)))
    else:
        print_summary(out.out, summary)


def _dry_run_json(summary: Summary) -> dict[str, Any]:
    return {
        "instanceId": summary.snapshot.instance_id,
        "runtimeStatus": summary.snapshot.runtime_status,
        **summary.snapshot.output,
        "exitCode": int(summary.exit_code),
    }


def _summary_json(summary: Summary) -> dict[str, Any]:
    p = summary.progress
    return {
        "instanceId": summary.snapshot.instance_id,
        "runtimeStatus": summary.snapshot.runtime_status,
        "output": summary.snapshot.output,
        "filesTotal": summary.files_total,
        "filesCopied": p.files_copied,
        "filesSkipped": p.files_skipped,
        "filesFailed": p.files_failed,
        "failed": [{"path": f.path, "error": f.error} for f in p.failed],
        "bytes": summary.bytes,
        "elapsedSeconds": summary.elapsed,
        "bytesPerSecond": summary.throughput,
        "container": p.container,
        "prefix": p.prefix,
        "excluded": p.excluded.to_json(),
        "accountEndpoint": summary.account_endpoint,
        "exitCode": int(summary.exit_code),
    }


def _command(verb: str, instance: str, url: str, code: str | None, *extra: str) -> str:
    """The exact ``site-backup`` command line for another verb on the same instance."""
    words = [PROGRAM, verb, instance, *extra]
    if urls.normalize_base(url) != urls.DEFAULT_URL and not urls.is_url(instance):
        words += ["--url", urls.normalize_base(url)]
    if code and not urls.is_url(instance) and "SITE_BACKUP_CODE" not in os.environ:
        words += ["--code", "KEY"]
    return shlex.join(words)


def _print_interrupted(
    out: _Out,
    instance_id: str | None,
    status_url: str | None,
    url: str,
    code: str | None,
    host: LocalHost | None,
) -> None:
    if instance_id is None:
        out.error(
            "interrupted before the host confirmed the start; if a backup did start, "
            "starting the same folder again says so and gives its id"
        )
        return
    # In Azure, the status URL the host handed out carries the key its endpoints need.
    target = status_url if (code and status_url) else instance_id
    if host is not None and host.started:
        out.err.print(
            f"\nInterrupted. The local host this command started is stopping; backup "
            f"{instance_id} is paused, not lost: it goes on when a host runs on this app again.",
            soft_wrap=True,
        )
        resume = f"{sys.executable} -m devhost {host.app_dir} --port {urls.port_of(url)}"
        rows = [("resume", resume)]
    else:
        out.err.print(
            f"\nStopped following. Backup {instance_id} goes on in the host at {url}.",
            soft_wrap=True,
        )
        rows = []
    rows += [
        ("follow it", _command("status", target, url, code, "--follow")),
        ("stop it", _command("terminate", target, url, code)),
    ]
    print_rows(out.err, rows)


def _stop_host(out: _Out, host: LocalHost, keep_log: bool) -> None:
    # A second Ctrl-C must not leave the host half-stopped.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        out.note("stopping the local host")
        exit_code = host.stop(keep_log=keep_log)
        if exit_code not in (0, None):
            out.note(f"the local host exited with code {exit_code}; its log: {host.log_path}")
        elif keep_log and host.log_path is not None:
            out.note(f"the local host's log: {host.log_path}")
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM takes the Ctrl-C path, so a started host is stopped rather than orphaned."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------------------
# status, terminate
# --------------------------------------------------------------------------------------


@main.command()
@click.argument("instance")
@url_option
@code_option
@click.option("-f", "--follow", "follow_it", is_flag=True, help="Follow it to the end.")
@progress_option
@poll_option
@json_option
def status(
    instance: str,
    url: str,
    code: str | None,
    follow_it: bool,
    progress: bool,
    poll_interval: float,
    as_json: bool,
) -> None:
    """Show a backup's status and progress. INSTANCE is its id or its status URL.

    Exits like `backup` for a finished backup (0, 3, 4, 5), 0 while it runs.
    """
    out = _Out()
    try:
        with BackupApi(url, code) as api:
            status_url = api.status_url(instance)
            if follow_it:
                began = time.monotonic()
                display = ProgressDisplay(out.err, enabled=progress and not as_json)
                with display:
                    snapshot = follow(
                        api,
                        status_url,
                        display.update if display.enabled else _phase_logger(out, as_json),
                        poll_ceiling=poll_interval,
                    )
                elapsed = snapshot.server_elapsed() or (time.monotonic() - began)
            else:
                snapshot = api.get_status(status_url).snapshot
                elapsed = snapshot.server_elapsed()
    except ClientError as error:
        _fail(out, error)
    except KeyboardInterrupt:
        out.err.print("\nStopped following; the backup goes on.", soft_wrap=True)
        sys.exit(int(ExitCode.INTERRUPTED))
    summary = Summary(snapshot, elapsed, _account_endpoint(url, None))
    _print_result(out, summary, as_json)
    sys.exit(int(summary.exit_code) if snapshot.is_terminal else 0)


@main.command()
@click.argument("instance")
@url_option
@code_option
@click.option("--reason", default="stopped with site-backup terminate", show_default=True)
@click.option(
    "--wait/--no-wait",
    default=True,
    help="Wait (up to --timeout) until the backup and every one of its partitions has stopped.",
)
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait.")
def terminate(
    instance: str, url: str, code: str | None, reason: str, wait: bool, timeout: float
) -> None:
    """Stop a running backup (or restore) and its partitions. INSTANCE is its id or status URL.

    The host does not pass a terminate on to the partitions (sub-orchestrations), so this
    command terminates them too and, with --wait, reports once none of them is running: no
    new copy starts after that, and a copy already running finishes its one file. Files
    already copied stay in the container.
    """
    out = _Out()
    try:
        with BackupApi(url, code) as api:
            answer = api.terminate(instance, reason)
            if answer == 410:
                snapshot = api.get_status(instance).snapshot
                out.note(f"backup {snapshot.instance_id} already ended: {snapshot.runtime_status}")
            else:
                out.note(f"termination of {instance} requested")
            # Also after a 410: the parent may have been terminated by a caller that left its
            # partitions running.
            asked = api.terminate_partitions(instance, reason)
            if not wait:
                sys.exit(0)
            snapshot, asked = _wait_stopped(api, instance, reason, timeout, asked)
    except ClientError as error:
        _fail(out, error)
    except KeyboardInterrupt:
        sys.exit(int(ExitCode.INTERRUPTED))
    if snapshot is None:
        out.note(f"the backup or one of its partitions still runs after {timeout:.0f} s")
        sys.exit(0)
    if answer != 410 or asked:
        out.note(f"copying has stopped: the backup and {asked} running partition(s) terminated")
        summary = Summary(snapshot, snapshot.server_elapsed(), None)
        print_summary(out.out, summary)
    sys.exit(0)


def _wait_stopped(
    api: BackupApi, instance: str, reason: str, timeout: float, asked: int
) -> tuple[Snapshot | None, int]:
    """Wait until the instance has ended and none of its partitions runs; terminate any
    partition that the instance started meanwhile (a wave starting as the terminate came)."""
    deadline = time.monotonic() + timeout
    while True:
        snapshot = api.get_status(instance).snapshot
        if snapshot.is_terminal:
            running = api.partitions(instance, ACTIVE_STATUSES)
            if not running:
                return snapshot, asked
            asked += api.terminate_partitions(instance, reason)
        if time.monotonic() >= deadline:
            return None, asked
        time.sleep(0.2)


@main.command()
@click.argument("instance")
@url_option
@code_option
def purge(instance: str, url: str, code: str | None) -> None:
    """Delete the history of a finished backup (or restore) and of its partitions.

    INSTANCE is its id or status URL. The blobs stay; only the task hub's records go.
    """
    out = _Out()
    try:
        with BackupApi(url, code) as api:
            deleted = api.purge(instance)
    except ClientError as error:
        _fail(out, error)
    out.note(f"purged {deleted} instance(s): {instance} and its partitions")
    sys.exit(0)


# --------------------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------------------


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--container",
    default=None,
    help="[default: the app's BACKUP_CONTAINER setting (environment, local.settings.json), "
    "else backups]",
)
@click.option("--prefix", default=None, help="Blob name prefix [default: the folder's name].")
@click.option(
    "--connection-string",
    default=None,
    help="Storage connection string [default: env BACKUP_STORAGE_CONNECTION, else "
    "AzureWebJobsStorage from the environment or the app's local.settings.json].",
)
@click.option(
    "--local/--no-local",
    default=False,
    help="With the emulator's account (UseDevelopmentStorage=true), start Azurite over the "
    "local host's data when nothing answers on its port, and stop it at the end.",
)
@click.option(
    "--snapshot",
    default=None,
    help="Compare with this snapshot (an id from 'snapshots', or 'latest') instead of the "
    "blobs as they are now.",
)
@json_option
def verify(
    directory: Path,
    container: str | None,
    prefix: str | None,
    connection_string: str | None,
    local: bool,
    snapshot: str | None,
    as_json: bool,
) -> None:
    """Compare DIRECTORY with its backup: size and MD5 of every file, missing and extra blobs.

    With --snapshot, compare with what that snapshot lists (a restored folder, or the tree
    as it was then). Exits 0 when they match, 1 on any difference.
    """
    # Imported here: the storage SDK takes a moment to load and only verify needs it.
    from backup_client import storage
    from backup_client.plain_walk import expected_blob_name, expected_prefix, walk_plain
    from backup_client.verify import compare

    out = _Out()
    try:
        with direct_storage(connection_string, container, local, announce=out.note) as access:
            container = access.container
            prefix = expected_prefix(directory.resolve(), prefix)
            # verify's own walk and names; the backup's listing only tells a file it left out
            # on purpose (reported as excluded) from one it missed (reported as missing).
            tree = walk_plain(directory)
            app_view = storage.walk_tree(directory, prefix)
            if snapshot is None:
                listing = storage.list_backup(access.connection_string, container, prefix)
            else:
                listing = _snapshot_listing(
                    access.connection_string, access.local_settings, container, prefix, snapshot
                )
            report = compare(
                tree.files,
                listing.blobs,
                lambda rel: expected_blob_name(prefix, rel),
                storage.file_md5,
                location=f"{container}/{prefix}" if prefix else container,
                left_out=app_view.left_out,
            )
            report.unreadable.extend(tree.unreadable)
    except ClientError as error:
        _fail(out, error)
    except ValueError as error:  # a prefix that cannot be a blob name
        _fail(out, ConfigError(str(error)))
    if not listing.container_exists:
        report.notes.append(f"container {container!r} does not exist at {listing.endpoint}")
    if tree.not_files:
        path, why = tree.not_files[0]
        report.notes.append(
            f"{len(tree.not_files):,} entries are not files to compare, e.g. {path}: {why}"
        )
    if as_json:
        out.out.print_json(json.dumps(report.to_json() | {"endpoint": listing.endpoint}))
    else:
        print_rows(out.out, report.lines()[:-1])
        verdict = report.lines()[-1]
        print_rows(out.out, [verdict], style="green" if report.ok else "red")
    sys.exit(int(ExitCode.OK if report.ok else ExitCode.DIFFERENCES))


# --------------------------------------------------------------------------------------
# schedule
# --------------------------------------------------------------------------------------


def _setting(name: str, given: str | None, local: dict[str, str]) -> tuple[str, str]:
    """A setting's value and where it came from: the option, the environment, the app's
    local.settings.json."""
    if given is not None:
        return given, "the command line"
    if name in os.environ:
        return os.environ[name], "the environment"
    if name in local:
        return local[name], "local.settings.json"
    return "", "not set"


@main.command()
@click.option(
    "--schedule",
    "expression",
    default=None,
    metavar="NCRONTAB",
    help="The schedule to show (default: BACKUP_SCHEDULE from the environment, else the "
    "app's local.settings.json).",
)
@click.option(
    "--roots",
    default=None,
    metavar="VALUE",
    help="The roots to show (default: BACKUP_SCHEDULE_ROOTS, looked up the same way).",
)
@click.option(
    "--time-zone",
    "zone_name",
    default=None,
    metavar="ZONE",
    help="The timer's time zone (tz database name). Default: WEBSITE_TIME_ZONE or TZ from "
    "the settings, else this machine's, as the local host uses; in Azure the timer runs in "
    "UTC unless WEBSITE_TIME_ZONE is set: pass --time-zone UTC.",
)
@click.option("--count", type=click.IntRange(1, 100), default=5, show_default=True)
@json_option
def schedule(
    expression: str | None, roots: str | None, zone_name: str | None, count: int, as_json: bool
) -> None:
    """Show the backup schedule, the roots it backs up and its next occurrences.

    Each occurrence is shown in UTC and in the timer's time zone (local time).
    """
    from sitebackup import schedule_roots
    from sitebackup.errors import ConfigError as AppConfigError

    out = _Out()
    try:
        app_dir: Path | None = find_app_dir()
    except ConfigError:
        app_dir = None
    local = read_local_settings(app_dir)
    value, source = _setting(cron.SETTING, expression, local)
    roots_value, roots_source = _setting(cron.ROOTS_SETTING, roots, local)
    try:
        if not value.strip():
            raise cron.ScheduleError(
                f"{cron.SETTING} is not set ({source}); set it to an NCRONTAB schedule such "
                "as '0 0 2 * * *' (02:00 UTC every day)"
            )
        zone, zone_source = cron.time_zone(zone_name, {**local, **os.environ})
        occurrences = cron.next_occurrences(value, datetime.now(UTC), count, zone)
        configured = schedule_roots.parse(roots_value)
    except (cron.ScheduleError, AppConfigError) as error:
        out.error(str(error))
        sys.exit(int(ExitCode.USAGE))
    disabled = cron.is_disabled({**local, **os.environ})
    if as_json:
        out.out.print_json(
            json.dumps(
                {
                    "schedule": value,
                    "scheduleSource": source,
                    "disabled": disabled,
                    "roots": configured,
                    "rootsSource": roots_source,
                    "timeZone": zone_source,
                    "next": [when.astimezone(UTC).isoformat() for when in occurrences],
                    "nextLocal": [when.isoformat() for when in occurrences],
                }
            )
        )
        return
    rows = [("schedule", f"{value}  (from {source})")]
    if disabled:
        rows.append(("", f"the function is disabled ({cron.DISABLED_SETTING}): nothing runs"))
    if not configured:
        rows.append(
            (
                "roots",
                f"none: {cron.ROOTS_SETTING} is empty ({roots_source}); scheduled backups are off",
            )
        )
    for index, root in enumerate(configured):
        extra = ", ".join(f"{key}={root[key]}" for key in root if key != "path")
        rows.append(
            ("roots" if index == 0 else "", root["path"] + (f"  ({extra})" if extra else ""))
        )
    rows.append(("zone", zone_source))
    for index, when in enumerate(occurrences):
        utc = when.astimezone(UTC)
        rows.append(
            (
                "next" if index == 0 else "",
                f"{utc:%Y-%m-%d %H:%M:%S} UTC   {when:%Y-%m-%d %H:%M:%S %Z} local",
            )
        )
    print_rows(out.out, rows)


def _snapshot_listing(
    connection_string: str,
    local_settings: dict[str, str],
    container: str,
    prefix: str,
    snapshot: str,
) -> Any:
    """What a snapshot lists, in the shape of a blob listing (name, size, MD5 per file)."""
    from backup_client import snapshots as snaps
    from backup_client.plain_walk import expected_blob_name
    from backup_client.storage import BlobListing
    from backup_client.verify import RemoteBlob
    from sitebackup.manifest import ManifestError

    store = snaps.open_store(
        connection_string, snaps.resolve_meta(os.environ, local_settings), container, prefix
    )
    header = snaps.find(store, snapshot)
    blobs: dict[str, RemoteBlob] = {}
    try:
        for entry in store.entries(header):
            name = expected_blob_name(prefix, entry.path)
            blobs[name] = RemoteBlob(name, entry.size, entry.md5)
    except ManifestError as error:
        raise snaps.SnapshotNotFound(f"snapshot {header.run_id}: {error}") from None
    endpoint = store.meta.primary_endpoint.rsplit("/", 1)[0]
    return BlobListing(blobs, True, f"{endpoint} (snapshot {header.run_id})")


# Registered last: they use this module's options and helpers.
from backup_client import prune_cli, restore_cli  # noqa: E402

main.add_command(restore_cli.snapshots)
main.add_command(restore_cli.restore)
main.add_command(prune_cli.prune)
