"""Fixtures for the app's integration tests: settings pointing at the session's Azurite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient

from sitebackup.snapshot_store import SnapshotStore


@pytest.fixture
def sites(tmp_path: Path) -> Path:
    """The allowed root; each test creates its trees below it."""
    path = tmp_path / "sites"
    path.mkdir()
    return path


@pytest.fixture
def env(sites: Path, storage_connection_string: str, unique_name: str) -> dict[str, str]:
    """App settings as the functions read them (passed explicitly, not via os.environ)."""
    return {
        "BACKUP_ALLOWED_ROOTS": str(sites),
        "BACKUP_STORAGE_CONNECTION": storage_connection_string,
        "BACKUP_CONTAINER": unique_name,
        "BACKUP_META_CONTAINER": unique_name + "-meta",
        # Small blocks so a few-MB file already goes up in several blocks.
        "BACKUP_BLOCK_SIZE_MB": "1",
    }


@pytest.fixture
def container(storage_connection_string: str, unique_name: str) -> Iterator[ContainerClient]:
    """The test's container, for checking what landed there; deleted afterwards."""
    service = BlobServiceClient.from_connection_string(storage_connection_string)
    client = service.get_container_client(unique_name)
    yield client
    for used in (client, service.get_container_client(unique_name + "-meta")):
        if used.exists():
            used.delete_container()
    service.close()


@pytest.fixture
def app_settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``env`` as the process environment, for code that reads ``os.environ`` (the function
    folders and the orchestrations they start), without an identity setting from the shell.
    """
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BACKUP_STORAGE__blobServiceUri", raising=False)
    return env


@pytest.fixture
def meta(
    app_settings: dict[str, str], container: ContainerClient, storage_connection_string: str
) -> Iterator[ContainerClient]:
    """The test's meta container (deleted afterwards with ``container``)."""
    service = BlobServiceClient.from_connection_string(storage_connection_string)
    yield service.get_container_client(app_settings["BACKUP_META_CONTAINER"])
    service.close()


@pytest.fixture
def store(app_settings: dict[str, str], meta: ContainerClient) -> SnapshotStore:
    """The snapshots of the backups of ``<sites>/www`` into the test's container."""
    return SnapshotStore(meta, app_settings["BACKUP_CONTAINER"], "www")
