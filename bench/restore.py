"""Restore rows: trees A, B and C brought back by the restore orchestration, against a plain
thread-pool download of the same blobs with ``azure-storage-blob`` (the ceiling), in one run.

Per tree: a fresh Azurite and host; the tree is backed up once (not timed), then the ceiling
and our restore alternate, each into an empty folder. The ceiling downloads without checks;
ours streams into temporary files, checks size and MD5 against the snapshot, sets mtimes,
flushes each file and its folder to disk around the rename, which is the price of a restore
that can be trusted.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobServiceClient, ContainerClient
from requests.adapters import HTTPAdapter

from bench import BenchError
from bench.ceiling import per_file_concurrency
from bench.e2e import backup, run_to_completion, summary
from bench.host import Host, running_host
from bench.monitor import Monitor, Usage
from bench.results import RESTORE, RESTORE_CEILING, MiB, Row, error_text
from bench.storage import PROJECT_DIR, container_name, fresh_azurite
from bench.trees import Tree

log = logging.getLogger(__name__)

RESTORE_FUNCTION = "E2_RestoreSnapshot"


@dataclass(frozen=True)
class Timed:
    seconds: float
    usage: Usage
    workers: int = 0
    status: dict[str, Any] | None = None


def _service(connection_string: str, pool_size: int) -> BlobServiceClient:
    session = requests.Session()
    session.trust_env = False  # loopback only
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    transport = RequestsTransport(session=session, session_owner=True)
    return BlobServiceClient.from_connection_string(connection_string, transport=transport)


def _download_one(container: ContainerClient, name: str, path: Path, concurrency: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        container.download_blob(name, max_concurrency=concurrency).readinto(out)


def download_tree(
    connection_string: str, container: str, prefix: str, tree: Tree, target: Path, workers: int
) -> float:
    """The ceiling: every blob of the tree into ``target`` from a thread pool; seconds."""
    concurrency = per_file_concurrency(workers, tree.files)
    with _service(connection_string, workers * concurrency + 4) as service:
        client = service.get_container_client(container)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="restore-ceiling") as pool:
            futures = [
                pool.submit(
                    _download_one,
                    client,
                    f"{prefix}/{entry.relpath}",
                    target / entry.relpath,
                    concurrency,
                )
                for entry in tree.entries
            ]
            for future in futures:
                future.result()
        return time.perf_counter() - started


def restore(host: Host, body: dict[str, Any], timeout: float) -> tuple[float, dict]:
    return run_to_completion(host, RESTORE_FUNCTION, body, timeout, "restore")


def _empty(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    return path


def _check(tree: Tree, status: dict[str, Any], target: Path) -> None:
    """A benchmark of a wrong restore measures nothing: every file, every byte."""
    failed = summary(status).get("filesFailed", 0)
    restored = sum(1 for path in target.rglob("*") if path.is_file())
    if status.get("output") != tree.total_bytes or failed or restored != tree.files:
        raise BenchError(
            f"restore of tree {tree.spec.name}: output {status.get('output')!r}, {failed} "
            f"failed, {restored} files in the target; expected {tree.total_bytes} bytes in "
            f"{tree.files} files"
        )


def measure(
    workdir: Path, tree: Tree, runs: int, workers: tuple[int, ...], timeout: float
) -> tuple[list[Timed], list[Timed]]:
    """(ceiling runs, our runs) of restoring ``tree``, alternating after a worker sweep."""
    restores = workdir / "restores"
    restores.mkdir(parents=True, exist_ok=True)
    state = _empty(workdir / "hosts" / f"restore-{tree.spec.name}")
    ceiling: list[Timed] = []
    ours: list[Timed] = []
    with fresh_azurite(workdir / "azurite") as server:
        env = {
            "AzureWebJobsStorage": server.connection_string,
            "BACKUP_ALLOWED_ROOTS": str(tree.root.parent),
            "BACKUP_RESTORE_ROOTS": str(restores),
        }
        container = container_name(f"r{tree.spec.name}")
        prefix = tree.root.name
        request = {"path": str(tree.root), "container": container}
        with running_host(PROJECT_DIR, state, env) as host:
            backup(host, tree.root, container, timeout)
            # Untimed: a fresh host's first restore pays one-time costs (imports, clients).
            first = tree.entries[0].relpath
            restore(
                host,
                {**request, "target": str(_empty(restores / "warmup")), "include": [f"/{first}"]},
                timeout,
            )
            pids = {"host": host.pid, "client": os.getpid(), "azurite": server.process.pid}
            for run_no in range(runs):
                sweep = workers if run_no == 0 else (_best(ceiling),)
                for count in sweep:
                    target = _empty(restores / "ceiling")
                    with Monitor(pids) as monitor:
                        seconds = download_tree(
                            server.connection_string, container, prefix, tree, target, count
                        )
                    assert monitor.usage is not None
                    ceiling.append(Timed(seconds, monitor.usage, count))
                target = _empty(restores / "ours")
                with Monitor(pids, with_children=frozenset({"host"})) as monitor:
                    seconds, status = restore(host, {**request, "target": str(target)}, timeout)
                assert monitor.usage is not None
                _check(tree, status, target)
                ours.append(Timed(seconds, monitor.usage, status=status))
                log.info(
                    "restore %s: ceiling %.2f s, ours %.2f s, host peak %.0f MiB",
                    tree.spec.name,
                    min(r.seconds for r in ceiling),
                    seconds,
                    monitor.usage.peak_rss["host"] / MiB,
                )
    return ceiling, ours


def _best(runs: list[Timed]) -> int:
    return min(runs, key=lambda r: r.seconds).workers


def _fill(row: Row, runs: list[Timed], host: bool) -> Row:
    best = min(runs, key=lambda r: r.seconds)
    row.seconds = best.seconds
    row.runs = [round(r.seconds, 4) for r in runs]
    row.cpu_client_s = best.usage.cpu["client"]
    row.cpu_azurite_s = best.usage.cpu["azurite"]
    if host:
        row.peak_rss_mib = max(r.usage.peak_rss["host"] for r in runs) / MiB
        row.cpu_host_s = best.usage.cpu["host"]
    return row


def restore_rows(
    workdir: Path, label: str, tree: Tree, runs: int, workers: tuple[int, ...], timeout: float
) -> list[Row]:
    """The restore ceiling row and our restore row of one tree (failed rows say why)."""
    name = tree.spec.name
    ceiling_row = Row(
        label, RESTORE_CEILING, f"{name} restore ceiling", tree.files, tree.total_bytes
    )
    ours_row = Row(label, RESTORE, f"{name} restore ours", tree.files, tree.total_bytes)
    try:
        ceiling, ours = measure(workdir, tree, runs, workers, timeout)
    except Exception as error:  # a benchmark reports a failure and goes on
        log.exception("restore of %s failed", name)
        ceiling_row.error = ours_row.error = error_text(error)
        return [ceiling_row, ours_row]
    _fill(ceiling_row, [r for r in ceiling if r.workers == _best(ceiling)], host=False)
    ceiling_row.workers = _best(ceiling)
    ceiling_row.note = f"plain download, best at {ceiling_row.workers} workers"
    _fill(ours_row, ours, host=True)
    counters = summary(min(ours, key=lambda r: r.seconds).status or {})
    ours_row.note = (
        f"MD5-checked, renamed into place; partitions {counters.get('partitionsTotal', '?')}"
    )
    return [ceiling_row, ours_row]
