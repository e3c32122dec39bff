"""The function-chaining sample on the host: SDK client start, webhook start, status, history."""

import json

from tests.support.host_process import HostProcess

WEBHOOK = "/runtime/webhooks/durabletask"
STATUS_KEYS = [
    "name",
    "instanceId",
    "runtimeStatus",
    "input",
    "customStatus",
    "output",
    "createdTime",
    "lastUpdatedTime",
]


def test_startup_log_lists_functions_like_func_start(hello_host: HostProcess) -> None:
    log = hello_host.log_tail(20000)
    assert f"HttpStart: [GET,POST] {hello_host.url}/api/orchestrators/{{functionName}}" in log
    assert "E1_HelloSequence: orchestrationTrigger" in log
    assert "E1_SayHello: activityTrigger" in log
    assert f"Host started: {hello_host.url}" in log
    assert "Opened local http RPC endpoint: http://127.0.0.1:" in log
    # local.settings.json values are settings, never logged.
    assert "UseDevelopmentStorage" not in log


def test_sdk_client_start_runs_to_completion(hello_host: HostProcess) -> None:
    answer = hello_host.request("POST", "/api/orchestrators/E1_HelloSequence")
    assert answer.status == 202, answer.body
    links = answer.json()
    assert len(links) == 9 and answer.headers["Location"] == links["statusQueryGetUri"]
    assert links["statusQueryGetUri"].startswith(f"{hello_host.url}{WEBHOOK}/instances/")
    assert answer.headers["Retry-After"] == "10"

    status = hello_host.wait_for_status(links["statusQueryGetUri"], {"Completed"})
    assert list(status) == STATUS_KEYS
    assert status["name"] == "E1_HelloSequence"
    assert status["instanceId"] == links["id"]
    assert status["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    assert status["input"] is None
    assert status["createdTime"].endswith("Z") and len(status["createdTime"]) == 20

    final = hello_host.request("GET", links["statusQueryGetUri"])
    assert final.status == 200 and "Location" not in final.headers

    detail = hello_host.request(
        "GET", links["statusQueryGetUri"] + "&showHistory=true&showHistoryOutput=true"
    ).json()
    events = detail["historyEvents"]
    assert [e["EventType"] for e in events] == [
        "ExecutionStarted",
        "TaskCompleted",
        "TaskCompleted",
        "TaskCompleted",
        "ExecutionCompleted",
    ]
    assert events[0]["FunctionName"] == "E1_HelloSequence"
    assert [e["Result"] for e in events[1:4]] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    assert {e["FunctionName"] for e in events[1:4]} == {"E1_SayHello"}
    assert all("ScheduledTime" in e and "EventId" not in e for e in events[1:4])
    assert events[4]["OrchestrationStatus"] == "Completed"
    assert events[4]["Result"] == status["output"]
    without_output = hello_host.request(
        "GET", links["statusQueryGetUri"] + "&showHistory=true"
    ).json()["historyEvents"]
    assert all("Result" not in e for e in without_output)


def test_sdk_input_is_a_json_string_literal_in_the_status(hello_host: HostProcess) -> None:
    answer = hello_host.request(
        "POST",
        "/api/orchestrators/E1_HelloSequence",
        json.dumps(["Paris", "Oslo"]),
        {"Content-Type": "application/json"},
    )
    status = hello_host.wait_for_status(answer.json()["id"], {"Completed"})
    assert status["output"] == ["Hello Paris!", "Hello Oslo!"]
    # The SDK double-encodes the input: the status shows the inner JSON text.
    assert status["input"] == '["Paris", "Oslo"]'


def test_webhook_start_with_an_array_body_fails_like_the_real_host(
    hello_host: HostProcess,
) -> None:
    # A raw array body reaches the SDK as a list, which get_input() cannot decode (§5.3.1).
    answer = hello_host.request(
        "POST",
        f"{WEBHOOK}/orchestrators/E1_HelloSequence/array-body",
        '["Paris"]',
        {"Content-Type": "application/json"},
    )
    assert answer.status == 202
    assert answer.json()["id"] == "array-body"
    assert "rewindPostUri" not in answer.json()
    status = hello_host.wait_for_status("array-body", {"Failed"})
    assert status["input"] == ["Paris"]
    assert status["output"].startswith("Orchestrator function 'E1_HelloSequence' failed: ")
    assert "must be str, bytes or bytearray, not list" in status["output"]
