"""The app loader and the worker-style invocation, in-process with the real SDK."""

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devhost.config import read_host_json
from devhost.core import history as h
from devhost.functions.app import FunctionApp, load_app
from devhost.functions.bindings import FunctionKind
from devhost.functions.worker import HttpInvocation

APPS = Path(__file__).resolve().parents[3] / "apps"
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def load(name: str) -> FunctionApp:
    folder = APPS / name
    return load_app(folder, read_host_json(folder, environ={}))


@pytest.fixture(scope="module")
def hello() -> FunctionApp:
    return load("hello_sequence")


@pytest.fixture(scope="module")
def features() -> FunctionApp:
    app = load("features")
    yield app
    app.close()


@pytest.fixture(scope="module")
def broken() -> FunctionApp:
    return load("broken")


def payload(name: str, *events: dict, input: str | None = None) -> str:
    started = h.execution_started(T0, instance_id="i1", execution_id="e1", name=name, input=input)
    return h.orchestration_payload(
        instance_id="i1", history=[h.orchestrator_started(T0), started, *events]
    )


def test_functions_kinds_and_case_insensitive_names(hello: FunctionApp) -> None:
    assert hello.orchestrator_names == {"E1_HelloSequence"}
    assert hello.activity_names == {"E1_SayHello"}
    assert [f.name for f in hello.http_functions] == ["HttpStart"]
    assert hello.resolve_name("e1_hellosequence") == "E1_HelloSequence"
    assert hello.resolve_name("nope") is None
    start = hello.functions["HttpStart"]
    assert start.is_async and start.error is None
    assert start.route is not None and start.route.match("orchestrators/X") == {"functionName": "X"}


def test_activity_result_is_compact_json(hello: FunctionApp, monkeypatch) -> None:
    monkeypatch.setenv("GREETING", "Hello")
    outcome = asyncio.run(hello.invoke_activity("E1_SayHello", '"Tokyo"'))
    assert not outcome.failed
    assert outcome.result == '"Hello Tokyo!"'


@pytest.mark.parametrize(
    ("input_json", "result"),
    [
        ('{"a": 1, "b": [1, 2], "c": "é"}', '{"a":1,"b":[1,2],"c":"é"}'),
        ("null", None),
        (None, None),
        # Text that is not JSON reaches the activity as the raw string (AF's fallback).
        ("plain words", '"plain words"'),
        ("12.5", "12.5"),
    ],
)
def test_activity_input_decoding_and_output_encoding(
    features: FunctionApp, input_json: str | None, result: str | None
) -> None:
    outcome = asyncio.run(features.invoke_activity("echo", input_json))
    assert (outcome.failed, outcome.result) == (False, result)


def test_activity_failure_reason_and_details(features: FunctionApp) -> None:
    outcome = asyncio.run(features.invoke_activity("Explode", '"kaboom"'))
    assert outcome.failed and not outcome.retryable
    assert outcome.reason == "Activity function 'Explode' failed:  ValueError: kaboom"
    assert outcome.details is not None
    assert "raise ValueError(message)" in outcome.details
    assert "devhost/functions/app.py" not in outcome.details


def test_unknown_activity_fails_clearly(features: FunctionApp) -> None:
    outcome = asyncio.run(features.invoke_activity("Nope", '"x"'))
    assert outcome.failed
    assert "doesn't exist, is disabled, or is not an activity function" in (outcome.reason or "")


def test_orchestrator_first_episode_schedules_the_first_activity(hello: FunctionApp) -> None:
    outcome = hello.invoke_orchestrator("E1_HelloSequence", payload("E1_HelloSequence"))
    assert outcome.error is None
    assert outcome.state is not None
    assert outcome.state["isDone"] is False
    assert outcome.state["schemaVersion"] == 2
    assert outcome.state["actions"] == [
        [{"actionType": 0, "functionName": "E1_SayHello", "input": '"Tokyo"'}]
    ]


def test_orchestrator_exception_state_comes_from_out_of_proc_data(features: FunctionApp) -> None:
    outcome = features.invoke_orchestrator(
        "Failing",
        payload(
            "Failing",
            h.task_scheduled(T0, 0, "Echo"),
            h.orchestrator_completed(T0),
            h.orchestrator_started(T0),
            h.task_completed(T0, 0, "1"),
        ),
    )
    assert outcome.error is None
    assert outcome.state is not None
    assert outcome.state["error"] == "boom"
    assert outcome.state["isDone"] is False


def test_orchestrator_in_error_reports_the_import_failure(broken: FunctionApp) -> None:
    outcome = broken.invoke_orchestrator("OrchestratorBroken", payload("OrchestratorBroken"))
    assert outcome.state is None
    assert outcome.error == "ZeroDivisionError: division by zero"
    unknown = broken.invoke_orchestrator("Missing", payload("Missing"))
    assert unknown.state is None and "doesn't exist" in (unknown.error or "")


def test_broken_functions_are_reported_and_the_others_load(broken: FunctionApp) -> None:
    assert set(broken.broken) == {"BadJson", "NoTrigger"}
    assert "function.json is not valid JSON" in broken.broken["BadJson"]
    assert "no trigger" in broken.broken["NoTrigger"]
    assert broken.skipped == {}
    assert broken.functions["Scheduled"].timer is not None
    assert broken.disabled == ["Off"]
    errors = {name: f.error for name, f in broken.functions.items() if f.error}
    # The worker's texts (azure_functions_worker/loader.py): the import hint, the entry point
    assert errors["ImportFails"].startswith(
        "ModuleNotFoundError: No module named 'module_that_does_not_exist'. Cannot find module."
    )
    assert errors["MissingMain"] == (
        "RuntimeError: cannot load function MissingMain: function main() is not present in "
        "MissingMain/__init__.py"
    )
    assert "declared in Python but not in function.json: request" in errors["WrongParams"]
    assert "blob binding 'out' (out) is not supported by this host" in errors["BlobOut"]
    assert broken.functions["Ping"].error is None
    failed = asyncio.run(broken.invoke_activity("ImportFails", "1"))
    assert failed.reason is not None
    assert failed.reason.startswith(
        "Activity function 'ImportFails' failed:  "
        "ModuleNotFoundError: No module named 'module_that_does_not_exist'. "
    )


def request(method: str, url: str, body: bytes = b"", **route: str) -> HttpInvocation:
    return HttpInvocation(
        method=method,
        url=url,
        headers={"X-Test": "t", "Content-Type": "text/plain"},
        params={"q": "1"},
        route_params=route,
        body=body,
    )


def test_http_named_output_context_and_request(features: FunctionApp) -> None:
    url = "http://localhost:7071/api/inspect/bob?q=1"
    result = asyncio.run(
        features.invoke_http("Inspect", request("POST", url, b"hi", name="bob"), "{}")
    )
    assert result.status == 201
    assert ("X-Answer", "yes") in result.headers
    assert ("Content-Type", "application/json") in [(k.title(), v) for k, v in result.headers]
    echoed = json.loads(result.body)
    assert echoed["method"] == "POST"
    assert echoed["url"] == url
    assert echoed["route"] == {"name": "bob"}
    assert echoed["params"] == {"q": "1"}
    assert echoed["header"] == "t"
    assert echoed["body"] == "hi"
    assert echoed["function"] == "Inspect"
    assert echoed["directory"] == "Inspect"
    assert echoed["invocation"] is True


def test_http_string_return_and_exception(features: FunctionApp) -> None:
    items = asyncio.run(
        features.invoke_http("Items", request("GET", "http://h/api/items/3", id="3"), None)
    )
    assert (items.status, items.body) == (200, b"item 3")
    assert ("Content-Type", "text/plain; charset=utf-8") in items.headers
    crash = asyncio.run(features.invoke_http("Crash", request("GET", "http://h/api/Crash"), None))
    assert (crash.status, crash.body) == (500, b"")


def test_kinds_of_loaded_functions(features: FunctionApp) -> None:
    kinds = {name: f.kind for name, f in features.functions.items()}
    assert kinds["Approval"] is FunctionKind.ORCHESTRATOR
    assert kinds["Flaky"] is FunctionKind.ACTIVITY
    assert kinds["ClientOps"] is FunctionKind.HTTP
    assert all(f.error is None for f in features.functions.values())


def test_activities_after_close_are_retryable() -> None:
    app = load("features")
    app.close()
    outcome = asyncio.run(app.invoke_activity("Echo", "1"))
    assert outcome.failed and outcome.retryable
