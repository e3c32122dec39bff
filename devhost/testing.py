"""The real task hub in memory, for tests of orchestrations and of the hub's contract.

``memory_hub`` runs the real ``TaskHub`` (dispatcher, activity pool, timers, replay core) over
an in-memory SQLite store with the same schema and SQL as the file one, and by default a
``ManualClock``, so durable timers fire only when a test moves the time::

    app = StandInApp({"Hello": hello}, {"Say": lambda name: f"Hi {name}"})
    async with memory_hub(app) as hub:
        await hub.start_instance("Hello", "i1", '"Tokyo"')
        info = await wait_finished(hub, "i1")

``StandInApp`` is a function app made of plain Python functions, run by the real durable SDK
the way the Python worker calls v1 functions: orchestrators are wrapped with
``azure.durable_functions.Orchestrator.create`` and called with the payload JSON; their state
comes back as the return value or in the ``$OutOfProcData$`` tail of the exception the SDK
raises. Nothing here touches the network or the file system.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import time
import traceback
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df

from devhost.contracts import (
    ActivityOutcome,
    HostOptions,
    InstanceInfo,
    OrchestratorOutcome,
    RuntimeStatus,
)
from devhost.core import history as h
from devhost.core.outcome import outcome_from_exception, outcome_from_result
from devhost.hub.client import TaskHub
from devhost.hub.clock import Clock, ManualClock
from devhost.hub.store import Store

__all__ = [
    "ManualClock",
    "StandInApp",
    "TaskHub",
    "invoke_orchestrator",
    "memory_hub",
    "wait_finished",
    "wait_for",
    "wait_status",
]

START = datetime(2024, 1, 1, tzinfo=UTC)


def invoke_handle(handle: Callable[[str], Any], context_json: str) -> OrchestratorOutcome:
    """Run an SDK orchestrator handle once and read its answer, as the host does."""
    try:
        answer = handle(context_json)
    except Exception as error:  # noqa: BLE001 - the SDK reports user-code failures by raising
        return outcome_from_exception(error)
    return outcome_from_result(answer)


def invoke_orchestrator(
    handle: Callable[[str], Any], instance_id: str, history: list[dict]
) -> OrchestratorOutcome:
    """Run a handle on ``history`` (the payload the host builds) and read its answer."""
    payload = h.orchestration_payload(instance_id=instance_id, history=history)
    return invoke_handle(handle, payload)


def _handle(fn: Callable[..., Any]) -> Callable[[str], str]:
    """A generator function wrapped as the worker calls it; an app's ``main`` is one already."""
    if getattr(fn, "orchestrator_function", None) is not None:
        return fn
    return df.Orchestrator.create(fn)


class StandInApp:
    """Orchestrators (generator functions, or an app's wrapped ``main``) and activities (plain
    functions taking the decoded input) by name."""

    def __init__(
        self,
        orchestrators: Mapping[str, Callable[..., Any]],
        activities: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self._orchestrators = {name: _handle(fn) for name, fn in orchestrators.items()}
        self._activities = dict(activities or {})
        self._names = {name.lower(): name for name in [*orchestrators, *self._activities]}
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
        return invoke_handle(self._orchestrators[self.resolve_name(name) or name], context_json)

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


def hub_options(hub_name: str, activities: int = 10, orchestrations: int = 10) -> HostOptions:
    return HostOptions(
        hub_name=hub_name,
        max_concurrent_activities=activities,
        max_concurrent_orchestrations=orchestrations,
    )


@contextlib.asynccontextmanager
async def memory_hub(
    app: StandInApp,
    *,
    clock: Clock | None = None,
    activities: int = 10,
    orchestrations: int = 10,
    hub_name: str = "TestHub",
) -> AsyncIterator[TaskHub]:
    """A started ``TaskHub`` over an in-memory store; the clock is manual unless given."""
    store = Store.in_memory(hub_name)
    hub = TaskHub(
        store,
        app,
        hub_options(hub_name, activities, orchestrations),
        clock=clock if clock is not None else ManualClock(START),
    )
    try:
        await hub.start()
        yield hub
    finally:
        await hub.stop()
        store.close()


async def wait_for(
    hub: Any,
    instance_id: str,
    predicate: Callable[[InstanceInfo], bool],
    timeout: float = 30.0,
    what: str = "the expected state",
) -> InstanceInfo:
    """Wait (on the hub's change notifications) until ``predicate`` holds for the instance.

    ``hub`` is anything with ``get_instance`` and ``wait_for_change`` (``TaskHubProtocol``).
    """
    deadline = time.monotonic() + timeout
    info = await hub.get_instance(instance_id)
    while info is None or not predicate(info):
        left = deadline - time.monotonic()
        if left <= 0:
            seen = "nothing" if info is None else f"{info.runtime_status.value}: {info.output!r}"
            raise AssertionError(f"{instance_id} never reached {what} in {timeout}s; saw {seen}")
        info = await hub.wait_for_change(instance_id, left)
    return info


async def wait_finished(hub: Any, instance_id: str, timeout: float = 30.0) -> InstanceInfo:
    return await wait_for(
        hub, instance_id, lambda i: i.runtime_status.is_terminal, timeout, "a terminal status"
    )


async def wait_status(
    hub: Any, instance_id: str, status: RuntimeStatus, timeout: float = 30.0
) -> InstanceInfo:
    return await wait_for(
        hub, instance_id, lambda i: i.runtime_status is status, timeout, status.value
    )
