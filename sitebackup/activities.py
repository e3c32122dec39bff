"""The activity bodies: list a root, copy one file. The function folders only call these.

Expected problems come back in the result (a listing ``error``, a ``failed`` copy) because
no retry can cure them; storage failures raise so the orchestration's retry policy applies.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

from azure.core.exceptions import AzureError
from azure.storage.blob import ContainerClient

from sitebackup import activity_setup, dryrun, ownership, rerun, run_pages, storage
from sitebackup import settings as cfg
from sitebackup.errors import ConfigError, JobError, RuleError, echo
from sitebackup.ignore_file import read_rules
from sitebackup.job import Job
from sitebackup.listing import new_listing, walk_tree
from sitebackup.manifest import Entry, ManifestError
from sitebackup.paths import containing_root, root_problem
from sitebackup.rootfs import RootDir, open_beneath
from sitebackup.rules import RuleSet
from sitebackup.snapshot_store import SnapshotStore
from sitebackup.upload import FAILED, CopyResult, copy_file, file_md5

log = logging.getLogger(__name__)


def _checked_root(job: Job, env: Mapping[str, str]) -> tuple[RootDir | None, str | None]:
    """An open handle on the root, or None and why it may not be read.

    The starter checked this already; checking again here keeps a backup started some
    other way (the Durable HTTP API, a portal) inside the allowed roots too. The allowed
    roots are resolved on every call, never cached: a release-style link (``current ->
    releases/N``) may be re-pointed at any time, and only its target of now is allowed.
    The root is opened from the allowed root down, one folder at a time without following
    links, so a folder swapped since the ``realpath`` cannot redirect the whole backup.
    """
    try:
        allowed = cfg.parse_allowed_roots(env.get(cfg.ALLOWED_ROOTS) or "")
    except ConfigError as exc:
        return None, str(exc)
    try:
        root = os.path.realpath(job.root)
    except (OSError, ValueError) as exc:
        return None, f"cannot back up {echo(job.root)}: {exc}"
    problem = root_problem(root, allowed)
    if problem:
        if not allowed:
            problem += f" (app setting {cfg.ALLOWED_ROOTS})"
        return None, f"cannot back up {echo(job.root)}: {problem}"
    base = containing_root(root, allowed) or root
    rel_parts = [] if root == base else os.path.relpath(root, base).split(os.sep)
    try:
        return RootDir(root, open_beneath(base, rel_parts)), None
    except OSError as exc:
        return None, f"cannot open {echo(job.root)}: {exc.strerror or exc}"


def _container(job: Job, setup: activity_setup.Setup) -> ContainerClient:
    return storage.container_client(setup.service, job.container)


def list_files(value: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """E2_GetFileList: create the container once, walk the root, sort out unchanged files.

    With a ``runId`` in the input (a backup run), the files to copy and the unchanged ones
    go into pages of that run (``sitebackup.run_pages``) and the result holds only counts:
    ``partitions`` (one copy page each), ``unchangedPages``, ``toCopyCount``/``toCopyBytes``.
    Without one, nothing is written anywhere and ``report`` holds the bounded dry-run report
    (``sitebackup.dryrun``: exact counts per kind, a sample of paths): the hook for runs that
    must not write. Either way the walk streams through the comparison with the blobs
    (``sitebackup.rerun``) into pages or counts: no list of the tree is held. Unchanged
    files are counted in ``unchangedCount``/``unchangedBytes``;
    ``filesTotal`` and ``bytesTotal`` count every listed file.
    """
    env = os.environ if env is None else env
    try:
        job = Job.from_input(value)
        setup = activity_setup.for_env(env)
        run_id = value.get("runId") if isinstance(value, dict) else None
        if run_id is not None:
            run_id = run_pages.checked_run_id(run_id, "E2_GetFileList")
    except (JobError, ConfigError) as exc:
        return {"error": str(exc)}
    root, problem = _checked_root(job, env)
    if root is None:
        return {"error": problem}
    with root:
        return _list_open_root(job, setup, env, root, run_id)


def _destination_problem(job: Job, meta: ContainerClient, root: RootDir) -> str | None:
    """Why this root may not write into the job's destination, or None.

    The starter claimed the destination already; a backup started around it (the Durable
    HTTP API) must not write into another root's destination either. A dry run only reads.
    """
    if job.dry_run:
        owner = ownership.owner_of(meta, job.container, job.prefix)
    else:
        owner = ownership.claim(meta, job.container, job.prefix, root.path).owner
    if owner is None or owner == root.path:
        return None
    return ownership.conflict_message(root.path, owner, job.container, job.prefix)


def _list_open_root(
    job: Job,
    setup: activity_setup.Setup,
    env: Mapping[str, str],
    root: RootDir,
    run_id: str | None,
) -> dict[str, Any]:
    container = _container(job, setup)
    meta = storage.container_client(setup.service, setup.settings.meta_container)
    try:
        rules = rules_for(job, root)
    except RuleError as exc:
        return {"error": str(exc)}
    problem = _destination_problem(job, meta, root)
    if problem:
        return {"error": problem}
    if job.dry_run:
        # Nothing is written: with no container yet, every file would be new.
        created = False
        missing = not storage.container_exists(container)
    else:
        created = storage.ensure_container(container)
        missing = created
    listing = new_listing(root, rules)
    sorter = rerun.Sorter(
        None if missing else _blob_cursor(container, job).lookup,
        job.compare,
        lambda entry: file_md5(root, entry.path, entry.size, entry.mtime_ns),
        all_new=missing and not created,
    )
    files = walk_tree(root, listing, job.prefix)
    if run_id is None:
        tally = dryrun.Tally()
        deleted = _Deleted(job, meta)
        for entry in files:
            kind, _ = sorter.sort(entry)
            tally.add(kind, entry.path, entry.size)
            deleted.see(entry.path)
    else:
        writer = run_pages.ListingWriter(run_pages.store_for(job, env), run_id, job.partition_size)
        for entry in files:
            kind, item = sorter.sort(entry)
            if kind == rerun.UNCHANGED:
                writer.add_unchanged(item)
            else:
                writer.add_copy(item)
        partitions, unchanged_pages = writer.close()
    counts = sorter.counts
    log.info(
        "listed %d files (%d bytes) under %r, %d entries skipped, %d files and %d folders "
        "excluded by rules; container %r %s; %d unchanged (%d bytes), %d new, %d to check",
        listing.files_total,
        listing.bytes_total,
        root.path,
        listing.skipped_count,
        listing.rules.excluded_files if listing.rules else 0,
        listing.rules.excluded_dirs if listing.rules else 0,
        job.container,
        "missing" if missing and not created else "created" if created else "exists",
        counts.unchanged_count,
        counts.unchanged_bytes,
        counts.new_count,
        sorter.to_copy_count - counts.new_count,
    )
    result: dict[str, Any] = {
        "root": listing.root,
        "filesTotal": listing.files_total,
        "bytesTotal": listing.bytes_total,
        "skipped": listing.skipped,
        "skippedCount": listing.skipped_count,
        "unchangedCount": counts.unchanged_count,
        "unchangedBytes": counts.unchanged_bytes,
        "newCount": counts.new_count,
        "containerCreated": created,
        "rules": listing.rules_report(),
        "dryRun": job.dry_run,
        "error": None,
        "toCopyCount": sorter.to_copy_count,
        "toCopyBytes": sorter.to_copy_bytes,
    }
    if run_id is None:
        # A run that must not write (a dry run): the bounded report, no file list.
        report = tally.report(
            job.container,
            job.prefix,
            result,
            listing.excluded,
            listing.excluded_bytes,
            deleted.report(),
        )
        return {**result, "report": report}
    return {
        **result,
        "runId": run_id,
        "partitions": partitions,
        "unchangedPages": unchanged_pages,
    }


def _blob_cursor(container: ContainerClient, job: Job) -> rerun.BlobCursor:
    """The blobs under the prefix with their metadata, paged as the merge consumes them."""
    blobs = container.list_blobs(
        name_starts_with=rerun.name_prefix(job.prefix) or None,
        include=["metadata"],
        results_per_page=storage.LIST_PAGE_SIZE,
    )

    def pages():
        try:
            yield from blobs
        except AzureError as exc:
            raise storage.failure(exc, f"listing the blobs in {echo(job.container)}") from None

    return rerun.BlobCursor(pages(), job.prefix)


class _Deleted:
    """The dry run's ``deleted`` section: the newest snapshot's paths the walk no longer
    finds (None before the destination's first snapshot)."""

    def __init__(self, job: Job, meta: ContainerClient) -> None:
        self.store = SnapshotStore(meta, job.container, job.prefix)
        self.latest = next(self.store.list(), None)
        self.tracker: dryrun.DeletedTracker | None = None
        self.error: str | None = None
        if self.latest is not None:
            try:
                self.tracker = dryrun.DeletedTracker(self._entries(), self.latest)
            except ManifestError as exc:
                self._failed(exc)

    def _entries(self) -> Iterator[Entry]:
        assert self.latest is not None
        return self.store.entries(self.store.header(self.latest))

    def _failed(self, exc: ManifestError) -> None:
        assert self.latest is not None
        log.warning("dry run: cannot read snapshot %s: %s", self.latest.run_id, exc)
        self.error, self.tracker = str(exc), None

    def see(self, path: str) -> None:
        if self.tracker is not None:
            self.tracker.see(path)

    def report(self) -> dict[str, Any] | None:
        if self.latest is None:
            return None
        if self.tracker is not None:
            try:
                return self.tracker.report(self._entries())
            except ManifestError as exc:
                self._failed(exc)
        return {"files": None, "since": self.latest.run_id, "error": self.error, "paths": []}


def rules_for(job: Job, root: RootDir) -> RuleSet:
    """The job's rules with the tree's ``.backupignore`` (unless the job turned it off)."""
    return RuleSet.build(
        defaults=job.exclude_defaults,
        ignore_file=read_rules(root.fd) if job.ignore_file else (),
        exclude=job.exclude,
        include=job.include,
    )


def copy_one(value: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """E2_CopyFileToBlob: ``{"job": descriptor, "file": {"path", "size", "mtimeNs"}}``.

    ``"newContainer": true`` (the listing created the container) or ``"file": {"new": true}``
    (the listing saw no blob of this name) skips the lookup of an existing blob.
    """
    env = os.environ if env is None else env
    entry = value.get("file") if isinstance(value, dict) else None
    path = entry.get("path") if isinstance(entry, dict) else None
    if not isinstance(path, str) or not path:
        raise JobError("E2_CopyFileToBlob input needs 'file.path' (a relative path string)")
    try:
        job = Job.from_input(value.get("job"))
    except JobError as exc:
        raise JobError(f"E2_CopyFileToBlob input 'job' is not valid: {exc}") from None
    root, problem = _checked_root(job, env)
    if root is None:
        return CopyResult(path, FAILED, error=problem).to_dict()
    with root:
        # Configuration problems raise: they affect every file and the message must surface.
        setup = activity_setup.for_env(env)
        container = _container(job, setup)
        result = copy_file(
            container,
            root,
            job.prefix,
            path,
            job.compare,
            setup.tuning,
            blob_absent=value.get("newContainer") is True or entry.get("new") is True,
        )
    if result.status == FAILED:
        log.warning("not backed up: %r: %s", path, result.error)
    return result.to_dict()
