"""A run's timeline from the durable status API's history events."""

from __future__ import annotations

from datetime import UTC, datetime

from sitebackup.console import timeline

NOW = datetime(2026, 1, 1, 0, 1, 0, tzinfo=UTC)
LABELS = {"E2_GetFileList": "listing", "E2_BackupPartition": "partition"}


def at(seconds: float) -> str:
    return f"2026-01-01T00:00:{seconds:09.6f}Z"


def test_a_finished_backup_has_the_listing_each_partition_and_the_final_step():
    events = [
        {
            "EventType": "ExecutionStarted",
            "Timestamp": at(0),
            "FunctionName": "E2_BackupSiteContent",
        },
        {
            "EventType": "TaskCompleted",
            "Timestamp": at(1),
            "ScheduledTime": at(0.1),
            "FunctionName": "E2_GetFileList",
        },
        {
            "EventType": "SubOrchestrationInstanceCompleted",
            "Timestamp": at(5),
            "ScheduledTime": at(1.2),
            "FunctionName": "E2_BackupPartition",
        },
        {
            "EventType": "SubOrchestrationInstanceFailed",
            "Timestamp": at(3),
            "ScheduledTime": at(1.1),
            "FunctionName": "E2_BackupPartition",
        },
        {"EventType": "ExecutionCompleted", "Timestamp": at(5.5), "OrchestrationStatus": "Failed"},
    ]
    built = timeline.build(events, NOW, LABELS)
    bars = built["bars"]
    assert [bar["label"] for bar in bars] == ["listing", "partition 1", "partition 2", "final step"]
    assert [bar["state"] for bar in bars] == ["completed", "failed", "completed", "failed"]
    assert bars[1]["startS"] == 1.1 and bars[1]["endS"] == 3.0
    assert bars[-1]["startS"] == 5.0 and bars[-1]["endS"] == 5.5
    assert built["ended"] and built["totalS"] == 5.5


def test_a_running_backup_shows_what_runs_up_to_now():
    events = [
        {"EventType": "ExecutionStarted", "Timestamp": "2026-01-01T00:00:00Z"},
        {
            "EventType": "TaskCompleted",
            "Timestamp": at(2),
            "ScheduledTime": at(0),
            "FunctionName": "E2_GetFileList",
        },
        {
            "EventType": "SubOrchestrationInstanceCreated",
            "Timestamp": at(2.5),
            "Name": "E2_BackupPartition",
        },
    ]
    built = timeline.build(events, NOW, LABELS)
    assert not built["ended"]
    running = built["bars"][-1]
    assert running["label"] == "partition 1" and running["state"] == "running"
    assert running["endS"] == 60.0
    assert all(bar["label"] != "final step" for bar in built["bars"])


def test_tasks_cut_short_by_the_end_of_the_run_are_shown_cancelled():
    events = [
        {"EventType": "ExecutionStarted", "Timestamp": at(0)},
        {"EventType": "TaskScheduled", "Timestamp": at(1), "Name": "E2_GetFileList"},
        {"EventType": "ExecutionTerminated", "Timestamp": at(2)},
        {
            "EventType": "ExecutionCompleted",
            "Timestamp": at(2),
            "OrchestrationStatus": "Terminated",
        },
    ]
    bars = timeline.build(events, NOW, LABELS)["bars"]
    assert bars[0]["state"] == "cancelled" and bars[0]["endS"] == 2.0
    assert bars[-1]["state"] == "terminated"


def test_no_history_yet():
    assert timeline.build([], NOW)["bars"] == []


def test_a_backup_that_continued_as_new_shows_every_generation_s_partitions():
    # The last generation's history: its own start, one of its partitions, still running.
    events = [
        {"EventType": "ExecutionStarted", "Timestamp": at(20)},
        {
            "EventType": "SubOrchestrationInstanceCompleted",
            "Timestamp": at(25),
            "ScheduledTime": at(21),
            "FunctionName": "E2_BackupPartition",
        },
    ]
    partitions = [
        {"runtimeStatus": "Completed", "createdTime": at(2), "lastUpdatedTime": at(9)},
        {"runtimeStatus": "Failed", "createdTime": at(3), "lastUpdatedTime": at(4)},
        {"runtimeStatus": "Completed", "createdTime": at(21), "lastUpdatedTime": at(25)},
        {"runtimeStatus": "Running", "createdTime": at(26), "lastUpdatedTime": at(27)},
    ]
    merged = timeline.with_partitions(events, partitions, at(1), "E2_BackupPartition")
    built = timeline.build(merged, NOW, LABELS)
    bars = built["bars"]
    # One bar per partition instance (the history's own copy of one is not doubled).
    assert [bar["label"] for bar in bars] == [f"partition {n}" for n in range(1, 5)]
    assert [bar["state"] for bar in bars] == ["completed", "failed", "completed", "running"]
    # Times count from the run's first start, not this generation's.
    assert bars[0]["startS"] == 1.0 and bars[0]["endS"] == 8.0
    assert built["start"].startswith("2026-01-01T00:00:01")
