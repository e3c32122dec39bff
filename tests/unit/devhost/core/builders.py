"""Hand-built histories and SDK action lists for testing ``decide`` without the SDK."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from devhost.contracts import EpisodeDecision, OrchestratorOutcome
from devhost.core import history as h
from devhost.core.replay import decide

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
ACTIVITIES = frozenset({"A", "B", "C", "D"})
ORCHESTRATORS = frozenset({"Orch", "Child"})


class History:
    """Builds a history episode by episode: ``History().scheduled(0, "A").next().completed(0)``."""

    def __init__(
        self,
        *,
        name: str = "Orch",
        instance_id: str = "inst-1",
        execution_id: str = "exec-1",
        at: datetime = T0,
        input: str | None = None,
        parent: dict | None = None,
    ) -> None:
        self.name = name
        self.instance_id = instance_id
        self.execution_id = execution_id
        self.now = at
        self.events: list[dict] = [
            h.orchestrator_started(at),
            h.execution_started(
                at,
                instance_id=instance_id,
                execution_id=execution_id,
                name=name,
                input=input,
                parent=parent,
            ),
        ]

    def add(self, *events: dict) -> History:
        self.events.extend(events)
        return self

    def next(self, at: datetime | None = None) -> History:
        """Close the episode and open the next one (``at`` defaults to one second later)."""
        self.events.append(h.orchestrator_completed(self.now))
        self.now = at or self.now + timedelta(seconds=1)
        self.events.append(h.orchestrator_started(self.now))
        return self

    def scheduled(self, event_id: int, name: str) -> History:
        return self.add(h.task_scheduled(self.now, event_id, name))

    def timer(self, event_id: int, fire_at: datetime) -> History:
        return self.add(h.timer_created(self.now, event_id, fire_at))

    def sub(self, event_id: int, name: str, instance_id: str) -> History:
        return self.add(h.sub_orchestration_created(self.now, event_id, name, instance_id))

    def completed(self, task_id: int, result: str | None = '"ok"') -> History:
        return self.add(h.task_completed(self.now, task_id, result))

    def failed(self, task_id: int, reason: str = "boom") -> History:
        return self.add(h.task_failed(self.now, task_id, reason, "details"))

    def sub_completed(self, task_id: int, result: str | None = '"ok"') -> History:
        return self.add(h.sub_orchestration_completed(self.now, task_id, result))

    def sub_failed(self, task_id: int, reason: str = "child failed") -> History:
        return self.add(h.sub_orchestration_failed(self.now, task_id, reason, None))

    def fired(self, timer_id: int, fire_at: datetime | None = None) -> History:
        return self.add(h.timer_fired(self.now, timer_id, fire_at or self.now))

    def raised(self, name: str, input: str | None = '"x"') -> History:
        return self.add(h.event_raised(self.now, name, input))

    def terminated(self, reason: str | None) -> History:
        return self.add(h.execution_terminated(self.now, reason))


# -- SDK actions, as the SDK serialises them ------------------------------------------------


def activity(name: str, input: str | None = "null") -> dict:
    return {"actionType": 0, "functionName": name, "input": input}


def retry_activity(name: str, first_ms: int = 1000, attempts: int = 3, **options: Any) -> dict:
    retry = {"firstRetryIntervalInMilliseconds": first_ms, "maxNumberOfAttempts": attempts}
    retry.update(options)
    action = {"actionType": 1, "functionName": name, "input": "null", "retryOptions": retry}
    return when_all(action)  # the SDK wraps every with-retry call in a WhenAll


def sub(name: str, instance_id: str | None = None, input: str | None = "null") -> dict:
    return {
        "actionType": 2,
        "functionName": name,
        "input": input,
        "instanceId": instance_id,
        "version": None,
    }


def sub_retry(name: str, instance_id: str | None = None, first_ms: int = 1000, attempts: int = 2):
    action = sub(name, instance_id)
    action["actionType"] = 3
    action["retryOptions"] = {
        "firstRetryIntervalInMilliseconds": first_ms,
        "maxNumberOfAttempts": attempts,
    }
    return when_all(action)


def timer(fire_at: datetime, canceled: bool = False) -> dict:
    return {
        "actionType": 5,
        "fireAt": fire_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "isCanceled": canceled,
    }


def wait(name: str) -> dict:
    return {"actionType": 6, "externalEventName": name, "reason": "ExternalEvent"}


def continue_as_new(input: str = "null") -> dict:
    return {"actionType": 4, "input": input}


def when_all(*children: dict) -> dict:
    return {"actionType": 12, "compoundActions": list(children)}


def when_any(*children: dict) -> dict:
    return {"actionType": 11, "compoundActions": list(children)}


def state(
    actions: Iterable[dict],
    *,
    done: bool = False,
    output: Any = None,
    error: str | None = None,
    custom: Any = None,
) -> dict:
    result: dict[str, Any] = {"isDone": done, "schemaVersion": 2, "actions": [list(actions)]}
    if output is not None:
        result["output"] = output
    if error is not None:
        result["error"] = error
    if custom is not None:
        result["customStatus"] = custom
    return result


def run(
    history: History | list[dict],
    actions: Iterable[dict] | None = None,
    *,
    outcome: OrchestratorOutcome | None = None,
    activities: frozenset[str] = ACTIVITIES,
    orchestrators: frozenset[str] = ORCHESTRATORS,
    **state_options: Any,
) -> EpisodeDecision:
    """``decide`` for a hand-built history and action list."""
    events = history.events if isinstance(history, History) else history
    name = history.name if isinstance(history, History) else "Orch"
    execution_id = history.execution_id if isinstance(history, History) else "exec-1"
    if outcome is None and actions is not None:
        outcome = OrchestratorOutcome(state=state(actions, **state_options))
    return decide(
        events,
        outcome,
        orchestrator_name=name,
        execution_id=execution_id,
        activity_names=activities,
        orchestrator_names=orchestrators,
    )


def scheduled_ids(decision: EpisodeDecision) -> list[tuple[str, int]]:
    """(event type name, EventId) of the decision's scheduling and completion events."""
    return [
        (h.EventType(e["EventType"]).name, e["EventId"])
        for e in decision.new_events
        if e["EventType"] != h.EventType.ORCHESTRATOR_COMPLETED
    ]
