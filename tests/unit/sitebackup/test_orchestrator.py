"""E2_BackupSiteContent and E2_BackupPartition driven by the real SDK with hand-built histories."""

from __future__ import annotations

import json
from datetime import timedelta

import E2_BackupPartition
import E2_BackupSiteContent
from sitebackup import function_names
from sitebackup.job import Job
from sitebackup.orchestration import COPY_WINDOW
from tests.unit.sitebackup.episodes import Episodes

JOB = Job(
    root="/srv/www",
    container="backups",
    prefix="www",
    partition_size=50,
    partition_concurrency=2,
    retry_first_interval_ms=1000,
    retry_max_attempts=2,
)


def files(count: int, size: int = 10) -> list[dict]:
    return [{"path": f"d/f{i:04d}.txt", "size": size, "mtimeNs": 1} for i in range(count)]


def listing(entries: list[dict], skipped: int = 0, unchanged: tuple[int, int] = (0, 0)) -> dict:
    count, size = unchanged
    return {
        "root": JOB.root,
        "files": entries,
        "filesTotal": len(entries) + count,
        "bytesTotal": sum(e["size"] for e in entries) + size,
        "skipped": [{"path": f"link{i}", "reason": "symlink loop"} for i in range(skipped)],
        "skippedCount": skipped,
        "unchangedCount": count,
        "unchangedBytes": size,
        "containerCreated": count == 0,
        "error": None,
    }


def partition_summary(count: int, size: int = 10, skipped: int = 0) -> dict:
    return {
        "filesDone": count,
        "filesCopied": count - skipped,
        "filesSkipped": skipped,
        "filesFailed": 0,
        "bytesDone": count * size,
        "bytesCopied": (count - skipped) * size,
        "bytesBackedUp": count * size,
        "failed": [],
    }


def backup(job: Job = JOB) -> Episodes:
    return Episodes(E2_BackupSiteContent.main, function_names.BACKUP_ORCHESTRATOR, job.to_input())


def listed(run: Episodes, entries: list[dict], skipped: int = 0, unchanged=(0, 0)):
    """Episodes 1-2: the listing is scheduled (id 0) and completes."""
    run.run()
    run.close(run.scheduled(0, function_names.LIST_ACTIVITY))
    run.open(run.completed(0, listing(entries, skipped, unchanged)))
    return run.run()


def test_first_episode_schedules_the_listing_with_retry_and_reports_listing():
    state = backup().run()

    assert not state.done and state.error is None
    (action,) = state.atomic_actions()
    assert action["actionType"] == 1  # CallActivityWithRetry
    assert action["functionName"] == function_names.LIST_ACTIVITY
    sent = json.loads(action["input"])
    # The run id comes from the replay-safe clock (T0) and uuid: the snapshot's name.
    assert sent.pop("runId").startswith("20240101T000000Z-")
    assert sent == {**JOB.listing_input(), "partitionSize": 50}
    assert action["retryOptions"] == {
        "firstRetryIntervalInMilliseconds": 1000,
        "maxNumberOfAttempts": 2,
    }
    assert state.custom_status["phase"] == "listing"
    assert state.custom_status["container"] == "backups"
    assert state.custom_status["prefix"] == "www"


def test_a_listed_tree_is_fanned_out_in_partitions_one_wave_at_a_time():
    state = listed(backup(), files(120), skipped=3)

    subs = [a for a in state.atomic_actions() if a["actionType"] == 2]
    # 120 files, at most 50 per partition -> 50 + 50 + 20; two partitions per wave.
    assert len(subs) == 2
    assert {a["functionName"] for a in subs} == {function_names.PARTITION_ORCHESTRATOR}
    inputs = [json.loads(a["input"]) for a in subs]
    assert [len(i["files"]) for i in inputs] == [50, 50]
    assert [i["index"] for i in inputs] == [0, 1]
    assert inputs[0]["files"][0] == files(1)[0]
    assert inputs[0]["job"] == JOB.descriptor()
    assert inputs[0]["retry"] == {"firstIntervalMs": 1000, "maxAttempts": 2}
    assert inputs[0]["newContainer"] is True  # the listing created the container
    status = state.custom_status
    assert status["phase"] == "copying"
    assert status["filesTotal"] == 120 and status["bytesTotal"] == 1200
    assert status["filesDone"] == 0 and status["partitionsTotal"] == 3
    assert status["skippedEntries"] == 3 and len(status["skipped"]) == 3


def test_partition_completions_are_summed_and_reported_until_the_output():
    run = backup()
    listed(run, files(120))
    run.close(
        run.sub_created(1, function_names.PARTITION_ORCHESTRATOR),
        run.sub_created(2, function_names.PARTITION_ORCHESTRATOR),
    )

    run.open(run.sub_completed(2, partition_summary(50, skipped=10)))
    state = run.run()
    assert not state.done
    assert state.custom_status["filesDone"] == 50
    assert state.custom_status["filesSkipped"] == 10
    assert state.custom_status["partitionsDone"] == 1
    assert not [a for a in state.atomic_actions() if a["actionType"] == 2][2:]  # no new wave yet

    run.close()
    run.open(run.sub_completed(1, partition_summary(50)))
    state = run.run()
    subs = [a for a in state.atomic_actions() if a["actionType"] == 2]
    assert len(subs) == 3  # the second wave: the last 20 files
    assert len(json.loads(subs[2]["input"])["files"]) == 20
    assert state.custom_status["filesDone"] == 100 and state.custom_status["bytesDone"] == 1000

    run.close(run.sub_created(3, function_names.PARTITION_ORCHESTRATOR))
    run.open(run.sub_completed(3, partition_summary(20)))
    state = run.run()
    assert state.done and state.error is None
    assert state.output == 1200
    status = state.custom_status
    assert status["phase"] == "done"
    assert (status["filesDone"], status["filesCopied"], status["filesSkipped"]) == (120, 110, 10)
    assert status["bytesDone"] == status["bytesTotal"] == 1200
    assert status["partitionsDone"] == 3


def test_an_empty_tree_completes_with_zero():
    state = listed(backup(), [])

    assert state.done and state.error is None
    assert state.output == 0
    assert state.custom_status["phase"] == "done"
    assert state.custom_status["filesTotal"] == 0


def test_files_the_listing_found_unchanged_count_as_skipped_without_copies():
    # 60 files to copy (one new), 940 unchanged of 7 bytes: only the 60 are scheduled.
    to_copy = [{**files(1)[0], "new": True}, *files(60)[1:]]
    run = backup()
    state = listed(run, to_copy, unchanged=(940, 6580))

    subs = [a for a in state.atomic_actions() if a["actionType"] == 2]
    inputs = [json.loads(a["input"]) for a in subs]
    assert sum(len(i["files"]) for i in inputs) == 60
    assert inputs[0]["files"][0]["new"] is True
    assert inputs[0]["newContainer"] is False
    status = state.custom_status
    assert (status["filesTotal"], status["bytesTotal"]) == (1000, 600 + 6580)
    assert (status["filesDone"], status["filesSkipped"], status["bytesDone"]) == (940, 940, 6580)
    assert status["bytesBackedUp"] == 6580 and status["filesCopied"] == 0

    run.close(
        run.sub_created(1, function_names.PARTITION_ORCHESTRATOR),
        run.sub_created(2, function_names.PARTITION_ORCHESTRATOR),
    )
    run.open(
        run.sub_completed(1, partition_summary(50)), run.sub_completed(2, partition_summary(10))
    )
    state = run.run()
    assert state.done and state.error is None
    assert state.output == 600 + 6580  # copied + unchanged
    status = state.custom_status
    assert (status["filesDone"], status["filesCopied"], status["filesSkipped"]) == (1000, 60, 940)
    assert status["bytesDone"] == status["bytesTotal"]


def test_a_rerun_with_nothing_changed_completes_without_a_partition():
    state = listed(backup(), [], unchanged=(2000, 32_000_000))

    assert state.done and state.error is None
    assert not [a for a in state.atomic_actions() if a["actionType"] == 2]
    assert state.output == 32_000_000
    status = state.custom_status
    assert status["phase"] == "done" and status["partitionsTotal"] == 0
    assert status["filesTotal"] == status["filesDone"] == status["filesSkipped"] == 2000
    assert status["bytesTotal"] == status["bytesDone"] == 32_000_000


def test_a_listing_with_a_bad_unchanged_count_fails_clearly():
    run = backup()
    run.run()
    run.close(run.scheduled(0, function_names.LIST_ACTIVITY))
    run.open(run.completed(0, {**listing([]), "unchangedCount": -1}))
    state = run.run()
    assert state.error is not None and "'unchangedCount'" in state.error


STORAGE_DOWN = (
    "StorageError: uploading 'www/d/f0051.txt': the storage service could not be reached "
    "(ServiceRequestError: Connection refused)"
)


def test_a_failed_partition_stops_the_backup_once_the_wave_has_settled():
    run = backup()
    listed(run, files(120))  # partitions of 50, 50 and 20; two per wave
    run.close(
        run.sub_created(1, function_names.PARTITION_ORCHESTRATOR),
        run.sub_created(2, function_names.PARTITION_ORCHESTRATOR),
    )
    run.open(
        run.sub_failed(
            2,
            "Orchestrator function 'E2_BackupPartition' failed: copying 'd/f0051.txt' failed "
            f"after 2 attempts: {STORAGE_DOWN}",
        )
    )
    state = run.run()
    # The other partition of the wave is still copying: it settles before the backup fails.
    assert not state.done and state.error is None
    assert len([a for a in state.atomic_actions() if a["actionType"] == 2]) == 2

    run.close()
    run.open(run.sub_completed(1, partition_summary(50, skipped=5)))
    state = run.run()

    assert state.error is not None and not state.done
    assert state.error.startswith("the backup stopped: copying 'd/f0051.txt' failed after 2 ")
    assert "the storage service could not be reached" in state.error
    assert state.error.endswith(
        "Run it again once the trouble is over: files already stored are skipped"
    )
    assert "Orchestrator function" not in state.error  # the reason, not the wrapping
    # No new wave was started, and the status keeps what the finished partition did.
    assert len([a for a in state.atomic_actions() if a["actionType"] == 2]) == 2
    status = state.custom_status
    assert status["phase"] == "copying"
    assert (status["filesDone"], status["filesSkipped"], status["filesFailed"]) == (50, 5, 0)
    assert status["partitionsDone"] == 1 and status["partitionsTotal"] == 3


def test_a_partition_with_a_bad_summary_stops_the_backup():
    run = backup(Job(root="/srv/www", prefix="www", partition_size=50, partition_concurrency=4))
    listed(run, files(20))
    run.close(run.sub_created(1, function_names.PARTITION_ORCHESTRATOR))
    run.open(run.sub_completed(1, {"filesDone": -1}))
    state = run.run()

    assert "a partition returned a bad summary" in state.error
    assert "'filesDone' is not a count" in state.error


def test_a_listing_that_spends_its_retries_fails_the_backup_with_the_storage_error():
    run = backup(Job(root="/srv/www", prefix="www", retry_max_attempts=1))
    run.run()
    run.close(run.scheduled(0, function_names.LIST_ACTIVITY))
    run.open(
        run.failed(
            0,
            function_names.LIST_ACTIVITY,
            "StorageError: creating container 'backups': storage refused access; check the "
            "backup storage setting and its permissions (HTTP 403 AuthenticationFailed)",
        )
    )
    run.run()
    # The SDK waits on one more (immediate) timer after the last attempt.
    created, fired = run.timer(1, run.now)
    run.close(created)
    run.open(fired)
    state = run.run()

    assert state.error.startswith(
        "cannot list the files to back up: StorageError: creating container 'backups': "
        "storage refused access"
    ), state.error
    assert "Activity function" not in state.error and "System.Exception" not in state.error


def test_a_listing_error_fails_the_backup_with_the_reason():
    run = backup()
    run.run()
    run.close(run.scheduled(0, function_names.LIST_ACTIVITY))
    run.open(run.completed(0, {"error": "cannot back up '/srv/www': the path does not exist"}))
    state = run.run()

    assert not state.done
    assert "cannot list the files to back up" in state.error
    assert "the path does not exist" in state.error


def test_bad_input_fails_with_a_message_naming_the_orchestrator_and_the_field():
    for value, expected in (
        ({"root": "relative/dir"}, "'root' must be an absolute path"),
        ({"container": "backups"}, "'root' must be a non-empty string"),
        ({"root": "/srv", "container": "Bad_Name"}, "'container' 'Bad_Name' is not valid"),
        ({"root": "/srv", "partitionSize": 0}, "'partitionSize' must be a positive integer"),
        (42, "must be a JSON object or a string"),
    ):
        state = Episodes(E2_BackupSiteContent.main, function_names.BACKUP_ORCHESTRATOR, value).run()
        assert state.error is not None, value
        assert state.error.startswith("E2_BackupSiteContent input is not valid"), state.error
        assert expected in state.error
        assert state.actions == []


def test_input_that_is_not_json_fails_clearly():
    run = Episodes(
        E2_BackupSiteContent.main,
        function_names.BACKUP_ORCHESTRATOR,
        None,
        raw_input=json.dumps("not json"),
    )
    state = run.run()
    assert state.error.startswith("E2_BackupSiteContent input is not JSON")


def test_a_bare_string_input_backs_up_that_directory_with_defaults():
    state = Episodes(
        E2_BackupSiteContent.main, function_names.BACKUP_ORCHESTRATOR, "/srv/www/"
    ).run()
    (action,) = state.atomic_actions()
    sent = json.loads(action["input"])
    del sent["runId"]
    assert sent == {
        "root": "/srv/www/",
        "container": "backups",
        "prefix": "www",
        "compare": "checksum",
        "rules": {"excludeDefaults": [], "exclude": [], "include": [], "ignoreFile": True},
        "dryRun": False,
        "partitionSize": 100,
    }


def test_custom_status_stays_small_with_many_long_failures():
    run = backup(Job(root="/srv/www", prefix="www", partition_size=500))
    # 40 files make one partition; it reports every file failed, with long paths and errors.
    entries = [{"path": "x" * 250 + f"/{i}", "size": 1, "mtimeNs": 1} for i in range(40)]
    listed(run, entries, skipped=500)
    run.close(run.sub_created(1, function_names.PARTITION_ORCHESTRATOR))
    summary = {
        **partition_summary(0),
        "filesDone": 40,
        "filesFailed": 40,
        "bytesDone": 40,
        "failed": [{"path": e["path"], "error": "e" * 900} for e in entries[:20]],
    }
    run.open(run.sub_completed(1, summary))
    state = run.run()

    assert state.done and state.error is None
    status = state.custom_status
    assert status["filesFailed"] == 40 and status["skippedEntries"] == 500
    assert len(json.dumps(status).encode("utf-8")) <= 8000
    assert 0 < len(status["failed"]) <= 20


# --- the partition sub-orchestrator --------------------------------------------------------


def partition(entries: list[dict], max_attempts: int = 2, **extra) -> Episodes:
    return Episodes(
        E2_BackupPartition.main,
        function_names.PARTITION_ORCHESTRATOR,
        {
            "job": JOB.descriptor(),
            "retry": {"firstIntervalMs": 1000, "maxAttempts": max_attempts},
            "index": 0,
            "files": entries,
            **extra,
        },
        instance_id="0" * 32 + ":1",
    )


def copied(entry: dict, status: str = "copied") -> dict:
    return {"path": entry["path"], "status": status, "bytes": entry["size"], "error": None}


def test_a_partition_schedules_one_copy_with_retry_per_file():
    entries = files(3)
    state = partition(entries).run()

    copies = state.atomic_actions()
    assert [a["actionType"] for a in copies] == [1, 1, 1]
    assert {a["functionName"] for a in copies} == {function_names.COPY_ACTIVITY}
    assert [json.loads(a["input"]) for a in copies] == [
        {"job": JOB.descriptor(), "file": entry} for entry in entries
    ]
    assert copies[0]["retryOptions"]["maxNumberOfAttempts"] == 2
    # One task_all over the files: a single top-level action.
    assert len(state.actions) == 1 and state.actions[0]["actionType"] == 12


def test_copies_into_a_new_container_are_told_so():
    (copy,) = partition(files(1), newContainer=True).run().atomic_actions()
    assert json.loads(copy["input"])["newContainer"] is True
    (copy,) = partition(files(1), newContainer=False).run().atomic_actions()
    assert "newContainer" not in json.loads(copy["input"])


def test_a_failed_copy_is_retried_by_the_host_and_its_success_counts():
    entries = files(2)
    run = partition(entries)
    run.run()
    run.close(
        run.scheduled(0, function_names.COPY_ACTIVITY),
        run.scheduled(1, function_names.COPY_ACTIVITY),
    )
    run.open(
        run.failed(0, function_names.COPY_ACTIVITY, "StorageError: HTTP 503 ServerBusy"),
        run.completed(1, copied(entries[1], "skipped")),
    )
    state = run.run()
    # Not failed, not done: the retry policy (in the action) makes the host wait and retry.
    assert not state.done and state.error is None

    created, fired = run.timer(2, run.now + timedelta(seconds=1))
    run.close(created)
    run.open(fired)
    assert not run.run().done
    run.close(run.scheduled(3, function_names.COPY_ACTIVITY))
    run.open(run.completed(3, copied(entries[0])))
    state = run.run()

    assert state.done and state.error is None
    assert state.output["filesCopied"] == 1 and state.output["filesSkipped"] == 1
    assert state.output["bytesBackedUp"] == 20 and state.output["filesFailed"] == 0


def test_a_partition_copies_in_windows_and_sums_them():
    entries = files(COPY_WINDOW + 4)
    run = partition(entries)
    state = run.run()
    assert len(state.atomic_actions()) == COPY_WINDOW  # one window in flight, not every file

    run.close(*(run.scheduled(i, function_names.COPY_ACTIVITY) for i in range(COPY_WINDOW)))
    run.open(*(run.completed(i, copied(entries[i])) for i in range(COPY_WINDOW - 1)))
    state = run.run()
    assert not state.done and len(state.atomic_actions()) == COPY_WINDOW  # the window waits

    last = COPY_WINDOW - 1
    run.close()
    run.open(run.completed(last, copied(entries[last], "skipped")))
    state = run.run()
    copies = state.atomic_actions()
    assert len(copies) == COPY_WINDOW + 4
    assert [json.loads(a["input"])["file"] for a in copies[COPY_WINDOW:]] == entries[COPY_WINDOW:]

    run.close(*(run.scheduled(COPY_WINDOW + i, function_names.COPY_ACTIVITY) for i in range(4)))
    run.open(*(run.completed(COPY_WINDOW + i, copied(entries[COPY_WINDOW + i])) for i in range(4)))
    state = run.run()
    assert state.done and state.error is None
    summary = state.output
    assert (summary["filesDone"], summary["filesCopied"], summary["filesSkipped"]) == (
        COPY_WINDOW + 4,
        COPY_WINDOW + 3,
        1,
    )
    assert summary["bytesBackedUp"] == summary["bytesDone"] == (COPY_WINDOW + 4) * 10


def test_a_copy_failing_every_attempt_stops_the_partition_once_its_window_settles():
    entries = files(COPY_WINDOW + 4)
    run = partition(entries)
    run.run()
    run.close(*(run.scheduled(i, function_names.COPY_ACTIVITY) for i in range(COPY_WINDOW)))
    run.open(
        run.failed(1, function_names.COPY_ACTIVITY, "StorageError: storage unreachable"),
        *(run.completed(i, copied(entries[i])) for i in range(COPY_WINDOW) if i not in (1, 2)),
    )
    run.run()
    created, fired = run.timer(COPY_WINDOW, run.tick())
    run.close(created)
    run.open(fired)
    run.run()
    run.close(run.scheduled(COPY_WINDOW + 1, function_names.COPY_ACTIVITY))
    run.open(run.failed(COPY_WINDOW + 1, function_names.COPY_ACTIVITY, STORAGE_DOWN))
    run.run()
    # After the last attempt DTFx waits on one more (immediate) timer before giving up.
    created, fired = run.timer(COPY_WINDOW + 2, run.now)
    run.close(created)
    run.open(fired)
    state = run.run()
    assert not state.done and state.error is None  # file 2 is still being copied

    run.close()
    run.open(run.completed(2, copied(entries[2])))
    state = run.run()
    assert state.error == f"copying 'd/f0001.txt' failed after 2 attempts: {STORAGE_DOWN}"
    # No copy of the next window was started.
    copies = [a for a in state.atomic_actions() if a["actionType"] == 1]
    assert {json.loads(a["input"])["file"]["path"] for a in copies} == {
        e["path"] for e in entries[:COPY_WINDOW]
    }


def test_a_file_reported_failed_by_the_activity_is_counted_as_failed():
    entries = files(2)
    run = partition(entries)
    run.run()
    run.close(
        run.scheduled(0, function_names.COPY_ACTIVITY),
        run.scheduled(1, function_names.COPY_ACTIVITY),
    )
    run.open(
        run.completed(0, copied(entries[0])),
        run.completed(
            1,
            {"path": entries[1]["path"], "status": "failed", "bytes": 0, "error": "vanished"},
        ),
    )
    state = run.run()
    assert state.done
    assert state.output["filesFailed"] == 1
    assert state.output["failed"] == [{"path": entries[1]["path"], "error": "vanished"}]
    assert state.output["bytesBackedUp"] == 10


def test_an_empty_partition_returns_an_empty_summary():
    state = partition([]).run()
    assert state.done and state.output["filesDone"] == 0


def test_a_partition_with_a_malformed_file_list_fails_clearly():
    run = Episodes(
        E2_BackupPartition.main,
        function_names.PARTITION_ORCHESTRATOR,
        {"job": JOB.descriptor(), "files": [{"path": 3}]},
    )
    state = run.run()
    assert "files[0] must be an object with 'path'" in state.error


PAGED_JOB = Job(
    root="/srv/www",
    container="backups",
    prefix="www",
    partition_size=50,
    partition_concurrency=4,
    retry_first_interval_ms=1000,
    retry_max_attempts=2,
)


def paged_listing(partitions: int, per_partition: int, size: int) -> dict:
    return {
        "partitions": partitions,
        "unchangedPages": 1,
        "toCopyCount": partitions * per_partition,
        "toCopyBytes": partitions * per_partition * size,
        "unchangedCount": 7,
        "unchangedBytes": 70,
        "containerCreated": False,
        "skipped": [],
        "skippedCount": 0,
        "error": None,
    }


def run_waves(run: Episodes, first_id: int, indexes: list[int], summary: dict):
    """Drive one generation: each wave is created, then all its partitions complete."""
    state = run.run()
    task_id = first_id
    for wave_start in range(0, len(indexes), 4):
        wave = indexes[wave_start : wave_start + 4]
        subs = [a for a in state.atomic_actions() if a["actionType"] == 2][-len(wave) :]
        assert [json.loads(a["input"])["index"] for a in subs] == wave
        ids = list(range(task_id, task_id + len(wave)))
        run.close(*(run.sub_created(i, function_names.PARTITION_ORCHESTRATOR) for i in ids))
        run.open(*(run.sub_completed(i, summary) for i in ids))
        task_id += len(wave)
        state = run.run()
    return state, task_id


def test_a_backup_of_many_partitions_continues_as_new_and_finishes_with_the_same_run():
    # 21 partitions with four per wave: a generation is 16 of them, the next one 5.
    listing = paged_listing(21, 50, 10)
    run = Episodes(
        E2_BackupSiteContent.main, function_names.BACKUP_ORCHESTRATOR, PAGED_JOB.to_input()
    )
    run.run()
    run.close(run.scheduled(0, function_names.LIST_ACTIVITY))
    run.open(run.completed(0, listing))
    state, _ = run_waves(run, 1, list(range(16)), partition_summary(50))

    # This execution ends (done) by continuing as new rather than with an output.
    assert state.done and state.error is None
    (again,) = [a for a in state.actions if a["actionType"] == 4]  # ContinueAsNew
    carried = json.loads(again["input"])
    resume = carried.pop("resume")
    assert carried == PAGED_JOB.to_input()
    assert (resume["next"], resume["done"]) == (16, 16)
    # The unchanged files and the 16 partitions so far, nothing lost on the way.
    assert resume["totals"]["filesDone"] == 7 + 16 * 50
    assert resume["totals"]["bytesBackedUp"] == 70 + 16 * 500
    assert resume["listing"]["partitions"] == 21
    assert state.custom_status["partitionsDone"] == 16

    # The next generation: a new history whose input is the carried state.
    second = Episodes(
        E2_BackupSiteContent.main, function_names.BACKUP_ORCHESTRATOR, json.loads(again["input"])
    )
    state = second.run()
    status = state.custom_status
    assert status["phase"] == "copying" and status["runId"] == resume["runId"]
    assert (status["partitionsDone"], status["partitionsTotal"]) == (16, 21)
    assert status["filesDone"] == 7 + 16 * 50
    subs = [a for a in state.atomic_actions() if a["actionType"] == 2]
    assert all(json.loads(a["input"])["runId"] == resume["runId"] for a in subs)
    assert [a["instanceId"] for a in subs][0].endswith(f":{resume['runId']}:p00016")
    state, task_id = run_waves(second, 0, list(range(16, 21)), partition_summary(50))

    (confirm,) = [a for a in state.atomic_actions() if a["actionType"] == 1]
    assert confirm["functionName"] == function_names.CONFIRM_ACTIVITY
    sent = json.loads(confirm["input"])
    assert (sent["runId"], sent["partitions"], sent["unchangedPages"]) == (resume["runId"], 21, 1)
    second.close(second.scheduled(task_id, function_names.CONFIRM_ACTIVITY))
    second.open(second.completed(task_id, {"confirmed": 21 * 50 + 7, "missing": 0}))
    state = second.run()
    snapshot = [a for a in state.atomic_actions() if a["actionType"] == 1][-1]
    assert snapshot["functionName"] == function_names.WRITE_SNAPSHOT_ACTIVITY
    # The run started when the first generation did, not when this one did.
    assert json.loads(snapshot["input"])["startedMs"] == resume["startedMs"]
    second.close(second.scheduled(task_id + 1, function_names.WRITE_SNAPSHOT_ACTIVITY))
    second.open(second.completed(task_id + 1, {"files": 21 * 50 + 7}))
    state = second.run()
    assert state.done and state.error is None
    assert state.output == 70 + 21 * 500
    status = state.custom_status
    assert status["phase"] == "done" and status["partitionsDone"] == 21
    assert status["filesDone"] == status["filesTotal"] == 7 + 21 * 50


def test_a_resume_that_is_not_a_run_state_fails_clearly():
    for resume, problem in (
        ("not an object", "'resume' must be an object"),
        ({"runId": "../escape", "next": 1}, "'resume.runId' is not a run id"),
        ({"runId": "r1", "startedMs": 5, "done": 0, "next": -1}, "'resume.next'"),
        ({"runId": "r1", "startedMs": 5, "done": 0, "next": 0, "totals": 3}, "resume.totals"),
    ):
        value = {**PAGED_JOB.to_input(), "resume": resume}
        run = Episodes(E2_BackupSiteContent.main, function_names.BACKUP_ORCHESTRATOR, value)
        state = run.run()
        assert problem in (state.error or ""), (resume, state.error)
        assert not state.atomic_actions()  # nothing scheduled
