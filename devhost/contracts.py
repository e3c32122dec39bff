"""The seams between the local host's parts.

Imports point one way: ``__main__`` -> ``http`` -> ``dispatcher`` -> ``store`` / ``replay`` ->
``history``. ``app`` (loading and invoking the function app) is used by ``http`` and
``dispatcher`` through the protocols below, so each part can be tested with a stand-in.

Value conventions (they follow the host <-> SDK protocol):
- "JSON text" means a ``str`` holding JSON, exactly as it is stored in history events
  (``ExecutionStarted.Input``, ``TaskCompleted.Result``...). ``None`` means "no value".
- History events are ``dict``s in the extension's wire shape (PascalCase keys, integer
  ``EventType``, ``Timestamp`` as ISO-8601 UTC with ``Z``); ``devhost.core.history`` builds them.
- Times are timezone-aware ``datetime`` objects in UTC.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class RuntimeStatus(enum.StrEnum):
    """``OrchestrationRuntimeStatus`` names, as the status API spells them."""

    RUNNING = "Running"
    COMPLETED = "Completed"
    CONTINUED_AS_NEW = "ContinuedAsNew"
    FAILED = "Failed"
    CANCELED = "Canceled"
    TERMINATED = "Terminated"
    PENDING = "Pending"
    SUSPENDED = "Suspended"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        RuntimeStatus.COMPLETED,
        RuntimeStatus.FAILED,
        RuntimeStatus.CANCELED,
        RuntimeStatus.TERMINATED,
    }
)


# --------------------------------------------------------------------------------------
# app: what the dispatcher and the HTTP front need from the loaded function app
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrchestratorOutcome:
    """What one orchestrator invocation answered.

    ``state`` is the parsed OrchestratorState JSON (``isDone``, ``actions``, ``output``,
    ``error``, ``customStatus``...), taken from the return value or, when the SDK raised,
    from the ``$OutOfProcData$`` tail of the exception message. ``state`` is ``None`` when
    the function failed without such a tail; ``error`` then says why (host wording:
    ``"<ExceptionType>: <message>"``).
    """

    state: Mapping[str, Any] | None
    error: str | None = None
    # The worker's stack text of the exception the orchestrator raised, if it raised.
    stack: str | None = None


@dataclass(frozen=True)
class ActivityOutcome:
    """What one activity invocation answered.

    Success: ``failed`` is False and ``result`` is the compact JSON text of the return value
    (``None`` for a ``None`` return). Failure: ``reason`` is
    ``"Activity function '<name>' failed:  <Type>: <message>"`` and ``details`` the stack text.
    ``retryable`` marks infrastructure failures (host shutting down) that must be retried
    instead of being recorded as TaskFailed.
    """

    failed: bool = False
    result: str | None = None
    reason: str | None = None
    details: str | None = None
    retryable: bool = False


class FunctionAppProtocol(Protocol):
    """The loaded function app, as the dispatcher sees it."""

    @property
    def orchestrator_names(self) -> frozenset[str]: ...

    @property
    def activity_names(self) -> frozenset[str]: ...

    def resolve_name(self, name: str) -> str | None:
        """The registered function's name matching ``name`` case-insensitively, or None."""
        ...

    def invoke_orchestrator(self, name: str, context_json: str) -> OrchestratorOutcome:
        """Run the orchestrator once with the orchestration-trigger payload (sync, CPU-bound)."""
        ...

    async def invoke_activity(self, name: str, input_json: str | None) -> ActivityOutcome:
        """Run the activity with the action's input text (awaits async ones, threads sync ones)."""
        ...


class ThreadedActivities(Protocol):
    """An app that can run an activity in its own thread pool and report back from there.

    Optional beside ``FunctionAppProtocol``: the dispatcher looks for ``submit_activity`` on
    the app; an app without it (or one that declines an activity by returning False) has the
    activity run through ``invoke_activity``.
    """

    def submit_activity(
        self, name: str, input_json: str | None, done: Callable[[ActivityOutcome], None]
    ) -> bool:
        """Start the activity; ``done(outcome)`` is called in the app's thread when it ends.
        False when the app does not run this activity that way."""
        ...


# --------------------------------------------------------------------------------------
# replay: the pure core's answer for one episode
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityWork:
    task_id: int  # the TaskScheduled EventId
    name: str
    input: str | None  # the action's input JSON text, passed to the activity as-is


@dataclass(frozen=True)
class TimerWork:
    timer_id: int  # the TimerCreated EventId
    fire_at: datetime


@dataclass(frozen=True)
class SubOrchestrationWork:
    task_id: int  # the SubOrchestrationInstanceCreated EventId
    name: str
    instance_id: str
    input: str | None  # JSON text for the child's ExecutionStarted.Input


@dataclass(frozen=True)
class EpisodeDecision:
    """Everything one episode decided, for the store to commit in one transaction."""

    # Events to append after the episode's input events, in order: scheduling events by
    # ascending id, then ExecutionCompleted / ContinueAsNew when finished, then
    # OrchestratorCompleted.
    new_events: Sequence[dict]
    activities: Sequence[ActivityWork] = ()
    timers: Sequence[TimerWork] = ()
    sub_orchestrations: Sequence[SubOrchestrationWork] = ()
    status: RuntimeStatus = RuntimeStatus.RUNNING
    # Completed: output JSON text; Failed: the failure message as JSON text of a string
    # ("Orchestrator function 'X' failed: ..."); Terminated: the reason (raw, as stored).
    output: str | None = None
    custom_status: str | None = None  # JSON text, None clears it
    continue_as_new_input: str | None = None  # set when status is CONTINUED_AS_NEW
    # Open task ids whose *successful* completion alone cannot make the orchestrator do
    # anything new (e.g. the other children of a task_all it is blocked on). The dispatcher
    # may hold such completions in the inbox without running an episode until one of them
    # fails, another kind of event arrives, or all of them have completed.
    quiet_ids: frozenset[int] = frozenset()
    # Failed: the details a parent orchestration receives with SubOrchestrationInstanceFailed.
    failure_details: str | None = None


# --------------------------------------------------------------------------------------
# dispatcher: what the HTTP front needs from the task hub
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceInfo:
    """One orchestration instance as the status API shows it (values as stored)."""

    instance_id: str
    name: str
    runtime_status: RuntimeStatus
    input: str | None  # JSON text as stored in ExecutionStarted.Input
    output: str | None  # JSON text (Completed), message (Failed), reason (Terminated)
    custom_status: str | None  # JSON text
    created_time: datetime
    last_updated_time: datetime
    execution_id: str = ""
    parent_instance_id: str | None = None


@dataclass(frozen=True)
class InstanceQuery:
    created_from: datetime | None = None
    created_to: datetime | None = None
    statuses: frozenset[RuntimeStatus] = frozenset()
    instance_id_prefix: str | None = None
    top: int = 100
    continuation_token: str | None = None


@dataclass(frozen=True)
class InstancePage:
    instances: Sequence[InstanceInfo]
    continuation_token: str | None = None


class HostError(Exception):
    """Base class of the local host's errors."""


class InstanceNotFound(HostError):
    """No instance has that id (HTTP 404)."""


class InstanceGone(HostError):
    """The instance is in a state the operation no longer applies to (HTTP 410)."""


class InvalidOperation(HostError):
    """The operation does not fit the instance's state (HTTP 500, as the real host)."""


class InstanceExists(HostError):
    """A running instance already has that id (HTTP 500 from the start API, as the real host)."""


class InvalidContinuationToken(HostError, ValueError):
    """A continuation token the task hub did not write (HTTP 400)."""


class TaskHubProtocol(Protocol):
    """The task hub, as the HTTP front drives it. All methods are safe to call concurrently."""

    hub_name: str

    async def start_instance(
        self, name: str, instance_id: str, input_json: str | None
    ) -> InstanceInfo:
        """Create (or restart a non-running) instance; raises InstanceExists if one runs."""
        ...

    async def get_instance(self, instance_id: str) -> InstanceInfo | None: ...

    async def get_history(self, instance_id: str) -> list[dict]:
        """The stored history of the current execution, wire-shaped events, in order."""
        ...

    async def query_instances(self, query: InstanceQuery) -> InstancePage: ...

    async def raise_event(self, instance_id: str, name: str, input_json: str | None) -> None: ...

    async def terminate(self, instance_id: str, reason: str | None) -> None: ...

    async def suspend(self, instance_id: str, reason: str | None) -> None: ...

    async def resume(self, instance_id: str, reason: str | None) -> None: ...

    async def purge(self, instance_id: str) -> int:
        """Delete a terminal instance and its history; returns how many were deleted."""
        ...

    async def purge_many(self, query: InstanceQuery) -> int: ...

    async def wait_for_change(self, instance_id: str, timeout: float) -> InstanceInfo | None:
        """Wait until the instance's status row changes (or timeout); returns it."""
        ...


# A clock the dispatcher reads and sleeps on, so tests can move time.
NowFn = Callable[[], datetime]
SleepFn = Callable[[float], Awaitable[None]]


@dataclass
class HostOptions:
    """Settings the dispatcher takes from host.json (``extensions.durableTask``)."""

    hub_name: str = "TestHubName"
    max_concurrent_activities: int = 10
    max_concurrent_orchestrations: int = 10
    extra: dict[str, Any] = field(default_factory=dict)
