"""A stepping episode driver for the replay core's tests: real SDK orchestrators through
``decide``, one episode at a time, under the test's full control.

Tests of the host's behaviour use the real hub in memory (``devhost.testing.memory_hub``).
This driver stays for what the real hub does not offer on purpose: fixed ids, a clock that
steps 1 ms per episode, and completions released in batches the test chooses (golden
histories are recorded with it and must come out byte for byte the same).

It plays the part of the dispatcher and the task hub for tests, with plain Python functions as
activities and a fake clock:

    driver = Driver({"Hello": hello_orchestrator}, {"Say": lambda name: f"Hi {name}"})
    instance_id = driver.start("Hello", "Tokyo")
    driver.run()
    assert driver.instance(instance_id).output == '"Hi Tokyo"'

Each episode builds the payload with ``orchestration_payload``, calls the SDK's handle with the
JSON text, turns the answer (or the ``$OutOfProcData$`` tail of the exception) into an
``OrchestratorOutcome``, calls ``decide`` and appends the events. Activities, timers,
sub-orchestrations, external events and termination are then delivered as messages to the
instance's inbox, and the next episode takes every message waiting there, as the real
dispatcher does. Everything is deterministic: the clock only moves when the driver moves it.
"""

from __future__ import annotations

import json
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.durable_functions as df

from devhost.contracts import (
    ActivityWork,
    EpisodeDecision,
    OrchestratorOutcome,
    RuntimeStatus,
)
from devhost.core import history as h
from devhost.core.replay import decide
from devhost.testing import invoke_orchestrator

__all__ = [
    "DEFAULT_START",
    "Driver",
    "DriverError",
    "Instance",
    "encode_result",
]

DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)


class DriverError(AssertionError):
    """The driver was asked for something the scenario cannot do (a test mistake)."""


def encode_result(value: Any) -> str | None:
    """TaskCompleted.Result for an activity's return value (compact JSON, None for None)."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _decode_input(text: str | None) -> Any:
    # The worker decodes the activity input with json.loads and passes the raw text when it
    # is not JSON.
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass
class Instance:
    """One orchestration instance as the driver keeps it."""

    instance_id: str
    name: str
    execution_id: str
    history: list[dict] = field(default_factory=list)
    inbox: list[dict] = field(default_factory=list)
    status: RuntimeStatus = RuntimeStatus.PENDING
    output: str | None = None
    custom_status: str | None = None
    parent: tuple[str, int] | None = None  # (parent instance id, task id)
    episodes: int = 0
    generations: int = 1
    decisions: list[EpisodeDecision] = field(default_factory=list)
    outcomes: list[OrchestratorOutcome] = field(default_factory=list)
    quiet: frozenset[int] = frozenset()

    @property
    def output_value(self) -> Any:
        """The output as a Python value (the failure message for Failed)."""
        return json.loads(self.output) if self.output is not None else None

    def events(self, *event_types: int) -> list[dict]:
        """Stored events, optionally only those of the given EventTypes."""
        if not event_types:
            return list(self.history)
        wanted = {int(t) for t in event_types}
        return [e for e in self.history if e["EventType"] in wanted]


@dataclass
class _PendingActivity:
    instance_id: str
    work: ActivityWork


class Driver:
    """Runs orchestrations episode by episode against a fake clock."""

    def __init__(
        self,
        orchestrators: Mapping[str, Callable[..., Any]],
        activities: Mapping[str, Callable[..., Any] | None] | None = None,
        *,
        start: datetime = DEFAULT_START,
        step: timedelta = timedelta(milliseconds=1),
        hold_quiet: bool = False,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        """``orchestrators`` maps names to generator functions (wrapped with the real
        ``Orchestrator.create``) or to handles already wrapped; ``activities`` maps names to
        plain functions, or to None for a registered activity the test completes by hand
        (``complete_activity``/``fail_activity``). ``step`` is how far the clock
        moves after each episode and activity, so timestamps stay distinct. With
        ``hold_quiet`` the driver keeps completions of the decision's quiet ids in the inbox,
        as the dispatcher may, until one fails, another event arrives or all have completed.
        ``new_id`` makes instance and execution ids (default: random hex GUIDs).
        """
        self.handles = {name: self._wrap(fn) for name, fn in orchestrators.items()}
        self.activities = dict(activities or {})
        self.now = start
        self.step = step
        self.hold_quiet = hold_quiet
        self.new_id = new_id or (lambda: uuid.uuid4().hex)
        self.instances: dict[str, Instance] = {}
        self.pending: list[_PendingActivity] = []
        self.timers: list[tuple[datetime, str, int]] = []
        self.activity_calls: list[tuple[str, Any]] = []

    @staticmethod
    def _wrap(fn: Callable[..., Any]) -> Callable[[str], str]:
        if getattr(fn, "orchestrator_function", None) is not None:
            return fn
        return df.Orchestrator.create(fn)

    # -- looking up ------------------------------------------------------------------------

    def instance(self, instance_id: str) -> Instance:
        try:
            return self.instances[instance_id]
        except KeyError:
            raise DriverError(f"no instance {instance_id!r}") from None

    def _resolve(self, names: Iterable[str], name: str) -> str | None:
        lowered = name.lower()
        return next((n for n in names if n.lower() == lowered), None)

    # -- starting and sending messages -----------------------------------------------------

    def start(
        self,
        name: str,
        input: Any = None,
        *,
        instance_id: str | None = None,
        raw_input: str | None = None,
    ) -> str:
        """Create an instance as the client's ``start_new`` does (input double-encoded)."""
        instance_id = instance_id or self.new_id()
        stored = raw_input
        if stored is None and input is not None:
            stored = json.dumps(json.dumps(input))
        self._create(instance_id, name, stored, parent=None)
        return instance_id

    def _create(
        self, instance_id: str, name: str, stored_input: str | None, parent: dict | None
    ) -> Instance:
        resolved = self._resolve(self.handles, name)
        if resolved is None:
            raise DriverError(f"no orchestrator named {name!r}")
        execution_id = self.new_id()
        instance = Instance(instance_id=instance_id, name=resolved, execution_id=execution_id)
        instance.inbox.append(
            h.execution_started(
                self.now,
                instance_id=instance_id,
                execution_id=execution_id,
                name=resolved,
                input=stored_input,
                parent=parent,
            )
        )
        self.instances[instance_id] = instance
        return instance

    def raise_event(
        self, instance_id: str, name: str, data: Any = None, *, raw_input: str | None = None
    ) -> None:
        """Raise an event as the SDK client does: it sends ``json.dumps(data)`` as a JSON string
        and the host stores that literal, so the orchestrator receives the JSON text.
        ``raw_input`` stores an EventRaised.Input as given (the webhook's raw JSON body)."""
        stored = raw_input
        if stored is None and data is not None:
            stored = json.dumps(json.dumps(data))
        self.instance(instance_id).inbox.append(h.event_raised(self.now, name, stored))

    def terminate(self, instance_id: str, reason: str | None = None) -> None:
        self.instance(instance_id).inbox.append(h.execution_terminated(self.now, reason))

    def deliver(self, instance_id: str, event: dict) -> None:
        """Put any prepared event in the instance's inbox."""
        self.instance(instance_id).inbox.append(event)

    # -- episodes --------------------------------------------------------------------------

    def invoke(self, instance: Instance, history: list[dict]) -> OrchestratorOutcome:
        return invoke_orchestrator(self.handles[instance.name], instance.instance_id, history)

    def _ready_events(self, instance: Instance) -> list[dict]:
        """The inbox events the next episode takes (quiet completions may be held)."""
        inbox = instance.inbox
        if not self.hold_quiet or not instance.quiet:
            return inbox
        completions = {
            int(h.EventType.TASK_COMPLETED),
            int(h.EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED),
        }
        done = set()
        for event in inbox:
            if event["EventType"] in completions and event["TaskScheduledId"] in instance.quiet:
                done.add(event["TaskScheduledId"])
            else:
                return inbox  # anything else wakes the instance
        return inbox if done >= instance.quiet else []

    def has_work(self, instance: Instance) -> bool:
        return (
            not instance.status.is_terminal
            and instance.status != RuntimeStatus.CONTINUED_AS_NEW
            and bool(self._ready_events(instance))
        )

    def run_episode(self, instance_id: str) -> EpisodeDecision:
        """Run one episode of the instance with every message in its inbox."""
        instance = self.instance(instance_id)
        new_events = list(instance.inbox)
        instance.inbox.clear()
        history = [*instance.history, h.orchestrator_started(self.now), *new_events]
        outcome = self.invoke(instance, history)
        decision = decide(
            history,
            outcome,
            orchestrator_name=instance.name,
            execution_id=instance.execution_id,
            activity_names=frozenset(self.activities),
            orchestrator_names=frozenset(self.handles),
        )
        instance.episodes += 1
        instance.outcomes.append(outcome)
        instance.decisions.append(decision)
        instance.history = [*history, *decision.new_events]
        instance.status = decision.status
        instance.custom_status = decision.custom_status
        instance.quiet = decision.quiet_ids
        if decision.status.is_terminal:
            instance.output = decision.output
        for work in decision.activities:
            self.pending.append(_PendingActivity(instance_id, work))
        for timer in decision.timers:
            self.timers.append((timer.fire_at, instance_id, timer.timer_id))
        for sub in decision.sub_orchestrations:
            parent = h.parent_instance(
                name=instance.name,
                instance_id=instance_id,
                execution_id=instance.execution_id,
                task_schedule_id=sub.task_id,
            )
            child = self._create(sub.instance_id, sub.name, sub.input, parent=parent)
            child.parent = (instance_id, sub.task_id)
        self.now += self.step
        if decision.status == RuntimeStatus.CONTINUED_AS_NEW:
            self._continue_as_new(instance, decision)
        elif decision.status.is_terminal:
            self._notify_parent(instance, decision)
        return decision

    def _continue_as_new(self, instance: Instance, decision: EpisodeDecision) -> None:
        instance.execution_id = self.new_id()
        instance.generations += 1
        parent = h.find_execution_started(instance.history)
        instance.history = []
        instance.status = RuntimeStatus.RUNNING
        instance.inbox.insert(
            0,
            h.execution_started(
                self.now,
                instance_id=instance.instance_id,
                execution_id=instance.execution_id,
                name=instance.name,
                input=decision.continue_as_new_input,
                parent=parent.get("ParentInstance") if parent else None,
            ),
        )

    def _notify_parent(self, instance: Instance, decision: EpisodeDecision) -> None:
        if instance.parent is None:
            return
        parent_id, task_id = instance.parent
        if decision.status == RuntimeStatus.COMPLETED:
            event = h.sub_orchestration_completed(self.now, task_id, decision.output)
        else:
            reason = (
                json.loads(decision.output)
                if decision.status == RuntimeStatus.FAILED and decision.output is not None
                else decision.output
            )
            event = h.sub_orchestration_failed(self.now, task_id, reason, None)
        self.instance(parent_id).inbox.append(event)

    # -- activities and timers --------------------------------------------------------------

    def complete_activity(self, instance_id: str, task_id: int, result: Any = None) -> None:
        """Complete a scheduled activity by hand with ``result`` (a Python value)."""
        self._take(instance_id, task_id)
        self.deliver(instance_id, h.task_completed(self.now, task_id, encode_result(result)))

    def fail_activity(
        self, instance_id: str, task_id: int, reason: str, details: str | None = None
    ) -> None:
        self._take(instance_id, task_id)
        self.deliver(instance_id, h.task_failed(self.now, task_id, reason, details))

    def _take(self, instance_id: str, task_id: int) -> _PendingActivity:
        for index, item in enumerate(self.pending):
            if item.instance_id == instance_id and item.work.task_id == task_id:
                return self.pending.pop(index)
        raise DriverError(f"no pending activity {task_id} for {instance_id}")

    def run_activity(self, item: _PendingActivity) -> None:
        """Run one activity with its Python function and deliver the outcome."""
        name = self._resolve(self.activities, item.work.name)
        function = self.activities.get(name) if name is not None else None
        if name is None or function is None:
            raise DriverError(f"no activity function {item.work.name!r} to run")
        value = _decode_input(item.work.input)
        self.activity_calls.append((name, value))
        try:
            result = function(value)
        except Exception as exc:
            reason = f"Activity function '{name}' failed:  {type(exc).__name__}: {exc}"
            # Kept free of file paths so recorded histories do not depend on the machine.
            details = "".join(traceback.format_exception_only(exc)).strip()
            event = h.task_failed(self.now, item.work.task_id, reason, details)
        else:
            event = h.task_completed(self.now, item.work.task_id, encode_result(result))
        self.deliver(item.instance_id, event)
        self.now += self.step

    def _runnable(self, name: str) -> bool:
        resolved = self._resolve(self.activities, name)
        return resolved is not None and self.activities[resolved] is not None

    def run_activities(self, limit: int | None = None) -> int:
        """Run pending activities in scheduling order; returns how many ran."""
        count = 0
        for item in [p for p in self.pending if self._runnable(p.work.name)]:
            if limit is not None and count >= limit:
                break
            self.pending.remove(item)
            self.run_activity(item)
            count += 1
        return count

    def advance(self, delta: timedelta) -> None:
        self.advance_to(self.now + delta)

    def advance_to(self, when: datetime) -> None:
        """Move the clock and fire every timer that is due."""
        self.now = max(self.now, when)
        due = sorted(t for t in self.timers if t[0] <= self.now)
        self.timers = [t for t in self.timers if t[0] > self.now]
        for fire_at, instance_id, timer_id in due:
            instance = self.instances[instance_id]
            if not instance.status.is_terminal:
                instance.inbox.append(h.timer_fired(self.now, timer_id, fire_at))

    # -- running to a standstill -------------------------------------------------------------

    def run(
        self,
        *,
        max_steps: int = 10_000,
        activities_per_step: int | None = None,
        fire_timers: bool = True,
    ) -> None:
        """Run episodes, activities and timers until nothing is left to do.

        Each step runs an episode for every instance with messages, then the activities
        (all of them, or ``activities_per_step``), and only when neither happened moves the
        clock to the next timer (unless ``fire_timers`` is False). Activities whose function
        was not given are left pending, for the test to complete or fail by hand.
        """
        for _ in range(max_steps):
            ran = False
            for instance in list(self.instances.values()):
                if self.has_work(instance):
                    self.run_episode(instance.instance_id)
                    ran = True
            runnable = [p for p in self.pending if self._runnable(p.work.name)]
            if runnable:
                limit = activities_per_step or len(runnable)
                for item in runnable[:limit]:
                    self.pending.remove(item)
                    self.run_activity(item)
                ran = True
            if ran:
                continue
            if self.timers and fire_timers:
                self.advance_to(min(t[0] for t in self.timers))
                continue
            return
        raise DriverError(f"the scenario did not settle within {max_steps} steps")
