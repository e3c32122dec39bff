"""The fault command's pure parts: reading the host log, aiming kills, comparing backups."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from devhost.child import HostProcess
from faults import FaultError
from faults.blobcheck import BlobFacts, compare
from faults.crashloop import KillPlan, _aim, plan_kill
from faults.hostlog import FAN_OUT, FINAL, LISTING, BackupProgress, LogTail
from faults.trees import FileFacts

LOG = [
    "[2026-01-01T00:00:00.000Z] Orchestration E2_BackupSiteContent (backup-1) Pending",
    "[2026-01-01T00:00:00.001Z] Orchestration E2_BackupSiteContent (backup-1) Running",
    "[2026-01-01T00:00:00.050Z] listed 4 files (10 bytes) under '/x', 0 entries skipped",
    "[2026-01-01T00:00:00.060Z] backup-1: 4 files in 2 partitions",
    "[2026-01-01T00:00:00.070Z] Orchestration E2_BackupPartition (e:1) Running",
    "[2026-01-01T00:00:00.070Z] Orchestration E2_BackupPartition (e:2) Running",
    "[2026-01-01T00:00:00.500Z] Orchestration E2_BackupPartition (e:1) Completed",
    "[2026-01-01T00:00:00.900Z] Orchestration E2_BackupPartition (e:2) Completed",
    "[2026-01-01T00:00:00.910Z] Orchestration E2_BackupSiteContent (backup-1) Completed",
]


def progress_after(lines: int) -> BackupProgress:
    progress = BackupProgress("backup-1")
    for line in LOG[:lines]:
        progress.feed(line)
    return progress


@pytest.mark.parametrize(
    ("lines", "phase"),
    [
        (0, LISTING),
        (2, LISTING),
        (3, LISTING),
        (4, FAN_OUT),
        (7, FAN_OUT),
        (8, FINAL),
        (9, "completed"),
    ],
)
def test_the_log_tells_the_phase(lines: int, phase: str) -> None:
    assert progress_after(lines).phase == phase


def test_other_instances_do_not_move_the_parent() -> None:
    progress = BackupProgress("backup-2")
    for line in LOG:
        progress.feed(line)
    assert progress.parent_status is None and progress.partitions_total is None


def test_kill_plans_fire_when_their_phase_is_reached() -> None:
    assert not KillPlan(LISTING, 0).due(progress_after(0))
    assert KillPlan(LISTING, 0).due(progress_after(1))
    assert not KillPlan(FAN_OUT, 0, fan_out_fraction=0.5).due(progress_after(3))
    assert KillPlan(FAN_OUT, 0, fan_out_fraction=0.5).due(progress_after(7))
    assert not KillPlan(FINAL, 0).due(progress_after(7))
    assert KillPlan(FINAL, 0).due(progress_after(8))


def test_plans_are_reproducible_from_the_seed() -> None:
    first = [plan_kill(random.Random(5), phase) for phase in (LISTING, FAN_OUT, FINAL)]
    again = [plan_kill(random.Random(5), phase) for phase in (LISTING, FAN_OUT, FINAL)]
    assert first == again


def _blob(name: str, content_md5: str, size: int = 3, claimed: str | None = None) -> BlobFacts:
    return BlobFacts(name, size, claimed or content_md5, content_md5, size, {})


def test_compare_finds_every_kind_of_difference() -> None:
    manifest = {"a": FileFacts(3, "aa"), "b": FileFacts(3, "bb"), "c": FileFacts(3, "cc")}
    blobs = {
        "p/a": _blob("p/a", "aa"),  # fine
        "p/b": _blob("p/b", "xx"),  # wrong content
        "p/z": _blob("p/z", "zz"),  # no source
        # c is missing
    }
    problems = compare(manifest, blobs, "p")
    assert len(problems) == 3, problems
    assert any("no blob" in p for p in problems)
    assert any("without a source" in p for p in problems)
    assert compare(manifest, blobs, "p", excused={"c"}) != problems


def test_compare_catches_a_blob_that_claims_another_checksum() -> None:
    manifest = {"a": FileFacts(3, "aa")}
    assert compare(manifest, {"p/a": _blob("p/a", "aa", claimed="ff")}, "p")
    assert compare(manifest, {"p/a": _blob("p/a", "aa")}, "p") == []


def test_the_plan_is_read_whatever_the_wording_around_it() -> None:
    progress = BackupProgress("backup-1")
    progress.feed("[t] backup-1: 4 files to copy in 2 partitions, 7 unchanged")
    assert progress.partitions_total == 2


def test_the_status_api_tells_the_plan_once_copying_began() -> None:
    progress = BackupProgress("backup-1")
    progress.feed_status({"customStatus": {"phase": "listing", "partitionsTotal": 0}})
    assert progress.partitions_total is None
    progress.feed_status({"customStatus": {"phase": "copying", "partitionsTotal": 3}})
    assert progress.partitions_total == 3


def test_a_host_that_died_on_its_own_fails_the_run(tmp_path) -> None:
    """The loop kills the host itself; a host found dead before that is a crash to report."""
    host = HostProcess(tmp_path, tmp_path / "state")
    host.state_dir.mkdir()
    host.log_path.write_text("Traceback: the host fell over\n")
    host.process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    host.process.wait(30)
    tail = LogTail(host.log_path)
    with pytest.raises(FaultError, match=r"died on its own \(exit code 3\)") as caught:
        _aim(host, tail, BackupProgress("b"), KillPlan(FINAL, 0.0), "http://127.0.0.1:9/x")
    assert "the host fell over" in str(caught.value)
