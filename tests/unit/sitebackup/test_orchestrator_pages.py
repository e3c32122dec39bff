"""A backup run's pages, driven through the real SDK with hand-built histories: the parent
passes only counts and indexes, a partition reads its page and records what it stored, the
snapshot is written last and only when nothing stopped the run."""

from __future__ import annotations

import base64
import hashlib
import json

import E2_BackupPartition
from sitebackup import function_names as names
from tests.unit.sitebackup.episodes import Episodes
from tests.unit.sitebackup.test_orchestrator import JOB, backup

RUN_ID = "20240101T000000Z-abcdef012345"


def paged_listing(to_copy: int, partitions: int, unchanged: int = 0) -> dict:
    return {
        "root": JOB.root,
        "filesTotal": to_copy + unchanged,
        "bytesTotal": 10 * (to_copy + unchanged),
        "skipped": [],
        "skippedCount": 0,
        "unchangedCount": unchanged,
        "unchangedBytes": 10 * unchanged,
        "containerCreated": False,
        "error": None,
        "runId": RUN_ID,
        "partitions": partitions,
        "unchangedPages": 1 if unchanged else 0,
        "toCopyCount": to_copy,
        "toCopyBytes": 10 * to_copy,
    }


def summary(count: int) -> dict:
    return {
        "filesDone": count,
        "filesCopied": count,
        "filesSkipped": 0,
        "filesFailed": 0,
        "bytesDone": 10 * count,
        "bytesCopied": 10 * count,
        "bytesBackedUp": 10 * count,
        "failed": [],
    }


def test_partitions_get_an_index_not_files_and_the_snapshot_comes_last():
    run = backup()
    state = run.run()
    run_id = json.loads(state.atomic_actions()[0]["input"])["runId"]
    run.close(run.scheduled(0, names.LIST_ACTIVITY))
    run.open(run.completed(0, {**paged_listing(60, 2, unchanged=5), "runId": run_id}))
    state = run.run()
    subs = [a for a in state.atomic_actions() if a["actionType"] == 2]
    inputs = [json.loads(a["input"]) for a in subs]
    assert [i["index"] for i in inputs] == [0, 1]
    assert all("files" not in i and i["runId"] == run_id for i in inputs)
    assert state.custom_status["runId"] == run_id
    assert state.custom_status["filesTotal"] == 65

    run.close(
        run.sub_created(1, names.PARTITION_ORCHESTRATOR),
        run.sub_created(2, names.PARTITION_ORCHESTRATOR),
    )
    run.open(run.sub_completed(1, summary(30)), run.sub_completed(2, summary(30)))
    state = run.run()
    # After the copies, the run confirms them in storage, then writes its snapshot.
    assert state.atomic_actions()[-1]["functionName"] == names.CONFIRM_ACTIVITY
    run.close(run.scheduled(3, names.CONFIRM_ACTIVITY))
    run.open(run.completed(3, {"confirmed": 65, "missing": 0, "mismatched": 0}))
    state = run.run()
    assert not state.done  # the snapshot is not written yet
    (write,) = [
        a for a in state.atomic_actions() if a.get("functionName") == names.WRITE_SNAPSHOT_ACTIVITY
    ]
    sent = json.loads(write["input"])
    assert (sent["runId"], sent["partitions"], sent["unchangedPages"], sent["failed"]) == (
        run_id,
        2,
        1,
        0,
    )
    assert sent["startedMs"] <= sent["endedMs"]

    run.close(run.scheduled(4, names.WRITE_SNAPSHOT_ACTIVITY))
    run.open(run.completed(4, {"runId": run_id, "files": 65}))
    state = run.run()
    assert state.done and state.error is None and state.output == 650


def test_a_stopped_backup_writes_no_snapshot():
    run = backup()
    run.run()
    run.close(run.scheduled(0, names.LIST_ACTIVITY))
    run.open(run.completed(0, paged_listing(60, 1)))
    run.run()
    run.close(run.sub_created(1, names.PARTITION_ORCHESTRATOR))
    run.open(run.sub_failed(1, "copying 'x' failed after 2 attempts: storage down"))
    state = run.run()
    assert state.error and "the backup stopped" in state.error
    names_scheduled = {a.get("functionName") for a in state.atomic_actions()}
    assert names.WRITE_SNAPSHOT_ACTIVITY not in names_scheduled


def md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def test_a_partition_reads_its_page_and_records_what_it_stored():
    run = Episodes(
        E2_BackupPartition.main,
        names.PARTITION_ORCHESTRATOR,
        {
            "job": JOB.descriptor(),
            "retry": {"firstIntervalMs": 1000, "maxAttempts": 2},
            "runId": RUN_ID,
            "index": 3,
        },
        instance_id="0" * 32 + ":4",
    )
    (read,) = run.run().atomic_actions()
    assert read["functionName"] == names.READ_PAGE_ACTIVITY
    assert json.loads(read["input"]) == {"job": JOB.descriptor(), "runId": RUN_ID, "index": 3}

    files = [{"path": f"f{i}", "size": 3, "mtimeNs": 7} for i in range(3)]
    run.close(run.scheduled(0, names.READ_PAGE_ACTIVITY))
    run.open(run.completed(0, files))
    copies = run.run().atomic_actions()[1:]
    assert [json.loads(a["input"])["file"] for a in copies] == files

    run.close(*(run.scheduled(i + 1, names.COPY_ACTIVITY) for i in range(3)))
    results = [
        {
            "path": "f0",
            "status": "copied",
            "bytes": 3,
            "error": None,
            "mtimeNs": 7,
            "md5": md5(b"abc"),
        },
        {
            "path": "f1",
            "status": "skipped",
            "bytes": 3,
            "error": None,
            "mtimeNs": 7,
            "md5": md5(b"def"),
        },
        {"path": "f2", "status": "failed", "bytes": 0, "error": "vanished"},
    ]
    run.open(*(run.completed(i + 1, result) for i, result in enumerate(results)))
    (write,) = run.run().atomic_actions()[4:]
    assert write["functionName"] == names.WRITE_STORED_ACTIVITY
    sent = json.loads(write["input"])
    assert (sent["runId"], sent["index"]) == (RUN_ID, 3)
    # The failed file is not in the snapshot; the others with what their blobs hold.
    assert sent["entries"] == [
        {"path": "f0", "size": 3, "mtimeNs": 7, "md5": md5(b"abc")},
        {"path": "f1", "size": 3, "mtimeNs": 7, "md5": md5(b"def")},
    ]
    run.close(run.scheduled(4, names.WRITE_STORED_ACTIVITY))
    run.open(run.completed(4, 2))
    state = run.run()
    assert state.done and state.output["filesFailed"] == 1 and state.output["filesCopied"] == 1


META_DOWN = (
    "StorageError: reading 'backups/www/runs/x/copy-00003.jsonl.gz': the storage service "
    "could not be reached (ServiceRequestError: Connection refused)"
)


def paged_partition(max_attempts: int = 2) -> Episodes:
    return Episodes(
        E2_BackupPartition.main,
        names.PARTITION_ORCHESTRATOR,
        {
            "job": JOB.descriptor(),
            "retry": {"firstIntervalMs": 1000, "maxAttempts": max_attempts},
            "runId": RUN_ID,
            "index": 3,
        },
        instance_id="0" * 32 + ":4",
    )


def give_up(run: Episodes, task_id: int, name: str, message: str = META_DOWN) -> None:
    """Attempt ``task_id`` of ``name`` fails; its retry (``task_id + 2``) fails as well."""
    run.close(run.scheduled(task_id, name))
    run.open(run.failed(task_id, name, message))
    state = run.run()
    # Not given up after one failure: the job's retry policy is in the action.
    assert not state.done and state.error is None, state.error
    created, fired = run.timer(task_id + 1, run.tick())
    run.close(created)
    run.open(fired)
    run.run()
    run.close(run.scheduled(task_id + 2, name))
    run.open(run.failed(task_id + 2, name, message))
    run.run()
    # After the last attempt the SDK waits on one more (immediate) timer before giving up.
    created, fired = run.timer(task_id + 3, run.now)
    run.close(created)
    run.open(fired)


def test_a_partition_whose_page_cannot_be_read_retries_then_stops_naming_the_storage_error():
    run = paged_partition()
    (read,) = run.run().atomic_actions()
    assert read["functionName"] == names.READ_PAGE_ACTIVITY
    assert read["retryOptions"] == {
        "firstRetryIntervalInMilliseconds": 1000,
        "maxNumberOfAttempts": 2,
    }
    give_up(run, 0, names.READ_PAGE_ACTIVITY)
    state = run.run()
    assert state.error == f"reading the files of partition 3 failed after 2 attempts: {META_DOWN}"
    assert names.COPY_ACTIVITY not in {a.get("functionName") for a in state.atomic_actions()}


def test_a_partition_that_cannot_record_what_it_stored_retries_then_stops():
    run = paged_partition()
    run.run()
    run.close(run.scheduled(0, names.READ_PAGE_ACTIVITY))
    run.open(run.completed(0, [{"path": "f0", "size": 3, "mtimeNs": 7}]))
    run.run()
    run.close(run.scheduled(1, names.COPY_ACTIVITY))
    stored = {"path": "f0", "status": "copied", "bytes": 3, "error": None, "mtimeNs": 7}
    run.open(run.completed(1, {**stored, "md5": md5(b"abc")}))
    (write,) = run.run().atomic_actions()[2:]
    assert write["functionName"] == names.WRITE_STORED_ACTIVITY
    assert write["retryOptions"]["maxNumberOfAttempts"] == 2
    give_up(run, 2, names.WRITE_STORED_ACTIVITY)
    state = run.run()
    assert state.error == f"recording what partition 3 stored failed after 2 attempts: {META_DOWN}"


def copied_everything(run: Episodes) -> None:
    """The listing and one partition complete; the confirmation (id 2) is scheduled next."""
    run.run()
    run.close(run.scheduled(0, names.LIST_ACTIVITY))
    run.open(run.completed(0, paged_listing(30, 1)))
    run.run()
    run.close(run.sub_created(1, names.PARTITION_ORCHESTRATOR))
    run.open(run.sub_completed(1, summary(30)))


def test_a_confirmation_that_gives_up_stops_the_backup_without_a_snapshot():
    run = backup()  # two attempts per step
    copied_everything(run)
    (confirm,) = [
        a for a in run.run().atomic_actions() if a.get("functionName") == names.CONFIRM_ACTIVITY
    ]
    assert confirm["retryOptions"]["maxNumberOfAttempts"] == 2
    give_up(run, 2, names.CONFIRM_ACTIVITY)
    state = run.run()
    assert state.error.startswith(
        f"the backup stopped: confirming the backup in storage failed after 2 attempts: "
        f"{META_DOWN}. Run it again"
    ), state.error
    assert names.WRITE_SNAPSHOT_ACTIVITY not in {
        a.get("functionName") for a in state.atomic_actions()
    }


def test_a_snapshot_that_cannot_be_written_stops_the_backup_naming_the_storage_error():
    run = backup()  # two attempts per step
    copied_everything(run)
    run.run()
    run.close(run.scheduled(2, names.CONFIRM_ACTIVITY))
    run.open(run.completed(2, {"confirmed": 30, "missing": 0, "mismatched": 0}))
    (write,) = [
        a
        for a in run.run().atomic_actions()
        if a.get("functionName") == names.WRITE_SNAPSHOT_ACTIVITY
    ]
    assert write["retryOptions"]["maxNumberOfAttempts"] == 2
    give_up(run, 3, names.WRITE_SNAPSHOT_ACTIVITY)
    state = run.run()
    assert state.error.startswith(
        f"the backup stopped: writing the snapshot failed after 2 attempts: {META_DOWN}. "
        "Run it again"
    ), state.error
