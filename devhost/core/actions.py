"""The actions an orchestrator answers with (the SDK's V2/V3 replay schema), and their fields.

Actions are kept as the parsed JSON dicts the SDK sent: a 10,000-wide ``task_all`` is one
WhenAll with 10,000 children, and copying them into objects would cost more than the whole
replay. This module only names the action types and reads the fields the host needs.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from devhost.contracts import HostError
from devhost.core.history import EventType, parse_timestamp

__all__ = [
    "ActionError",
    "ActionType",
    "RetryPolicy",
    "Scheduled",
    "TaskKind",
    "action_list",
    "action_input",
    "compact_json",
    "fire_at",
    "retry_policy",
]

# The storage provider's longest single delay (Azure Storage: 6 days); retry intervals
# above it are rejected by the extension.
MAX_DELAY = timedelta(days=6)


class ActionError(HostError):
    """An action the host cannot carry out; the orchestration fails with this message."""


class TaskKind(enum.IntEnum):
    """A durable task's kind, named by the scheduling event it produces in the history."""

    ACTIVITY = EventType.TASK_SCHEDULED
    SUB_ORCHESTRATION = EventType.SUB_ORCHESTRATION_INSTANCE_CREATED
    TIMER = EventType.TIMER_CREATED


class Scheduled(NamedTuple):
    """A task the replay walk scheduled that the history does not hold yet."""

    kind: TaskKind
    name: str | None  # the function's name; None for a timer
    detail: Any  # the action (activity, sub-orchestration) or the fire time (timer)


class ActionType(enum.IntEnum):
    """``actionType`` numbers shared by the SDK and the extension."""

    CALL_ACTIVITY = 0
    CALL_ACTIVITY_WITH_RETRY = 1
    CALL_SUB_ORCHESTRATOR = 2
    CALL_SUB_ORCHESTRATOR_WITH_RETRY = 3
    CONTINUE_AS_NEW = 4
    CREATE_TIMER = 5
    WAIT_FOR_EXTERNAL_EVENT = 6
    CALL_ENTITY = 7
    CALL_HTTP = 8
    SIGNAL_ENTITY = 9
    SCHEDULED_SIGNAL_ENTITY = 10
    WHEN_ANY = 11
    WHEN_ALL = 12


def compact_json(value: Any) -> str:
    """JSON text as the extension re-serialises a JSON value (no spaces, non-ASCII kept)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def action_list(state: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    """The flat action list of an OrchestratorState (schema V2/V3: exactly one inner list)."""
    schema = state.get("schemaVersion", 0)
    if isinstance(schema, str):
        schema = {"Original": 0, "V2": 1, "V3": 2}.get(schema, -1)
    actions = state.get("actions") or [[]]
    if schema not in (1, 2):
        raise ActionError(
            f'The OOProc schema of version "{schema}" is not supported by this host; '
            "it asks for schema V3 and the SDK answered with an older one."
        )
    if len(actions) != 1:
        raise ActionError(
            f"With OOProc schema V{schema + 1}, expected actions array to be of length 1 "
            f"in outer layer but got size: {len(actions)}"
        )
    return actions[0]


def action_input(action: Mapping[str, Any]) -> str | None:
    """The action's ``input``: JSON text as the SDK wrote it (a non-string is re-serialised)."""
    value = action.get("input")
    if value is None or isinstance(value, str):
        return value
    return compact_json(value)


def fire_at(action: Mapping[str, Any]) -> datetime:
    text = action.get("fireAt")
    if not isinstance(text, str):
        raise ActionError(f"A CreateTimer action has no valid fireAt: {text!r}")
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise ActionError(f"A CreateTimer action has no valid fireAt: {text!r}") from exc


@dataclass(frozen=True)
class RetryPolicy:
    """DTFx RetryOptions as the extension builds them from the action's ``retryOptions``."""

    first_interval: timedelta
    max_attempts: int
    backoff: float = 1.0
    max_interval: timedelta = MAX_DELAY
    timeout: timedelta | None = None  # None = TimeSpan.MaxValue

    def delay(self, attempt_index: int, first_attempt: datetime, now: datetime) -> timedelta:
        """DTFx ``RetryInterceptor.ComputeNextDelay``: zero means "stop retrying"."""
        if self.timeout is not None and now >= first_attempt + self.timeout:
            return timedelta(0)
        millis = self.first_interval / timedelta(milliseconds=1) * self.backoff**attempt_index
        max_millis = self.max_interval / timedelta(milliseconds=1)
        if millis < max_millis:
            return timedelta(milliseconds=millis)
        return self.max_interval


def _millis(options: Mapping[str, Any], key: str) -> timedelta | None:
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ActionError(f"retryOptions.{key} must be a number of milliseconds, got {value!r}")
    return timedelta(milliseconds=value)


def retry_policy(action: Mapping[str, Any]) -> RetryPolicy:
    options = action.get("retryOptions")
    if not isinstance(options, Mapping):
        raise ActionError("A with-retry action has no retryOptions.")
    first = _millis(options, "firstRetryIntervalInMilliseconds")
    attempts = options.get("maxNumberOfAttempts")
    if first is None or first <= timedelta(0):
        raise ActionError("retryOptions.firstRetryIntervalInMilliseconds must be greater than 0.")
    if isinstance(attempts, bool) or not isinstance(attempts, int):
        raise ActionError(f"retryOptions.maxNumberOfAttempts must be an integer, got {attempts!r}")
    max_interval = _millis(options, "maxRetryIntervalInMilliseconds") or MAX_DELAY
    for label, interval in (("FirstRetryInterval", first), ("MaxRetryInterval", max_interval)):
        if interval > MAX_DELAY:
            raise ActionError(
                f"The {label} of the retry options ({interval}) is longer than the longest "
                f"delay the storage provider supports ({MAX_DELAY})."
            )
    backoff = options.get("backoffCoefficient", 1.0)
    if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff <= 0:
        raise ActionError(f"retryOptions.backoffCoefficient must be positive, got {backoff!r}")
    return RetryPolicy(
        first_interval=first,
        max_attempts=attempts,
        backoff=float(backoff),
        max_interval=max_interval,
        timeout=_millis(options, "retryTimeoutInMilliseconds"),
    )
