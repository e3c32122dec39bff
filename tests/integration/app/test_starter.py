"""HttpStart with the real client SDK talking HTTP to a recording stand-in of the extension."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import azure.functions as func
import pytest
from azure.durable_functions.models.utils import http_utils

import HttpStart
from sitebackup.request import instance_id
from tests.integration.app.durable_stub import DurableStub

REQUEST_ORIGIN = "http://backup.example.test:8080"


def http_request(body: Any, name: str = "E2_BackupSiteContent", raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body).encode()
    return func.HttpRequest(
        method="POST",
        url=f"{REQUEST_ORIGIN}/orchestrators/{name}",
        headers={"Content-Type": "application/json"},
        route_params={"functionName": name},
        body=data,
    )


def run(scenario: Callable[[DurableStub], Awaitable[Any]], stub: DurableStub | None = None):
    """Run ``scenario`` against a fresh stub, in one event loop, and close the SDK's session."""

    async def main() -> Any:
        async with stub or DurableStub() as server:
            try:
                return await scenario(server), server
            finally:
                # The SDK keeps one aiohttp session per process; it belongs to this loop.
                await http_utils._close_session()

    return asyncio.run(main())


def call(req: func.HttpRequest, stub: DurableStub | None = None):
    async def scenario(server: DurableStub) -> func.HttpResponse:
        return await HttpStart.main(req, server.binding())

    return run(scenario, stub)


@pytest.fixture
def site(sites, monkeypatch, storage_connection_string, unique_name):
    (sites / "www" / "css").mkdir(parents=True)
    (sites / "www" / "index.html").write_text("hi")
    monkeypatch.setenv("BACKUP_ALLOWED_ROOTS", str(sites))
    # Owner records go to Azurite, in a meta container of this test's own.
    monkeypatch.setenv("BACKUP_STORAGE_CONNECTION", storage_connection_string)
    monkeypatch.setenv("BACKUP_META_CONTAINER", unique_name)
    for name in ("BACKUP_CONTAINER", "BACKUP_PARTITION_SIZE", "BACKUP_COMPARE"):
        monkeypatch.delenv(name, raising=False)
    return sites / "www"


def error_of(response: func.HttpResponse) -> str:
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.get_body())["error"]


def test_a_good_request_starts_the_backup_and_answers_202_with_status_urls(site):
    response, stub = call(http_request({"path": str(site), "prefix": "nightly"}))

    assert response.status_code == 202
    expected_id = instance_id("backups", "nightly")
    body = json.loads(response.get_body())
    assert body["id"] == expected_id
    assert body["statusQueryGetUri"].startswith(
        f"{REQUEST_ORIGIN}/runtime/webhooks/durabletask/instances/{expected_id}?"
    )
    assert response.headers["Location"] == body["statusQueryGetUri"]
    assert {"terminatePostUri", "purgeHistoryDeleteUri", "sendEventPostUri"} <= set(body)
    (started,) = stub.started
    assert started["name"] == "E2_BackupSiteContent"
    assert started["instance_id"] == expected_id
    assert started["input"] == {
        "root": str(site.resolve()),
        "container": "backups",
        "prefix": "nightly",
        "compare": "checksum",
        "partitionSize": 100,
        "partitionConcurrency": 4,
        "retry": {"firstIntervalMs": 5000, "maxAttempts": 3},
        "rules": {"excludeDefaults": [], "exclude": [], "include": [], "ignoreFile": True},
        "dryRun": False,
    }


def test_the_documented_sample_body_a_json_string_works(site):
    response, stub = call(http_request(str(site)))
    assert response.status_code == 202
    assert stub.started[0]["input"]["prefix"] == "www"


def test_the_orchestrator_name_is_matched_case_insensitively(site):
    response, stub = call(http_request(str(site), name="e2_backupsitecontent"))
    assert response.status_code == 202
    assert stub.started[0]["name"] == "E2_BackupSiteContent"


@pytest.mark.parametrize("name", ["E1_HelloSequence", "E2_BackupPartition", "E2_GetFileList"])
def test_unknown_or_internal_orchestrators_get_404_and_nothing_starts(site, name):
    response, stub = call(http_request(str(site), name=name))
    assert response.status_code == 404
    assert "POST to /orchestrators/E2_BackupSiteContent" in error_of(response)
    assert stub.requests == []


BAD_REQUESTS = [
    (b"", "the request body is empty"),
    (b"{oops", "not valid JSON"),
    (b"17", "must be a JSON string or object"),
    (b'{"container": "backups"}', "'path' is missing"),
    (b'{"path": ["/x"]}', "'path' must be a string"),
    (b'"relative/dir"', "'path' must be absolute"),
    (b'"/srv/www\\u0000"', "NUL character"),
    (b'"/etc"', "outside the allowed roots"),
    (b'{"path": "/etc", "colour": 1}', "unknown option"),
    (b'"/srv/\\ud800"', "lone surrogate"),
    (b'{"path": "/srv/www", "prefix": "\\udc80"}', "lone surrogate"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_REQUESTS)
def test_bad_requests_get_400_and_nothing_starts(site, raw, message):
    response, stub = call(http_request(None, raw=raw))
    assert response.status_code == 400
    assert message in error_of(response)
    assert stub.requests == []


def test_missing_and_non_directory_paths_get_400(site):
    for path, message in (
        (site / "missing", "does not exist"),
        (site / "index.html", "not a directory"),
    ):
        response, stub = call(http_request(str(path)))
        assert response.status_code == 400
        assert message in error_of(response)
        assert stub.requests == []


def test_bad_options_get_400(site):
    for options, message in (
        ({"container": "No_Such"}, "'container' 'No_Such' is not valid"),
        ({"prefix": "../x"}, "'prefix' is not valid"),
        ({"takeOver": 1}, "'takeOver' must be true or false"),
    ):
        response, stub = call(http_request({"path": str(site), **options}))
        assert response.status_code == 400
        assert message in error_of(response)
        assert stub.started == []


def test_without_allowed_roots_every_request_gets_400_saying_how_to_fix_it(site, monkeypatch):
    monkeypatch.delenv("BACKUP_ALLOWED_ROOTS")
    for req in (http_request(str(site)), http_request(None, raw=b"not json")):
        response, stub = call(req)
        assert response.status_code == 400
        assert "set the app setting BACKUP_ALLOWED_ROOTS" in error_of(response)
        assert stub.requests == []


def test_a_misconfigured_app_answers_500_naming_the_setting(site, monkeypatch):
    monkeypatch.setenv("BACKUP_PARTITION_SIZE", "lots")
    response, stub = call(http_request(str(site)))
    assert response.status_code == 500
    assert "BACKUP_PARTITION_SIZE" in error_of(response)
    assert stub.requests == []


@pytest.mark.parametrize("runtime", ["Running", "Pending"])
def test_a_running_backup_of_the_same_destination_gets_409(site, runtime):
    running_id = instance_id("backups", "www")
    response, stub = call(http_request(str(site)), DurableStub(statuses={running_id: runtime}))

    assert response.status_code == 409
    body = json.loads(response.get_body())
    assert "already" in body["error"] and running_id in body["error"]
    assert body["runtimeStatus"] == runtime
    assert body["id"] == running_id
    assert running_id in body["statusQueryGetUri"]
    assert stub.started == []


def test_a_partition_an_earlier_run_left_running_gets_409_saying_how_to_stop_it(site):
    parent = instance_id("backups", "www")
    child = f"{parent}:20250101T000000Z-0123456789ab:p00003"
    statuses = {parent: "Terminated", child: "Running", f"{parent}x:r:p00000": "Running"}
    response, stub = call(http_request(str(site)), DurableStub(statuses=statuses))

    assert response.status_code == 409
    body = json.loads(response.get_body())
    assert "partitions are still stopping" in body["error"]
    assert f"site-backup terminate {parent}" in body["error"]
    assert body["stillRunning"] == child and body["id"] == parent
    assert stub.started == [] and stub.purged == []


def test_an_earlier_runs_finished_partitions_are_purged_before_the_new_run(site):
    parent = instance_id("backups", "www")
    earlier = [f"{parent}:20250101T000000Z-0123456789ab:p0000{n}" for n in range(3)]
    other = f"{instance_id('backups', 'other')}:r:p00000"  # another destination's: kept
    statuses = {parent: "Terminated", other: "Completed"}
    statuses |= dict(zip(earlier, ["Completed", "Failed", "Terminated"], strict=True))
    response, stub = call(http_request(str(site)), DurableStub(statuses=statuses))

    assert response.status_code == 202
    assert sorted(stub.purged) == earlier
    assert other in stub.statuses
    assert [s["instance_id"] for s in stub.started] == [parent]


def test_a_finished_backup_of_the_same_destination_is_started_again(site):
    done_id = instance_id("backups", "www")
    response, stub = call(http_request(str(site)), DurableStub(statuses={done_id: "Completed"}))
    assert response.status_code == 202
    assert stub.started[0]["instance_id"] == done_id


def test_a_different_prefix_is_a_different_backup_and_may_run_alongside(site):
    busy = instance_id("backups", "www")
    response, stub = call(
        http_request({"path": str(site), "prefix": "other"}),
        DurableStub(statuses={busy: "Running"}),
    )
    assert response.status_code == 202
    assert stub.started[0]["instance_id"] != busy


def test_a_refused_start_is_502(site):
    response, stub = call(http_request(str(site)), DurableStub(start_status=500))
    assert response.status_code == 502
    assert "refused to start" in error_of(response)


def test_an_unreachable_host_is_503(site):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    async def scenario(server: DurableStub) -> func.HttpResponse:
        return await HttpStart.main(http_request(str(site)), server.binding(rpc_port=closed_port))

    response, _ = run(scenario)
    assert response.status_code == 503
    assert "did not answer" in error_of(response)


def test_a_destination_owned_by_another_root_gets_409_naming_both(site, sites):
    other = sites / "elsewhere" / "www"  # same folder name: same default prefix
    other.mkdir(parents=True)
    first, _ = call(http_request(str(site)))
    assert first.status_code == 202

    response, stub = call(http_request(str(other)))
    assert response.status_code == 409
    body = json.loads(response.get_body())
    assert body["owner"] == str(site.resolve()) and body["root"] == str(other.resolve())
    assert str(site.resolve()) in body["error"] and str(other.resolve()) in body["error"]
    assert "takeOver" in body["error"]
    assert stub.started == []

    # Another prefix is another destination; taking this one over is allowed when asked.
    response, _ = call(http_request({"path": str(other), "prefix": "www-2"}))
    assert response.status_code == 202
    response, stub = call(http_request({"path": str(other), "takeOver": True}))
    assert response.status_code == 202
    assert stub.started[0]["input"]["root"] == str(other.resolve())
    # ...after which the first root is the one refused.
    response, _ = call(http_request(str(site)))
    assert response.status_code == 409
