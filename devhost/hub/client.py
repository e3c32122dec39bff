"""The task hub's client API: what the HTTP front (and the durable client) may ask of it.

``TaskHub`` implements ``contracts.TaskHubProtocol``: start, query, signal, suspend/resume,
terminate and purge instances. Each call is one store transaction plus a note to the
``Dispatcher`` (the episode loop) that an instance has a new message; the dispatcher does the
rest. Construct it with the store, the app and the options; ``start``/``stop`` run the loop.
"""

from __future__ import annotations

import logging
import uuid

from devhost.contracts import (
    FunctionAppProtocol,
    HostOptions,
    InstanceGone,
    InstanceInfo,
    InstanceNotFound,
    InstancePage,
    InstanceQuery,
    InvalidOperation,
    RuntimeStatus,
)
from devhost.core import history
from devhost.hub.clock import Clock
from devhost.hub.dispatcher import Dispatcher
from devhost.hub.records import InstanceRecord
from devhost.hub.store import Store

__all__ = ["TaskHub"]

log = logging.getLogger(__name__)


class TaskHub:
    """The local task hub: implements ``TaskHubProtocol`` over a ``Store``.

    Call ``start()`` on the running event loop before use and ``stop()`` at the end; the
    store stays open (its owner closes it). ``episode_counts`` counts orchestrator replays per
    instance, ``metrics`` a few totals (both the dispatcher's).
    """

    def __init__(
        self,
        store: Store,
        app: FunctionAppProtocol,
        options: HostOptions,
        clock: Clock | None = None,
    ) -> None:
        self.dispatcher = Dispatcher(store, app, options, clock)
        self.hub_name = options.hub_name
        self.store = store
        self.app = app
        self.options = options
        self.clock: Clock = self.dispatcher.clock
        self.episode_counts = self.dispatcher.episode_counts
        self.metrics = self.dispatcher.metrics

    @property
    def tracked_instances(self) -> int:
        """Instances with in-memory bookkeeping: those with messages or unfinished work."""
        return self.dispatcher.tracked_instances

    async def start(self) -> None:
        """Recover what the store holds and start the workers."""
        await self.dispatcher.start()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking work (see ``Dispatcher.stop``)."""
        await self.dispatcher.stop(grace)

    async def start_instance(
        self, name: str, instance_id: str, input_json: str | None
    ) -> InstanceInfo:
        name = self.app.resolve_name(name) or name
        now = self.clock.now()
        execution_id = uuid.uuid4().hex
        started = history.execution_started(
            now, instance_id=instance_id, execution_id=execution_id, name=name, input=input_json
        )
        record = self.store.create_instance(
            instance_id=instance_id,
            name=name,
            execution_id=execution_id,
            input=input_json,
            started_event=started,
            now=now,
        )
        log.info("Orchestration %s (%s) Pending", name, instance_id)
        self.dispatcher.note(instance_id, started, fresh=True)
        self.dispatcher.changed(instance_id)
        return record.info()

    async def get_instance(self, instance_id: str) -> InstanceInfo | None:
        record = self.store.get_instance(instance_id)
        return record.info() if record is not None else None

    async def get_history(self, instance_id: str) -> list[dict]:
        return self.store.get_history(instance_id)

    async def query_instances(self, query: InstanceQuery) -> InstancePage:
        page = self.store.query_instances(query)
        return InstancePage([r.info() for r in page.records], page.continuation_token)

    async def raise_event(self, instance_id: str, name: str, input_json: str | None) -> None:
        self._require_active(instance_id)
        self.dispatcher.send(instance_id, history.event_raised(self.clock.now(), name, input_json))

    async def terminate(self, instance_id: str, reason: str | None) -> None:
        self._require_active(instance_id)
        self.dispatcher.send(instance_id, history.execution_terminated(self.clock.now(), reason))

    async def suspend(self, instance_id: str, reason: str | None) -> None:
        record = self._require_active(instance_id)
        # EXT DurableClient.SuspendAsync / ResumeAsync (IsOrchestrationSuspendable)
        if record.runtime_status is RuntimeStatus.SUSPENDED:
            raise InvalidOperation(
                f"Cannot suspend the orchestration instance {instance_id} because instance is "
                f"in the {record.runtime_status.value} state."
            )
        self.dispatcher.send(instance_id, history.execution_suspended(self.clock.now(), reason))

    async def resume(self, instance_id: str, reason: str | None) -> None:
        record = self._require_active(instance_id)
        if record.runtime_status is not RuntimeStatus.SUSPENDED:
            raise InvalidOperation(
                f"Cannot resume the orchestration instance {instance_id} because instance is "
                f"in the {record.runtime_status.value} state."
            )
        self.dispatcher.send(instance_id, history.execution_resumed(self.clock.now(), reason))

    async def purge(self, instance_id: str) -> int:
        deleted = self.store.purge(instance_id)
        if deleted:
            self.dispatcher.forget(instance_id)
            self.dispatcher.changed(instance_id)
        return deleted

    async def purge_many(self, query: InstanceQuery) -> int:
        return self.store.purge_many(query)

    async def wait_for_change(self, instance_id: str, timeout: float) -> InstanceInfo | None:
        await self.dispatcher.watch(instance_id, timeout)
        return await self.get_instance(instance_id)

    def _require_active(self, instance_id: str) -> InstanceRecord:
        record = self.store.get_instance(instance_id)
        if record is None:
            raise InstanceNotFound(f"No instance with ID '{instance_id}' was found.")
        if record.is_terminal:
            raise InstanceGone(
                f"Instance '{instance_id}' is {record.runtime_status.value}; it takes no more "
                "messages."
            )
        return record
