"""Our backup end to end: HTTP POST to the local host running the app, then its status URL.

Every run gets a fresh Azurite and a fresh host (a new task hub): runs do not slow each other
down, and the host's peak memory is that of one backup.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import BenchError
from bench.host import Host, running_host
from bench.httpapi import request, start_orchestration, wait_until_done
from bench.monitor import Monitor, Usage
from bench.results import OURS, RERUN, MiB, Row
from bench.storage import PROJECT_DIR, container_name, fresh_azurite
from bench.trees import Tree

log = logging.getLogger(__name__)

BACKUP_FUNCTION = "E2_BackupSiteContent"


@dataclass(frozen=True)
class BackupRun:
    seconds: float
    status: dict[str, Any]
    usage: Usage
    history_bytes: int | None = None  # the parent orchestration's history, when asked for

    @property
    def peak_rss_mib(self) -> float:
        return self.usage.peak_rss["host"] / MiB


def run_to_completion(
    host: Host, function: str, body: dict[str, Any], timeout: float, what: str
) -> tuple[float, dict]:
    """POST ``body`` to the orchestrator ``function``; (seconds until Completed, status JSON).

    Any other end is a BenchError that names ``what`` ran, with the host's log tail when the
    wait itself failed.
    """
    url = f"{host.url}/orchestrators/{function}"
    started = time.perf_counter()
    status_url = start_orchestration(url, body)
    try:
        status = wait_until_done(status_url, timeout)
    except BenchError as error:
        raise BenchError(f"{error}\nhost log tail:\n{host.log_tail()}") from None
    seconds = time.perf_counter() - started
    if status.get("runtimeStatus") != "Completed":
        raise BenchError(
            f"{what} ended {status.get('runtimeStatus')}: {str(status.get('output'))[:1000]}"
        )
    return seconds, status


def backup(host: Host, root: Path, container: str, timeout: float) -> tuple[float, dict]:
    """POST a backup of ``root`` into ``container``; (seconds until Completed, status JSON)."""
    body = {"path": str(root), "container": container}
    return run_to_completion(host, BACKUP_FUNCTION, body, timeout, f"backup of {root}")


# The app's custom status counters worth a note in the table, and their words there.
SUMMARY_KEYS = {
    "filesCopied": "copied",
    "filesSkipped": "skipped",
    "filesFailed": "failed",
    "partitionsTotal": "partitions",
}


def summary(status: Mapping[str, Any]) -> dict[str, int]:
    """The app's custom status counters (files copied, skipped...) when it reports them."""
    custom = status.get("customStatus")
    if not isinstance(custom, dict):
        return {}
    return {k: custom[k] for k in SUMMARY_KEYS if isinstance(custom.get(k), int)}


def _check_complete(tree: Tree, status: Mapping[str, Any]) -> None:
    """A benchmark of a wrong backup measures nothing: every byte must be there."""
    output = status.get("output")
    failed = summary(status).get("filesFailed", 0)
    if output != tree.total_bytes or failed:
        raise BenchError(
            f"backup of tree {tree.spec.name} completed with output {output!r} and {failed} "
            f"failed files, expected the tree's {tree.total_bytes} bytes and none failed; "
            f"custom status: {str(status.get('customStatus'))[:2000]}"
        )


def check_rerun(tree: Tree, status: Mapping[str, Any]) -> None:
    """A re-run of an unchanged tree must account for every byte and skip every file: a row
    that copied again, or lost files, would time the wrong work."""
    counters = summary(status)
    wanted = {"filesCopied": 0, "filesSkipped": tree.files, "filesFailed": 0}
    seen = {key: counters.get(key) for key in wanted}
    if status.get("output") != tree.total_bytes or seen != wanted:
        raise BenchError(
            f"re-run of tree {tree.spec.name} completed with output {status.get('output')!r} "
            f"and {seen}, expected {tree.total_bytes} bytes and {wanted}"
        )


def parent_history_bytes(host: Host, instance_id: str) -> int:
    """The size of the backup orchestration's own history (JSON, with the events' inputs and
    results): what every episode of the parent loads and replays."""
    url = (
        f"{host.url}/runtime/webhooks/durabletask/instances/{instance_id}"
        "?showHistory=true&showHistoryOutput=true&showInput=true"
    )
    answer = request("GET", url)
    history = (answer.json() or {}).get("historyEvents") if answer.status == 200 else None
    if not isinstance(history, list):
        raise BenchError(f"GET {url} answered {answer.status} without a history")
    return len(json.dumps(history, separators=(",", ":")).encode("utf-8"))


def _host_env(connection_string: str, tree: Tree) -> dict[str, str]:
    return {
        "AzureWebJobsStorage": connection_string,
        "BACKUP_ALLOWED_ROOTS": str(tree.root.parent),
    }


def _fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def measured_backups(
    workdir: Path,
    tree: Tree,
    warmup: Tree,
    rerun: bool,
    timeout: float,
    run_no: int,
    history: bool = False,
) -> list[BackupRun]:
    """One backup on a fresh Azurite and host; with ``rerun``, a second one into the same
    container on the unchanged tree.

    A backup of the small ``warmup`` tree (its own container) goes first, untimed: the first
    request of a fresh host pays one-time costs (lazy imports, clients, connections) that the
    ceiling, running in a warm process, does not pay either.
    """
    state = _fresh_dir(workdir / "hosts" / f"{tree.spec.name}-{run_no}")
    results = []
    with fresh_azurite(workdir / "azurite") as server:
        env = _host_env(server.connection_string, tree)
        with running_host(PROJECT_DIR, state, env) as host:
            backup(host, warmup.root, container_name("warmup"), timeout)
            container = container_name(tree.spec.name)
            for again in (False, True) if rerun else (False,):
                # The client is this process: it posts the backup and polls its status.
                pids = {"host": host.pid, "client": os.getpid(), "azurite": server.process.pid}
                with Monitor(pids, with_children=frozenset({"host"})) as monitor:
                    seconds, status = backup(host, tree.root, container, timeout)
                if again:
                    check_rerun(tree, status)
                else:
                    _check_complete(tree, status)
                assert monitor.usage is not None
                size = parent_history_bytes(host, status["instanceId"]) if history else None
                results.append(BackupRun(seconds, status, monitor.usage, size))
                log.info(
                    "ours %s%s: %.2f s, host peak %.0f MiB",
                    tree.spec.name,
                    " (re-run)" if again else "",
                    seconds,
                    results[-1].peak_rss_mib,
                )
    return results


def _fill(row: Row, runs: list[BackupRun]) -> Row:
    best = min(runs, key=lambda r: r.seconds)
    row.seconds = best.seconds
    row.runs = [round(r.seconds, 4) for r in runs]
    row.peak_rss_mib = max(r.peak_rss_mib for r in runs)
    row.cpu_host_s = best.usage.cpu["host"]
    row.cpu_client_s = best.usage.cpu["client"]
    row.cpu_azurite_s = best.usage.cpu["azurite"]
    counters = summary(best.status)
    if counters:
        row.note = ", ".join(f"{SUMMARY_KEYS[k]} {v}" for k, v in counters.items())
    if best.history_bytes is not None:
        row.history_bytes = best.history_bytes
        row.note = ", ".join(
            part
            for part in (row.note, f"parent history {best.history_bytes / 1024:,.0f} KiB")
            if part
        )
    return row


def ours_rows(
    tree_label: str, tree: Tree, first: list[BackupRun], again: list[BackupRun]
) -> list[Row]:
    """The row of the backups into fresh containers, and the re-run row when there was one."""
    name = tree.spec.name
    rows = [_fill(Row(tree_label, OURS, f"{name} ours", tree.files, tree.total_bytes), first)]
    if again:
        rows.append(
            _fill(Row(tree_label, RERUN, f"{name} re-run", tree.files, tree.total_bytes), again)
        )
    return rows
