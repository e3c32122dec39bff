"""The pure replay core: one episode's history + the SDK's actions -> what happens next.

The extension does not trust the orchestrator's own bookkeeping: it re-executes the complete
action list the SDK returns through a fresh DTFx orchestration context every episode, and that
replay decides sequence ids, retries, timers, completion and non-determinism. ``decide`` does
the same walk (protocol §2.5):

* The actions are invoked in order; the walk waits on each one until it completes (success or
  failure alike), like the extension's ``ProcessAsyncActionsV2`` loop.
* Every activity, timer and sub-orchestration takes the next sequence id when it is invoked,
  as DTFx's ``idCounter`` does; with-retry calls take new ids for each retry timer and attempt.
* The history is then played in order. Scheduling events must match the id, kind and name of
  what the walk produced (else the DTFx non-determinism failure); completions resolve open
  tasks, and continuations run at once, depth first (DTFx runs them synchronously), so the walk
  can advance and take ids in the middle of the history.
* Whatever is still scheduled but not in the history is new work. The orchestration completes
  only when the walk has ended and no activity, sub-orchestration or un-cancelled timer is open.

Everything is linear in the history and the number of actions: a 10,000-wide fan-out is one
WhenAll with 10,000 children, replayed on every episode.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from devhost.contracts import (
    ActivityWork,
    EpisodeDecision,
    HostError,
    OrchestratorOutcome,
    RuntimeStatus,
    SubOrchestrationWork,
    TimerWork,
)
from devhost.core import history as h
from devhost.core.actions import ActionError, TaskKind, action_input, action_list, compact_json
from devhost.core.walk import Ended, Walk, play, quiet_ids

__all__ = ["ReplayError", "custom_status_error", "decide", "failure_message"]

_TERMINATED = int(h.EventType.EXECUTION_TERMINATED)


class ReplayError(HostError):
    """``decide`` was called with arguments that do not describe an episode."""


def failure_message(orchestrator_name: str, error: str) -> str:
    """The extension's wording for a failed orchestrator function."""
    return f"Orchestrator function '{orchestrator_name}' failed: {error}"


MAX_CUSTOM_STATUS_KB = 16


def custom_status_error(custom_status: str) -> str | None:
    """Why the extension refuses this custom status JSON text, or None.

    EXT ``DurableOrchestrationContext.SetCustomStatus`` allows 16 KB, measured by
    ``MessagePayloadDataConverter.Serialize`` as whole KB of the UTF-16 size of the JSON
    ("String payloads in Azure Storage are encoded in UTF-16"); the ArgumentException fails the
    orchestration before its actions are replayed (``OutOfProcOrchestrationShim``).
    """
    size_kb = len(custom_status.encode("utf-16-le")) // 1024
    if size_kb <= MAX_CUSTOM_STATUS_KB:
        return None
    return (
        "The UTF-16 size of the JSON-serialized payload must not exceed "
        f"{MAX_CUSTOM_STATUS_KB:,} KB. The current payload size is {size_kb:,} KB."
    )


# --------------------------------------------------------------------------------------
# the decision
# --------------------------------------------------------------------------------------


def _new_work(
    walk: Walk, now: datetime
) -> tuple[list[dict], list[ActivityWork], list[TimerWork], list[SubOrchestrationWork]]:
    events: list[dict] = []
    activities: list[ActivityWork] = []
    timers: list[TimerWork] = []
    subs: list[SubOrchestrationWork] = []
    # Ids were allocated in ascending order, and dicts keep insertion order.
    for task_id, (kind, name, detail) in walk.pending.items():
        if kind == TaskKind.ACTIVITY:
            assert name is not None
            events.append(h.task_scheduled(now, task_id, name))
            activities.append(ActivityWork(task_id=task_id, name=name, input=action_input(detail)))
        elif kind == TaskKind.TIMER:
            events.append(h.timer_created(now, task_id, detail))
            if task_id in walk.open:
                timers.append(TimerWork(timer_id=task_id, fire_at=detail))
        else:
            assert name is not None
            child_id = detail.get("instanceId") or f"{walk.execution_id}:{task_id}"
            text = action_input(detail)
            # The extension serialises the input text again for the child's ExecutionStarted.
            child_input = compact_json(text) if text is not None else None
            events.append(h.sub_orchestration_created(now, task_id, name, child_id))
            subs.append(
                SubOrchestrationWork(
                    task_id=task_id, name=name, instance_id=child_id, input=child_input
                )
            )
    return events, activities, timers, subs


def _ended(
    status: RuntimeStatus,
    message: str | None,
    event_id: int,
    now: datetime,
    custom_status: str | None,
    failure_details: str | None = None,
) -> EpisodeDecision:
    if status == RuntimeStatus.TERMINATED:
        completed = h.execution_completed(now, event_id, h.OrchestrationStatus.TERMINATED, message)
        output = message
    else:
        completed = h.execution_completed(now, event_id, h.OrchestrationStatus.FAILED, message)
        output = compact_json(message)
    return EpisodeDecision(
        new_events=[completed, h.orchestrator_completed(now)],
        status=status,
        output=output,
        custom_status=custom_status,
        failure_details=failure_details,
    )


def _instance_ids(history: Sequence[Mapping[str, Any]]) -> tuple[str, str | None]:
    started = h.find_execution_started(history)
    if started is None:
        raise ReplayError("The history has no ExecutionStarted event.")
    instance_id = (started.get("OrchestrationInstance") or {}).get("InstanceId") or ""
    parent = started.get("ParentInstance") or {}
    parent_id = (parent.get("OrchestrationInstance") or {}).get("InstanceId")
    return instance_id, parent_id


def _highest_id(history: Sequence[Mapping[str, Any]]) -> int:
    """Next sequence id judged from the history alone (when the orchestrator did not run)."""
    highest = -1
    for event in history:
        event_id = event.get("EventId", -1)
        if isinstance(event_id, int) and event_id > highest:
            highest = event_id
    return highest + 1


def decide(
    history: Sequence[Mapping[str, Any]],
    outcome: OrchestratorOutcome | None,
    *,
    orchestrator_name: str,
    execution_id: str,
    activity_names: Collection[str],
    orchestrator_names: Collection[str],
) -> EpisodeDecision:
    """Decide one episode.

    ``history`` is what the orchestrator was given: the stored events of the current
    execution, this episode's OrchestratorStarted and its new events. ``outcome`` is what the
    orchestrator answered, or None when it was not invoked (only allowed when the new events
    terminate the instance).
    """
    last_started = h.last_orchestrator_started_index(history)
    if last_started < 0:
        raise ReplayError("The history has no OrchestratorStarted event.")
    now = h.parse_timestamp(history[last_started]["Timestamp"])
    instance_id, parent_id = _instance_ids(history)

    if outcome is None:
        for event in history:
            if event["EventType"] == _TERMINATED:
                return _ended(
                    RuntimeStatus.TERMINATED, event.get("Input"), _highest_id(history), now, None
                )
        raise ReplayError("An episode without an orchestrator outcome must terminate it.")

    state = outcome.state
    if state is None:
        for event in history:
            if event["EventType"] == _TERMINATED:
                return _ended(
                    RuntimeStatus.TERMINATED, event.get("Input"), _highest_id(history), now, None
                )
        error = outcome.error or "The orchestrator function failed without telling why."
        return _ended(RuntimeStatus.FAILED, failure_message(orchestrator_name, error), 0, now, None)

    raw_status = state.get("customStatus")
    custom_status = compact_json(raw_status) if raw_status is not None else None
    too_big = custom_status_error(custom_status) if custom_status is not None else None
    if too_big is not None:
        # The extension's SetCustomStatus throws while the orchestrator function is being
        # handled, so nothing of this episode is kept, not even the status (id 0: no action
        # was replayed yet).
        return _ended(
            RuntimeStatus.FAILED, failure_message(orchestrator_name, too_big), 0, now, None
        )

    walk: Walk | None = None
    try:
        walk = Walk(
            action_list(state),
            instance_id=instance_id,
            parent_instance_id=parent_id,
            execution_id=execution_id,
            activity_names=activity_names,
            orchestrator_names=orchestrator_names,
        )
        play(walk, history)
    except Ended as ended:
        assert walk is not None
        return _ended(ended.status, ended.message, walk.counter, now, custom_status)
    except ActionError as exc:
        counter = walk.counter if walk is not None else 0
        message = failure_message(orchestrator_name, str(exc))
        return _ended(RuntimeStatus.FAILED, message, counter, now, custom_status)

    events, activities, timers, subs = _new_work(walk, now)
    status = RuntimeStatus.RUNNING
    output: str | None = None
    continue_input: str | None = None
    failure_details: str | None = None
    error = state.get("error")
    is_done = bool(state.get("isDone"))
    if walk.finished and not walk.open and (error or is_done):
        event_id = walk.counter
        if error:
            status = RuntimeStatus.FAILED
            message = failure_message(orchestrator_name, str(error))
            # EXT OutOfProcOrchestrationShim: OrchestrationFailureException details, which
            # DTFx hands to a parent orchestration.
            failure_details = f"Message: {error}, StackTrace: {outcome.stack or ''}"
            events.append(
                h.execution_completed(now, event_id, h.OrchestrationStatus.FAILED, message)
            )
            output = compact_json(message)
        elif walk.continued:
            status = RuntimeStatus.CONTINUED_AS_NEW
            text = walk.continue_as_new
            continue_input = compact_json(text) if text is not None else None
            events.append(h.continue_as_new(now, event_id, continue_input))
        else:
            status = RuntimeStatus.COMPLETED
            value = state.get("output")
            output = compact_json(value) if value is not None else None
            events.append(
                h.execution_completed(now, event_id, h.OrchestrationStatus.COMPLETED, output)
            )
    events.append(h.orchestrator_completed(now))
    quiet = (
        quiet_ids(walk, bool(error) or is_done) if status == RuntimeStatus.RUNNING else frozenset()
    )
    return EpisodeDecision(
        new_events=events,
        activities=activities,
        timers=timers,
        sub_orchestrations=subs,
        status=status,
        output=output,
        custom_status=custom_status,
        continue_as_new_input=continue_input,
        quiet_ids=quiet,
        failure_details=failure_details,
    )
