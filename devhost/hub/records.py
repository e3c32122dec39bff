"""The task hub's records: what the store reads and what one episode writes.

Plain frozen data, apart from the SQLite module so that code which plans or decides (the
episode loop, ``episode_writes``) names them without depending on the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from devhost.contracts import TERMINAL_STATUSES, ActivityWork, InstanceInfo, RuntimeStatus
from devhost.core.batching import Message

__all__ = [
    "ActivityResult",
    "ChildStart",
    "DueTimer",
    "EpisodeWrite",
    "EpisodeWritten",
    "InstanceRecord",
    "Message",
    "NewExecution",
    "Outgoing",
    "ParentLink",
    "RecordPage",
    "TimerWrite",
    "WorkItem",
]


@dataclass(frozen=True)
class InstanceRecord:
    """One row of ``instances``."""

    instance_id: str
    name: str
    execution_id: str
    runtime_status: RuntimeStatus
    input: str | None
    output: str | None
    custom_status: str | None
    created_time: datetime
    last_updated_time: datetime
    parent_instance_id: str | None = None
    parent_execution_id: str | None = None
    parent_task_id: int | None = None
    parent_name: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.runtime_status in TERMINAL_STATUSES

    def info(self) -> InstanceInfo:
        return InstanceInfo(
            instance_id=self.instance_id,
            name=self.name,
            runtime_status=self.runtime_status,
            input=self.input,
            output=self.output,
            custom_status=self.custom_status,
            created_time=self.created_time,
            last_updated_time=self.last_updated_time,
            execution_id=self.execution_id,
            parent_instance_id=self.parent_instance_id,
        )


@dataclass(frozen=True)
class WorkItem:
    """An activity to run; (instance_id, execution_id, task_id) is its identity."""

    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: str | None


@dataclass(frozen=True)
class ActivityResult:
    """A finished activity: ``event`` is its TaskCompleted / TaskFailed history event."""

    instance_id: str
    execution_id: str
    task_id: int
    event: dict


@dataclass(frozen=True)
class TimerWrite:
    fire_at: datetime
    event: dict  # the TimerFired event to deliver at fire_at


@dataclass(frozen=True)
class ChildStart:
    """A sub-orchestration to create in the parent's episode transaction."""

    instance_id: str
    name: str
    execution_id: str
    input: str | None
    started_event: dict
    parent_task_id: int
    # Delivered to the parent instead when a non-terminal instance already has that id.
    conflict_event: dict


@dataclass(frozen=True)
class Outgoing:
    """A message for another instance (a child's completion for its parent)."""

    instance_id: str
    execution_id: str | None
    event: dict


@dataclass(frozen=True)
class NewExecution:
    """Continue-as-new: the generation that replaces the current one."""

    execution_id: str
    input: str | None
    started_event: dict


@dataclass(frozen=True)
class EpisodeWrite:
    """Everything one episode changes, written in one transaction."""

    instance_id: str
    execution_id: str  # the execution the episode ran; the write is dropped if it changed
    now: datetime
    consumed: Sequence[int]  # inbox row ids
    events: Sequence[dict]  # appended to history, in order
    status: RuntimeStatus
    output: str | None = None
    custom_status: str | None = None
    activities: Sequence[ActivityWork] = ()
    timers: Sequence[TimerWrite] = ()
    children: Sequence[ChildStart] = ()
    outgoing: Sequence[Outgoing] = ()
    new_execution: NewExecution | None = None


@dataclass
class EpisodeWritten:
    """What a committed episode did that the dispatcher must react to."""

    children_started: list[str] = field(default_factory=list)
    children_rejected: list[str] = field(default_factory=list)
    notified: list[str] = field(default_factory=list)  # instances that got a message


@dataclass(frozen=True)
class ParentLink:
    """Where a sub-orchestration reports back: its parent's instance, execution and task."""

    instance_id: str
    execution_id: str
    task_id: int
    name: str


class DueTimer(NamedTuple):
    """A message that becomes visible later (a durable timer): when, and for which instance."""

    fire_at: datetime
    instance_id: str


class RecordPage(NamedTuple):
    """One page of an instance query and the token of the next page (None: the last one)."""

    records: list[InstanceRecord]
    continuation_token: str | None
