"""The restore orchestrators: the restore, and one partition of it (deterministic, no I/O).

The same fan-out/fan-in shape as the backup. The prepare activity plans ``[page, start,
count]`` slices of the snapshot's manifest and writes them to the restore's plan page in the
meta container (``layout.restore_plan``), returning only how many there are; the restore
runs them as partition sub-orchestrations in waves, each partition given only its index.
The partition reads its slice (plan page, then manifest page) in an activity and downloads
its files in windows, one activity per file. So no history holds a list that grows with the
tree, and like the backup the restore continues as new every ``generation_size``
partitions, carrying its run in the input's ``resume``, so the parent's history does not
grow with the number of partitions either.

Progress goes into the custom status in the backup's shape, so the client's progress bar
reads both; the output is the number of bytes in the target that match the snapshot
(restored + already identical).

A file's own problem (an unsafe name, a link in the way, content missing) is reported per
file and the restore goes on; a download that raised after its last retry is storage
trouble every other file would meet too, so the restore stops once the window settled.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Generator
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.models.Task import TaskState

from sitebackup import children, function_names, plan
from sitebackup.errors import BackupError, BackupHalted, JobError, echo
from sitebackup.generations import Progress, generation_size, is_count
from sitebackup.orchestration import COPY_WINDOW, MAX_HALT_TEXT, partition_waves, settle_all
from sitebackup.restore.download import RESTORED
from sitebackup.restore.job import RestoreJob
from sitebackup.summary import DONE, LISTING, Scope, Totals, custom_status, task_error

log = logging.getLogger(__name__)

# What the prepare activity counts, and a restore's resume carries.
PREPARED = ("partitions", "filesTotal", "bytesTotal")

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
        raise JobError(f"{who} input must be an object with 'job', 'run' and 'index'")
    job = _job(value.get("job"), who)
    retry = _retry(job)
    descriptor = job.descriptor()
    # Which slice: the index into the restore's plan (or a slice given inline).
    where = {key: value[key] for key in ("run", "index", "slice") if key in value}
    try:
        read = yield context.call_activity_with_retry(
            function_names.READ_RESTORE_PAGE_ACTIVITY, retry, {"job": descriptor, **where}
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


@dataclasses.dataclass
class _Run(Progress):
    """A restore's ``resume``: the common progress and the prepared counts.

    ``run_id`` is the run token: it names the partitions' instances and the plan page, so it
    stays the same in every generation.
    """

    partitions: int
    files_total: int
    bytes_total: int

    def to_input(self) -> dict[str, Any]:
        return {
            **self.progress_input(),
            "partitions": self.partitions,
            "filesTotal": self.files_total,
            "bytesTotal": self.bytes_total,
        }

    @classmethod
    def from_input(cls, value: Any, who: str) -> _Run:
        common, counts = Progress.read(value, who, PREPARED, bound="partitions")
        return cls(
            **common,
            partitions=counts["partitions"],
            files_total=counts["filesTotal"],
            bytes_total=counts["bytesTotal"],
        )


def restore(context: df.DurableOrchestrationContext) -> Generator[Any, Any, int]:
    """E2_RestoreSnapshot: prepare, restore the partitions in waves, sweep, return bytes.

    A restore with more partitions than one generation holds (``generation_size``)
    continues as new after each generation with its run in the input's ``resume``: the same
    run token (so the same partition instance ids and plan page) and the running totals.
    """
    who = function_names.RESTORE_ORCHESTRATOR
    value = context.get_input()
    job = _job(value, who)
    retry = _retry(job)
    resume = value.get("resume") if isinstance(value, dict) else None
    if resume is not None:
        run = _Run.from_input(resume, who)
    else:
        run = yield from _prepare(context, job, retry)
    scope = Scope(
        container=job.container,
        prefix=job.prefix,
        files_total=run.files_total,
        bytes_total=run.bytes_total,
        partitions_total=run.partitions,
    )
    totals = run.totals
    context.set_custom_status(custom_status(RESTORING, scope, totals, run.done))
    end = min(run.partitions, run.next + generation_size(job.partition_concurrency))
    child = job.to_input()
    run.done, halted = yield from partition_waves(
        context,
        function_names.RESTORE_PARTITION_ORCHESTRATOR,
        range(run.next, end),
        job.partition_concurrency,
        run.run_id,
        lambda index: {"job": child, "run": run.run_id, "index": index},
        lambda finished: custom_status(RESTORING, scope, totals, finished),
        totals,
        run.done,
    )
    if halted is not None:
        raise BackupHalted(
            f"the restore stopped: {halted}. Run it again once the trouble is over: files "
            "already restored are skipped"
        )
    if end < run.partitions:
        run.next = end
        context.continue_as_new({**job.to_input(), "resume": run.to_input()})
        return 0  # not the output: the restore goes on in the next generation
    # Temporary files of attempts that crashed (in this run or an earlier one) go last,
    # and the plan page with them.
    yield context.call_activity_with_retry(
        function_names.FINISH_RESTORE_ACTIVITY, retry, {**job.to_input(), "run": run.run_id}
    )
    context.set_custom_status(custom_status(DONE, scope, totals, run.done))
    return totals.bytes_backed_up


def _prepare(
    context: df.DurableOrchestrationContext, job: RestoreJob, retry: df.RetryOptions
) -> Generator[Any, Any, _Run]:
    """The restore's first step: check the target and write the plan; returns the run."""
    # New for every run (the instance id repeats per target folder); replay-safe.
    run_id = children.run_token(context.new_uuid())
    started_ms = int(context.current_utc_datetime.timestamp() * 1000)
    context.set_custom_status(custom_status(LISTING, Scope(job.container, job.prefix)))
    try:
        prepared = yield context.call_activity_with_retry(
            function_names.PREPARE_RESTORE_ACTIVITY, retry, {**job.to_input(), "run": run_id}
        )
    except Exception as exc:
        raise BackupHalted(f"cannot start the restore: {task_error(exc, MAX_HALT_TEXT)}") from None
    if not isinstance(prepared, dict) or prepared.get("error"):
        reason = prepared.get("error") if isinstance(prepared, dict) else echo(prepared)
        raise BackupError(f"cannot restore: {reason}")
    counts = {key: prepared.get(key, 0) for key in PREPARED}
    for key, item in counts.items():
        if not is_count(item):
            raise BackupError(
                f"{function_names.PREPARE_RESTORE_ACTIVITY} returned a bad {key!r}: {echo(item)}"
            )
    return _Run(
        run_id,
        started_ms,
        Totals(),
        done=0,
        next=0,
        partitions=counts["partitions"],
        files_total=counts["filesTotal"],
        bytes_total=counts["bytesTotal"],
    )
