"""Storage that loses a whole container: the confirmation reports it, a re-run repairs it.

Azurite killed before it saved its metadata can forget a container with every blob in it
(or the meta container with the owner record and the run's pages). Here the containers are
deleted behind the app's back at the same moments, deterministically; the backups run
through the real functions on the real hub (in memory) against the session's Azurite.
"""

from __future__ import annotations

import json

import E2_ConfirmBackup
from devhost.contracts import RuntimeStatus
from sitebackup import layout
from sitebackup.confirm import MISSING
from sitebackup.job import Job
from tests.integration.app.backup_functions import functions as backup_functions
from tests.integration.app.blobs import assert_backup_matches, write_tree
from tests.integration.app.test_backup_flow import backup, run_backup

FILES = {f"d{i % 3}/f{i:02d}.txt": f"file {i}".encode() * (i + 1) for i in range(30)}


def _job(sites, app_settings) -> Job:
    root = sites / "www"
    write_tree(root, FILES)
    return Job(
        root=str(root),
        container=app_settings["BACKUP_CONTAINER"],
        prefix="www",
        partition_size=10,
    )


def _tree_bytes() -> int:
    return sum(len(content) for content in FILES.values())


def test_a_container_lost_after_the_copies_is_reported_missing_and_a_rerun_copies_all(
    sites, app_settings, container, store
):
    job = _job(sites, app_settings)
    lost_before_confirming: list[bool] = []

    def lose_the_container_then_confirm(request):
        container.delete_container()
        lost_before_confirming.append(not container.exists())
        return E2_ConfirmBackup.main(request)

    info = run_backup(job, backup_functions(E2_ConfirmBackup=lose_the_container_then_confirm))

    assert lost_before_confirming == [True]
    assert info.runtime_status is RuntimeStatus.COMPLETED, info.output
    status = json.loads(info.custom_status)
    assert status["missingFromStorage"] == len(FILES)
    assert status["filesFailed"] >= len(FILES)
    assert {item["error"] for item in status["failed"]} == {MISSING}
    # Its snapshot lists nothing storage lost: here, nothing at all.
    header = store.header(next(store.list()))
    assert (header.files, header.failed) == (0, status["filesFailed"])
    assert list(store.entries(header)) == []

    output, status = backup(job)
    assert output == _tree_bytes()
    assert (status["filesCopied"], status["filesSkipped"], status["filesFailed"]) == (
        len(FILES),
        0,
        0,
    )
    assert not status.get("missingFromStorage")
    assert assert_backup_matches(sites / "www", container, "www") == len(FILES)
    header = store.header(next(store.list()))
    assert header.files == len(FILES) and header.changes.added == len(FILES)


def test_a_rerun_after_storage_lost_both_containers_recreates_them_and_copies_all(
    sites, app_settings, container, meta
):
    job = _job(sites, app_settings)
    backup(job)
    container.delete_container()
    meta.delete_container()

    output, status = backup(job)

    assert output == _tree_bytes()
    assert (status["filesCopied"], status["filesFailed"]) == (len(FILES), 0)
    assert not status.get("missingFromStorage")
    assert assert_backup_matches(sites / "www", container, "www") == len(FILES)
    owner = json.loads(meta.download_blob(layout.owner_blob(job.container, job.prefix)).readall())
    assert owner["root"] == str(sites / "www")
    folder = layout.snapshots_folder(job.container, job.prefix)
    assert len(list(meta.list_blobs(name_starts_with=folder))) == 1


def test_a_rerun_after_storage_lost_the_meta_container_records_it_again(
    sites, app_settings, container, meta
):
    job = _job(sites, app_settings)
    backup(job)
    meta.delete_container()

    output, status = backup(job)

    # The backup's blobs are still there and exact: nothing needs copying again.
    assert output == _tree_bytes()
    assert (status["filesSkipped"], status["filesCopied"], status["filesFailed"]) == (
        len(FILES),
        0,
        0,
    )
    assert assert_backup_matches(sites / "www", container, "www") == len(FILES)
    owner = json.loads(meta.download_blob(layout.owner_blob(job.container, job.prefix)).readall())
    assert owner["root"] == str(sites / "www")
