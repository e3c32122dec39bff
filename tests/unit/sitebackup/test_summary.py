"""Partition planning, result counting and the custom status."""

from __future__ import annotations

import json

import pytest

from sitebackup import metadata, plan
from sitebackup.summary import Scope, Totals, custom_status, fit, task_error


@pytest.mark.parametrize(
    ("count", "max_size", "expected"),
    [
        (0, 500, 50),
        (10, 500, 50),
        (800, 500, 50),
        (1600, 500, 100),
        (100_000, 500, 500),
        (1000, 20, 20),
        (5, 1, 1),
    ],
)
def test_partition_size(count, max_size, expected):
    assert plan.partition_size_for(count, max_size) == expected


def test_partitions_keep_every_file_once_and_in_order():
    files = list(range(1234))
    parts = plan.partitions(files, 100)
    assert [item for part in parts for item in part] == files
    assert max(len(part) for part in parts) <= 100
    assert plan.partitions([], 100) == []


def test_chunks():
    assert plan.chunks(range(5), 2) == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError):
        plan.chunks([1], 0)


def test_totals_count_copied_skipped_and_failed():
    totals = Totals()
    totals.add_result("a", 10, {"path": "a", "status": "copied", "bytes": 12, "error": None})
    totals.add_result("b", 5, {"path": "b", "status": "skipped", "bytes": 5, "error": None})
    totals.add_result("c", 7, {"path": "c", "status": "failed", "bytes": 0, "error": "gone"})
    totals.add_result("d", 1, "nonsense")
    assert (totals.files_done, totals.files_copied, totals.files_skipped) == (4, 1, 1)
    assert totals.files_failed == 2
    # Progress uses the listed sizes; the backup holds what was really copied or kept.
    assert totals.bytes_done == 23
    assert totals.bytes_backed_up == 17 and totals.bytes_copied == 12
    assert totals.failed[0] == {"path": "c", "error": "gone"}
    assert "unexpected result" in totals.failed[1]["error"]


def test_totals_merge_and_round_trip():
    one, two = Totals(), Totals()
    one.add_result("a", 1, {"status": "copied", "bytes": 1})
    for i in range(30):
        two.add_failure(f"f{i}", 2, "boom")
    one.merge(Totals.from_dict(json.loads(json.dumps(two.to_dict()))))
    assert one.files_done == 31 and one.files_failed == 30 and one.bytes_done == 61
    assert len(one.failed) == 20


def test_from_dict_refuses_what_is_not_a_summary():
    with pytest.raises(ValueError):
        Totals.from_dict([1])
    with pytest.raises(ValueError, match="filesDone"):
        Totals.from_dict({"filesDone": "3"})


def test_task_error_keeps_the_reason_only():
    exc = Exception(
        "Activity function 'E2_CopyFileToBlob' failed:  StorageError: HTTP 503 \n {\"big\": 1}"
    )
    assert task_error(exc) == "StorageError: HTTP 503"
    assert task_error(Exception("Orchestrator function 'X' failed: boom")) == "boom"
    assert task_error(Exception("plain")) == "plain"
    assert len(task_error(Exception("x" * 1000))) == 300


def test_custom_status_has_the_keys_the_progress_bar_reads():
    status = custom_status("copying", Scope("backups", "www", 10, 100, 2), Totals(), 0)
    for key in (
        "phase",
        "filesTotal",
        "filesDone",
        "filesCopied",
        "filesSkipped",
        "filesFailed",
        "bytesTotal",
        "bytesDone",
        "failed",
        "skippedEntries",
        "container",
        "prefix",
    ):
        assert key in status
    assert status["phase"] == "copying" and status["skippedEntries"] == 2


def test_fit_drops_listed_entries_until_small_enough():
    status = {
        "phase": "done",
        "skipped": [{"path": "s" * 300, "reason": "r" * 300}] * 10,
        "failed": [{"path": "f" * 300, "error": "e" * 300}] * 20,
    }
    small = fit(status, limit=3000)
    assert len(json.dumps(small).encode()) <= 3000
    assert small["skipped"] == [] and 0 < len(small["failed"]) < 20
    assert len(status["failed"]) == 20  # the original is left alone


def test_mtime_metadata_is_rfc3339_with_nanoseconds():
    assert metadata.format_mtime(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456789Z"
    assert metadata.format_mtime(0) == "1970-01-01T00:00:00.000000000Z"
    meta = metadata.for_file(12, 5)
    assert meta == {"size": "12", "mtime": "1970-01-01T00:00:00.000000005Z"}
    assert metadata.describes(meta, 12, 5)
    assert not metadata.describes(meta, 12, 6) and not metadata.describes(meta, 13, 5)
    assert not metadata.describes(None, 12, 5)
