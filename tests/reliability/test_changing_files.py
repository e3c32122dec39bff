"""Files that change under the backup, called at the activity level against real Azurite.

Whatever happens to a file between the listing and the end of its upload, its blob never
claims an MD5 or a size that its content does not have, and a file that cannot be copied is
reported with its reason instead of failing the backup or vanishing silently.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient

from faults.blobcheck import integrity_problems, read_blob, read_blobs
from faults.trees import md5_of_file
from tests.reliability.activities import COPY, back_up, call, job, judge_tree, list_run
from tests.reliability.messy import build_messy_tree, expected_entries

MIB = 1 << 20


@pytest.fixture
def activity_env(
    monkeypatch: pytest.MonkeyPatch, storage_connection_string: str, allowed_root: Path
) -> None:
    """The app settings the activities read, as the host would set them."""
    monkeypatch.setenv("AzureWebJobsStorage", storage_connection_string)
    monkeypatch.setenv("BACKUP_ALLOWED_ROOTS", str(allowed_root))
    monkeypatch.delenv("BACKUP_STORAGE_CONNECTION", raising=False)


@pytest.fixture
def container(
    activity_env: None, storage_connection_string: str, unique_name: str
) -> Iterator[ContainerClient]:
    client = BlobServiceClient.from_connection_string(storage_connection_string)
    container = client.get_container_client(unique_name)
    yield container
    container.delete_container()


def _blob(container: ContainerClient, name: str):
    for properties in container.list_blobs(name_starts_with=name, include=["metadata"]):
        if properties.name == name:
            return read_blob(container, properties)
    return None


def _listed_entry(root: Path, container: ContainerClient, relative: str) -> dict:
    listing = list_run(job(root, container.container_name))
    return next(entry for entry in listing["files"] if entry["path"] == relative)


class Scribbler:
    """Rewrites part of a file again and again from another thread, until stopped."""

    def __init__(self, path: Path, mode: str, interval: float = 0.002) -> None:
        self.path, self.mode, self.interval = path, mode, interval
        self.writes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        size = self.path.stat().st_size
        while not self._stop.is_set():
            with open(self.path, "r+b") as handle:
                if self.mode == "overwrite":
                    handle.seek((self.writes * 7919 * 4096) % max(1, size - 4096))
                    handle.write(os.urandom(4096))
                elif self.mode == "append":
                    handle.seek(0, os.SEEK_END)
                    handle.write(os.urandom(4096))
                else:  # truncate: shrink by a block each time
                    handle.truncate(max(0, size - (self.writes + 1) * 4096))
            self.writes += 1
            time.sleep(self.interval)

    def __enter__(self) -> Scribbler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


@pytest.mark.parametrize("mode", ["overwrite", "append", "truncate"])
def test_a_file_rewritten_during_upload_never_gets_a_blob_that_lies(
    allowed_root: Path, container: ContainerClient, mode: str
) -> None:
    root = allowed_root / "site"
    root.mkdir()
    target = root / "big.bin"
    target.write_bytes(os.urandom(24 * MIB))  # several blocks: the upload takes a while
    entry = _listed_entry(root, container, "big.bin")
    with Scribbler(target, mode) as scribbler:
        started = scribbler.writes
        result = call(COPY, {"job": job(root, container.container_name), "file": entry})
        during = scribbler.writes - started
    assert during > 0, "the file was not written while the copy ran; the test proved nothing"
    blob = _blob(container, "site/big.bin")
    if result["status"] == "failed":
        assert "chang" in result["error"], result
        # A blob may only exist if it is whole and honest; the activity committed nothing.
        assert blob is None or not integrity_problems(blob), integrity_problems(blob)
        return
    assert result["status"] == "copied", result
    assert blob is not None
    assert integrity_problems(blob) == []
    assert blob.metadata.get("size") == str(blob.content_size), blob.metadata
    assert result["bytes"] == blob.content_size


def test_a_file_changed_once_early_in_its_upload_is_copied_as_it_ends_up(
    allowed_root: Path, container: ContainerClient
) -> None:
    root = allowed_root / "site"
    root.mkdir()
    target = root / "big.bin"
    target.write_bytes(os.urandom(48 * MIB))
    entry = _listed_entry(root, container, "big.bin")

    def change_soon() -> None:
        time.sleep(0.05)
        with open(target, "r+b") as handle:
            handle.seek(40 * MIB)
            handle.write(b"changed while the backup read the file")

    changer = threading.Thread(target=change_soon)
    changer.start()
    result = call(COPY, {"job": job(root, container.container_name), "file": entry})
    changer.join()
    assert result["status"] == "copied", result
    blob = _blob(container, "site/big.bin")
    assert blob is not None and integrity_problems(blob) == []
    assert blob.content_md5 == md5_of_file(target), "the blob holds an older version"


def test_a_file_deleted_after_listing_is_reported_and_the_rest_copied(
    allowed_root: Path, container: ContainerClient
) -> None:
    root = allowed_root / "site"
    (root / "sub").mkdir(parents=True)
    for name in ("a.txt", "sub/b.txt", "sub/c.txt"):
        (root / name).write_text(name)
    descriptor = job(root, container.container_name)
    listing = list_run(descriptor)
    (root / "sub" / "b.txt").unlink()
    results = {
        entry["path"]: call(COPY, {"job": descriptor, "file": entry}) for entry in listing["files"]
    }
    assert results["sub/b.txt"]["status"] == "failed"
    assert "no longer exists" in results["sub/b.txt"]["error"]
    assert _blob(container, "site/sub/b.txt") is None
    for name in ("a.txt", "sub/c.txt"):
        assert results[name]["status"] == "copied", results[name]
        assert _blob(container, f"site/{name}").content_md5 == md5_of_file(root / name)


# A wait's deadline, not a speed limit: a copy that returns at all returns within it.
COPY_DEADLINE_S = 60


def _copy_unless_it_blocks(path: Path, value: dict) -> dict:
    """The copy's result; fails the test when the copy is still blocked after a deadline.

    Opening a named pipe for reading blocks until a writer comes: a copy that opened it
    would never return on its own. On the deadline a writer is let in (so the copy's thread
    ends) and the test fails, whatever the copy then made of it.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        copy = pool.submit(call, COPY, value)
        try:
            return copy.result(timeout=COPY_DEADLINE_S)
        except FutureTimeout:
            with contextlib.suppress(OSError):
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            pytest.fail(f"the copy blocked on {path.name} (no result after {COPY_DEADLINE_S} s)")


@pytest.mark.parametrize("replacement", ["directory", "named pipe", "link out of the root"])
def test_a_file_replaced_after_listing_is_reported_not_followed(
    allowed_root: Path, container: ContainerClient, tmp_path: Path, replacement: str
) -> None:
    root = allowed_root / "site"
    root.mkdir()
    (root / "page.html").write_text("<p>hi</p>")
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("never copy me")
    descriptor = job(root, container.container_name)
    entry = _listed_entry(root, container, "page.html")
    (root / "page.html").unlink()
    if replacement == "directory":
        (root / "page.html").mkdir()
    elif replacement == "named pipe":
        os.mkfifo(root / "page.html")
    else:
        (root / "page.html").symlink_to(secret)
    result = _copy_unless_it_blocks(root / "page.html", {"job": descriptor, "file": entry})
    assert result["status"] == "failed" and result["error"], result
    assert _blob(container, "site/page.html") is None


def test_a_messy_tree_is_copied_exactly_or_reported_entry_by_entry(
    allowed_root: Path, container: ContainerClient, tmp_path: Path
) -> None:
    root = allowed_root / "site"
    build_messy_tree(root, tmp_path / "outside")
    entries = expected_entries(root)
    outcome = back_up(root, container.container_name)
    blobs = read_blobs(container, "site")
    problems = judge_tree(entries, blobs, outcome.reported(), "site")
    assert not problems, "\n".join(problems)
    # The good content did make it: the plain files and the link to a file inside the root.
    assert "site/index.html" in blobs and "site/links/to-index.html" in blobs
