"""E2_PruneSnapshots: apply a retention policy to one destination's snapshots.

1. E2_PlanPrune decides which snapshots the policy keeps (their number is small: one per
   run, never one per file).
2. E2_DropSnapshots deletes the headers of the others first: from then on no restore can
   pick them, so nothing it would read is about to disappear.
3. E2_SweepContent pages through the backup's blobs and snapshots, deleting what no kept
   snapshot needs; E2_SweepRuns does the same for run pages in the meta container. Each call
   handles a few listing pages and returns a marker, so the history holds counts only.

A dry run plans and sweeps without deleting anything and reports what would go. The output
(and the final custom status) is the report: kept and dropped snapshots, counts, bytes, and a
sample of what went. Deterministic: only the input and activity results are read.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from sitebackup import function_names
from sitebackup.errors import BackupHalted, JobError
from sitebackup.prune.job import PruneJob
from sitebackup.summary import task_error

MAX_SAMPLE = 50
MAX_ERROR = 1000


def _call(context, retry, name: str, data: Any, doing: str) -> Generator[Any, Any, Any]:
    try:
        return (yield context.call_activity_with_retry(name, retry, data))
    except Exception as exc:  # the SDK raises a plain Exception for a task that failed
        raise BackupHalted(f"{doing}: {task_error(exc, MAX_ERROR)}") from None


def _status(phase: str, report: dict[str, Any]) -> dict[str, Any]:
    return {"phase": phase, **{k: v for k, v in report.items() if k != "sample"}}


def prune(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    who = function_names.PRUNE_ORCHESTRATOR
    try:
        value = context.get_input()
    except (ValueError, TypeError) as exc:
        raise JobError(f"{who} input is not JSON: {exc}") from None
    try:
        job = PruneJob.from_input(value)
    except JobError as exc:
        raise JobError(f"{who} input is not valid: {exc}") from None
    retry = df.RetryOptions(job.retry_first_interval_ms, job.retry_max_attempts)
    common = {"job": job.descriptor()}
    report: dict[str, Any] = {
        "dryRun": job.dry_run,
        "container": job.container,
        "prefix": job.prefix,
        "policy": job.policy.describe(),
        "kept": [],
        "dropped": [],
        "blobsDeleted": 0,
        "snapshotsDeleted": 0,
        "pagesDeleted": 0,
        "bytesFreed": 0,
        "sample": [],
    }
    context.set_custom_status(_status("planning", report))
    planned = yield from _call(
        context, retry, function_names.PLAN_PRUNE_ACTIVITY, common, "cannot plan the prune"
    )
    snapshots = planned.get("snapshots") if isinstance(planned, dict) else None
    if not isinstance(snapshots, list):
        raise BackupHalted(f"{function_names.PLAN_PRUNE_ACTIVITY} returned no plan")
    report["kept"] = [item["id"] for item in snapshots if item.get("keep")]
    report["dropped"] = [item["id"] for item in snapshots if not item.get("keep")]
    if not snapshots:
        context.set_custom_status(_status("done", report))
        return report
    if not job.dry_run and report["dropped"]:
        context.set_custom_status(_status("dropping", report))
        yield from _call(
            context,
            retry,
            function_names.DROP_SNAPSHOTS_ACTIVITY,
            {**common, "ids": report["dropped"]},
            "cannot drop the expired snapshots",
        )
    sweep_input = {**common, "kept": report["kept"], "cutoffMs": planned.get("cutoffMs", 0)}
    for phase, name, doing in (
        ("content", function_names.SWEEP_CONTENT_ACTIVITY, "cannot delete unneeded content"),
        ("pages", function_names.SWEEP_RUNS_ACTIVITY, "cannot delete unneeded run pages"),
    ):
        marker = None
        while True:
            context.set_custom_status(_status(phase, report))
            swept = yield from _call(context, retry, name, {**sweep_input, "marker": marker}, doing)
            if phase == "content":
                report["blobsDeleted"] += swept["blobs"]
                report["snapshotsDeleted"] += swept["snapshots"]
                room = MAX_SAMPLE - len(report["sample"])
                report["sample"].extend(swept["sample"][: max(room, 0)])
            else:
                report["pagesDeleted"] += swept["pages"]
            report["bytesFreed"] += swept["bytes"]
            marker = swept.get("marker")
            if not marker:
                break
    context.set_custom_status(_status("done", report))
    return report
