"""A dry run's report as the client's table rows."""

from __future__ import annotations

from backup_client import dry_run

REPORT = {
    "dryRun": True,
    "copy": {"new": {"files": 3, "bytes": 3000}, "changed": {"files": 1, "bytes": 10}},
    "skip": {
        "unchanged": {"files": 7, "bytes": 7000},
        "excluded": {"files": 4, "dirs": 2},
        "other": {"entries": 1},
    },
    "deleted": None,
    "paths": {"new": ["a", "b", "c"], "changed": ["d"]},
}


def test_rows_say_what_a_real_run_would_copy_and_skip():
    cells = [row.cells() for row in dry_run.rows(REPORT)]
    assert cells[0] == ("copy", "new", "3", "2.9 KiB")
    assert cells[1][:3] == ("copy", "changed", "1")
    assert cells[2][:3] == ("skip", "unchanged", "7")
    assert cells[3][:3] == ("skip", "excluded by rules (+ 2 folders)", "4")
    assert cells[4][0] == "skip" and cells[4][2] == "1"
    assert len(cells) == 5  # no snapshot yet: no "deleted" row


def test_deleted_files_get_a_row_when_the_report_has_them():
    report = {**REPORT, "deleted": {"files": 2, "since": "r1", "paths": ["x", "y"]}}
    assert dry_run.rows(report)[-1].cells()[:3] == ("deleted", "gone since snapshot r1", "2")
    assert dry_run.examples(report)[-2:] == [("deleted", "x"), ("deleted", "y")]


def test_examples_name_new_then_changed_paths():
    assert dry_run.examples(REPORT) == [("new", "a"), ("new", "b"), ("new", "c"), ("changed", "d")]


def test_examples_say_how_many_paths_are_not_shown():
    many = [f"p{i}" for i in range(dry_run.PATHS_SHOWN + 5)]
    report = {
        **REPORT,
        "copy": {"new": {"files": 5000, "bytes": 1}, "changed": {"files": 0, "bytes": 0}},
        "skip": {"excluded": {"files": 2, "dirs": 1, "bytes": 2048}},
        "paths": {"new": many, "changed": [], "excluded": ["x.log", "y.log", "cache/"]},
    }
    shown = dry_run.examples(report)
    assert shown[dry_run.PATHS_SHOWN] == ("new", f"... and {5000 - dry_run.PATHS_SHOWN:,} more")
    assert shown[-3:] == [("excluded", "x.log"), ("excluded", "y.log"), ("excluded", "cache/")]
    assert dry_run.rows(report)[3].cells()[3] == "2.0 KiB"


def test_only_a_dry_run_output_is_a_report():
    assert dry_run.is_report(REPORT)
    assert not dry_run.is_report(12345)
    assert not dry_run.is_report({"dryRun": "yes"})


def test_a_scheduled_backups_prune_shows_in_the_summary():
    from backup_client.progress import Snapshot, Summary

    status = {
        "instanceId": "backup-1",
        "runtimeStatus": "Completed",
        "output": 10,
        "customStatus": {
            "phase": "done",
            "retention": {
                "policy": "last=2",
                "kept": 2,
                "dropped": 1,
                "blobsDeleted": 3,
                "snapshotsDeleted": 1,
                "bytesFreed": 2048,
            },
        },
    }
    rows = dict(Summary(Snapshot.from_json(status), 1.0).lines())
    assert rows["retention"] == (
        "last=2: kept 2 snapshots, dropped 1; 3 blobs and 1 blob snapshots deleted, 2.0 KiB freed"
    )
    failed = {**status, "customStatus": {"retention": {"policy": "last=2", "error": "boom"}}}
    assert dict(Summary(Snapshot.from_json(failed), 1.0).lines())["retention"] == (
        "last=2: the prune failed: boom"
    )
