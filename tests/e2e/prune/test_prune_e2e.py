"""Prune through the real path: the client's ``prune`` command against the local host (a
subprocess) serving the app over HTTP, real Azurite; then every kept snapshot is restored
and compared with a copy of the tree made with shutil when it was backed up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from tests.e2e.restore.support import (
    BACKUP,
    RESTORE,
    build_tree,
    copy_aside,
    make_places,
    post,
    restore_host,
    run,
)
from tests.e2e.restore.support import snapshot_of as tree_of
from tests.e2e.restore.test_restore_e2e import show, site_backup, snapshot_ids
from tests.support.host_process import HostProcess

PRUNE = "orchestrators/E2_PruneSnapshots"


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_places(tmp_path_factory.mktemp("places"), ("sites", "restores", "oracles"))


@pytest.fixture(scope="module")
def host(azurite, places, tmp_path_factory) -> Iterator[HostProcess]:
    with restore_host(azurite, places, tmp_path_factory.mktemp("host-state")) as running:
        yield running


def stored(azurite, container: str) -> tuple[set, set]:
    """Every blob and blob snapshot of the backup, and the destination's meta blobs."""
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    blobs = service.get_container_client(container).list_blobs(include=["snapshots"])
    meta = service.get_container_client("backup-meta").list_blob_names(
        name_starts_with=f"{container}/"
    )
    return {(b.name, b.snapshot) for b in blobs}, set(meta)


def test_prune_then_every_kept_snapshot_restores_and_a_dry_run_deletes_nothing(
    host, azurite, places, unique_name
):
    site = places["sites"] / unique_name
    build_tree(site, files=40, seed=5)
    backup = {"path": str(site), "container": unique_name, "prefix": "www"}
    oracles = []
    for step in range(3):
        (site / "index.html").write_bytes(f"<h1>version {step}</h1>".encode())
        if step == 1:
            (site / "d0" / "s0" / "f0000.bin").unlink()
        if step == 2:
            (site / "new.txt").write_bytes(b"added in the third run")
        done = run(host, BACKUP, backup)
        assert done["runtimeStatus"] == "Completed", done
        oracles.append(copy_aside(site, places["oracles"] / f"{unique_name}-{step}"))
    ids = snapshot_ids(azurite, unique_name, "www")
    assert len(ids) == 3
    common = ("--container", unique_name, "--prefix", "www", "--url", host.url)

    before = stored(azurite, unique_name)
    dry = site_backup("prune", str(site), "--keep-last", "2", "--dry-run", "--json", *common)
    assert dry.returncode == 0, show(dry)
    report = json.loads(dry.stdout)["output"]
    assert report["dropped"] == [ids[2]] and report["kept"] == ids[:2]
    # Would go: the deleted file's blob (only the oldest snapshot lists it) and the oldest
    # index.html (a blob snapshot).
    assert (report["blobsDeleted"], report["snapshotsDeleted"]) == (1, 1)
    assert stored(azurite, unique_name) == before

    table = site_backup("prune", str(site), "--keep-last", "2", *common)
    assert table.returncode == 0, show(table)
    assert "snapshots dropped" in table.stdout and ids[2] in table.stdout, show(table)
    assert snapshot_ids(azurite, unique_name, "www") == ids[:2]
    blobs, _ = stored(azurite, unique_name)
    assert ("www/d0/s0/f0000.bin", None) not in blobs

    for snapshot, oracle in zip(ids[:2], (oracles[2], oracles[1]), strict=True):
        target = places["restores"] / f"{unique_name}-{snapshot}"
        done = run(host, RESTORE, {**backup, "snapshot": snapshot, "target": str(target)})
        assert done["runtimeStatus"] == "Completed", done
        assert done["customStatus"]["filesFailed"] == 0, done["customStatus"]
        assert tree_of(target) == oracle


def test_bad_prune_requests_get_a_400_and_start_nothing(host, unique_name):
    for body, message in [
        ({"container": unique_name, "prefix": "www"}, "no retention policy"),
        ({"keepLast": 1}, "say which backup"),
        ({"path": "/srv/www", "keepLast": "all"}, "'keepLast'"),
        ({"path": "/srv/www", "keepDaily": 0}, "every keep rule is 0"),
    ]:
        answer = post(host, PRUNE, body)
        assert answer.status == 400, (body, answer.status, answer.body)
        assert message in answer.json()["error"]
