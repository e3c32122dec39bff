"""The restore orchestrators: the restore, and one partition of it (deterministic, no I/O).

The same fan-out/fan-in shape as the backup: the restore plans ``[page, start, count]``
slices of the snapshot's manifest, runs them as partition sub-orchestrations in waves, and
each partition reads its slice in an activity (so no history holds a list that grows with
the tree) and downloads its files in windows, one activity per file. Progress goes into the
custom status in the backup's shape, so the client's progress bar reads both; the output is
the number of bytes in the target that match the snapshot (restored + already identical).

A file's own problem (an unsafe name, a link in the way, content missing) is reported per
file and the restore goes on; a download that raised after its last retry is storage
trouble every other file would meet too, so the restore stops once the window settled.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.models.Task import TaskState

from sitebackup import children, function_names, plan
from sitebackup.errors import BackupError, BackupHalted, JobError, echo
from sitebackup.orchestration import COPY_WINDOW, MAX_HALT_TEXT, settle_all
from sitebackup.restore.download import RESTORED
from sitebackup.restore.job import RestoreJob
from sitebackup.summary import DONE, LISTING, Scope, Totals, custom_status, task_error

log = logging.getLogger(__name__)

RESTORING = "restoring"


def _job(value: Any, who: str) -> RestoreJob:
    try:
        return RestoreJob.from_input(value)
    except JobError as exc:
        raise JobError(f"{who} input is not valid: {exc}") from None


def _retry(job: RestoreJob) -> df.RetryOptions:
    return df.RetryOptions(job.retry_first_interval_ms, job.retry_max_attempts)


def _counted(result: Any) -> Any:
    # Totals counts backup results ("copied"/"skipped"/"failed"); a restored file is the
    # restore's copy.
    if isinstance(result, dict) and result.get("status") == RESTORED:
        return {**result, "status": "copied"}
    return result


def _entry_size(entry: Any) -> int:
    size = entry.get("size") if isinstance(entry, dict) else None
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else 0


def _entry_path(entry: Any) -> str:
    path = entry.get("path") if isinstance(entry, dict) else None
    return path if isinstance(path, str) else "?"


def partition(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """E2_RestorePartition: read one slice of the manifest, download its files in windows."""
    who = function_names.RESTORE_PARTITION_ORCHESTRATOR
    value = context.get_input()
    if not isinstance(value, dict):
        raise JobError(f"{who} input must be an object with 'job' and 'slice'")
    job = _job(value.get("job"), who)
    retry = _retry(job)
    descriptor = job.descriptor()
    try:
        read = yield context.call_activity_with_retry(
            function_names.READ_RESTORE_PAGE_ACTIVITY,
            retry,
            {"job": descriptor, "slice": value.get("slice")},
        )
    except Exception as exc:
        raise BackupHalted(
            f"cannot read the snapshot's file list: {task_error(exc, MAX_HALT_TEXT)}"
        ) from None
    files = read.get("files") if isinstance(read, dict) else None
    if not isinstance(files, list):
        raise BackupError(f"{function_names.READ_RESTORE_PAGE_ACTIVITY} returned no file list")
    totals = Totals()
    for window in plan.chunks(files, COPY_WINDOW):
        tasks = [
            context.call_activity_with_retry(
                function_names.RESTORE_FILE_ACTIVITY, retry, {"job": descriptor, "file": entry}
            )
            for entry in window
        ]
        yield from settle_all(context, tasks)
        halted: str | None = None
        for entry, task in zip(window, tasks, strict=True):
            if task.state is TaskState.SUCCEEDED:
                totals.add_result(_entry_path(entry), _entry_size(entry), _counted(task.result))
            elif halted is None:
                halted = (
                    f"restoring {echo(_entry_path(entry))} failed after "
                    f"{job.retry_max_attempts} attempts: {task_error(task.result, MAX_HALT_TEXT)}"
                )
        if halted is not None:
            raise BackupHalted(halted)
    return totals.to_dict()


def restore(context: df.DurableOrchestrationContext) -> Generator[Any, Any, int]:
    """E2_RestoreSnapshot: prepare, restore the partitions in waves, sweep, return bytes."""
    who = function_names.RESTORE_ORCHESTRATOR
    job = _job(context.get_input(), who)
    retry = _retry(job)
    # New for every run (the instance id repeats per target folder); replay-safe.
    run = children.run_token(context.new_uuid())
    scope = Scope(container=job.container, prefix=job.prefix)
    context.set_custom_status(custom_status(LISTING, scope))
    try:
        prepared = yield context.call_activity_with_retry(
            function_names.PREPARE_RESTORE_ACTIVITY, retry, job.to_input()
        )
    except Exception as exc:
        raise BackupHalted(f"cannot start the restore: {task_error(exc, MAX_HALT_TEXT)}") from None
    if not isinstance(prepared, dict) or prepared.get("error"):
        reason = prepared.get("error") if isinstance(prepared, dict) else echo(prepared)
        raise BackupError(f"cannot restore: {reason}")
    parts = prepared.get("partitions") or []
    scope = Scope(
        container=job.container,
        prefix=job.prefix,
        files_total=int(prepared.get("filesTotal") or 0),
        bytes_total=int(prepared.get("bytesTotal") or 0),
        partitions_total=len(parts),
    )
    totals = Totals()
    done = 0
    context.set_custom_status(custom_status(RESTORING, scope, totals, done))
    halted: str | None = None
    child = job.to_input()
    for wave in plan.chunks(list(enumerate(parts)), job.partition_concurrency):
        pending = [
            context.call_sub_orchestrator(
                function_names.RESTORE_PARTITION_ORCHESTRATOR,
                {"job": child, "slice": part},
                # Derived from ours, so terminating or purging this restore can find it.
                instance_id=children.partition_id(context.instance_id, run, index),
            )
            for index, part in wave
        ]
        while pending:
            yield context.task_any(pending)
            for task in [task for task in pending if task.is_completed]:
                if task.state is not TaskState.SUCCEEDED:
                    halted = halted or task_error(task.result, MAX_HALT_TEXT)
                    continue
                try:
                    totals.merge(Totals.from_dict(task.result))
                    done += 1
                except ValueError as exc:
                    halted = halted or f"a partition returned a bad summary: {exc}"
            pending = [task for task in pending if not task.is_completed]
            context.set_custom_status(custom_status(RESTORING, scope, totals, done))
        if halted is not None:
            raise BackupHalted(
                f"the restore stopped: {halted}. Run it again once the trouble is over: files "
                "already restored are skipped"
            )
    # Temporary files of attempts that crashed (in this run or an earlier one) go last.
    yield context.call_activity_with_retry(
        function_names.FINISH_RESTORE_ACTIVITY, retry, job.to_input()
    )
    context.set_custom_status(custom_status(DONE, scope, totals, done))
    return totals.bytes_backed_up
