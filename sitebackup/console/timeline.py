"""A run's timeline (the Gantt chart of the detail view), built from its history (pure).

Every activity and sub-orchestration of the run becomes a bar from when it was scheduled to
when it ended (or to now while it runs); retries show as separate bars. The last bar is the
final step: from the end of the last task to the end of the run. The history is the durable
status API's ``historyEvents``, where a completion carries ``ScheduledTime`` and
``FunctionName`` and a task still running is its unmatched scheduling event.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sitebackup.console.paging import parse_time

# Bars one timeline shows at most; a 100,000-file backup has 200 partitions.
MAX_BARS = 2000

_ENDED = {
    "TaskCompleted": "completed",
    "TaskFailed": "failed",
    "SubOrchestrationInstanceCompleted": "completed",
    "SubOrchestrationInstanceFailed": "failed",
}
_STARTED = {"TaskScheduled", "SubOrchestrationInstanceCreated"}
_SUB = {
    "SubOrchestrationInstanceCompleted",
    "SubOrchestrationInstanceFailed",
    "SubOrchestrationInstanceCreated",
}


def _time(value: Any) -> datetime | None:
    try:
        return parse_time(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def build(
    events: list[dict[str, Any]], now: datetime, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """``{"start", "end", "bars": [{"label", "function", "kind", "state", "startS", "endS"}]}``.

    ``labels`` names functions for people (``E2_GetFileList`` -> ``listing``); sub-orchestration
    bars of one function are numbered in the order they started.
    """
    labels = labels or {}
    started: datetime | None = None
    ended: datetime | None = None
    end_state = "running"
    raw: list[tuple[datetime, datetime, str, str, str]] = []
    for event in events:
        kind = event.get("EventType")
        stamp = _time(event.get("Timestamp"))
        if kind == "ExecutionStarted":
            started = started or stamp
        elif kind == "ExecutionCompleted":
            ended = stamp
            end_state = str(event.get("OrchestrationStatus") or "Completed").lower()
        elif kind in _ENDED:
            begin = _time(event.get("ScheduledTime")) or stamp
            if begin and stamp:
                raw.append(
                    (begin, stamp, str(event.get("FunctionName") or "?"), _ENDED[kind], kind)
                )
        elif kind in _STARTED and stamp:
            raw.append(
                (
                    stamp,
                    now,
                    str(event.get("Name") or event.get("FunctionName") or "?"),
                    "running",
                    kind,
                )
            )
    if started is None:
        return {"start": None, "end": None, "bars": [], "truncated": False}
    finish = ended or now
    raw.sort(key=lambda bar: (bar[0], bar[1]))
    numbers: Counter[str] = Counter()
    bars = []
    for begin, stop, function, state, kind in raw[:MAX_BARS]:
        label = labels.get(function, function)
        if kind in _SUB:
            numbers[function] += 1
            label = f"{label} {numbers[function]}"
        if state == "running" and ended is not None:
            state = "cancelled"  # scheduled, never finished: the run ended first
            stop = finish
        bars.append(_bar(label, function, state, begin, stop, started))
    last_task_end = max((bar[1] for bar in raw if bar[3] != "running"), default=started)
    if ended is not None:
        bars.append(_bar("final step", "", end_state, min(last_task_end, ended), ended, started))
    return {
        "start": started.isoformat().replace("+00:00", "Z"),
        "end": finish.isoformat().replace("+00:00", "Z"),
        "totalS": round((finish - started).total_seconds(), 3),
        "ended": ended is not None,
        "bars": bars,
        "truncated": len(raw) > MAX_BARS,
    }


def _bar(
    label: str, function: str, state: str, begin: datetime, stop: datetime, origin: datetime
) -> dict[str, Any]:
    return {
        "label": label,
        "function": function,
        "state": state,
        "startS": round(max(0.0, (begin - origin).total_seconds()), 3),
        "endS": round(max(0.0, (stop - origin).total_seconds()), 3),
    }


def with_partitions(
    events: list[dict[str, Any]],
    partitions: list[dict[str, Any]],
    started: str | None,
    function: str,
) -> list[dict[str, Any]]:
    """The history of a run (backup or restore) that continued as new, for the timeline.

    Its history is its last generation's, so the partitions of every generation come from
    their own statuses (``partitions``: the instances of the run, from an instance query),
    each as one sub-orchestration event; the history's own sub-orchestration events, a subset
    of them, are left out. ``started`` (the run's first start) begins the timeline.
    """
    kept = [event for event in events if event.get("EventType") not in _SUB]
    if started:
        kept.insert(0, {"EventType": "ExecutionStarted", "Timestamp": started})
    for item in partitions:
        state = item.get("runtimeStatus")
        created, updated = item.get("createdTime"), item.get("lastUpdatedTime")
        if state in ("Running", "Pending", "Suspended"):
            kept.append(
                {
                    "EventType": "SubOrchestrationInstanceCreated",
                    "Timestamp": created,
                    "Name": function,
                }
            )
        else:
            kept.append(
                {
                    "EventType": "SubOrchestrationInstanceCompleted"
                    if state == "Completed"
                    else "SubOrchestrationInstanceFailed",
                    "ScheduledTime": created,
                    "Timestamp": updated,
                    "FunctionName": function,
                    "Result": item.get("output"),
                }
            )
    return kept
