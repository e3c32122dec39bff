"""Status answers -> progress numbers, outcomes and summary rows."""

from datetime import UTC, datetime

import pytest

from backup_client.errors import ExitCode
from backup_client.progress import (
    FAILED_SHOWN,
    Progress,
    Snapshot,
    Summary,
    exit_code_for,
    format_bytes,
    format_duration,
    next_poll_delay,
    parse_time,
)
from sitebackup import summary as app_summary


def app_status(files_total=10, copied=3, skipped=1, failed=()) -> dict:
    """A custom status built by the app's own code, so the two sides cannot drift apart."""
    totals = app_summary.Totals()
    for index in range(copied):
        totals.add_result(f"c{index}", 100, {"status": "copied", "bytes": 100})
    for index in range(skipped):
        totals.add_result(f"s{index}", 50, {"status": "skipped", "bytes": 50})
    for path, error in failed:
        totals.add_failure(path, 7, error)
    scope = app_summary.Scope(
        container="backups",
        prefix="site",
        files_total=files_total,
        bytes_total=2000,
        skipped_entries=2,
        skipped=({"path": "link", "reason": "symlink out of the root"},),
    )
    return app_summary.custom_status(app_summary.COPYING, scope, totals)


def test_progress_reads_the_apps_custom_status():
    failed = [("bad.txt", "Permission denied")]
    p = Progress.from_custom_status(app_status(copied=3, skipped=1, failed=failed))
    assert p.phase == "copying"
    assert (p.files_total, p.files_done) == (10, 5)
    assert (p.files_copied, p.files_skipped, p.files_failed) == (3, 1, 1)
    assert (p.bytes_total, p.bytes_done, p.bytes_copied) == (2000, 357, 300)
    assert p.failed[0].path == "bad.txt" and p.failed[0].error == "Permission denied"
    assert p.skipped_entries == 2
    assert p.skipped_examples == ("link: symlink out of the root",)
    assert p.location == "backups/site"


@pytest.mark.parametrize("value", [None, "", "not json", 42, ["a"], {"filesTotal": "many"}])
def test_missing_or_malformed_custom_status_means_not_known_yet(value):
    p = Progress.from_custom_status(value)
    assert p.files_total is None
    assert p.files_done == 0 and p.bytes_done == 0 and p.failed == ()


def test_custom_status_as_json_text_is_read_too():
    p = Progress.from_custom_status('{"phase": "listing", "filesDone": 2}')
    assert (p.phase, p.files_done) == ("listing", 2)


def test_snapshot_from_status_json():
    snap = Snapshot.from_json(
        {
            "name": "E2_BackupSiteContent",
            "instanceId": "abc",
            "runtimeStatus": "Completed",
            "customStatus": app_status(),
            "output": 1234,
            "createdTime": "2026-01-02T03:04:05Z",
            "lastUpdatedTime": "2026-01-02T03:04:15Z",
        }
    )
    assert snap.is_terminal and snap.output == 1234
    assert snap.server_elapsed() == 10.0
    running = Snapshot("x", "Running", created_time=datetime(2026, 1, 1, tzinfo=UTC))
    assert not running.is_terminal
    assert running.server_elapsed(now=datetime(2026, 1, 1, 0, 1, tzinfo=UTC)) == 60.0
    with pytest.raises(ValueError):
        Snapshot.from_json("nope")


def test_parse_time_variants():
    assert parse_time("2026-01-02T03:04:05Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_time("2026-01-02T04:04:05+01:00") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_time("garbage") is None and parse_time(None) is None


@pytest.mark.parametrize(
    ("status", "failed", "code"),
    [
        ("Completed", 0, ExitCode.OK),
        ("Completed", 2, ExitCode.FILES_FAILED),
        ("Failed", 0, ExitCode.BACKUP_FAILED),
        ("Terminated", 0, ExitCode.BACKUP_TERMINATED),
        ("Canceled", 5, ExitCode.BACKUP_TERMINATED),
        ("Running", 0, ExitCode.OK),
    ],
)
def test_exit_codes(status, failed, code):
    assert exit_code_for(status, failed) == code


def test_exit_codes_are_distinct():
    values = [int(code) for code in ExitCode]
    assert len(values) == len(set(values))


def test_summary_of_a_completed_backup():
    snap = Snapshot(
        "abc",
        "Completed",
        output=4 * 1024 * 1024,
        progress=Progress.from_custom_status(app_status(files_total=4, copied=3, skipped=1)),
    )
    summary = Summary(snap, elapsed=2.0, account_endpoint="http://127.0.0.1:10000/acct")
    assert summary.bytes == 4 * 1024 * 1024  # the output, not the progress counter
    assert summary.throughput == 2 * 1024 * 1024
    assert summary.exit_code == ExitCode.OK
    rows = dict(summary.lines())
    assert rows["backup"] == "abc  Completed in 2.0 s"
    assert rows["files"] == "4 total: 3 copied, 1 skipped (unchanged), 0 failed"
    assert rows["bytes"].startswith("4.0 MiB (4,194,304 bytes), 300 B uploaded")
    assert rows["speed"] == "2.0 MiB/s, 2.0 files/s"
    assert rows["blobs"] == "backups/site  at http://127.0.0.1:10000/acct"
    assert rows["left out"].startswith("2 entries left out")


def test_summary_lists_the_first_failures_and_counts_the_rest():
    failed = [(f"f{i}.txt", f"error {i}") for i in range(FAILED_SHOWN + 3)]
    progress = Progress.from_custom_status(app_status(files_total=20, copied=0, failed=failed))
    summary = Summary(Snapshot("abc", "Completed", output=0, progress=progress), elapsed=1.0)
    assert summary.exit_code == ExitCode.FILES_FAILED
    texts = [text for _, text in summary.lines()]
    assert "f0.txt: error 0" in texts
    assert f"f{FAILED_SHOWN - 1}.txt: error {FAILED_SHOWN - 1}" in texts
    assert f"f{FAILED_SHOWN}.txt: error {FAILED_SHOWN}" not in texts
    assert "... and 3 more" in texts


def test_summary_of_a_failed_backup_shows_the_reason_and_progress_bytes():
    progress = Progress.from_custom_status({"bytesDone": 77, "filesDone": 1})
    snap = Snapshot("abc", "Failed", output="Orchestrator function failed: boom", progress=progress)
    summary = Summary(snap, elapsed=None)
    assert summary.bytes == 77 and summary.throughput is None
    rows = dict(summary.lines())
    assert rows["backup"] == "abc  Failed"
    assert rows["reason"] == "Orchestrator function failed: boom"
    assert "speed" not in rows
    assert summary.exit_code == ExitCode.BACKUP_FAILED


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (5 * 2**30, "5.0 GiB")],
)
def test_format_bytes(count, text):
    assert format_bytes(count) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.42, "0.42 s"), (3.21, "3.2 s"), (42.4, "42 s"), (123, "2 min 03 s"), (3720, "1 h 02 min")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("retry_after", "delay"),
    [("10", 0.5), ("0.2", 0.2), ("0", 0.05), (None, 0.5), ("Wed, 21 Oct 2015", 0.5), ("inf", 0.5)],
)
def test_poll_delay_honors_retry_after_below_the_ceiling(retry_after, delay):
    assert next_poll_delay(retry_after, ceiling=0.5) == delay
