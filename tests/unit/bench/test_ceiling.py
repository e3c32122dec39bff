"""The ceiling's uploads against a real Azurite: every file lands, with its bytes."""

from __future__ import annotations

from pathlib import Path

from azure.storage.blob import BlobServiceClient

from bench.ceiling import upload_tree
from bench.trees import KiB, MiB, TreeSpec, ensure_tree, file_bytes


def test_upload_tree_puts_every_file_in_a_new_container(
    tmp_path: Path, storage_connection_string: str, unique_name: str
) -> None:
    tree = ensure_tree(tmp_path, TreeSpec("small", 30, 3 * KiB))
    run = upload_tree(storage_connection_string, unique_name, tree, workers=8)
    assert run.seconds > 0 and run.workers == 8 and run.per_file_concurrency == 1
    service = BlobServiceClient.from_connection_string(storage_connection_string)
    blobs = {b.name: b.size for b in service.get_container_client(unique_name).list_blobs()}
    assert blobs == {e.relpath: e.size for e in tree.entries}
    entry = tree.entries[7]
    blob = service.get_blob_client(unique_name, entry.relpath)
    assert blob.download_blob().readall() == file_bytes(tree.spec, entry.index, entry.size)


def test_large_files_go_up_in_blocks_with_per_file_concurrency(
    tmp_path: Path, storage_connection_string: str, unique_name: str
) -> None:
    tree = ensure_tree(tmp_path, TreeSpec("large", 1, 9 * MiB + 7))
    run = upload_tree(
        storage_connection_string, unique_name, tree, workers=4, max_single_put_size=4 * MiB
    )
    assert run.per_file_concurrency == 4
    service = BlobServiceClient.from_connection_string(storage_connection_string)
    blob = service.get_blob_client(unique_name, tree.entries[0].relpath)
    blocks = blob.get_block_list("committed")[0]
    assert len(blocks) >= 3  # staged blocks, not one PUT
    assert blob.download_blob().readall() == file_bytes(tree.spec, 0, 9 * MiB + 7)
