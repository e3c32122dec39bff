"""Terminating a backup with the client stops its partitions, not only the parent.

The Durable extension does not pass a terminate on to sub-orchestrations: the parent shows
Terminated while its partitions go on copying a whole wave. The client's ``terminate``
terminates the partitions too and returns once none runs; after that, only the copies
already handed to the host (each partition's window) may still land.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient

from faults.trees import build_tree
from sitebackup.orchestration import COPY_WINDOW
from tests.reliability.backups import start_backup, started, wait_until
from tests.reliability.conftest import PROJECT_DIR
from tests.support.host_process import TERMINAL, HostProcess

FILES = 4000
PARTITION_CONCURRENCY = 4
ACTIVITY_SLOTS = 8  # host.json maxConcurrentActivityFunctions


@pytest.fixture
def host_env(storage_connection_string: str, allowed_root: Path) -> dict[str, str]:
    return {
        "AzureWebJobsStorage": storage_connection_string,
        "BACKUP_ALLOWED_ROOTS": str(allowed_root),
        "BACKUP_PARTITION_CONCURRENCY": str(PARTITION_CONCURRENCY),
        # Partitions of 250 files: the ones running when the client terminates are still
        # copying by the time it reaches them (with the default 100 they can finish first).
        "BACKUP_PARTITION_SIZE": "500",
    }


def _count(container: ContainerClient) -> int:
    return sum(1 for _ in container.list_blobs())


def _settled_count(container: ContainerClient, quiet_for: float, timeout: float) -> int:
    """The blob count once it has not changed for ``quiet_for`` seconds (deadline: timeout)."""
    deadline = time.monotonic() + timeout
    last, since = _count(container), time.monotonic()
    while time.monotonic() < deadline:
        now = _count(container)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_for:
            return now
        time.sleep(0.2)
    raise AssertionError(f"the blob count kept changing for {timeout:.0f} s (last {last})")


def _partitions(host: HostProcess, parent_id: str) -> list[dict]:
    answer = host.request(
        "GET", f"/runtime/webhooks/durabletask/instances?instanceIdPrefix={parent_id}:&top=1000"
    )
    assert answer.status == 200, answer.body[:300]
    return answer.json()


@pytest.mark.slow
def test_the_clients_terminate_stops_the_partitions_copying(
    backup_host: HostProcess,
    allowed_root: Path,
    storage_connection_string: str,
    unique_name: str,
) -> None:
    site = allowed_root / "site"
    build_tree(site, FILES, seed=11, max_size=512)
    container = BlobServiceClient.from_connection_string(
        storage_connection_string
    ).get_container_client(unique_name)
    instance_id, url = started(start_backup(backup_host, site, unique_name))
    wait_until(
        lambda: container.exists() and _count(container),
        lambda seen: seen >= 150,
        timeout=120,
        what="the first 150 blobs",
        interval=0.1,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKUP_", "SITE_BACKUP_"))}
    result = subprocess.run(
        [sys.executable, "-m", "backup_client", "terminate", instance_id, "--url", backup_host.url],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env=env,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "copying has stopped" in output, output
    at_return = _count(container)
    final = backup_host.wait_for_status(url, timeout=30)
    assert final["runtimeStatus"] == "Terminated", final
    partitions = _partitions(backup_host, instance_id)
    assert partitions, "the backup started no partition before it was terminated"
    assert all(item["runtimeStatus"] in TERMINAL for item in partitions), partitions
    assert any(item["runtimeStatus"] == "Terminated" for item in partitions), partitions
    # Copies already handed to the host may finish; no new one starts.
    in_flight = PARTITION_CONCURRENCY * COPY_WINDOW + ACTIVITY_SLOTS
    settled = _settled_count(container, quiet_for=3.0, timeout=120)
    assert settled - at_return <= in_flight, (at_return, settled)
    assert settled < FILES, "the whole tree was copied: the terminate stopped nothing"
