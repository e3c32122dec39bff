"""Concurrency: one backup per destination at a time; many at once under polling load."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from faults.trees import build_tree, total_bytes
from tests.reliability.backups import (
    JSON,
    START,
    backup_problems,
    start_backup,
    started,
    status,
    wait_until,
)
from tests.reliability.load import MemorySampler, Poller
from tests.support.host_process import HostProcess

log = logging.getLogger(__name__)
MIB = 1 << 20


def test_a_second_backup_of_the_same_root_is_refused_with_the_running_one(
    backup_host: HostProcess, allowed_root: Path, unique_name: str
) -> None:
    site = allowed_root / "site"
    manifest = build_tree(site, 400, seed=3)
    first_id, first_url = started(start_backup(backup_host, site, unique_name))
    second = start_backup(backup_host, site, unique_name)
    running = status(backup_host, first_url)
    assert running.get("runtimeStatus") in ("Pending", "Running"), (
        f"the first backup ended before the second request; the test proved nothing: {running}"
    )
    assert second.status == 409, (second.status, second.body[:500])
    body = second.json()
    assert body["id"] == first_id
    assert body["statusQueryGetUri"].split("?")[0] == first_url.split("?")[0]
    assert body.get("error"), body
    # Another destination for the same root is another backup, and may run alongside.
    other_id, other_url = started(start_backup(backup_host, site, unique_name + "b"))
    assert other_id != first_id
    for url in (first_url, other_url):
        final = backup_host.wait_for_status(url, timeout=120)
        assert final["runtimeStatus"] == "Completed", final
        assert final["output"] == total_bytes(manifest)
    # Once it has ended, the same backup may run again (under the same id).
    again_id, again_url = started(start_backup(backup_host, site, unique_name))
    assert again_id == first_id
    assert backup_host.wait_for_status(again_url, timeout=120)["runtimeStatus"] == "Completed"


def test_simultaneous_starts_of_one_backup_make_exactly_one_instance(
    backup_host: HostProcess, allowed_root: Path, unique_name: str
) -> None:
    site = allowed_root / "site"
    build_tree(site, 300, seed=4)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: start_backup(backup_host, site, unique_name), range(8)))
    codes = sorted(answer.status for answer in answers)
    assert codes == [202] + [409] * 7, [(a.status, a.body[:200]) for a in answers]
    ids = {answer.json()["id"] for answer in answers}
    assert len(ids) == 1, ids
    url = next(answer.headers["Location"] for answer in answers if answer.status == 202)
    assert backup_host.wait_for_status(url, timeout=120)["runtimeStatus"] == "Completed"


def test_two_roots_with_the_same_folder_name_never_share_a_destination(
    backup_host: HostProcess,
    allowed_root: Path,
    storage_connection_string: str,
    unique_name: str,
) -> None:
    # Both default to the prefix "www".
    roots = (allowed_root / "a" / "www", allowed_root / "b" / "www")
    manifests = {root: build_tree(root, 200, seed=index + 5) for index, root in enumerate(roots)}
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda root: start_backup(backup_host, root, unique_name), roots))
    codes = sorted(answer.status for answer in answers)
    assert codes == [202, 409], [(a.status, a.body[:300]) for a in answers]
    winner, loser = roots if answers[0].status == 202 else roots[::-1]
    refusal = answers[roots.index(loser)].json()
    assert str(winner) in refusal["error"] and str(loser) in refusal["error"], refusal
    url = answers[roots.index(winner)].headers["Location"]
    assert backup_host.wait_for_status(url, timeout=120)["runtimeStatus"] == "Completed"
    # The destination holds exactly the winner's tree, nothing of the other.
    assert backup_problems(storage_connection_string, unique_name, "www", manifests[winner]) == []
    # One after the other, the other root is still refused...
    assert start_backup(backup_host, loser, unique_name).status == 409
    # ...unless the request says to take the destination over.
    body = json.dumps({"path": str(loser), "container": unique_name, "takeOver": True})
    _, url = started(backup_host.request("POST", START, body, JSON))
    final = backup_host.wait_for_status(url, timeout=120)
    assert final["runtimeStatus"] == "Completed", final
    assert final["output"] == total_bytes(manifests[loser])


@pytest.mark.slow
def test_twenty_backups_at_once_under_200_polls_a_second(
    backup_host: HostProcess,
    allowed_root: Path,
    storage_connection_string: str,
    unique_name: str,
) -> None:
    trees = {}
    for index in range(20):
        site = allowed_root / f"site-{index:02d}"
        trees[site] = build_tree(site, 60, seed=100 + index, max_size=8192)
    with MemorySampler(backup_host.pid) as memory:
        baseline = memory.rss()
        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda s: start_backup(backup_host, s, unique_name), trees))
        urls = [started(answer)[1] for answer in answers]
        with Poller(urls, rate=200) as poller:
            finals = [backup_host.wait_for_status(url, timeout=240) for url in urls]
            # Keep the load on for a moment after the last completion as well.
            wait_until(lambda: poller.stats.sent, lambda sent: sent >= 400, 30, "400 polls")
    stats = poller.stats
    log.info(
        "%d polls at %.0f/s, p50 %.3f s, p99 %.3f s, %d errors; host RSS %.0f -> peak %.0f MiB",
        stats.sent,
        stats.rate,
        stats.percentile(0.5),
        stats.percentile(0.99),
        len(stats.errors),
        baseline / MIB,
        memory.peak / MIB,
    )
    for (site, manifest), final in zip(trees.items(), finals, strict=True):
        assert final["runtimeStatus"] == "Completed", final
        assert final["output"] == total_bytes(manifest), (site.name, final)
        assert backup_problems(storage_connection_string, unique_name, site.name, manifest) == []
    assert not stats.errors, stats.errors[:10]
    # Every poll got its answer (each within its request's deadline), and the host answered
    # while the backups ran, not only once they had ended. How fast is the benchmark's
    # question, not this test's.
    assert sum(stats.answers.values()) == stats.sent >= 400, (stats.answers, stats.sent)
    assert stats.answers[202] > 0, stats.answers
    assert memory.peak - baseline < 100 * MIB, (
        f"host RSS grew from {baseline / MIB:.0f} to {memory.peak / MIB:.0f} MiB"
    )
