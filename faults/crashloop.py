"""The crash loop: back up a tree, SIGKILL the host at a chosen moment, restart, check.

Each run aims at one phase of the backup, in turn:
- ``listing``: right after the backup starts, while the file list is being made;
- ``fan-out``: while partitions of copies run (a random number of them finished);
- ``final``: once every partition has finished, while the parent replays its history and
  completes;
- ``storage``: during the copies, SIGKILL Azurite instead of the host (``faults.storagekill``):
  the backup's post-copy confirmation must report what storage forgot, a re-run repair it.
The host's log says when a phase is reached; a random delay then picks the moment. After the
kill the host is started again on the same task hub; the run passes when the backup ends
Completed with the tree's byte count as output, nothing failed, and every blob holds exactly
its file's bytes (MD5) and claims no other checksum.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import shutil
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.core.exceptions import AzureError
from azure.storage.blob import BlobServiceClient

from devhost.child import HostProcess, HostProcessError
from devhost.poll import TERMINAL
from faults import FaultError
from faults.blobcheck import compare, read_blobs
from faults.hostlog import FAN_OUT, FINAL, LISTING, PHASES, BackupProgress, LogTail
from faults.storagekill import STORAGE, Storage, judge_killed_run, lost_files
from faults.trees import build_tree, total_bytes

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
START_PATH = "/orchestrators/E2_BackupSiteContent"
_POLL = 0.001  # the log is read every millisecond while a kill is being aimed
_STATUS_POLL = 0.05  # the status API, until it has told how many partitions there are
COPY_STARTED = b"Executing 'Functions.E2_CopyFileToBlob'"
MAX_AIMS = 3
ALL_PHASES = (*PHASES, STORAGE)


@dataclass(frozen=True)
class LoopConfig:
    workdir: Path
    runs: int = 20
    files: int = 3000
    max_size: int = 2048
    seed: int = 1
    phases: Sequence[str] = ALL_PHASES
    run_timeout: float = 300.0
    app_dir: Path = PROJECT_DIR
    keep: bool = False  # keep trees, task hubs and containers of passing runs too


@dataclass(frozen=True)
class KillPlan:
    """When to kill: ``delay`` seconds after ``phase`` is reached (in the fan-out: once
    ``fan_out_fraction`` of the partitions have finished)."""

    phase: str
    delay: float
    fan_out_fraction: float = 0.0

    def due(self, progress: BackupProgress) -> bool:
        """Whether the trigger has happened (the delay is counted from then)."""
        if self.phase == LISTING:
            return progress.parent_status is not None
        if progress.partitions_total is None:
            return False
        done = len(progress.partitions_completed)
        if self.phase in (FAN_OUT, STORAGE):
            return done >= int(self.fan_out_fraction * progress.partitions_total)
        return done >= progress.partitions_total


def plan_kill(rng: random.Random, phase: str) -> KillPlan:
    """A random moment inside ``phase`` (delays sized to what each phase lasts)."""
    if phase == LISTING:
        return KillPlan(LISTING, delay=rng.uniform(0.0, 0.05))
    if phase == FAN_OUT:
        return KillPlan(FAN_OUT, delay=rng.uniform(0.0, 0.4), fan_out_fraction=rng.random() * 0.9)
    if phase == FINAL:
        return KillPlan(FINAL, delay=rng.uniform(0.0, 0.008))
    if phase == STORAGE:
        return KillPlan(STORAGE, delay=rng.uniform(0.0, 0.4), fan_out_fraction=rng.random() * 0.7)
    raise FaultError(f"unknown phase {phase!r}; known: {', '.join(ALL_PHASES)}")


@dataclass
class RunResult:
    index: int
    plan: KillPlan
    landed: str = ""  # the phase the log showed when the host died
    partitions_done_at_kill: int = 0
    partitions_total: int = 0
    output: Any = None
    expected_output: int = 0
    files: int = 0
    runtime_status: str = ""
    copies_run: int = 0  # copy activity executions the host logged, restarts included
    aims: int = 1  # backups it took for the kill to land inside one
    seconds_to_kill: float = 0.0
    seconds_to_recover: float = 0.0
    lost_reported: int = 0  # storage kills: files the confirmation reported lost
    lost_found: int = 0  # storage kills: files lost, found by downloading every blob
    container_lost: bool = False  # storage kills: the whole container was gone after it
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def copies_redone(self) -> int:
        """Copies that ran more than once: the work in flight when the host died."""
        return max(0, self.copies_run - self.files)

    def describe(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        line = (
            f"run {self.index + 1:>3}: aimed {self.plan.phase:<8} landed {self.landed:<9} "
            f"partitions {self.partitions_done_at_kill}/{self.partitions_total} "
            f"kill after {self.seconds_to_kill:5.2f}s, recovered in "
            f"{self.seconds_to_recover:5.2f}s, copies redone {self.copies_redone:>3} -> {verdict}"
        )
        if self.plan.phase == STORAGE:
            line += f", storage lost {self.lost_found} (reported, then repaired)"
            if self.container_lost:
                line += ", its container too"
        if self.aims > 1:
            line += f" (aimed {self.aims} times)"
        if self.problems:
            line += "".join(f"\n      {problem}" for problem in self.problems[:20])
        return line


@dataclass
class LoopResult:
    config: LoopConfig
    runs: list[RunResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> int:
        return sum(not run.ok for run in self.runs)

    def landed_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for run in self.runs:
            counts[run.landed] = counts.get(run.landed, 0) + 1
        return counts


def _host_env(connection_string: str, roots: Path) -> dict[str, str]:
    return {"AzureWebJobsStorage": connection_string, "BACKUP_ALLOWED_ROOTS": str(roots)}


def _aim(
    host: HostProcess,
    tail: LogTail,
    progress: BackupProgress,
    plan: KillPlan,
    status_url: str,
    kill: Callable[[], None] | None = None,
) -> None:
    """Follow the log until the plan's moment, then SIGKILL the host (or call ``kill``)."""
    fire_at: float | None = None
    deadline = time.monotonic() + 120
    next_status = 0.0
    while True:
        for line in tail.lines():
            progress.feed(line)
        now = time.monotonic()
        if progress.partitions_total is None and now >= next_status:
            next_status = now + _STATUS_POLL
            with contextlib.suppress(OSError, ValueError):
                answer = host.request("GET", status_url, timeout=5)
                if answer.body:
                    progress.feed_status(answer.json())
        if fire_at is None and plan.due(progress):
            fire_at = now + plan.delay
        if fire_at is not None and now >= fire_at:
            break
        if progress.phase in ("completed", "failed", "terminated") or not host.running:
            break
        if now > deadline:
            log.warning("the %s phase never showed in the host log; killing anyway", plan.phase)
            break
        time.sleep(_POLL)
    if not host.running:
        # A crash of its own is a finding, not the crash this loop causes and then recovers.
        raise FaultError(
            f"the host died on its own (exit code {host.returncode}) before it was killed; "
            f"log tail:\n{host.log_tail(2000)}"
        )
    (kill or host.kill)()
    for line in tail.lines():  # what the host logged before it died
        progress.feed(line)


def _start_backup(host: HostProcess, tree: Path, container: str) -> tuple[str, str]:
    answer = host.request(
        "POST",
        START_PATH,
        json.dumps({"path": str(tree), "container": container}),
        {"Content-Type": "application/json"},
    )
    if answer.status != 202:
        raise FaultError(f"the backup did not start: HTTP {answer.status} {answer.body[:500]!r}")
    body = answer.json()
    return body["id"], answer.headers["Location"]


def _count_copies(log_path: Path, offset: int) -> int:
    with open(log_path, "rb") as handle:
        handle.seek(offset)
        return handle.read().count(COPY_STARTED)


def _check_final(result: RunResult, status: dict, files: int) -> None:
    result.runtime_status = status.get("runtimeStatus", "")
    result.output = status.get("output")
    custom = status.get("customStatus") or {}
    if result.runtime_status != "Completed":
        result.problems.append(f"ended {result.runtime_status}: {json.dumps(result.output)[:500]}")
        return
    if result.output != result.expected_output:
        result.problems.append(f"output {result.output!r}, expected {result.expected_output}")
    if custom.get("filesFailed"):
        result.problems.append(f"files failed: {json.dumps(custom.get('failed'))[:500]}")
    if custom.get("filesDone") != files:
        result.problems.append(f"filesDone {custom.get('filesDone')} of {files}")
    if custom.get("missingFromStorage"):
        result.problems.append(f"storage lacks {custom['missingFromStorage']} copied files")


def run_once(
    index: int,
    config: LoopConfig,
    plan: KillPlan,
    service: BlobServiceClient,
    storage: Storage,
) -> RunResult:
    """One backup with one kill; returns what happened and every problem found."""
    connection_string = storage.connection_string
    result = RunResult(index, plan)
    roots = config.workdir / "roots"
    tree = roots / f"site-{index:03d}"
    state = config.workdir / f"run-{index:03d}"
    container = (
        f"crash-{config.seed}-{index:03d}-{random.Random(time.time_ns()).getrandbits(24):06x}"
    )
    manifest = build_tree(
        tree, config.files, seed=config.seed * 100_003 + index, max_size=config.max_size
    )
    result.expected_output = total_bytes(manifest)
    result.files = len(manifest)
    # Debug level logs every activity execution: that is how redone copies are counted.
    host = HostProcess(
        config.app_dir,
        state,
        _host_env(connection_string, roots),
        extra_args=("--log-level", "debug"),
    )
    try:
        log_start = host.log_path.stat().st_size if host.log_path.exists() else 0
        host.start()
        tail = LogTail(host.log_path, log_start)
        started = time.monotonic()
        instance_id, status_url = _start_backup(host, tree, container)
        progress = BackupProgress(instance_id)
        killing_storage = plan.phase == STORAGE
        kill = storage.kill_and_restart if killing_storage else None
        _aim(host, tail, progress, plan, status_url, kill)
        result.seconds_to_kill = time.monotonic() - started
        result.landed = progress.phase
        result.partitions_done_at_kill = len(progress.partitions_completed)
        result.partitions_total = progress.partitions_total or 0
        restarted = time.monotonic()
        if killing_storage:
            status = host.wait_for_status(instance_id, TERMINAL, timeout=config.run_timeout)
            lost = lost_files(service, container, tree.name, manifest)
            result.lost_found = len(lost)
            result.container_lost = not service.get_container_client(container).exists()
            problems, result.lost_reported = judge_killed_run(status, lost)
            result.problems.extend(problems)
            # The re-run must repair what storage lost.
            instance_id, _ = _start_backup(host, tree, container)
        else:
            host.start()
        status = host.wait_for_status(instance_id, TERMINAL, timeout=config.run_timeout)
        result.seconds_to_recover = time.monotonic() - restarted
        result.copies_run = _count_copies(host.log_path, log_start)
        _check_final(result, status, len(manifest))
        if not host.running:
            result.problems.append(
                f"the host died on its own after the restart (exit code {host.returncode})"
            )
        blobs = read_blobs(service.get_container_client(container), tree.name)
        result.problems.extend(compare(manifest, blobs, tree.name))
    except (FaultError, HostProcessError, OSError, AzureError) as error:
        result.problems.append(f"{type(error).__name__}: {error}")
    except Exception:  # whatever else broke, this run failed and the loop goes on
        result.problems.append(traceback.format_exc(limit=8))
    finally:
        if host.running:
            try:
                host.stop()
            except HostProcessError as error:
                result.problems.append(f"host did not stop cleanly: {error}")
    if result.ok and not config.keep:
        shutil.rmtree(tree, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
        with contextlib.suppress(AzureError):  # only tidiness is at stake here
            service.delete_container(container)
    elif not result.ok:
        result.problems.append(
            f"kept for a look: tree {tree}, host state {state}, container {container}"
        )
    return result


def _aimed_run(
    index: int,
    config: LoopConfig,
    plan: KillPlan,
    service: BlobServiceClient,
    storage: Storage,
) -> RunResult:
    """``run_once``, again while the kill came after the backup had already ended.

    Such a run passes its checks but proves nothing about crashes; a busy machine can delay
    the kill past the short final phase.
    """
    for aim in range(1, MAX_AIMS + 1):
        result = run_once(index, config, plan, service, storage)
        result.aims = aim
        if not result.ok or result.landed in PHASES:
            return result
        log.warning("run %d: the kill came after the backup ended; aiming again", index + 1)
    result.problems.append(f"the kill never landed inside the backup ({MAX_AIMS} attempts)")
    return result


def crash_loop(config: LoopConfig, on_run: Callable[[RunResult], None] | None = None) -> LoopResult:
    """``config.runs`` runs against one Azurite of its own (on disk, in the work folder)."""
    rng = random.Random(config.seed)
    config.workdir.mkdir(parents=True, exist_ok=True)
    loop = LoopResult(config)
    began = time.monotonic()
    server = Storage(config.workdir / "azurite", PROJECT_DIR)
    try:
        service = BlobServiceClient.from_connection_string(server.connection_string)
        for index in range(config.runs):
            plan = plan_kill(rng, config.phases[index % len(config.phases)])
            result = _aimed_run(index, config, plan, service, server)
            loop.runs.append(result)
            if on_run:
                on_run(result)
    finally:
        server.stop()
        loop.seconds = time.monotonic() - began
    return loop
