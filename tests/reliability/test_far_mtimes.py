"""Files whose mtime lies past the year 9999 (or before the year 1) back up like any other.

tmpfs, btrfs, ZFS and SMB shares store 64-bit times, so such files exist. They used to fail
the whole backup on every run, through ``datetime``'s year limit in the blob metadata.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from faults.trees import scan_tree
from tests.reliability.backups import backup_problems, start_backup, started
from tests.support.host_process import HostProcess

SHM = Path("/dev/shm")
# 10001-02-04 and 1653-02-10, as nanoseconds since the epoch.
FAR_FUTURE_NS = 253_436_860_800_000_000_005
FAR_PAST_NS = -10_000_000_000_000_000_000


@pytest.fixture
def allowed_root() -> Iterator[Path]:
    """An allowed root on tmpfs, which keeps any 64-bit time (ext4 clamps at 2446)."""
    if not SHM.is_dir():
        pytest.skip("no tmpfs at /dev/shm")
    root = Path(tempfile.mkdtemp(prefix="far-mtimes-", dir=SHM))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _tree(site: Path) -> None:
    site.mkdir()
    for index in range(20):
        (site / f"normal-{index}.txt").write_text(f"an ordinary file {index}")
    for name, mtime_ns in (("future.txt", FAR_FUTURE_NS), ("past.txt", FAR_PAST_NS)):
        path = site / name
        path.write_text(f"{name} has an mtime of {mtime_ns} ns")
        os.utime(path, ns=(mtime_ns, mtime_ns))
        if path.stat().st_mtime_ns != mtime_ns:
            pytest.skip(f"this file system does not keep an mtime of {mtime_ns} ns")


def test_files_with_far_mtimes_are_backed_up_and_a_rerun_skips_them(
    backup_host: HostProcess,
    allowed_root: Path,
    storage_connection_string: str,
    unique_name: str,
) -> None:
    site = allowed_root / "site"
    _tree(site)
    manifest = scan_tree(site)
    _, url = started(start_backup(backup_host, site, unique_name))
    final = backup_host.wait_for_status(url, timeout=60)
    assert final["runtimeStatus"] == "Completed", final
    custom = final["customStatus"]
    assert custom["filesCopied"] == 22 and custom["filesFailed"] == 0, custom
    assert backup_problems(storage_connection_string, unique_name, "site", manifest) == []
    container = BlobServiceClient.from_connection_string(
        storage_connection_string
    ).get_container_client(unique_name)
    future = container.get_blob_client("site/future.txt").get_blob_properties()
    assert future.metadata["mtime"].startswith("10001-02-04T"), future.metadata

    _, url = started(start_backup(backup_host, site, unique_name))
    again = backup_host.wait_for_status(url, timeout=60)
    assert again["runtimeStatus"] == "Completed", again
    assert again["customStatus"]["filesSkipped"] == 22, again["customStatus"]
