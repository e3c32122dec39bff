"""Every backup run leaves a snapshot; earlier snapshots keep their content (real Azurite, the
real SDK through the functions, the episode driver as the host).

The oracle is independent of the app: a dict of each version's bytes, made from the tree
before it changes, compared with what the snapshot's entries resolve to in storage.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from devhost.contracts import RuntimeStatus
from sitebackup import layout
from sitebackup.job import Job
from sitebackup.snapshot_store import ContentIndex, SnapshotStore
from tests.integration.app.backup_functions import driver
from tests.integration.app.blobs import write_tree

_clock = datetime(2026, 1, 1, tzinfo=UTC)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def backup(job: Job) -> dict:
    # Each run starts later, as real runs do (the run id comes from the start time).
    global _clock
    _clock += timedelta(minutes=5)
    run = driver(start=_clock)
    instance_id = run.start("E2_BackupSiteContent", job.to_input(), instance_id="snaps")
    run.run()
    instance = run.instance(instance_id)
    assert instance.status is RuntimeStatus.COMPLETED, instance.output
    return json.loads(instance.custom_status)


def restored(store: SnapshotStore, container, ref) -> dict[str, bytes]:
    """What a snapshot's entries resolve to in storage, checked against their MD5s."""
    header = store.header(ref)
    index = ContentIndex(container, header.prefix)
    found: dict[str, bytes] = {}
    for entry in store.entries(header):
        content = index.resolve(entry)
        assert content is not None, entry.path
        data = (
            container.get_blob_client(content.blob, snapshot=content.snapshot)
            .download_blob()
            .readall()
        )
        assert hashlib.md5(data).digest() == entry.md5 and len(data) == entry.size
        found[entry.path] = data
    return found


def test_each_run_is_a_snapshot_and_earlier_ones_keep_their_content(
    sites, app_settings, container, store
):
    root = sites / "www"
    first = {f"many/f{i:03d}.txt": f"file {i}".encode() for i in range(120)}
    first |= {"index.html": b"<h1>v1</h1>", "old.txt": b"to be deleted", "mv/a.txt": b"moving"}
    write_tree(root, first)
    job = Job(
        root=str(root),
        container=app_settings["BACKUP_CONTAINER"],
        prefix="www",
        partition_size=50,
        partition_concurrency=2,
    )
    status = backup(job)
    first_run = status["runId"]
    v1 = tree_bytes(root)

    (root / "index.html").write_bytes(b"<h1>v2, longer</h1>")
    (root / "old.txt").unlink()
    (root / "new.txt").write_bytes(b"added")
    shutil.move(root / "mv/a.txt", root / "mv/b.txt")
    backup(job)
    v2 = tree_bytes(root)

    # Corrupted in place, same size: the earlier snapshots still hold the good content.
    (root / "many/f007.txt").write_bytes(b"XXXXXX")
    status = backup(job)
    v3 = tree_bytes(root)

    refs = list(store.list())
    assert len(refs) == 3
    assert refs[-1].run_id == first_run and refs[0].run_id == status["runId"]
    for ref, version in zip(refs, (v3, v2, v1), strict=True):
        assert restored(store, container, ref) == version

    headers = [store.header(ref) for ref in refs]
    assert headers[2].changes is None and headers[2].files == len(v1)
    # By hand: added new.txt and mv/b.txt; changed index.html; deleted old.txt and mv/a.txt.
    changes = headers[1].changes
    assert (changes.added, changes.changed, changes.deleted) == (2, 1, 2)
    assert headers[1].previous_run_id == first_run
    changes = headers[0].changes
    assert (changes.added, changes.changed, changes.deleted) == (0, 1, 0)
    assert headers[0].bytes == sum(len(data) for data in v3.values())

    # Deleted files keep their blobs; only changed files got blob snapshots.
    names = {blob.name for blob in container.list_blobs()}
    assert {"www/old.txt", "www/mv/a.txt"} <= names
    snapshotted = {
        blob.name for blob in container.list_blobs(include=["snapshots"]) if blob.snapshot
    }
    assert snapshotted == {"www/index.html", "www/many/f007.txt"}


def test_a_run_with_a_failed_file_leaves_a_snapshot_without_it(sites, app_settings, store):
    root = sites / "www"
    write_tree(root, {"keep.txt": b"keep", "gone.txt": b"gone!"})
    job = Job(root=str(root), container=app_settings["BACKUP_CONTAINER"], prefix="www")
    run = driver()
    instance_id = run.start("E2_BackupSiteContent", job.to_input())
    run.run_episode(instance_id)
    assert run.run_activities() == 1  # the listing
    (root / "gone.txt").unlink()
    run.run()
    assert run.instance(instance_id).status is RuntimeStatus.COMPLETED
    (ref,) = store.list()
    header = store.header(ref)
    assert header.failed == 1 and header.files == 1
    assert [entry.path for entry in store.entries(header)] == ["keep.txt"]


def test_the_history_holds_no_file_list(sites, app_settings, store):
    root = sites / "www"
    write_tree(root, {f"d/{'n' * 60}{i:04d}.txt": b"x" for i in range(600)})
    job = Job(root=str(root), container=app_settings["BACKUP_CONTAINER"], prefix="www")
    run = driver()
    instance_id = run.start("E2_BackupSiteContent", job.to_input())
    run.run()
    assert run.instance(instance_id).status is RuntimeStatus.COMPLETED
    # The listing's result and the partitions' inputs are counts and names, whatever the
    # tree: no path of the tree appears in the parent's history.
    history = json.dumps(run.instance(instance_id).history)
    assert "nnnnnnnnnn" not in history
    (ref,) = store.list()
    assert store.header(ref).files == 600
    pages = list(
        store.meta.list_blob_names(
            name_starts_with=layout.run_folder(store.container, store.prefix, ref.run_id)
        )
    )
    assert any("/copy-" in name for name in pages)


def test_a_run_that_stops_leaves_no_snapshot(sites, app_settings, store):
    root = sites / "www"
    write_tree(root, {f"f{i}.txt": b"x" for i in range(5)})
    job = Job(
        root=str(root),
        container=app_settings["BACKUP_CONTAINER"],
        prefix="www",
        retry_first_interval_ms=1,
        retry_max_attempts=1,
    )

    def storage_gone(request):
        raise RuntimeError("StorageError: the storage service could not be reached")

    run = driver(storage_gone, start=datetime(2026, 2, 1, tzinfo=UTC))
    instance_id = run.start("E2_BackupSiteContent", job.to_input())
    run.run()
    assert run.instance(instance_id).status is RuntimeStatus.FAILED
    assert list(store.list()) == []
    backup(job)
    (ref,) = store.list()
    assert store.header(ref).files == 5
