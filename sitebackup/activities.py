"""The activity bodies: list a root, copy one file. The function folders only call these.

Expected problems come back in the result (a listing ``error``, a ``failed`` copy) because
no retry can cure them; storage failures raise so the orchestration's retry policy applies.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from azure.storage.blob import ContainerClient

from sitebackup import settings as cfg
from sitebackup import storage
from sitebackup.errors import ConfigError, JobError, echo
from sitebackup.job import Job
from sitebackup.listing import list_tree
from sitebackup.paths import root_problem
from sitebackup.upload import FAILED, MIB, CopyResult, UploadTuning, copy_file

log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def _allowed_roots(value: str) -> tuple[str, ...]:
    return cfg.parse_allowed_roots(value)


def _checked_root(job: Job, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The resolved root, or None and why it may not be read.

    The starter checked this already; checking again here keeps a backup started some
    other way (the Durable HTTP API, a portal) inside the allowed roots too.
    """
    try:
        allowed = _allowed_roots(env.get(cfg.ALLOWED_ROOTS) or "")
    except ConfigError as exc:
        return None, str(exc)
    root = os.path.realpath(job.root)
    problem = root_problem(root, allowed)
    if problem:
        if not allowed:
            problem += f" (app setting {cfg.ALLOWED_ROOTS})"
        return None, f"cannot back up {echo(job.root)}: {problem}"
    return root, None


def _container(job: Job, settings: cfg.Settings, env: Mapping[str, str]) -> ContainerClient:
    tuning = tuning_for(settings)
    client = storage.service_client(
        storage.resolve_target(env),
        pool_size=settings.http_pool_size,
        single_put_size=tuning.single_put_limit,
        block_size=tuning.block_size,
    )
    return storage.container_client(client, job.container)


def tuning_for(settings: cfg.Settings) -> UploadTuning:
    block = settings.block_size_mb * MIB
    return UploadTuning(
        single_put_limit=block, block_size=block, concurrency=settings.upload_concurrency
    )


def list_files(value: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """E2_GetFileList: create the container once, then walk the root."""
    env = os.environ if env is None else env
    try:
        job = Job.from_input(value)
        settings = cfg.load(env)
    except (JobError, ConfigError) as exc:
        return {"error": str(exc)}
    root, problem = _checked_root(job, env)
    if root is None:
        return {"error": problem}
    try:
        container = _container(job, settings, env)
    except ConfigError as exc:
        return {"error": str(exc)}
    created = storage.ensure_container(container)
    listing = list_tree(root, job.prefix)
    log.info(
        "listed %d files (%d bytes) under %r, %d entries skipped; container %r %s",
        len(listing.files),
        listing.bytes_total,
        root,
        listing.skipped_count,
        job.container,
        "created" if created else "exists",
    )
    return {**listing.to_dict(), "containerCreated": created, "error": None}


def copy_one(value: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """E2_CopyFileToBlob: ``{"job": descriptor, "file": {"path", "size", "mtimeNs"}}``.

    ``"newContainer": true`` (set when the listing created the container) skips the lookup
    of an existing blob.
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
    # Configuration problems raise: they affect every file and the message must surface.
    settings = cfg.load(env)
    container = _container(job, settings, env)
    result = copy_file(
        container,
        root,
        job.prefix,
        path,
        job.compare,
        tuning_for(settings),
        new_container=value.get("newContainer") is True,
    )
    if result.status == FAILED:
        log.warning("not backed up: %r: %s", path, result.error)
    return result.to_dict()
