"""Activities run in the app's own threads (``submit_activity``), and the pieces under them."""

import asyncio
import json
import threading
import uuid
from pathlib import Path

import pytest

from devhost.config import read_host_json
from devhost.contracts import ActivityOutcome
from devhost.functions.app import ActivityThreads, FunctionApp, load_app
from devhost.functions.worker import InvocationIds

FEATURES = Path(__file__).resolve().parents[3] / "apps" / "features"

# A small app of its own: activities the shared test apps do not have.
FUNCTIONS = {
    "SyncBoom": "def main(value):\n    raise KeyError(value)\n",
    "WhoAmI": (
        "import threading\n\n"
        "def main(value, context):\n"
        "    return {'id': context.invocation_id, 'thread': threading.current_thread().name}\n"
    ),
    "ReturnsCoroutine": (
        "async def _later(value):\n    return [value, value]\n\n"
        "def main(value):\n    return _later(value)\n"
    ),
}


def _write_app(root: Path) -> Path:
    for name, code in FUNCTIONS.items():
        folder = root / name
        folder.mkdir(parents=True)
        binding = {"name": "value", "type": "activityTrigger", "direction": "in"}
        (folder / "function.json").write_text(json.dumps({"bindings": [binding]}))
        (folder / "__init__.py").write_text(code)
    (root / "host.json").write_text('{"version": "2.0"}')
    return root


@pytest.fixture(scope="module")
def features() -> FunctionApp:
    app = load_app(FEATURES, read_host_json(FEATURES, environ={}))
    yield app
    app.close()


@pytest.fixture(scope="module")
def own_app(tmp_path_factory: pytest.TempPathFactory) -> FunctionApp:
    root = _write_app(tmp_path_factory.mktemp("threaded_app"))
    app = load_app(root, read_host_json(root, environ={}))
    yield app
    app.close()


def submitted(app: FunctionApp, name: str, input_json: str | None) -> tuple[ActivityOutcome, str]:
    """Run ``name`` through ``submit_activity``; its outcome and the thread that reported it."""
    ended = threading.Event()
    seen: list[tuple[ActivityOutcome, str]] = []

    def done(outcome: ActivityOutcome) -> None:
        seen.append((outcome, threading.current_thread().name))
        ended.set()

    assert app.submit_activity(name, input_json, done)
    assert ended.wait(10), f"{name} did not report within 10 s"
    assert len(seen) == 1, seen
    return seen[0]


@pytest.mark.parametrize(
    "input_json",
    ['{"a": 1, "b": [1, 2], "c": "é"}', "null", None, "plain words", "12.5", '"text"'],
)
def test_a_submitted_activity_answers_as_invoke_activity_does(
    features: FunctionApp, input_json: str | None
) -> None:
    outcome, thread = submitted(features, "echo", input_json)
    assert outcome == asyncio.run(features.invoke_activity("echo", input_json))
    assert thread.startswith("activity")


def test_a_failing_submitted_activity_is_a_task_failure_with_its_stack(
    own_app: FunctionApp,
) -> None:
    outcome, _ = submitted(own_app, "SyncBoom", '"k"')
    assert outcome.failed and not outcome.retryable
    assert outcome.reason == "Activity function 'SyncBoom' failed:  KeyError: 'k'"
    assert outcome.details is not None and "raise KeyError(value)" in outcome.details
    assert outcome == asyncio.run(own_app.invoke_activity("SyncBoom", '"k"'))


def test_a_submitted_activity_gets_a_context_with_a_fresh_uuid_shaped_id(
    own_app: FunctionApp,
) -> None:
    first, _ = submitted(own_app, "WhoAmI", "1")
    second, _ = submitted(own_app, "WhoAmI", "2")
    ids = [json.loads(o.result or "null")["id"] for o in (first, second)]
    assert ids[0] != ids[1]
    assert all(uuid.UUID(i).version == 4 for i in ids), ids
    assert json.loads(first.result or "null")["thread"].startswith("activity")


def test_a_sync_main_returning_a_coroutine_is_awaited(own_app: FunctionApp) -> None:
    outcome, _ = submitted(own_app, "ReturnsCoroutine", '"x"')
    assert (outcome.failed, outcome.result) == (False, '["x","x"]')
    assert asyncio.run(own_app.invoke_activity("ReturnsCoroutine", '"x"')) == outcome


@pytest.mark.parametrize("name", ["Explode", "Nope"])
def test_async_and_unknown_activities_are_left_to_invoke_activity(
    features: FunctionApp, name: str
) -> None:
    calls: list[ActivityOutcome] = []
    assert features.submit_activity(name, '"x"', calls.append) is False
    assert calls == []


def test_a_closing_app_declines_and_answers_run_again(tmp_path: Path) -> None:
    app = load_app(FEATURES, read_host_json(FEATURES, environ={}))
    assert asyncio.run(app.invoke_activity("echo", "1")).result == "1"  # pool started
    app.close()
    assert app.submit_activity("echo", "1", lambda outcome: None) is False
    outcome = asyncio.run(app.invoke_activity("echo", "1"))
    assert outcome.failed and outcome.retryable


def test_invocation_ids_are_distinct_uuid4_text_across_threads() -> None:
    ids = InvocationIds()
    seen: list[list[str]] = [[] for _ in range(4)]

    def take(bucket: list[str]) -> None:
        bucket.extend(ids.next() for _ in range(2000))

    threads = [threading.Thread(target=take, args=(bucket,)) for bucket in seen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    every = [i for bucket in seen for i in bucket]
    assert len(every) == 8000 and len(set(every)) == 8000
    parsed = [uuid.UUID(i) for i in every[:50]]
    assert all(u.version == 4 and str(u) in every for u in parsed)
    assert InvocationIds().next()[:24] != ids.next()[:24]  # a random base per instance


def test_activity_threads_run_jobs_and_futures_and_drop_queued_jobs_on_cancel() -> None:
    threads = ActivityThreads(1, name="t")
    assert threads.submit(lambda a, b: a + b, 2, b=3).result(10) == 5
    with pytest.raises(ZeroDivisionError):
        threads.submit(lambda: 1 / 0).result(10)
    release = threading.Event()
    ran: list[int] = []
    threads.run(release.wait, 10)  # holds the only thread
    threads.run(ran.append, 1)  # queued behind it
    threads.shutdown(wait=False, cancel_futures=True)
    release.set()
    with pytest.raises(RuntimeError):
        threads.run(ran.append, 2)
    threads.shutdown(wait=True)
    assert ran == []
