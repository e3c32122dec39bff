"""The task hub with the real durable SDK: each orchestration feature, end to end in-process."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import azure.durable_functions as df
import pytest

from devhost.contracts import (
    ActivityOutcome,
    InstanceExists,
    InstanceGone,
    InstanceQuery,
    InvalidOperation,
    RuntimeStatus,
)
from devhost.core import replay
from devhost.core.history import EventType
from devhost.hub.clock import ManualClock
from tests.integration.host.support import (
    StandInApp,
    event_types,
    run,
    running_hub,
    wait_finished,
    wait_status,
    wait_until,
)


def client_input(value: object) -> str:
    """ExecutionStarted.Input as the SDK client sends it (JSON text inside a JSON string)."""
    return json.dumps(json.dumps(value))


def hello(name: str) -> str:
    return f"Hello {name}!"


def double(n: int) -> int:
    return 2 * n


def sequence(ctx: df.DurableOrchestrationContext):
    first = yield ctx.call_activity("Hello", ctx.get_input())
    second = yield ctx.call_activity("hello", first)  # names are case-insensitive
    return [first, second]


def fan_out(ctx: df.DurableOrchestrationContext):
    results = yield ctx.task_all([ctx.call_activity("Double", n) for n in range(ctx.get_input())])
    return sum(results)


def wait_twice(ctx: df.DurableOrchestrationContext):
    first = yield ctx.wait_for_external_event("Approval")
    ctx.set_custom_status({"first": first})
    second = yield ctx.wait_for_external_event("Approval")
    return [first, second]


APP = StandInApp(
    {"Sequence": sequence, "FanOut": fan_out, "WaitTwice": wait_twice},
    {"Hello": hello, "Double": double},
)


def test_a_sequence_runs_one_episode_per_step(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path, APP) as hub:
            info = await hub.start_instance("sequence", "seq-1", client_input("Tokyo"))
            assert info.runtime_status is RuntimeStatus.PENDING
            assert info.name == "Sequence"
            done = await wait_finished(hub, "seq-1")
            assert done.runtime_status is RuntimeStatus.COMPLETED
            assert json.loads(done.output) == ["Hello Tokyo!", "Hello Hello Tokyo!!"]
            assert done.last_updated_time >= done.created_time
            assert hub.episode_counts["seq-1"] == 3
            assert hub.tracked_instances == 0  # nothing kept in memory for a finished one
            events = await hub.get_history("seq-1")
            assert event_types(events) == [
                EventType.ORCHESTRATOR_STARTED,
                EventType.EXECUTION_STARTED,
                EventType.TASK_SCHEDULED,
                EventType.ORCHESTRATOR_COMPLETED,
                EventType.ORCHESTRATOR_STARTED,
                EventType.TASK_COMPLETED,
                EventType.TASK_SCHEDULED,
                EventType.ORCHESTRATOR_COMPLETED,
                EventType.ORCHESTRATOR_STARTED,
                EventType.TASK_COMPLETED,
                EventType.EXECUTION_COMPLETED,
                EventType.ORCHESTRATOR_COMPLETED,
            ]
            assert events[5]["Result"] == '"Hello Tokyo!"'

    run(scenario())


def test_starting_a_running_instance_is_refused_and_a_finished_one_restarts(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path, APP) as hub:
            first = await hub.start_instance("WaitTwice", "again", None)
            with pytest.raises(InstanceExists):
                await hub.start_instance("WaitTwice", "again", None)
            await hub.terminate("again", "stop")
            await wait_finished(hub, "again")
            second = await hub.start_instance("Sequence", "again", client_input("x"))
            assert second.execution_id != first.execution_id
            done = await wait_finished(hub, "again")
            assert json.loads(done.output) == ["Hello x!", "Hello Hello x!!"]
            assert (await hub.get_history("again"))[1]["Name"] == "Sequence"

    run(scenario())


def test_a_thousand_wide_task_all_takes_two_replays(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path, APP, activities=16) as hub:
            await hub.start_instance("FanOut", "fan-1000", client_input(1000))
            done = await wait_finished(hub, "fan-1000", timeout=60)
            assert done.runtime_status is RuntimeStatus.COMPLETED, done.output
            assert json.loads(done.output) == 2 * sum(range(1000))
            # One replay schedules the 1,000 activities, one sees them all completed.
            assert hub.episode_counts["fan-1000"] == 2
            assert hub.metrics["activities_completed"] == 1000
            assert hub.store.count_work_items() == 0

    run(scenario())


def test_a_failed_activity_in_a_fan_out_wakes_the_orchestrator(tmp_path: Path) -> None:
    def fragile(n: int) -> int:
        if n == 3:
            raise ValueError("three is broken")
        return n

    def orchestrator(ctx: df.DurableOrchestrationContext):
        yield ctx.task_all([ctx.call_activity("Fragile", n) for n in range(50)])
        return "unreachable"

    app = StandInApp({"Fragile_Fan": orchestrator}, {"Fragile": fragile})

    async def scenario() -> None:
        async with running_hub(tmp_path, app) as hub:
            await hub.start_instance("Fragile_Fan", "fragile", None)
            done = await wait_finished(hub, "fragile")
            assert done.runtime_status is RuntimeStatus.FAILED
            message = json.loads(done.output)
            assert message.startswith("Orchestrator function 'Fragile_Fan' failed: ")
            assert "Activity function 'Fragile' failed:  ValueError: three is broken" in message
            assert hub.episode_counts["fragile"] <= 3

    run(scenario())


def test_activity_retries_wait_on_durable_timers(tmp_path: Path) -> None:
    attempts = Counter()

    def flaky(value: str) -> str:
        attempts["flaky"] += 1
        if attempts["flaky"] < 3:
            raise ConnectionError(f"attempt {attempts['flaky']}")
        return value.upper()

    def orchestrator(ctx: df.DurableOrchestrationContext):
        result = yield ctx.call_activity_with_retry("Flaky", df.RetryOptions(60_000, 3), "ok")
        return result

    app = StandInApp({"Retrying": orchestrator}, {"Flaky": flaky})
    clock = ManualClock()

    async def scenario() -> None:
        async with running_hub(tmp_path, app, clock=clock) as hub:
            await hub.start_instance("Retrying", "retry", None)
            for attempt in (1, 2):
                due = clock.now() + timedelta(minutes=1)
                await wait_until(
                    lambda due=due: clock.next_deadline() == due,
                    10,
                    f"the retry timer after attempt {attempt}",
                )
                assert attempts["flaky"] == attempt
                assert (await hub.get_instance("retry")).runtime_status is RuntimeStatus.RUNNING
                clock.advance(timedelta(minutes=1))
            done = await wait_finished(hub, "retry")
            assert done.runtime_status is RuntimeStatus.COMPLETED
            assert json.loads(done.output) == "OK"
            scheduled = [
                (e["EventType"], e["EventId"])
                for e in await hub.get_history("retry")
                if e["EventType"] in (EventType.TASK_SCHEDULED, EventType.TIMER_CREATED)
            ]
            assert scheduled == [
                (EventType.TASK_SCHEDULED, 0),
                (EventType.TIMER_CREATED, 1),
                (EventType.TASK_SCHEDULED, 2),
                (EventType.TIMER_CREATED, 3),
                (EventType.TASK_SCHEDULED, 4),
            ]

    run(scenario())


def test_a_durable_timer_fires_at_its_time_and_not_before(tmp_path: Path) -> None:
    def orchestrator(ctx: df.DurableOrchestrationContext):
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))
        return "woke"

    app = StandInApp({"Sleeper": orchestrator}, {})
    clock = ManualClock()

    async def scenario() -> None:
        async with running_hub(tmp_path, app, clock=clock) as hub:
            start = clock.now()
            await hub.start_instance("Sleeper", "sleeper", None)
            due = start + timedelta(hours=1)
            await wait_until(lambda: clock.next_deadline() == due, 10, "the timer waiter")
            clock.advance(timedelta(minutes=59))
            assert clock.next_deadline() == due  # still asleep, nothing was due
            assert (await hub.get_instance("sleeper")).runtime_status is RuntimeStatus.RUNNING
            clock.advance(timedelta(minutes=1))
            done = await wait_finished(hub, "sleeper")
            assert json.loads(done.output) == "woke"
            fired = [e for e in await hub.get_history("sleeper") if e["EventType"] == 11]
            assert [(e["TimerId"], e["FireAt"]) for e in fired] == [
                (0, due.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".") + "Z")
            ]

    run(scenario())


def test_a_ten_day_timer_is_split_by_the_sdk_and_each_part_wakes(tmp_path: Path) -> None:
    def orchestrator(ctx: df.DurableOrchestrationContext):
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(days=10))
        return "later"

    app = StandInApp({"LongSleeper": orchestrator}, {})
    clock = ManualClock()

    async def scenario() -> None:
        async with running_hub(tmp_path, app, clock=clock) as hub:
            start = clock.now()
            await hub.start_instance("LongSleeper", "long", None)
            # Three days at a time while more than six are left, then the rest in one go.
            for days in (3, 6, 10):
                due = start + timedelta(days=days)
                await wait_until(lambda due=due: clock.next_deadline() == due, 10, f"day {days}")
                clock.set(due)
            done = await wait_finished(hub, "long")
            assert json.loads(done.output) == "later"
            assert hub.episode_counts["long"] == 4


def test_external_events_are_buffered_and_delivered(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path, APP) as hub:
            await hub.start_instance("WaitTwice", "events", None)
            await hub.raise_event("events", "Approval", '"early"')  # before the first episode
            running = await wait_status(hub, "events", RuntimeStatus.RUNNING)
            assert json.loads(running.custom_status) == {"first": "early"}
            await hub.raise_event("events", "Approval", '{"by": "me"}')
            done = await wait_finished(hub, "events")
            assert json.loads(done.output) == ["early", {"by": "me"}]
            with pytest.raises(InstanceGone):
                await hub.raise_event("events", "Approval", None)

    run(scenario())


def test_terminate_ends_a_waiting_orchestration_without_replaying_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path, APP) as hub:
            await hub.start_instance("WaitTwice", "term", None)
            await wait_status(hub, "term", RuntimeStatus.RUNNING)
            await hub.terminate("term", "no longer needed")
            done = await wait_finished(hub, "term")
            assert done.runtime_status is RuntimeStatus.TERMINATED
            assert done.output == "no longer needed"
            assert hub.episode_counts["term"] == 1
            events = await hub.get_history("term")
            assert event_types(events)[-3:] == [
                EventType.EXECUTION_TERMINATED,
                EventType.EXECUTION_COMPLETED,
                EventType.ORCHESTRATOR_COMPLETED,
            ]
            with pytest.raises(InstanceGone):
                await hub.terminate("term", "again")

    run(scenario())


def test_suspend_holds_messages_until_resume(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path, APP) as hub:
            await hub.start_instance("WaitTwice", "pause", None)
            await hub.raise_event("pause", "Approval", '"one"')
            await wait_status(hub, "pause", RuntimeStatus.RUNNING)
            with pytest.raises(InvalidOperation):
                await hub.resume("pause", "not suspended")
            await hub.suspend("pause", "hold on")
            await wait_status(hub, "pause", RuntimeStatus.SUSPENDED)
            replays = hub.episode_counts["pause"]
            with pytest.raises(InvalidOperation):
                await hub.suspend("pause", "twice")
            await hub.raise_event("pause", "Approval", '"two"')  # accepted, held
            await hub.resume("pause", "go on")
            done = await wait_finished(hub, "pause")
            assert json.loads(done.output) == ["one", "two"]
            assert hub.episode_counts["pause"] == replays + 1  # suspending replays nothing
            kinds = event_types(await hub.get_history("pause"))
            suspended = kinds.index(EventType.EXECUTION_SUSPENDED)
            assert kinds[suspended - 1 : suspended + 6] == [
                EventType.ORCHESTRATOR_STARTED,
                EventType.EXECUTION_SUSPENDED,
                EventType.ORCHESTRATOR_COMPLETED,
                EventType.ORCHESTRATOR_STARTED,
                EventType.EXECUTION_RESUMED,
                EventType.EVENT_RAISED,
                EventType.EXECUTION_COMPLETED,
            ]

    run(scenario())


def test_sub_orchestrations_report_results_and_failures_to_the_parent(tmp_path: Path) -> None:
    def child(ctx: df.DurableOrchestrationContext):
        doubled = yield ctx.call_activity("Double", ctx.get_input())
        return doubled

    def failing_child(ctx: df.DurableOrchestrationContext):
        yield ctx.call_activity("Double", 1)
        raise ValueError("child broke")

    def parent(ctx: df.DurableOrchestrationContext):
        auto = yield ctx.call_sub_orchestrator("Child", 5)
        explicit = yield ctx.call_sub_orchestrator("Child", 7, "explicit-child")
        try:
            yield ctx.call_sub_orchestrator("FailingChild", None)
        except Exception as error:  # noqa: BLE001 - the SDK raises a plain Exception
            failure = str(error)
        return [auto, explicit, failure]

    app = StandInApp(
        {"Parent": parent, "Child": child, "FailingChild": failing_child}, {"Double": double}
    )

    async def scenario() -> None:
        async with running_hub(tmp_path, app) as hub:
            started = await hub.start_instance("Parent", "parent", None)
            done = await wait_finished(hub, "parent")
            assert done.runtime_status is RuntimeStatus.COMPLETED, done.output
            auto, explicit, failure = json.loads(done.output)
            assert (auto, explicit) == (10, 14)
            assert failure.startswith("Orchestrator function 'FailingChild' failed: child broke")
            child_info = await hub.get_instance("explicit-child")
            assert child_info.runtime_status is RuntimeStatus.COMPLETED
            assert child_info.parent_instance_id == "parent"
            assert json.loads(child_info.input) == "7"
            auto_info = await hub.get_instance(f"{started.execution_id}:0")
            assert auto_info is not None and json.loads(auto_info.output) == 10
            assert hub.tracked_instances == 0

    run(scenario())


def test_continue_as_new_starts_a_fresh_generation(tmp_path: Path) -> None:
    def counter(ctx: df.DurableOrchestrationContext):
        n = ctx.get_input()
        if n < 3:
            yield ctx.call_activity("Double", n)
            ctx.continue_as_new(n + 1)
            return None
        return n

    app = StandInApp({"Counter": counter}, {"Double": double})

    async def scenario() -> None:
        async with running_hub(tmp_path, app) as hub:
            first = await hub.start_instance("Counter", "counter", client_input(0))
            done = await wait_finished(hub, "counter")
            assert done.runtime_status is RuntimeStatus.COMPLETED, done.output
            assert json.loads(done.output) == 3
            assert done.execution_id != first.execution_id
            assert done.input == '"3"'
            events = await hub.get_history("counter")
            assert event_types(events) == [
                EventType.ORCHESTRATOR_STARTED,
                EventType.EXECUTION_STARTED,
                EventType.EXECUTION_COMPLETED,
                EventType.ORCHESTRATOR_COMPLETED,
            ]
            assert events[1]["OrchestrationInstance"]["ExecutionId"] == done.execution_id
            assert hub.episode_counts["counter"] == 7  # two per generation 0-2, one for 3

    run(scenario())


def test_wait_for_change_wakes_on_a_status_write(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path, APP) as hub:
            await hub.start_instance("WaitTwice", "watched", None)
            await wait_status(hub, "watched", RuntimeStatus.RUNNING)
            quiet = await hub.wait_for_change("watched", 0.05)
            assert quiet.runtime_status is RuntimeStatus.RUNNING
            await hub.terminate("watched", "bye")
            changed = await hub.wait_for_change("watched", 10)
            assert changed.runtime_status is RuntimeStatus.TERMINATED
            assert await hub.wait_for_change("nobody", 0.01) is None

    run(scenario())


def test_terminate_applies_to_a_suspended_instance(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path, APP) as hub:
            await hub.start_instance("WaitTwice", "stuck", None)
            await wait_status(hub, "stuck", RuntimeStatus.RUNNING)
            await hub.suspend("stuck", None)
            await wait_status(hub, "stuck", RuntimeStatus.SUSPENDED)
            await hub.raise_event("stuck", "Approval", '"held"')
            await hub.terminate("stuck", "cancelled while paused")
            done = await wait_finished(hub, "stuck")
            assert done.runtime_status is RuntimeStatus.TERMINATED
            assert done.output == "cancelled while paused"

    run(scenario())


def test_stop_leaves_unfinished_activities_to_the_next_start(tmp_path: Path) -> None:
    calls = Counter()
    never = None

    async def blocking(n: int) -> int:
        calls["blocking"] += 1
        await never.wait()  # only a stop ends this
        return n

    def orchestrator(ctx: df.DurableOrchestrationContext):
        values = yield ctx.task_all([ctx.call_activity("Slow", n) for n in range(3)])
        return sum(values)

    async def first_life() -> None:
        nonlocal never
        never = asyncio.Event()
        app = StandInApp({"Stopper": orchestrator}, {"Slow": blocking})
        async with running_hub(tmp_path, app) as hub:
            await hub.start_instance("Stopper", "stopper", None)
            await wait_until(lambda: calls["blocking"] == 3, 10, "three running activities")
            await hub.stop(grace=0.05)
            assert hub.store.count_work_items() == 3
            assert (await hub.get_instance("stopper")).runtime_status is RuntimeStatus.RUNNING

    async def second_life() -> None:
        app = StandInApp({"Stopper": orchestrator}, {"Slow": lambda n: n + 1})
        async with running_hub(tmp_path, app) as hub:
            done = await wait_finished(hub, "stopper")
            assert json.loads(done.output) == 6
            assert app.activity_calls["Slow"] == 3

    run(first_life())
    run(second_life())


def test_query_and_purge_through_the_hub(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path, APP) as hub:
            for n in range(3):
                await hub.start_instance("Sequence", f"done-{n}", client_input(n))
            await hub.start_instance("WaitTwice", "waiting", None)
            for n in range(3):
                await wait_finished(hub, f"done-{n}")
            page = await hub.query_instances(
                InstanceQuery(statuses=frozenset({RuntimeStatus.COMPLETED}), top=2)
            )
            assert len(page.instances) == 2 and page.continuation_token is not None
            rest = await hub.query_instances(
                InstanceQuery(
                    statuses=frozenset({RuntimeStatus.COMPLETED}),
                    continuation_token=page.continuation_token,
                )
            )
            names = {i.instance_id for i in [*page.instances, *rest.instances]}
            assert names == {"done-0", "done-1", "done-2"}
            assert await hub.purge("waiting") == 0  # not terminal: kept
            assert await hub.purge("done-0") == 1
            assert await hub.get_instance("done-0") is None
            assert await hub.get_history("done-0") == []
            assert await hub.purge_many(InstanceQuery(instance_id_prefix="done-")) == 2
            remaining = await hub.query_instances(InstanceQuery())
            assert [i.instance_id for i in remaining.instances] == ["waiting"]

    run(scenario())


def test_a_nearer_timer_wakes_the_waiter_early(tmp_path: Path) -> None:
    def sleep_for(ctx: df.DurableOrchestrationContext):
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(minutes=ctx.get_input()))
        return ctx.get_input()

    app = StandInApp({"SleepFor": sleep_for}, {})
    clock = ManualClock()

    async def scenario() -> None:
        async with running_hub(tmp_path, app, clock=clock) as hub:
            start = clock.now()
            await hub.start_instance("SleepFor", "hour", client_input(60))
            hour = start + timedelta(minutes=60)
            await wait_until(lambda: clock.next_deadline() == hour, 10, "the one-hour timer")
            await hub.start_instance("SleepFor", "minute", client_input(1))
            minute = start + timedelta(minutes=1)
            await wait_until(lambda: clock.next_deadline() == minute, 10, "the re-armed waiter")
            clock.set(minute)
            assert json.loads((await wait_finished(hub, "minute")).output) == 1
            assert (await hub.get_instance("hour")).runtime_status is RuntimeStatus.RUNNING
            clock.set(hour)
            assert json.loads((await wait_finished(hub, "hour")).output) == 60

    run(scenario())


class RetryableOnce(StandInApp):
    """Answers "the host is stopping, run me again" the first time an activity is invoked."""

    async def invoke_activity(self, name: str, input_json: str | None) -> ActivityOutcome:
        resolved = self.resolve_name(name) or name
        if not self.activity_calls[resolved]:
            self.activity_calls[resolved] += 1
            return ActivityOutcome(failed=True, retryable=True, reason="host is stopping")
        return await super().invoke_activity(name, input_json)


def test_an_activity_the_app_could_not_run_is_run_again_not_failed(tmp_path: Path) -> None:
    app = RetryableOnce({"Sequence": sequence}, {"Hello": hello})

    async def scenario() -> None:
        async with running_hub(tmp_path, app) as hub:
            await hub.start_instance("Sequence", "requeued", client_input("again"))
            done = await wait_finished(hub, "requeued")
            assert done.runtime_status is RuntimeStatus.COMPLETED, done.output
            assert json.loads(done.output) == ["Hello again!", "Hello Hello again!!"]
            assert hub.metrics["activities_requeued"] == 1
            failures = [e for e in await hub.get_history("requeued") if e["EventType"] == 6]
            assert failures == []

    run(scenario())


def test_a_replay_core_failure_fails_that_instance_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_decide = replay.decide

    def decide(history_events, outcome, **names):
        if names["orchestrator_name"] == "WaitTwice":
            raise RuntimeError("replay bug")
        return real_decide(history_events, outcome, **names)

    monkeypatch.setattr(replay, "decide", decide)

    async def scenario() -> None:
        async with running_hub(tmp_path, APP) as hub:
            await hub.start_instance("WaitTwice", "broken", None)
            await hub.start_instance("Sequence", "fine", client_input("y"))
            broken = await wait_finished(hub, "broken")
            assert broken.runtime_status is RuntimeStatus.FAILED
            assert json.loads(broken.output) == (
                "Orchestrator function 'WaitTwice' failed: RuntimeError: replay bug"
            )
            assert event_types(await hub.get_history("broken"))[-2:] == [
                EventType.EXECUTION_COMPLETED,
                EventType.ORCHESTRATOR_COMPLETED,
            ]
            fine = await wait_finished(hub, "fine")
            assert fine.runtime_status is RuntimeStatus.COMPLETED

    run(scenario())
