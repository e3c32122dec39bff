"""The ceiling: the tree's files uploaded straight with ``azure-storage-blob`` from a thread pool.

No durable engine, no MD5, no skip check: what the storage (and this machine) can take. The
HTTP connection pool is sized to the workers: the SDK's default pool of 10 connections costs
10-15% once more uploads than that run at once.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobServiceClient, ContainerClient
from requests.adapters import HTTPAdapter

from bench.monitor import Monitor, Usage
from bench.results import CEILING, CEILING_SINGLE_PUT, Row
from bench.storage import container_name, fresh_azurite
from bench.trees import Tree

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadRun:
    workers: int
    per_file_concurrency: int
    seconds: float


def per_file_concurrency(workers: int, files: int) -> int:
    """Block uploads in parallel inside a file when there are fewer files than workers."""
    if files <= 0:
        return 1
    return max(1, workers // files) if files < workers else 1


def _service(connection_string: str, pool_size: int, **settings: int) -> BlobServiceClient:
    session = requests.Session()
    session.trust_env = False  # loopback only: no proxy from the environment
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    transport = RequestsTransport(session=session, session_owner=True)
    return BlobServiceClient.from_connection_string(
        connection_string, transport=transport, **settings
    )


def _upload_one(container: ContainerClient, tree: Tree, index: int, concurrency: int) -> None:
    entry = tree.entries[index]
    with open(tree.root / entry.relpath, "rb") as data:
        container.upload_blob(
            entry.relpath, data, length=entry.size, overwrite=True, max_concurrency=concurrency
        )


def upload_tree(
    connection_string: str, container_name: str, tree: Tree, workers: int, **settings: int
) -> UploadRun:
    """Upload every file of ``tree`` into a new container; the time includes creating it.

    ``settings`` go to the blob client (``max_single_put_size``, ``max_block_size``...).
    """
    concurrency = per_file_concurrency(workers, tree.files)
    service = _service(connection_string, workers * concurrency + 4, **settings)
    with service:
        container = service.get_container_client(container_name)
        started = time.perf_counter()
        container.create_container()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ceiling") as pool:
            futures = [
                pool.submit(_upload_one, container, tree, i, concurrency) for i in range(tree.files)
            ]
            for future in futures:
                future.result()
        seconds = time.perf_counter() - started
    log.info("ceiling %s: %d workers x %d -> %.2f s", tree.spec.name, workers, concurrency, seconds)
    return UploadRun(workers, concurrency, seconds)


@dataclass(frozen=True)
class CeilingRun:
    workers: int
    seconds: float
    usage: Usage  # CPU of this process ("client") and of Azurite


def ceiling_run(workdir: Path, tree: Tree, workers: int, **settings: int) -> CeilingRun:
    """One upload of ``tree`` on a fresh Azurite (in-memory Azurite slows as it fills up)."""
    with fresh_azurite(workdir / "azurite") as server:
        pids = {"client": os.getpid(), "azurite": server.process.pid}
        with Monitor(pids) as monitor:
            run = upload_tree(
                server.connection_string, container_name(tree.spec.name), tree, workers, **settings
            )
    assert monitor.usage is not None
    return CeilingRun(workers, run.seconds, monitor.usage)


def best_workers(runs: Sequence[CeilingRun]) -> int:
    """The worker count of the fastest run."""
    return min(runs, key=lambda r: r.seconds).workers


def ceiling_row(tree_label: str, tree: Tree, runs: Sequence[CeilingRun]) -> Row:
    """The best run at the best worker count; the sweep over worker counts in the note."""
    row = Row(tree_label, CEILING, f"{tree.spec.name} ceiling", tree.files, tree.total_bytes)
    workers = best_workers(runs)
    mine = [r for r in runs if r.workers == workers]
    best = min(mine, key=lambda r: r.seconds)
    row.seconds = best.seconds
    row.runs = [round(r.seconds, 4) for r in mine]
    row.workers = workers
    row.cpu_client_s = best.usage.cpu["client"]
    row.cpu_azurite_s = best.usage.cpu["azurite"]
    row.note = f"best of {len(mine)} at {workers} workers"
    concurrency = per_file_concurrency(workers, tree.files)
    if concurrency > 1:
        row.note += f" x {concurrency} blocks per file"
    counts = sorted({r.workers for r in runs})
    if len(counts) > 1:
        fastest = {w: min(r.seconds for r in runs if r.workers == w) for w in counts}
        row.note += " (sweep " + ", ".join(f"{w}: {s:.2f} s" for w, s in fastest.items()) + ")"
    return row


def single_put_row(workdir: Path, tree_label: str, tree: Tree) -> Row:
    """Informational: each file in one PUT, read whole into memory (not what a backup can do).

    Azurite spends several times more CPU per byte committing staged blocks than storing one
    PUT body, so this shows how much of the block-path ceiling is the emulator's.
    """
    label = f"{tree.spec.name} ceiling, one PUT per file"
    row = Row(tree_label, CEILING_SINGLE_PUT, label, tree.files, tree.total_bytes)
    largest = max((e.size for e in tree.entries), default=0)
    run = ceiling_run(workdir, tree, max(1, tree.files), max_single_put_size=largest + 1)
    row.seconds, row.runs, row.workers = run.seconds, [round(run.seconds, 4)], run.workers
    row.cpu_client_s, row.cpu_azurite_s = run.usage.cpu["client"], run.usage.cpu["azurite"]
    row.note = "informational: whole file in memory, no blocks; not a target"
    return row
