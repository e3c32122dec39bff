"""Storage outages in the middle of a backup: ride out a short one, fail clearly on a long one.

Each test runs its own Azurite with its data on disk and a fixed port, so it can be stopped
and started again at the same address with the same blobs, as a storage service comes back.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost import azurite as azurite_launcher
from faults.hostlog import LogTail
from faults.trees import build_tree, total_bytes
from tests.reliability.backups import backup_problems, start_backup, started, status, wait_until
from tests.reliability.conftest import PROJECT_DIR
from tests.support.host_process import HostProcess, running_host

OUTAGE_SECONDS = 10
WEBHOOKS = "/runtime/webhooks/durabletask"
GIVE_UP_SECONDS = 60
# Every step of a backup that touches storage, and how the backup's message names it when it
# gives up: the copies, and the run's pages (read before a partition copies, written after),
# the confirmation and the snapshot. Which one meets the outage first depends on the moment.
GAVE_UP = re.compile(r"Activity function '(E2_\w+)' failed:\s+StorageError")
STEP_IN_MESSAGE = {
    "E2_CopyFileToBlob": "copying '",
    "E2_ReadFilePage": "reading the files of partition ",
    "E2_WriteStoredPage": "recording what partition ",
    "E2_ConfirmBackup": "confirming the backup in storage",
    "E2_WriteSnapshot": "writing the snapshot",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Storage:
    """An Azurite that can go away and come back on the same port with the same data."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.server: azurite_launcher.Azurite | None = None

    def start(self) -> None:
        self.server = azurite_launcher.start(
            self.workdir,
            services=("blob",),
            ports={"blob": self.port},
            in_memory=False,
            project_dir=PROJECT_DIR,
        )

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def kill(self) -> None:
        """SIGKILL, as an out-of-memory killer or a power cut would: no chance to save."""
        if self.server is not None:
            self.server.process.kill()
            self.server.process.wait()
            self.server = None

    @property
    def connection_string(self) -> str:
        return azurite_launcher.connection_string({"blob": self.port})


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    storage = Storage(tmp_path / "azurite")
    storage.start()
    try:
        yield storage
    finally:
        storage.stop()


def _host_env(storage: Storage, root: Path, **settings: str) -> dict[str, str]:
    return {
        "AzureWebJobsStorage": storage.connection_string,
        "BACKUP_ALLOWED_ROOTS": str(root),
        **settings,
    }


def _copying(host: HostProcess, url: str, at_least: int) -> dict:
    """Wait until the backup has copied ``at_least`` files and is still running."""
    return wait_until(
        lambda: status(host, url),
        lambda seen: (
            (seen.get("customStatus") or {}).get("filesDone", 0) >= at_least
            or seen.get("runtimeStatus") not in ("Pending", "Running")
        ),
        timeout=120,
        what=f"{at_least} files copied",
    )


@pytest.mark.slow
def test_a_short_outage_is_ridden_out_by_retries(
    tmp_path: Path, allowed_root: Path, storage: Storage, unique_name: str
) -> None:
    site = allowed_root / "site"
    manifest = build_tree(site, 1500, seed=11)
    env = _host_env(storage, allowed_root)
    with running_host(PROJECT_DIR, tmp_path / "state", env=env) as host:
        _, url = started(start_backup(host, site, unique_name))
        before = _copying(host, url, 100)
        assert before["runtimeStatus"] == "Running", f"ended before the outage: {before}"
        storage.stop()
        # The outage itself: storage stays away for its whole length, whatever the host does.
        time.sleep(OUTAGE_SECONDS)
        during = status(host, url)
        storage.start()
        final = host.wait_for_status(url, timeout=300)
    assert during.get("runtimeStatus") == "Running", f"did not wait for storage: {during}"
    # The outage met a backup with work left, so riding it out is what was tested.
    assert (during.get("customStatus") or {}).get("filesDone", 0) < len(manifest), during
    assert final["runtimeStatus"] == "Completed", (final.get("output"), final.get("customStatus"))
    assert final["output"] == total_bytes(manifest)
    assert final["customStatus"]["filesFailed"] == 0, final["customStatus"]
    assert backup_problems(storage.connection_string, unique_name, "site", manifest) == []


@pytest.mark.slow
def test_an_outage_beyond_the_retry_budget_fails_and_a_rerun_finishes_the_job(
    tmp_path: Path, allowed_root: Path, storage: Storage, unique_name: str
) -> None:
    site = allowed_root / "site"
    manifest = build_tree(site, 1500, seed=12)
    # One attempt per file: the budget is what the storage client's own retries allow.
    env = _host_env(
        storage,
        allowed_root,
        BACKUP_RETRY_MAX_ATTEMPTS="1",
        BACKUP_RETRY_FIRST_INTERVAL_MS="200",
    )
    with running_host(PROJECT_DIR, tmp_path / "state", env=env) as host:
        _, url = started(start_backup(host, site, unique_name))
        before = _copying(host, url, 100)
        assert before["runtimeStatus"] == "Running", f"ended before the outage: {before}"
        copied_before = before["customStatus"]["filesDone"]
        log = LogTail(host.log_path)
        storage.stop()
        try:
            # Each storage step gives up once the storage client's own retries are spent;
            # after the first one has, the backup must stop, not grind through every file.
            gave_up: set[str] = set()

            def steps_given_up() -> set[str]:
                gave_up.update(m.group(1) for line in log.lines() if (m := GAVE_UP.search(line)))
                return gave_up

            wait_until(
                steps_given_up, bool, timeout=120, what="a storage step giving up on the storage"
            )
            failed = host.wait_for_status(url, timeout=GIVE_UP_SECONDS)
            steps_given_up()
        finally:
            storage.start()
        message = json.dumps(failed.get("output"))
        assert failed["runtimeStatus"] == "Failed", failed
        assert gave_up <= STEP_IN_MESSAGE.keys(), gave_up
        # The message names a step that gave up, after its one attempt, and the storage error.
        steps = [STEP_IN_MESSAGE[name] for name in gave_up]
        assert any(f"the backup stopped: {step}" in message for step in steps), (gave_up, message)
        assert "failed after 1 attempt: StorageError" in message, message
        assert "the storage service could not be reached" in message, message
        # The re-run copies what is missing and skips what the first run had stored.
        _, url = started(start_backup(host, site, unique_name))
        final = host.wait_for_status(url, timeout=300)
    custom = final["customStatus"]
    assert final["runtimeStatus"] == "Completed", (final.get("output"), final.get("customStatus"))
    assert final["output"] == total_bytes(manifest)
    assert custom["filesFailed"] == 0, custom
    assert custom["filesSkipped"] >= copied_before, custom
    assert custom["filesCopied"] + custom["filesSkipped"] == len(manifest), custom
    assert backup_problems(storage.connection_string, unique_name, "site", manifest) == []


@pytest.mark.slow
def test_a_rerun_after_a_backup_lost_to_an_outage_skips_what_was_stored(
    tmp_path: Path, allowed_root: Path, storage: Storage, unique_name: str
) -> None:
    site = allowed_root / "site"
    manifest = build_tree(site, 1500, seed=13)
    env = _host_env(storage, allowed_root)
    with running_host(PROJECT_DIR, tmp_path / "state", env=env) as host:
        instance_id, url = started(start_backup(host, site, unique_name))
        before = _copying(host, url, 200)
        assert before["runtimeStatus"] == "Running", f"ended before the outage: {before}"
        stored_before = before["customStatus"]["filesCopied"]
        storage.stop()
        try:
            # The operator gives up on the backup while storage is away.
            answer = host.request("POST", f"{WEBHOOKS}/instances/{instance_id}/terminate")
            assert answer.status == 202, answer
            ended = host.wait_for_status(url, timeout=60)
            assert ended["runtimeStatus"] == "Terminated", ended
        finally:
            storage.start()

        # Terminating through the raw webhook stops only the parent: its partitions go on
        # (retrying, then copying once storage is back). Until they end the starter refuses
        # the re-run and says how to stop them; then the re-run starts.
        def rerun():
            answer = start_backup(host, site, unique_name)
            if answer.status == 409:
                error = answer.json()["error"]
                assert "partitions are still stopping" in error, error
                assert f"site-backup terminate {instance_id}" in error, error
            return answer

        answer = wait_until(
            rerun, lambda answer: answer.status != 409, 300, "the re-run's start", interval=0.5
        )
        again_id, again_url = started(answer)
        final = host.wait_for_status(again_url, timeout=300)
    custom = final["customStatus"]
    assert again_id == instance_id
    assert final["runtimeStatus"] == "Completed", (final.get("output"), final.get("customStatus"))
    assert final["output"] == total_bytes(manifest)
    assert custom["filesFailed"] == 0, custom
    assert custom["filesSkipped"] >= stored_before > 0, custom
    assert custom["filesCopied"] + custom["filesSkipped"] == len(manifest), custom
    assert backup_problems(storage.connection_string, unique_name, "site", manifest) == []
