"""A backup with more partitions than one generation holds, through the real host and SDK.

The parent continues as new between generations; what a user sees must not change: one
instance, one run id for every partition, the tree's byte count as the output, a snapshot
that restores the tree as it was, and a history that does not grow with the partitions.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.e2e.restore.support import contents, make_places, restore_host, snapshot_of, start
from tests.support.host_process import HostProcess, http_request

FILES = 40  # one file per partition, two partitions per wave: three generations


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_places(tmp_path_factory.mktemp("generations"), ("sites", "restores", "oracles"))


@pytest.fixture(scope="module")
def host(azurite, places, tmp_path_factory) -> Iterator[HostProcess]:
    state = tmp_path_factory.mktemp("host-state")
    settings = {"BACKUP_PARTITION_SIZE": "1", "BACKUP_PARTITION_CONCURRENCY": "2"}
    with restore_host(azurite, places, state, **settings) as running:
        yield running


def files_of(root: Path) -> dict[str, bytes]:
    return contents(snapshot_of(root))


def get(host: HostProcess, path: str) -> object:
    answer = http_request("GET", f"{host.url}/runtime/webhooks/durabletask/{path}")
    assert answer.status == 200, (answer.status, answer.body)
    return answer.json()


@pytest.fixture(scope="module")
def backed_up(host, places) -> dict:
    """A 40-file tree backed up once, with a copy of the tree made before the backup."""
    name = "generations"
    site = places["sites"] / name
    rng = random.Random(7)
    for index in range(FILES):
        path = site / f"d{index % 3}" / f"f{index:03d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(100 + rng.randrange(900)))
    oracle = shutil.copytree(site, places["oracles"] / name)
    body = {"path": str(site), "container": name, "prefix": "www"}
    instance = start(host, "orchestrators/E2_BackupSiteContent", body)
    status = host.wait_for_status(instance, timeout=240)
    return {"instance": instance, "status": status, "body": body, "expected": files_of(oracle)}


def test_a_backup_of_many_generations_reads_as_one_run(host, places, backed_up):
    instance, status = backed_up["instance"], backed_up["status"]
    body, expected = backed_up["body"], backed_up["expected"]
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"] == sum(len(data) for data in expected.values())
    progress = status["customStatus"]
    assert progress["partitionsDone"] == progress["partitionsTotal"] == FILES
    assert (progress["filesCopied"], progress["filesFailed"]) == (FILES, 0)

    # Every partition of every generation belongs to the one run of this instance.
    partitions = get(host, f"instances?instanceIdPrefix={quote(instance + ':')}&top=1000")
    runs = {item["instanceId"].split(":")[-2] for item in partitions}
    assert len(partitions) == FILES and runs == {progress["runId"]}
    assert {item["runtimeStatus"] for item in partitions} == {"Completed"}

    # The history of the instance is its last generation's: fewer partitions than the run's.
    detail = get(host, f"instances/{quote(instance)}?showHistory=true&showHistoryOutput=true")
    ended = [
        e for e in detail["historyEvents"] if e["EventType"] == "SubOrchestrationInstanceCompleted"
    ]
    assert 0 < len(ended) < FILES / 2
    assert detail["historyEvents"][0]["EventType"] == "ExecutionStarted"

    # The console shows the run whole: every partition of every generation on its timeline,
    # and the run's start, not its last generation's.
    answer = http_request("GET", f"{host.url}/console-api/runs/{quote(instance, safe='')}")
    assert answer.status == 200, answer.body
    shown = answer.json()
    bars = [bar for bar in shown["timeline"]["bars"] if bar["label"].startswith("partition")]
    assert len(bars) == FILES and {bar["state"] for bar in bars} == {"completed"}
    first_created = min(item["createdTime"] for item in partitions)
    assert shown["run"]["created"] < first_created < status["createdTime"]
    assert shown["run"]["filesDone"] == FILES

    # A second run skips every file, in one generation: nothing to copy.
    again = host.wait_for_status(
        start(host, "orchestrators/E2_BackupSiteContent", body), timeout=240
    )
    assert again["runtimeStatus"] == "Completed", again
    assert again["customStatus"]["filesSkipped"] == FILES
    assert again["output"] == status["output"]


def test_a_restore_of_many_generations_reads_as_one_run(host, places, backed_up):
    # The restore cuts as the backup does: one file per partition here, two per wave, so
    # 40 partitions in three generations.
    assert backed_up["status"]["runtimeStatus"] == "Completed", backed_up["status"]
    target = places["restores"] / "generations"
    body = {**backed_up["body"], "target": str(target)}
    instance = start(host, "orchestrators/E2_RestoreSnapshot", body)
    status = host.wait_for_status(instance, timeout=240)

    assert status["runtimeStatus"] == "Completed", status
    # The snapshot restores the tree as it was before the backup.
    assert files_of(target) == backed_up["expected"]
    assert status["output"] == sum(len(data) for data in backed_up["expected"].values())
    progress = status["customStatus"]
    assert progress["partitionsDone"] == progress["partitionsTotal"] == FILES
    assert (progress["filesCopied"], progress["filesFailed"]) == (FILES, 0)

    # Every partition of every generation exists, all under one run token; the last
    # generation's input carries that token, so terminate and purge find them all.
    partitions = get(host, f"instances?instanceIdPrefix={quote(instance + ':')}&top=1000")
    runs = {item["instanceId"].split(":")[-2] for item in partitions}
    assert len(partitions) == FILES and len(runs) == 1
    assert {item["runtimeStatus"] for item in partitions} == {"Completed"}
    carried = status["input"] if isinstance(status["input"], dict) else json.loads(status["input"])
    assert runs == {carried["resume"]["runId"]}

    # Each partition was handed the run and its index into the plan, not a slice of the tree.
    inputs = [
        item["input"] if isinstance(item["input"], dict) else json.loads(item["input"])
        for item in partitions
    ]
    assert sorted(i["index"] for i in inputs) == list(range(FILES))
    assert all(set(i) == {"job", "run", "index"} and i["run"] in runs for i in inputs)

    # The parent's history is its last generation's: fewer completions than the run had.
    detail = get(host, f"instances/{quote(instance)}?showHistory=true&showHistoryOutput=true")
    events = detail["historyEvents"]
    ended = [e for e in events if e["EventType"] == "SubOrchestrationInstanceCompleted"]
    assert 0 < len(ended) < FILES / 2

    # The console shows the restore whole: every partition on its timeline.
    answer = http_request("GET", f"{host.url}/console-api/runs/{quote(instance, safe='')}")
    assert answer.status == 200, answer.body
    shown = answer.json()
    bars = [bar for bar in shown["timeline"]["bars"] if bar["label"].startswith("partition")]
    assert len(bars) == FILES and {bar["state"] for bar in bars} == {"completed"}
    assert shown["run"]["created"] < min(item["createdTime"] for item in partitions)
    assert shown["run"]["filesDone"] == FILES
