"""Pure rules copied from the extension: the custom status limit and failure details.

Sources: EXT (azure-functions-durable-extension 2.13.7) ``DurableOrchestrationContext.
SetCustomStatus`` + ``MessagePayloadDataConverter.Serialize`` (16 KB of UTF-16 JSON),
``OutOfProcOrchestrationShim`` ("Message: ..., StackTrace: ..."), ``TaskActivityShim`` +
``ErrorSerializerSettingsFactory`` (the serialised exception); azure-functions-host
``RpcException`` (its message layout).
"""

from __future__ import annotations

import json

from devhost.contracts import OrchestratorOutcome, RuntimeStatus
from devhost.functions.failure_details import activity_failure_details
from tests.unit.devhost.core.builders import History, activity, run, state


def utf16_bytes(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode("utf-16-le"))


def test_custom_status_limit_is_whole_kb_of_utf16_json() -> None:
    # 8,701 "x" are 8,703 JSON characters: 17,406 bytes, still "16 KB" in whole KB.
    fits, too_big = "x" * 8701, "x" * 8702
    assert utf16_bytes(fits) // 1024 == 16 and utf16_bytes(too_big) // 1024 == 17
    ok = run(History(), [activity("A")], custom=fits)
    assert ok.status is RuntimeStatus.RUNNING and ok.custom_status == json.dumps(fits)
    failed = run(History(), [activity("A")], custom=too_big)
    assert failed.status is RuntimeStatus.FAILED
    assert json.loads(failed.output or "") == (
        "Orchestrator function 'Orch' failed: The UTF-16 size of the JSON-serialized payload "
        "must not exceed 16 KB. The current payload size is 17 KB."
    )
    assert not failed.activities and failed.custom_status is None
    # characters outside the BMP take two UTF-16 units
    emoji = "\U0001f600" * 4351  # 8,702 units + 2 quotes = 17,408 bytes
    assert run(History(), [activity("A")], custom=emoji).status is RuntimeStatus.FAILED


def test_a_failed_orchestrator_hands_message_and_stack_to_its_parent() -> None:
    outcome = OrchestratorOutcome(
        state=state([], error="child boom"), stack='  File "x.py", line 3, in f\n'
    )
    decision = run(History(), outcome=outcome)
    assert decision.status is RuntimeStatus.FAILED
    assert decision.failure_details == (
        'Message: child boom, StackTrace:   File "x.py", line 3, in f\n'
    )


def test_activity_details_are_the_serialised_friendly_exception() -> None:
    stack = '  File "/app/Raises/__init__.py", line 2, in main\n    raise ValueError("boom")\n'
    details = activity_failure_details("ValueError: boom", stack)
    assert "\n" not in details
    cause = json.loads(details)
    assert list(cause) == [
        "$type",
        "Message",
        "Data",
        "InnerException",
        "HelpLink",
        "Source",
        "HResult",
        "StackTrace",
    ]
    assert cause["Message"] == " ValueError: boom"
    inner = cause["InnerException"]
    assert inner["$type"].startswith("Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException")
    assert inner["Message"] == f"Result: Failure\nException: ValueError: boom\nStack: {stack}"
    assert inner["RemoteStackTrace"] == stack and inner["RemoteMessage"] == "ValueError: boom"
