"""DTFx's ``NonDeterministicOrchestrationException`` messages, word for word.

A scheduling event in the history that the replay did not produce (or produced as another
kind or name) means the orchestrator code changed under a running instance; the orchestration
fails with these messages, as DTFx's ``TaskOrchestrationContext.Handle*Event`` methods word them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devhost.core.actions import Scheduled, TaskKind

__all__ = ["non_determinism_message"]

# DTFx orchestrator-action class names, as the messages print them.
_ACTION_CLASS = {
    TaskKind.ACTIVITY: "ScheduleTaskOrchestratorAction",
    TaskKind.SUB_ORCHESTRATION: "CreateSubOrchestrationAction",
    TaskKind.TIMER: "CreateTimerOrchestratorAction",
}


def non_determinism_message(event: Mapping[str, Any], kind: int, entry: Scheduled | None) -> str:
    """DTFx's ``NonDeterministicOrchestrationException`` message for this mismatch.

    ``kind`` is the history's scheduling event type (a ``TaskKind`` or EventSent).
    """
    task_id = event.get("EventId")
    name = event.get("Name")
    version = event.get("Version") or ""
    tail = (
        "Was a change made to the orchestrator code after this instance had already started "
        "running?"
    )
    produced = _ACTION_CLASS.get(entry.kind, "OrchestratorAction") if entry else ""
    if kind == TaskKind.ACTIVITY:
        if entry is None:
            detail = (
                f"A previous execution of this orchestration scheduled an activity task with "
                f"sequence ID {task_id} and name '{name}' (version '{version}'), but the current "
                f"replay execution hasn't (yet?) scheduled this task. {tail}"
            )
        elif entry.kind != kind:
            detail = (
                f"A previous execution of this orchestration scheduled an activity task with "
                f"sequence number {task_id} named '{name}', but the current orchestration replay "
                f"instead produced a {produced} action with this sequence number. {tail}"
            )
        else:
            detail = (
                f"A previous execution of this orchestration scheduled an activity task with "
                f"sequence number {task_id} named '{name}', but the current orchestration replay "
                f"instead scheduled an activity task named '{entry.name}' with this sequence "
                f"number.  {tail}"
            )
    elif kind == TaskKind.TIMER:
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
    elif kind == TaskKind.SUB_ORCHESTRATION:
        head = (
            f"A previous execution of this orchestration scheduled a sub-orchestration task with "
            f"sequence ID {task_id} and name '{name}' (version '{version}', instance ID "
            f"'{event.get('InstanceId')}'), but the current "
        )
        if entry is None:
            detail = head + f"replay execution hasn't (yet?) scheduled this task. {tail}"
        elif entry.kind != kind:
            detail = (
                head + f"orchestration replay instead produced a {produced} action at this "
                f"sequence number. {tail}"
            )
        else:
            detail = (
                head + f"orchestration replay instead scheduled a sub-orchestration task with "
                f"name {entry.name} at this sequence number. {tail}"
            )
    else:
        detail = (
            f"A previous execution of this orchestration scheduled a send event task with "
            f"sequence ID {task_id}, type '{event.get('EventType')}' name '{name}', instance ID "
            f"'{event.get('InstanceId')}', but the current replay execution hasn't (yet?) "
            f"scheduled this task. {tail}"
        )
    return "Non-Deterministic workflow detected: " + detail
