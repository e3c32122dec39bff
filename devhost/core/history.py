"""History events in the Durable extension's wire shape, and the orchestration-trigger payload.

Every factory returns a fresh ``dict`` with PascalCase keys, an integer ``EventType``, every
DataMember field of the DTFx event class present (``None`` when unset), ``IsPlayed`` False and
``Timestamp`` as ISO-8601 UTC text. The SDK builds a ``HistoryEvent(**event)`` from each one
and reads some keys it never pre-sets (``Version``, ``Result``, ``TimerId``), so leaving a
field out breaks replay: the factories are the one place that knows the full shapes.

Longer than most modules (about 430 lines) because it is that catalogue: one small factory per
event type, kept together so the shapes can be checked against DTFx side by side.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "EventType",
    "OrchestrationStatus",
    "format_timestamp",
    "parse_timestamp",
    "orchestrator_started",
    "orchestrator_completed",
    "execution_started",
    "parent_instance",
    "task_scheduled",
    "task_completed",
    "task_failed",
    "sub_orchestration_created",
    "sub_orchestration_completed",
    "sub_orchestration_failed",
    "timer_created",
    "timer_fired",
    "event_raised",
    "event_sent",
    "execution_completed",
    "continue_as_new",
    "execution_terminated",
    "execution_suspended",
    "execution_resumed",
    "orchestration_payload",
    "find_execution_started",
    "last_orchestrator_started_index",
]


class EventType(enum.IntEnum):
    """DTFx ``EventType`` numbers."""

    EXECUTION_STARTED = 0
    EXECUTION_COMPLETED = 1
    EXECUTION_FAILED = 2
    EXECUTION_TERMINATED = 3
    TASK_SCHEDULED = 4
    TASK_COMPLETED = 5
    TASK_FAILED = 6
    SUB_ORCHESTRATION_INSTANCE_CREATED = 7
    SUB_ORCHESTRATION_INSTANCE_COMPLETED = 8
    SUB_ORCHESTRATION_INSTANCE_FAILED = 9
    TIMER_CREATED = 10
    TIMER_FIRED = 11
    ORCHESTRATOR_STARTED = 12
    ORCHESTRATOR_COMPLETED = 13
    EVENT_SENT = 14
    EVENT_RAISED = 15
    CONTINUE_AS_NEW = 16
    GENERIC_EVENT = 17
    HISTORY_STATE = 18
    EXECUTION_SUSPENDED = 19
    EXECUTION_RESUMED = 20


class OrchestrationStatus(enum.IntEnum):
    """DTFx ``OrchestrationStatus`` numbers, as ``ExecutionCompleted.OrchestrationStatus``."""

    RUNNING = 0
    COMPLETED = 1
    CONTINUED_AS_NEW = 2
    FAILED = 3
    CANCELED = 4
    TERMINATED = 5
    PENDING = 6
    SUSPENDED = 7


# --------------------------------------------------------------------------------------
# timestamps
# --------------------------------------------------------------------------------------


def format_timestamp(dt: datetime) -> str:
    """``2024-05-01T10:00:00.1234Z``: UTC, trailing fractional zeros trimmed, as .NET writes it.

    A naive ``datetime`` is taken to be UTC already.
    """
    return _format_utc(dt)


# The dispatcher stamps every activity result of a batch, and every event of an episode, with
# the same instant: most calls format a time that was formatted just before.
@functools.lru_cache(maxsize=64)
def _format_utc(dt: datetime) -> str:
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    text = (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    )
    if dt.microsecond:
        text += "." + f"{dt.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_timestamp(text: str) -> datetime:
    """Parse an event or action timestamp (``Z`` or offset, up to 7 fractional digits) to UTC.

    Text without an offset is read as UTC, because every time the host writes is UTC.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    dot = value.find(".")
    if dot != -1:
        # .NET writes up to 7 fractional digits; datetime keeps 6.
        end = dot + 1
        while end < len(value) and value[end].isdigit():
            end += 1
        digits = value[dot + 1 : end]
        if len(digits) > 6:
            value = value[: dot + 1] + digits[:6] + value[end:]
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# --------------------------------------------------------------------------------------
# event factories
# --------------------------------------------------------------------------------------


def _event(event_type: EventType, ts: datetime, event_id: int = -1, **fields: Any) -> dict:
    event = {
        "EventType": int(event_type),
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": format_timestamp(ts),
    }
    event.update(fields)
    return event


def orchestrator_started(ts: datetime) -> dict:
    return _event(EventType.ORCHESTRATOR_STARTED, ts)


def orchestrator_completed(ts: datetime) -> dict:
    return _event(EventType.ORCHESTRATOR_COMPLETED, ts)


def execution_started(
    ts: datetime,
    *,
    instance_id: str,
    execution_id: str,
    name: str,
    input: str | None,
    parent: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    scheduled_start_time: datetime | None = None,
    generation: int | None = None,
) -> dict:
    """``parent`` is the ParentInstance object (see ``parent_instance``) or None."""
    return _event(
        EventType.EXECUTION_STARTED,
        ts,
        OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
        ParentInstance=dict(parent) if parent is not None else None,
        Name=name,
        Version="",
        Input=input,
        Tags=dict(tags) if tags is not None else None,
        Correlation=None,
        ParentTraceContext=None,
        ScheduledStartTime=(
            format_timestamp(scheduled_start_time) if scheduled_start_time is not None else None
        ),
        Generation=generation,
    )


def parent_instance(
    *, name: str, instance_id: str, execution_id: str, task_schedule_id: int
) -> dict:
    """The ``ParentInstance`` object of a sub-orchestration's ExecutionStarted."""
    return {
        "Name": name,
        "Version": "",
        "OrchestrationInstance": {"InstanceId": instance_id, "ExecutionId": execution_id},
        "TaskScheduleId": task_schedule_id,
    }


def task_scheduled(ts: datetime, event_id: int, name: str, input: str | None = None) -> dict:
    return _event(
        EventType.TASK_SCHEDULED,
        ts,
        event_id,
        Name=name,
        Version="",
        Input=input,
        ParentTraceContext=None,
    )


def task_completed(ts: datetime, scheduled_id: int, result: str | None) -> dict:
    return _event(EventType.TASK_COMPLETED, ts, TaskScheduledId=scheduled_id, Result=result)


def task_failed(ts: datetime, scheduled_id: int, reason: str | None, details: str | None) -> dict:
    return _event(
        EventType.TASK_FAILED,
        ts,
        TaskScheduledId=scheduled_id,
        Reason=reason,
        Details=details,
        FailureDetails=None,
    )


def sub_orchestration_created(
    ts: datetime, event_id: int, name: str, instance_id: str, input: str | None = None
) -> dict:
    return _event(
        EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
        ts,
        event_id,
        Name=name,
        Version="",
        InstanceId=instance_id,
        Input=input,
        ClientSpanId=None,
    )


def sub_orchestration_completed(ts: datetime, scheduled_id: int, result: str | None) -> dict:
    return _event(
        EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
        ts,
        TaskScheduledId=scheduled_id,
        Result=result,
    )


def sub_orchestration_failed(
    ts: datetime, scheduled_id: int, reason: str | None, details: str | None
) -> dict:
    return _event(
        EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
        ts,
        TaskScheduledId=scheduled_id,
        Reason=reason,
        Details=details,
        FailureDetails=None,
    )


def timer_created(ts: datetime, event_id: int, fire_at: datetime) -> dict:
    return _event(EventType.TIMER_CREATED, ts, event_id, FireAt=format_timestamp(fire_at))


def timer_fired(ts: datetime, timer_id: int, fire_at: datetime) -> dict:
    return _event(EventType.TIMER_FIRED, ts, TimerId=timer_id, FireAt=format_timestamp(fire_at))


def event_raised(ts: datetime, name: str, input: str | None) -> dict:
    return _event(EventType.EVENT_RAISED, ts, Name=name, Input=input, ParentTraceContext=None)


def event_sent(ts: datetime, event_id: int, instance_id: str, name: str, input: str | None) -> dict:
    return _event(
        EventType.EVENT_SENT, ts, event_id, InstanceId=instance_id, Name=name, Input=input
    )


def execution_completed(
    ts: datetime, event_id: int, status: OrchestrationStatus | int, result: str | None
) -> dict:
    return _event(
        EventType.EXECUTION_COMPLETED,
        ts,
        event_id,
        OrchestrationStatus=int(status),
        Result=result,
        FailureDetails=None,
    )


def continue_as_new(ts: datetime, event_id: int, result: str | None) -> dict:
    """``result`` is the new generation's input as stored (JSON-string literal of the text)."""
    return _event(
        EventType.CONTINUE_AS_NEW,
        ts,
        event_id,
        OrchestrationStatus=int(OrchestrationStatus.CONTINUED_AS_NEW),
        Result=result,
        FailureDetails=None,
    )


def execution_terminated(ts: datetime, reason: str | None) -> dict:
    return _event(EventType.EXECUTION_TERMINATED, ts, Input=reason)


def execution_suspended(ts: datetime, reason: str | None) -> dict:
    return _event(EventType.EXECUTION_SUSPENDED, ts, Reason=reason)


def execution_resumed(ts: datetime, reason: str | None) -> dict:
    return _event(EventType.EXECUTION_RESUMED, ts, Reason=reason)


# --------------------------------------------------------------------------------------
# the orchestration-trigger payload
# --------------------------------------------------------------------------------------

# Events that DTFx marks as played when it processes them in an earlier episode; scheduling
# events, OrchestratorStarted/Completed and the completion markers are created after the
# replay and stay unplayed.
_PLAYED_WHEN_PAST = frozenset(
    {
        EventType.EXECUTION_STARTED,
        EventType.EXECUTION_TERMINATED,
        EventType.TASK_COMPLETED,
        EventType.TASK_FAILED,
        EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
        EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
        EventType.TIMER_FIRED,
        EventType.EVENT_RAISED,
        EventType.EXECUTION_SUSPENDED,
        EventType.EXECUTION_RESUMED,
        EventType.GENERIC_EVENT,
    }
)

_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":"))


def last_orchestrator_started_index(history: Sequence[Mapping[str, Any]]) -> int:
    """Index of the last OrchestratorStarted event, or -1."""
    started = int(EventType.ORCHESTRATOR_STARTED)
    for index in range(len(history) - 1, -1, -1):
        if history[index]["EventType"] == started:
            return index
    return -1


def find_execution_started(history: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    started = int(EventType.EXECUTION_STARTED)
    for event in history:
        if event["EventType"] == started:
            return event
    return None


def _mark_played(history: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The history with IsPlayed set as the extension sends it; unchanged events are reused."""
    boundary = last_orchestrator_started_index(history)
    if boundary < 0:
        boundary = 0
    played_types = _PLAYED_WHEN_PAST
    marked: list[Mapping[str, Any]] = []
    append = marked.append
    for index, event in enumerate(history):
        want = index < boundary and event["EventType"] in played_types
        if event.get("IsPlayed") is want:
            append(event)
        else:
            copy = dict(event)
            copy["IsPlayed"] = want
            append(copy)
    return marked


def _json_value(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        # The extension falls back to the raw string for text that is not JSON.
        return text


def orchestration_payload(
    *,
    instance_id: str,
    history: Sequence[Mapping[str, Any]],
    input: str | None = None,
    parent_instance_id: str | None = None,
) -> str:
    """The orchestration-trigger JSON for one episode (protocol §1.1).

    ``history`` is the current execution's stored events followed by this episode's
    OrchestratorStarted and new events. ``input`` is the JSON text of ExecutionStarted.Input;
    when None, the ExecutionStarted event's own ``Input`` is used. ``parent_instance_id``
    defaults to the ExecutionStarted's ParentInstance.
    """
    marked = _mark_played(history)
    started = find_execution_started(marked)
    if input is None and started is not None:
        input = started.get("Input")
    if parent_instance_id is None and started is not None:
        parent = started.get("ParentInstance")
        if parent:
            parent_instance_id = (parent.get("OrchestrationInstance") or {}).get("InstanceId")
    payload = {
        "history": marked,
        "input": _json_value(input),
        "instanceId": instance_id,
        "isReplaying": bool(started["IsPlayed"]) if started is not None else False,
        "parentInstanceId": parent_instance_id,
        "upperSchemaVersion": 1,
        "upperSchemaVersionNew": 2,
        "longRunningTimerIntervalDuration": "3.00:00:00",
        "maximumShortTimerDuration": "6.00:00:00",
        "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
    }
    return _ENCODER.encode(payload)
