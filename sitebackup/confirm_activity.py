"""E2_ConfirmBackup: read the run's pages, list the blobs once, compare (``sitebackup.confirm``).

Input ``{"job", "runId", "partitions", "unchangedPages"}``, as the snapshot writer gets it.
Storage failures raise, so the orchestration's retry policy applies.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

from azure.core.exceptions import AzureError, ResourceNotFoundError

from sitebackup import activity_setup, layout, rerun, storage
from sitebackup.confirm import confirm
from sitebackup.errors import JobError, echo
from sitebackup.job import Job
from sitebackup.manifest import Entry
from sitebackup.run_pages import checked_run_id, store_for
from sitebackup.snapshot_store import SnapshotStore

log = logging.getLogger(__name__)

WHO = "E2_ConfirmBackup"
# Blobs per List Blobs page: the service's maximum.
BLOB_PAGE_SIZE = 5000


def _count(value: Any, key: str) -> int:
    item = value.get(key)
    if isinstance(item, bool) or not isinstance(item, int) or item < 0:
        raise JobError(f"{WHO}: '{key}' must be a non-negative integer, got {echo(item)}")
    return item


def _entries(store: SnapshotStore, job: Job, run_id: str, value: dict) -> Iterator[Entry]:
    folder = (job.container, job.prefix, run_id)
    for kind, key in (
        (layout.UNCHANGED_PAGE, "unchangedPages"),
        (layout.STORED_PAGE, "partitions"),
    ):
        for index in range(_count(value, key)):
            yield from store.read_entries(layout.run_page(*folder, kind, index))


def confirm_backup(value: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise JobError(f"{WHO} input must be an object with 'job' and 'runId'")
    try:
        job = Job.from_input(value.get("job"))
    except JobError as exc:
        raise JobError(f"{WHO} input 'job' is not valid: {exc}") from None
    run_id = checked_run_id(value.get("runId"), WHO)
    env = os.environ if env is None else env
    setup = activity_setup.for_env(env)
    container = storage.container_client(setup.service, job.container)
    store = store_for(job, env)
    blobs = container.list_blobs(
        name_starts_with=rerun.name_prefix(job.prefix) or None,
        include=["metadata"],
        results_per_page=BLOB_PAGE_SIZE,
    )
    try:
        result = confirm(_entries(store, job, run_id, value), blobs, job.prefix)
    except ResourceNotFoundError as exc:
        if getattr(exc, "error_code", None) != "ContainerNotFound":
            raise storage.failure(exc, f"confirming the backup in {echo(job.container)}") from None
        # Storage lost the whole container (Azurite killed before it saved its metadata, or
        # someone deleted it): every file of the run is missing, which the report says and
        # the next run repairs. Retrying the listing could never succeed.
        log.warning("run %s: container %s is gone from storage", run_id, job.container)
        try:
            result = confirm(_entries(store, job, run_id, value), (), job.prefix)
        except AzureError as again:
            raise storage.failure(again, "reading the run's pages") from None
    except AzureError as exc:
        raise storage.failure(exc, f"confirming the backup in {echo(job.container)}") from None
    if result.lost:
        log.warning(
            "run %s of %s/%s: %d files missing and %d different in storage after the copy",
            run_id,
            job.container,
            job.prefix,
            result.missing,
            result.mismatched,
        )
    else:
        log.info("run %s: all %d files confirmed in storage", run_id, result.confirmed)
    return result.to_dict()
