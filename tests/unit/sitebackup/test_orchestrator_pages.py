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
