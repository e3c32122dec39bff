"""A large file goes up in blocks with memory bounded by the block size, not the file size."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import tracemalloc

import psutil
import pytest

from sitebackup import activities
from tests.integration.app import blobs

MIB = 1024 * 1024
SIZE = 300 * MIB


def md5_of_file(path) -> bytes:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while chunk := handle.read(8 * MIB):
            digest.update(chunk)
    return digest.digest()


class PeakRss:
    """Samples this process's resident memory in the background and keeps the peak."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


@pytest.mark.slow
def test_a_300_mb_file_uploads_with_memory_well_under_its_size(sites, env, container):
    root = sites / "big"
    root.mkdir()
    path = root / "large.bin"
    # Sparse (cheap to make) with a little real data, so the blocks are not all alike.
    with open(path, "wb") as handle:
        handle.truncate(SIZE)
        for offset in (0, 123 * MIB + 7, SIZE - 16):
            handle.seek(offset)
            handle.write(os.urandom(16))
    env = {**env, "BACKUP_BLOCK_SIZE_MB": "4", "BACKUP_UPLOAD_CONCURRENCY": "2"}
    job = {"root": str(root), "container": env["BACKUP_CONTAINER"], "prefix": "big"}
    (entry,) = blobs.list_files(job, env)["files"]

    tracemalloc.start()
    try:
        with PeakRss() as rss:
            result = activities.copy_one({"job": job, "file": entry}, env)
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    recorded_md5 = result.pop("md5")
    assert result == {
        "path": "large.bin",
        "status": "copied",
        "bytes": SIZE,
        "error": None,
        "mtimeNs": path.stat().st_mtime_ns,
    }
    # Three 4 MiB blocks at most (two in flight, one being read) plus the HTTP stack.
    assert traced_peak < 40 * MIB, f"Python allocations peaked at {traced_peak / MIB:.0f} MiB"
    assert rss.growth < 100 * MIB, f"resident memory grew by {rss.growth / MIB:.0f} MiB"

    blob = container.get_blob_client("big/large.bin")
    props = blob.get_blob_properties()
    expected = md5_of_file(path)
    # What the snapshot will list: the MD5 of the content stored, as the service shows it.
    assert base64.b64decode(recorded_md5) == expected
    assert props.size == SIZE
    assert bytes(props.content_settings.content_md5) == expected
    digest = hashlib.md5()
    for chunk in blob.download_blob(max_concurrency=2).chunks():
        digest.update(chunk)
    assert digest.digest() == expected  # every byte, not just the recorded checksum
