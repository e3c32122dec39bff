"""What the console shows of one orchestration instance: a row of the runs list (pure).

A run is a top-level instance of an orchestrator the console knows (``KINDS``); its
progress comes from the custom status the orchestrator publishes (``sitebackup.summary``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sitebackup import function_names as names
from sitebackup.console.paging import parse_time

ACTIVE = frozenset({"Running", "Pending", "Suspended", "ContinuedAsNew"})
RUNTIME_STATUSES = (
    "Running",
    "Pending",
    "Completed",
    "Failed",
    "Terminated",
    "Canceled",
    "Suspended",
    "ContinuedAsNew",
)


@dataclass(frozen=True)
class Kind:
    name: str  # what the console calls it
    orchestrator: str
    id_prefix: str  # every instance of this kind has an id starting with this
    folder_option: str  # the input field naming the folder on the server it works on
    # The orchestrator of its partitions (``children.partition_id``), for a run that
    # continued as new: its history then holds only the last generation's.
    partition_orchestrator: str | None = None


KINDS = (
    Kind("backup", names.BACKUP_ORCHESTRATOR, "backup-", "root", names.PARTITION_ORCHESTRATOR),
    Kind("dryrun", names.BACKUP_ORCHESTRATOR, "dryrun-", "root", names.PARTITION_ORCHESTRATOR),
    Kind(
        "restore",
        names.RESTORE_ORCHESTRATOR,
        "restore-",
        "target",
        names.RESTORE_PARTITION_ORCHESTRATOR,
    ),
    # A prune shares its destination's backup id, so the two never run at once.
    Kind("prune", names.PRUNE_ORCHESTRATOR, "backup-", "root"),
)


def kind_of(status: dict[str, Any]) -> Kind | None:
    name, instance_id = status.get("name"), str(status.get("instanceId") or "")
    return next(
        (k for k in KINDS if k.orchestrator == name and instance_id.startswith(k.id_prefix)),
        None,
    )


def decoded_input(status: dict[str, Any]) -> dict[str, Any]:
    """The instance input as an object (the status API may carry it as JSON text)."""
    value = status.get("input")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {"root": value} if value.startswith("/") else {}
    if isinstance(value, str):  # an input that was a bare JSON string: the root
        return {"root": value}
    return value if isinstance(value, dict) else {}


def root_of(status: dict[str, Any]) -> str:
    """The folder on the server the run works on: a backup's root, a restore's target."""
    options = decoded_input(status)
    kind = kind_of(status)
    root = options.get(kind.folder_option if kind else "root") or options.get("path") or ""
    return root if isinstance(root, str) else ""


def under(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or inside it (the list's root filter)."""
    root = root.rstrip("/") or "/"
    return path == root or path.startswith(root if root == "/" else root + "/")


def _count(progress: dict[str, Any], key: str) -> int | None:
    value = progress.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def resumed(status: dict[str, Any]) -> dict[str, Any] | None:
    """The run state a backup or a restore carries from one generation to the next
    (``resume`` in the input of a run that continued as new), or None for a first
    generation. Its ``runId`` names the run's partitions (``children.partition_prefix``)."""
    resume = decoded_input(status).get("resume")
    return resume if isinstance(resume, dict) and isinstance(resume.get("runId"), str) else None


def started_time(status: dict[str, Any]) -> str | None:
    """When the run started: ``createdTime`` is the current generation's start, so a run
    that continued as new carries its first start in ``resume.startedMs``."""
    resume = resumed(status)
    started_ms = resume.get("startedMs") if resume else None
    if isinstance(started_ms, int) and not isinstance(started_ms, bool) and started_ms >= 0:
        moment = datetime.fromtimestamp(started_ms / 1000, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    created = status.get("createdTime")
    return created if isinstance(created, str) else None


def duration_seconds(status: dict[str, Any], now: datetime) -> float | None:
    try:
        started = parse_time(started_time(status))
        ended = (
            now if status.get("runtimeStatus") in ACTIVE else parse_time(status["lastUpdatedTime"])
        )
    except (KeyError, TypeError, ValueError):
        return None
    return max(0.0, (ended - started).total_seconds())


def row(status: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One line of the runs list."""
    kind = kind_of(status)
    options = decoded_input(status)
    progress = status.get("customStatus")
    progress = progress if isinstance(progress, dict) else {}
    return {
        "id": status.get("instanceId"),
        "kind": kind.name if kind else str(status.get("name")),
        "orchestrator": status.get("name"),
        "status": status.get("runtimeStatus"),
        "root": root_of(status),
        "container": progress.get("container") or options.get("container"),
        "prefix": progress.get("prefix", options.get("prefix")),
        "snapshot": options.get("snapshot") if kind and kind.name == "restore" else None,
        "created": started_time(status),
        "updated": status.get("lastUpdatedTime"),
        "durationSeconds": duration_seconds(status, now),
        "phase": progress.get("phase"),
        "filesDone": _count(progress, "filesDone"),
        "filesTotal": _count(progress, "filesTotal"),
        "bytesDone": _count(progress, "bytesDone"),
        "bytesTotal": _count(progress, "bytesTotal"),
        "filesFailed": _count(progress, "filesFailed"),
        "partitionsDone": _count(progress, "partitionsDone"),
        "partitionsTotal": _count(progress, "partitionsTotal"),
    }
