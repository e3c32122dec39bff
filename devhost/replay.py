"""The pure replay core: one episode's history + the SDK's actions -> what happens next.

The extension does not trust the orchestrator's own bookkeeping: it re-executes the complete
action list the SDK returns through a fresh DTFx orchestration context every episode, and that
replay decides sequence ids, retries, timers, completion and non-determinism. ``decide`` does
the same walk (protocol §2.5):

* The actions are invoked in order; the walk waits on each one until it completes (success or
  failure alike), like the extension's ``ProcessAsyncActionsV2`` loop.
* Every activity, timer and sub-orchestration takes the next sequence id when it is invoked,
  as DTFx's ``idCounter`` does; with-retry calls take new ids for each retry timer and attempt.
* The history is then played in order. Scheduling events must match the id, kind and name of
  what the walk produced (else the DTFx non-determinism failure); completions resolve open
  tasks, and continuations run at once, depth first (DTFx runs them synchronously), so the walk
  can advance and take ids in the middle of the history.
* Whatever is still scheduled but not in the history is new work. The orchestration completes
  only when the walk has ended and no activity, sub-orchestration or un-cancelled timer is open.

Everything is linear in the history and the number of actions: a 10,000-wide fan-out is one
WhenAll with 10,000 children, replayed on every episode.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from devhost import history as h
from devhost.actions import (
    ActionError,
    ActionType,
    RetryPolicy,
    action_input,
    action_list,
    compact_json,
    fire_at,
    retry_policy,
)
from devhost.contracts import (
    ActivityWork,
    EpisodeDecision,
    HostError,
    OrchestratorOutcome,
    RuntimeStatus,
    SubOrchestrationWork,
    TimerWork,
)

__all__ = ["ReplayError", "decide", "failure_message"]

log = logging.getLogger(__name__)

_ET = h.EventType
_OS = int(_ET.ORCHESTRATOR_STARTED)
_ES = int(_ET.EXECUTION_STARTED)
_TERMINATED = int(_ET.EXECUTION_TERMINATED)
_TASK_SCHEDULED = int(_ET.TASK_SCHEDULED)
_TASK_COMPLETED = int(_ET.TASK_COMPLETED)
_TASK_FAILED = int(_ET.TASK_FAILED)
_SUB_CREATED = int(_ET.SUB_ORCHESTRATION_INSTANCE_CREATED)
_SUB_COMPLETED = int(_ET.SUB_ORCHESTRATION_INSTANCE_COMPLETED)
_SUB_FAILED = int(_ET.SUB_ORCHESTRATION_INSTANCE_FAILED)
_TIMER_CREATED = int(_ET.TIMER_CREATED)
_TIMER_FIRED = int(_ET.TIMER_FIRED)
_EVENT_SENT = int(_ET.EVENT_SENT)
_EVENT_RAISED = int(_ET.EVENT_RAISED)

# Task kinds, named after the scheduling event they produce.
_ACTIVITY = _TASK_SCHEDULED
_SUB = _SUB_CREATED
_TIMER = _TIMER_CREATED

# DTFx orchestrator-action class names, as its non-determinism messages print them.
_ACTION_CLASS = {
    _ACTIVITY: "ScheduleTaskOrchestratorAction",
    _SUB: "CreateSubOrchestrationAction",
    _TIMER: "CreateTimerOrchestratorAction",
}

_UNSUPPORTED = {
    ActionType.CALL_ENTITY: "Durable entities (call_entity)",
    ActionType.SIGNAL_ENTITY: "Durable entities (signal_entity)",
    ActionType.SCHEDULED_SIGNAL_ENTITY: "Durable entities (signal_entity)",
    ActionType.CALL_HTTP: "Durable HTTP (call_http)",
}


class ReplayError(HostError):
    """``decide`` was called with arguments that do not describe an episode."""


def failure_message(orchestrator_name: str, error: str) -> str:
    """The extension's wording for a failed orchestrator function."""
    return f"Orchestrator function '{orchestrator_name}' failed: {error}"


# --------------------------------------------------------------------------------------
# the nodes of the walk: one per invoked action
# --------------------------------------------------------------------------------------


class _Node:
    __slots__ = ("parent", "done", "failed")

    def __init__(self, parent: _Node | None) -> None:
        self.parent = parent
        self.done = False
        self.failed = False

    def child_done(self, child: _Node, walk: _Walk) -> bool:
        """React to a child's completion; True when this node completed as a result."""
        raise NotImplementedError


class _Task(_Node):
    """An activity, sub-orchestration or timer: open until its completion event arrives."""

    __slots__ = ("task_id", "kind")

    def __init__(self, parent: _Node | None, task_id: int, kind: int) -> None:
        super().__init__(parent)
        self.task_id = task_id
        self.kind = kind


class _Immediate(_Node):
    """Something done as soon as it is invoked (continue-as-new, a satisfied event wait)."""

    __slots__ = ()

    def __init__(self, parent: _Node | None) -> None:
        super().__init__(parent)
        self.done = True


class _EventWait(_Node):
    __slots__ = ()


class _WhenAll(_Node):
    """``Task.WhenAll``: done when every child is done, faulted when any child failed."""

    __slots__ = ("children", "remaining")

    def __init__(self, parent: _Node | None) -> None:
        super().__init__(parent)
        self.children: list[_Node] = []
        self.remaining = 0

    def child_done(self, child: _Node, walk: _Walk) -> bool:
        if child.failed:
            self.failed = True
        self.remaining -= 1
        if self.remaining == 0:
            self.done = True
            return True
        return False


class _WhenAny(_Node):
    """``Task.WhenAny``: done with the first child to finish, whatever its outcome."""

    __slots__ = ("children",)

    def __init__(self, parent: _Node | None) -> None:
        super().__init__(parent)
        self.children: list[_Node] = []

    def child_done(self, child: _Node, walk: _Walk) -> bool:
        if self.done:
            return False
        self.done = True
        return True


class _Retry(_Node):
    """DTFx ``RetryInterceptor``: attempts separated by timers, plus a final zero-delay timer."""

    __slots__ = ("action", "kind", "policy", "attempt", "first_attempt", "inner", "timer", "final")

    def __init__(
        self, parent: _Node | None, action: Mapping[str, Any], kind: int, policy: RetryPolicy
    ) -> None:
        super().__init__(parent)
        self.action = action
        self.kind = kind
        self.policy = policy
        self.attempt = 0  # index of the current attempt
        self.first_attempt: datetime | None = None
        self.inner: _Task | None = None
        self.timer: _Task | None = None
        self.final = False

    def start(self, walk: _Walk) -> None:
        self.first_attempt = walk.now
        if self.policy.max_attempts <= 0:
            # The interceptor's loop never runs: the call "succeeds" without scheduling.
            self.done = True
            return
        self.inner = walk.schedule(self.action, self.kind, self)

    def child_done(self, child: _Node, walk: _Walk) -> bool:
        if child is self.timer:
            self.timer = None
            if self.final:
                self.done = True
                self.failed = True
                return True
            self.attempt += 1
            self.inner = walk.schedule(self.action, self.kind, self)
            return False
        if child is not self.inner:
            return False
        self.inner = None
        if not child.failed:
            self.done = True
            return True
        now = walk.now
        if self.attempt + 1 >= self.policy.max_attempts:
            # DTFx keeps a zero-delay timer after the last attempt for history compatibility.
            self.final = True
            self.timer = walk.timer(now, self)
            return False
        assert self.first_attempt is not None
        delay = self.policy.delay(self.attempt, self.first_attempt, now)
        if delay <= timedelta(0):
            self.done = True
            self.failed = True
            return True
        self.timer = walk.timer(now + delay, self)
        return False


class _Ended(Exception):
    """Stops the replay: the orchestration failed or was terminated mid-history."""

    def __init__(self, status: RuntimeStatus, message: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --------------------------------------------------------------------------------------
# the walk
# --------------------------------------------------------------------------------------


class _Walk:
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
        # id -> (kind, name, action or fire time): scheduled by the walk, not yet in history.
        self.pending: dict[int, tuple[int, str | None, Any]] = {}
        self.open: dict[int, _Task] = {}
        self.waiters: dict[str, list[_EventWait]] = {}
        self.buffered: dict[str, deque[str | None]] = {}
        self.index = 0
        self.current: _Node | None = None
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

    def invoke(self, action: Mapping[str, Any], parent: _Node | None) -> _Node:
        kind = action.get("actionType") if isinstance(action, Mapping) else None
        if kind == ActionType.CALL_ACTIVITY:
            return self.schedule(action, _ACTIVITY, parent)
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
            return self.retry(action, _ACTIVITY, parent)
        if kind == ActionType.CALL_SUB_ORCHESTRATOR:
            return self.schedule(action, _SUB, parent)
        if kind == ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY:
            return self.retry(action, _SUB, parent)
        if kind == ActionType.WAIT_FOR_EXTERNAL_EVENT:
            return self.wait_event(action, parent)
        if kind == ActionType.CONTINUE_AS_NEW:
            self.continued = True
            self.continue_as_new = action_input(action)
            return _Immediate(parent)
        if kind in _UNSUPPORTED:
            raise ActionError(f"{_UNSUPPORTED[ActionType(kind)]} is not supported by this host.")
        raise ActionError(
            f"Received an unexpected action type from the out-of-proc function: '{kind}'."
        )

    def compound(self, action: Mapping[str, Any], kind: int, parent: _Node | None) -> _Node:
        node: _WhenAll | _WhenAny = (
            _WhenAll(parent) if kind == ActionType.WHEN_ALL else _WhenAny(parent)
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
        if isinstance(node, _WhenAll):
            node.remaining = remaining
            node.done = remaining == 0
        else:
            node.failed = False
            node.done = remaining < len(children) or not children
        return node

    def schedule(self, action: Mapping[str, Any], kind: int, parent: _Node | None) -> _Task:
        name = action.get("functionName")
        if not isinstance(name, str) or not name:
            raise ActionError("An action has no functionName.")
        if kind == _ACTIVITY:
            self.check_name(name, self.known_activities, self.activity_names, "activity")
        else:
            self.check_name(name, self.known_orchestrators, self.orchestrator_names, "orchestrator")
            self.check_child_id(action.get("instanceId"))
        task_id = self.counter
        self.counter += 1
        node = _Task(parent, task_id, kind)
        self.pending[task_id] = (kind, name, action)
        self.open[task_id] = node
        return node

    def timer(self, when: datetime, parent: _Node | None) -> _Task:
        task_id = self.counter
        self.counter += 1
        node = _Task(parent, task_id, _TIMER)
        self.pending[task_id] = (_TIMER, None, when)
        self.open[task_id] = node
        return node

    def retry(self, action: Mapping[str, Any], kind: int, parent: _Node | None) -> _Node:
        node = _Retry(parent, action, kind, retry_policy(action))
        node.start(self)
        return node

    def wait_event(self, action: Mapping[str, Any], parent: _Node | None) -> _Node:
        name = action.get("externalEventName")
        if not isinstance(name, str):
            raise ActionError("A WaitForExternalEvent action has no externalEventName.")
        key = name.lower()
        queue = self.buffered.get(key)
        node = _EventWait(parent)
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

    def complete(self, node: _Node, failed: bool) -> None:
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
        """Match a scheduling event of the history with what the walk scheduled."""
        task_id = event["EventId"]
        entry = self.pending.pop(task_id, None)
        if (
            entry is not None
            and entry[0] == kind
            and (kind == _TIMER or (entry[1] or "").lower() == (event.get("Name") or "").lower())
        ):
            return
        raise _Ended(RuntimeStatus.FAILED, _non_determinism(event, kind, entry))


def _non_determinism(
    event: Mapping[str, Any], kind: int, entry: tuple[int, str | None, Any] | None
) -> str:
    """DTFx's ``NonDeterministicOrchestrationException`` message for this mismatch."""
    task_id = event.get("EventId")
    name = event.get("Name")
    version = event.get("Version") or ""
    tail = (
        "Was a change made to the orchestrator code after this instance had already started "
        "running?"
    )
    produced = _ACTION_CLASS.get(entry[0], "OrchestratorAction") if entry else ""
    if kind == _ACTIVITY:
        if entry is None:
            detail = (
                f"A previous execution of this orchestration scheduled an activity task with "
                f"sequence ID {task_id} and name '{name}' (version '{version}'), but the current "
                f"replay execution hasn't (yet?) scheduled this task. {tail}"
            )
        elif entry[0] != kind:
            detail = (
                f"A previous execution of this orchestration scheduled an activity task with "
                f"sequence number {task_id} named '{name}', but the current orchestration replay "
                f"instead produced a {produced} action with this sequence number. {tail}"
            )
        else:
            detail = (
                f"A previous execution of this orchestration scheduled an activity task with "
                f"sequence number {task_id} named '{name}', but the current orchestration replay "
                f"instead scheduled an activity task named '{entry[1]}' with this sequence "
                f"number.  {tail}"
            )
    elif kind == _TIMER:
        if entry is None:
            detail = (
                f"A previous execution of this orchestration scheduled a timer task with sequence "
                f"number {task_id} but the current replay execution hasn't (yet?) scheduled this "
                f"task. {tail}"
            )
        else:
            detail = (
                f"A previous execution of this orchestration scheduled a timer task with sequence "
                f"number {task_id} named but the current orchestration replay instead produced a "
                f"{produced} action with this sequence number. {tail}"
            )
    elif kind == _SUB:
        head = (
            f"A previous execution of this orchestration scheduled a sub-orchestration task with "
            f"sequence ID {task_id} and name '{name}' (version '{version}', instance ID "
            f"'{event.get('InstanceId')}'), but the current "
        )
        if entry is None:
            detail = head + f"replay execution hasn't (yet?) scheduled this task. {tail}"
        elif entry[0] != kind:
            detail = (
                head + f"orchestration replay instead produced a {produced} action at this "
                f"sequence number. {tail}"
            )
        else:
            detail = (
                head + f"orchestration replay instead scheduled a sub-orchestration task with "
                f"name {entry[1]} at this sequence number. {tail}"
            )
    else:
        detail = (
            f"A previous execution of this orchestration scheduled a send event task with "
            f"sequence ID {task_id}, type '{event.get('EventType')}' name '{name}', instance ID "
            f"'{event.get('InstanceId')}', but the current replay execution hasn't (yet?) "
            f"scheduled this task. {tail}"
        )
    return "Non-Deterministic workflow detected: " + detail


# --------------------------------------------------------------------------------------
# playing the history
# --------------------------------------------------------------------------------------


def _play(walk: _Walk, history: Sequence[Mapping[str, Any]]) -> None:
    """Process every event in order, as DTFx's ``TaskOrchestrationExecutor.ProcessEvents``."""
    parse = h.parse_timestamp
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
            scheduled(event, _TIMER)
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
            raise _Ended(RuntimeStatus.TERMINATED, event.get("Input"))
        elif event_type == _EVENT_SENT:
            scheduled(event, _EVENT_SENT)
        # Suspension is the dispatcher's business; every other event changes nothing here.


# --------------------------------------------------------------------------------------
# quiet ids
# --------------------------------------------------------------------------------------


def _required_leaves(root: _Node, quiet: set[int]) -> None:
    """Activities/sub-orchestrations that must all finish before ``root`` can.

    Only WhenAll nodes and retry wrappers waiting on their current attempt are followed: a
    success below a WhenAny could finish it, and a retry timer schedules a new attempt.
    """
    stack = [root]
    while stack:
        node = stack.pop()
        if node.done:
            continue
        if isinstance(node, _Task):
            if node.kind != _TIMER:
                quiet.add(node.task_id)
        elif isinstance(node, _WhenAll):
            stack.extend(node.children)
        elif isinstance(node, _Retry) and node.inner is not None and node.timer is None:
            stack.append(node.inner)


def _quiet_ids(walk: _Walk, done: bool) -> frozenset[int]:
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
            if node.kind != _TIMER and not isinstance(node.parent, _Retry)
        )
    return frozenset(quiet)


# --------------------------------------------------------------------------------------
# the decision
# --------------------------------------------------------------------------------------


def _new_work(
    walk: _Walk, now: datetime
) -> tuple[list[dict], list[ActivityWork], list[TimerWork], list[SubOrchestrationWork]]:
    events: list[dict] = []
    activities: list[ActivityWork] = []
    timers: list[TimerWork] = []
    subs: list[SubOrchestrationWork] = []
    # Ids were allocated in ascending order, and dicts keep insertion order.
    for task_id, (kind, name, detail) in walk.pending.items():
        if kind == _ACTIVITY:
            assert name is not None
            events.append(h.task_scheduled(now, task_id, name))
            activities.append(ActivityWork(task_id=task_id, name=name, input=action_input(detail)))
        elif kind == _TIMER:
            events.append(h.timer_created(now, task_id, detail))
            if task_id in walk.open:
                timers.append(TimerWork(timer_id=task_id, fire_at=detail))
        else:
            assert name is not None
            child_id = detail.get("instanceId") or f"{walk.execution_id}:{task_id}"
            text = action_input(detail)
            # The extension serialises the input text again for the child's ExecutionStarted.
            child_input = compact_json(text) if text is not None else None
            events.append(h.sub_orchestration_created(now, task_id, name, child_id))
            subs.append(
                SubOrchestrationWork(
                    task_id=task_id, name=name, instance_id=child_id, input=child_input
                )
            )
    return events, activities, timers, subs


def _ended(
    status: RuntimeStatus,
    message: str | None,
    event_id: int,
    now: datetime,
    custom_status: str | None,
) -> EpisodeDecision:
    if status == RuntimeStatus.TERMINATED:
        completed = h.execution_completed(now, event_id, h.OrchestrationStatus.TERMINATED, message)
        output = message
    else:
        completed = h.execution_completed(now, event_id, h.OrchestrationStatus.FAILED, message)
        output = compact_json(message)
    return EpisodeDecision(
        new_events=[completed, h.orchestrator_completed(now)],
        status=status,
        output=output,
        custom_status=custom_status,
    )


def _instance_ids(history: Sequence[Mapping[str, Any]]) -> tuple[str, str | None]:
    started = h.find_execution_started(history)
    if started is None:
        raise ReplayError("The history has no ExecutionStarted event.")
    instance_id = (started.get("OrchestrationInstance") or {}).get("InstanceId") or ""
    parent = started.get("ParentInstance") or {}
    parent_id = (parent.get("OrchestrationInstance") or {}).get("InstanceId")
    return instance_id, parent_id


def _highest_id(history: Sequence[Mapping[str, Any]]) -> int:
    """Next sequence id judged from the history alone (when the orchestrator did not run)."""
    highest = -1
    for event in history:
        event_id = event.get("EventId", -1)
        if isinstance(event_id, int) and event_id > highest:
            highest = event_id
    return highest + 1


def decide(
    history: Sequence[Mapping[str, Any]],
    outcome: OrchestratorOutcome | None,
    *,
    orchestrator_name: str,
    execution_id: str,
    activity_names: Collection[str],
    orchestrator_names: Collection[str],
) -> EpisodeDecision:
    """Decide one episode.

    ``history`` is what the orchestrator was given: the stored events of the current
    execution, this episode's OrchestratorStarted and its new events. ``outcome`` is what the
    orchestrator answered, or None when it was not invoked (only allowed when the new events
    terminate the instance).
    """
    last_started = h.last_orchestrator_started_index(history)
    if last_started < 0:
        raise ReplayError("The history has no OrchestratorStarted event.")
    now = h.parse_timestamp(history[last_started]["Timestamp"])
    instance_id, parent_id = _instance_ids(history)

    if outcome is None:
        for event in history:
            if event["EventType"] == _TERMINATED:
                return _ended(
                    RuntimeStatus.TERMINATED, event.get("Input"), _highest_id(history), now, None
                )
        raise ReplayError("An episode without an orchestrator outcome must terminate it.")

    state = outcome.state
    if state is None:
        for event in history:
            if event["EventType"] == _TERMINATED:
                return _ended(
                    RuntimeStatus.TERMINATED, event.get("Input"), _highest_id(history), now, None
                )
        error = outcome.error or "The orchestrator function failed without telling why."
        return _ended(RuntimeStatus.FAILED, failure_message(orchestrator_name, error), 0, now, None)

    raw_status = state.get("customStatus")
    custom_status = compact_json(raw_status) if raw_status is not None else None

    walk: _Walk | None = None
    try:
        walk = _Walk(
            action_list(state),
            instance_id=instance_id,
            parent_instance_id=parent_id,
            execution_id=execution_id,
            activity_names=activity_names,
            orchestrator_names=orchestrator_names,
        )
        _play(walk, history)
    except _Ended as ended:
        assert walk is not None
        return _ended(ended.status, ended.message, walk.counter, now, custom_status)
    except ActionError as exc:
        counter = walk.counter if walk is not None else 0
        message = failure_message(orchestrator_name, str(exc))
        return _ended(RuntimeStatus.FAILED, message, counter, now, custom_status)

    events, activities, timers, subs = _new_work(walk, now)
    status = RuntimeStatus.RUNNING
    output: str | None = None
    continue_input: str | None = None
    error = state.get("error")
    is_done = bool(state.get("isDone"))
    if walk.finished and not walk.open and (error or is_done):
        event_id = walk.counter
        if error:
            status = RuntimeStatus.FAILED
            message = failure_message(orchestrator_name, str(error))
            events.append(
                h.execution_completed(now, event_id, h.OrchestrationStatus.FAILED, message)
            )
            output = compact_json(message)
        elif walk.continued:
            status = RuntimeStatus.CONTINUED_AS_NEW
            text = walk.continue_as_new
            continue_input = compact_json(text) if text is not None else None
            events.append(h.continue_as_new(now, event_id, continue_input))
        else:
            status = RuntimeStatus.COMPLETED
            value = state.get("output")
            output = compact_json(value) if value is not None else None
            events.append(
                h.execution_completed(now, event_id, h.OrchestrationStatus.COMPLETED, output)
            )
    events.append(h.orchestrator_completed(now))
    quiet = (
        _quiet_ids(walk, bool(error) or is_done) if status == RuntimeStatus.RUNNING else frozenset()
    )
    return EpisodeDecision(
        new_events=events,
        activities=activities,
        timers=timers,
        sub_orchestrations=subs,
        status=status,
        output=output,
        custom_status=custom_status,
        continue_as_new_input=continue_input,
        quiet_ids=quiet,
    )
