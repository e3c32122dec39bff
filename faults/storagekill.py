"""The crash loop's storage kill: SIGKILL Azurite in the middle of the copies.

Azurite with ``--location`` (the mode that loses least, and the local host's) keeps its
metadata in a database saved every few seconds, so a SIGKILL forgets blobs it had
acknowledged. The host keeps running; Azurite comes back at once on the same port with the
same folder. The run then checks what the issue asks of the backup:

- the backup that saw the kill ends Completed with its post-copy confirmation reporting
  exactly the files storage no longer holds as copied (``missingFromStorage``, counted among
  the failed files), or ends Failed saying storage failed: never Completed and silent;
- a re-run repairs it: Completed, nothing missing or failed, every blob exact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from azure.storage.blob import BlobServiceClient

from devhost import azurite as azurite_launcher
from faults.blobcheck import read_blobs
from faults.trees import Manifest

STORAGE = "storage"


class Storage:
    """An Azurite of the loop's own, on disk, that can be killed and come back on its port."""

    def __init__(self, workdir: Path, project_dir: Path) -> None:
        self.workdir = workdir
        self.project_dir = project_dir
        self.server = self._start({})
        self.port = self.server.ports["blob"]

    def _start(self, ports: dict[str, int]) -> azurite_launcher.Azurite:
        return azurite_launcher.start(
            self.workdir,
            services=("blob",),
            ports=ports,
            in_memory=False,
            project_dir=self.project_dir,
        )

    @property
    def connection_string(self) -> str:
        return self.server.connection_string

    def kill_and_restart(self) -> None:
        self.server.process.kill()
        self.server.process.wait()
        self.server = self._start({"blob": self.port})

    def stop(self) -> None:
        self.server.stop()


def lost_files(
    service: BlobServiceClient, container: str, prefix: str, manifest: Manifest
) -> set[str]:
    """Files whose blob is missing or holds other bytes (every blob downloaded)."""
    blobs = read_blobs(service.get_container_client(container), prefix)
    return {
        relative
        for relative, facts in manifest.items()
        if (blob := blobs.get(f"{prefix}/{relative}")) is None or blob.content_md5 != facts.md5
    }


def judge_killed_run(status: dict[str, Any], lost: set[str]) -> tuple[list[str], int]:
    """Problems with the run that saw the kill, and how many files its confirmation reported."""
    runtime = status.get("runtimeStatus")
    custom = status.get("customStatus") or {}
    if runtime == "Failed":
        return [], 0
    if runtime != "Completed":
        return [f"the run that saw the kill ended {runtime}"], 0
    reported = custom.get("missingFromStorage")
    problems = []
    if reported is None:
        problems.append("no post-copy confirmation in the final status")
    elif reported != len(lost):
        problems.append(
            f"the confirmation reported {reported} files lost, storage lost {len(lost)}: "
            f"{json.dumps(sorted(lost)[:10])}"
        )
    if lost and (custom.get("filesFailed") or 0) < len(lost):
        problems.append(f"{len(lost)} files lost, only {custom.get('filesFailed')} failed")
    return problems, reported or 0
