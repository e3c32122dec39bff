"""Files storage loses after the copies: the confirmation reports exactly those, the snapshot
leaves them out, a restore of it does not stumble over them, the next run copies them again.

Real Azurite, the real activities on the real hub (in memory). Blobs are deleted and
overwritten behind the app's back right before the confirmation runs; the expected files are
a copy of the tree taken before the backup, minus what the test itself removed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from azure.storage.blob import ContentSettings

import E2_ConfirmBackup
from devhost.contracts import RuntimeStatus
from sitebackup import layout
from sitebackup.confirm import MISSING
from sitebackup.job import Job
from sitebackup.restore import activities as restore
from sitebackup.restore.job import RestoreJob
from tests.integration.app.backup_functions import functions as backup_functions
from tests.integration.app.blobs import write_tree
from tests.integration.app.test_backup_flow import run_backup

FILES = {f"d{i % 4}/f{i:03d}.txt": f"file {i} ".encode() * (i % 7 + 1) for i in range(60)}
FILES["\ue000private/odd.txt"] = b"a name the two sort orders disagree on"
# The second run changes these (so they are copied; the rest is unchanged).
CHANGED = ["d1/f001.txt", "d2/f010.txt", "d3/f043.txt", "\ue000private/odd.txt"]
# Behind the app's back, after the copies: deleted (copied and unchanged ones) ...
DELETED = ["d1/f001.txt", "d0/f020.txt", "d3/f031.txt", "\ue000private/odd.txt"]
# ... and overwritten with other bytes (one copied, one unchanged).
OVERWRITTEN = ["d2/f010.txt", "d2/f058.txt"]


@pytest.fixture
def app_settings(app_settings, monkeypatch, tmp_path):
    """The shared settings, and a folder restores may write into."""
    restores = tmp_path / "restores"
    restores.mkdir()
    monkeypatch.setenv("BACKUP_RESTORE_ROOTS", str(restores))
    return {**app_settings, "BACKUP_RESTORE_ROOTS": str(restores)}


def tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def completed(info) -> dict:
    assert info.runtime_status is RuntimeStatus.COMPLETED, info.output
    return json.loads(info.custom_status)


def restore_snapshot(app_settings, run_id: str, target: Path) -> dict[str, dict]:
    """Prepare, every slice, every file, finish: the restore orchestration's steps."""
    job = RestoreJob(
        container=app_settings["BACKUP_CONTAINER"],
        prefix="www",
        snapshot=run_id,
        target=str(target),
        partition_size=7,
    )
    run = {"run": "0123456789ab"}
    prepared = restore.prepare({**job.to_input(), **run})
    assert prepared["error"] is None, prepared
    results = {}
    for index in range(prepared["partitions"]):
        read = restore.read_slice({"job": job.descriptor(), **run, "index": index})
        for item in read["files"]:
            result = restore.restore_one({"job": job.descriptor(), "file": item})
            results[result["path"]] = result
    assert restore.finish({**job.to_input(), **run})["error"] is None
    return results


def test_files_lost_after_the_copy_are_reported_left_out_of_the_snapshot_and_copied_again(
    sites, app_settings, container, store
):
    root = sites / "www"
    write_tree(root, FILES)
    job = Job(
        root=str(root),
        container=app_settings["BACKUP_CONTAINER"],
        prefix="www",
        partition_size=8,
    )
    first = completed(run_backup(job))
    assert first["filesCopied"] == len(FILES)
    for path in CHANGED:
        (root / path).write_bytes(b"changed: " + (root / path).read_bytes())
    before = tree(root)
    lost = sorted(set(DELETED) | set(OVERWRITTEN))

    done: list[bool] = []

    def lose_some_then_confirm(request):
        if done:
            return E2_ConfirmBackup.main(request)
        done.append(True)
        for path in DELETED:
            container.delete_blob(f"www/{path}", delete_snapshots="include")
        for path in OVERWRITTEN:
            other = b"not what was copied"
            container.upload_blob(
                f"www/{path}",
                other,
                overwrite=True,
                content_settings=ContentSettings(
                    content_md5=bytearray(hashlib.md5(other).digest())
                ),
            )
        return E2_ConfirmBackup.main(request)

    status = completed(run_backup(job, backup_functions(E2_ConfirmBackup=lose_some_then_confirm)))

    assert status["missingFromStorage"] == len(lost)
    assert status["confirmedInStorage"] == len(FILES) - len(lost)
    assert status["filesFailed"] == len(lost)
    assert sorted(item["path"] for item in status["failed"]) == lost
    errors = {item["path"]: item["error"] for item in status["failed"]}
    assert all(errors[path] == MISSING for path in DELETED)
    assert all("MD5" in errors[path] for path in OVERWRITTEN)
    assert status["bytesBackedUp"] == sum(
        len(data) for path, data in before.items() if path not in lost
    )

    newest = store.header(next(store.list()))
    listed = {entry.path: entry for entry in store.entries(newest)}
    assert sorted(listed) == sorted(set(before) - set(lost))
    for path, entry in listed.items():
        assert entry.md5 == hashlib.md5(before[path]).digest(), path
    assert newest.files == len(listed) and newest.failed == len(lost)
    # Lost files were in the previous snapshot and are not in this one.
    changes = newest.changes
    assert (changes.added, changes.deleted) == (0, len(lost))
    assert changes.changed == len(set(CHANGED) - set(lost))
    assert any(page.name.endswith("-kept.jsonl.gz") for page in newest.pages)

    results = restore_snapshot(
        app_settings, newest.run_id, Path(app_settings["BACKUP_RESTORE_ROOTS"]) / "r"
    )
    assert sorted(results) == sorted(listed)
    assert {result["status"] for result in results.values()} == {"restored"}, results
    restored = tree(Path(app_settings["BACKUP_RESTORE_ROOTS"]) / "r")
    assert restored == {path: data for path, data in before.items() if path not in lost}

    again = completed(run_backup(job))
    assert (again["filesCopied"], again["filesFailed"]) == (len(lost), 0)
    assert not again.get("missingFromStorage")
    header = store.header(next(store.list()))
    assert {entry.path for entry in store.entries(header)} == set(before)
    assert not any(page.name.endswith("-kept.jsonl.gz") for page in header.pages)


def test_a_run_that_loses_nothing_writes_no_lost_or_kept_pages(
    sites, app_settings, container, store
):
    root = sites / "www"
    write_tree(root, FILES)
    job = Job(root=str(root), container=app_settings["BACKUP_CONTAINER"], prefix="www")
    status = completed(run_backup(job))
    assert status["confirmedInStorage"] == len(FILES)
    ref = next(store.list())
    names = list(
        store.meta.list_blob_names(
            name_starts_with=layout.run_folder(job.container, job.prefix, ref.run_id)
        )
    )
    assert not [name for name in names if "/lost-" in name or "-kept." in name]
