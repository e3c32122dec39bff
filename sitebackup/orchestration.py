"""The orchestrator generators: the backup, and one partition of it.

Deterministic by construction: they only read their input and task results (no clock, no
I/O, no settings), so every replay takes the same path.

Why partitions as sub-orchestrations, run in waves: each partition's history holds at most
``partitionSize`` activities and the parent's history holds one small summary per
partition, so no history grows with the tree; the parent reports progress each time a
partition finishes; and waves bound how much work is queued at once.

Two kinds of failure, kept apart on purpose: a problem with one file (vanished, unreadable,
changing, a name storage rejects) comes back from the copy activity as a ``failed`` result
and is reported per file while the backup goes on; an exception out of
``call_activity_with_retry`` after its last attempt means storage or infrastructure trouble
that every other file would meet too, so the backup stops with that error (``BackupHalted``)
once the copies already in flight have settled.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable, Generator, Sequence
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.models.Task import TaskBase, TaskState

from sitebackup import children, function_names, layout, manifest, plan
from sitebackup.errors import BackupError, BackupHalted, JobError, echo
from sitebackup.generations import Progress, generation_size
from sitebackup.job import Job
from sitebackup.summary import (
    CONFIRMING,
    COPYING,
    DONE,
    LISTING,
    PRUNING,
    Scope,
    Totals,
    custom_status,
    task_error,
)

log = logging.getLogger(__name__)

# Copies one partition has in flight at once (a window; the next starts when it settled).
# Bounded so that when storage goes away, the copies already queued fail within seconds and
# the backup stops, instead of every file of every running partition waiting out its
# retries first; wide enough that a wave's partitions keep the host's activity slots busy.
COPY_WINDOW = 32
# Room for the file, the attempts and the storage error in a halt message.
MAX_HALT_TEXT = 1000


def _input(context: df.DurableOrchestrationContext, who: str) -> Any:
    try:
        return context.get_input()
    except (ValueError, TypeError) as exc:
        raise JobError(f"{who} input is not JSON: {exc}") from None


def _job(value: Any, who: str) -> Job:
    try:
        return Job.from_input(value)
    except JobError as exc:
        raise JobError(f"{who} input is not valid: {exc}") from None


def _retry(job: Job) -> df.RetryOptions:
    return df.RetryOptions(job.retry_first_interval_ms, job.retry_max_attempts)


def _files(value: Any, who: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise JobError(f"{who}: 'files' must be a list")
    for index, entry in enumerate(value):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("path"), str)
            or not isinstance(entry.get("size"), int)
        ):
            raise JobError(
                f"{who}: files[{index}] must be an object with 'path' (string) and 'size' "
                f"(integer), got {json.dumps(entry)[:200]}"
            )
    return value


def settle_all(
    context: df.DurableOrchestrationContext, tasks: Sequence[TaskBase]
) -> Generator[Any, Any, None]:
    """Wait until every task has succeeded or failed (``task_all`` stops at the first failure).

    Re-yielding the unfinished tasks schedules nothing new, because they are scheduled
    already; it only waits for them. Afterwards each task's ``state`` and ``result`` say how
    it ended.
    """
    pending = list(tasks)
    while pending:
        # A failure ends this wait early; the failed task keeps its exception as its result.
        with contextlib.suppress(Exception):
            yield context.task_all(pending)
        pending = [task for task in pending if not task.is_completed]


def _gave_up(doing: str, attempts: int, error: Any) -> str:
    plural = "" if attempts == 1 else "s"
    return f"{doing} failed after {attempts} attempt{plural}: {task_error(error, MAX_HALT_TEXT)}"


def _halt_reason(path: str, attempts: int, error: Any) -> str:
    return _gave_up(f"copying {echo(path)}", attempts, error)


def _call(
    context: df.DurableOrchestrationContext,
    retry: df.RetryOptions,
    name: str,
    data: Any,
    doing: str,
) -> Generator[Any, Any, Any]:
    """One storage-touching step besides the copies (a run page, the confirmation, the
    snapshot): retried like a copy, and when it still fails after its last attempt the run
    stops the same way, with ``BackupHalted`` naming the step, the attempts and the error."""
    try:
        return (yield context.call_activity_with_retry(name, retry, data))
    except Exception as exc:  # the SDK raises a plain Exception for a task that failed
        raise BackupHalted(_gave_up(doing, retry.max_number_of_attempts, exc)) from None


def partition(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """E2_BackupPartition: copy a slice of the file list, return its summary.

    A backup run (``runId`` and ``index`` in the input) reads its files from the run's copy
    page, and at the end writes what it stored to the run's stored page, for the snapshot.
    Files given inline (``files``) are copied without either page: nothing is recorded.

    Copies run in windows of ``COPY_WINDOW``. A copy that raised after its last attempt
    stops the partition: no new window starts, and once the current one has settled the
    partition fails with ``BackupHalted`` naming the file and the error. Reading or writing
    the page is retried the same way and, when it gives up, fails the partition alike.
    """
    who = function_names.PARTITION_ORCHESTRATOR
    value = _input(context, who)
    if not isinstance(value, dict):
        raise JobError(f"{who} input must be an object with 'job' and 'runId' or 'files'")
    job = _job({**(value.get("job") or {}), "retry": value.get("retry")}, who)
    retry = _retry(job)
    run_id = value.get("runId")
    page: dict[str, Any] | None = None
    if run_id is None:
        files = _files(value.get("files"), who)
    else:
        if not layout.is_run_id(run_id):
            raise JobError(f"{who}: 'runId' is not a run id: {echo(run_id)}")
        index = value.get("index")
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise JobError(f"{who}: 'index' must be a non-negative integer, got {echo(index)}")
        page = {"job": job.descriptor(), "runId": run_id, "index": index}
        listed = yield from _call(
            context,
            retry,
            function_names.READ_PAGE_ACTIVITY,
            page,
            f"reading the files of partition {index}",
        )
        files = _files(listed, who)
    common: dict[str, Any] = {"job": job.descriptor()}
    if value.get("newContainer") is True:
        common["newContainer"] = True
    totals = Totals()
    stored: list[dict[str, Any]] = []
    for window in plan.chunks(files, COPY_WINDOW):
        tasks = [
            context.call_activity_with_retry(
                function_names.COPY_ACTIVITY, retry, {**common, "file": entry}
            )
            for entry in window
        ]
        yield from settle_all(context, tasks)
        halted: str | None = None
        for entry, task in zip(window, tasks, strict=True):
            if task.state is TaskState.SUCCEEDED:
                totals.add_result(entry["path"], entry["size"], task.result)
                kept = manifest.stored_entry(task.result) if page is not None else None
                if kept is not None:
                    stored.append(kept)
            elif halted is None:
                halted = _halt_reason(entry["path"], job.retry_max_attempts, task.result)
        if halted is not None:
            raise BackupHalted(halted)
    if page is not None:
        yield from _call(
            context,
            retry,
            function_names.WRITE_STORED_ACTIVITY,
            {**page, "entries": stored},
            f"recording what partition {index} stored",
        )
    return totals.to_dict()


def _listed(listing: Any) -> dict[str, Any]:
    if not isinstance(listing, dict):
        raise BackupError(
            f"{function_names.LIST_ACTIVITY} returned {type(listing).__name__}, not a listing"
        )
    if listing.get("error"):
        raise BackupError(f"cannot list the files to back up: {listing['error']}")
    if "partitions" in listing:
        keys: tuple[str, ...] = ("partitions", "unchangedPages", "toCopyCount", "toCopyBytes")
    elif isinstance(listing.get("report"), dict):
        keys = ("toCopyCount", "toCopyBytes")  # a dry run: the report, no file list
    else:
        _files(listing.get("files"), function_names.LIST_ACTIVITY)
        keys = ()
    for key in (*keys, "unchangedCount", "unchangedBytes"):
        item = listing.get(key, 0)
        if isinstance(item, bool) or not isinstance(item, int) or item < 0:
            raise BackupError(
                f"{function_names.LIST_ACTIVITY} returned a bad {key!r}: {echo(item)}"
            )
    return listing


def _partition_outcome(task: TaskBase) -> tuple[Totals | None, str | None]:
    """A finished partition's totals, or why it has none (then the backup must stop)."""
    if task.state is not TaskState.SUCCEEDED:
        return None, task_error(task.result, MAX_HALT_TEXT)
    try:
        return Totals.from_dict(task.result), None
    except ValueError as exc:
        return None, f"a partition returned a bad summary: {exc}"


def _halted(reason: str) -> BackupHalted:
    # No count here: a partition that stopped has stored files it could not report, and the
    # custom status already shows what the finished partitions did.
    return BackupHalted(
        f"the backup stopped: {reason}. Run it again once the trouble is over: files already "
        "stored are skipped"
    )


def _halting(step: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    """A step of the backup itself (after the partitions): one that gives up stops the backup
    with the same message, and the same advice, as a partition that gave up."""
    try:
        return (yield from step)
    except BackupHalted as exc:
        raise _halted(str(exc)) from None


@dataclasses.dataclass
class _Run(Progress):
    """A backup's ``resume``: the common progress and the run's validated listing (counts,
    page counts, bounded reports)."""

    listing: dict[str, Any]

    def to_input(self) -> dict[str, Any]:
        return {**self.progress_input(), "listing": self.listing}

    @classmethod
    def from_input(cls, value: Any, who: str) -> _Run:
        common, _ = Progress.read(value, who)
        listing = _listed(value.get("listing"))
        if "partitions" not in listing or common["next"] > listing["partitions"]:
            raise JobError(f"{who}: 'resume.listing' is not the listing of a run in pages")
        return cls(**common, listing=listing)


def _scope(job: Job, listing: dict[str, Any], run_id: str, parts: int) -> Scope:
    to_copy_count, to_copy_bytes = listing["toCopyCount"], listing["toCopyBytes"]
    unchanged_count = listing.get("unchangedCount", 0)
    unchanged_bytes = listing.get("unchangedBytes", 0)
    return Scope(
        container=job.container,
        prefix=job.prefix,
        files_total=to_copy_count + unchanged_count,
        bytes_total=to_copy_bytes + unchanged_bytes,
        skipped_entries=int(listing.get("skippedCount") or 0),
        skipped=tuple(listing.get("skipped") or ()),
        partitions_total=parts,
        rules=listing.get("rules") if isinstance(listing.get("rules"), dict) else None,
        dry_run=job.dry_run,
        run_id=run_id,
    )


def backup(context: df.DurableOrchestrationContext) -> Generator[Any, Any, int | dict[str, Any]]:
    """E2_BackupSiteContent: list, copy in partitions, return the bytes in the backup.

    A dry run (``dryRun`` in the job) stops after the listing and returns the
    ``sitebackup.dryrun`` report instead: nothing is copied.

    A partition that fails (a copy spent its retries on storage trouble) stops the backup:
    no new wave starts, the partitions still running settle, then the orchestration fails
    with that partition's reason.

    A backup with more partitions than one generation holds (``generation_size``) continues
    as new after each generation, with the run's state in the input's ``resume``: the same
    run id, listing and running totals, so progress, output and snapshot are as if one
    history had held it all.
    """
    who = function_names.BACKUP_ORCHESTRATOR
    value = _input(context, who)
    job = _job(value, who)
    retry = _retry(job)
    resume = value.get("resume") if isinstance(value, dict) else None
    if resume is not None:
        run = _Run.from_input(resume, who)
    else:
        run = yield from _list(context, job, retry)
        if not isinstance(run, _Run):
            return run  # a dry run's report, or a listing that returned the files inline
    listing = run.listing
    parts = listing["partitions"]
    scope = _scope(job, listing, run.run_id, parts)
    totals = run.totals
    context.set_custom_status(custom_status(COPYING, scope, totals, run.done))
    if not context.is_replaying and resume is None:
        log.info(
            "%s: run %s: %d files to copy in %d partitions, %d unchanged",
            context.instance_id,
            run.run_id,
            listing["toCopyCount"],
            parts,
            listing.get("unchangedCount", 0),
        )
    child_input = {
        "job": job.descriptor(),
        "retry": job.to_input()["retry"],
        "newContainer": listing.get("containerCreated") is True,
        "runId": run.run_id,
    }
    end = min(parts, run.next + generation_size(job.partition_concurrency))
    run.done = yield from _copy_waves(
        context, job, scope, totals, run.done, range(run.next, end), run.run_id, child_input
    )
    if end < parts:
        run.next = end
        context.continue_as_new({**job.to_input(), "resume": run.to_input()})
        return 0  # not the output: the run goes on in the next generation
    yield from _finish(context, job, retry, scope, totals, run)
    return totals.bytes_backed_up


def _list(
    context: df.DurableOrchestrationContext, job: Job, retry: df.RetryOptions
) -> Generator[Any, Any, _Run | int | dict[str, Any]]:
    """The run's first step: list the tree into the run's pages. Returns the run to copy,
    or (a dry run, or files listed inline) what the backup returns."""
    # From the replay-safe clock and uuid: the same on every replay, new for every run.
    started = context.current_utc_datetime
    run_id = layout.new_run_id(started, context.new_uuid())
    scope = Scope(container=job.container, prefix=job.prefix, run_id=run_id)
    context.set_custom_status(custom_status(LISTING, scope))
    listing_input = job.listing_input()
    if not job.dry_run:
        # A dry run writes nothing: without a run id the listing returns a bounded report.
        listing_input |= {"partitionSize": job.partition_size, "runId": run_id}
    try:
        listing = yield context.call_activity_with_retry(
            function_names.LIST_ACTIVITY, retry, listing_input
        )
    except Exception as exc:  # the SDK raises a plain Exception for a task that failed
        raise BackupHalted(
            f"cannot list the files to back up: {task_error(exc, MAX_HALT_TEXT)}"
        ) from None
    listing = _listed(listing)
    # The files to copy are in the run's copy pages (one per partition), never in this
    # history; files the listing found unchanged are counted as skipped from the start
    # (they are part of the backup's totals and its output).
    totals = Totals()
    totals.add_unchanged(listing.get("unchangedCount", 0), listing.get("unchangedBytes", 0))
    if "partitions" in listing:
        return _Run(run_id, _ms(started), totals, done=0, next=0, listing=listing)
    if "report" in listing:
        # A dry run: the listing built the bounded report while it walked.
        report = listing.get("report")
        if not job.dry_run or not isinstance(report, dict):
            raise BackupError(f"{function_names.LIST_ACTIVITY} returned no dry-run report")
        scope = _scope(job, listing, "", 0)
        context.set_custom_status(custom_status(DONE, scope, totals, 0))
        return report
    return (yield from _copy_inline(context, job, listing, totals, run_id))


def _copy_inline(
    context: df.DurableOrchestrationContext,
    job: Job,
    listing: dict[str, Any],
    totals: Totals,
    run_id: str,
) -> Generator[Any, Any, int]:
    """A listing that returned its files inline (an older listing): partitions get their
    files in their input, and no snapshot is written."""
    parts = plan.partitions(listing["files"], job.partition_size)
    inline = {
        **listing,
        "toCopyCount": len(listing["files"]),
        "toCopyBytes": sum(entry["size"] for entry in listing["files"]),
    }
    scope = _scope(job, inline, "", len(parts))
    context.set_custom_status(custom_status(COPYING, scope, totals, 0))
    child_input = {
        "job": job.descriptor(),
        "retry": job.to_input()["retry"],
        "newContainer": listing.get("containerCreated") is True,
    }
    done = yield from _copy_waves(
        context, job, scope, totals, 0, range(len(parts)), run_id, child_input, parts
    )
    context.set_custom_status(custom_status(DONE, scope, totals, done))
    return totals.bytes_backed_up


def _copy_waves(
    context: df.DurableOrchestrationContext,
    job: Job,
    scope: Scope,
    totals: Totals,
    done: int,
    indexes: range,
    run_id: str,
    child_input: dict[str, Any],
    inline: list[list[dict[str, Any]]] | None = None,
) -> Generator[Any, Any, int]:
    """Run the backup's partitions ``indexes`` in waves; returns the number of partitions
    done. Raises the backup's halt when one failed."""
    done, halted = yield from partition_waves(
        context,
        function_names.PARTITION_ORCHESTRATOR,
        indexes,
        job.partition_concurrency,
        run_id,
        lambda index: (
            {**child_input, "index": index}
            if inline is None
            else {**child_input, "index": index, "files": inline[index]}
        ),
        lambda finished: custom_status(COPYING, scope, totals, finished),
        totals,
        done,
    )
    if halted is not None:
        raise _halted(halted)
    return done


def partition_waves(
    context: df.DurableOrchestrationContext,
    orchestrator: str,
    indexes: range,
    concurrency: int,
    run_id: str,
    child_input: Callable[[int], Any],
    progress: Callable[[int], dict[str, Any]],
    totals: Totals,
    done: int,
) -> Generator[Any, Any, tuple[int, str | None]]:
    """Run the partitions ``indexes`` of a backup or a restore in waves of ``concurrency``,
    adding their summaries to ``totals`` and publishing ``progress(done)`` as each ends.

    Returns the partitions done and, when one failed, why: then no wave starts after the one
    it failed in, which has settled, so every partition's outcome is in and no copy is left
    running that the counts would miss.
    """
    halted: str | None = None
    for wave in plan.chunks(indexes, concurrency):
        pending = [
            context.call_sub_orchestrator(
                orchestrator,
                child_input(index),
                # Derived from ours, so terminating or purging the run can find it.
                instance_id=children.partition_id(context.instance_id, run_id, index),
            )
            for index in wave
        ]
        while pending:
            # task_any returns as each partition ends, so progress moves per partition.
            yield context.task_any(pending)
            for task in [task for task in pending if task.is_completed]:
                summary, problem = _partition_outcome(task)
                if summary is not None:
                    totals.merge(summary)
                    done += 1
                elif halted is None:
                    halted = problem
            pending = [task for task in pending if not task.is_completed]
            context.set_custom_status(progress(done))
        if halted is not None:
            return done, halted
    return done, None


def _finish(
    context: df.DurableOrchestrationContext,
    job: Job,
    retry: df.RetryOptions,
    scope: Scope,
    totals: Totals,
    run: _Run,
) -> Generator[Any, Any, None]:
    """After the last partition: confirm in storage, write the snapshot, prune."""
    parts = run.listing["partitions"]
    # Storage may have lost acknowledged writes (an emulator killed at the wrong
    # moment): confirm every file of the run by size and MD5 before calling it done.
    context.set_custom_status(custom_status(CONFIRMING, scope, totals, run.done))
    pages = {
        "job": job.descriptor(),
        "runId": run.run_id,
        "partitions": parts,
        "unchangedPages": run.listing["unchangedPages"],
    }
    confirmation = yield from _halting(
        _call(
            context,
            retry,
            function_names.CONFIRM_ACTIVITY,
            pages,
            "confirming the backup in storage",
        )
    )
    totals.add_confirmation(confirmation)
    # Written last: a run that stopped before this point leaves no snapshot.
    ended = context.current_utc_datetime
    yield from _halting(
        _call(
            context,
            retry,
            function_names.WRITE_SNAPSHOT_ACTIVITY,
            {
                **pages,
                "startedMs": run.started_ms,
                "endedMs": _ms(ended),
                "failed": totals.files_failed,
                # The confirmation's pages of lost entries: the snapshot leaves them out.
                "lostPages": confirmation.get("lostPages", 0)
                if isinstance(confirmation, dict)
                else 0,
            },
            "writing the snapshot",
        )
    )
    if job.retention is not None:
        context.set_custom_status(custom_status(PRUNING, scope, totals, run.done))
        scope = dataclasses.replace(scope, retention=(yield from _prune(context, job, run.run_id)))
    context.set_custom_status(custom_status(DONE, scope, totals, run.done))


def _prune(
    context: df.DurableOrchestrationContext, job: Job, run_id: str
) -> Generator[Any, Any, dict]:
    """Apply the job's retention policy to its destination, as a sub-orchestration.

    Run here, inside the backup's instance, because a prune shares the destination's instance
    id with its backups (the two never run side by side): whoever starts a backup cannot
    start the prune beside it. A failed prune does not fail the backup, whose snapshot is
    written: the status says why, and the next run prunes again.
    """
    if job.retention is None:
        return {}
    prune_input = {
        "container": job.container,
        "prefix": job.prefix,
        "policy": job.retention.to_json(),
        "dryRun": False,
        "retry": job.to_input()["retry"],
    }
    try:
        report = yield context.call_sub_orchestrator(
            function_names.PRUNE_ORCHESTRATOR,
            prune_input,
            # Derived from ours, so terminating or purging this backup can find it.
            instance_id=children.prune_id(context.instance_id, run_id),
        )
    except Exception as exc:  # the SDK raises a plain Exception for a failed sub-orchestration
        return {"policy": job.retention.describe(), "error": task_error(exc, MAX_HALT_TEXT)}
    report = report if isinstance(report, dict) else {}
    return {
        "policy": job.retention.describe(),
        "kept": len(report.get("kept") or []),
        "dropped": len(report.get("dropped") or []),
        "blobsDeleted": report.get("blobsDeleted", 0),
        "snapshotsDeleted": report.get("snapshotsDeleted", 0),
        "bytesFreed": report.get("bytesFreed", 0),
    }


def _ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)
