"""Prune through the functions (real SDK, real Azurite, the episode driver as the host).

The oracle is each version of the tree, read from disk before it changed; after a prune,
every kept snapshot must still resolve to exactly that content, and a dry run must leave
storage exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import E2_DropSnapshots
import E2_PlanPrune
import E2_PruneSnapshots
import E2_SweepContent
import E2_SweepRuns
from devhost.contracts import RuntimeStatus
from sitebackup.job import Job
from sitebackup.prune.job import PruneJob
from sitebackup.retention import Policy
from sitebackup.snapshot_store import ContentIndex, SnapshotStore
from tests.integration.app.backup_functions import driver
from tests.integration.app.blobs import write_tree
from tests.support.driver import Driver


def backup(job: Job) -> str:
    # The real clock: prune compares the runs' times with the times storage keeps.
    run = driver(start=datetime.now(UTC))
    instance_id = run.start("E2_BackupSiteContent", job.to_input(), instance_id="b")
    run.run()
    instance = run.instance(instance_id)
    assert instance.status is RuntimeStatus.COMPLETED, instance.output
    return json.loads(instance.custom_status)["runId"]


def prune(job: PruneJob) -> dict:
    run = Driver(
        {"E2_PruneSnapshots": E2_PruneSnapshots.main},
        {
            "E2_PlanPrune": E2_PlanPrune.main,
            "E2_DropSnapshots": E2_DropSnapshots.main,
            "E2_SweepContent": E2_SweepContent.main,
            "E2_SweepRuns": E2_SweepRuns.main,
        },
        start=datetime.now(UTC),
    )
    instance_id = run.start("E2_PruneSnapshots", job.to_input(), instance_id="p")
    run.run()
    instance = run.instance(instance_id)
    assert instance.status is RuntimeStatus.COMPLETED, instance.output
    return instance.output_value


def tree_bytes(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def content_of(store: SnapshotStore, container, run_id: str) -> dict[str, bytes]:
    header = store.header(store.find(run_id))
    index = ContentIndex(container, header.prefix)
    found = {}
    for entry in store.entries(header):
        where = index.resolve(entry)
        assert where is not None, f"{entry.path} of {run_id} lost its content"
        data = container.get_blob_client(where.blob, snapshot=where.snapshot)
        data = data.download_blob().readall()
        assert hashlib.md5(data).digest() == entry.md5
        found[entry.path] = data
    return found


def everything(store: SnapshotStore, container) -> tuple[set, set]:
    blobs = {(b.name, b.snapshot) for b in container.list_blobs(include=["snapshots"])}
    return blobs, set(store.meta.list_blob_names())


def test_prune_keeps_every_kept_snapshot_whole_and_a_dry_run_deletes_nothing(
    sites, app_settings, container, store
):
    root = sites / "www"
    write_tree(root, {f"same/{i}.txt": f"unchanged {i}".encode() for i in range(30)})
    write_tree(root, {"page.html": b"v1", "gone-early.txt": b"only in run 1", "mid.txt": b"m1"})
    job = Job(root=str(root), container=app_settings["BACKUP_CONTAINER"], prefix="www")
    versions = {}
    runs = [backup(job)]
    versions[runs[-1]] = tree_bytes(root)
    (root / "gone-early.txt").unlink()
    (root / "page.html").write_bytes(b"v2 of the page")
    (root / "mid.txt").write_bytes(b"m2")
    runs.append(backup(job))
    versions[runs[-1]] = tree_bytes(root)
    (root / "page.html").write_bytes(b"v3")
    (root / "new.txt").write_bytes(b"new in run 3")
    runs.append(backup(job))
    versions[runs[-1]] = tree_bytes(root)
    (root / "page.html").write_bytes(b"v4, the last")
    runs.append(backup(job))
    versions[runs[-1]] = tree_bytes(root)
    assert [ref.run_id for ref in store.list()] == runs[::-1]

    policy = Policy(last=2)
    before = everything(store, container)
    report = prune(PruneJob(container.container_name, "www", policy, dry_run=True))
    assert everything(store, container) == before
    assert report["dryRun"] is True
    assert report["kept"] == runs[:1:-1] and report["dropped"] == runs[1::-1]
    # Would go: gone-early.txt (in run 1 only), the snapshots of page.html v1 and v2 and of
    # mid.txt m1; the run pages of runs 1 and 2.
    assert report["blobsDeleted"] == 1 and report["snapshotsDeleted"] == 3
    assert "www/gone-early.txt" in report["sample"]
    assert report["pagesDeleted"] > 0

    report = prune(PruneJob(container.container_name, "www", policy))
    assert report["kept"] == runs[:1:-1] and report["dropped"] == runs[1::-1]
    assert [ref.run_id for ref in store.list()] == runs[:1:-1]
    for run_id in runs[2:]:
        assert content_of(store, container, run_id) == versions[run_id]
    names = {b.name for b in container.list_blobs()}
    assert "www/gone-early.txt" not in names
    assert (report["blobsDeleted"], report["snapshotsDeleted"]) == (1, 3)
    # What is left: the base blobs of the last tree and one snapshot (page.html v3).
    left = {(b.name, b.snapshot is not None) for b in container.list_blobs(include=["snapshots"])}
    assert left == {(f"www/{path}", False) for path in versions[runs[-1]]} | {
        ("www/page.html", True)
    }
    # No run pages of the dropped runs remain.
    pages = set(store.meta.list_blob_names())
    assert not [name for name in pages if any(f"/runs/{r}/" in name for r in runs[:2])]

    # Prune again: nothing more to do, and the kept snapshots still restore.
    report = prune(PruneJob(container.container_name, "www", policy))
    assert report["dropped"] == [] and report["blobsDeleted"] == report["snapshotsDeleted"] == 0
    for run_id in runs[2:]:
        assert content_of(store, container, run_id) == versions[run_id]


def test_prune_of_a_destination_without_snapshots_does_nothing(app_settings, container):
    container.create_container()
    report = prune(PruneJob(container.container_name, "www", Policy(last=1)))
    assert report["kept"] == report["dropped"] == [] and report["blobsDeleted"] == 0
