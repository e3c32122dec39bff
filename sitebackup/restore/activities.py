"""The restore activity bodies. The function folders only call these.

Problems of the whole restore (the target is not allowed, the snapshot is unreadable) come
back as ``error`` so the orchestration fails with that message; problems of one file come
back as that file's ``failed`` result; storage trouble raises, so the retry policy applies.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

from sitebackup import activity_setup, layout, manifest, snapshot_store, storage
from sitebackup import settings as cfg
from sitebackup.errors import ConfigError, JobError, echo
from sitebackup.manifest import Entry, Header, ManifestError
from sitebackup.plan import partition_size_for
from sitebackup.restore import download, patterns, target
from sitebackup.restore.job import RestoreJob
from sitebackup.snapshot_store import SnapshotStore

log = logging.getLogger(__name__)


def _roots(env: Mapping[str, str]) -> tuple[str, ...]:
    # Read on every call, not cached: a root removed from the settings stops restores now.
    return cfg.parse_allowed_roots(env.get(cfg.RESTORE_ROOTS) or "", cfg.RESTORE_ROOTS)


def _job(value: Any, who: str) -> RestoreJob:
    try:
        return RestoreJob.from_input(value)
    except JobError as exc:
        raise JobError(f"{who} input is not valid: {exc}") from None


def _store(job: RestoreJob, env: Mapping[str, str]) -> SnapshotStore:
    return SnapshotStore(snapshot_store.meta_container(env), job.container, job.prefix)


def _header(job: RestoreJob, env: Mapping[str, str]) -> Header:
    store = _store(job, env)
    ref = store.find(job.snapshot)
    if ref is None or ref.run_id != job.snapshot:
        raise ManifestError(
            f"snapshot {echo(job.snapshot)} of {job.container}/{job.prefix} no longer exists"
        )
    return store.header(ref)


def _backup_container(job: RestoreJob, env: Mapping[str, str]) -> ContainerClient:
    return storage.container_client(activity_setup.for_env(env).service, job.container)


def slices(counts: list[int], size: int) -> list[list[int]]:
    """``[page, start, count]`` for every run of at most ``size`` entries of every page."""
    return [
        [page, start, min(size, count - start)]
        for page, count in enumerate(counts)
        for start in range(0, count, size)
    ]


def _run(value: Any, who: str) -> str:
    run = value.get("run") if isinstance(value, dict) else None
    if not layout.is_run_id(run):
        raise JobError(f"{who}: 'run' must name the restore's run, got {echo(run)}")
    return run


def prepare(value: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """E2_PrepareRestore: check the target (creating it), read the snapshot's header, plan.

    Writes the plan (a ``[page, start, count]`` slice of the manifest's pages per partition)
    to the restore's plan page (``layout.restore_plan``) and returns only counts: the number
    of partitions and the files and bytes to restore. With an ``include`` subset the pages
    are read, one at a time, to count the chosen files, and slices with nothing chosen are
    left out. The same job and snapshot always give the same plan, so a retry rewrites an
    identical page.
    """
    env = os.environ if env is None else env
    try:
        job = _job(value, "E2_PrepareRestore")
        run = _run(value, "E2_PrepareRestore")
        fd = target.open_target(job.target, _roots(env), create=True)
    except (JobError, ConfigError, target.TargetRefused) as exc:
        return {"error": str(exc)}
    except OSError as exc:
        return {"error": f"cannot create the target {echo(job.target)}: {exc.strerror}"}
    os.close(fd)
    try:
        header = _header(job, env)
    except ManifestError as exc:
        return {"error": str(exc)}
    # Cut as the backup cuts its file list: medium trees into about 16 partitions, so
    # progress moves in small steps, never more than partitionSize files in one.
    size = partition_size_for(header.files, job.partition_size)
    plan = slices([page.count for page in header.pages], size)
    files, size = header.files, header.bytes
    store = _store(job, env)
    if job.include:
        chosen = patterns.matcher(job.include)
        kept, files, size = [], 0, 0
        # The slices come in page order: read each page once, when its slices come up, so
        # only one page is held (not the snapshot).
        pages = enumerate(store.pages(header))
        at, entries = -1, []
        for page, start, count in plan:
            while at < page:
                at, entries = next(pages)
            picked = [e for e in entries[start : start + count] if chosen(e.path)]
            if picked:
                kept.append([page, start, count])
                files += len(picked)
                size += sum(e.size for e in picked)
        plan = kept
    store.write_page(
        layout.restore_plan(job.container, job.prefix, run),
        manifest.encode_lines({"page": p, "start": s, "count": c} for p, s, c in plan),
    )
    log.info(
        "restore of %s/%s snapshot %s into %r: %d files, %d bytes, %d partitions",
        job.container,
        job.prefix,
        job.snapshot,
        job.target,
        files,
        size,
        len(plan),
    )
    return {
        "error": None,
        "runId": header.run_id,
        "endedMs": header.ended_ms,
        "filesTotal": files,
        "bytesTotal": size,
        "partitions": len(plan),
    }


def _count(item: Any) -> bool:
    return not isinstance(item, bool) and isinstance(item, int) and item >= 0


def _slice(value: Any) -> tuple[int, int, int]:
    item = value.get("slice")
    if not isinstance(item, list) or len(item) != 3 or not all(_count(n) for n in item):
        raise JobError("'slice' must be [page, start, count] (non-negative integers)")
    return item[0], item[1], item[2]


def _planned_slice(job: RestoreJob, value: dict[str, Any], env: Mapping[str, str]):
    """The slice of partition ``index`` of the restore's run, from its plan page."""
    run = _run(value, "E2_ReadRestorePage")
    index = value.get("index")
    if not _count(index):
        raise JobError(f"'index' must be a non-negative integer, got {echo(index)}")
    name = layout.restore_plan(job.container, job.prefix, run)
    plan = _store(job, env).read_lines(name)
    if index >= len(plan):
        raise JobError(f"the restore's plan {echo(name)} has no partition {index}")
    part = plan[index]
    return _slice({"slice": [part.get("page"), part.get("start"), part.get("count")]})


def read_slice(value: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """E2_ReadRestorePage: the chosen entries of one partition's slice of the manifest.

    The slice is partition ``index`` of the plan of the restore's ``run``, or given as
    ``slice`` (``[page, start, count]``). Lines are passed on as they are (only the entry's
    own keys): a malformed one is reported by its download as that file's failure, not as
    the whole slice's.
    """
    env = os.environ if env is None else env
    if not isinstance(value, dict):
        raise JobError("E2_ReadRestorePage input must be an object with 'job' and 'index'")
    job = _job(value.get("job"), "E2_ReadRestorePage")
    if "slice" in value:
        page, start, count = _slice(value)
    else:
        page, start, count = _planned_slice(job, value, env)
    header = _header(job, env)
    if page >= len(header.pages):
        raise JobError(f"snapshot {job.snapshot} has no page {page}")
    lines = _store(job, env).read_lines(header.pages[page].name)
    chosen = patterns.matcher(job.include)
    files = []
    for item in lines[start : start + count]:
        path = item.get("path")
        if isinstance(path, str) and not chosen(path):
            continue
        files.append({key: item[key] for key in ENTRY_KEYS if key in item})
    return {"files": files}


ENTRY_KEYS = ("path", "size", "mtimeNs", "md5")


def restore_one(value: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """E2_RestoreFile: ``{"job": descriptor, "file": manifest entry}`` -> the file's result."""
    env = os.environ if env is None else env
    if not isinstance(value, dict):
        raise JobError("E2_RestoreFile input must be an object with 'job' and 'file'")
    job = _job(value.get("job"), "E2_RestoreFile")
    raw = value.get("file")
    path = raw.get("path") if isinstance(raw, dict) else None
    try:
        entry = Entry.from_json(raw)
    except ManifestError as exc:
        shown = path[:300] if isinstance(path, str) else "?"
        return download.Restored(
            shown, download.FAILED, error=f"bad manifest entry: {exc}"
        ).to_dict()
    try:
        target_fd = target.open_target(job.target, _roots(env))
    except (ConfigError, target.TargetRefused) as exc:
        return download.Restored(entry.path, download.FAILED, error=str(exc)).to_dict()
    except OSError as exc:
        reason = f"cannot open the target {echo(job.target)}: {exc.strerror}"
        return download.Restored(entry.path, download.FAILED, error=reason).to_dict()
    try:
        setup = activity_setup.for_env(env)
        result = download.restore_entry(
            storage.container_client(setup.service, job.container),
            target_fd,
            job.prefix,
            entry,
            job.existing,
            setup.settings.download_concurrency,
        )
    finally:
        os.close(target_fd)
    if result.status == download.FAILED:
        log.warning("not restored: %r: %s", entry.path, result.error)
    return result.to_dict()


def finish(value: Any, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """E2_FinishRestore: remove temporary files any attempt left anywhere in the target."""
    env = os.environ if env is None else env
    job = _job(value, "E2_FinishRestore")
    try:
        fd = target.open_target(job.target, _roots(env))
    except (ConfigError, target.TargetRefused, OSError) as exc:
        return {"removed": 0, "error": str(exc)}
    try:
        removed = target.sweep_temp_files(fd)
    finally:
        os.close(fd)
    if removed:
        log.info("removed %d stale temporary files from %r", len(removed), job.target)
    if isinstance(value, dict) and "run" in value:
        _delete_plan(job, _run(value, "E2_FinishRestore"), env)
    return {"removed": len(removed), "error": None}


def _delete_plan(job: RestoreJob, run: str, env: Mapping[str, str]) -> None:
    name = layout.restore_plan(job.container, job.prefix, run)
    try:
        _store(job, env).meta.delete_blob(name)
    except ResourceNotFoundError:
        pass  # deleted by an earlier attempt
    except AzureError as exc:
        raise storage.failure(exc, f"deleting {echo(name)}") from None
