"""The replay core driven by the real durable SDK, one feature at a time."""

from __future__ import annotations

import json
from datetime import timedelta

import azure.durable_functions as df
import pytest

from devhost.contracts import RuntimeStatus
from devhost.core import history as h
from tests.support.driver import DEFAULT_START, Driver

ET = h.EventType

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def ids_and_types(instance, *types):
    return [(ET(e["EventType"]).name, e["EventId"]) for e in instance.events(*types)]


def say(name):
    return f"Hello {name}!"


# -- activity chain ---------------------------------------------------------------------


def chain(ctx):
    cities = ctx.get_input()
    results = []
    for city in cities:
        results.append((yield ctx.call_activity("Say", city)))
    return results


def test_activity_chain_one_activity_per_episode_ids_in_order():
    driver = Driver({"Chain": chain}, {"Say": say})
    instance_id = driver.start("Chain", ["Tokyo", "Seattle", "London"])
    driver.run()

    instance = driver.instance(instance_id)
    assert instance.status == RuntimeStatus.COMPLETED
    assert instance.output_value == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    assert instance.episodes == 4
    assert ids_and_types(instance, ET.TASK_SCHEDULED, ET.EXECUTION_COMPLETED) == [
        ("TASK_SCHEDULED", 0),
        ("TASK_SCHEDULED", 1),
        ("TASK_SCHEDULED", 2),
        ("EXECUTION_COMPLETED", 3),
    ]
    # Activities receive the decoded action input; history keeps no inputs by default.
    assert driver.activity_calls == [("Say", "Tokyo"), ("Say", "Seattle"), ("Say", "London")]
    assert all(e["Input"] is None for e in instance.events(ET.TASK_SCHEDULED))
    first = instance.decisions[0]
    assert [(w.task_id, w.name, w.input) for w in first.activities] == [(0, "Say", '"Tokyo"')]
    completed = instance.events(ET.EXECUTION_COMPLETED)[0]
    assert completed["OrchestrationStatus"] == 1
    assert completed["Result"] == '["Hello Tokyo!","Hello Seattle!","Hello London!"]'


def test_every_episode_ends_with_orchestrator_completed_and_stored_events_are_unplayed():
    driver = Driver({"Chain": chain}, {"Say": say})
    instance = driver.instance(driver.start("Chain", ["a"]))
    driver.run()
    types = [e["EventType"] for e in instance.history]
    assert types == [12, 0, 4, 13, 12, 5, 1, 13]
    assert not any(e["IsPlayed"] for e in instance.history)


# -- fan-out / fan-in ---------------------------------------------------------------------


def fan_out(ctx):
    count = ctx.get_input()
    tasks = [ctx.call_activity("Double", i) for i in range(count)]
    results = yield ctx.task_all(tasks)
    return sum(results)


def test_task_all_schedules_everything_in_one_episode_with_consecutive_ids():
    driver = Driver({"Fan": fan_out}, {"Double": lambda x: 2 * x})
    instance = driver.instance(driver.start("Fan", 50))
    driver.run_episode(instance.instance_id)
    first = instance.decisions[0]
    assert [w.task_id for w in first.activities] == list(range(50))
    assert first.quiet_ids == frozenset(range(50))
    driver.run()
    assert instance.status == RuntimeStatus.COMPLETED
    assert instance.output_value == sum(2 * i for i in range(50))
    assert instance.events(ET.EXECUTION_COMPLETED)[0]["EventId"] == 50


def test_task_all_completions_in_any_grouping_give_the_same_result():
    driver = Driver({"Fan": fan_out}, {"Double": lambda x: 2 * x})
    instance = driver.instance(driver.start("Fan", 7))
    driver.run(activities_per_step=3)
    assert instance.status == RuntimeStatus.COMPLETED
    assert instance.output_value == 42
    assert instance.episodes == 1 + 3  # 3 + 3 + 1 completions


def test_holding_quiet_completions_keeps_a_fan_out_to_two_episodes():
    driver = Driver({"Fan": fan_out}, {"Double": lambda x: 2 * x}, hold_quiet=True)
    instance = driver.instance(driver.start("Fan", 200))
    driver.run(activities_per_step=1)
    assert instance.status == RuntimeStatus.COMPLETED
    assert instance.output_value == sum(2 * i for i in range(200))
    assert instance.episodes == 2


def fan_out_catching(ctx):
    try:
        yield ctx.task_all([ctx.call_activity("Fail", 1), ctx.call_activity("Slow", 2)])
    except Exception:
        result = yield ctx.call_activity("Say", "recovered")
        return result
    return "no failure"


def test_failed_task_all_waits_for_every_child_before_the_next_action():
    def fail(_):
        raise RuntimeError("nope")

    driver = Driver({"O": fan_out_catching}, {"Fail": fail, "Slow": None, "Say": say})
    instance = driver.instance(driver.start("O"))
    driver.run()  # "Slow" is completed by hand below
    assert instance.status == RuntimeStatus.RUNNING
    # The SDK already asks for the next activity, the host's WhenAll still waits for "Slow".
    assert ids_and_types(instance, ET.TASK_SCHEDULED) == [
        ("TASK_SCHEDULED", 0),
        ("TASK_SCHEDULED", 1),
    ]
    assert instance.quiet == frozenset({1})
    driver.complete_activity(instance.instance_id, 1, "slow done")
    driver.run()
    assert ids_and_types(instance, ET.TASK_SCHEDULED)[-1] == ("TASK_SCHEDULED", 2)
    assert instance.status == RuntimeStatus.COMPLETED
    assert instance.output_value == "Hello recovered!"


# -- task_any -------------------------------------------------------------------------------


def approval(ctx):
    timer = ctx.create_timer(ctx.current_utc_datetime + timedelta(minutes=5))
    event = ctx.wait_for_external_event("Approval")
    winner = yield ctx.task_any([event, timer])
    if winner == event:
        timer.cancel()
        return f"approved {event.result}"
    return "timed out"


def test_task_any_event_wins_and_the_cancelled_timer_does_not_hold_completion():
    driver = Driver({"Approval": approval})
    instance = driver.instance(driver.start("Approval"))
    driver.run(fire_timers=False)
    assert [t.timer_id for t in instance.decisions[0].timers] == [0]
    driver.raise_event(instance.instance_id, "Approval", True)
    driver.run(fire_timers=False)
    assert instance.status == RuntimeStatus.COMPLETED
    assert instance.output_value == "approved true"
    assert ids_and_types(instance, ET.TIMER_CREATED, ET.EXECUTION_COMPLETED) == [
        ("TIMER_CREATED", 0),
        ("EXECUTION_COMPLETED", 1),
    ]


def test_task_any_timer_wins_when_no_event_comes():
    driver = Driver({"Approval": approval})
    instance = driver.instance(driver.start("Approval"))
    driver.run()
    assert instance.status == RuntimeStatus.COMPLETED
    assert instance.output_value == "timed out"
    fired = instance.events(ET.TIMER_FIRED)[0]
    assert h.parse_timestamp(fired["FireAt"]) == DEFAULT_START + timedelta(minutes=5)


def forgetful(ctx):
    timer = ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))
    event = ctx.wait_for_external_event("Go")
    yield ctx.task_any([event, timer])
    return "done"


def test_an_uncancelled_timer_keeps_the_orchestration_running_until_it_fires():
    driver = Driver({"Forgetful": forgetful})
    instance = driver.instance(driver.start("Forgetful"))
    driver.run(fire_timers=False)
    driver.raise_event(instance.instance_id, "Go")
    driver.run(fire_timers=False)
    assert instance.status == RuntimeStatus.RUNNING
    assert instance.outcomes[-1].state["isDone"] is True
    driver.run()
    assert instance.status == RuntimeStatus.COMPLETED
    assert instance.output_value == "done"


def race_then_next(ctx):
    first = yield ctx.task_any([ctx.call_activity("Say", "a"), ctx.call_activity("Say", "b")])
    last = yield ctx.call_activity("Say", "c")
    return [first.result, last]


def test_task_any_then_next_activity_takes_the_following_id():
    driver = Driver({"Race": race_then_next}, {"Say": say})
    instance = driver.instance(driver.start("Race"))
    driver.run_episode(instance.instance_id)
    assert instance.quiet == frozenset()  # any success finishes the WhenAny
    driver.run_activities(limit=1)
    decision = driver.run_episode(instance.instance_id)
    assert [w.task_id for w in decision.activities] == [2]
    driver.run()
    assert instance.output_value == ["Hello a!", "Hello c!"]


# -- retries ----------------------------------------------------------------------------------


def retrying(ctx):
    return (yield ctx.call_activity_with_retry("Flaky", df.RetryOptions(1000, 3), "x"))


def flaky_function(failures: int):
    calls = {"n": 0}

    def flaky(value):
        calls["n"] += 1
        if calls["n"] <= failures:
            raise ValueError(f"attempt {calls['n']} failed")
        return f"ok after {calls['n']}"

    return flaky


def timer_fire_times(instance):
    return [h.parse_timestamp(e["FireAt"]) for e in instance.events(ET.TIMER_CREATED)]


def failure_times(instance):
    return [h.parse_timestamp(e["Timestamp"]) for e in instance.events(ET.ORCHESTRATOR_STARTED)]


def test_retry_all_attempts_fail_ids_and_timers_as_dtfx():
    driver = Driver({"Retry": retrying}, {"Flaky": flaky_function(99)})
    instance = driver.instance(driver.start("Retry"))
    driver.run()
    assert ids_and_types(instance, ET.TASK_SCHEDULED, ET.TIMER_CREATED, ET.EXECUTION_COMPLETED) == [
        ("TASK_SCHEDULED", 0),
        ("TIMER_CREATED", 1),
        ("TASK_SCHEDULED", 2),
        ("TIMER_CREATED", 3),
        ("TASK_SCHEDULED", 4),
        ("TIMER_CREATED", 5),
        ("EXECUTION_COMPLETED", 6),
    ]
    assert [e["TaskScheduledId"] for e in instance.events(ET.TASK_FAILED)] == [0, 2, 4]
    assert [e["TimerId"] for e in instance.events(ET.TIMER_FIRED)] == [1, 3, 5]
    # Each delay counts from the episode that saw the failure; the last timer is the
    # zero-delay one DTFx keeps for compatibility.
    starts = failure_times(instance)
    fires = timer_fire_times(instance)
    assert fires[0] == starts[1] + timedelta(seconds=1)
    assert fires[1] == starts[3] + timedelta(seconds=1)
    assert fires[2] == starts[5]
    assert instance.status == RuntimeStatus.FAILED
    message = instance.output_value
    assert message.startswith(
        "Orchestrator function 'Retry' failed: Activity function 'Flaky' failed:  "
        "ValueError: attempt 3 failed \n "
    )
    assert instance.events(ET.EXECUTION_COMPLETED)[0]["Result"] == message


def test_retry_second_attempt_succeeds():
    driver = Driver({"Retry": retrying}, {"Flaky": flaky_function(1)})
    instance = driver.instance(driver.start("Retry"))
    driver.run()
    assert instance.status == RuntimeStatus.COMPLETED
    assert instance.output_value == "ok after 2"
    assert ids_and_types(instance, ET.TASK_SCHEDULED, ET.TIMER_CREATED, ET.EXECUTION_COMPLETED) == [
        ("TASK_SCHEDULED", 0),
        ("TIMER_CREATED", 1),
        ("TASK_SCHEDULED", 2),
        ("EXECUTION_COMPLETED", 3),
    ]


def retry_fan_out(ctx):
    options = df.RetryOptions(500, 2)
    tasks = [ctx.call_activity_with_retry("Flaky", options, i) for i in range(3)]
    return (yield ctx.task_all(tasks))


def test_retry_children_of_a_fan_out_are_quiet_until_one_fails():
    outcomes = {0: 0, 1: 1, 2: 0}  # how many times each input fails
    seen: dict[int, int] = {}

    def flaky(i):
        seen[i] = seen.get(i, 0) + 1
        if seen[i] <= outcomes[i]:
            raise OSError(f"transient {i}")
        return i * 10

    driver = Driver({"RetryFan": retry_fan_out}, {"Flaky": flaky})
    instance = driver.instance(driver.start("RetryFan"))
    driver.run_episode(instance.instance_id)
    assert instance.quiet == frozenset({0, 1, 2})
    driver.run_activities()
    driver.run_episode(instance.instance_id)
    # Input 1 failed: its retry now waits on timer 3, which is not quiet.
    assert [(t.timer_id) for t in instance.decisions[-1].timers] == [3]
    assert instance.quiet == frozenset()
    driver.run()
    assert instance.status == RuntimeStatus.COMPLETED
    assert instance.output_value == [0, 10, 20]
    assert instance.events(ET.TASK_SCHEDULED)[-1]["EventId"] == 4


# -- sub-orchestrations ------------------------------------------------------------------------


def child(ctx):
    value = ctx.get_input()
    if value == "bad":
        raise ValueError("child refused")
    return {"child_of": ctx.parent_instance_id, "value": value}


def parent(ctx):
    auto = yield ctx.call_sub_orchestrator("Child", "one")
    explicit = yield ctx.call_sub_orchestrator("Child", "two", "child-two")
    try:
        yield ctx.call_sub_orchestrator("Child", "bad")
    except Exception as exc:
        return [auto, explicit, str(exc)]
    return [auto, explicit, None]


def test_sub_orchestrations_auto_and_explicit_ids_and_child_failure():
    driver = Driver({"Parent": parent, "Child": child})
    parent_id = driver.start("Parent", instance_id="parent-1")
    driver.run()
    instance = driver.instance(parent_id)
    assert instance.status == RuntimeStatus.COMPLETED

    created = instance.events(ET.SUB_ORCHESTRATION_INSTANCE_CREATED)
    first_execution = instance.history[1]["OrchestrationInstance"]["ExecutionId"]
    assert [(e["EventId"], e["InstanceId"]) for e in created] == [
        (0, f"{first_execution}:0"),
        (1, "child-two"),
        (2, f"{first_execution}:2"),
    ]
    auto, explicit, failure = instance.output_value
    assert auto == {"child_of": "parent-1", "value": "one"}
    assert explicit == {"child_of": "parent-1", "value": "two"}
    # The child raised before its first yield: no orchestrator state, the exception text.
    assert failure == "Orchestrator function 'Child' failed: ValueError: child refused \n None"

    child_instance = driver.instance("child-two")
    started = child_instance.history[1]
    assert started["Input"] == json.dumps('"two"')  # the input text, serialised again
    assert started["ParentInstance"]["OrchestrationInstance"]["InstanceId"] == "parent-1"
    assert started["ParentInstance"]["TaskScheduleId"] == 1
    failed = instance.events(ET.SUB_ORCHESTRATION_INSTANCE_FAILED)[0]
    assert failed["TaskScheduledId"] == 2
    assert failed["Reason"] == driver.instance(f"{first_execution}:2").output_value


def sub_with_retry(ctx):
    options = df.RetryOptions(1000, 2)
    return (yield ctx.call_sub_orchestrator_with_retry("Child", options, "bad", "fixed-id"))


def test_sub_orchestration_retry_reuses_the_explicit_instance_id():
    driver = Driver({"Outer": sub_with_retry, "Child": child})
    instance = driver.instance(driver.start("Outer"))
    driver.run()
    assert instance.status == RuntimeStatus.FAILED
    created = instance.events(ET.SUB_ORCHESTRATION_INSTANCE_CREATED)
    assert [(e["EventId"], e["InstanceId"]) for e in created] == [(0, "fixed-id"), (2, "fixed-id")]
    assert [e["EventId"] for e in instance.events(ET.TIMER_CREATED)] == [1, 3]


# -- timers -----------------------------------------------------------------------------------


def sleeper(ctx):
    yield ctx.create_timer(ctx.current_utc_datetime + ctx.get_input() * timedelta(days=1))
    return ctx.current_utc_datetime.isoformat()


def test_short_timer_fires_at_its_time():
    driver = Driver({"Sleep": sleeper})
    instance = driver.instance(driver.start("Sleep", 2))
    driver.run()
    assert instance.output_value == (DEFAULT_START + timedelta(days=2)).isoformat()
    assert ids_and_types(instance, ET.TIMER_CREATED, ET.TIMER_FIRED) == [
        ("TIMER_CREATED", 0),
        ("TIMER_FIRED", -1),
    ]


def test_ten_day_timer_is_split_by_the_sdk_into_three_day_timers():
    driver = Driver({"Sleep": sleeper})
    instance = driver.instance(driver.start("Sleep", 10))
    driver.run()
    assert instance.status == RuntimeStatus.COMPLETED
    assert timer_fire_times(instance) == [
        DEFAULT_START + timedelta(days=3),
        DEFAULT_START + timedelta(days=6),
        DEFAULT_START + timedelta(days=10),
    ]
    assert [e["EventId"] for e in instance.events(ET.TIMER_CREATED)] == [0, 1, 2]
    assert instance.output_value == (DEFAULT_START + timedelta(days=10)).isoformat()
    assert instance.episodes == 4


# -- external events ---------------------------------------------------------------------------


def late_listener(ctx):
    first = yield ctx.call_activity("Say", "before")
    value = yield ctx.wait_for_external_event("Data")
    return [first, value]


def test_event_raised_before_the_wait_is_buffered():
    driver = Driver({"Late": late_listener}, {"Say": say})
    instance = driver.instance(driver.start("Late"))
    driver.run_episode(instance.instance_id)
    driver.raise_event(instance.instance_id, "Data", {"ok": True})
    driver.run_episode(instance.instance_id)
    assert instance.status == RuntimeStatus.RUNNING
    driver.run()
    assert instance.status == RuntimeStatus.COMPLETED
    # The SDK client double-encodes: the orchestrator receives the JSON text.
    assert instance.output_value == ["Hello before!", '{"ok": true}']


def two_waiters(ctx):
    first = ctx.wait_for_external_event("E")
    second = ctx.wait_for_external_event("E")
    return (yield ctx.task_all([first, second]))


def test_same_name_waiters_are_served_last_in_first_out():
    driver = Driver({"Two": two_waiters})
    instance = driver.instance(driver.start("Two"))
    driver.run()
    driver.raise_event(instance.instance_id, "E", 1)
    driver.raise_event(instance.instance_id, "E", 2)
    driver.run()
    assert instance.status == RuntimeStatus.COMPLETED
    assert instance.output_value == ["2", "1"]


# -- continue-as-new, custom status, failures ---------------------------------------------------


def counter(ctx):
    value = ctx.get_input()
    ctx.set_custom_status({"value": value})
    yield ctx.call_activity("Say", value)
    if value < 3:
        ctx.continue_as_new(value + 1)
        return None
    return value


def test_continue_as_new_starts_a_new_generation_with_the_new_input():
    driver = Driver({"Counter": counter}, {"Say": say})
    instance = driver.instance(driver.start("Counter", 1))
    driver.run_episode(instance.instance_id)
    assert instance.decisions[0].custom_status == '{"value":1}'
    driver.run_activities()
    decision = driver.run_episode(instance.instance_id)
    assert decision.status == RuntimeStatus.CONTINUED_AS_NEW
    assert decision.continue_as_new_input == json.dumps("2")
    assert [(e["EventType"], e["EventId"], e["Result"]) for e in decision.new_events[:1]] == [
        (16, 1, json.dumps("2"))
    ]
    driver.run()
    assert instance.status == RuntimeStatus.COMPLETED
    assert instance.output_value == 3
    assert instance.generations == 3
    assert instance.custom_status == '{"value":3}'
    assert driver.activity_calls == [("Say", 1), ("Say", 2), ("Say", 3)]
    assert [e["EventType"] for e in instance.history[:2]] == [12, 0]


def status_setter(ctx):
    ctx.set_custom_status("working")
    yield ctx.call_activity("Say", "x")
    ctx.set_custom_status(None)
    yield ctx.call_activity("Say", "y")
    return "done"


def test_custom_status_follows_each_episode_and_can_be_cleared():
    driver = Driver({"Status": status_setter}, {"Say": say})
    instance = driver.instance(driver.start("Status"))
    driver.run()
    assert [d.custom_status for d in instance.decisions] == ['"working"', None, None]


def broken(ctx):
    yield ctx.call_activity("Say", "x")
    raise ValueError("bad thing")


def test_orchestrator_exception_fails_with_the_host_wording():
    driver = Driver({"Broken": broken}, {"Say": say})
    instance = driver.instance(driver.start("Broken"))
    driver.run()
    assert instance.status == RuntimeStatus.FAILED
    assert instance.output == json.dumps("Orchestrator function 'Broken' failed: bad thing")
    completed = instance.events(ET.EXECUTION_COMPLETED)[0]
    assert (completed["EventId"], completed["OrchestrationStatus"]) == (1, 3)
    assert completed["Result"] == "Orchestrator function 'Broken' failed: bad thing"


def not_a_generator(ctx):
    raise KeyError("no generator here")


def test_exception_without_orchestrator_state_fails_with_the_exception_text():
    driver = Driver({"Plain": not_a_generator})
    instance = driver.instance(driver.start("Plain"))
    driver.run()
    assert instance.status == RuntimeStatus.FAILED
    assert (
        instance.output_value
        == "Orchestrator function 'Plain' failed: KeyError: 'no generator here'"
    )


def typo(ctx):
    return (yield ctx.call_activity("Sya", "x"))


def test_unknown_activity_name_fails_the_orchestration_listing_known_ones():
    driver = Driver({"Typo": typo}, {"Say": say, "Other": say})
    instance = driver.instance(driver.start("Typo"))
    driver.run()
    assert instance.status == RuntimeStatus.FAILED
    assert instance.output_value == (
        "Orchestrator function 'Typo' failed: The function 'Sya' doesn't exist, is disabled, "
        "or is not an activity function. Additional info: The following are the known activity "
        "functions: 'Other', 'Say'."
    )
    assert not instance.events(ET.TASK_SCHEDULED)


def case_insensitive(ctx):
    return (yield ctx.call_activity("SAY", "x"))


def test_activity_names_match_case_insensitively():
    driver = Driver({"Case": case_insensitive}, {"Say": say})
    instance = driver.instance(driver.start("Case"))
    driver.run()
    assert instance.output_value == "Hello x!"


def entity_user(ctx):
    entity = df.EntityId("Counter", "k")
    return (yield ctx.call_entity(entity, "get"))


def http_user(ctx):
    return (yield ctx.call_http("GET", "https://example.invalid/"))


@pytest.mark.parametrize(
    ("orchestrator", "feature"),
    [(entity_user, "Durable entities (call_entity)"), (http_user, "Durable HTTP (call_http)")],
)
def test_unsupported_features_fail_clearly_instead_of_hanging(orchestrator, feature):
    driver = Driver({"Uses": orchestrator})
    instance = driver.instance(driver.start("Uses"))
    driver.run()
    assert instance.status == RuntimeStatus.FAILED
    assert instance.output_value == (
        f"Orchestrator function 'Uses' failed: {feature} is not supported by this host."
    )


def test_terminate_ends_the_instance_with_the_reason():
    driver = Driver({"Chain": chain}, {"Say": say})
    instance = driver.instance(driver.start("Chain", ["a", "b"]))
    driver.run_episode(instance.instance_id)
    driver.terminate(instance.instance_id, "operator said so")
    driver.run()
    assert instance.status == RuntimeStatus.TERMINATED
    assert instance.output == "operator said so"
    completed = instance.events(ET.EXECUTION_COMPLETED)[0]
    assert (completed["OrchestrationStatus"], completed["Result"]) == (5, "operator said so")
    assert driver.pending == []  # nothing new was scheduled for it
