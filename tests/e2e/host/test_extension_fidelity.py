"""The Durable extension's details, through the real HTTP API and the real durable SDK.

Each test names its source. EXT: Azure/azure-functions-durable-extension 2.13.7
(src/WebJobs.Extensions.DurableTask); DTFX: Azure/durabletask, durabletask.core-v2.17.1 and
durabletask.azurestorage-v1.17.5.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.host_process import HostProcess, HostProcessError, running_host

APP = Path(__file__).resolve().parents[2] / "apps" / "fidelity"
WEBHOOK = "/runtime/webhooks/durabletask"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with running_host(APP, tmp_path_factory.mktemp("fidelity")) as running:
        yield running


def start(host: HostProcess, name: str, instance_id: str, value: object = None) -> None:
    """Start through the app's HttpStart, i.e. the SDK's start_new (double-encoded input)."""
    query = urllib.parse.urlencode({"instanceId": instance_id})
    host.post_json(f"/api/orchestrators/{name}?{query}", value)


def raise_event(host: HostProcess, instance_id: str, name: str, value: object) -> None:
    answer = host.request(
        "POST", f"{WEBHOOK}/instances/{instance_id}/raiseEvent/{name}", json.dumps(value), JSON
    )
    assert answer.status == 202, answer


def status(host: HostProcess, instance_id: str, query: str = "") -> dict:
    answer = host.request("GET", f"{WEBHOOK}/instances/{instance_id}{query}")
    assert answer.status in (200, 202), answer
    return answer.json()


# ---- custom status limit -----------------------------------------------------------------


def utf16_kb(text: str) -> int:
    return len(text.encode("utf-16-le")) // 1024


def test_a_custom_status_over_16_kb_fails_the_orchestration(host: HostProcess) -> None:
    # EXT ContextImplementations/DurableOrchestrationContext.cs SetCustomStatus (16 KB) and
    # MessagePayloadDataConverter.Serialize: whole KB of the UTF-16 size of the JSON.
    largest = next(n for n in range(8000, 9000) if utf16_kb(json.dumps("x" * (n + 1))) > 16)
    start(host, "BigStatus", "status-fits", largest)
    fits = host.wait_for_status("status-fits", {"Running"})
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    while fits["customStatus"] is None and datetime.now(UTC) < deadline:
        fits = status(host, "status-fits")
    assert fits["customStatus"] == "x" * largest

    start(host, "BigStatus", "status-too-big", largest + 1)
    failed = host.wait_for_status("status-too-big", {"Failed"})
    size = utf16_kb(json.dumps("x" * (largest + 1)))
    assert failed["output"] == (
        "Orchestrator function 'BigStatus' failed: The UTF-16 size of the JSON-serialized "
        f"payload must not exceed 16 KB. The current payload size is {size} KB."
    )
    assert failed["customStatus"] is None
    raise_event(host, "status-fits", "finish", None)
    assert host.wait_for_status("status-fits")["output"] == "done"


# ---- failure details -----------------------------------------------------------------------


def test_a_failed_sub_orchestration_reaches_its_parent_with_message_and_stack(
    host: HostProcess,
) -> None:
    # EXT Listener/OutOfProcOrchestrationShim.cs: OrchestrationFailureException(reason,
    # "Message: <error>, StackTrace: <stack>"); DTFX TaskOrchestrationDispatcher passes the
    # details to the parent (IncludeDetails); the SDK raises Exception(f"{Reason} \n {Details}").
    start(host, "ParentOfFailing", "parent-1")
    result = host.wait_for_status("parent-1")["output"]
    assert result["type"] == "Exception"
    reason, _, details = result["text"].partition(" \n ")
    assert reason == "Orchestrator function 'ChildFails' failed: child boom"
    assert details.startswith("Message: child boom, StackTrace: ")
    assert 'raise Exception("child boom")' in details


def test_a_failed_activity_carries_the_serialised_exception(host: HostProcess) -> None:
    # EXT Listener/TaskActivityShim.cs (TaskFailureException with Utils.SerializeCause of the
    # friendly exception) and ErrorSerializerSettingsFactory.cs (TypeNameHandling.Objects).
    start(host, "CatchActivity", "catch-1")
    result = host.wait_for_status("catch-1")["output"]
    reason, _, details = result["text"].partition(" \n ")
    assert reason == "Activity function 'Raises' failed:  ValueError: boom"
    # The parsing users publish for this (azure-functions-durable-extension issue #2990):
    assert json.loads(result["text"].split("\n")[1])["Message"].split(":", 1)[1].lstrip() == (
        "boom"
    )
    cause = json.loads(details)
    assert cause["$type"] == "System.Exception, System.Private.CoreLib"
    assert cause["Message"] == " ValueError: boom"
    inner = cause["InnerException"]
    assert inner["Message"].startswith("Result: Failure\nException: ValueError: boom\nStack: ")
    assert 'raise ValueError("boom")' in inner["RemoteStackTrace"]
    assert "\n" not in details  # one line: users split the message on newlines


# ---- status API --------------------------------------------------------------------------


def test_history_shows_inputs_unless_show_input_is_false(host: HostProcess) -> None:
    # EXT ContextImplementations/DurableClient.cs GetDurableOrchestrationStatusAsync: Input is
    # removed only when showInput is false.
    start(host, "Waits", "history-1", "hello")
    host.wait_for_status("history-1", {"Running"})
    raise_event(host, "history-1", "go", {"ok": True})
    host.wait_for_status("history-1")
    shown = status(host, "history-1", "?showHistory=true")
    events = {e["EventType"]: e for e in shown["historyEvents"]}
    assert json.loads(events["ExecutionStarted"]["Input"]) == shown["input"]
    assert json.loads(json.loads(events["ExecutionStarted"]["Input"])) == "hello"
    assert json.loads(events["EventRaised"]["Input"]) == {"ok": True}
    hidden = status(host, "history-1", "?showHistory=true&showInput=false")
    assert hidden["input"] is None
    assert all("Input" not in e for e in hidden["historyEvents"])

    start(host, "Waits", "history-2", "bye")
    host.wait_for_status("history-2", {"Running"})
    answer = host.request("POST", f"{WEBHOOK}/instances/history-2/terminate?reason=stop%20it")
    assert answer.status == 202
    host.wait_for_status("history-2", {"Terminated"})
    events = {
        e["EventType"]: e for e in status(host, "history-2", "?showHistory=true")["historyEvents"]
    }
    assert events["ExecutionTerminated"]["Input"] == "stop it"


def test_created_time_is_the_new_generations_after_continue_as_new(host: HostProcess) -> None:
    # DTFX DurableTask.AzureStorage Tracking/AzureTableTrackingStore.cs UpdateStateAsync: an
    # ExecutionStarted sets the instance's CreatedTime, also for a new generation.
    start(host, "Generations", "generations-1", {"generation": 1, "seconds": 2})
    first = host.wait_for_status("generations-1", {"Running"})
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    second = first
    while json.loads(second["input"])["generation"] != 2:
        assert datetime.now(UTC) < deadline, second
        second = status(host, "generations-1")
    assert second["createdTime"] > first["createdTime"]
    found = host.request(
        "GET", f"{WEBHOOK}/instances?createdTimeFrom={second['createdTime']}"
    ).json()
    assert "generations-1" in {s["instanceId"] for s in found}
    raise_event(host, "generations-1", "finish", None)
    assert host.wait_for_status("generations-1")["output"] == 2


def test_suspend_and_resume_reasons_show_as_output_also_after_a_restart(
    tmp_path: Path,
) -> None:
    # DTFX AzureTableTrackingStore.cs: ExecutionSuspended / ExecutionResumed write their
    # Reason to the instance's Output.
    with running_host(APP, tmp_path / "state") as own:
        start(own, "Waits", "suspend-1")
        own.wait_for_status("suspend-1", {"Running"})
        assert (
            own.request("POST", f"{WEBHOOK}/instances/suspend-1/suspend?reason=maintenance").status
            == 202
        )
        suspended = own.wait_for_status("suspend-1", {"Suspended"})
        assert suspended["output"] == "maintenance"
        own.restart()
        assert own.wait_for_status("suspend-1", {"Suspended"})["output"] == "maintenance"
        assert (
            own.request("POST", f"{WEBHOOK}/instances/suspend-1/resume?reason=back").status == 202
        )
        assert own.wait_for_status("suspend-1", {"Running"})["output"] == "back"
        raise_event(own, "suspend-1", "go", "done")
        assert own.wait_for_status("suspend-1")["output"] == "done"


# ---- messages -----------------------------------------------------------------------------


def test_messages_for_a_duplicate_start_and_invalid_suspend_or_resume(host: HostProcess) -> None:
    start(host, "Waits", "dup-1")
    host.wait_for_status("dup-1", {"Running"})
    # DTFX DurableTask.AzureStorage AzureStorageOrchestrationService.CreateTaskOrchestrationAsync
    # (ThrowExceptionOnInvalidDedupeStatus, set by EXT AzureStorageDurabilityProviderFactory);
    # EXT HttpApiHandler answers other exceptions with 500.
    again = host.request("POST", f"{WEBHOOK}/orchestrators/Waits/dup-1")
    assert again.status == 500
    assert again.json()["Message"] == "Something went wrong while processing your request"
    assert again.json()["ExceptionMessage"] == (
        "An Orchestration instance with the status Running already exists."
    )
    assert again.json()["ExceptionType"] == (
        "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException"
    )
    # EXT ContextImplementations/DurableClient.cs ResumeAsync / SuspendAsync
    resumed = host.request("POST", f"{WEBHOOK}/instances/dup-1/resume")
    assert resumed.status == 500
    assert resumed.json()["ExceptionMessage"] == (
        "Cannot resume the orchestration instance dup-1 because instance is in the Running state."
    )
    assert host.request("POST", f"{WEBHOOK}/instances/dup-1/suspend").status == 202
    host.wait_for_status("dup-1", {"Suspended"})
    twice = host.request("POST", f"{WEBHOOK}/instances/dup-1/suspend")
    assert twice.status == 500
    assert twice.json()["ExceptionMessage"] == (
        "Cannot suspend the orchestration instance dup-1 because instance is in the Suspended "
        "state."
    )
    assert twice.json()["ExceptionType"] == "System.InvalidOperationException"


# ---- startup ------------------------------------------------------------------------------


def test_an_empty_storage_connection_refuses_to_start(tmp_path: Path) -> None:
    # EXT AzureStorageAccountProvider.cs GetStorageAccountDetails
    own = HostProcess(APP, tmp_path / "state", env={"AzureWebJobsStorage": ""})
    with pytest.raises(HostProcessError) as caught:
        own.start()
    assert "Unable to resolve the Azure Storage connection named 'Storage'." in str(caught.value)
