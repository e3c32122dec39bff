"""One conformance test per orchestration feature, on the host over HTTP with the real SDK."""

import json
import uuid

import pytest

from tests.support.host_process import HostProcess

WEBHOOK = "/runtime/webhooks/durabletask"
JSON = {"Content-Type": "application/json"}


def start(host: HostProcess, name: str, value: object = None) -> str:
    """Start through the app's own HTTP starter (the SDK client over the RPC endpoint)."""
    body = None if value is None else json.dumps(value)
    answer = host.request("POST", f"/api/orchestrators/{name}", body, JSON)
    assert answer.status == 202, answer.body
    return answer.json()["id"]


def history(host: HostProcess, instance_id: str) -> list[dict]:
    url = host.status_url(instance_id) + "?showHistory=true&showHistoryOutput=true"
    return host.request("GET", url).json()["historyEvents"]


def kinds(events: list[dict]) -> list[str]:
    return [e["EventType"] for e in events]


def test_inputs_through_the_sdk_and_the_webhook(features_host: HostProcess) -> None:
    via_sdk = start(features_host, "EchoInput", {"a": [1, 2]})
    assert features_host.wait_for_status(via_sdk, {"Completed"})["output"] == {
        "input": {"a": [1, 2]},
        "type": "dict",
    }
    webhook = features_host.request(
        "POST", f"{WEBHOOK}/orchestrators/EchoInput", '{"a": [1, 2]}', JSON
    )
    status = features_host.wait_for_status(webhook.json()["id"], {"Completed"})
    assert status["output"] == {"input": {"a": [1, 2]}, "type": "dict"}
    assert status["input"] == {"a": [1, 2]}
    literal = features_host.request(
        "POST", f"{WEBHOOK}/orchestrators/EchoInput", json.dumps('"x"'), JSON
    )
    done = features_host.wait_for_status(literal.json()["id"], {"Completed"})
    assert done["output"] == {"input": "x", "type": "str"}


def test_wait_for_completion_through_the_sdk(features_host: HostProcess) -> None:
    answer = features_host.request("POST", "/api/wait/EchoInput", json.dumps([3]), JSON)
    assert answer.status == 200
    assert answer.json() == {"input": [3], "type": "list"}
    waited = features_host.request(
        "POST", f"{WEBHOOK}/orchestrators/EchoInput?timeout=20&pollingInterval=1", "7", JSON
    )
    assert waited.status == 200, waited.body  # a bare number input fails the SDK's get_input
    assert waited.json()["runtimeStatus"] == "Failed"


def test_task_any_with_external_event_cancels_the_timer(features_host: HostProcess) -> None:
    instance_id = start(features_host, "Approval", {"timeout": 600})
    status = features_host.wait_for_status(instance_id, {"Running"})
    assert status["customStatus"] == "waiting"
    raised = features_host.request(
        "POST", f"{WEBHOOK}/instances/{instance_id}/raiseEvent/Approval", '{"by": "ann"}', JSON
    )
    assert raised.status == 202
    status = features_host.wait_for_status(instance_id, {"Completed"})
    # An event raised over the webhook arrives decoded.
    assert status["output"] == {"approved": {"by": "ann"}}
    assert kinds(history(features_host, instance_id)) == [
        "ExecutionStarted",
        "TimerCreated",
        "EventRaised",
        "ExecutionCompleted",
    ]


def test_task_any_timer_wins(features_host: HostProcess) -> None:
    instance_id = start(features_host, "Approval", {"timeout": 1})
    status = features_host.wait_for_status(instance_id, {"Completed"}, timeout=20)
    assert status["output"] == "timed out"
    events = history(features_host, instance_id)
    assert kinds(events) == ["ExecutionStarted", "TimerCreated", "TimerFired", "ExecutionCompleted"]
    assert events[2]["FireAt"] == events[1]["FireAt"]


def test_event_raised_through_the_sdk_client_is_json_text(features_host: HostProcess) -> None:
    instance_id = start(features_host, "WaitForever")
    features_host.wait_for_status(instance_id, {"Running"})
    answer = features_host.request(
        "POST", f"/api/client/raise/{instance_id}", json.dumps({"name": "Go", "data": {"ok": 1}})
    )
    assert answer.json() == {"result": "raised"}
    status = features_host.wait_for_status(instance_id, {"Completed"})
    # The SDK double-encodes event data: the orchestrator receives the JSON text (§7.6).
    assert status["output"] == '{"ok": 1}'


def test_durable_timer(features_host: HostProcess) -> None:
    instance_id = start(features_host, "Timer", 1)
    status = features_host.wait_for_status(instance_id, {"Completed"}, timeout=20)
    assert status["output"] == {"waited_at_least": True}
    assert kinds(history(features_host, instance_id)) == [
        "ExecutionStarted",
        "TimerCreated",
        "TimerFired",
        "ExecutionCompleted",
    ]


def test_activity_retry_succeeds_on_the_third_attempt(features_host: HostProcess) -> None:
    key = uuid.uuid4().hex
    instance_id = start(features_host, "Retrying", {"key": key, "fail": 2})
    status = features_host.wait_for_status(instance_id, {"Completed"}, timeout=20)
    assert status["output"] == {"succeeded_on_attempt": 3}
    assert kinds(history(features_host, instance_id)) == [
        "ExecutionStarted",
        "TaskFailed",
        "TimerCreated",
        "TimerFired",
        "TaskFailed",
        "TimerCreated",
        "TimerFired",
        "TaskCompleted",
        "ExecutionCompleted",
    ]


def test_activity_retry_gives_up_with_the_last_failure(features_host: HostProcess) -> None:
    key = uuid.uuid4().hex
    instance_id = start(features_host, "Retrying", {"key": key, "fail": 5})
    status = features_host.wait_for_status(instance_id, {"Completed"}, timeout=20)
    assert status["output"] == {
        "failed": "Activity function 'Flaky' failed:  RuntimeError: attempt 3 fails"
    }
    assert kinds(history(features_host, instance_id)).count("TaskFailed") == 3


def test_sub_orchestrations_with_auto_and_explicit_ids(features_host: HostProcess) -> None:
    instance_id = start(features_host, "Parent")
    status = features_host.wait_for_status(instance_id, {"Completed"}, timeout=20)
    auto, explicit = status["output"]["auto"], status["output"]["explicit"]
    assert auto["value"] == 10 and explicit["value"] == 20
    assert auto["parent"] == explicit["parent"] == instance_id
    assert explicit["id"] == f"{instance_id}-child"
    # Auto ids are "<parent execution id>:<sequence number>".
    execution_id, sequence = auto["id"].split(":")
    assert len(execution_id) == 32 and sequence == "0"
    child = features_host.wait_for_status(explicit["id"], {"Completed"})
    # The child's stored input is the JSON string literal of the action's input text (§2.4).
    assert child["name"] == "Child" and child["input"] == "2"
    events = history(features_host, instance_id)
    assert kinds(events) == [
        "ExecutionStarted",
        "SubOrchestrationInstanceCompleted",
        "SubOrchestrationInstanceCompleted",
        "ExecutionCompleted",
    ]
    assert {e["FunctionName"] for e in events[1:3]} == {"Child"}


def test_continue_as_new(features_host: HostProcess) -> None:
    instance_id = start(features_host, "Counter", 0)
    status = features_host.wait_for_status(instance_id, {"Completed"}, timeout=20)
    assert status["output"] == 3
    # The last generation's input: the JSON string literal of the action's input text.
    assert status["input"] == "3"
    events = history(features_host, instance_id)
    assert kinds(events) == ["ExecutionStarted", "TaskCompleted", "ExecutionCompleted"]


def test_custom_status_follows_the_last_episode(features_host: HostProcess) -> None:
    instance_id = start(features_host, "Progress")
    status = features_host.wait_for_status(instance_id, {"Completed"})
    assert status["customStatus"] == {"stage": "done", "echo": "x"}
    assert status["output"] == "x"


def test_failing_orchestrator(features_host: HostProcess) -> None:
    instance_id = start(features_host, "Failing")
    status = features_host.wait_for_status(instance_id, {"Failed"})
    assert status["output"] == "Orchestrator function 'Failing' failed: boom"
    answer = features_host.request(
        "GET", features_host.status_url(instance_id) + "?returnInternalServerErrorOnFailure=true"
    )
    assert answer.status == 500
    events = history(features_host, instance_id)
    assert events[-1]["EventType"] == "ExecutionCompleted"
    assert events[-1]["OrchestrationStatus"] == "Failed"


def test_failing_activity_messages(features_host: HostProcess) -> None:
    caught = start(features_host, "CallsExplode", "catch")
    status = features_host.wait_for_status(caught, {"Completed"})
    assert status["output"] == "Activity function 'Explode' failed:  ValueError: kaboom"
    uncaught = start(features_host, "CallsExplode", "no")
    failed = features_host.wait_for_status(uncaught, {"Failed"})
    assert failed["output"].startswith(
        "Orchestrator function 'CallsExplode' failed: "
        "Activity function 'Explode' failed:  ValueError: kaboom"
    )
    failure = next(e for e in history(features_host, uncaught) if e["EventType"] == "TaskFailed")
    assert failure["Reason"] == "Activity function 'Explode' failed:  ValueError: kaboom"
    assert "raise ValueError(message)" in failure["Details"]
    assert failure["FunctionName"] == "Explode"


def test_non_determinism_fails_the_orchestration(features_host: HostProcess) -> None:
    instance_id = start(features_host, "NonDeterministic")
    status = features_host.wait_for_status(instance_id, {"Failed"})
    # DTFx raises this itself: no "Orchestrator function ... failed" prefix.
    output = status["output"]
    assert output.startswith("Non-Deterministic workflow detected: A previous execution")
    assert "named 'Echo'" in output and "named 'Flaky'" in output


@pytest.mark.parametrize("operation", ["terminate", "suspend-resume-terminate"])
def test_terminate_and_suspend_through_the_webhook(
    features_host: HostProcess, operation: str
) -> None:
    instance_id = start(features_host, "WaitForever")
    base = f"{WEBHOOK}/instances/{instance_id}"
    features_host.wait_for_status(instance_id, {"Running"})
    if operation != "terminate":
        assert features_host.request("POST", f"{base}/suspend?reason=hold").status == 202
        features_host.wait_for_status(instance_id, {"Suspended"})
        assert features_host.request("POST", f"{base}/suspend").status == 500
        assert features_host.request("POST", f"{base}/resume?reason=go").status == 202
        features_host.wait_for_status(instance_id, {"Running"})
    assert features_host.request("POST", f"{base}/terminate?reason=enough").status == 202
    status = features_host.wait_for_status(instance_id, {"Terminated"})
    assert status["output"] == "enough"
    assert features_host.request("POST", f"{base}/terminate").status == 410
    assert features_host.request("POST", f"{base}/raiseEvent/Go", "1", JSON).status == 410
    events = kinds(history(features_host, instance_id))
    assert events[-2:] == ["ExecutionTerminated", "ExecutionCompleted"]
    if operation != "terminate":
        assert events[1:3] == ["ExecutionSuspended", "ExecutionResumed"]


def test_sdk_client_status_query_purge_and_restart(features_host: HostProcess) -> None:
    def op(name: str, instance_id: str = "", **args: object) -> dict:
        path = f"/api/client/{name}/{instance_id}".rstrip("/")
        return features_host.request("POST", path, json.dumps(args)).json()

    instance_id = start(features_host, "Progress")
    features_host.wait_for_status(instance_id, {"Completed"})
    status = op("status", instance_id, history=True, output=True, input=True)["result"]
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == "x"
    assert [e["EventType"] for e in status["historyEvents"]][0] == "ExecutionStarted"
    assert instance_id in op("query", statuses=["Completed"])["result"]
    restarted = op("restart", instance_id)["result"]
    assert restarted["id"] != instance_id
    features_host.wait_for_status(restarted["id"], {"Completed"})
    assert op("purge", instance_id) == {"result": 1}
    assert op("status", instance_id) == {"result": None}
    assert op("terminate", instance_id)["error"] == f"No instance with ID '{instance_id}' found."
    failed = start(features_host, "Failing")
    features_host.wait_for_status(failed, {"Failed"})
    assert "Rewind is not supported by this host." in op("rewind", failed)["error"]


def test_sub_orchestration_retry(features_host: HostProcess) -> None:
    key = uuid.uuid4().hex
    instance_id = start(features_host, "RetryingParent", {"key": key, "fail": 1})
    status = features_host.wait_for_status(instance_id, {"Completed"}, timeout=20)
    assert status["output"]["attempt"] == 2
    events = kinds(history(features_host, instance_id))
    assert events == [
        "ExecutionStarted",
        "SubOrchestrationInstanceFailed",
        "TimerCreated",
        "TimerFired",
        "SubOrchestrationInstanceCompleted",
        "ExecutionCompleted",
    ]
    # Each attempt without an explicit id gets "<execution id>:<its own sequence number>".
    assert status["output"]["id"].endswith(":2")
