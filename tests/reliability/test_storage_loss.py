"""Azurite killed (SIGKILL) in the middle of a backup: what it forgot is reported, then repaired.

Azurite with ``--location`` (the mode the local host uses, the one that loses least) saves its
metadata every few seconds, so a SIGKILL forgets blobs it acknowledged just before. The
backup's post-copy confirmation (one listing with size and MD5) must report exactly the files
storage no longer holds as it copied them, and the next run must store them again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from faults.blobcheck import read_blobs
from faults.trees import Manifest, build_tree
from tests.reliability.backups import backup_problems, start_backup, started, wait_until
from tests.reliability.conftest import PROJECT_DIR
from tests.reliability.test_storage_outage import Storage, _host_env
from tests.support.host_process import running_host

FILES = 3000


@pytest.fixture
def storage(tmp_path: Path):
    storage = Storage(tmp_path / "azurite")
    storage.start()
    try:
        yield storage
    finally:
        storage.stop()


def _lost(connection_string: str, container: str, manifest: Manifest) -> set[str]:
    """The files whose blob is missing or holds other bytes (every blob downloaded)."""
    service = BlobServiceClient.from_connection_string(connection_string)
    blobs = read_blobs(service.get_container_client(container), "site")
    return {
        relative
        for relative, facts in manifest.items()
        if (blob := blobs.get(f"site/{relative}")) is None or blob.content_md5 != facts.md5
    }


def _count(connection_string: str, container: str) -> int:
    client = BlobServiceClient.from_connection_string(connection_string)
    try:
        return sum(1 for _ in client.get_container_client(container).list_blobs())
    except Exception:
        return 0


@pytest.mark.slow
def test_a_sigkill_of_azurite_is_reported_by_the_confirmation_and_a_rerun_repairs_it(
    tmp_path: Path, allowed_root: Path, storage: Storage, unique_name: str
) -> None:
    site = allowed_root / "site"
    manifest = build_tree(site, FILES, seed=21, max_size=1024)
    cs = storage.connection_string
    # The containers exist and are saved (a graceful stop saves everything): the kill costs
    # files, not the containers.
    service = BlobServiceClient.from_connection_string(cs)
    service.create_container(unique_name)
    service.create_container("backup-meta")
    storage.stop()
    storage.start()
    env = _host_env(
        storage, allowed_root, BACKUP_RETRY_FIRST_INTERVAL_MS="1000", BACKUP_RETRY_MAX_ATTEMPTS="8"
    )
    with running_host(PROJECT_DIR, tmp_path / "state", env=env) as host:
        _, url = started(start_backup(host, site, unique_name))
        wait_until(lambda: _count(cs, unique_name), lambda n: n >= 600, 180, "600 blobs stored")
        storage.kill()
        storage.start()
        final = host.wait_for_status(url, timeout=300)
        lost = _lost(cs, unique_name, manifest)
        custom = final.get("customStatus") or {}
        if final["runtimeStatus"] == "Completed":
            # Nothing silent: every file storage lost is reported, and only those.
            assert custom["missingFromStorage"] == len(lost), (len(lost), custom)
            assert custom["filesFailed"] >= len(lost), custom
            assert custom["confirmedInStorage"] == FILES - len(lost), custom
        else:
            # Storage trouble may also stop the run: then it says so, and claims nothing.
            assert final["runtimeStatus"] == "Failed", final

        _, url = started(start_backup(host, site, unique_name))
        again = host.wait_for_status(url, timeout=300)
        assert again["runtimeStatus"] == "Completed", again
        assert again["customStatus"]["missingFromStorage"] == 0, again["customStatus"]
        assert again["customStatus"]["confirmedInStorage"] == FILES, again["customStatus"]
    # Restarted gracefully: what the run confirmed is really there, byte for byte.
    storage.stop()
    storage.start()
    assert backup_problems(cs, unique_name, "site", manifest) == []
