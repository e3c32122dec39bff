"""A backup that carries a retention policy (as scheduled backups do with BACKUP_RETENTION)
prunes its destination as its last step: through the local host, the real orchestrators
(backup, then prune as a sub-orchestration) and a real Azurite."""

from __future__ import annotations

import json
import urllib.parse

from azure.storage.blob import BlobServiceClient

from sitebackup.job import Job
from sitebackup.retention import Policy
from sitebackup.snapshot_store import SnapshotStore


def start_directly(host, job: Job, instance_id: str) -> str:
    """Start the orchestrator through the Durable HTTP API, with the input a scheduled start
    builds (the HTTP starter never sets a retention policy)."""
    url = (
        f"{host.url}/runtime/webhooks/durabletask/orchestrators/E2_BackupSiteContent/"
        f"{urllib.parse.quote(instance_id)}"
    )
    answer = host.request(
        "POST", url, json.dumps(job.to_input()), {"Content-Type": "application/json"}
    )
    assert answer.status == 202, answer.body
    return answer.json()["statusQueryGetUri"]


def test_each_run_keeps_the_policys_snapshots(host, azurite, roots, unique_name):
    site = roots / f"site-{unique_name}"
    site.mkdir()
    page = site / "index.html"
    job = Job(root=str(site), container=unique_name, prefix="www", retention=Policy(last=2))
    runs = []
    for round_ in range(3):
        page.write_text(f"version {round_}\n" * (round_ + 1))
        status_url = start_directly(host, job, f"{unique_name}-{round_}")
        final = host.wait_for_status(status_url, timeout=120)
        assert final["runtimeStatus"] == "Completed", final
        assert final["output"] == page.stat().st_size  # still the byte count
        runs.append(final["customStatus"])

    assert runs[0]["retention"]["dropped"] == 0
    assert runs[2]["retention"]["dropped"] == 1
    assert runs[2]["retention"]["kept"] == 2
    with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        store = SnapshotStore(service.get_container_client("backup-meta"), unique_name, "www")
        kept = [ref.run_id for ref in store.list()]
    # Newest first: the last two runs, as their own status names them.
    assert kept == [runs[2]["runId"], runs[1]["runId"]]
