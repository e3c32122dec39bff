"""The replay walk: the extension's re-execution of the SDK's actions through a DTFx context.

``Walk`` invokes the flat action list in order, waiting on each action until it completes
(success or failure alike, as the extension's ``ProcessAsyncActionsV2`` swallows failures),
and allocates sequence ids exactly as DTFx's ``idCounter`` does. ``play`` feeds it the
history: scheduling events must match what the walk scheduled (else the DTFx non-determinism
failure), completions resolve open tasks, and their continuations run at once, depth first,
because DTFx runs them on a synchronous scheduler; the walk can therefore advance, and take
ids, in the middle of the history.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from devhost.contracts import RuntimeStatus
from devhost.core.actions import (
    ActionError,
    ActionType,
    Scheduled,
    TaskKind,
    action_input,
    fire_at,
    retry_policy,
)
from devhost.core.handles import (
    EventWait,
    Immediate,
    Node,
    Retry,
    Task,
    WhenAll,
    WhenAny,
)
from devhost.core.history import EventType, parse_timestamp
from devhost.core.nondeterminism import non_determinism_message

__all__ = ["Ended", "Walk", "play", "quiet_ids"]

log = logging.getLogger(__name__)

_OS = int(EventType.ORCHESTRATOR_STARTED)
_ES = int(EventType.EXECUTION_STARTED)
_TERMINATED = int(EventType.EXECUTION_TERMINATED)
_TASK_SCHEDULED = int(EventType.TASK_SCHEDULED)
_TASK_COMPLETED = int(EventType.TASK_COMPLETED)
_TASK_FAILED = int(EventType.TASK_FAILED)
_SUB_CREATED = int(EventType.SUB_ORCHESTRATION_INSTANCE_CREATED)
_SUB_COMPLETED = int(EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED)
_SUB_FAILED = int(EventType.SUB_ORCHESTRATION_INSTANCE_FAILED)
_TIMER_CREATED = int(EventType.TIMER_CREATED)
_TIMER_FIRED = int(EventType.TIMER_FIRED)
_EVENT_SENT = int(EventType.EVENT_SENT)
_EVENT_RAISED = int(EventType.EVENT_RAISED)

_UNSUPPORTED = {
    ActionType.CALL_ENTITY: "Durable entities (call_entity)",
    ActionType.SIGNAL_ENTITY: "Durable entities (signal_entity)",
    ActionType.SCHEDULED_SIGNAL_ENTITY: "Durable entities (signal_entity)",
    ActionType.CALL_HTTP: "Durable HTTP (call_http)",
}


class Ended(Exception):
    """Stops the replay: the orchestration failed or was terminated mid-history."""

    def __init__(self, status: RuntimeStatus, message: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Walk:
    """The state of one replay: ids, scheduled-but-unrecorded actions, open tasks, events."""

    def __init__(
        self,
        actions: Sequence[Mapping[str, Any]],
        *,
        instance_id: str,
        parent_instance_id: str | None,
        execution_id: str,
        activity_names: Collection[str],
        orchestrator_names: Collection[str],
    ) -> None:
        self.actions = actions
        self.instance_id = instance_id
        self.parent_instance_id = parent_instance_id
        self.execution_id = execution_id
        self.activity_names = activity_names
        self.orchestrator_names = orchestrator_names
        self.known_activities = {name.lower() for name in activity_names}
        self.known_orchestrators = {name.lower() for name in orchestrator_names}
        self.now = datetime.min
        self.counter = 0
        # Scheduled by the walk, not yet in the history.
        self.pending: dict[int, Scheduled] = {}
        self.open: dict[int, Task] = {}
        self.waiters: dict[str, list[EventWait]] = {}
        self.buffered: dict[str, deque[str | None]] = {}
        self.index = 0
        self.current: Node | None = None
        self.started = False
        self.finished = False
        self.continue_as_new: str | None = None
        self.continued = False

    # -- invoking actions ---------------------------------------------------------------

    def advance(self) -> None:
        """Invoke actions in order until one is not done yet (or the list ends)."""
        actions = self.actions
        while self.index < len(actions):
            node = self.invoke(actions[self.index], None)
            self.index += 1
            if not node.done:
                self.current = node
                return
        self.current = None
        self.finished = True

    def invoke(self, action: Mapping[str, Any], parent: Node | None) -> Node:
        kind = action.get("actionType") if isinstance(action, Mapping) else None
        if kind == ActionType.CALL_ACTIVITY:
            return self.schedule(action, TaskKind.ACTIVITY, parent)
        if kind == ActionType.WHEN_ALL or kind == ActionType.WHEN_ANY:
            return self.compound(action, kind, parent)
        if kind == ActionType.CREATE_TIMER:
            node = self.timer(fire_at(action), parent)
            if action.get("isCanceled"):
                # DTFx removes a cancelled timer from the open tasks; TimerCreated stays.
                del self.open[node.task_id]
                node.done = True
            return node
        if kind == ActionType.CALL_ACTIVITY_WITH_RETRY:
            return self.retry(action, TaskKind.ACTIVITY, parent)
        if kind == ActionType.CALL_SUB_ORCHESTRATOR:
            return self.schedule(action, TaskKind.SUB_ORCHESTRATION, parent)
        if kind == ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY:
            return self.retry(action, TaskKind.SUB_ORCHESTRATION, parent)
        if kind == ActionType.WAIT_FOR_EXTERNAL_EVENT:
            return self.wait_event(action, parent)
        if kind == ActionType.CONTINUE_AS_NEW:
            self.continued = True
            self.continue_as_new = action_input(action)
            return Immediate(parent)
        if kind in _UNSUPPORTED:
            raise ActionError(f"{_UNSUPPORTED[ActionType(kind)]} is not supported by this host.")
        raise ActionError(
            f"Received an unexpected action type from the out-of-proc function: '{kind}'."
        )

    def compound(self, action: Mapping[str, Any], kind: TaskKind, parent: Node | None) -> Node:
        node: WhenAll | WhenAny = (
            WhenAll(parent) if kind == ActionType.WHEN_ALL else WhenAny(parent)
        )
        children = node.children
        remaining = 0
        for child_action in action.get("compoundActions") or ():
            child = self.invoke(child_action, node)
            children.append(child)
            if not child.done:
                remaining += 1
            elif child.failed:
                node.failed = True
        if isinstance(node, WhenAll):
            node.remaining = remaining
            node.done = remaining == 0
        else:
            node.failed = False
            node.done = remaining < len(children) or not children
        return node

    def schedule(self, action: Mapping[str, Any], kind: TaskKind, parent: Node | None) -> Task:
        name = action.get("functionName")
        if not isinstance(name, str) or not name:
            raise ActionError("An action has no functionName.")
        if kind == TaskKind.ACTIVITY:
            self.check_name(name, self.known_activities, self.activity_names, "activity")
        else:
            self.check_name(name, self.known_orchestrators, self.orchestrator_names, "orchestrator")
            self.check_child_id(action.get("instanceId"))
        task_id = self.counter
        self.counter += 1
        node = Task(parent, task_id, kind)
        self.pending[task_id] = Scheduled(kind, name, action)
        self.open[task_id] = node
        return node

    def timer(self, when: datetime, parent: Node | None) -> Task:
        task_id = self.counter
        self.counter += 1
        node = Task(parent, task_id, TaskKind.TIMER)
        self.pending[task_id] = Scheduled(TaskKind.TIMER, None, when)
        self.open[task_id] = node
        return node

    def retry(self, action: Mapping[str, Any], kind: TaskKind, parent: Node | None) -> Node:
        node = Retry(parent, action, kind, retry_policy(action))
        node.start(self)
        return node

    def wait_event(self, action: Mapping[str, Any], parent: Node | None) -> Node:
        name = action.get("externalEventName")
        if not isinstance(name, str):
            raise ActionError("A WaitForExternalEvent action has no externalEventName.")
        key = name.lower()
        queue = self.buffered.get(key)
        node = EventWait(parent)
        if queue:
            # An event that arrived before anyone waited goes to this (newest) waiter.
            queue.popleft()
            if not queue:
                del self.buffered[key]
            node.done = True
            return node
        self.waiters.setdefault(key, []).append(node)
        return node

    def check_name(
        self, name: str, known: set[str], names: Collection[str], function_type: str
    ) -> None:
        if name.lower() in known:
            return
        message = (
            f"The function '{name}' doesn't exist, is disabled, or is not an {function_type} "
            "function. Additional info: "
        )
        if names:
            listed = "', '".join(sorted(names))
            message += f"The following are the known {function_type} functions: '{listed}'."
        else:
            message += f"No {function_type} functions are currently registered!"
        raise ActionError(message)

    def check_child_id(self, instance_id: Any) -> None:
        if instance_id is None:
            return
        if not isinstance(instance_id, str):
            raise ActionError(f"A sub-orchestration instanceId must be a string: {instance_id!r}")
        lowered = instance_id.lower()
        if lowered == self.instance_id.lower() or (
            self.parent_instance_id is not None and lowered == self.parent_instance_id.lower()
        ):
            raise ActionError(
                "The instance ID of a sub-orchestration must be different than the instance ID "
                "of a parent orchestration."
            )
        if instance_id.startswith("@"):
            raise ActionError("Orchestration instance ids must not start with @")

    # -- completions --------------------------------------------------------------------

    def complete(self, node: Node, failed: bool) -> None:
        """Finish ``node`` and run the continuations up the tree (synchronously, as DTFx)."""
        node.done = True
        node.failed = failed
        while True:
            parent = node.parent
            if parent is None:
                if node is self.current:
                    self.advance()
                return
            if not parent.child_done(node, self):
                return
            node = parent

    def resolve(self, task_id: Any, failed: bool) -> None:
        node = self.open.pop(task_id, None) if isinstance(task_id, int) else None
        if node is None:
            log.debug("ignoring a completion for id %r, which is not open", task_id)
            return
        self.complete(node, failed)

    def raise_event(self, name: Any, data: str | None) -> None:
        key = name.lower() if isinstance(name, str) else ""
        stack = self.waiters.get(key)
        if stack:
            node = stack.pop()
            if not stack:
                del self.waiters[key]
            self.complete(node, False)
        else:
            self.buffered.setdefault(key, deque()).append(data)

    def scheduled(self, event: Mapping[str, Any], kind: int) -> None:
        """Match a scheduling event of the history (``kind``: its event type) with what the
        walk scheduled."""
        task_id = event["EventId"]
        entry = self.pending.pop(task_id, None)
        if (
            entry is not None
            and entry.kind == kind
            and (
                kind == TaskKind.TIMER
                or (entry.name or "").lower() == (event.get("Name") or "").lower()
            )
        ):
            return
        raise Ended(RuntimeStatus.FAILED, non_determinism_message(event, kind, entry))


def play(walk: Walk, history: Sequence[Mapping[str, Any]]) -> None:
    """Process every event in order, as DTFx's ``TaskOrchestrationExecutor.ProcessEvents``."""
    parse = parse_timestamp
    resolve = walk.resolve
    scheduled = walk.scheduled
    for event in history:
        event_type = event["EventType"]
        if event_type in (_TASK_COMPLETED, _SUB_COMPLETED):
            resolve(event["TaskScheduledId"], False)
        elif event_type in (_TASK_SCHEDULED, _SUB_CREATED):
            scheduled(event, event_type)
        elif event_type == _TIMER_FIRED:
            resolve(event["TimerId"], False)
        elif event_type == _TIMER_CREATED:
            scheduled(event, TaskKind.TIMER)
        elif event_type in (_TASK_FAILED, _SUB_FAILED):
            resolve(event["TaskScheduledId"], True)
        elif event_type == _OS:
            walk.now = parse(event["Timestamp"])
        elif event_type == _EVENT_RAISED:
            walk.raise_event(event.get("Name"), event.get("Input"))
        elif event_type == _ES:
            if not walk.started:
                # The orchestrator runs when ExecutionStarted is processed.
                walk.started = True
                walk.advance()
        elif event_type == _TERMINATED:
            raise Ended(RuntimeStatus.TERMINATED, event.get("Input"))
        elif event_type == _EVENT_SENT:
            scheduled(event, _EVENT_SENT)
        # Suspension is the dispatcher's business; every other event changes nothing here.


def _required_leaves(root: Node, quiet: set[int]) -> None:
    """Activities/sub-orchestrations that must all finish before ``root`` can.

    Only WhenAll nodes and retry wrappers waiting on their current attempt are followed: a
    success below a WhenAny could finish it, and a retry timer schedules a new attempt.
    """
    stack = [root]
    while stack:
        node = stack.pop()
        if node.done:
            continue
        if isinstance(node, Task):
            if node.kind != TaskKind.TIMER:
                quiet.add(node.task_id)
        elif isinstance(node, WhenAll):
            stack.extend(node.children)
        elif isinstance(node, Retry) and node.inner is not None and node.timer is None:
            stack.append(node.inner)


def quiet_ids(walk: Walk, done: bool) -> frozenset[int]:
    """Open ids whose successes, short of all of them, cannot make anything new happen.

    While the walk is blocked, only the leaves the current action needs all of qualify (a
    success anywhere else might finish it or wake a retry). Once the walk has ended and the
    orchestrator answered done or failed, only the last open task can complete it. When the
    walk has ended without that answer, the orchestrator may be waiting on any task: none.
    """
    quiet: set[int] = set()
    if not walk.finished:
        if walk.current is not None:
            _required_leaves(walk.current, quiet)
    elif done:
        # The orchestrator has answered for good; it only waits for the open tasks to drain,
        # and only the last of them can complete it.
        quiet.update(
            task_id
            for task_id, node in walk.open.items()
            if node.kind != TaskKind.TIMER and not isinstance(node.parent, Retry)
        )
    return frozenset(quiet)
