"""Snapshots through the console API: destinations, snapshot lists with their change counts,
one snapshot's tree folder by folder; bad input gets a 4xx with a message."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.e2e.console.snapshot_trees import two_snapshots
from tests.support.host_process import http_request


def get(host, url_path, **params):
    query = "?" + urlencode(params) if params else ""
    return http_request("GET", host.url + url_path + query)


@pytest.fixture
def snapped(console_host, allowed_root, tmp_path):
    return two_snapshots(console_host, allowed_root, tmp_path)


def test_destinations_snapshots_and_tree(console_host, snapped, unique_name):
    destinations = get(console_host, "/console-api/destinations").json()
    assert [(d["container"], d["prefix"], d["root"], d["snapshots"]) for d in destinations] == [
        (unique_name, "site", str(snapped.site.resolve()), 2)
    ]

    page = get(console_host, "/console-api/snapshots", container=unique_name, prefix="site")
    assert page.status == 200, page.body
    newest, oldest = page.json()["snapshots"]
    assert newest["endedMs"] >= oldest["endedMs"]
    assert (newest["added"], newest["changed"], newest["deleted"]) == (
        len(snapped.added),
        len(snapped.changed),
        len(snapped.deleted),
    )
    on_disk = [p for p in snapped.site.rglob("*") if p.is_file()]
    assert newest["files"] == len(on_disk)
    assert newest["bytes"] == sum(p.stat().st_size for p in on_disk)

    # The older snapshot's tree is the tree as it was (the copy made then), folder by folder.
    def folder(path, **extra):
        answer = get(
            console_host,
            f"/console-api/snapshots/{oldest['runId']}/tree",
            container=unique_name,
            prefix="site",
            path=path,
            **extra,
        )
        assert answer.status == 200, answer.body
        return answer.json()

    top = folder("")
    assert [(i["type"], i["name"]) for i in top["items"]] == [
        ("folder", "a"),
        ("folder", "b"),
        ("file", "top.html"),
    ]
    before_a = [p for p in (snapped.before / "a").rglob("*") if p.is_file()]
    a_row = top["items"][0]
    assert a_row["files"] == len(before_a)
    assert a_row["bytes"] == sum(p.stat().st_size for p in before_a)
    inside = folder("a")
    sizes = {i["name"]: i["bytes"] for i in inside["items"] if i["type"] == "file"}
    assert sizes == {
        p.name: p.stat().st_size for p in (snapped.before / "a").iterdir() if p.is_file()
    }
    # Paged: one entry at a time, in the same order.
    first = folder("a", limit=1)
    assert len(first["items"]) == 1 and first["next"] == 1 and first["total"] == 3
    second = folder("a", limit=1, offset=1)
    assert second["items"][0]["name"] == inside["items"][1]["name"]


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/console-api/snapshots", {}, 400, ["'container'", "missing"]),
        ("/console-api/snapshots", {"container": "Bad_Name"}, 400, ["'container'"]),
        ("/console-api/snapshots", {"container": "abc", "limit": "0"}, 400, ["'limit'"]),
        ("/console-api/snapshots", {"container": "abc", "offset": "-1"}, 400, ["'offset'"]),
        ("/console-api/snapshots", {"container": "nothing-here"}, 404, ["no snapshots"]),
        (
            "/console-api/snapshots/20260101T000000Z-0/tree",
            {"container": "nothing-here"},
            404,
            ["no snapshot"],
        ),
    ],
)
def test_bad_snapshot_queries(console_host, path, params, status, words):
    answer = get(console_host, path, **params)
    assert answer.status == status, answer.body
    message = answer.json()["error"]
    for word in words:
        assert word in message, message


def test_a_folder_the_snapshot_does_not_have(console_host, snapped, unique_name):
    page = get(console_host, "/console-api/snapshots", container=unique_name, prefix="site")
    run_id = page.json()["snapshots"][0]["runId"]
    answer = get(
        console_host,
        f"/console-api/snapshots/{run_id}/tree",
        container=unique_name,
        prefix="site",
        path="b",  # deleted before the newest snapshot
    )
    assert answer.status == 404
    assert "no folder 'b'" in answer.json()["error"]
