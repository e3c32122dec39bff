"""The snapshots the console shows: destinations, their snapshot lists, one snapshot's tree.

Reads the meta container through ``sitebackup.snapshot_store`` (the snapshots' own read
API). Blob calls are synchronous: the API runs these functions in a worker thread.

A snapshot never changes once written, so the folder tree built from its manifest is kept
for the few snapshots browsed last; opening another folder of the same snapshot costs no
storage request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

from sitebackup import layout, storage
from sitebackup.console import tree
from sitebackup.errors import StorageError, echo
from sitebackup.manifest import ManifestError
from sitebackup.snapshot_store import SnapshotStore

# Snapshot trees kept in memory (a 100,000-file tree takes a few tens of MB).
CACHED_TREES = 3
_trees: OrderedDict[tuple[str, str, str], tree.Folder] = OrderedDict()
_lock = threading.Lock()


class NotFound(LookupError):
    """No such destination, snapshot or folder (HTTP 404)."""


def _summary(header: Any) -> dict[str, Any]:
    data = header.to_json()
    data.pop("pages", None)
    data.pop("format", None)
    return data


def _folders(meta: ContainerClient, starts: str) -> list[str]:
    try:
        return [
            item.name
            for item in meta.walk_blobs(name_starts_with=starts or None, delimiter="/")
            if item.name.endswith("/")
        ]
    except ResourceNotFoundError:
        return []
    except AzureError as exc:
        raise storage.failure(exc, "listing the meta container") from None


def destinations(meta: ContainerClient) -> list[dict[str, Any]]:
    """Every destination with at least one snapshot, with its root and newest snapshot."""
    found = []
    for container_folder in _folders(meta, ""):
        for folder in _folders(meta, container_folder):
            container, prefix = layout.parse_destination_folder(folder)
            store = SnapshotStore(meta, container, prefix)
            refs = list(store.list())
            if not refs:
                continue
            try:
                newest = _summary(store.header(refs[0]))
            except ManifestError as exc:
                newest = {"runId": refs[0].run_id, "endedMs": refs[0].ended_ms, "error": str(exc)}
            found.append(
                {
                    "container": container,
                    "prefix": prefix,
                    "root": newest.get("root"),
                    "snapshots": len(refs),
                    "latest": newest,
                }
            )
    found.sort(key=lambda item: (str(item["root"]), item["container"], item["prefix"]))
    return found


def snapshot_page(
    meta: ContainerClient, container: str, prefix: str, offset: int, limit: int
) -> dict[str, Any]:
    """A page of one destination's snapshots, newest first, each with its header's counts."""
    store = SnapshotStore(meta, container, prefix)
    refs = list(store.list())
    if not refs:
        raise NotFound(f"there are no snapshots of {echo(container)}/{echo(prefix)}")
    items = []
    for ref in refs[offset : offset + limit]:
        try:
            items.append(_summary(store.header(ref)))
        except ManifestError as exc:
            items.append({"runId": ref.run_id, "endedMs": ref.ended_ms, "error": str(exc)})
    end = offset + len(items)
    return {
        "container": container,
        "prefix": prefix,
        "snapshots": items,
        "total": len(refs),
        "offset": offset,
        "next": end if end < len(refs) else None,
    }


def _tree(meta: ContainerClient, container: str, prefix: str, run_id: str) -> tree.Folder:
    key = (container, prefix, run_id)
    with _lock:
        if key in _trees:
            _trees.move_to_end(key)
            return _trees[key]
    store = SnapshotStore(meta, container, prefix)
    ref = next((ref for ref in store.list() if ref.run_id == run_id), None)
    if ref is None:
        raise NotFound(f"there is no snapshot {echo(run_id)} of {echo(container)}/{echo(prefix)}")
    built = tree.build(store.entries(store.header(ref)))
    with _lock:
        _trees[key] = built
        while len(_trees) > CACHED_TREES:
            _trees.popitem(last=False)
    return built


def browse(
    meta: ContainerClient,
    container: str,
    prefix: str,
    run_id: str,
    path: str,
    offset: int,
    limit: int,
) -> dict[str, Any]:
    try:
        folder = _tree(meta, container, prefix, run_id)
        page = tree.listing(folder, path, offset, limit)
    except tree.NotInSnapshot:
        raise NotFound(f"the snapshot has no folder {echo(path)}") from None
    return {"container": container, "prefix": prefix, "snapshot": run_id, **page}


__all__ = ["NotFound", "StorageError", "browse", "destinations", "snapshot_page"]
