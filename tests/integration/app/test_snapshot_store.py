"""The snapshot store against real Azurite: newest first, pages, resolving to blob snapshots."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings

from sitebackup import layout, manifest
from sitebackup.manifest import Entry, Header, ManifestError, PageRef
from sitebackup.snapshot_store import ContentIndex, SnapshotStore, StoredContent, resolve


@pytest.fixture
def meta(storage_connection_string: str, unique_name: str) -> Iterator[ContainerClient]:
    service = BlobServiceClient.from_connection_string(storage_connection_string)
    client = service.get_container_client(unique_name + "-meta")
    client.create_container()
    yield client
    client.delete_container()


@pytest.fixture
def backup(storage_connection_string: str, unique_name: str) -> Iterator[ContainerClient]:
    service = BlobServiceClient.from_connection_string(storage_connection_string)
    client = service.get_container_client(unique_name)
    client.create_container()
    yield client
    client.delete_container()


def put(container: ContainerClient, name: str, content: bytes) -> None:
    container.upload_blob(
        name,
        content,
        overwrite=True,
        content_settings=ContentSettings(content_md5=bytearray(hashlib.md5(content).digest())),
    )


def entry(path: str, content: bytes) -> Entry:
    return Entry(path, len(content), 1_700_000_000_000_000_000, hashlib.md5(content).digest())


def write_snapshot(store: SnapshotStore, run_id: str, ended_ms: int, pages: list[list[Entry]]):
    refs = []
    for index, page in enumerate(pages):
        name = layout.run_page(store.container, store.prefix, run_id, layout.STORED_PAGE, index)
        store.write_page(name, manifest.encode_entries(page))
        refs.append(PageRef(name, len(page)))
    header = Header(
        run_id=run_id,
        root="/srv/www",
        container=store.container,
        prefix=store.prefix,
        started_ms=ended_ms - 1000,
        ended_ms=ended_ms,
        files=sum(len(page) for page in pages),
        bytes=sum(e.size for page in pages for e in page),
        pages=tuple(refs),
    )
    store.write_header(header)
    return header


def test_snapshots_list_newest_first_and_read_back_page_by_page(meta, backup) -> None:
    store = SnapshotStore(meta, backup.container_name, "www")
    other = SnapshotStore(meta, backup.container_name, "www/other")
    first = write_snapshot(store, "run-a", 1_000_000, [[entry("a", b"1")]])
    second = write_snapshot(store, "run-b", 2_000_000, [[entry("a", b"2"), entry("b", b"3")]])
    write_snapshot(other, "run-c", 3_000_000, [[entry("x", b"x")]])

    refs = list(store.list())
    assert [ref.run_id for ref in refs] == ["run-b", "run-a"]
    assert [ref.ended_ms for ref in refs] == [2_000_000, 1_000_000]
    assert store.header(refs[0]) == second
    assert store.header(refs[1]) == first
    assert list(store.entries(second)) == [entry("a", b"2"), entry("b", b"3")]
    assert store.find("latest") == refs[0]
    assert store.find("run-a") == refs[1]
    assert store.find("", as_of_ms=1_500_000) == refs[1]
    assert store.find("", as_of_ms=999) is None
    assert store.find("nope") is None
    with pytest.raises(ManifestError, match="ambiguous"):
        store.find("run-")
    # Another prefix of the same container has its own snapshots.
    assert [ref.run_id for ref in other.list()] == ["run-c"]


def test_no_meta_container_means_no_snapshots(backup, storage_connection_string) -> None:
    service = BlobServiceClient.from_connection_string(storage_connection_string)
    store = SnapshotStore(service.get_container_client("absent-meta"), "backups", "www")
    assert list(store.list()) == []


def test_a_missing_page_is_an_error_not_an_empty_snapshot(meta, backup) -> None:
    store = SnapshotStore(meta, backup.container_name, "")
    header = write_snapshot(store, "run-a", 1_000_000, [[entry("a", b"1")]])
    meta.delete_blob(header.pages[0].name)
    with pytest.raises(ManifestError, match="missing"):
        list(store.entries(header))


def test_an_entry_resolves_to_the_base_blob_or_the_snapshot_holding_its_md5(backup) -> None:
    name = "www/page.html"
    put(backup, name, b"v1")
    first = backup.get_blob_client(name).create_snapshot()["snapshot"]
    put(backup, name, b"v2")
    second = backup.get_blob_client(name).create_snapshot()["snapshot"]
    put(backup, name, b"v3")

    index = ContentIndex(backup, "www")
    for content, expected in [
        (b"v3", StoredContent(name)),
        (b"v2", StoredContent(name, second)),
        (b"v1", StoredContent(name, first)),
        (b"never stored", None),
    ]:
        wanted = entry("page.html", content)
        assert resolve(backup, "www", wanted) == expected
        assert index.resolve(wanted) == expected
        if expected is not None:
            blob = backup.get_blob_client(expected.blob, snapshot=expected.snapshot)
            assert blob.download_blob().readall() == content
    assert resolve(backup, "www", entry("absent.html", b"v1")) is None
