"""The status API's JSON: StatusResponsePayload and its ``historyEvents`` (pure).

Shapes follow the extension's ``HttpApiHandler.ConvertFrom`` and
``DurableClient.GetDurableOrchestrationStatusAsync`` (protocol §5.4).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from devhost.contracts import InstanceInfo, RuntimeStatus

# DTFx EventType and OrchestrationStatus numbers -> names (protocol §1.2, §5.4).
EVENT_TYPE_NAMES = (
    "ExecutionStarted",
    "ExecutionCompleted",
    "ExecutionFailed",
    "ExecutionTerminated",
    "TaskScheduled",
    "TaskCompleted",
    "TaskFailed",
    "SubOrchestrationInstanceCreated",
    "SubOrchestrationInstanceCompleted",
    "SubOrchestrationInstanceFailed",
    "TimerCreated",
    "TimerFired",
    "OrchestratorStarted",
    "OrchestratorCompleted",
    "EventSent",
    "EventRaised",
    "ContinueAsNew",
    "GenericEvent",
    "HistoryState",
    "ExecutionSuspended",
    "ExecutionResumed",
)
ORCHESTRATION_STATUS_NAMES = (
    "Running",
    "Completed",
    "ContinuedAsNew",
    "Failed",
    "Canceled",
    "Terminated",
    "Pending",
    "Suspended",
)


def format_time(value: datetime) -> str:
    """``DateTime.ToString("s") + "Z"``: whole seconds, UTC, ``Z``."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + "Z"


def parse_json_or_raw(text: str | None) -> Any:
    """Stored text as JSON, else the trimmed raw string (``DurableClient.ParseToJToken``)."""
    if text is None:
        return None
    trimmed = text.strip()
    if not trimmed:
        return ""
    try:
        return json.loads(trimmed)
    except ValueError:
        return trimmed


def status_payload(
    info: InstanceInfo,
    show_input: bool = True,
    history_events: list[dict] | None = None,
) -> dict[str, Any]:
    """StatusResponsePayload; ``historyEvents`` only when given (already transformed)."""
    payload: dict[str, Any] = {
        "name": info.name,
        "instanceId": info.instance_id,
        "runtimeStatus": RuntimeStatus(info.runtime_status).value,
        "input": parse_json_or_raw(info.input) if show_input else None,
        "customStatus": parse_json_or_raw(info.custom_status),
        "output": parse_json_or_raw(info.output),
        "createdTime": format_time(info.created_time),
        "lastUpdatedTime": format_time(info.last_updated_time),
    }
    if history_events is not None:
        payload["historyEvents"] = history_events
    return payload


def _event_type_name(value: Any) -> str | None:
    if isinstance(value, int) and 0 <= value < len(EVENT_TYPE_NAMES):
        return EVENT_TYPE_NAMES[value]
    if isinstance(value, str) and value in EVENT_TYPE_NAMES:
        return value
    return None


def _drop(event: dict, *keys: str) -> None:
    for key in keys:
        event.pop(key, None)


def history_events(
    events: Iterable[Mapping[str, Any]], show_history_output: bool, show_input: bool = True
) -> list[dict]:
    """The status API's ``historyEvents`` view of stored wire-shaped events.

    EXT ``DurableClient.GetDurableOrchestrationStatusAsync``: EventType becomes its name;
    EventId and IsPlayed go; OrchestratorStarted/Completed go; a TaskScheduled /
    SubOrchestrationInstanceCreated goes once its completion is seen, which gains
    ``ScheduledTime``, ``FunctionName`` and (with ``show_input``) the scheduled ``Input``;
    every ``Input`` (orchestration input, event data, terminate reason) stays unless
    ``show_input`` is false; results only with ``show_history_output`` (then parsed as JSON).
    """
    items = [dict(e) for e in events]
    scheduled: dict[str, tuple[int, str | None, Any, Any]] = {}
    removed: set[int] = set()
    for index, item in enumerate(items):
        kind = _event_type_name(item.get("EventType"))
        if kind is None:
            continue
        item["EventType"] = kind
        if kind in ("TaskScheduled", "SubOrchestrationInstanceCreated"):
            scheduled[f"{kind}_{item.get('EventId')}"] = (
                index,
                item.get("Name"),
                item.get("Timestamp"),
                item.get("Input"),
            )
            _drop(item, "Version")
        elif kind in (
            "TaskCompleted",
            "TaskFailed",
            "SubOrchestrationInstanceCompleted",
            "SubOrchestrationInstanceFailed",
        ):
            prefix = (
                "TaskScheduled" if kind.startswith("Task") else "SubOrchestrationInstanceCreated"
            )
            found = scheduled.get(f"{prefix}_{item.get('TaskScheduledId')}")
            if found is not None:
                sched_index, name, when, scheduled_input = found
                item["ScheduledTime"] = when
                item["FunctionName"] = name
                if show_input:
                    item["Input"] = scheduled_input
                removed.add(sched_index)
            _drop(item, "TaskScheduledId")
            if kind in ("TaskCompleted", "SubOrchestrationInstanceCompleted"):
                _result(item, show_history_output)
        elif kind == "ExecutionStarted":
            name = item.pop("Name", None)
            item["FunctionName"] = name
            _drop(item, "OrchestrationInstance", "ParentInstance", "Version", "Tags")
        elif kind == "ExecutionCompleted":
            status = item.get("OrchestrationStatus")
            if isinstance(status, int) and 0 <= status < len(ORCHESTRATION_STATUS_NAMES):
                item["OrchestrationStatus"] = ORCHESTRATION_STATUS_NAMES[status]
            _result(item, show_history_output)
        elif kind == "TimerFired":
            _drop(item, "TimerId")
        elif kind in ("OrchestratorStarted", "OrchestratorCompleted"):
            removed.add(index)
        if not show_input:
            _drop(item, "Input")
        _drop(item, "EventId", "IsPlayed")
    return [item for index, item in enumerate(items) if index not in removed]


def _result(item: dict, show_history_output: bool) -> None:
    if show_history_output:
        item["Result"] = parse_json_or_raw(item.get("Result"))
    else:
        item.pop("Result", None)
