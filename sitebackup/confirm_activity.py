"""E2_ConfirmBackup: read the run's pages, list the blobs once, compare (``sitebackup.confirm``).

Input ``{"job", "runId", "partitions", "unchangedPages"}``, as the snapshot writer gets it.
The run's pages are read one at a time per kind and merged in blob-name order
(``sitebackup.run_streams``), so memory holds a page per kind and a page of the listing. The
entries storage lost go to the run's ``lost-<k>`` pages; the result counts them
(``lostPages``), for the snapshot writer to leave them out. Storage failures raise, so the
orchestration's retry policy applies.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

from sitebackup import activity_setup, layout, rerun, run_streams, storage
from sitebackup.confirm import Confirmation, confirm
from sitebackup.errors import JobError, echo
from sitebackup.job import Job
from sitebackup.run_pages import checked_run_id, store_for
from sitebackup.run_streams import Tagged
from sitebackup.snapshot_store import SnapshotStore

log = logging.getLogger(__name__)

WHO = "E2_ConfirmBackup"


def _count(value: Any, key: str) -> int:
    item = value.get(key)
    if isinstance(item, bool) or not isinstance(item, int) or item < 0:
        raise JobError(f"{WHO}: '{key}' must be a non-negative integer, got {echo(item)}")
    return item


def _run(store: SnapshotStore, job: Job, run_id: str, value: dict) -> Iterator[Tagged]:
    """The run's entries in blob-name order, one page per kind in memory."""
    folder = (job.container, job.prefix, run_id)
    counts = {
        layout.UNCHANGED_PAGE: _count(value, "unchangedPages"),
        layout.STORED_PAGE: _count(value, "partitions"),
    }
    return run_streams.merged(
        run_streams.page_run(
            lambda index, kind=kind: store.read_entries(layout.run_page(*folder, kind, index)),
            kind,
            pages,
        )
        for kind, pages in counts.items()
    )


def _checker(container: ContainerClient) -> Callable[[str], Any]:
    def check(name: str) -> Any:
        try:
            return container.get_blob_client(name).get_blob_properties()
        except ResourceNotFoundError:
            return None  # no such blob, or no container at all
        except AzureError as exc:
            raise storage.failure(exc, f"reading the properties of {echo(name)}") from None

    return check


def _confirm(
    store: SnapshotStore,
    job: Job,
    run_id: str,
    value: dict,
    container: ContainerClient,
    blobs: Iterable[Any] | None,
) -> Confirmation:
    """Confirm the run and write its lost pages; ``blobs`` None: the container is gone."""
    folder = (job.container, job.prefix, run_id)

    def write(index: int, data: bytes) -> None:
        store.write_page(layout.run_page(*folder, layout.LOST_PAGE, index), data)

    lost = run_streams.LostWriter(write)
    # With the container gone there is nothing to look up: every entry is missing.
    if blobs is None:
        blobs, check = (), (lambda name: None)
    else:
        check = _checker(container)
    result = confirm(_run(store, job, run_id, value), blobs, job.prefix, check, lost.add)
    result.lost_pages = lost.close()
    return result


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
        results_per_page=storage.LIST_PAGE_SIZE,
    )
    try:
        result = _confirm(store, job, run_id, value, container, blobs)
    except ResourceNotFoundError as exc:
        if getattr(exc, "error_code", None) != "ContainerNotFound":
            raise storage.failure(exc, f"confirming the backup in {echo(job.container)}") from None
        # Storage lost the whole container (Azurite killed before it saved its metadata, or
        # someone deleted it): every file of the run is missing, which the report says and
        # the next run repairs. Retrying the listing could never succeed. The lost pages
        # are written again from the start (the count returned says which are current).
        log.warning("run %s: container %s is gone from storage", run_id, job.container)
        try:
            result = _confirm(store, job, run_id, value, container, None)
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
