"""The console's HTTP API and page files, through the local host, the app and Azurite.

Bad input gets a 4xx with a JSON message (never a 500 or a stack trace); a real backup
shows up in the list, its detail and its timeline; 10,000 instances page newest first.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from sitebackup.console.paging import WINDOW_CAP
from tests.e2e.console.conftest import MANY
from tests.support.host_process import http_request


def get(host, path):
    return http_request("GET", host.url + path)


def assert_error(answer, status, *words):
    assert answer.status == status, (answer.status, answer.body[:500])
    assert answer.headers.get("Content-Type", "").startswith("application/json")
    message = answer.json()["error"]
    for word in words:
        assert word in message, message
    assert "Traceback" not in message


def test_the_page_and_its_files(console_host):
    for path in ("/console", "/console/", "/console/index.html"):
        answer = get(console_host, path)
        assert answer.status == 200, path
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
        page = answer.body.decode()
        assert 'src="/console/console.js"' in page and 'data-api="/console-api/"' in page
    script = get(console_host, "/console/console.js")
    assert script.status == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert get(console_host, "/console/console.css").headers["Content-Type"].startswith("text/css")
    for path in ("/console/nope.js", "/console/..%2Fhost.json", "/console/static/console.js"):
        answer = get(console_host, path)
        assert answer.status == 404, path
        assert b"There is no console file" in answer.body


def test_config_lists_the_allowed_roots_and_the_starter(console_host, allowed_root):
    config = get(console_host, "/console-api/config").json()
    assert config["allowedRoots"] == [str(allowed_root.resolve())]
    assert config["startUrl"] == "/orchestrators/E2_BackupSiteContent"
    assert "checksum" in config["compareModes"]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("limit=0", ["'limit'", "1 to 200"]),
        ("limit=abc", ["'limit'"]),
        ("limit=100000", ["'limit'"]),
        ("status=Bogus", ["'status'", "Completed"]),
        ("status=Completed,nope", ["'nope'"]),
        ("root=relative/dir", ["'root'", "absolute"]),
        ("from=yesterday", ["'from'", "date and time"]),
        ("to=2026-13-45", ["'to'"]),
        ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", ["'from' is after 'to'"]),
        ("cursor=garbage", ["cursor", "reload"]),
        ("kind=snapshotz", ["'kind'", "backup"]),
    ],
)
def test_bad_list_queries_get_a_400_with_a_message(console_host, query, words):
    assert_error(get(console_host, "/console-api/runs?" + query), 400, *words)


def test_unknown_paths_and_ids(console_host):
    assert_error(get(console_host, "/console-api/nothing"), 404, "console-api/config")
    assert_error(http_request("POST", console_host.url + "/console-api/runs"), 405)
    assert_error(get(console_host, "/console-api/runs/backup-nope"), 404, "no run")
    assert_error(get(console_host, "/console-api/runs/" + quote("bad\x01id")), 400, "instance id")
    assert_error(get(console_host, "/console-api/runs/" + "x" * 300), 400, "instance id")
    terminate = console_host.url + "/console-api/runs/backup-nope/terminate"
    assert_error(http_request("POST", terminate), 404, "no run")
    assert_error(http_request("POST", terminate, b"{not json"), 400, "JSON")
    assert_error(http_request("POST", terminate, b'{"reason": 5}'), 400, "'reason'")


def test_a_backup_in_the_list_its_detail_and_filters(console_host, allowed_root):
    site = allowed_root / "site"
    (site / "a").mkdir(parents=True)
    sizes = {f"a/f{n}.bin": n * 100 for n in range(25)}
    for rel, size in sizes.items():
        (site / rel).write_bytes(b"x" * size)
    started = http_request(
        "POST", console_host.url + "/orchestrators/E2_BackupSiteContent", json.dumps(str(site))
    )
    assert started.status == 202, started.body
    run_id = started.json()["id"]
    console_host.wait_for_status(run_id, {"Completed"}, timeout=60)

    runs = get(console_host, "/console-api/runs").json()["runs"]
    assert [run["id"] for run in runs] == [run_id]
    row = runs[0]
    assert row["root"] == str(site.resolve()) and row["status"] == "Completed"
    assert (row["filesDone"], row["filesTotal"]) == (len(sizes), len(sizes))
    assert (row["bytesDone"], row["bytesTotal"]) == (sum(sizes.values()), sum(sizes.values()))
    assert row["filesFailed"] == 0

    # Filters: by root (the allowed root above it matches, a sibling does not), by status,
    # by time.
    def ids(query):
        answer = get(console_host, "/console-api/runs?" + query)
        assert answer.status == 200, answer.body
        return [run["id"] for run in answer.json()["runs"]]

    assert ids("root=" + quote(str(allowed_root.resolve()))) == [run_id]
    assert ids("root=" + quote(str(allowed_root.resolve()) + "/other")) == []
    assert ids("status=Failed") == []
    assert ids("status=Completed,Failed") == [run_id]
    assert ids("to=2020-01-01T00:00:00Z") == []
    assert ids("from=" + quote(datetime.now(UTC).replace(year=2020).isoformat())) == [run_id]

    detail = get(console_host, f"/console-api/runs/{run_id}").json()
    assert detail["output"] == sum(sizes.values())
    assert detail["options"]["path"] == str(site.resolve())
    labels = [bar["label"] for bar in detail["timeline"]["bars"]]
    assert labels[0] == "listing" and labels[-1] == "final step"
    assert len([label for label in labels if label.startswith("partition")]) == 3  # 25 / 10
    assert detail["failed"] == []

    # A run that has ended cannot be terminated.
    assert_error(
        http_request("POST", f"{console_host.url}/console-api/runs/{run_id}/terminate"),
        409,
        "already ended",
    )


@pytest.mark.slow
def test_ten_thousand_instances_page_newest_first(crowded_host):
    seen: list[tuple[str, str]] = []
    cursor = ""
    requests = 0
    while True:
        query = "limit=200" + (f"&cursor={cursor}" if cursor else "")
        answer = get(crowded_host, "/console-api/runs?" + query)
        assert answer.status == 200, answer.body[:500]
        page = answer.json()
        requests += 1
        # Bounded work per request: a few windows, never the whole hub.
        assert page["scanned"] <= 3 * WINDOW_CAP
        seen.extend((run["created"], run["id"]) for run in page["runs"])
        if not page["next"]:
            break
        cursor = quote(page["next"])
        assert requests <= MANY
    ids = [run_id for _, run_id in seen]
    assert len(ids) == len(set(ids)) == MANY
    assert seen == sorted(seen, reverse=True)
    # Independently of the console: what the host holds.
    first = get(crowded_host, f"/runtime/webhooks/durabletask/instances/{ids[0]}").json()
    assert first["createdTime"] == seen[0][0]
