"""Allowed roots are resolved on every request: a re-pointed release link takes effect at once.

Sites are often deployed as ``current -> releases/N``. With ``BACKUP_ALLOWED_ROOTS`` set to
``current``, re-pointing the link must move what may be backed up without a restart: the new
release backs up, and the old one is no longer reachable, not even around the starter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from tests.reliability.backups import JSON, start_backup, started
from tests.support.host_process import HostProcess

WEBHOOKS = "/runtime/webhooks/durabletask"


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    """``deploy/current`` -> ``releases/1``; releases 1 and 2 each hold ``site/index.html``."""
    base = tmp_path / "deploy"
    for release in (1, 2):
        site = base / "releases" / str(release) / "site"
        site.mkdir(parents=True)
        (site / "index.html").write_text(f"release {release}")
    (base / "current").symlink_to(base / "releases" / "1", target_is_directory=True)
    return base


@pytest.fixture
def host_env(storage_connection_string: str, deploy: Path) -> dict[str, str]:
    return {
        "AzureWebJobsStorage": storage_connection_string,
        "BACKUP_ALLOWED_ROOTS": str(deploy / "current"),
    }


def _repoint(link: Path, target: Path) -> None:
    """Re-point a symlink atomically, as deployment tools do (new link, then rename)."""
    fresh = link.with_name(link.name + ".new")
    fresh.symlink_to(target, target_is_directory=True)
    os.replace(fresh, link)


def test_a_repointed_release_link_is_followed_without_a_restart(
    backup_host: HostProcess, deploy: Path, storage_connection_string: str, unique_name: str
) -> None:
    container = BlobServiceClient.from_connection_string(
        storage_connection_string
    ).get_container_client(unique_name)
    site = deploy / "current" / "site"
    _, url = started(start_backup(backup_host, site, unique_name, prefix="first"))
    assert backup_host.wait_for_status(url, timeout=60)["runtimeStatus"] == "Completed"
    assert container.download_blob("first/index.html").readall() == b"release 1"

    _repoint(deploy / "current", deploy / "releases" / "2")
    _, url = started(start_backup(backup_host, site, unique_name, prefix="second"))
    final = backup_host.wait_for_status(url, timeout=60)
    assert final["runtimeStatus"] == "Completed", final
    assert container.download_blob("second/index.html").readall() == b"release 2"

    # The old release is outside the allowed roots now: the starter refuses it...
    old = deploy / "releases" / "1" / "site"
    answer = start_backup(backup_host, old, unique_name, prefix="old")
    assert answer.status == 400, answer.body
    # ...and so do the activities, for a backup started around the starter.
    body = json.dumps({"path": str(old), "container": unique_name, "prefix": "old"})
    answer = backup_host.request(
        "POST", f"{WEBHOOKS}/orchestrators/E2_BackupSiteContent", body, JSON
    )
    final = backup_host.wait_for_status(started(answer)[1], timeout=60)
    assert final["runtimeStatus"] == "Failed", final
    assert "outside the allowed roots" in json.dumps(final["output"]), final["output"]
    assert not list(container.list_blobs(name_starts_with="old/"))
