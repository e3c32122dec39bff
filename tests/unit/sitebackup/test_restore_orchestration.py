"""E2_RestoreSnapshot and E2_RestorePartition on the real SDK, with activities played here.

The in-memory driver replays the orchestrators episode by episode; the activities are plain
functions, so each test decides what every file's download returns (or raises).
"""

from __future__ import annotations

import json

import E2_RestorePartition
import E2_RestoreSnapshot
from devhost.contracts import RuntimeStatus
from sitebackup import function_names as fn
from sitebackup.restore.job import RestoreJob
from tests.support.driver import Driver

JOB = RestoreJob(
    container="backups",
    prefix="www",
    snapshot="run-1",
    target="/srv/restores/www",
    partition_size=3,
    partition_concurrency=2,
    retry_first_interval_ms=1000,
    retry_max_attempts=2,
)
PAGES = [[f"p{page}/f{i}.txt" for i in range(count)] for page, count in enumerate((5, 2))]


SLICES = [[0, 0, 3], [0, 3, 2], [1, 0, 2]]
# The plan pages the fake prepare wrote, by run (the meta container of these tests).
PLANS: dict[str, list[list[int]]] = {}


def prepare(job):
    PLANS[job["run"]] = SLICES
    return {"error": None, "filesTotal": 7, "bytesTotal": 70, "partitions": len(SLICES)}


def read_slice(value):
    page, start, count = PLANS[value["run"]][value["index"]]
    return {"files": [{"path": p, "size": 10} for p in PAGES[page][start : start + count]]}


def driver(restore_file, finish=None, prepare_fn=prepare) -> tuple[Driver, list]:
    finished: list = []

    def finish_fn(job):
        finished.append(job)
        return {"removed": 0, "error": None}

    run = Driver(
        {
            fn.RESTORE_ORCHESTRATOR: E2_RestoreSnapshot.main,
            fn.RESTORE_PARTITION_ORCHESTRATOR: E2_RestorePartition.main,
        },
        {
            fn.PREPARE_RESTORE_ACTIVITY: prepare_fn,
            fn.READ_RESTORE_PAGE_ACTIVITY: read_slice,
            fn.RESTORE_FILE_ACTIVITY: restore_file,
            fn.FINISH_RESTORE_ACTIVITY: finish or finish_fn,
        },
    )
    return run, finished


def test_files_are_counted_per_outcome_and_the_output_is_the_bytes_in_place() -> None:
    def restore_file(value):
        path = value["file"]["path"]
        status = {"p0/f1.txt": "skipped", "p1/f1.txt": "failed"}.get(path, "restored")
        error = "refused: the name contains a '..' segment" if status == "failed" else None
        return {"path": path, "status": status, "bytes": 0 if error else 10, "error": error}

    run, finished = driver(restore_file)
    instance_id = run.start(fn.RESTORE_ORCHESTRATOR, JOB.to_input())
    run.run()

    instance = run.instance(instance_id)
    assert instance.status is RuntimeStatus.COMPLETED, instance.output
    assert instance.output_value == 60  # 5 restored + 1 already there, 10 bytes each
    status = json.loads(instance.custom_status)
    assert status["phase"] == "done"
    assert (status["filesTotal"], status["filesDone"]) == (7, 7)
    assert (status["filesCopied"], status["filesSkipped"], status["filesFailed"]) == (5, 1, 1)
    assert (status["partitionsTotal"], status["partitionsDone"]) == (3, 3)
    assert status["failed"] == [
        {"path": "p1/f1.txt", "error": "refused: the name contains a '..' segment"}
    ]
    assert len(finished) == 1
    downloads = [call for call in run.activity_calls if call[0] == fn.RESTORE_FILE_ACTIVITY]
    assert len(downloads) == 7


def test_storage_trouble_on_every_attempt_stops_the_restore_with_the_reason() -> None:
    def restore_file(value):
        if value["file"]["path"] == "p0/f3.txt":
            raise RuntimeError("downloading 'www/p0/f3.txt': storage request failed (HTTP 503)")
        return {"path": value["file"]["path"], "status": "restored", "bytes": 10, "error": None}

    run, finished = driver(restore_file)
    instance_id = run.start(fn.RESTORE_ORCHESTRATOR, JOB.to_input())
    run.run()

    instance = run.instance(instance_id)
    assert instance.status is RuntimeStatus.FAILED
    assert "the restore stopped" in instance.output
    assert "'p0/f3.txt' failed after 2 attempts" in instance.output
    assert "HTTP 503" in instance.output
    attempts = [
        call
        for call in run.activity_calls
        if call[0] == fn.RESTORE_FILE_ACTIVITY and "p0/f3.txt" in json.dumps(call[1])
    ]
    assert len(attempts) == 2
    assert finished == []


def test_a_refused_target_fails_the_restore_before_any_download() -> None:
    def refuse(job):
        return {"error": "cannot restore into '/srv/x': the target is outside the restore roots"}

    run, _ = driver(lambda value: {}, prepare_fn=refuse)
    instance_id = run.start(fn.RESTORE_ORCHESTRATOR, JOB.to_input())
    run.run()

    instance = run.instance(instance_id)
    assert instance.status is RuntimeStatus.FAILED
    assert "outside the restore roots" in instance.output
    assert [call[0] for call in run.activity_calls] == [fn.PREPARE_RESTORE_ACTIVITY]
