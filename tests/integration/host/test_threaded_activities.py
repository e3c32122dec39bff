"""Activities run in the app's threads and reported back in batches: the slot limit holds,
and a stop lets the running ones finish and records them."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from devhost.config import read_host_json
from devhost.contracts import RuntimeStatus
from devhost.functions.app import FunctionApp, load_app
from devhost.hub.client import TaskHub
from devhost.hub.store import Store
from tests.integration.host.support import run, wait_finished

SLOTS = 3

ORCHESTRATOR = """import azure.durable_functions as df


def orchestrator_function(context):
    count = context.get_input()
    values = yield context.task_all([context.call_activity("Gate", i) for i in range(count)])
    return sum(values)


main = df.Orchestrator.create(orchestrator_function)
"""

# Counts the invocations running at once; blocks while the test holds the gate closed.
ACTIVITY = """import threading

lock = threading.Lock()
gate = threading.Event()
gate.set()
running = 0
most = 0
entered = 0


def main(value):
    global running, most, entered
    with lock:
        running += 1
        entered += 1
        most = max(most, running)
    try:
        if not gate.wait(30):
            raise TimeoutError("the gate stayed closed")
        return value * 2
    finally:
        with lock:
            running -= 1
"""


def _app(root: Path) -> FunctionApp:
    for name, trigger, code in (
        ("GateFanOut", "orchestrationTrigger", ORCHESTRATOR),
        ("Gate", "activityTrigger", ACTIVITY),
    ):
        folder = root / name
        folder.mkdir(parents=True)
        parameter = "context" if name == "GateFanOut" else "value"
        binding = {"name": parameter, "type": trigger, "direction": "in"}
        (folder / "function.json").write_text(json.dumps({"bindings": [binding]}))
        (folder / "__init__.py").write_text(code)
    settings = {"maxConcurrentActivityFunctions": SLOTS}
    host = {"version": "2.0", "extensions": {"durableTask": settings}}
    (root / "host.json").write_text(json.dumps(host))
    return load_app(root, read_host_json(root, environ={}))


async def _until(predicate, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        await asyncio.sleep(0.01)


def test_threaded_activities_keep_to_the_slot_limit(tmp_path: Path) -> None:
    app = _app(tmp_path / "app")
    options = app.config.host_options()
    gate = sys.modules["__app__.Gate"]  # the worker's module name

    async def scenario() -> None:
        store = Store.open(tmp_path / "state", options.hub_name)
        hub = TaskHub(store, app, options)
        try:
            await hub.start()
            await hub.start_instance("GateFanOut", "limit", json.dumps("40"))
            done = await wait_finished(hub, "limit", timeout=60)
            assert done.runtime_status is RuntimeStatus.COMPLETED, done.output
            assert json.loads(done.output) == sum(2 * n for n in range(40))
            assert gate.most <= SLOTS, f"{gate.most} ran at once with {SLOTS} slots"
            assert hub.metrics["activities_completed"] == 40
        finally:
            await hub.stop()
            app.close(True)
            store.close()

    run(scenario())


def test_a_stop_lets_running_threaded_activities_finish_and_records_them(
    tmp_path: Path,
) -> None:
    app = _app(tmp_path / "app")
    options = app.config.host_options()
    gate = sys.modules["__app__.Gate"]  # the worker's module name
    gate.gate.clear()
    gate.entered = 0

    async def first_life() -> None:
        store = Store.open(tmp_path / "state", options.hub_name)
        hub = TaskHub(store, app, options)
        try:
            await hub.start()
            await hub.start_instance("GateFanOut", "stopped", json.dumps("10"))
            await _until(lambda: gate.entered == SLOTS, f"{SLOTS} activities running")
            stopping = asyncio.create_task(hub.stop(grace=20))
            await asyncio.sleep(0.05)
            assert not stopping.done(), "stop() returned while activities were running"
            gate.gate.set()
            await stopping
            assert hub.metrics["activities_started"] == SLOTS
            assert hub.metrics["activities_completed"] == SLOTS
        finally:
            gate.gate.set()
            store.close()

    async def second_life() -> None:
        store = Store.open(tmp_path / "state", options.hub_name)
        hub = TaskHub(store, app, options)
        try:
            await hub.start()
            done = await wait_finished(hub, "stopped", timeout=60)
            assert done.runtime_status is RuntimeStatus.COMPLETED, done.output
            assert json.loads(done.output) == sum(2 * n for n in range(10))
            # Only the seven not recorded before the stop ran again.
            assert hub.metrics["activities_started"] == 10 - SLOTS
        finally:
            await hub.stop()
            app.close(True)
            store.close()

    run(first_life())
    run(second_life())
