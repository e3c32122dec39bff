"""The Durable webhook API over real HTTP, against the hub stand-in (no dispatcher)."""

import asyncio
import json
import re
import urllib.parse

import pytest

from devhost.contracts import RuntimeStatus
from devhost.front.queries import query_datetime
from devhost.functions.app import FunctionApp
from tests.unit.devhost.front.serving import WEBHOOK, Front, run

CHECK_STATUS_KEYS = [
    "id",
    "statusQueryGetUri",
    "sendEventPostUri",
    "terminatePostUri",
    "purgeHistoryDeleteUri",
    "restartPostUri",
    "suspendPostUri",
    "resumePostUri",
]
HTTP_ERROR_KEYS = ["Message", "ExceptionMessage", "ExceptionType", "StackTrace"]


async def started(front: Front, instance_id: str, name: str = "EchoInput", body=None) -> None:
    answer = await front.api("POST", f"/orchestrators/{name}/{instance_id}", body)
    assert answer.status == 202, answer.text


def test_start_answers_202_with_the_check_status_payload(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        answer = await front.api("POST", "/orchestrators/echoinput/abc", '{"a": 1}')
        assert answer.status == 202
        body = answer.json()
        assert list(body) == CHECK_STATUS_KEYS
        base = f"{front.url}{WEBHOOK}/instances/abc"
        suffix = "taskHub=FeaturesHub&connection=Storage"
        assert body["id"] == "abc"
        assert body["statusQueryGetUri"] == f"{base}?{suffix}"
        assert body["sendEventPostUri"] == f"{base}/raiseEvent/{{eventName}}?{suffix}"
        assert body["terminatePostUri"] == f"{base}/terminate?reason={{text}}&{suffix}"
        assert body["restartPostUri"] == f"{base}/restart?{suffix}"
        assert answer.headers["Location"] == body["statusQueryGetUri"]
        assert answer.headers["Retry-After"] == "10"
        assert answer.headers["Content-Type"].startswith("application/json")
        # The body is parsed and stored compactly; the name as the caller spelled it.
        assert front.hub.calls[-1] == ("start", "echoinput", "abc", '{"a":1}')

        generated = await front.api("POST", "/orchestrators/EchoInput")
        new_id = generated.json()["id"]
        assert re.fullmatch(r"[0-9a-f]{32}", new_id), new_id
        assert front.hub.calls[-1] == ("start", "EchoInput", new_id, None)

        literal = await front.api("POST", "/orchestrators/EchoInput/lit", json.dumps('"x"'))
        assert literal.status == 202
        assert front.hub.calls[-1][3] == json.dumps('"x"')

    run(app, scenario)


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/orchestrators/Nope", None, "The function 'Nope' doesn't exist, is disabled, or is not"),
        ("/orchestrators/Echo", None, "known orchestrator functions: 'Approval', 'CallsExplode'"),
        ("/orchestrators/EchoInput/@entity", None, "must not start with @"),
        ("/orchestrators/EchoInput/a%23b", None, "must not contain"),
        ("/orchestrators/EchoInput/" + "x" * 257, None, "must not exceed 256 characters"),
    ],
)
def test_start_rejects_bad_arguments_with_http_error_json(
    app: FunctionApp, path: str, body: str | None, message: str
) -> None:
    async def scenario(front: Front) -> None:
        answer = await front.api("POST", path, body)
        assert answer.status == 400
        error = answer.json()
        assert list(error) == HTTP_ERROR_KEYS
        assert error["Message"] == "One or more of the arguments submitted is incorrect"
        assert message in error["ExceptionMessage"]
        assert error["ExceptionType"] == "System.ArgumentException"
        assert not [c for c in front.hub.calls if c[0] == "start"]

    run(app, scenario)


def test_start_with_invalid_json_or_a_running_id(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        bad = await front.api("POST", "/orchestrators/EchoInput", "{not json")
        assert bad.status == 400
        assert bad.json()["Message"] == "Invalid JSON content"
        await started(front, "dup")
        again = await front.api("POST", "/orchestrators/EchoInput/dup")
        assert again.status == 500
        error = again.json()
        assert error["Message"] == "Something went wrong while processing your request"
        assert "already exists" in error["ExceptionMessage"]
        front.hub.set_status("dup", RuntimeStatus.COMPLETED, '"done"')
        assert (await front.api("POST", "/orchestrators/EchoInput/dup")).status == 202

    run(app, scenario)


def test_start_and_wait(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        async def finish_later(instance_id: str, status: RuntimeStatus, output: str) -> None:
            while instance_id not in front.hub.instances:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            front.hub.set_status(instance_id, status, output)

        query = "?timeout=5&pollingInterval=1"
        waiter = asyncio.create_task(finish_later("w1", RuntimeStatus.COMPLETED, '{"n":1}'))
        done = await front.api("POST", f"/orchestrators/EchoInput/w1{query}")
        await waiter
        assert (done.status, done.json()) == (200, {"n": 1})

        waiter = asyncio.create_task(finish_later("w2", RuntimeStatus.FAILED, "it broke"))
        failed = await front.api("POST", f"/orchestrators/EchoInput/w2{query}")
        await waiter
        assert failed.status == 200
        assert failed.json()["runtimeStatus"] == "Failed"
        assert failed.json()["output"] == "it broke"

        slow = await front.api(
            "POST", "/orchestrators/EchoInput/w3?timeout=0.2&pollingInterval=0.1"
        )
        assert slow.status == 202 and list(slow.json()) == CHECK_STATUS_KEYS

    run(app, scenario)


def test_status_codes_headers_and_options(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        missing = await front.api("GET", "/instances/none")
        assert (missing.status, missing.text) == (404, "")

        await started(front, "s1", body='"in"')
        path = "/instances/s1?showHistory=true"
        pending = await front.api("GET", path)
        assert pending.status == 202
        assert pending.headers["Location"] == f"{front.url}{WEBHOOK}{path}"
        assert pending.headers["Retry-After"] == "5"
        body = pending.json()
        assert body["runtimeStatus"] == "Pending"
        assert body["input"] == "in"
        assert "historyEvents" not in body  # never for Pending

        front.hub.set_status("s1", RuntimeStatus.RUNNING)
        running = await front.api("GET", "/instances/s1?showHistory=TRUE&showInput=false")
        assert running.status == 202
        assert running.json()["historyEvents"] == []
        assert running.json()["input"] is None

        front.hub.set_status("s1", RuntimeStatus.FAILED, "Orchestrator function 'X' failed: x")
        failed = await front.api("GET", "/instances/s1")
        assert failed.status == 200 and "Location" not in failed.headers
        assert failed.json()["output"] == "Orchestrator function 'X' failed: x"
        as_500 = await front.api("GET", "/instances/s1?returnInternalServerErrorOnFailure=true")
        assert as_500.status == 500 and as_500.json()["runtimeStatus"] == "Failed"

    run(app, scenario)


def test_query_filters_and_pages_with_the_continuation_header(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        for name in ("job-1", "job-2", "job-3", "other"):
            await started(front, name, body="1")
        front.hub.set_status("job-2", RuntimeStatus.COMPLETED, "2")

        everything = await front.api("GET", "/instances")
        assert everything.status == 200
        assert [i["instanceId"] for i in everything.json()] == ["job-1", "job-2", "job-3", "other"]
        assert everything.headers["x-ms-continuation-token"] == ""

        first = await front.api("GET", "/instances/?instanceIdPrefix=job-&top=2&showInput=false")
        assert [i["instanceId"] for i in first.json()] == ["job-1", "job-2"]
        assert all(i["input"] is None for i in first.json())
        token = first.headers["x-ms-continuation-token"]
        assert token
        rest = await front.call(
            "GET",
            f"{WEBHOOK}/instances?instanceIdPrefix=job-&top=2",
            headers={"x-ms-continuation-token": token},
        )
        assert [i["instanceId"] for i in rest.json()] == ["job-3"]
        assert rest.headers["x-ms-continuation-token"] == ""

        by_status = await front.api("GET", "/instances?runtimeStatus=Pending,Bogus&runtimeStatus=")
        assert [i["instanceId"] for i in by_status.json()] == ["job-1", "job-3", "other"]
        since = urllib.parse.quote("2024-05-01T10:00:02.5Z")
        recent = await front.api("GET", f"/instances?createdTimeFrom={since}")
        assert [i["instanceId"] for i in recent.json()] == ["job-3", "other"]
        query = front.hub.calls[-1][1]
        assert query.created_from.isoformat() == "2024-05-01T10:00:02.500000+00:00"

    run(app, scenario)


def test_raise_event(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        assert (await front.api("POST", "/instances/none/raiseEvent/Go", "1")).status == 404
        await started(front, "r1")
        text = await front.call(
            "POST", f"{WEBHOOK}/instances/r1/raiseEvent/Go", "1", {"Content-Type": "text/plain"}
        )
        assert text.status == 400
        assert text.json() == {"Message": "Only application/json request content is supported"}
        bad = await front.api("POST", "/instances/r1/raiseEvent/Go", "{")
        assert bad.status == 400 and bad.json()["Message"] == "Invalid JSON content"
        empty = await front.api("POST", "/instances/r1/raiseEvent/Go", "")
        assert empty.status == 400
        ok = await front.api("POST", "/instances/r1/raiseEvent/Go", '{"ok": true}')
        assert (ok.status, ok.text) == (202, "")
        assert front.hub.calls[-1] == ("raise", "r1", "Go", '{"ok":true}')
        front.hub.set_status("r1", RuntimeStatus.COMPLETED, "1")
        assert (await front.api("POST", "/instances/r1/raiseEvent/Go", "1")).status == 410
        assert (await front.api("GET", "/instances/r1/raiseEvent/Go")).status == 404

    run(app, scenario)


def test_terminate_suspend_resume(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        assert (await front.api("POST", "/instances/none/terminate")).status == 404
        await started(front, "t1")
        suspended = await front.api("POST", "/instances/t1/suspend?reason=pause")
        assert (suspended.status, suspended.text) == (202, "")
        again = await front.api("POST", "/instances/t1/suspend")
        assert again.status == 500
        assert again.json()["ExceptionType"] == "System.InvalidOperationException"
        assert (await front.api("POST", "/instances/t1/resume?reason=go")).status == 202
        not_suspended = await front.api("POST", "/instances/t1/RESUME")
        assert not_suspended.status == 500 and "not suspended" in not_suspended.text
        stop = await front.api("POST", "/instances/t1/terminate?reason=enough%20now")
        assert (stop.status, stop.text) == (202, "")
        assert ("terminate", "t1", "enough now") in front.hub.calls
        assert (await front.api("POST", "/instances/t1/terminate")).status == 410
        assert (await front.api("POST", "/instances/t1/suspend")).status == 410
        assert (await front.api("POST", "/instances/t1/resume")).status == 410
        assert (await front.api("POST", "/instances/t1/unknownop")).status == 404

    run(app, scenario)


def test_purge_one_and_by_filter(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        assert (await front.api("DELETE", "/instances/none")).status == 404
        await started(front, "p1")
        running = await front.api("DELETE", "/instances/p1")
        assert running.status == 412 and "terminal state" in running.json()
        front.hub.set_status("p1", RuntimeStatus.COMPLETED, "1")
        purged = await front.api("DELETE", "/instances/p1")
        assert (purged.status, purged.json()) == (200, {"instancesDeleted": 1})

        no_from = await front.api("DELETE", "/instances")
        assert no_from.status == 400
        assert no_from.json() == "Please provide value for 'createdTimeFrom' parameter."
        await started(front, "p2")
        front.hub.set_status("p2", RuntimeStatus.FAILED, "x")
        since = "createdTimeFrom=2000-01-01T00:00:00Z"
        none = await front.api("DELETE", f"/instances?{since}&runtimeStatus=Terminated")
        assert (none.status, none.text) == (404, "")
        some = await front.api("DELETE", f"/instances?{since}&runtimeStatus=Failed,Completed")
        assert (some.status, some.json()) == (200, {"instancesDeleted": 1})
        assert front.hub.calls[-1][1].statuses == {RuntimeStatus.FAILED, RuntimeStatus.COMPLETED}

    run(app, scenario)


def test_restart_and_rewind(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        unknown = await front.api("POST", "/instances/none/restart")
        assert unknown.status == 400
        assert (
            unknown.json()["Message"] == "InstanceId does not match a valid orchestration instance."
        )
        await started(front, "x1", body='{"k": [1, 2]}')
        front.hub.set_status("x1", RuntimeStatus.COMPLETED, "1")
        restarted = await front.api("POST", "/instances/x1/restart")
        assert restarted.status == 202
        new_id = restarted.json()["id"]
        assert new_id != "x1"
        assert front.hub.calls[-1] == ("start", "EchoInput", new_id, '{"k":[1,2]}')
        same = await front.api("POST", "/instances/x1/restart?restartWithNewInstanceId=false")
        assert same.status == 202 and same.json()["id"] == "x1"
        running = await front.api("POST", "/instances/x1/restart?restartWithNewInstanceId=false")
        assert running.status == 500

        assert (await front.api("POST", "/instances/none/rewind")).status == 404
        assert (await front.api("POST", "/instances/x1/rewind")).status == 500
        front.hub.set_status("x1", RuntimeStatus.FAILED, "x")
        rewind = await front.api("POST", "/instances/x1/rewind?reason=try")
        assert rewind.status == 501
        assert rewind.json()["Message"] == "Rewind is not supported by this host."
        front.hub.set_status("x1", RuntimeStatus.TERMINATED, "x")
        assert (await front.api("POST", "/instances/x1/rewind")).status == 410

    run(app, scenario)


def test_entities_unknown_routes_and_other_hubs(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        for method, path in [
            ("GET", "/entities/counter/k"),
            ("POST", "/entities/counter/k?op=add"),
        ]:
            answer = await front.api(method, path)
            assert answer.status == 501
            assert "Entities are not supported by this host" in answer.json()["Message"]
        assert (await front.api("GET", "/nothing/here")).status == 404
        assert (await front.api("GET", "/orchestrators/EchoInput")).status == 404
        other = await front.api("GET", "/instances?taskHub=OtherHub")
        assert other.status == 400 and "FeaturesHub" in other.json()["ExceptionMessage"]
        assert (await front.api("GET", "/instances?taskHub=featureshub")).status == 200

    run(app, scenario)


def test_rpc_listener_serves_the_same_api(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        rpc = front.server.rpc_base_url
        assert (
            rpc is not None
            and rpc.startswith("http://127.0.0.1:")
            and rpc.endswith("/durabletask/")
        )
        answer = await front.call("POST", "orchestrators/EchoInput/rpc1", base=rpc)
        assert answer.status == 202
        # Links are built on the caller's authority, with the webhook path (as the real host).
        port = rpc.split(":")[2].split("/")[0]
        assert answer.json()["statusQueryGetUri"].startswith(
            f"http://127.0.0.1:{port}{WEBHOOK}/instances/rpc1?"
        )
        follow = await front.call("GET", answer.json()["statusQueryGetUri"], base="")
        assert follow.status == 202 and follow.json()["instanceId"] == "rpc1"

    run(app, scenario)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T10:00:00.123456Z", "2024-05-01T10:00:00.123456+00:00"),
        ("2024-05-01 10:00:00", "2024-05-01T10:00:00+00:00"),
        ("2024-05-01T12:00:00 02:00", "2024-05-01T10:00:00+00:00"),
        ("24-05-01T10:00:00Z", "0024-05-01T10:00:00+00:00"),
        ("yesterday", None),
    ],
)
def test_query_datetimes_are_parsed_leniently(value: str, expected: str | None) -> None:
    parsed = query_datetime({"createdTimeFrom": value}, "createdtimefrom")
    assert (parsed.isoformat() if parsed else None) == expected
