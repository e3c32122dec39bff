"""The ScheduledBackup timer through the local host (a subprocess) with the real app, the
real durable SDK and a real Azurite: occurrences back up every configured root, an
occurrence finds a running backup and starts nothing new, a missed occurrence runs once
after a restart, a bad schedule leaves the other functions working, no roots means off."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from azure.storage.blob import ContainerClient

from sitebackup.naming import blob_name
from sitebackup.request import instance_id
from tests.support.host_process import HostProcess, running_host

PROJECT_DIR = Path(__file__).resolve().parents[3]
START = "/orchestrators/E2_BackupSiteContent"
STARTED = re.compile(r"scheduled backup started (backup-[0-9a-f]+)")


def wait_until(what: str, check: Callable[[], Any], timeout: float, host: HostProcess) -> Any:
    """Poll ``check`` until it returns something truthy; fail with what was seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{what}: not within {timeout:.0f} s; host log:\n{host.log_tail()}"
            )
        time.sleep(0.2)


def log_text(host: HostProcess) -> str:
    return host.log_path.read_text(errors="replace")


def started_ids(host: HostProcess) -> list[str]:
    return STARTED.findall(log_text(host))


def make_site(root: Path, name: str, count: int = 3) -> dict[str, bytes]:
    files = {f"page{i}.html": f"{name} {i}\n".encode() * (i + 1) for i in range(count)}
    files["debug.log"] = b"left out by the root's own exclude option"
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def status_of(host: HostProcess, instance: str) -> dict:
    answer = host.request(
        "GET", f"/runtime/webhooks/durabletask/instances/{urllib.parse.quote(instance)}"
    )
    return answer.json() if answer.status in (200, 202) else {}


@contextmanager
def schedule_host(azurite, tmp_path: Path, state: str, **settings: str) -> Iterator[HostProcess]:
    env = {
        "AzureWebJobsStorage": azurite.connection_string,
        "BACKUP_STORAGE_CONNECTION": azurite.connection_string,
        **settings,
    }
    with running_host(PROJECT_DIR, tmp_path / state, env=env) as host:
        yield host


def test_occurrences_back_up_every_root_and_skip_one_still_running(azurite, tmp_path, unique_name):
    roots = tmp_path / "roots"
    www, blog = roots / "www", roots / "blog"
    www_files, blog_files = make_site(www, "www"), make_site(blog, "blog")
    settings = {
        "BACKUP_ALLOWED_ROOTS": str(roots),
        "BACKUP_CONTAINER": unique_name,
        "BACKUP_SCHEDULE": "*/2 * * * * *",
        "BACKUP_SCHEDULE_ROOTS": json.dumps(
            [
                {"path": str(www), "exclude": ["*.log"]},
                {"path": str(blog), "exclude": ["*.log"]},
            ]
        ),
    }
    www_id, blog_id = instance_id(unique_name, "www"), instance_id(unique_name, "blog")
    with schedule_host(azurite, tmp_path, "state", **settings) as host:
        # Both roots start from the schedule alone, and their backups complete.
        wait_until(
            "both roots backed up",
            lambda: (
                {www_id, blog_id} <= set(started_ids(host))
                and status_of(host, www_id).get("runtimeStatus") == "Completed"
                and status_of(host, blog_id).get("runtimeStatus") == "Completed"
            ),
            60,
            host,
        )
        with ContainerClient.from_connection_string(
            azurite.connection_string, unique_name
        ) as container:
            stored = {blob.name for blob in container.list_blobs()}
        assert stored == {
            blob_name(site, rel)
            for site, files in (("www", www_files), ("blog", blog_files))
            for rel in files
            if not rel.endswith(".log")
        }

        # Hold www's backup: suspended counts as running. The next occurrences must leave
        # it alone and say so, while blog goes on being backed up.
        suspended = wait_until(
            "a www backup held suspended", lambda: _suspend_a_run(host, www, www_id), 60, host
        )
        seen = len(started_ids(host))
        wait_until(
            "two more occurrences (blog started twice more)",
            lambda: started_ids(host)[seen:].count(blog_id) >= 2,
            60,
            host,
        )
        assert www_id not in started_ids(host)[seen:]
        assert f"the backup {www_id} is still suspended; nothing new started" in log_text(host)
        held = status_of(host, www_id)
        assert held["runtimeStatus"] == "Suspended"
        assert held["createdTime"] == suspended["createdTime"]  # the same run, not a new one
        host.request(
            "POST",
            f"/runtime/webhooks/durabletask/instances/{www_id}/resume?reason=test",
        )
        wait_until(
            "the held backup completes once resumed",
            lambda: status_of(host, www_id).get("runtimeStatus") == "Completed",
            60,
            host,
        )


def _suspend_a_run(host: HostProcess, root: Path, instance: str) -> dict | None:
    """Start (or catch) a backup of ``root`` and suspend it; its status once it is held."""
    answer = host.request("POST", START, json.dumps({"path": str(root), "exclude": ["*.log"]}))
    if answer.status not in (202, 409):
        raise AssertionError(f"start answered {answer.status}: {answer.body!r}")
    host.request("POST", f"/runtime/webhooks/durabletask/instances/{instance}/suspend?reason=t")
    status = status_of(host, instance)
    return status if status.get("runtimeStatus") == "Suspended" else None


def test_an_occurrence_missed_while_the_host_was_down_runs_once_after_a_restart(
    azurite, tmp_path, unique_name
):
    roots = tmp_path / "roots"
    make_site(roots / "www", "www")
    settings = {
        "BACKUP_ALLOWED_ROOTS": str(roots),
        "BACKUP_CONTAINER": unique_name,
        # Once a minute: the timer keeps its schedule status (the monitor) only for schedules
        # that fire at most once a minute.
        "BACKUP_SCHEDULE": "0 * * * * *",
        "BACKUP_SCHEDULE_ROOTS": str(roots / "www"),
    }
    with schedule_host(azurite, tmp_path, "state", **settings) as host:
        host.stop()
        # The first start stored its next occurrence (moved on a minute by each run that
        # happened before the stop); let that one pass while the host is down.
        ran = len(re.findall(r"Executed 'Functions\.ScheduledBackup'", log_text(host)))
        missed = _first_announced_occurrence(host) + 60 * ran
        wait_until("the missed occurrence to pass", lambda: time.time() > missed + 1, 75, host)
        lines_before = len(log_text(host).splitlines())
        host.start()
        www_id = instance_id(unique_name, "www")
        wait_until(
            "the past-due run",
            lambda: status_of(host, www_id).get("runtimeStatus") == "Completed",
            60,
            host,
        )
        after = "\n".join(log_text(host).splitlines()[lines_before:])
        assert "scheduled backup: this occurrence is past due" in after
        assert after.count("scheduled backup started") == 1


def _first_announced_occurrence(host: HostProcess) -> float:
    """The epoch time of the first occurrence the host announced at its start."""
    found = re.findall(r"will be:\s*\n\s*(\S+)", log_text(host))
    assert found, f"the host did not announce the schedule:\n{host.log_tail()}"
    return datetime.fromisoformat(found[0]).timestamp()


def test_a_bad_schedule_puts_only_the_timer_in_error(azurite, tmp_path, unique_name):
    roots = tmp_path / "roots"
    files = make_site(roots / "www", "www")
    settings = {
        "BACKUP_ALLOWED_ROOTS": str(roots),
        "BACKUP_CONTAINER": unique_name,
        "BACKUP_SCHEDULE": "every night",
        "BACKUP_SCHEDULE_ROOTS": str(roots / "www"),
    }
    with schedule_host(azurite, tmp_path, "state", **settings) as host:
        assert "The 'ScheduledBackup' function is in error" in log_text(host)
        assert "The schedule expression 'every night' was not recognized" in log_text(host)
        started = host.post_json(START, {"path": str(roots / "www")})
        final = host.wait_for_status(started["statusQueryGetUri"], timeout=60)
        assert final["runtimeStatus"] == "Completed"
        assert final["output"] == sum(len(data) for data in files.values())


def test_no_roots_means_scheduling_is_off_and_logged_once(azurite, tmp_path):
    settings = {"BACKUP_SCHEDULE": "*/1 * * * * *", "BACKUP_SCHEDULE_ROOTS": ""}
    with schedule_host(azurite, tmp_path, "state", **settings) as host:
        runs = re.compile(r"Executed 'Functions\.ScheduledBackup' \(Succeeded")
        wait_until(
            "three occurrences",
            lambda: len(runs.findall(log_text(host))) >= 3,
            30,
            host,
        )
        assert log_text(host).count("scheduled backups are off") == 1
        assert "scheduled backup started" not in log_text(host)
