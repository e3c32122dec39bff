"""A whole backup driven through the four functions (real SDK, real activities, real Azurite).

The in-memory episode driver plays the host: it replays the orchestrators episode by episode
and runs the activities in-process, so the test sees exactly what the app does without a
host process. The end-to-end run over HTTP through the local host lives with the host's
tests.
"""

from __future__ import annotations

import json
import socket

import pytest

import E2_BackupPartition
import E2_BackupSiteContent
import E2_CopyFileToBlob
import E2_GetFileList
import E2_ReadFilePage
import E2_WriteSnapshot
import E2_WriteStoredPage
from devhost import azurite
from devhost.contracts import RuntimeStatus
from sitebackup.job import Job
from tests.integration.app.blobs import TREE, assert_backup_matches, write_tree
from tests.support.driver import Driver


def driver(copy=E2_CopyFileToBlob.main, **options) -> Driver:
    return Driver(
        {
            "E2_BackupSiteContent": E2_BackupSiteContent.main,
            "E2_BackupPartition": E2_BackupPartition.main,
        },
        {
            "E2_GetFileList": E2_GetFileList.main,
            "E2_CopyFileToBlob": copy,
            "E2_ReadFilePage": E2_ReadFilePage.main,
            "E2_WriteStoredPage": E2_WriteStoredPage.main,
            "E2_WriteSnapshot": E2_WriteSnapshot.main,
        },
        **options,
    )


@pytest.fixture
def app_settings(env, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BACKUP_STORAGE__blobServiceUri", raising=False)
    return env


def backup(job: Job):
    run = driver()
    instance_id = run.start("E2_BackupSiteContent", job.to_input(), instance_id="backup-flow")
    run.run()
    instance = run.instance(instance_id)
    assert instance.status is RuntimeStatus.COMPLETED, instance.output
    return instance.output_value, json.loads(instance.custom_status)


def test_a_tree_backs_up_through_the_functions_and_a_rerun_skips_everything(
    sites, app_settings, container
):
    root = sites / "www"
    write_tree(root)
    # Extra small files so the tree spans several partitions and waves.
    write_tree(root, {f"many/f{i:03d}.txt": f"file {i}".encode() for i in range(140)})
    (root / "escape").symlink_to("/etc")
    job = Job(
        root=str(root),
        container=app_settings["BACKUP_CONTAINER"],
        prefix="www",
        partition_size=50,
        partition_concurrency=2,
    )
    total = sum(path.stat().st_size for path in root.rglob("*") if path.is_file())

    output, status = backup(job)

    assert output == total
    assert status["phase"] == "done"
    assert status["filesTotal"] == status["filesDone"] == status["filesCopied"] == len(TREE) + 140
    assert status["partitionsDone"] == status["partitionsTotal"] == 4
    assert status["bytesDone"] == status["bytesTotal"] == total
    assert status["skippedEntries"] == 1 and status["skipped"][0]["path"] == "escape"
    assert assert_backup_matches(root, container, "www") == len(TREE) + 140

    output, status = backup(job)
    assert output == total
    assert status["filesSkipped"] == len(TREE) + 140 and status["filesCopied"] == 0
    # The listing found every file unchanged: no partition ran, the counts are complete.
    assert status["filesDone"] == status["filesTotal"] == len(TREE) + 140
    assert status["bytesDone"] == status["bytesTotal"] == total
    assert status["partitionsTotal"] == 0 and status["phase"] == "done"

    (root / "many/f000.txt").write_bytes(b"changed content")
    (root / "many/added.txt").write_bytes(b"added")
    total = sum(path.stat().st_size for path in root.rglob("*") if path.is_file())
    output, status = backup(job)
    assert output == total
    assert (status["filesCopied"], status["filesSkipped"]) == (2, len(TREE) + 139)
    assert status["filesDone"] == status["filesTotal"] == len(TREE) + 141
    assert status["bytesDone"] == status["bytesTotal"] == total
    assert assert_backup_matches(root, container, "www") == len(TREE) + 141


def test_an_empty_tree_completes_with_zero(sites, app_settings, container):
    (sites / "empty").mkdir()
    output, status = backup(
        Job(root=str(sites / "empty"), container=app_settings["BACKUP_CONTAINER"])
    )
    assert output == 0
    assert status["filesTotal"] == 0 and status["phase"] == "done"
    assert container.exists() and list(container.list_blobs()) == []


def test_a_file_that_vanishes_is_reported_and_excluded_from_the_output(sites, app_settings):
    root = sites / "www"
    write_tree(root, {"keep.txt": b"keep", "gone.txt": b"gone!"})
    run = driver()
    job = Job(root=str(root), container=app_settings["BACKUP_CONTAINER"], prefix="www")
    instance_id = run.start("E2_BackupSiteContent", job.to_input())
    # Episode 1 schedules the listing; it runs; then the file goes before any copy runs.
    run.run_episode(instance_id)
    assert run.run_activities() == 1
    assert [name for name, _ in run.activity_calls] == ["E2_GetFileList"]
    (root / "gone.txt").unlink()
    run.run()
    instance = run.instance(instance_id)
    status = json.loads(instance.custom_status)
    assert instance.status is RuntimeStatus.COMPLETED
    assert instance.output_value == 4
    assert status["filesFailed"] == 1
    assert status["failed"] == [{"path": "gone.txt", "error": "the file no longer exists"}]


def test_storage_lost_beyond_the_retries_stops_the_backup_and_a_rerun_finishes_it(
    sites, app_settings, container, monkeypatch
):
    root = sites / "www"
    write_tree(root, {f"f{i:02d}.txt": f"file {i}".encode() for i in range(60)})
    # Two partitions (50 + 10 files), one at a time; two attempts per copy.
    job = Job(
        root=str(root),
        container=app_settings["BACKUP_CONTAINER"],
        prefix="www",
        partition_size=50,
        partition_concurrency=1,
        retry_first_interval_ms=1000,
        retry_max_attempts=2,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody = probe.getsockname()[1]
    copies = 0

    def copy_until_storage_goes(request):
        # After 59 copies the storage account stops answering: the last file cannot be stored.
        nonlocal copies
        copies += 1
        if copies == 60:
            monkeypatch.setenv(
                "BACKUP_STORAGE_CONNECTION", azurite.connection_string({"blob": nobody})
            )
        return E2_CopyFileToBlob.main(request)

    run = driver(copy_until_storage_goes)
    instance_id = run.start("E2_BackupSiteContent", job.to_input(), instance_id="backup-lost")
    run.run()
    instance = run.instance(instance_id)

    assert instance.status is RuntimeStatus.FAILED, instance.output
    message = instance.output_value
    assert "the backup stopped: copying 'f59.txt' failed after 2 attempts" in message
    assert "uploading 'www/f59.txt': the storage service could not be reached" in message
    assert copies == 61  # the last file's two attempts; no other copy was started
    status = json.loads(instance.custom_status)
    assert (status["filesDone"], status["partitionsDone"], status["filesFailed"]) == (50, 1, 0)

    monkeypatch.setenv("BACKUP_STORAGE_CONNECTION", app_settings["BACKUP_STORAGE_CONNECTION"])
    output, status = backup(job)
    assert output == sum(path.stat().st_size for path in root.iterdir())
    assert (status["filesSkipped"], status["filesCopied"], status["filesFailed"]) == (59, 1, 0)
    assert assert_backup_matches(root, container, "www") == 60
