"""The prune activities: plan, drop headers, sweep content and run pages (storage I/O).

The sweeps go through one listing page group per call and return a continuation marker, so
the orchestration's history holds counts and markers only, never a list as long as the tree.
What kept snapshots need (blob name -> MD5s) is read from their pages once per process and
reused by the following calls of the same prune.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

from sitebackup import layout, retention, storage
from sitebackup import settings as cfg
from sitebackup.errors import JobError, echo
from sitebackup.naming import blob_name
from sitebackup.prune import sweep
from sitebackup.prune.job import PruneJob
from sitebackup.snapshot_store import SnapshotStore, meta_container

log = logging.getLogger(__name__)
T = TypeVar("T")

PAGES_PER_CALL = 10  # listing pages one sweep call reads (20,000 blobs)
SAMPLE = 50
DELETE_THREADS = 8


def _job(value: Any, who: str) -> PruneJob:
    try:
        return PruneJob.from_input(value.get("job") if isinstance(value, dict) else None)
    except JobError as exc:
        raise JobError(f"{who} input 'job' is not valid: {exc}") from None


def _store(job: PruneJob, env: Mapping[str, str] | None) -> SnapshotStore:
    return SnapshotStore(meta_container(env), job.container, job.prefix)


def _backup(job: PruneJob, env: Mapping[str, str] | None) -> ContainerClient:
    settings = cfg.load(env)
    service = storage.service_client(
        storage.resolve_target(env),
        pool_size=settings.http_pool_size,
        single_put_size=settings.block_size_mb * 1024 * 1024,
        block_size=settings.block_size_mb * 1024 * 1024,
    )
    return storage.container_client(service, job.container)


def plan(value: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """E2_PlanPrune: the policy's decision for every snapshot, newest first, and the cutoff
    (start of the newest snapshot) before which content may go."""
    job = _job(value, "E2_PlanPrune")
    store = _store(job, env)
    refs = list(store.list())
    decisions = retention.apply(((ref.run_id, ref.ended_ms) for ref in refs), job.policy)
    cutoff = store.header(refs[0]).started_ms if refs else 0
    return {
        "snapshots": [
            {
                "id": d.snapshot_id,
                "endedMs": d.ended_ms,
                "keep": d.keep,
                "reasons": list(d.reasons),
            }
            for d in decisions
        ],
        "cutoffMs": cutoff,
    }


def _ids(value: Any, key: str, who: str) -> list[str]:
    items = value.get(key) if isinstance(value, dict) else None
    if not isinstance(items, list) or not all(layout.is_run_id(item) for item in items):
        raise JobError(f"{who}: '{key}' must be a list of snapshot ids")
    return items


def _cutoff(value: dict[str, Any], who: str) -> int:
    cutoff = value.get("cutoffMs")
    if isinstance(cutoff, bool) or not isinstance(cutoff, int):
        raise JobError(f"{who}: 'cutoffMs' must be an integer")
    return cutoff


def _pages_of_one_call(pages: Any, convert: Callable[[Any], T]) -> tuple[list[list[T]], str | None]:
    """Up to PAGES_PER_CALL pages of a blob listing (``by_page()``), each item converted as it
    is read, and the marker the next call goes on from (None: the listing is done). A sweep
    call stays short this way. The SDK's listing items are large (about 13 KB each), so only
    the converted ones are kept: a call holds up to 20,000 of them."""
    taken: list[list[T]] = []
    marker = None
    for _ in range(PAGES_PER_CALL):
        page = next(pages, None)
        if page is None:
            return taken, None
        taken.append([convert(blob) for blob in page])
        marker = pages.continuation_token
    return taken, marker


def drop(value: Any, env: Mapping[str, str] | None = None) -> int:
    """E2_DropSnapshots: delete the headers of the dropped snapshots (first, so no reader
    picks a snapshot whose content is about to go). Returns how many were there."""
    who = "E2_DropSnapshots"
    job = _job(value, who)
    dropped = set(_ids(value, "ids", who))
    store = _store(job, env)
    count = 0
    for ref in list(store.list()):
        if ref.run_id in dropped:
            try:
                store.meta.delete_blob(ref.blob)
                count += 1
            except ResourceNotFoundError:
                pass
            except AzureError as exc:
                raise storage.failure(exc, f"deleting snapshot {ref.run_id}") from None
    return count


_needed_lock = threading.Lock()
_needed_cache: dict[tuple, dict[str, frozenset[bytes]]] = {}


def _needed(job: PruneJob, store: SnapshotStore, kept: list[str]) -> dict[str, frozenset[bytes]]:
    key = (job.container, job.prefix, tuple(sorted(kept)))
    with _needed_lock:
        cached = _needed_cache.get(key)
        if cached is not None:
            return cached
        wanted = set(kept)
        found: dict[str, set[bytes]] = {}
        for ref in store.list():
            if ref.run_id not in wanted:
                continue
            wanted.discard(ref.run_id)
            header = store.header(ref)
            for entry in store.entries(header):
                found.setdefault(blob_name(job.prefix, entry.path), set()).add(entry.md5)
        if wanted:
            # A kept snapshot vanished since the plan: deciding without it could delete
            # what it needs. Stop; a new prune plans again.
            raise JobError(f"kept snapshot(s) {sorted(wanted)[:3]} are gone; run prune again")
        needed = {name: frozenset(md5s) for name, md5s in found.items()}
        _needed_cache.clear()  # one prune at a time per process is the common case
        _needed_cache[key] = needed
        return needed


def _item(blob: Any) -> sweep.Item:
    settings = blob.content_settings
    md5 = bytes(settings.content_md5) if settings and settings.content_md5 else None
    snapshot = getattr(blob, "snapshot", None)
    if snapshot:
        modified = sweep.snapshot_ms(snapshot)
    else:
        modified = int(blob.last_modified.timestamp() * 1000)
    return sweep.Item(blob.name, snapshot or None, md5, blob.size or 0, modified)


def _versions(backup: ContainerClient, name: str) -> list[sweep.Item]:
    return [
        _item(blob)
        for blob in backup.list_blobs(name_starts_with=name, include=["snapshots"])
        if blob.name == name
    ]


def _delete(backup: ContainerClient, item: sweep.Item) -> bool:
    client = backup.get_blob_client(item.name, snapshot=item.snapshot)
    try:
        if item.snapshot is None:
            client.delete_blob(delete_snapshots="include")
        else:
            client.delete_blob()
    except ResourceNotFoundError:
        return False  # gone already (e.g. with its base blob): a re-run costs nothing
    except AzureError as exc:
        raise storage.failure(exc, f"deleting {echo(item.name)}") from None
    return True


def _describe(item: sweep.Item) -> str:
    return item.name if item.snapshot is None else f"{item.name} (snapshot {item.snapshot})"


def _result(marker: str | None, dry_run: bool, gone: Iterable[tuple[sweep.Item, bool]]):
    blobs = snapshots = size = 0
    sample: list[str] = []
    for item, deleted in gone:
        if not deleted and not dry_run:
            continue
        if item.snapshot is None:
            blobs += 1
        else:
            snapshots += 1
        size += item.size
        if len(sample) < SAMPLE:
            sample.append(_describe(item))
    return {
        "marker": marker,
        "blobs": blobs,
        "snapshots": snapshots,
        "bytes": size,
        "sample": sample,
    }


def sweep_content(value: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """E2_SweepContent: ``{"job", "kept", "cutoffMs", "marker"}`` -> what went (or would go,
    in a dry run) from a few listing pages of the backup's blobs, and the next marker."""
    who = "E2_SweepContent"
    job = _job(value, who)
    kept = _ids(value, "kept", who)
    cutoff = _cutoff(value, who)
    marker = value.get("marker")
    store = _store(job, env)
    backup = _backup(job, env)
    needed = _needed(job, store, kept)
    head = f"{job.prefix}/" if job.prefix else None
    try:
        pages = backup.list_blobs(
            name_starts_with=head, include=["snapshots"], results_per_page=storage.LIST_PAGE_SIZE
        ).by_page(continuation_token=marker)
        doomed: list[sweep.Item] = []
        taken, next_marker = _pages_of_one_call(pages, _item)
        for page in taken:
            for item in page:
                versions = (
                    _versions(backup, item.name) if sweep.needs_versions(item, needed) else None
                )
                if sweep.deletable(item, needed, cutoff, versions):
                    doomed.append(item)
    except ResourceNotFoundError:
        return _result(None, job.dry_run, [])
    except AzureError as exc:
        raise storage.failure(exc, f"listing the blobs of {echo(job.container)}") from None
    if job.dry_run:
        return _result(next_marker, True, ((item, False) for item in doomed))
    with ThreadPoolExecutor(DELETE_THREADS) as pool:
        outcomes = list(pool.map(lambda item: (item, _delete(backup, item)), doomed))
    log.info("prune %s/%s: deleted %d stored versions", job.container, job.prefix, len(doomed))
    return _result(next_marker, False, outcomes)


def _page_blob(blob: Any) -> tuple[str, int, int]:
    return blob.name, blob.size or 0, int(blob.last_modified.timestamp() * 1000)


def sweep_runs(value: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """E2_SweepRuns: delete the run pages of snapshots that are not kept (and of runs that
    never finished), older than the cutoff; same paging as ``sweep_content``."""
    who = "E2_SweepRuns"
    job = _job(value, who)
    kept = set(_ids(value, "kept", who))
    cutoff = _cutoff(value, who)
    store = _store(job, env)
    folder = layout.destination_folder(job.container, job.prefix) + "runs/"
    doomed: list[tuple[str, int]] = []
    try:
        pages = store.meta.list_blobs(
            name_starts_with=folder, results_per_page=storage.LIST_PAGE_SIZE
        ).by_page(continuation_token=value.get("marker"))
        taken, next_marker = _pages_of_one_call(pages, _page_blob)
        for page in taken:
            for name, size, modified in page:
                run_id = name[len(folder) :].split("/", 1)[0]
                if run_id not in kept and modified < cutoff:
                    doomed.append((name, size))
    except ResourceNotFoundError:
        return {"marker": None, "pages": 0, "bytes": 0}
    except AzureError as exc:
        raise storage.failure(exc, "listing the run pages") from None
    if not job.dry_run:

        def delete(name: str) -> None:
            try:
                store.meta.delete_blob(name)
            except ResourceNotFoundError:
                pass
            except AzureError as exc:
                raise storage.failure(exc, f"deleting {echo(name)}") from None

        with ThreadPoolExecutor(DELETE_THREADS) as pool:
            list(pool.map(delete, (name for name, _ in doomed)))
    return {
        "marker": next_marker,
        "pages": len(doomed),
        "bytes": sum(size for _, size in doomed),
    }
