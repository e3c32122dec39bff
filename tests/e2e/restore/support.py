"""Helpers of the restore end-to-end tests: trees, oracles, hand-written snapshots."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from azure.storage.blob import BlobServiceClient, ContentSettings

from sitebackup import layout, manifest
from sitebackup.manifest import Entry, Header, PageRef
from sitebackup.restore.names import TEMP_PREFIX
from sitebackup.snapshot_store import SnapshotStore
from tests.support.host_process import HostProcess, http_request, running_host

RESTORE = "orchestrators/E2_RestoreSnapshot"
BACKUP = "orchestrators/E2_BackupSiteContent"
PROJECT_DIR = Path(__file__).resolve().parents[3]


def make_places(base: Path, names: Iterable[str]) -> dict[str, Path]:
    """One new folder per name below ``base`` (allowed roots, restore roots, oracles...)."""
    found = {name: base / name for name in names}
    for path in found.values():
        path.mkdir()
    return found


@contextmanager
def restore_host(
    azurite, places: dict[str, Path], state: Path, **settings: str
) -> Iterator[HostProcess]:
    """The local host serving the app, backing up from ``places["sites"]`` and restoring
    into ``places["restores"]``; ``settings`` add or replace app settings."""
    env = {
        "AzureWebJobsStorage": azurite.connection_string,
        "BACKUP_STORAGE_CONNECTION": azurite.connection_string,
        "BACKUP_ALLOWED_ROOTS": str(places["sites"]),
        "BACKUP_RESTORE_ROOTS": str(places["restores"]),
        "BACKUP_RETRY_FIRST_INTERVAL_MS": "200",
        # Small partitions: progress moves in small steps, so a kill can land mid-restore.
        "BACKUP_PARTITION_SIZE": "20",
        **settings,
    }
    with running_host(PROJECT_DIR, state, env=env) as running:
        yield running


def snapshot_of(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every regular file under ``root``: its bytes and mtime (ns). The oracle's view."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(root).as_posix()] = (path.read_bytes(), path.stat().st_mtime_ns)
    return found


def copy_aside(root: Path, where: Path) -> dict[str, tuple[bytes, int]]:
    """A copy of the tree made with shutil (not our code), and its content."""
    shutil.copytree(root, where, symlinks=True)
    return snapshot_of(where)


def contents(tree: dict[str, tuple[bytes, int]]) -> dict[str, bytes]:
    return {path: data for path, (data, _) in tree.items()}


def temp_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.startswith(TEMP_PREFIX)]


def build_tree(root: Path, files: int, seed: int, size: int = 2048) -> None:
    rng = random.Random(seed)
    for index in range(files):
        path = root / f"d{index % 7}" / f"s{index % 3}" / f"f{index:04d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(size + rng.randrange(size)))
        os.utime(path, ns=(1_700_000_000_000_000_000 + index, 1_700_000_000_000_000_000 + index))


def post(host: HostProcess, route: str, body: object):
    return http_request(
        "POST", f"{host.url}/{route}", json.dumps(body), {"Content-Type": "application/json"}
    )


def start(host: HostProcess, route: str, body: object) -> str:
    answer = post(host, route, body)
    assert answer.status == 202, (answer.status, answer.body)
    return answer.json()["id"]


def run(host: HostProcess, route: str, body: object, timeout: float = 180) -> dict:
    instance = start(host, route, body)
    return host.wait_for_status(instance, timeout=timeout)


def write_snapshot(
    connection_string: str,
    container: str,
    prefix: str,
    run_id: str,
    files: dict[str, bytes],
    extra_lines: list[dict] = (),
    meta_name: str = layout.DEFAULT_META_CONTAINER,
) -> None:
    """Blobs as a backup stores them and a manifest listing them, written by hand.

    Lets a test put into storage what no backup would (hostile names), through the same
    format the backup writes.
    """
    service = BlobServiceClient.from_connection_string(connection_string)
    backup = service.get_container_client(container)
    if not backup.exists():
        backup.create_container()
    meta = service.get_container_client(meta_name)
    if not meta.exists():
        meta.create_container()
    lines = []
    for rel, data in files.items():
        md5 = hashlib.md5(data).digest()
        backup.upload_blob(
            f"{prefix}/{rel}",
            data,
            overwrite=True,
            content_settings=ContentSettings(content_md5=bytearray(md5)),
        )
        lines.append(Entry(rel, len(data), 1_700_000_000_000_000_000, md5).to_json())
    lines += list(extra_lines)
    store = SnapshotStore(meta, container, prefix)
    name = layout.run_page(container, prefix, run_id, layout.STORED_PAGE, 0)
    store.write_page(name, manifest.encode_lines(lines))
    store.write_header(
        Header(
            run_id=run_id,
            root="/srv/" + prefix,
            container=container,
            prefix=prefix,
            started_ms=1_000,
            ended_ms=2_000,
            files=len(lines),
            bytes=sum(n for line in lines if isinstance(n := line.get("size"), int)),
            pages=(PageRef(name, len(lines)),),
        )
    )
