"""Peak memory of the post-copy confirmation (E2_ConfirmBackup) as the run grows.

Not part of ``./dev bench``: a one-off measurement. It starts an in-memory Azurite, stores
one blob per file (1 KiB) for the largest size (a smaller size's run is the first files of
it in name order: the listing streams the rest past), writes the run's unchanged and stored
pages as a backup run would (half each, interleaved in name order), then calls
``confirm_backup`` in a fresh interpreter per size and samples that process's RSS with
psutil. ``--code DIR`` runs the activity from another checkout's ``sitebackup`` (to compare
with an earlier version)::

    .venv/bin/python -m bench.confirm_memory 20000 100000
    .venv/bin/python -m bench.confirm_memory --code ../earlier-checkout 20000 100000
    .venv/bin/python -m bench.confirm_memory --page-size 1000 20000

Measured on the 2-core machine (in-memory Azurite, other work running; the 20,000-file run
confirms the first 20,000 of the 100,000 blobs): peak RSS of the activity's process, before
(a map of every entry) and after (merge-join), by List Blobs page size:

    files     before      after (5,000 blobs/page)   after (1,000 blobs/page)
    20,000    144.1 MiB   141.6 MiB                  76.1 MiB
    100,000   179.1 MiB   142.4 MiB                  76.1 MiB

At 100,000 files, by page size (two runs each where two times are given): 5,000: 142 MiB,
46-55 s; 2,000: 94 MiB, 64 s; 1,000: 76 MiB, 67-80 s (in-memory Azurite slows per request).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
from azure.storage.blob import BlobServiceClient, ContentSettings

from devhost import azurite
from sitebackup import layout, manifest, metadata
from sitebackup.manifest import Entry
from sitebackup.snapshot_store import SnapshotStore

PROJECT = Path(__file__).resolve().parent.parent
CONTAINER = "confirm-memory"
META = "confirm-memory-meta"
MTIME_NS = 1_700_000_000_000_000_000
CONTENT = b"x" * 1024
STORED_PAGE = 100  # the default partition size

CHILD = """
import json, sys
from sitebackup import confirm_activity, storage
if len(sys.argv) > 2:
    storage.LIST_PAGE_SIZE = int(sys.argv[2])
print(json.dumps(confirm_activity.confirm_backup(json.loads(sys.argv[1]))))
"""


def _names(count: int) -> list[str]:
    return [f"d{i % 97:02d}/f{i:07d}.html" for i in range(count)]


PREFIX = "www"


def _upload(connection: str, count: int) -> None:
    service = BlobServiceClient.from_connection_string(connection)
    container = service.get_container_client(CONTAINER)
    settings = ContentSettings(content_md5=bytearray(hashlib.md5(CONTENT).digest()))
    meta = metadata.for_file(len(CONTENT), MTIME_NS)

    def put(path: str) -> None:
        container.upload_blob(
            f"{PREFIX}/{path}", CONTENT, overwrite=True, content_settings=settings, metadata=meta
        )

    with ThreadPoolExecutor(8) as pool:
        for _ in pool.map(put, _names(count), chunksize=256):
            pass


def _prepare(connection: str, count: int, largest: int) -> dict:
    prefix = PREFIX
    run_id = f"run-{count}"
    service = BlobServiceClient.from_connection_string(connection)
    md5 = hashlib.md5(CONTENT).digest()
    paths = sorted(_names(largest))[:count]
    store = SnapshotStore(service.get_container_client(META), CONTAINER, prefix)
    kinds: dict[str, list[Entry]] = {layout.UNCHANGED_PAGE: [], layout.STORED_PAGE: []}
    for i, path in enumerate(paths):
        kinds[layout.STORED_PAGE if i % 2 else layout.UNCHANGED_PAGE].append(
            Entry(path, len(CONTENT), MTIME_NS, md5)
        )
    sizes = {layout.UNCHANGED_PAGE: manifest.PAGE_ENTRIES, layout.STORED_PAGE: STORED_PAGE}
    pages = {}
    for kind, entries in kinds.items():
        size = sizes[kind]
        pages[kind] = 0
        for start in range(0, len(entries), size):
            name = layout.run_page(CONTAINER, prefix, run_id, kind, pages[kind])
            store.write_page(name, manifest.encode_entries(entries[start : start + size]))
            pages[kind] += 1
    return {
        "job": {"root": "/srv/www", "container": CONTAINER, "prefix": prefix},
        "runId": run_id,
        "partitions": pages[layout.STORED_PAGE],
        "unchangedPages": pages[layout.UNCHANGED_PAGE],
    }


def _measure(
    value: dict, env: dict[str, str], code: Path, page_size: int | None
) -> tuple[float, float, dict]:
    extra = [] if page_size is None else [str(page_size)]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(value), *extra],
        env={**env, "PYTHONPATH": str(code)},
        cwd=str(code),
        stdout=subprocess.PIPE,
        text=True,
    )
    process = psutil.Process(child.pid)
    peak = 0
    start = time.monotonic()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, _ = child.communicate()
    done.set()
    sampler.join()
    if child.returncode:
        raise SystemExit(f"the activity failed (exit {child.returncode})")
    return peak / 2**20, time.monotonic() - start, json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", type=int)
    parser.add_argument("--code", type=Path, action="append", default=[])
    parser.add_argument(
        "--page-size", type=int, action="append", help="blobs per List Blobs request"
    )
    args = parser.parse_args()
    codes = args.code or [PROJECT]
    with tempfile.TemporaryDirectory() as work:
        server = azurite.start(Path(work), project_dir=PROJECT)
        try:
            connection = server.connection_string
            service = BlobServiceClient.from_connection_string(connection)
            service.create_container(CONTAINER)
            service.create_container(META)
            env = {
                **os.environ,
                "AzureWebJobsStorage": connection,
                "BACKUP_META_CONTAINER": META,
                "BACKUP_ALLOWED_ROOTS": "/srv",
            }
            largest = max(args.sizes)
            _upload(connection, largest)
            for count in args.sizes:
                value = _prepare(connection, count, largest)
                for code in codes:
                    for page_size in args.page_size or [None]:
                        peak, seconds, result = _measure(value, env, code, page_size)
                        print(
                            f"{code} (page {page_size or 'default'}): {count} files: "
                            f"peak RSS {peak:.1f} MiB, {seconds:.1f} s, "
                            f"confirmed {result['confirmed']}, missing {result['missing']}",
                            flush=True,
                        )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
