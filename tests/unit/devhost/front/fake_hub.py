"""An in-memory ``TaskHubProtocol`` stand-in: lets the front be tested without a dispatcher.

It keeps instances and histories in dicts, checks states the way the real hub does
(InstanceNotFound / InstanceGone / InvalidOperation / InstanceExists) and records every call.
Tests move instances between states with ``set_status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import UTC, datetime, timedelta

from devhost.contracts import (
    InstanceExists,
    InstanceGone,
    InstanceInfo,
    InstanceNotFound,
    InstancePage,
    InstanceQuery,
    InvalidOperation,
    RuntimeStatus,
)


class FakeHub:
    def __init__(self, hub_name: str = "TestHubName") -> None:
        self.hub_name = hub_name
        self.instances: dict[str, InstanceInfo] = {}
        self.histories: dict[str, list[dict]] = {}
        self.calls: list[tuple] = []
        self._clock = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
        self._changes: dict[str, asyncio.Event] = {}

    def _now(self) -> datetime:
        self._clock += timedelta(seconds=1)
        return self._clock

    def _require(self, instance_id: str) -> InstanceInfo:
        info = self.instances.get(instance_id)
        if info is None:
            raise InstanceNotFound(instance_id)
        if info.runtime_status.is_terminal:
            raise InstanceGone(instance_id)
        return info

    def set_status(
        self, instance_id: str, status: RuntimeStatus, output: str | None = None, **changes
    ) -> InstanceInfo:
        info = dataclasses.replace(
            self.instances[instance_id],
            runtime_status=status,
            output=output,
            last_updated_time=self._now(),
            **changes,
        )
        self.instances[instance_id] = info
        event = self._changes.pop(instance_id, None)
        if event is not None:
            event.set()
        return info

    async def start_instance(
        self, name: str, instance_id: str, input_json: str | None
    ) -> InstanceInfo:
        self.calls.append(("start", name, instance_id, input_json))
        existing = self.instances.get(instance_id)
        if existing is not None and not existing.runtime_status.is_terminal:
            raise InstanceExists(
                f"An Orchestration instance with the status {existing.runtime_status.value} "
                "already exists."
            )
        now = self._now()
        info = InstanceInfo(
            instance_id, name, RuntimeStatus.PENDING, input_json, None, None, now, now
        )
        self.instances[instance_id] = info
        self.histories[instance_id] = []
        return info

    async def get_instance(self, instance_id: str) -> InstanceInfo | None:
        return self.instances.get(instance_id)

    async def get_history(self, instance_id: str) -> list[dict]:
        return list(self.histories.get(instance_id, []))

    def _matches(self, info: InstanceInfo, query: InstanceQuery) -> bool:
        return (
            (query.created_from is None or info.created_time >= query.created_from)
            and (query.created_to is None or info.created_time <= query.created_to)
            and (not query.statuses or info.runtime_status in query.statuses)
            and (
                query.instance_id_prefix is None
                or info.instance_id.startswith(query.instance_id_prefix)
            )
        )

    async def query_instances(self, query: InstanceQuery) -> InstancePage:
        self.calls.append(("query", query))
        found = sorted(
            (i for i in self.instances.values() if self._matches(i, query)),
            key=lambda i: (i.created_time, i.instance_id),
        )
        start = int(query.continuation_token or 0)
        page = found[start : start + query.top]
        more = start + query.top < len(found)
        return InstancePage(page, str(start + query.top) if more else None)

    async def raise_event(self, instance_id: str, name: str, input_json: str | None) -> None:
        self._require(instance_id)
        self.calls.append(("raise", instance_id, name, input_json))

    async def terminate(self, instance_id: str, reason: str | None) -> None:
        self._require(instance_id)
        self.calls.append(("terminate", instance_id, reason))
        self.set_status(instance_id, RuntimeStatus.TERMINATED, reason)

    async def suspend(self, instance_id: str, reason: str | None) -> None:
        info = self._require(instance_id)
        if info.runtime_status is RuntimeStatus.SUSPENDED:
            raise InvalidOperation(f"Instance '{instance_id}' is already suspended.")
        self.calls.append(("suspend", instance_id, reason))
        self.set_status(instance_id, RuntimeStatus.SUSPENDED)

    async def resume(self, instance_id: str, reason: str | None) -> None:
        info = self._require(instance_id)
        if info.runtime_status is not RuntimeStatus.SUSPENDED:
            raise InvalidOperation(f"Instance '{instance_id}' is not suspended.")
        self.calls.append(("resume", instance_id, reason))
        self.set_status(instance_id, RuntimeStatus.RUNNING)

    async def purge(self, instance_id: str) -> int:
        self.calls.append(("purge", instance_id))
        self.histories.pop(instance_id, None)
        return 1 if self.instances.pop(instance_id, None) is not None else 0

    async def purge_many(self, query: InstanceQuery) -> int:
        self.calls.append(("purge_many", query))
        doomed = [i.instance_id for i in self.instances.values() if self._matches(i, query)]
        for instance_id in doomed:
            del self.instances[instance_id]
        return len(doomed)

    async def wait_for_change(self, instance_id: str, timeout: float) -> InstanceInfo | None:
        event = self._changes.setdefault(instance_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        return self.instances.get(instance_id)
