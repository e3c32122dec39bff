"""A whole backup driven through the four functions (real SDK, real activities, real Azurite).

The in-memory episode driver plays the host: it replays the orchestrators episode by episode
and runs the activities in-process, so the test sees exactly what the app does without a
host process. The end-to-end run over HTTP through the local host lives with the host's
tests.
"""

from __future__ import annotations

import json

import pytest

import E2_BackupPartition
import E2_BackupSiteContent
import E2_CopyFileToBlob
import E2_GetFileList
from devhost.contracts import RuntimeStatus
from sitebackup.job import Job
from tests.integration.app.blobs import TREE, assert_backup_matches, write_tree
from tests.support.driver import Driver


def driver() -> Driver:
    return Driver(
        {
            "E2_BackupSiteContent": E2_BackupSiteContent.main,
            "E2_BackupPartition": E2_BackupPartition.main,
        },
        {"E2_GetFileList": E2_GetFileList.main, "E2_CopyFileToBlob": E2_CopyFileToBlob.main},
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
