"""A run's file list in pages, and the snapshot written from them (the activities' bodies).

Why pages: the file list must not travel through the orchestration history, where the
parent would hold it, pass it to every partition and parse it again at every episode (memory
and time grow with the tree). So the listing writes it to the meta container and returns
counts only; page names follow from the run id and an index (``layout.run_page``), so not even
a list of names goes through the history.

- The listing writes ``copy-<i>``: the files partition ``i`` must copy (one page per
  partition), and ``unchanged-<j>``: the files it found unchanged, with their blob's MD5.
- Partition ``i`` reads ``copy-<i>`` (E2_ReadFilePage), copies, and writes ``stored-<i>``:
  what it stored, with size, mtime and MD5 (E2_WriteStoredPage).
- E2_ConfirmBackup merges the ``unchanged`` and ``stored`` pages with the blob listing and
  writes the entries storage lost to ``lost-<k>`` pages (``sitebackup.run_streams``).
- At the end, E2_WriteSnapshot reads the ``unchanged`` and ``stored`` pages to count them
  (and compare with the previous snapshot), writes each page that had a lost entry again
  without it (``<kind>-<i>-kept``), then writes the header in one put: a snapshot names only
  entries storage held.

Every write is an overwrite of a name fixed by the run id and index, so an activity re-run
after a crash rewrites the same page: no harm, no duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from sitebackup import layout, manifest, plan, run_streams
from sitebackup.errors import JobError, echo
from sitebackup.job import Job
from sitebackup.manifest import Entry, Header, PageRef
from sitebackup.snapshot_store import SnapshotStore, meta_container

log = logging.getLogger(__name__)


def checked_run_id(value: Any, who: str) -> str:
    if not layout.is_run_id(value):
        raise JobError(f"{who}: 'runId' must be a run id (letters, digits, '-', '_', '.')")
    return value


def _index(value: Any, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise JobError(f"{who}: 'index' must be a non-negative integer, got {echo(value)}")
    return value


def store_for(job: Job, env: Mapping[str, str] | None = None) -> SnapshotStore:
    return SnapshotStore(meta_container(env), job.container, job.prefix)


class ListingWriter:
    """Writes a run's copy and unchanged pages as the sorted files stream in.

    Unchanged pages are written as each fills (``manifest.PAGE_ENTRIES``). Copy pages are one
    per partition, and the partition size depends on how many files there are to copy
    (``plan.partition_size_for``: small trees are cut finer): until that count reaches the
    point where the size is the maximum anyway, the files to copy are held (at most
    ``plan.TARGET_PARTITIONS`` partitions' worth); from then on each page is written as it
    fills. So memory stays bounded by the job's partition size, not the tree, and the pages
    are exactly what cutting the whole list would give (a re-run listing writes the same).
    """

    def __init__(self, store: SnapshotStore, run_id: str, max_partition: int) -> None:
        self.store, self.run_id, self.max_partition = store, run_id, max_partition
        self._copy: list[dict[str, Any]] = []
        self._unchanged: list[Entry] = []
        self._size: int | None = None
        self.partitions = 0
        self.unchanged_pages = 0
        store.ensure()

    def _name(self, kind: str, index: int) -> str:
        return layout.run_page(self.store.container, self.store.prefix, self.run_id, kind, index)

    def add_copy(self, entry: dict[str, Any]) -> None:
        self._copy.append(entry)
        # The size only grows with the count, up to the maximum: once there, it is final.
        count = len(self._copy)
        if self._size is None and plan.partition_size_for(count, self.max_partition) == (
            self.max_partition
        ):
            self._size = self.max_partition
        if self._size is not None:
            while len(self._copy) >= self._size:
                self._write_copy(self._copy[: self._size])
                del self._copy[: self._size]

    def add_unchanged(self, entry: Entry) -> None:
        self._unchanged.append(entry)
        if len(self._unchanged) >= manifest.PAGE_ENTRIES:
            self._write_unchanged()

    def _write_copy(self, files: list[dict[str, Any]]) -> None:
        self.store.write_page(
            self._name(layout.COPY_PAGE, self.partitions), manifest.encode_lines(files)
        )
        self.partitions += 1

    def _write_unchanged(self) -> None:
        name = self._name(layout.UNCHANGED_PAGE, self.unchanged_pages)
        self.store.write_page(name, manifest.encode_entries(self._unchanged))
        self.unchanged_pages += 1
        self._unchanged = []

    def close(self) -> tuple[int, int]:
        """Write what is held; the number of copy pages (partitions) and unchanged pages."""
        if self._size is None:
            for files in plan.partitions(self._copy, self.max_partition):
                self._write_copy(files)
        elif self._copy:
            self._write_copy(self._copy)
        self._copy = []
        if self._unchanged:
            self._write_unchanged()
        return self.partitions, self.unchanged_pages


def _job_and_store(value: Any, who: str, env: Mapping[str, str] | None):
    if not isinstance(value, dict):
        raise JobError(f"{who} input must be an object with 'job' and 'runId'")
    try:
        job = Job.from_input(value.get("job"))
    except JobError as exc:
        raise JobError(f"{who} input 'job' is not valid: {exc}") from None
    return job, checked_run_id(value.get("runId"), who), store_for(job, env)


def read_copy_page(value: Any, env: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """E2_ReadFilePage: ``{"job", "runId", "index"}`` -> the files partition ``index`` copies."""
    who = "E2_ReadFilePage"
    job, run_id, store = _job_and_store(value, who, env)
    index = _index(value.get("index"), who)
    return store.read_lines(
        layout.run_page(job.container, job.prefix, run_id, layout.COPY_PAGE, index)
    )


def write_stored_page(value: Any, env: Mapping[str, str] | None = None) -> int:
    """E2_WriteStoredPage: ``{"job", "runId", "index", "entries"}`` -> entries written."""
    who = "E2_WriteStoredPage"
    job, run_id, store = _job_and_store(value, who, env)
    index = _index(value.get("index"), who)
    raw = value.get("entries")
    if not isinstance(raw, list):
        raise JobError(f"{who}: 'entries' must be a list")
    entries = [Entry.from_json(item) for item in raw]
    store.write_page(
        layout.run_page(job.container, job.prefix, run_id, layout.STORED_PAGE, index),
        manifest.encode_entries(entries),
    )
    return len(entries)


class _Current:
    """The run's entries, one sorted run per kind, without the ones storage lost.

    Reads each page once, when its run gets there; a page that had a lost entry is written
    again without it (``layout.kept_page``) and the header names that one. Counts files and
    bytes, and notes the pages for the header, as the runs are consumed.
    """

    def __init__(
        self, store: SnapshotStore, folder: tuple[str, str, str], pages: dict[str, int], lost: int
    ) -> None:
        self.store, self.folder, self.counts, self.lost = store, folder, pages, lost
        self.refs: dict[str, list[PageRef]] = {kind: [] for kind in pages}
        self.files = self.bytes = self.left_out = 0

    def _lost_page(self, index: int) -> list[dict]:
        return self.store.read_lines(layout.run_page(*self.folder, layout.LOST_PAGE, index))

    def run(self, kind: str) -> Iterator[Entry]:
        lost = run_streams.LostReader(self._lost_page, self.lost, kind) if self.lost else None
        for index in range(self.counts[kind]):
            name = layout.run_page(*self.folder, kind, index)
            entries = self.store.read_entries(name)
            gone = lost.take(index) if lost is not None else None
            if gone:
                kept = run_streams.without(entries, gone)
                self.left_out += len(entries) - len(kept)
                entries, name = kept, layout.kept_page(*self.folder, kind, index)
                if entries:
                    self.store.write_page(name, manifest.encode_entries(entries))
            if entries or not gone:
                self.refs[kind].append(PageRef(name, len(entries)))
            for entry in entries:
                self.files += 1
                self.bytes += entry.size
                yield entry

    def pages(self) -> tuple[PageRef, ...]:
        return tuple(ref for kind in self.counts for ref in self.refs[kind])


def write_snapshot(value: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """E2_WriteSnapshot: read the run's pages, leave out what the confirmation found lost,
    compare with the previous snapshot, then write the header (last, in one put). Input:
    ``{"job", "runId", "startedMs", "endedMs", "partitions", "unchangedPages", "failed"}``
    and ``lostPages`` (the confirmation's; absent in inputs written before it existed: 0);
    returns the header's counts.

    Memory: one page per run of each snapshot. The current run's kinds and the previous
    snapshot's runs are merged by path and merge-joined (``manifest.changes_between``)."""
    who = "E2_WriteSnapshot"
    job, run_id, store = _job_and_store(value, who, env)
    numbers = {}
    for key in ("startedMs", "endedMs", "partitions", "unchangedPages", "failed"):
        numbers[key] = _index(value.get(key), f"{who} {key}")
    lost_pages = _index(value.get("lostPages", 0), f"{who} lostPages")
    folder = (job.container, job.prefix, run_id)
    current = _Current(
        store,
        folder,
        {
            layout.UNCHANGED_PAGE: numbers["unchangedPages"],
            layout.STORED_PAGE: numbers["partitions"],
        },
        lost_pages,
    )
    previous = next((ref for ref in store.list() if ref.run_id != run_id), None)
    if previous is not None:
        previous_header = store.header(previous)
        changes = manifest.changes_between(
            store.entries_by_path(previous_header),
            run_streams.by_path(current.run(kind) for kind in current.counts),
        )
    else:
        changes = None
        for kind in current.counts:
            for _ in current.run(kind):
                pass
    if current.left_out:
        log.info("snapshot %s leaves out %d files storage lost", run_id, current.left_out)
    header = Header(
        run_id=run_id,
        root=job.root,
        container=job.container,
        prefix=job.prefix,
        started_ms=numbers["startedMs"],
        ended_ms=numbers["endedMs"],
        files=current.files,
        bytes=current.bytes,
        failed=numbers["failed"],
        changes=changes,
        previous_run_id=previous.run_id if previous else None,
        pages=current.pages(),
    )
    name = store.write_header(header)
    log.info(
        "snapshot %s of %s/%s: %d files in %s",
        run_id,
        job.container,
        job.prefix,
        header.files,
        name,
    )
    return {
        "runId": run_id,
        "files": header.files,
        "bytes": header.bytes,
        "added": changes.added if changes else None,
        "changed": changes.changed if changes else None,
        "deleted": changes.deleted if changes else None,
    }
