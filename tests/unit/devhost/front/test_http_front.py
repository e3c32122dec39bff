"""HTTP triggers through the real listener, and the SDK client reaching the RPC endpoint."""

import json

from devhost.contracts import RuntimeStatus
from devhost.front.http import client_binding, routing_path
from devhost.functions.app import FunctionApp
from tests.unit.devhost.front.serving import WEBHOOK, Front, run


def test_client_binding_is_the_extensions_json() -> None:
    value = json.loads(
        client_binding(
            "http://127.0.0.1:7071", "http://127.0.0.1:17071/durabletask/", "Hub", "Storage"
        )
    )
    base = "http://127.0.0.1:7071/runtime/webhooks/durabletask"
    instance = f"{base}/instances/INSTANCEID"
    suffix = "taskHub=Hub&connection=Storage"
    assert value == {
        "taskHubName": "Hub",
        "connectionName": None,
        "creationUrls": {
            "createNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]?",
            "createAndWaitOnNewInstancePostUri": f"{base}/orchestrators/{{functionName}}"
            "[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&",
        },
        "managementUrls": {
            "id": "INSTANCEID",
            "statusQueryGetUri": f"{instance}?{suffix}",
            "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{suffix}",
            "terminatePostUri": f"{instance}/terminate?reason={{text}}&{suffix}",
            "rewindPostUri": f"{instance}/rewind?reason={{text}}&{suffix}",
            "purgeHistoryDeleteUri": f"{instance}?{suffix}",
            "restartPostUri": f"{instance}/restart?{suffix}",
            "suspendPostUri": f"{instance}/suspend?reason={{text}}&{suffix}",
            "resumePostUri": f"{instance}/resume?reason={{text}}&{suffix}",
        },
        "baseUrl": base,
        "requiredQueryStringParameters": "",
        "rpcBaseUrl": "http://127.0.0.1:17071/durabletask/",
        "httpBaseUrl": None,
    }
    assert list(value["managementUrls"]) == [
        "id",
        "statusQueryGetUri",
        "sendEventPostUri",
        "terminatePostUri",
        "rewindPostUri",
        "purgeHistoryDeleteUri",
        "restartPostUri",
        "suspendPostUri",
        "resumePostUri",
    ]


def test_routes_methods_and_outputs(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        inspect = await front.call("PUT", "/api/inspect/bob?x=1&x=2", b"payload", {"X-Test": "v"})
        assert inspect.status == 201
        assert inspect.headers["X-Answer"] == "yes"
        seen = inspect.json()
        assert seen["route"] == {"name": "bob"}
        assert seen["params"] == {"x": "1,2"}
        assert seen["header"] == "v"
        assert seen["body"] == "payload"
        assert seen["url"] == f"{front.url}/api/inspect/bob?x=1&x=2"
        no_name = await front.call("GET", "/API/Inspect")
        assert no_name.status == 201 and no_name.json()["route"] == {}

        item = await front.call("GET", "/api/items/42")
        assert (item.status, item.text) == (200, "item 42")
        assert item.headers["Content-Type"] == "text/plain; charset=utf-8"
        for method, path, accepted in [
            # method not allowed: the real host answers 404; the message names the methods
            ("POST", "/api/items/42", "; it accepts GET"),
            ("GET", "/api/items/forty-two", ""),  # {id:int} does not match
            ("GET", "/items/42", ""),  # no route prefix
            ("GET", "/api/nothing", ""),
            ("DELETE", "/api/inspect", "; it accepts GET, POST, PUT"),
        ]:
            answer = await front.call(method, path)
            assert answer.status == 404, (method, path)
            assert answer.json() == {"error": f"No function answers {method} {path}{accepted}"}
        crash = await front.call("GET", "/api/crash")
        assert (crash.status, crash.text) == (500, "")

    run(app, scenario)


def test_sdk_client_starts_through_the_rpc_endpoint(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        answer = await front.call(
            "POST",
            "/api/orchestrators/EchoInput?instanceId=via-sdk",
            json.dumps({"a": 1}),
            {"Content-Type": "application/json"},
        )
        assert answer.status == 202, answer.text
        body = answer.json()
        # The SDK's own create_check_status_response: nine keys, links on the caller's origin.
        assert body["id"] == "via-sdk"
        assert "rewindPostUri" in body and len(body) == 9
        assert body["statusQueryGetUri"] == (
            f"{front.url}{WEBHOOK}/instances/via-sdk?taskHub=FeaturesHub&connection=Storage"
        )
        assert answer.headers["Location"] == body["statusQueryGetUri"]
        assert answer.headers["Retry-After"] == "10"
        # The SDK double-encodes: the stored input is a JSON string literal holding JSON text.
        assert front.hub.calls[-1] == ("start", "EchoInput", "via-sdk", json.dumps('{"a": 1}'))

    run(app, scenario)


def test_sdk_client_operations(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        async def op(name: str, instance_id: str = "", args: dict | None = None) -> dict:
            path = f"/api/client/{name}/{instance_id}".rstrip("/")
            answer = await front.call("POST", path, json.dumps(args or {}))
            assert answer.status in (200, 409), answer.text
            return answer.json()

        start = await op("start", args={"name": "EchoInput", "id": "c1", "input": [1]})
        assert start == {"result": "c1"}
        front.hub.set_status("c1", RuntimeStatus.RUNNING)
        status = (await op("status", "c1", {"input": True, "history": True}))["result"]
        assert status["runtimeStatus"] == "Running"
        assert status["instanceId"] == "c1"
        assert status["input"] == "[1]"
        assert status["historyEvents"] == []
        assert (await op("raise", "c1", {"name": "Go", "data": {"ok": True}})) == {
            "result": "raised"
        }
        assert front.hub.calls[-1] == ("raise", "c1", "Go", json.dumps('{"ok": true}'))
        assert (await op("suspend", "c1"))["result"] == "suspended"
        assert (await op("resume", "c1"))["result"] == "resumed"
        assert (
            await op("query", args={"statuses": ["Running"], "since": "2000-01-01T00:00:00+00:00"})
        )["result"] == ["c1"]
        assert (await op("all"))["result"] == ["c1"]
        assert (await op("terminate", "c1", {"reason": "bye"}))["result"] == "terminated"
        assert ("terminate", "c1", "bye") in front.hub.calls
        assert (await op("purge", "c1"))["result"] == 1
        missing = await op("status", "c1")
        assert missing == {"result": None}
        error = await op("terminate", "c1")
        assert error["error"] == "No instance with ID 'c1' found."
        unknown = await op("start", args={"name": "Nope"})
        assert unknown["error"].startswith("The function 'Nope' doesn't exist")

    run(app, scenario)


def test_routing_path_keeps_encoded_slashes_in_their_segment() -> None:
    assert routing_path("/api/orchestrators/..%2F..%2Fetc?x=1") == "api/orchestrators/..%2F..%2Fetc"
    assert routing_path("/api/inspect/a%20b/") == "api/inspect/a b"
    assert routing_path("/api/items/%34%32") == "api/items/42"


def test_an_encoded_slash_reaches_the_function_inside_one_route_value(app: FunctionApp) -> None:
    async def scenario(front: Front) -> None:
        answer = await front.call("GET", "/api/inspect/a%2Fb")
        assert answer.status == 201
        assert answer.json()["route"] == {"name": "a%2Fb"}

    run(app, scenario)
