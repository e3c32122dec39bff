"""What an episode writes besides its own history: a new execution, children, a parent notice.

No I/O: builds the store's write parts from an instance record and the replay core's decision
(new execution ids are random).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Sequence
from datetime import datetime

from devhost.contracts import EpisodeDecision, RuntimeStatus, SubOrchestrationWork
from devhost.core import history
from devhost.hub.records import ChildStart, InstanceRecord, NewExecution, Outgoing

__all__ = ["child_start", "new_execution", "not_before", "parent_notice"]


def new_execution(record: InstanceRecord, new_input: str | None, now: datetime) -> NewExecution:
    """The next execution of a ``continue_as_new`` instance, with its ExecutionStarted."""
    execution_id = uuid.uuid4().hex
    started = history.execution_started(
        now,
        instance_id=record.instance_id,
        execution_id=execution_id,
        name=record.name,
        input=new_input,
        parent=_parent_of(record),
    )
    return NewExecution(execution_id, new_input, started)


def child_start(
    record: InstanceRecord, work: SubOrchestrationWork, name: str, now: datetime
) -> ChildStart:
    """A sub-orchestration to start (``name``: the registered name ``work.name`` resolves to),
    with the failure its parent gets if the instance id is taken."""
    execution_id = uuid.uuid4().hex
    parent = history.parent_instance(
        name=record.name,
        instance_id=record.instance_id,
        execution_id=record.execution_id,
        task_schedule_id=work.task_id,
    )
    started = history.execution_started(
        now,
        instance_id=work.instance_id,
        execution_id=execution_id,
        name=name,
        input=work.input,
        parent=parent,
    )
    conflict = history.sub_orchestration_failed(
        now,
        work.task_id,
        f"An orchestration with instance id '{work.instance_id}' already exists and is not "
        "in a terminal state.",
        None,
    )
    return ChildStart(
        instance_id=work.instance_id,
        name=name,
        execution_id=execution_id,
        input=work.input,
        started_event=started,
        parent_task_id=work.task_id,
        conflict_event=conflict,
    )


def parent_notice(
    record: InstanceRecord, decision: EpisodeDecision, now: datetime
) -> list[Outgoing]:
    """The parent's SubOrchestrationInstanceCompleted/Failed when a child finishes."""
    if not decision.status.is_terminal or record.parent_instance_id is None:
        return []
    task_id = record.parent_task_id if record.parent_task_id is not None else -1
    if decision.status is RuntimeStatus.COMPLETED:
        event = history.sub_orchestration_completed(now, task_id, decision.output)
    else:
        reason = decision.output
        if decision.status is RuntimeStatus.FAILED:
            reason = _json_string(decision.output)
        # DTFX TaskOrchestrationDispatcher.ProcessWorkflowCompletedTaskDecision: the
        # completion's Details (IncludeDetails is set by the extension); none for Terminated.
        event = history.sub_orchestration_failed(now, task_id, reason, decision.failure_details)
    return [Outgoing(record.parent_instance_id, record.parent_execution_id, event)]


def not_before(now: datetime, past: Sequence[dict]) -> datetime:
    """Episode times never go backwards, even if the wall clock does."""
    last = history.last_orchestrator_started_index(past)
    if last < 0:
        return now
    previous = history.parse_timestamp(past[last]["Timestamp"])
    return max(now, previous)


def _parent_of(record: InstanceRecord) -> dict | None:
    if record.parent_instance_id is None:
        return None
    return history.parent_instance(
        name=record.parent_name or "",
        instance_id=record.parent_instance_id,
        execution_id=record.parent_execution_id or "",
        task_schedule_id=record.parent_task_id if record.parent_task_id is not None else -1,
    )


def _json_string(text: str | None) -> str | None:
    """The string a Failed output's JSON text holds (the failure message)."""
    if text is None:
        return None
    with contextlib.suppress(ValueError):
        value = json.loads(text)
        if isinstance(value, str):
            return value
    return text
