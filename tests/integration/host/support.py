"""A function app made of plain Python functions, run by the real durable SDK, and hub helpers.

``StandInApp`` implements ``FunctionAppProtocol`` the way the Python worker calls v1 functions:
orchestrators are wrapped with ``azure.durable_functions.Orchestrator.create`` and called with
the payload JSON; their state comes back as the return value or in the ``$OutOfProcData$`` tail
of the exception the SDK raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import time
import traceback
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import azure.durable_functions as df

from devhost.contracts import (
    ActivityOutcome,
    HostOptions,
    InstanceInfo,
    OrchestratorOutcome,
    RuntimeStatus,
)
from devhost.hub.client import TaskHub
from devhost.hub.clock import Clock
from devhost.hub.store import Store

MARKER = "\n\n$OutOfProcData$:"


class StandInApp:
    """Orchestrators (generator functions) and activities (plain functions) by name."""

    def __init__(
        self,
        orchestrators: Mapping[str, Callable[..., Any]],
        activities: Mapping[str, Callable[..., Any]],
    ) -> None:
        self._orchestrators = {
            name: df.Orchestrator.create(fn) for name, fn in orchestrators.items()
        }
        self._activities = dict(activities)
        self._names = {name.lower(): name for name in [*orchestrators, *activities]}
        self.activity_calls: Counter[str] = Counter()

    @property
    def orchestrator_names(self) -> frozenset[str]:
        return frozenset(self._orchestrators)

    @property
    def activity_names(self) -> frozenset[str]:
        return frozenset(self._activities)

    def resolve_name(self, name: str) -> str | None:
        return self._names.get(name.lower())

    def invoke_orchestrator(self, name: str, context_json: str) -> OrchestratorOutcome:
        handle = self._orchestrators[self.resolve_name(name) or name]
        try:
            return OrchestratorOutcome(json.loads(handle(context_json)))
        except Exception as error:  # noqa: BLE001 - the SDK's way of answering a failure
            message = str(error)
            _, marker, tail = message.partition(MARKER)
            if marker:
                return OrchestratorOutcome(json.loads(tail))
            return OrchestratorOutcome(None, error=f"{type(error).__name__}: {message}")

    async def invoke_activity(self, name: str, input_json: str | None) -> ActivityOutcome:
        resolved = self.resolve_name(name) or name
        self.activity_calls[resolved] += 1
        function = self._activities[resolved]
        try:
            result = function(json.loads(input_json) if input_json is not None else None)
            if inspect.isawaitable(result):
                result = await result
        except Exception as error:  # noqa: BLE001 - becomes TaskFailed
            return ActivityOutcome(
                failed=True,
                reason=f"Activity function '{resolved}' failed:  {type(error).__name__}: {error}",
                details="".join(traceback.format_exception(error)),
            )
        if result is None:
            return ActivityOutcome()
        return ActivityOutcome(result=json.dumps(result, separators=(",", ":")))


@contextlib.asynccontextmanager
async def running_hub(
    state_dir: Path,
    app: StandInApp,
    *,
    clock: Clock | None = None,
    activities: int = 10,
    orchestrations: int = 10,
    hub_name: str = "TestHub",
) -> AsyncIterator[TaskHub]:
    store = Store.open(state_dir, hub_name)
    options = HostOptions(
        hub_name=hub_name,
        max_concurrent_activities=activities,
        max_concurrent_orchestrations=orchestrations,
    )
    hub = TaskHub(store, app, options, clock=clock)
    try:
        await hub.start()
        yield hub
    finally:
        await hub.stop()
        store.close()


async def wait_for(
    hub: TaskHub,
    instance_id: str,
    predicate: Callable[[InstanceInfo], bool],
    timeout: float = 30.0,
    what: str = "the expected state",
) -> InstanceInfo:
    """Wait (on the hub's change notifications) until ``predicate`` holds for the instance."""
    deadline = time.monotonic() + timeout
    info = await hub.get_instance(instance_id)
    while info is None or not predicate(info):
        left = deadline - time.monotonic()
        if left <= 0:
            seen = "nothing" if info is None else f"{info.runtime_status.value}: {info.output!r}"
            raise AssertionError(f"{instance_id} never reached {what} in {timeout}s; saw {seen}")
        info = await hub.wait_for_change(instance_id, left)
    return info


async def wait_finished(hub: TaskHub, instance_id: str, timeout: float = 30.0) -> InstanceInfo:
    return await wait_for(
        hub, instance_id, lambda i: i.runtime_status.is_terminal, timeout, "a terminal status"
    )


async def wait_status(
    hub: TaskHub, instance_id: str, status: RuntimeStatus, timeout: float = 30.0
) -> InstanceInfo:
    return await wait_for(
        hub, instance_id, lambda i: i.runtime_status is status, timeout, status.value
    )


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """For facts the hub does not announce (a timer waiter asleep): check, yield, repeat."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.005)


def run(coroutine: Any, timeout: float = 120.0) -> Any:
    """Run a test coroutine on a fresh event loop, with a deadline."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def event_types(events: list[dict]) -> list[int]:
    return [event["EventType"] for event in events]
