"""Helpers for the app's integration tests: build trees, run the activities, check blobs."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from azure.storage.blob import ContainerClient

from sitebackup import activities, metadata, run_pages
from sitebackup.naming import blob_name

# A tree that exercises naming: nesting, the same name in different folders, spaces,
# unicode, empty files, and one file large enough to go up in blocks.
TREE: dict[str, bytes] = {
    "index.html": b"<h1>home</h1>",
    "css/site.css": b"body { color: black }",
    "a/img/logo.png": os.urandom(3000),
    "b/img/logo.png": os.urandom(5000),
    "deep/er/and/deeper/still.txt": b"deep",
    "with space/file name.txt": b"spaces",
    "unicodé/première note.md": "# première\n".encode(),
    "日本語/ファイル.txt": "テキスト".encode(),
    "empty.txt": b"",
    "empty-dir-sibling/zero": b"",
    "big/blocks.bin": os.urandom(3 * 1024 * 1024 + 12345),
}


def write_tree(root: Path, files: Mapping[str, bytes] = TREE) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def list_files(job: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """The listing activity as a backup run calls it (with a run id), with ``files``: what
    its copy pages hold, read back as the partitions read them."""
    run_id = f"20260101T000000Z-{uuid.uuid4().hex[:12]}"
    listing = activities.list_files({**job, "runId": run_id}, env)
    if listing.get("error") is not None:
        return listing
    files: list[dict] = []
    for index in range(listing["partitions"]):
        page = {"job": job, "runId": run_id, "index": index}
        files += run_pages.read_copy_page(page, env)
    return {**listing, "files": files}


def run_backup(job: dict[str, Any], env: Mapping[str, str]) -> tuple[dict, list[dict]]:
    """List the root, then copy every listed file: the activities as the partitions call them."""
    listing = list_files(job, env)
    assert listing.get("error") is None, listing
    results = [activities.copy_one({"job": job, "file": entry}, env) for entry in listing["files"]]
    return listing, results


def statuses(results: list[dict]) -> dict[str, str]:
    return {result["path"]: result["status"] for result in results}


def assert_backup_matches(root: Path, container: ContainerClient, prefix: str) -> int:
    """Every file's blob holds its exact bytes, Content-MD5 and metadata; no other blobs."""
    local = {
        path.relative_to(root).as_posix(): path
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink()
    }
    expected = {blob_name(prefix, rel): path for rel, path in local.items()}
    blobs = {blob.name: blob for blob in container.list_blobs(include=["metadata"])}
    assert sorted(blobs) == sorted(expected)
    for name, path in expected.items():
        content = path.read_bytes()
        digest = hashlib.md5(content).digest()
        blob = blobs[name]
        assert container.download_blob(name).readall() == content, name
        assert bytes(blob.content_settings.content_md5) == digest, name
        assert blob.size == len(content)
        info = path.stat()
        assert metadata.describes(blob.metadata, info.st_size, info.st_mtime_ns), blob.metadata
    return len(expected)
