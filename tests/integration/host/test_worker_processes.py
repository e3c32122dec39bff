"""FUNCTIONS_WORKER_PROCESS_COUNT: activities also run in child worker processes that load the
same app; a child that dies mid-activity has its activities run again, and nothing is lost."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psutil
import pytest

from devhost.config import read_host_json
from devhost.contracts import RuntimeStatus
from devhost.functions.app import FunctionApp, load_app
from devhost.functions.processes import thread_count, worker_process_count
from devhost.hub.client import TaskHub
from devhost.hub.store import Store
from tests.integration.host.support import run, wait_finished

ORCHESTRATOR = """import azure.durable_functions as df


def orchestrator_function(context):
    job = context.get_input()
    tasks = [context.call_activity("WhereAmI", {**job, "n": i}) for i in range(job["count"])]
    return (yield context.task_all(tasks))


main = df.Orchestrator.create(orchestrator_function)
"""

# Answers with its value and the process it ran in. With a crash marker path, the first
# invocation that runs outside the host's process ends that process, as a crash would.
ACTIVITY = """import os
import time


def main(job):
    marker = job.get("crashMarker")
    if marker and os.getpid() != job["hostPid"]:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass
        else:
            os.close(fd)
            os._exit(3)
    time.sleep(0.02)  # long enough for the activities to overlap and spread out
    return {"n": job["n"], "pid": os.getpid()}
"""

SLOTS = 6


def _app(root: Path) -> FunctionApp:
    for name, trigger, code in (
        ("Spread", "orchestrationTrigger", ORCHESTRATOR),
        ("WhereAmI", "activityTrigger", ACTIVITY),
    ):
        folder = root / name
        folder.mkdir(parents=True)
        parameter = "context" if name == "Spread" else "job"
        binding = {"name": parameter, "type": trigger, "direction": "in"}
        (folder / "function.json").write_text(json.dumps({"bindings": [binding]}))
        (folder / "__init__.py").write_text(code)
    settings = {"maxConcurrentActivityFunctions": SLOTS}
    host = {"version": "2.0", "extensions": {"durableTask": settings}}
    (root / "host.json").write_text(json.dumps(host))
    return load_app(root, read_host_json(root, environ={}))


def _run_spread(tmp_path: Path, job: dict) -> tuple[list[dict], dict[str, int], list[int]]:
    app = _app(tmp_path / "app")
    options = app.config.host_options()
    out: dict = {}

    async def scenario() -> None:
        store = Store.open(tmp_path / "state", options.hub_name)
        before = {child.pid for child in psutil.Process().children()}
        hub = TaskHub(store, app, options)
        try:
            await hub.start()
            await hub.start_instance("Spread", "spread", json.dumps(job))
            done = await wait_finished(hub, "spread", timeout=120)
            assert done.runtime_status is RuntimeStatus.COMPLETED, done.output
            out["results"] = json.loads(done.output)
            out["metrics"] = dict(hub.metrics)
            out["children"] = app.worker_pids
            # Every process the app started, seen by the OS: the workers and nothing else.
            out["started"] = {c.pid for c in psutil.Process().children()} - before
        finally:
            await hub.stop()
            app.close(True)
            store.close()

    run(scenario())
    assert out["started"] == set(out["children"]), out
    return out["results"], out["metrics"], out["children"]


@pytest.mark.timeout(180)
def test_activities_run_in_the_host_and_in_its_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUNCTIONS_WORKER_PROCESS_COUNT", "3")
    count = 60

    results, metrics, children = _run_spread(tmp_path, {"count": count, "hostPid": os.getpid()})

    assert [r["n"] for r in results] == list(range(count))
    assert len(children) == 2 and os.getpid() not in children
    ran_in = {r["pid"] for r in results}
    assert ran_in <= {os.getpid(), *children}, ran_in
    assert ran_in & set(children), "no activity ran in a worker process"
    assert metrics["activities_completed"] == count
    for pid in children:  # stopped with the app
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid), f"worker {pid} still runs"


@pytest.mark.timeout(180)
def test_a_worker_process_that_dies_has_its_activities_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUNCTIONS_WORKER_PROCESS_COUNT", "2")
    marker = tmp_path / "crashed"
    count = 30

    results, metrics, _ = _run_spread(
        tmp_path, {"count": count, "hostPid": os.getpid(), "crashMarker": str(marker)}
    )

    assert marker.exists(), "no activity ran in the worker process"
    # Every activity has its result, each from a process that was alive to send it.
    assert [r["n"] for r in results] == list(range(count))
    assert metrics["activities_requeued"] >= 1
    assert metrics["activities_completed"] == count


def test_the_settings_are_read_like_the_real_host() -> None:
    assert worker_process_count({}) == 1
    assert worker_process_count({"FUNCTIONS_WORKER_PROCESS_COUNT": "4"}) == 4
    assert worker_process_count({"FUNCTIONS_WORKER_PROCESS_COUNT": "99"}) == 10
    assert worker_process_count({"FUNCTIONS_WORKER_PROCESS_COUNT": "two"}) == 1
    assert thread_count(8, {}) == 8
    assert thread_count(8, {"PYTHON_THREADPOOL_THREAD_COUNT": "2"}) == 2
    assert thread_count(8, {"PYTHON_THREADPOOL_THREAD_COUNT": "0"}) == 1


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True
