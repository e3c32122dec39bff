"""A folder swapped for a symlink out of the root while the backup runs copies nothing outside.

A thread exchanges a folder of the root with a symlink to a folder outside it
(renameat2(RENAME_EXCHANGE)) as fast as the kernel allows, while the local host backs the
root up over HTTP. Each file outside holds a marker no file inside holds: no stored blob may
hold it, and the backup ends Completed (a file caught in the race is reported, not fatal).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from tests.reliability.backups import start_backup, started
from tests.reliability.swapper import Swapper, exchange
from tests.support.host_process import HostProcess

FILES = 600
OUTSIDE_MARK = b"OUTSIDE THE ROOT"


def _tree(root: Path, outside: Path) -> None:
    (root / "d").mkdir(parents=True)
    outside.mkdir()
    for index in range(FILES):
        name = f"f{index:04d}.txt"
        (root / "d" / name).write_bytes(b"inside %d\n" % index)
        (outside / name).write_bytes(OUTSIDE_MARK + b" %d\n" % index)
    (root / "d-link").symlink_to(outside, target_is_directory=True)


@pytest.mark.slow
def test_a_folder_swapped_for_a_link_never_leads_a_copy_outside_the_root(
    tmp_path: Path,
    allowed_root: Path,
    backup_host: HostProcess,
    storage_connection_string: str,
    unique_name: str,
) -> None:
    root = allowed_root / "site"
    _tree(root, tmp_path / "outside")
    try:
        exchange(root / "d", root / "d-link")
        exchange(root / "d", root / "d-link")
    except OSError as exc:
        pytest.skip(f"this file system cannot exchange entries atomically: {exc}")
    container = BlobServiceClient.from_connection_string(
        storage_connection_string
    ).get_container_client(unique_name)
    leaked: list[str] = []
    finals = []
    swapper = Swapper(root / "d", root / "d-link")
    swapper.start()
    try:
        # Several runs into fresh prefixes: each one gives every file another chance to race.
        for run in range(3):
            _, url = started(start_backup(backup_host, root, unique_name, prefix=f"run{run}"))
            finals.append(backup_host.wait_for_status(url, timeout=300))
    finally:
        swapper.stop()
    assert swapper.swaps > 0
    stored = 0
    for blob in container.list_blobs():
        stored += 1
        if OUTSIDE_MARK in container.download_blob(blob.name).readall():
            leaked.append(blob.name)
    assert not leaked, f"{len(leaked)} of {stored} blobs hold content from outside: {leaked[:10]}"
    for final in finals:
        assert final["runtimeStatus"] == "Completed", final
