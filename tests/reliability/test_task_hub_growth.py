"""A year of nightly runs must not grow the task hub for ever.

- A run's partitions are ``<id>:<run>:p<n>``, new ids every run; the starter purges the
  previous run's finished partitions, so a re-run does not add to the task hub.
- The client's ``purge`` removes a backup with its partitions (the extension's purge does not
  cascade).
- Purging gives the space back: the state file shrinks after large inputs are purged.
- The host logs the hub's size when it starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from faults.trees import build_tree
from tests.reliability.backups import list_instances, start_backup, started
from tests.reliability.conftest import PROJECT_DIR
from tests.support.host_process import HostProcess

MIB = 1 << 20
WEBHOOKS = "/runtime/webhooks/durabletask"


def _client(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKUP_", "SITE_BACKUP_"))}
    return subprocess.run(
        [sys.executable, "-m", "backup_client", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env=env,
        timeout=120,
    )


def _hub_bytes(state: Path) -> int:
    return sum(path.stat().st_size for path in state.glob("SiteBackupHub.sqlite*"))


def test_reruns_reuse_partitions_and_purge_removes_them(
    backup_host: HostProcess, allowed_root: Path, unique_name: str
) -> None:
    site = allowed_root / "site"
    build_tree(site, 400, seed=8, max_size=256)
    counts = []
    for run in range(3):
        if run:
            # Every file changes, so every run copies in as many partitions as the first.
            for path in site.rglob("*"):
                if path.is_file():
                    path.write_bytes(path.read_bytes() + b"+")
        instance_id, url = started(start_backup(backup_host, site, unique_name))
        assert backup_host.wait_for_status(url, timeout=120)["runtimeStatus"] == "Completed"
        counts.append(len(list_instances(backup_host)))
    assert counts[0] > 1, "the backup ran without partitions; the test proves nothing"
    assert counts == [counts[0]] * 3, f"instances after each run: {counts}"

    result = _client("purge", instance_id, "--url", backup_host.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"purged {counts[0]} instance(s)" in result.stderr, result.stderr
    assert list_instances(backup_host) == []


def test_purging_large_inputs_gives_the_space_back(
    backup_host: HostProcess, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    log = backup_host.log_path.read_text(errors="replace")
    assert "task hub SiteBackupHub:" in log and "MiB on disk" in log, log[-2000:]
    big = json.dumps({"path": "/nowhere/" + "x" * (3 * MIB)})
    for _ in range(10):
        answer = backup_host.request(
            "POST",
            f"{WEBHOOKS}/orchestrators/E2_BackupSiteContent",
            big,
            {"Content-Type": "application/json"},
        )
        backup_host.wait_for_status(started(answer)[1], timeout=60)
    grown = _hub_bytes(state)
    assert grown > 30 * MIB, f"the inputs did not reach the state file ({grown} bytes)"
    answer = backup_host.request(
        "DELETE", f"{WEBHOOKS}/instances?createdTimeFrom=2000-01-01T00:00:00Z"
    )
    assert answer.status == 200 and answer.json()["instancesDeleted"] == 10, answer.body
    shrunk = _hub_bytes(state)
    assert shrunk < grown - 25 * MIB, f"{grown} bytes before the purge, {shrunk} after"
