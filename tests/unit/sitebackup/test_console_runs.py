"""A runs-list row from an instance status."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sitebackup.console import runs

NOW = datetime(2026, 1, 1, 0, 10, 0, tzinfo=UTC)


def status(**extra):
    base = {
        "name": "E2_BackupSiteContent",
        "instanceId": "backup-1",
        "runtimeStatus": "Running",
        "input": json.dumps({"root": "/srv/www", "container": "backups", "prefix": "www"}),
        "customStatus": {
            "phase": "copying",
            "filesDone": 5,
            "filesTotal": 10,
            "bytesDone": 50,
            "bytesTotal": 100,
            "filesFailed": 1,
            "container": "backups",
            "prefix": "www",
        },
        "createdTime": "2026-01-01T00:00:00Z",
        "lastUpdatedTime": "2026-01-01T00:01:00Z",
    }
    return {**base, **extra}


def test_a_running_backup_row():
    row = runs.row(status(), NOW)
    assert row["kind"] == "backup" and row["root"] == "/srv/www"
    assert (row["filesDone"], row["filesTotal"], row["bytesDone"], row["bytesTotal"]) == (
        5,
        10,
        50,
        100,
    )
    assert row["filesFailed"] == 1
    assert row["durationSeconds"] == 600.0  # running: up to now


def test_a_finished_one_lasts_until_its_last_update_and_odd_values_are_not_counts():
    row = runs.row(
        status(runtimeStatus="Completed", customStatus={"filesDone": "5", "filesTotal": True}), NOW
    )
    assert row["durationSeconds"] == 60.0
    assert row["filesDone"] is None and row["filesTotal"] is None


@pytest.mark.parametrize(
    ("value", "root"),
    [('"/srv/a"', "/srv/a"), ("/srv/b", "/srv/b"), (None, ""), ("[1]", ""), ({"path": "/x"}, "/x")],
)
def test_the_root_from_any_input_shape(value, root):
    assert runs.root_of({"input": value}) == root


@pytest.mark.parametrize(
    ("path", "root", "inside"),
    [
        ("/srv/www", "/srv/www", True),
        ("/srv/www/a", "/srv/www/", True),
        ("/srv/wwwx", "/srv/www", False),
        ("/a", "/", True),
    ],
)
def test_under(path, root, inside):
    assert runs.under(path, root) is inside


def test_a_backup_that_continued_as_new_counts_from_its_first_start():
    # The first generation started 5 minutes before this one (createdTime).
    first = int(datetime(2025, 12, 31, 23, 55, 0, tzinfo=UTC).timestamp() * 1000)
    carried = {"root": "/srv/www", "resume": {"runId": "r1", "startedMs": first}}
    row = runs.row(status(input=json.dumps(carried)), NOW)
    assert row["created"].startswith("2025-12-31T23:55:00")
    assert row["durationSeconds"] == 900.0
    # A resume without a usable start falls back to the generation's own.
    carried["resume"]["startedMs"] = "yesterday"
    assert runs.row(status(input=json.dumps(carried)), NOW)["durationSeconds"] == 600.0
