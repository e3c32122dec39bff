"""A whole backup driven through the functions (real SDK, real activities, real Azurite).

The real task hub runs in this process over an in-memory store (``devhost.testing``): it
replays the orchestrators episode by episode and runs the activities in-process, so the test
sees exactly what the app does without a host process. The end-to-end run over HTTP through
the local host lives with the host's tests.
"""

from __future__ import annotations

import asyncio
import json
import socket

import E2_CopyFileToBlob
import E2_GetFileList
from devhost import azurite
from devhost.contracts import InstanceInfo, RuntimeStatus
from devhost.hub.clock import RealClock
from devhost.testing import StandInApp, memory_hub, wait_finished
from sitebackup.job import Job
from tests.integration.app.backup_functions import functions as backup_functions
from tests.integration.app.blobs import TREE, assert_backup_matches, write_tree


def run_backup(job: Job, functions: StandInApp | None = None) -> InstanceInfo:
    """One backup on the real hub (in memory; real time: retries wait for real)."""

    async def body() -> InstanceInfo:
        async with memory_hub(functions or backup_functions(), clock=RealClock()) as hub:
            # The starter passes the job as the client's start_new does: JSON of the JSON.
            await hub.start_instance(
                "E2_BackupSiteContent", "backup-flow", json.dumps(json.dumps(job.to_input()))
            )
            return await wait_finished(hub, "backup-flow", timeout=240)

    return asyncio.run(body())


def backup(job: Job):
    info = run_backup(job)
    assert info.runtime_status is RuntimeStatus.COMPLETED, info.output
    return json.loads(info.output), json.loads(info.custom_status)


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
    job = Job(root=str(root), container=app_settings["BACKUP_CONTAINER"], prefix="www")
    copies_when_listed: list[int] = []

    def list_then_lose_a_file(request):
        listing = E2_GetFileList.main(request)
        # The listing has the file; it goes before any copy runs.
        copies_when_listed.append(functions.activity_calls["E2_CopyFileToBlob"])
        (root / "gone.txt").unlink()
        return listing

    functions = backup_functions(E2_GetFileList=list_then_lose_a_file)
    info = run_backup(job, functions)
    status = json.loads(info.custom_status)
    assert copies_when_listed == [0]
    assert info.runtime_status is RuntimeStatus.COMPLETED
    assert json.loads(info.output) == 4
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

    instance = run_backup(job, backup_functions(E2_CopyFileToBlob=copy_until_storage_goes))

    assert instance.runtime_status is RuntimeStatus.FAILED, instance.output
    message = json.loads(instance.output)
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
