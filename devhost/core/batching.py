"""Which pending messages an orchestration episode takes, and when an instance needs one.

Pure: no I/O, no event loop. ``Readiness`` is the dispatcher's in-memory view of one instance's
pending messages; ``plan_batch`` splits those messages for the next episode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from devhost.core.history import EventType

__all__ = ["Batch", "Message", "Readiness", "plan_batch", "starts"]

_SUCCESS = frozenset({EventType.TASK_COMPLETED, EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED})
_CONTROL = frozenset(
    {EventType.EXECUTION_SUSPENDED, EventType.EXECUTION_RESUMED, EventType.EXECUTION_TERMINATED}
)


@dataclass(frozen=True)
class Message:
    """One inbox row. ``execution_id`` None means "whatever execution is current"."""

    id: int
    instance_id: str
    execution_id: str | None
    visible_at: datetime
    event: dict


# --------------------------------------------------------------------------------------
# per-instance bookkeeping (pure)
# --------------------------------------------------------------------------------------


@dataclass
class Readiness:
    """What the dispatcher knows, in memory, about an instance's pending messages.

    Rebuilt from nothing after a restart: an instance with messages then just gets an
    episode, which recomputes the quiet set.
    """

    queued: bool = False  # waiting in the ready queue
    running: bool = False  # an episode is in progress
    finished: bool = False  # terminal: forget it once its episode is over
    suspended: bool = False
    other: bool = False  # a pending message that always needs an episode
    control: bool = False  # a pending suspend / resume / terminate
    quiet: frozenset[int] = frozenset()
    arrived: set[int] = field(default_factory=set)  # successful completions pending
    quiet_arrived: int = 0
    loud_arrived: int = 0

    def note(self, event: dict) -> None:
        kind = event["EventType"]
        if kind in _SUCCESS:
            task_id = event["TaskScheduledId"]
            if task_id not in self.arrived:
                self.arrived.add(task_id)
                if task_id in self.quiet:
                    self.quiet_arrived += 1
                else:
                    self.loud_arrived += 1
        elif kind in _CONTROL:
            self.control = True
        else:
            self.other = True

    def wants_episode(self) -> bool:
        if self.control:
            return True
        if self.suspended:
            return False
        if self.other or self.loud_arrived:
            return True
        return self.quiet_arrived > 0 and self.quiet_arrived >= len(self.quiet)

    def clear_pending(self) -> None:
        self.other = self.control = False
        self.arrived = set()
        self.quiet_arrived = self.loud_arrived = 0

    def set_quiet(self, quiet: frozenset[int]) -> None:
        """Install a new quiet set, recounting completions that arrived meanwhile."""
        self.quiet = quiet
        self.quiet_arrived = sum(1 for task_id in self.arrived if task_id in quiet)
        self.loud_arrived = len(self.arrived) - self.quiet_arrived


# --------------------------------------------------------------------------------------
# which messages an episode takes (pure)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """``kind``: run (invoke the orchestrator), resume (run, after ExecutionResumed),
    terminate, suspend, or hold (nothing to do now)."""

    kind: str
    take: Sequence[Message] = ()
    drop: Sequence[Message] = ()  # consumed without effect (stale suspend/resume)
    leftover: Sequence[Message] = ()  # stay in the inbox for a later episode


def _type(message: Message) -> int:
    return message.event["EventType"]


def plan_batch(messages: Sequence[Message], *, suspended: bool, fresh: bool) -> Batch:
    """Split an instance's pending messages (in delivery order) for its next episode.

    ``fresh``: the execution has no history yet, so its ExecutionStarted goes first whatever
    arrived before it. A terminate takes everything. A suspended instance only wakes up for a
    resume, which brings along what waited meanwhile. Messages that arrived before a suspend
    are delivered first, in their own episode.
    """
    ordered = list(messages)
    if fresh:
        ordered.sort(key=lambda m: _type(m) != EventType.EXECUTION_STARTED)
    if any(_type(m) == EventType.EXECUTION_TERMINATED for m in ordered):
        return Batch("terminate", take=ordered)
    if suspended:
        return _plan_suspended(ordered)
    take: list[Message] = []
    drop: list[Message] = []
    for index, message in enumerate(ordered):
        kind = _type(message)
        if kind == EventType.EXECUTION_RESUMED:
            drop.append(message)  # not suspended: nothing to resume
        elif kind == EventType.EXECUTION_SUSPENDED:
            if take:
                return Batch("run", take=take, drop=drop, leftover=ordered[index:])
            return Batch("suspend", take=[message], drop=drop, leftover=ordered[index + 1 :])
        else:
            take.append(message)
    return Batch("run" if take else "hold", take=take, drop=drop)


def _plan_suspended(ordered: list[Message]) -> Batch:
    resume = next(
        (i for i, m in enumerate(ordered) if _type(m) == EventType.EXECUTION_RESUMED), None
    )
    if resume is None:
        drop = [m for m in ordered if _type(m) == EventType.EXECUTION_SUSPENDED]
        held = [m for m in ordered if _type(m) != EventType.EXECUTION_SUSPENDED]
        return Batch("hold", drop=drop, leftover=held)
    end = next(
        (
            i
            for i in range(resume + 1, len(ordered))
            if _type(ordered[i]) == EventType.EXECUTION_SUSPENDED
        ),
        len(ordered),
    )
    window = ordered[:end]
    take = [ordered[resume]] + [m for m in window if _type(m) not in _CONTROL]
    drop = [m for i, m in enumerate(window) if _type(m) in _CONTROL and i != resume]
    return Batch("resume", take=take, drop=drop, leftover=ordered[end:])


def starts(messages: Sequence[Message]) -> bool:
    """Whether ``messages`` hold an ExecutionStarted."""
    return any(_type(m) == EventType.EXECUTION_STARTED for m in messages)
