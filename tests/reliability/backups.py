"""Start backups over HTTP and look at what they left in storage."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from azure.storage.blob import BlobServiceClient

from faults.blobcheck import compare, read_blobs
from faults.trees import Manifest
from tests.support.host_process import HostProcess, HttpAnswer

START = "/orchestrators/E2_BackupSiteContent"
JSON = {"Content-Type": "application/json"}
T = TypeVar("T")


def start_backup(
    host: HostProcess, path: Path | str, container: str, prefix: str | None = None
) -> HttpAnswer:
    body: dict[str, Any] = {"path": str(path), "container": container}
    if prefix is not None:
        body["prefix"] = prefix
    return host.request("POST", START, json.dumps(body), JSON)


def started(answer: HttpAnswer) -> tuple[str, str]:
    """The instance id and status URL of a 202 answer (fails the test with the body if not)."""
    assert answer.status == 202, f"expected 202, got {answer.status}: {answer.body[:1000]!r}"
    return answer.json()["id"], answer.headers["Location"]


def list_instances(host: HostProcess) -> list[dict]:
    answer = host.request("GET", "/runtime/webhooks/durabletask/instances?top=1000")
    assert answer.status == 200, f"instance list answered {answer.status}: {answer.body[:500]!r}"
    return answer.json()


def backup_problems(
    connection_string: str, container: str, prefix: str, manifest: Manifest, excused=()
) -> list[str]:
    """Every difference between a tree and its backup (empty when they match byte for byte)."""
    service = BlobServiceClient.from_connection_string(connection_string)
    return compare(
        manifest, read_blobs(service.get_container_client(container), prefix), prefix, excused
    )


def wait_until(
    probe: Callable[[], T],
    done: Callable[[T], bool],
    timeout: float,
    what: str,
    interval: float = 0.02,
) -> T:
    """Call ``probe`` until ``done`` holds for what it returns; fail saying what was last seen."""
    deadline = time.monotonic() + timeout
    while True:
        seen = probe()
        if done(seen):
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{what} did not happen within {timeout:.0f} s; last seen: {seen!r}"
            )
        time.sleep(interval)


def status(host: HostProcess, status_url: str) -> dict:
    answer = host.request("GET", status_url)
    return answer.json() if answer.body else {"http": answer.status}
