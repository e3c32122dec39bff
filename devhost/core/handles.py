"""The handles the replay walk creates for invoked actions, as DTFx tasks behave.

Each invoked action becomes a node; a node tells its parent when it finishes, and the parent
decides whether that finishes it too. This mirrors the .NET tasks the extension awaits:
``Task.WhenAll`` waits for every child even after one failed, ``Task.WhenAny`` finishes with the
first child whatever its outcome, and DTFx's ``RetryInterceptor`` turns failures into timers
and new attempts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from devhost.core.actions import RetryPolicy, TaskKind

__all__ = [
    "EventWait",
    "Immediate",
    "Node",
    "Retry",
    "Scheduler",
    "Task",
    "WhenAll",
    "WhenAny",
]


class Scheduler(Protocol):
    """What a handle needs from the walk that drives it (``walk.Walk`` is one)."""

    now: datetime

    def schedule(self, action: Mapping[str, Any], kind: TaskKind, parent: Node) -> Task: ...

    def timer(self, when: datetime, parent: Node) -> Task: ...


class Node:
    __slots__ = ("parent", "done", "failed")

    def __init__(self, parent: Node | None) -> None:
        self.parent = parent
        self.done = False
        self.failed = False

    def child_done(self, child: Node, walk: Scheduler) -> bool:
        """React to a child's completion; True when this node completed as a result."""
        raise NotImplementedError


class Task(Node):
    """An activity, sub-orchestration or timer: open until its completion event arrives."""

    __slots__ = ("task_id", "kind")

    def __init__(self, parent: Node | None, task_id: int, kind: TaskKind) -> None:
        super().__init__(parent)
        self.task_id = task_id
        self.kind = kind


class Immediate(Node):
    """Something done as soon as it is invoked (continue-as-new, a satisfied event wait)."""

    __slots__ = ()

    def __init__(self, parent: Node | None) -> None:
        super().__init__(parent)
        self.done = True


class EventWait(Node):
    __slots__ = ()


class WhenAll(Node):
    """``Task.WhenAll``: done when every child is done, faulted when any child failed."""

    __slots__ = ("children", "remaining")

    def __init__(self, parent: Node | None) -> None:
        super().__init__(parent)
        self.children: list[Node] = []
        self.remaining = 0

    def child_done(self, child: Node, walk: Scheduler) -> bool:
        if child.failed:
            self.failed = True
        self.remaining -= 1
        if self.remaining == 0:
            self.done = True
            return True
        return False


class WhenAny(Node):
    """``Task.WhenAny``: done with the first child to finish, whatever its outcome."""

    __slots__ = ("children",)

    def __init__(self, parent: Node | None) -> None:
        super().__init__(parent)
        self.children: list[Node] = []

    def child_done(self, child: Node, walk: Scheduler) -> bool:
        if self.done:
            return False
        self.done = True
        return True


class Retry(Node):
    """DTFx ``RetryInterceptor``: attempts separated by timers, plus a final zero-delay timer."""

    __slots__ = ("action", "kind", "policy", "attempt", "first_attempt", "inner", "timer", "final")

    def __init__(
        self, parent: Node | None, action: Mapping[str, Any], kind: TaskKind, policy: RetryPolicy
    ) -> None:
        super().__init__(parent)
        self.action = action
        self.kind = kind
        self.policy = policy
        self.attempt = 0  # index of the current attempt
        self.first_attempt: datetime | None = None
        self.inner: Task | None = None
        self.timer: Task | None = None
        self.final = False

    def start(self, walk: Scheduler) -> None:
        self.first_attempt = walk.now
        if self.policy.max_attempts <= 0:
            # The interceptor's loop never runs: the call "succeeds" without scheduling.
            self.done = True
            return
        self.inner = walk.schedule(self.action, self.kind, self)

    def child_done(self, child: Node, walk: Scheduler) -> bool:
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
