"""Two backups of one tree with known changes between them, for the snapshot views."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.support.host_process import HostProcess, http_request


@dataclass
class TwoSnapshots:
    site: Path
    before: Path  # a copy of the tree as the first backup saw it
    added: set[str]
    changed: set[str]
    deleted: set[str]


def _backup(host: HostProcess, site: Path) -> None:
    answer = http_request(
        "POST", host.url + "/orchestrators/E2_BackupSiteContent", json.dumps(str(site))
    )
    assert answer.status == 202, answer.body
    host.wait_for_status(answer.json()["id"], {"Completed"}, timeout=90)


def two_snapshots(host: HostProcess, allowed_root: Path, scratch: Path) -> TwoSnapshots:
    site = allowed_root / "site"
    files = {
        "a/x.txt": b"x version one\n",
        "a/y.txt": b"y" * 3000,
        "a/deep/z.bin": bytes(range(256)) * 9,
        "b/gone.txt": b"soon deleted",
        "top.html": b"<p>top</p>",
    }
    for rel, data in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(data)
    _backup(host, site)
    before = scratch / "before"
    shutil.copytree(site, before)
    (site / "a" / "x.txt").write_bytes(b"x version two, longer\n")
    (site / "b" / "gone.txt").unlink()
    (site / "c").mkdir()
    (site / "c" / "new.txt").write_bytes(b"new file")
    _backup(host, site)
    return TwoSnapshots(site, before, {"c/new.txt"}, {"a/x.txt"}, {"b/gone.txt"})
