"""The restore activities against real Azurite and a real target folder.

The snapshot's manifest is written here with the snapshot store, and the blobs with the
plain SDK, so each test controls exactly what storage holds (hostile names included); the
expected files are the bytes the test put there, not anything the restore computed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings

from sitebackup import layout, manifest
from sitebackup.errors import JobError
from sitebackup.manifest import Entry, Header, PageRef
from sitebackup.restore import activities, download, names
from sitebackup.restore.job import RestoreJob
from sitebackup.snapshot_store import SnapshotStore

MTIME_NS = 1_700_000_000_123_456_789
PREFIX = "www"


@pytest.fixture
def restores(tmp_path: Path) -> Path:
    path = tmp_path / "restores"
    path.mkdir()
    return path


@pytest.fixture
def renv(env: dict[str, str], restores: Path, unique_name: str) -> dict[str, str]:
    return {
        **env,
        "BACKUP_RESTORE_ROOTS": str(restores),
        "BACKUP_META_CONTAINER": unique_name + "-meta",
    }


@pytest.fixture
def backup(storage_connection_string: str, unique_name: str) -> Iterator[ContainerClient]:
    service = BlobServiceClient.from_connection_string(storage_connection_string)
    client = service.get_container_client(unique_name)
    client.create_container()
    meta = service.get_container_client(unique_name + "-meta")
    meta.create_container()
    client.meta = meta  # where write_snapshot puts the manifest
    yield client
    client.delete_container()
    meta.delete_container()


def put(backup: ContainerClient, rel: str, content: bytes) -> None:
    backup.upload_blob(
        f"{PREFIX}/{rel}",
        content,
        overwrite=True,
        content_settings=ContentSettings(content_md5=bytearray(hashlib.md5(content).digest())),
    )


def entry(path: str, content: bytes) -> dict:
    return Entry(path, len(content), MTIME_NS, hashlib.md5(content).digest()).to_json()


def write_snapshot(backup: ContainerClient, run_id: str, lines: list[dict], page_size: int = 3):
    """A snapshot header and pages of raw lines (so tests can plant malformed ones)."""
    meta = backup.meta
    store = SnapshotStore(meta, backup.container_name, PREFIX)
    refs = []
    for index in range(0, max(1, len(lines)), page_size):
        page = lines[index : index + page_size]
        name = layout.run_page(backup.container_name, PREFIX, run_id, layout.STORED_PAGE, index)
        store.write_page(name, manifest.encode_lines(page))
        refs.append(PageRef(name, len(page)))
    store.write_header(
        Header(
            run_id=run_id,
            root="/srv/www",
            container=backup.container_name,
            prefix=PREFIX,
            started_ms=1_000,
            ended_ms=2_000,
            files=len(lines),
            bytes=sum(n for line in lines if isinstance(n := line.get("size"), int)),
            pages=tuple(refs),
        )
    )


def run_restore(renv: dict[str, str], target: Path, **options) -> dict[str, dict]:
    """Prepare, every slice, every file, finish: what the orchestration does, in order."""
    job = RestoreJob(
        container=renv["BACKUP_CONTAINER"],
        prefix=PREFIX,
        snapshot="run-1",
        target=str(target),
        partition_size=2,
        **options,
    )
    run = {"run": "0123456789ab"}
    prepared = activities.prepare({**job.to_input(), **run}, renv)
    assert prepared["error"] is None, prepared
    results = {}
    for index in range(prepared["partitions"]):
        read = activities.read_slice({"job": job.descriptor(), **run, "index": index}, renv)
        for item in read["files"]:
            result = activities.restore_one({"job": job.descriptor(), "file": item}, renv)
            results[result["path"]] = result
    assert activities.finish({**job.to_input(), **run}, renv)["error"] is None
    return results


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def test_restores_current_blobs_and_blob_snapshots_byte_for_byte(backup, renv, restores):
    files = {
        "index.html": b"<h1>hi</h1>",
        "css/a.css": b"body{}",
        "img/x/y.bin": os.urandom(3 << 20),
        "empty.txt": b"",
    }
    for rel, content in files.items():
        put(backup, rel, content)
    # The file changed after the snapshot: its content lives on in a blob snapshot only.
    backup.get_blob_client(f"{PREFIX}/css/a.css").create_snapshot()
    put(backup, "css/a.css", b"body{color:red}")
    write_snapshot(backup, "run-1", [entry(p, c) for p, c in files.items()])

    target = restores / "new" / "site"
    results = run_restore(renv, target)

    assert {path: r["status"] for path, r in results.items()} == dict.fromkeys(files, "restored")
    assert tree(target) == files
    assert all((target / rel).stat().st_mtime_ns == MTIME_NS for rel in files)


def test_hostile_names_never_write_outside_the_target(backup, renv, restores, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = restores / "site"
    target.mkdir()
    (target / "uploads").symlink_to(outside)
    good = b"fine"
    put(backup, "ok.txt", good)
    hostile = [
        "../escape.txt",
        "/etc/evil",
        "a\\..\\b",
        "x/../../y",
        "uploads/evil.php",
        "a//b",
        names.temp_name("z"),
    ]
    lines = [entry("ok.txt", good)] + [entry(name, good) for name in hostile]
    lines.append({"path": "broken.txt", "size": "big"})
    write_snapshot(backup, "run-1", lines)

    results = run_restore(renv, target)

    assert results["ok.txt"]["status"] == "restored"
    for name in [*hostile, "broken.txt"]:
        assert results[name]["status"] == "failed", results[name]
        assert results[name]["error"]
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "escape.txt").exists() and not (restores / "escape.txt").exists()
    assert tree(target) == {"ok.txt": good}


def test_content_that_no_longer_matches_is_reported_not_written(backup, renv, restores):
    put(backup, "gone.txt", b"replaced content")  # no snapshot holds the manifest's MD5
    write_snapshot(backup, "run-1", [entry("gone.txt", b"original")])
    target = restores / "site"
    results = run_restore(renv, target)
    assert results["gone.txt"]["status"] == "failed"
    assert "MD5" in results["gone.txt"]["error"]
    assert tree(target) == {}


def test_a_rerun_finishes_and_sweeps_what_a_crash_left(backup, renv, restores):
    files = {"a.txt": b"alpha", "d/b.txt": b"bravo"}
    for rel, content in files.items():
        put(backup, rel, content)
    write_snapshot(backup, "run-1", [entry(p, c) for p, c in files.items()])
    target = restores / "site"
    (target / "d").mkdir(parents=True)
    # A crash mid-download left a temporary file, and one elsewhere from an older run.
    (target / "d" / names.temp_name("b.txt")).write_bytes(b"bra")
    (target / names.temp_name("old.txt")).write_bytes(b"stale")
    (target / "a.txt").write_bytes(b"alpha")  # finished before the crash

    results = run_restore(renv, target)

    assert results["a.txt"]["status"] == "skipped"
    assert results["d/b.txt"]["status"] == "restored"
    assert tree(target) == files


@pytest.mark.parametrize(
    ("existing", "status", "kept"),
    [
        ("refuse", "failed", b"mine"),
        ("skip", "skipped", b"mine"),
        ("overwrite", "restored", b"theirs"),
    ],
)
def test_a_different_existing_file_follows_the_requested_mode(
    backup, renv, restores, existing, status, kept
):
    put(backup, "f.txt", b"theirs")
    write_snapshot(backup, "run-1", [entry("f.txt", b"theirs")])
    target = restores / "site"
    target.mkdir()
    (target / "f.txt").write_bytes(b"mine")
    results = run_restore(renv, target, existing=existing)
    assert results["f.txt"]["status"] == status
    assert (target / "f.txt").read_bytes() == kept


def test_include_patterns_choose_the_subset(backup, renv, restores):
    files = {"index.html": b"i", "img/a.png": b"a", "img/b/c.png": b"c", "notes.txt": b"n"}
    for rel, content in files.items():
        put(backup, rel, content)
    write_snapshot(backup, "run-1", [entry(p, c) for p, c in files.items()])
    target = restores / "site"
    run_restore(renv, target, include=("/img/", "/notes.txt"))
    assert tree(target) == {k: v for k, v in files.items() if k != "index.html"}


def test_the_plan_lives_in_a_page_of_the_restore_and_goes_with_its_finish(backup, renv, restores):
    # Pages of 3 cut into slices of 2: [0,0,2] [0,2,1] [1,0,2] [1,2,1] [2,0,2] [2,2,1]
    paths = [f"d{n // 3}/f{n}.txt" for n in range(9)]
    write_snapshot(backup, "run-1", [entry(p, p.encode()) for p in paths])
    run = "0123456789ab"
    job = RestoreJob(
        renv["BACKUP_CONTAINER"], PREFIX, "run-1", str(restores / "t"), partition_size=2
    )
    # Only d0/f1.txt and d2/f7.txt, d2/f8.txt are chosen: slices [0,0,2] and [2,0,2] [2,2,1].
    job = dataclasses.replace(job, include=("/d0/f1.txt", "/d2/f7.txt", "/d2/f8.txt"))
    prepared = activities.prepare({**job.to_input(), "run": run}, renv)
    assert prepared["error"] is None, prepared
    assert prepared["partitions"] == 3  # a count: no slice travels back to the orchestration
    assert (prepared["filesTotal"], prepared["bytesTotal"]) == (3, len("d0/f1.txt") * 3)
    name = layout.restore_plan(renv["BACKUP_CONTAINER"], PREFIX, run)
    assert backup.meta.get_blob_client(name).exists()

    read = [
        [
            f["path"]
            for f in activities.read_slice({"job": job.descriptor(), "run": run, "index": i}, renv)[
                "files"
            ]
        ]
        for i in range(3)
    ]
    assert read == [["d0/f1.txt"], ["d2/f7.txt"], ["d2/f8.txt"]]
    with pytest.raises(JobError, match="no partition 3"):
        activities.read_slice({"job": job.descriptor(), "run": run, "index": 3}, renv)
    with pytest.raises(JobError, match="'run'"):
        activities.read_slice({"job": job.descriptor(), "run": "../x", "index": 0}, renv)

    assert activities.finish({**job.to_input(), "run": run}, renv)["error"] is None
    assert not backup.meta.get_blob_client(name).exists()
    # A finish that runs again (a lost acknowledgement) finds nothing left to delete.
    assert activities.finish({**job.to_input(), "run": run}, renv)["error"] is None


def test_a_target_outside_the_restore_roots_is_refused(backup, renv, tmp_path):
    write_snapshot(backup, "run-1", [])
    job = RestoreJob(renv["BACKUP_CONTAINER"], PREFIX, "run-1", str(tmp_path / "elsewhere"))
    prepared = activities.prepare({**job.to_input(), "run": "0123456789ab"}, renv)
    assert "outside the restore roots" in prepared["error"]
    assert not (tmp_path / "elsewhere").exists()


def test_a_large_file_arrives_in_parallel_ranges_hashed_in_order(backup, renv, restores):
    content = os.urandom(11 * 1024 * 1024 + 123)  # the first chunk, then three ranges
    put(backup, "big.bin", content)
    target = restores / "big"
    target.mkdir()
    wanted = download.Wanted(
        "big.bin", len(content), hashlib.md5(content).digest(), MTIME_NS, f"{PREFIX}/big.bin"
    )
    fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
    try:
        result = download.restore_file(backup, fd, wanted, concurrency=3)
    finally:
        os.close(fd)
    assert result.status == "restored", result
    assert (target / "big.bin").read_bytes() == content
    assert os.listdir(target) == ["big.bin"]


def test_each_file_is_flushed_before_its_rename_and_its_folder_after(
    backup, renv, restores, monkeypatch
):
    """Power loss cannot be simulated here, so the order of the calls stands for it: the
    content must be on disk before the name points at it, and the name before the file
    counts as restored. Calls are recorded by inode, so a flush of the wrong file or folder
    does not count."""
    files = {"top.txt": b"top", "deep/er/leaf.txt": b"leaf" * 1000}
    for rel, content in files.items():
        put(backup, rel, content)
    write_snapshot(backup, "run-1", [entry(p, c) for p, c in files.items()])
    target = restores / "site"
    calls: list[tuple[str, int]] = []
    real_fsync, real_rename, real_mkdir = os.fsync, os.rename, os.mkdir

    def fsync(fd):
        calls.append(("fsync", os.fstat(fd).st_ino))
        return real_fsync(fd)

    def rename(src, dst, *, src_dir_fd=None, dst_dir_fd=None):
        moved = os.stat(src, dir_fd=src_dir_fd, follow_symlinks=False).st_ino
        real_rename(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)
        calls.append(("rename", moved))

    def mkdir(path, mode=0o777, *, dir_fd=None):
        real_mkdir(path, mode, dir_fd=dir_fd)
        calls.append(("mkdir", os.stat(path, dir_fd=dir_fd).st_ino))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(os, "mkdir", mkdir)

    results = run_restore(renv, target)
    monkeypatch.undo()

    assert {path: r["status"] for path, r in results.items()} == dict.fromkeys(files, "restored")
    assert tree(target) == files
    for rel in files:
        file_ino = (target / rel).stat().st_ino
        folder_ino = (target / rel).parent.stat().st_ino
        moved = calls.index(("rename", file_ino))
        assert ("fsync", file_ino) in calls[:moved], (rel, calls)
        assert ("fsync", folder_ino) in calls[moved + 1 :], (rel, calls)
    # Every folder the restore created is flushed in its parent after its creation.
    for folder in [target, target / "deep", target / "deep" / "er"]:
        made = calls.index(("mkdir", folder.stat().st_ino))
        assert ("fsync", folder.parent.stat().st_ino) in calls[made + 1 :], (folder, calls)
