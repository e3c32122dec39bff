"""The scheduled backup's occurrence with the real client SDK talking HTTP to a recording
stand-in of the extension, and the destination's owner record in a real Azurite: which roots
start, with which instance ids and inputs, and which are refused and why."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from azure.durable_functions.models.utils import http_utils
from azure.functions.meta import Datum
from azure.functions.timer import TimerRequestConverter

import ScheduledBackup
from sitebackup import scheduled
from sitebackup.request import instance_id
from tests.integration.app.durable_stub import DurableStub


@pytest.fixture(autouse=True)
def fresh_off_log(monkeypatch):
    monkeypatch.setattr(scheduled, "_off_logged", False)


@pytest.fixture
def base_env(sites, storage_connection_string, unique_name) -> dict[str, str]:
    return {
        "BACKUP_ALLOWED_ROOTS": str(sites),
        "BACKUP_STORAGE_CONNECTION": storage_connection_string,
        "BACKUP_CONTAINER": unique_name,
    }


def occurrence(env: dict[str, str], stub: DurableStub | None = None):
    async def main():
        async with stub or DurableStub() as server:
            try:
                results = await scheduled.run_occurrence(server.binding(), env=env)
                return results, server
            finally:
                await http_utils._close_session()

    return asyncio.run(main())


def make_roots(sites: Path, *names: str) -> list[Path]:
    paths = []
    for name in names:
        (sites / name).mkdir(parents=True)
        (sites / name / "index.html").write_text(name)
        paths.append(sites / name)
    return paths


def test_every_configured_root_starts_with_the_http_starters_instance_id(
    sites, base_env, unique_name
):
    www, blog = make_roots(sites, "www", "blog")
    other = unique_name + "n"
    env = {
        **base_env,
        "BACKUP_SCHEDULE_ROOTS": json.dumps(
            [str(www), {"path": str(blog), "container": other, "exclude": ["*.log"]}]
        ),
    }
    results, stub = occurrence(env)

    assert [result.state for result in results] == ["started", "started"]
    started = {item["instance_id"]: item for item in stub.started}
    www_id = instance_id(unique_name, "www")
    blog_id = instance_id(other, "blog")
    assert set(started) == {www_id, blog_id}
    assert started[blog_id]["name"] == "E2_BackupSiteContent"
    assert started[blog_id]["input"]["rules"]["exclude"] == ["*.log"]
    assert started[blog_id]["input"]["dryRun"] is False
    assert "retention" not in started[www_id]["input"]


def test_a_root_whose_backup_still_runs_gets_nothing_new(sites, base_env, unique_name, caplog):
    (www,) = make_roots(sites, "www")
    running_id = instance_id(unique_name, "www")
    stub = DurableStub(statuses={running_id: "Running"})
    env = {**base_env, "BACKUP_SCHEDULE_ROOTS": str(www)}
    with caplog.at_level(logging.INFO, logger="sitebackup.scheduled"):
        results, stub = occurrence(env, stub)

    assert stub.started == []
    assert results[0].state == "running"
    assert f"the backup {running_id} is still running" in caplog.text


def test_a_bad_root_is_logged_and_the_others_still_start(sites, base_env, caplog):
    (www,) = make_roots(sites, "www")
    env = {**base_env, "BACKUP_SCHEDULE_ROOTS": f"/nowhere/else,{www}"}
    with caplog.at_level(logging.INFO, logger="sitebackup.scheduled"):
        results, stub = occurrence(env)
    assert [result.state for result in results] == ["failed", "started"]
    assert "scheduled backup of '/nowhere/else' not started" in caplog.text
    assert len(stub.started) == 1


def test_a_destination_owned_by_another_root_is_refused_and_logged(sites, base_env, caplog):
    # Two folders named www back up into the same default destination: the first one
    # listed owns it, the second is refused as an HTTP start would be (409).
    first, second = make_roots(sites, "a/www", "b/www")
    env = {**base_env, "BACKUP_SCHEDULE_ROOTS": f"{first},{second}"}
    with caplog.at_level(logging.INFO, logger="sitebackup.scheduled"):
        results, stub = occurrence(env)
    assert [result.state for result in results] == ["started", "failed"]
    assert len(stub.started) == 1
    assert "holds the backup of" in caplog.text


def test_no_roots_means_off_logged_once_and_nothing_started(base_env, caplog):
    env = {**base_env, "BACKUP_SCHEDULE_ROOTS": ""}
    with caplog.at_level(logging.INFO, logger="sitebackup.scheduled"):
        first, stub = occurrence(env)
        second, _ = occurrence(env)
    assert first == second == [] and stub.started == [] and stub.requests == []
    assert caplog.text.count("scheduled backups are off") == 1


def test_a_misconfigured_schedule_starts_nothing_and_says_why(base_env, caplog):
    env = {**base_env, "BACKUP_SCHEDULE_ROOTS": '[{"path": 1'}
    with caplog.at_level(logging.INFO, logger="sitebackup.scheduled"):
        results, stub = occurrence(env)
    assert results == [] and stub.started == []
    assert "BACKUP_SCHEDULE_ROOTS looks like a JSON array but is not valid JSON" in caplog.text


def test_with_a_retention_policy_each_backup_carries_it(sites, base_env):
    (www,) = make_roots(sites, "www")
    env = {**base_env, "BACKUP_SCHEDULE_ROOTS": str(www), "BACKUP_RETENTION": "last=3,daily=7"}
    _, stub = occurrence(env)
    (started,) = stub.started
    assert started["input"]["retention"] == {"last": 3, "daily": 7, "weekly": 0, "monthly": 0}


def test_the_function_reads_the_timer_and_passes_past_due(sites, base_env, monkeypatch, caplog):
    (www,) = make_roots(sites, "www")
    for key, value in {**base_env, "BACKUP_SCHEDULE_ROOTS": str(www)}.items():
        monkeypatch.setenv(key, value)
    # The timer binding's data as the host sends it, decoded by the library's converter.
    data = {"Schedule": {"AdjustForDST": True}, "ScheduleStatus": None, "IsPastDue": True}
    timer = TimerRequestConverter.decode(Datum(json.dumps(data), "json"), trigger_metadata={})

    async def main():
        async with DurableStub() as server:
            try:
                await ScheduledBackup.main(timer, server.binding())
                return server
            finally:
                await http_utils._close_session()

    with caplog.at_level(logging.INFO, logger="sitebackup.scheduled"):
        stub = asyncio.run(main())
    assert len(stub.started) == 1
    assert "past due" in caplog.text
